// Load tests for exitsnoop, sigsnoop, killsnoop, statsnoop and mountsnoop:
// each skeleton opens, takes the hooks this kernel supports (as the tools
// choose them), loads, attaches, and leaves nothing behind once its owner is
// gone; on both transports, and with the rodata options that change the code.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "btf_offsets.h"
#include "error.h"
#include "exitsnoop.skel.h"
#include "feature_probe.h"
#include "fullpath.h"
#include "hooks.h"
#include "killsnoop.skel.h"
#include "load_support.h"
#include "mountsnoop.skel.h"
#include "sigsnoop.skel.h"
#include "skeleton.h"
#include "stash.h"
#include "statsnoop.skel.h"
#include "tracefs.h"

namespace snoopkit {
namespace {

using load::Ids;

// A syscall's enter and exit tracepoints, with their two programs.
HookPoint syscall_point(const std::string& sys, bpf_program* enter, bpf_program* exit,
                        bool required) {
  return syscall_hook_point(sys, enter, exit, required);
}

class GroupALoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = load::bpf_unavailable(&tracefs_); !why.empty()) SKIP_OR_FAIL(why);
  }

  // Open, configure, choose hooks as the tool does, load, attach, check the
  // links, destroy, and check the kernel let go of every program.
  template <class Skel>
  void round_trip(bool perf, const std::function<std::vector<HookPoint>(Skel*)>& points,
                  const std::function<void(Skel*)>& configure = {}) {
    Ids progs;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;  // rodata: only between open and load
      if (configure) configure(skel.get());
      std::vector<HookPoint> pts = points(skel.get());
      KernelFeatures features(tracefs_);
      std::vector<int> chosen = choose_hooks(features, pts);
      apply_hook_choice(pts, chosen);
      ASSERT_NO_THROW(skel.load());
      progs = load::prog_ids(skel.obj());
      ASSERT_FALSE(progs.empty());
      ASSERT_NO_THROW(skel.attach());
      load::RuntimeLinks rt;
      ASSERT_NO_THROW(rt.links = attach_links(pts, chosen));
      EXPECT_GE(load::expect_attached(skel->skeleton, rt), progs.size());
    }
    // The last reference may be dropped from deferred kernel work: wait a little.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!load::live_progs(progs).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(load::live_progs(progs), Ids{}) << "programs still loaded";
  }

  std::string tracefs_;
};

// --- exitsnoop ---

std::vector<HookPoint> exitsnoop_points(exitsnoop_bpf* s) {
  return {{"sched_process_exit",
           {{"tracepoint",
             {Requirement::tracepoint("sched", "sched_process_exit")},
             {s->progs.tp_sched_process_exit}}}}};
}

TEST_F(GroupALoadTest, ExitsnoopRingBuffer) {
  round_trip<exitsnoop_bpf>(false, exitsnoop_points);
}
TEST_F(GroupALoadTest, ExitsnoopPerfBuffer) {
  round_trip<exitsnoop_bpf>(true, exitsnoop_points);
}
TEST_F(GroupALoadTest, ExitsnoopThreadsFailedOnly) {
  round_trip<exitsnoop_bpf>(false, exitsnoop_points, [](exitsnoop_bpf* s) {
    s->rodata->threads = true;
    s->rodata->failed_only = true;
  });
}

// --- killsnoop ---

std::vector<HookPoint> killsnoop_points(killsnoop_bpf* s) {
  auto& p = s->progs;
  return {syscall_point("kill", p.tp_enter_kill, p.tp_exit, true),
          syscall_point("tkill", p.tp_enter_tkill, p.tp_exit, false),
          syscall_point("tgkill", p.tp_enter_tgkill, p.tp_exit, false)};
}

TEST_F(GroupALoadTest, KillsnoopRingBuffer) {
  round_trip<killsnoop_bpf>(false, killsnoop_points);
}
TEST_F(GroupALoadTest, KillsnoopPerfBuffer) {
  round_trip<killsnoop_bpf>(true, killsnoop_points);
}
TEST_F(GroupALoadTest, KillsnoopFilters) {
  round_trip<killsnoop_bpf>(true, killsnoop_points, [](killsnoop_bpf* s) {
    s->rodata->failed_only = true;
    s->rodata->filter_sig = true;
    s->rodata->targ_sig = 15;
  });
}

// --- sigsnoop: the signal_generate mode, and -k (kill(2) only) ---

std::vector<HookPoint> sigsnoop_points(sigsnoop_bpf* s) {
  auto& p = s->progs;
  for (bpf_program* prog : {p.tp_enter_kill, p.tp_exit_kill})
    bpf_program__set_autoload(prog, false);
  return {{"signal_generate",
           {{"tracepoint",
             {Requirement::tracepoint("signal", "signal_generate")},
             {p.tp_signal_generate}}}}};
}

