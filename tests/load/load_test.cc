// Load tests: every skeleton opens, loads (verifier), attaches, and leaves
// nothing behind in the kernel once its Skeleton owner is gone.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "btf_offsets.h"
#include "error.h"
#include "execsnoop.h"
#include "execsnoop.skel.h"
#include "feature_probe.h"
#include "fullpath.h"
#include "hooks.h"
#include "load_support.h"
#include "opensnoop.h"
#include "opensnoop.skel.h"
#include "skeleton.h"
#include "stash.h"
#include "tracefs.h"
#include "transport.h"

namespace snoopkit {
namespace {

using load::Ids;

// opensnoop's hook points, as the tool declares them: one exit program
// (SEC("tracepoint")) the runtime attaches to each sys_exit_open*.
std::vector<HookPoint> opensnoop_points(opensnoop_bpf* s) {
  auto& p = s->progs;
  return {syscall_hook_point("open", p.tp_enter_open, p.tp_exit, false),
          syscall_hook_point("openat", p.tp_enter_openat, p.tp_exit, true),
          syscall_hook_point("openat2", p.tp_enter_openat2, p.tp_exit, false)};
}

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = load::bpf_unavailable(&tracefs_); !why.empty()) SKIP_OR_FAIL(why);
  }

  // Open (+ rodata), choose hooks as the tool does (when it declares hook
  // points), load, attach, check links, destroy, check the kernel.
  template <class Skel>
  void round_trip(bool perf, std::vector<HookPoint> (*points)(Skel*) = nullptr) {
    Ids progs, maps;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;  // rodata: only between open and load
      std::vector<HookPoint> pts = points ? points(skel.get()) : std::vector<HookPoint>{};
      KernelFeatures features(tracefs_);
      std::vector<int> chosen = choose_hooks(features, pts);
      apply_hook_choice(pts, chosen);
      ASSERT_NO_THROW(skel.load());
      progs = load::prog_ids(skel.obj());
      maps = load::map_ids(skel.obj());
      ASSERT_FALSE(progs.empty());
      ASSERT_NO_THROW(skel.attach());
      load::RuntimeLinks rt;
      ASSERT_NO_THROW(rt.links = attach_links(pts, chosen));
      std::size_t attached = load::expect_attached(skel->skeleton, rt);
      EXPECT_GE(attached, progs.size());
      // Kernels before 5.15 attach perf events without a BPF link id.
      std::size_t links = load::live_links(progs).size();
      if (links) {
        EXPECT_EQ(links, attached);
      }
    }
    load::expect_released(progs, maps);
  }

  std::string tracefs_;
};

TEST_F(LoadTest, ExecsnoopRingBuffer) {
  round_trip<execsnoop_bpf>(false);
}
TEST_F(LoadTest, ExecsnoopPerfBuffer) {
  round_trip<execsnoop_bpf>(true);
}
// execsnoop sizes its in-flight map to --max-args (as the tool does): every
// kernel's verifier must accept the smaller value at each end of the range.
TEST_F(LoadTest, ExecsnoopMaxArgsSizesLoad) {
  for (unsigned max_args : {1u, 20u, 60u}) {
    for (bool perf : {false, true}) {
      auto skel = Skeleton<execsnoop_bpf>::open(nullptr);
      skel->rodata->sk_use_perf = perf;
      skel->rodata->max_args = max_args;
      skel->rodata->args_cap = max_args * EXECSNOOP_ARG_SIZE;
      ASSERT_EQ(bpf_map__set_value_size(skel->maps.execs, offsetof(execsnoop_event, args) +
                                                              max_args * EXECSNOOP_ARG_SIZE),
                0);
      EXPECT_NO_THROW(skel.load()) << "max_args " << max_args << (perf ? ", perf buffer" : "");
    }
  }
}

// The parent pid is read at the task_struct offsets the runtime takes from
// the kernel's BTF (no CO-RE): a child this test forks, which execs
// /bin/true, comes out of the ring buffer with this process as its parent.
TEST_F(LoadTest, ExecsnoopReportsTheParentPid) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  TaskOffsets task;
  ASSERT_NO_THROW(task = task_offsets(""));
  auto skel = Skeleton<execsnoop_bpf>::open(nullptr);
  skel->rodata->task_real_parent_off = task.real_parent;
  skel->rodata->task_tgid_off = task.tgid;
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> seen;  // pid, ppid of every exec
  auto rb = make_ring_buffer(skel->maps.sk_events, [&](const void* data, std::size_t size) {
    if (size >= offsetof(execsnoop_event, args)) {
      const auto* e = static_cast<const execsnoop_event*>(data);
      seen.emplace_back(e->pid, e->ppid);
    }
    return true;
  });

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_GE(rb->consume(), 0);

  std::vector<std::uint32_t> ppids;
  for (const auto& [pid, ppid] : seen)
    if (pid == static_cast<std::uint32_t>(child)) ppids.push_back(ppid);
  EXPECT_EQ(ppids, std::vector<std::uint32_t>{static_cast<std::uint32_t>(getpid())});
}

