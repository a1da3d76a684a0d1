// Load tests: every skeleton opens, loads (verifier), attaches, and leaves
// nothing behind in the kernel once its Skeleton owner is gone.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "error.h"
#include "execsnoop.skel.h"
#include "feature_probe.h"
#include "hooks.h"
#include "opensnoop.skel.h"
#include "skeleton.h"
#include "tracefs.h"

namespace snoopkit {
namespace {

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Under CI, where the machine allows BPF, a skipped BPF test is a failure.
#define SKIP_OR_FAIL(why)                                                    \
  do {                                                                       \
    if (in_ci()) FAIL() << (why) << " (CI=true: skipping a BPF test fails)"; \
    GTEST_SKIP() << (why);                                                   \
  } while (0)

using Ids = std::set<__u32>;

// The kernel ids of the object's loaded programs (autoload off: none).
Ids prog_ids(bpf_object* obj) {
  Ids ids;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.insert(info.id);
  }
  return ids;
}

Ids map_ids(bpf_object* obj) {
  Ids ids;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    int fd = bpf_map__fd(map);
    if (fd < 0) continue;
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.insert(info.id);
  }
  return ids;
}

// Which of ids the kernel still lists; for_links: ids of links whose
// program is one of ids.
Ids still_there(const Ids& ids, int (*next)(__u32, __u32*), bool for_links = false) {
  Ids found;
  for (__u32 id = 0; next(id, &id) == 0;) {
    if (!for_links) {
      if (ids.count(id)) found.insert(id);
      continue;
    }
    int fd = bpf_link_get_fd_by_id(id);
    if (fd < 0) continue;  // released since listed
    bpf_link_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && ids.count(info.prog_id)) found.insert(id);
    close(fd);
  }
  return found;
}

Ids live_progs(const Ids& ids) {
  return still_there(ids, bpf_prog_get_next_id);
}
Ids live_maps(const Ids& ids) {
  return still_there(ids, bpf_map_get_next_id);
}
Ids live_links(const Ids& progs) {
  return still_there(progs, bpf_link_get_next_id, true);
}

// The last reference may be dropped from deferred kernel work: wait a little.
void expect_released(const Ids& progs, const Ids& maps) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline &&
         !(live_progs(progs).empty() && live_maps(maps).empty() && live_links(progs).empty()))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(live_progs(progs), Ids{}) << "programs still loaded";
  EXPECT_EQ(live_maps(maps), Ids{}) << "maps still alive";
  EXPECT_EQ(live_links(progs), Ids{}) << "links still attached";
}

// Programs with autoload on, and whether skel->links holds a link for each.
template <class Skel>
int expect_links_for_autoload(const Skel* skel) {
  const bpf_object_skeleton* s = skel->skeleton;
  int on = 0;
  for (int i = 0; i < s->prog_cnt; ++i) {
    const bpf_prog_skeleton& p = s->progs[i];
    bool autoload = bpf_program__autoload(*p.prog);
    on += autoload;
    if (autoload) {
      EXPECT_NE(*p.link, nullptr) << p.name << ": autoload on but no link";
    } else {
      EXPECT_EQ(*p.link, nullptr) << p.name << ": autoload off but linked";
    }
  }
  return on;
}

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) SKIP_OR_FAIL("load tests need root (CAP_BPF + CAP_PERFMON)");
    if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) != 1)
      SKIP_OR_FAIL("this machine does not allow loading BPF tracepoint programs");
    try {
      tracefs_ = ensure_tracefs();
    } catch (const Error& e) {
      SKIP_OR_FAIL(std::string("tracefs unavailable: ") + e.what());
    }
  }

  // Open (+ rodata), load, attach, check links, destroy, check the kernel.
  template <class Skel>
  void round_trip(bool perf) {
    Ids progs, maps;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;  // rodata: only between open and load
      ASSERT_NO_THROW(skel.load());
      progs = prog_ids(skel.obj());
      maps = map_ids(skel.obj());
      ASSERT_FALSE(progs.empty());
      ASSERT_NO_THROW(skel.attach());
      int on = expect_links_for_autoload(skel.get());
      EXPECT_EQ(static_cast<std::size_t>(on), progs.size());
      // Kernels before 5.15 attach perf events without a BPF link id.
      std::size_t links = live_links(progs).size();
      if (links) {
        EXPECT_EQ(links, progs.size());
      }
    }
    expect_released(progs, maps);
  }

  std::string tracefs_;
};

TEST_F(LoadTest, ExecsnoopRingBuffer) {
  round_trip<execsnoop_bpf>(false);
}
TEST_F(LoadTest, ExecsnoopPerfBuffer) {
  round_trip<execsnoop_bpf>(true);
}
TEST_F(LoadTest, OpensnoopRingBuffer) {
  round_trip<opensnoop_bpf>(false);
}
TEST_F(LoadTest, OpensnoopPerfBuffer) {
  round_trip<opensnoop_bpf>(true);
}