std::vector<HookPoint> sigsnoop_kill_points(sigsnoop_bpf* s) {
  auto& p = s->progs;
  bpf_program__set_autoload(p.tp_signal_generate, false);
  return {syscall_point("kill", p.tp_enter_kill, p.tp_exit_kill, true)};
}

void sigsnoop_filters(sigsnoop_bpf* s) {
  s->rodata->failed_only = true;
  s->rodata->filter_sig = true;
  s->rodata->targ_sig = 10;
}

TEST_F(GroupALoadTest, SigsnoopRingBuffer) {
  round_trip<sigsnoop_bpf>(false, sigsnoop_points);
}
TEST_F(GroupALoadTest, SigsnoopPerfBuffer) {
  round_trip<sigsnoop_bpf>(true, sigsnoop_points, sigsnoop_filters);
}
TEST_F(GroupALoadTest, SigsnoopKillOnlyRingBuffer) {
  round_trip<sigsnoop_bpf>(false, sigsnoop_kill_points, sigsnoop_filters);
}
TEST_F(GroupALoadTest, SigsnoopKillOnlyPerfBuffer) {
  round_trip<sigsnoop_bpf>(true, sigsnoop_kill_points);
}

// --- statsnoop: every stat syscall the kernel has ---

std::vector<HookPoint> statsnoop_points(statsnoop_bpf* s) {
  auto& p = s->progs;
  return {syscall_point("newstat", p.tp_enter_newstat, p.tp_exit, false),
          syscall_point("newlstat", p.tp_enter_newlstat, p.tp_exit, false),
          syscall_point("newfstatat", p.tp_enter_newfstatat, p.tp_exit, false),
          syscall_point("statx", p.tp_enter_statx, p.tp_exit, false),
          syscall_point("statfs", p.tp_enter_statfs, p.tp_exit, false)};
}

TEST_F(GroupALoadTest, StatsnoopRingBuffer) {
  round_trip<statsnoop_bpf>(false, statsnoop_points);
}
TEST_F(GroupALoadTest, StatsnoopPerfBuffer) {
  round_trip<statsnoop_bpf>(true, statsnoop_points,
                            [](statsnoop_bpf* s) { s->rodata->failed_only = true; });
}

// -F: the full-path walk verifies on both transports.
TEST_F(GroupALoadTest, StatsnoopFullPathBothTransports) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  const sk_fullpath_offsets offsets = fullpath_offsets("");
  for (bool perf : {false, true}) {
    round_trip<statsnoop_bpf>(perf, statsnoop_points, [&offsets](statsnoop_bpf* s) {
      s->rodata->sk_fp_enabled = true;
      s->rodata->sk_fp = offsets;
    });
  }
}

TEST_F(GroupALoadTest, StatsnoopEachStashStore) {
  KernelFeatures features(tracefs_);
  std::vector<StashStore> stores{StashStore::kThreadHash};
  if (features.task_storage()) stores.push_back(StashStore::kTaskStorage);
  for (StashStore store : stores) {
    round_trip<statsnoop_bpf>(false, statsnoop_points, [store](statsnoop_bpf* s) {
      configure_stash(store, s->maps.start_task, s->maps.start_tid,
                      s->rodata->sk_stash_task_storage);
    });
  }
}

// --- mountsnoop: mount, umount2 and the new mount API where the kernel has it ---

std::vector<HookPoint> mountsnoop_points(mountsnoop_bpf* s) {
  auto& p = s->progs;
  return {syscall_point("mount", p.tp_enter_mount, p.tp_exit, true),
          syscall_point("umount", p.tp_enter_umount, p.tp_exit, true),
          syscall_point("fsopen", p.tp_enter_fsopen, p.tp_exit, false),
          syscall_point("fsconfig", p.tp_enter_fsconfig, p.tp_exit, false),
          syscall_point("fsmount", p.tp_enter_fsmount, p.tp_exit, false),
          syscall_point("fspick", p.tp_enter_fspick, p.tp_exit, false),
          syscall_point("move_mount", p.tp_enter_move_mount, p.tp_exit, false),
          syscall_point("open_tree", p.tp_enter_open_tree, p.tp_exit, false),
          syscall_point("mount_setattr", p.tp_enter_mount_setattr, p.tp_exit, false),
          syscall_point("pivot_root", p.tp_enter_pivot_root, p.tp_exit, false)};
}

TEST_F(GroupALoadTest, MountsnoopRingBuffer) {
  round_trip<mountsnoop_bpf>(false, mountsnoop_points);
}
TEST_F(GroupALoadTest, MountsnoopPerfBuffer) {
  round_trip<mountsnoop_bpf>(true, mountsnoop_points);
}

}  // namespace
}  // namespace snoopkit