// Both stores of the per-thread stash (task local storage, hash by thread
// id) carry an open's arguments from entry to exit: a file this test opens
// comes out of the ring buffer with its path, flags and fd.
TEST_F(LoadTest, OpensnoopEachStashStoreDeliversEvents) {
  KernelFeatures features(tracefs_);
  std::vector<StashStore> stores{StashStore::kThreadHash};
  if (features.task_storage()) stores.push_back(StashStore::kTaskStorage);
  for (StashStore store : stores) {
    SCOPED_TRACE(store == StashStore::kTaskStorage ? "task storage" : "thread hash");
    auto skel = Skeleton<opensnoop_bpf>::open(nullptr);
    skel->rodata->sk_targ_tid = static_cast<__u32>(gettid());
    configure_stash(store, skel->maps.start_task, skel->maps.start_tid,
                    skel->rodata->sk_stash_task_storage);
    std::vector<HookPoint> points = opensnoop_points(skel.get());
    std::vector<int> chosen = choose_hooks(features, points);
    apply_hook_choice(points, chosen);
    ASSERT_NO_THROW(skel.load());
    ASSERT_NO_THROW(skel.attach());
    load::RuntimeLinks rt;
    ASSERT_NO_THROW(rt.links = attach_links(points, chosen));
    std::vector<std::pair<std::string, std::int64_t>> seen;
    auto rb = make_ring_buffer(skel->maps.sk_events, [&](const void* data, std::size_t size) {
      const auto* e = static_cast<const opensnoop_event*>(data);
      if (size >= offsetof(opensnoop_event, path) + e->path_size && e->path_size > 0)
        seen.emplace_back(std::string(e->path, e->path_size - 1), e->ret);
      return true;
    });
    const std::string path = "/proc/self/stat";
    for (int i = 0; i < 3; ++i) {
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      close(fd);
    }
    errno = 0;
    EXPECT_LT(open("/nonexistent/snoopkit", O_RDONLY), 0);
    ASSERT_GE(rb->consume(), 0);
    std::size_t ok = 0, failed = 0;
    for (const auto& [p, ret] : seen) {
      if (p == path && ret >= 0) ++ok;
      if (p == "/nonexistent/snoopkit" && ret == -ENOENT) ++failed;
    }
    EXPECT_EQ(ok, 3u);
    EXPECT_EQ(failed, 1u);
  }
}

// -F: the full-path walk (a bounded loop over dentries and mounts at offsets
// from the kernel's BTF) verifies on both transports; the directory of a
// relative open comes out of the ring buffer: the cwd for AT_FDCWD, the
// dfd's directory for openat.
class OpensnoopFullPath : public LoadTest {
 protected:
  Skeleton<opensnoop_bpf> open_full(bool perf, std::vector<HookPoint>& points,
                                    std::vector<int>& chosen) {
    auto skel = Skeleton<opensnoop_bpf>::open(nullptr);
    skel->rodata->sk_use_perf = perf;
    skel->rodata->sk_targ_tid = static_cast<__u32>(gettid());
    skel->rodata->sk_fp_enabled = true;
    skel->rodata->sk_fp = fullpath_offsets("");
    points = opensnoop_points(skel.get());
    KernelFeatures features(tracefs_);
    chosen = choose_hooks(features, points);
    apply_hook_choice(points, chosen);
    return skel;
  }
};

TEST_F(OpensnoopFullPath, LoadsOnBothTransports) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  for (bool perf : {false, true}) {
    std::vector<HookPoint> points;
    std::vector<int> chosen;
    auto skel = open_full(perf, points, chosen);
    EXPECT_NO_THROW(skel.load()) << (perf ? "perf buffer" : "ring buffer");
  }
}

TEST_F(OpensnoopFullPath, DeliversTheDirectory) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  std::vector<HookPoint> points;
  std::vector<int> chosen;
  auto skel = open_full(false, points, chosen);
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
  load::RuntimeLinks rt;
  ASSERT_NO_THROW(rt.links = attach_links(points, chosen));
  std::vector<std::pair<std::string, std::string>> seen;  // path, full path
  auto rb = make_ring_buffer(skel->maps.sk_events, [&](const void* data, std::size_t size) {
    const auto* e = static_cast<const opensnoop_event*>(data);
    if (size < offsetof(opensnoop_event, path) + e->path_size || e->path_size == 0) return true;
    std::string dir;
    if (e->dir_size && size >= offsetof(opensnoop_event, dir) + e->dir_size)
      dir.assign(e->dir, e->dir_size);
    seen.emplace_back(std::string(e->path, e->path_size - 1),
                      join_full_path(dir, std::string_view(e->path, e->path_size - 1)));
    return true;
  });
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dfd, 0);
  int fd = openat(dfd, "stat", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  close(fd);
  close(dfd);
  EXPECT_LT(open("snoopkit-no-such-file", O_RDONLY | O_CLOEXEC), 0);
  ASSERT_GE(rb->consume(), 0);
  const std::string self = "/proc/" + std::to_string(getpid());
  std::string in_cwd = std::string(cwd) + "/snoopkit-no-such-file";
  if (std::string_view(cwd) == "/") in_cwd = "/snoopkit-no-such-file";
  EXPECT_NE(std::find(seen.begin(), seen.end(),
                      std::pair<std::string, std::string>("stat", self + "/stat")),
            seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(),
                      std::pair<std::string, std::string>("snoopkit-no-such-file", in_cwd)),
            seen.end());
}