TEST_F(LoadTest, ApplyHookChoiceSwitchesOffOtherAlternatives) {
  Ids progs, maps;
  {
    auto skel = Skeleton<opensnoop_bpf>::open(nullptr);
    auto& p = skel->progs;
    // "openat2" shares tp_exit_openat with the chosen "openat": it must stay on.
    std::vector<HookPoint> points{
        {"open", {{"tracepoint", {}, {p.tp_enter_open, p.tp_exit_open}}}, false},
        {"openat",
         {{"openat", {}, {p.tp_enter_openat, p.tp_exit_openat}},
          {"openat2", {}, {p.tp_enter_openat2, p.tp_exit_openat}}}}};
    apply_hook_choice(points, {-1, 0});
    EXPECT_FALSE(bpf_program__autoload(p.tp_enter_open));
    EXPECT_FALSE(bpf_program__autoload(p.tp_exit_open));
    EXPECT_TRUE(bpf_program__autoload(p.tp_enter_openat));
    EXPECT_TRUE(bpf_program__autoload(p.tp_exit_openat));
    EXPECT_FALSE(bpf_program__autoload(p.tp_enter_openat2));
    EXPECT_TRUE(bpf_program__autoload(p.tp_exit_openat2));  // named by no alternative
    ASSERT_NO_THROW(skel.load());
    EXPECT_LT(bpf_program__fd(p.tp_enter_open), 0);
    EXPECT_GE(bpf_program__fd(p.tp_enter_openat), 0);
    progs = prog_ids(skel.obj());
    maps = map_ids(skel.obj());
    EXPECT_EQ(progs.size(), 3u);
    ASSERT_NO_THROW(skel.attach());
    EXPECT_EQ(expect_links_for_autoload(skel.get()), 3);
  }
  expect_released(progs, maps);
}

TEST_F(LoadTest, KernelFeaturesChooseLoadableHooks) {
  auto skel = Skeleton<execsnoop_bpf>::open(nullptr);
  KernelFeatures features(tracefs_);
  auto tp = [](const char* n) { return Requirement::tracepoint("syscalls", n); };
  auto& p = skel->progs;
  std::vector<HookPoint> points{{"execve",
                                 {{"tracepoint",
                                   {tp("sys_enter_execve"), tp("sys_exit_execve")},
                                   {p.tp_enter_execve, p.tp_exit_execve}}}},
                                {"execveat",
                                 {{"tracepoint",
                                   {tp("sys_enter_execveat"), tp("sys_exit_execveat")},
                                   {p.tp_enter_execveat, p.tp_exit_execveat}}},
                                 false}};
  std::vector<int> chosen = choose_hooks(features, points);
  EXPECT_EQ(chosen[0], 0);
  apply_hook_choice(points, chosen);
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
  expect_links_for_autoload(skel.get());
}

// Overmounts one event directory with an empty tmpfs, in a private mount
// namespace, so reading that tracepoint's id fails; undone on scope exit.
struct HideEvent {
  std::string dir;
  bool ok = false;
  explicit HideEvent(std::string d) : dir(std::move(d)) {
    ok = unshare(CLONE_NEWNS) == 0 &&
         mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         mount("none", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
  }
  ~HideEvent() {
    if (ok) umount2(dir.c_str(), MNT_DETACH);
  }
};

TEST_F(LoadTest, AttachFailingHalfWayLeaksNothing) {
  // bpf_program__set_attach_target only retargets BTF-based programs (fentry,
  // ...); a tracepoint program's target is its section name. So make the
  // third program's tracepoint unreadable instead: libbpf attaches in
  // skeleton order, so the first two links exist when the third fails.
  Ids progs, maps;
  {
    auto skel = Skeleton<execsnoop_bpf>::open(nullptr);
    ASSERT_NO_THROW(skel.load());
    progs = prog_ids(skel.obj());
    maps = map_ids(skel.obj());
    ASSERT_EQ(progs.size(), 4u);
    ASSERT_STREQ(skel->skeleton->progs[2].name, "tp_exit_execve");
    HideEvent hide(tracefs_ + "/events/syscalls/sys_exit_execve");
    if (!hide.ok) SKIP_OR_FAIL("cannot overmount a tracefs event directory here");
    EXPECT_THROW(skel.attach(), Error);
    EXPECT_NE(skel->links.tp_enter_execve, nullptr);
    EXPECT_NE(skel->links.tp_enter_execveat, nullptr);
    EXPECT_EQ(skel->links.tp_exit_execve, nullptr);
    EXPECT_EQ(skel->links.tp_exit_execveat, nullptr);
  }
  expect_released(progs, maps);
}

}  // namespace
}  // namespace snoopkit
