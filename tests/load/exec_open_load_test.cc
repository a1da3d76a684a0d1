// Load tests for execsnoop and opensnoop, and for the runtime's hook
// machinery on their skeletons (apply_hook_choice, attach_links, a failed
// attach): each opens, loads (verifier), attaches, and leaves nothing
// behind in the kernel once its Skeleton owner is gone.
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

#include "core/btf_offsets.h"
#include "core/error.h"
#include "bpf/execsnoop.h"
#include "execsnoop.skel.h"
#include "execsnoop_setup.h"
#include "core/feature_probe.h"
#include "family/fullpath.h"
#include "core/hooks.h"
#include "load_support.h"
#include "bpf/opensnoop.h"
#include "opensnoop.skel.h"
#include "opensnoop_hooks.h"
#include "core/skeleton.h"
#include "family/stash.h"
#include "core/tracefs.h"
#include "core/transport.h"

namespace snoopkit {
namespace {

using load::Ids;

// execsnoop's event slots as the tool sizes them (no offsets: the parent
// pid and argv read as unset).
void size_execsnoop_slots(execsnoop_bpf* s, std::uint32_t budget, bool failed = false) {
  ASSERT_NO_THROW(configure_execsnoop(s, {{0, 0, 0}, {0, 0, 0}}, budget, failed));
}

// round_trip: one for every tool's skeleton (load_support.h).
class LoadTest : public load::ToolLoadTest {};

TEST_F(LoadTest, ExecsnoopRingBuffer) {
  round_trip<execsnoop_bpf>(false, execsnoop_hook_points);
}
TEST_F(LoadTest, ExecsnoopPerfBuffer) {
  round_trip<execsnoop_bpf>(true, execsnoop_hook_points);
}
// execsnoop sizes its event slots to --max-bytes (as the tool does): every
// kernel's verifier must accept the value at each end of the range, with
// and without failed execs (whose argv is read pointer by pointer).
TEST_F(LoadTest, ExecsnoopBudgetSizesLoad) {
  for (std::uint32_t budget :
       {1u, 128u, unsigned{EXECSNOOP_DEFAULT_BUDGET}, unsigned{EXECSNOOP_MAX_BUDGET}}) {
    for (bool perf : {false, true}) {
      for (bool failed : {false, true}) {
        auto skel = Skeleton<execsnoop_bpf>::open(nullptr);
        skel->rodata->sk_use_perf = perf;
        size_execsnoop_slots(skel.get(), budget, failed);
        EXPECT_NO_THROW(skel.load()) << "budget " << budget << (perf ? ", perf buffer" : "")
                                     << (failed ? ", failed execs" : "");
      }
    }
  }
}

// The parent pid and the command line are read at the offsets the runtime
// takes from the kernel's BTF (no CO-RE): a child this test forks, which
// execs /bin/true with string literals, comes out of the ring buffer with
// this process as its parent and its whole argv.
TEST_F(LoadTest, ExecsnoopReportsTheParentPidAndArgv) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  ExecOffsets offsets;
  ASSERT_NO_THROW(offsets = exec_offsets(""));
  auto skel = Skeleton<execsnoop_bpf>::open(nullptr);
  ASSERT_NO_THROW(configure_execsnoop(skel.get(), offsets, EXECSNOOP_DEFAULT_BUDGET, false));
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
  struct Seen {
    std::uint32_t pid, ppid;
    std::string args;
  };
  std::vector<Seen> seen;
  auto rb = make_ring_buffer(skel->maps.sk_events, [&](const void* data, std::size_t size) {
    constexpr std::size_t kHeader = offsetof(execsnoop_event, args);
    if (size >= kHeader) {
      const auto* e = static_cast<const execsnoop_event*>(data);
      seen.push_back({e->pid, e->ppid,
                      std::string(e->args, std::min<std::size_t>(e->args_size, size - kHeader))});
    }
    return true;
  });

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/true", "true", "first", "", "third", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_GE(rb->consume(), 0);

  std::vector<std::pair<std::uint32_t, std::string>> mine;
  for (const auto& s : seen)
    if (s.pid == static_cast<std::uint32_t>(child)) mine.emplace_back(s.ppid, s.args);
  using namespace std::string_literals;
  EXPECT_EQ(mine, (std::vector<std::pair<std::uint32_t, std::string>>{
                      {static_cast<std::uint32_t>(getpid()), "true\0first\0\0third\0"s}}));
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
    std::vector<HookPoint> points = opensnoop_hook_points(skel.get());
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
    points = opensnoop_hook_points(skel.get());
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
  round_trip<opensnoop_bpf>(false, opensnoop_hook_points);
}
TEST_F(LoadTest, OpensnoopPerfBuffer) {
  round_trip<opensnoop_bpf>(true, opensnoop_hook_points);
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
  std::vector<HookPoint> points = execsnoop_hook_points(skel.get());
  std::vector<int> chosen = choose_hooks(features, points);
  EXPECT_EQ(chosen, (std::vector<int>{0, 0, 0}));
  apply_hook_choice(points, chosen);
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
  load::RuntimeLinks rt;
  ASSERT_NO_THROW(rt.links = attach_links(points, chosen));
  EXPECT_EQ(load::expect_attached(skel->skeleton, rt), 5u);
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
    ASSERT_EQ(progs.size(), 5u);
    ASSERT_STREQ(skel->skeleton->progs[2].name, "tp_exit_execve");
    HideEvent hide(tracefs_ + "/events/syscalls/sys_exit_execve");
    if (!hide.ok) SKIP_OR_FAIL("cannot overmount a tracefs event directory here");
    EXPECT_THROW(skel.attach(), Error);
    EXPECT_NE(skel->links.tp_enter_execve, nullptr);
    EXPECT_NE(skel->links.tp_enter_execveat, nullptr);
    EXPECT_EQ(skel->links.tp_exit_execve, nullptr);
    EXPECT_EQ(skel->links.tp_exit_execveat, nullptr);
    EXPECT_EQ(skel->links.tp_sched_exec, nullptr);
  }
  load::expect_released(progs, maps);
}

}  // namespace
}  // namespace snoopkit