TEST_F(LoadTest, OpensnoopRingBuffer) {
  round_trip<opensnoop_bpf>(false, opensnoop_points);
}
TEST_F(LoadTest, OpensnoopPerfBuffer) {
  round_trip<opensnoop_bpf>(true, opensnoop_points);
}

TEST_F(LoadTest, ApplyHookChoiceSwitchesOffOtherAlternatives) {
  Ids progs, maps;
  {
    auto skel = Skeleton<opensnoop_bpf>::open(nullptr);
    auto& p = skel->progs;
    // "open" is not chosen, but shares tp_exit with the chosen "openat":
    // the shared program stays on, is left to the runtime to attach, and is
    // attached once per chosen alternative that names it.
    auto tp = [](const char* n) { return Requirement::tracepoint("syscalls", n); };
    std::vector<HookPoint> points{{"open",
                                   {{"tracepoint",
                                     {},
                                     {p.tp_enter_open, p.tp_exit},
                                     {{p.tp_exit, "syscalls", "sys_exit_open"}}}},
                                   false},
                                  {"openat",
                                   {{"openat",
                                     {tp("sys_enter_openat")},
                                     {p.tp_enter_openat, p.tp_exit},
                                     {{p.tp_exit, "syscalls", "sys_exit_openat"}}},
                                    {"openat2",
                                     {},
                                     {p.tp_enter_openat2, p.tp_exit},
                                     {{p.tp_exit, "syscalls", "sys_exit_openat2"}}}}}};
    std::vector<int> chosen{-1, 0};
    apply_hook_choice(points, chosen);
    EXPECT_FALSE(bpf_program__autoload(p.tp_enter_open));
    EXPECT_TRUE(bpf_program__autoload(p.tp_enter_openat));
    EXPECT_FALSE(bpf_program__autoload(p.tp_enter_openat2));
    EXPECT_TRUE(bpf_program__autoload(p.tp_exit));
    EXPECT_FALSE(bpf_program__autoattach(p.tp_exit));
    ASSERT_NO_THROW(skel.load());
    EXPECT_LT(bpf_program__fd(p.tp_enter_open), 0);
    EXPECT_GE(bpf_program__fd(p.tp_enter_openat), 0);
    progs = load::prog_ids(skel.obj());
    maps = load::map_ids(skel.obj());
    EXPECT_EQ(progs.size(), 2u);
    ASSERT_NO_THROW(skel.attach());
    load::RuntimeLinks rt;
    ASSERT_NO_THROW(rt.links = attach_links(points, chosen));
    EXPECT_EQ(rt.links.size(), 1u);
    EXPECT_EQ(load::expect_attached(skel->skeleton, rt), 2u);
  }
  load::expect_released(progs, maps);
}

// A runtime attachment that fails (a tracepoint that is not there) throws
// and leaves none of the links it made before.
TEST_F(LoadTest, AttachLinksFailingHalfWayLeaksNothing) {
  Ids progs, maps;
  {
    auto skel = Skeleton<opensnoop_bpf>::open(nullptr);
    auto& p = skel->progs;
    std::vector<HookPoint> points{{"openat",
                                   {{"tracepoint",
                                     {},
                                     {p.tp_enter_openat, p.tp_exit},
                                     {{p.tp_exit, "syscalls", "sys_exit_openat"},
                                      {p.tp_exit, "syscalls", "sys_exit_no_such_syscall"}}}}}};
    std::vector<int> chosen{0};
    apply_hook_choice(points, chosen);
    ASSERT_NO_THROW(skel.load());
    progs = load::prog_ids(skel.obj());
    maps = load::map_ids(skel.obj());
    ASSERT_NO_THROW(skel.attach());
    EXPECT_THROW(attach_links(points, chosen), Error);
    // Only the skeleton's links (the enter programs) hold programs now.
    std::size_t by_skeleton = 0;
    for (int i = 0; i < skel->skeleton->prog_cnt; ++i)
      by_skeleton += *skel->skeleton->progs[i].link != nullptr;
    EXPECT_EQ(skel->links.tp_exit, nullptr);
    std::size_t links = load::live_links(progs).size();
    if (links) {
      EXPECT_EQ(links, by_skeleton);
    }
  }
  load::expect_released(progs, maps);
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
  load::RuntimeLinks rt;
  ASSERT_NO_THROW(rt.links = attach_links(points, chosen));
  EXPECT_EQ(load::expect_attached(skel->skeleton, rt), 4u);
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
    progs = load::prog_ids(skel.obj());
    maps = load::map_ids(skel.obj());
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
  load::expect_released(progs, maps);
}

}  // namespace
}  // namespace snoopkit
