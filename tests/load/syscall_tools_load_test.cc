// Load tests for the tools that trace syscalls (killsnoop, sigsnoop,
// statsnoop, mountsnoop, syscount): each skeleton opens, takes the hooks
// this kernel supports as the tool declares them, loads, attaches, and
// leaves nothing behind once its owner is gone; on both transports, and
// with the rodata options that change the code.
#include <bpf/libbpf.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <unistd.h>

#include "core/btf_offsets.h"
#include "core/feature_probe.h"
#include "family/fullpath.h"
#include "core/kernel_paths.h"
#include "core/hooks.h"
#include "killsnoop_hooks.h"
#include "load_support.h"
#include "mountsnoop_hooks.h"
#include "sigsnoop_hooks.h"
#include "family/stash.h"
#include "statsnoop.skel.h"
#include "statsnoop_hooks.h"
#include "syscount_hooks.h"

namespace snoopkit {
namespace {

class SyscallToolsLoadTest : public load::ToolLoadTest {};

// --- killsnoop ---

TEST_F(SyscallToolsLoadTest, KillsnoopRingBuffer) {
  round_trip<killsnoop_bpf>(false, killsnoop_hook_points);
}
TEST_F(SyscallToolsLoadTest, KillsnoopPerfBuffer) {
  round_trip<killsnoop_bpf>(true, killsnoop_hook_points);
}
TEST_F(SyscallToolsLoadTest, KillsnoopFilters) {
  round_trip<killsnoop_bpf>(true, killsnoop_hook_points, [](killsnoop_bpf* s) {
    s->rodata->failed_only = true;
    s->rodata->filter_sig = true;
    s->rodata->targ_sig = 15;
  });
}

// --- sigsnoop: the signal_generate mode, and -k (kill(2) only) ---

std::vector<HookPoint> sigsnoop_points(sigsnoop_bpf* s) {
  return sigsnoop_hook_points(s, false);
}
std::vector<HookPoint> sigsnoop_kill_points(sigsnoop_bpf* s) {
  return sigsnoop_hook_points(s, true);
}

void sigsnoop_filters(sigsnoop_bpf* s) {
  s->rodata->failed_only = true;
  s->rodata->filter_sig = true;
  s->rodata->targ_sig = 10;
}

TEST_F(SyscallToolsLoadTest, SigsnoopRingBuffer) {
  round_trip<sigsnoop_bpf>(false, sigsnoop_points);
}
TEST_F(SyscallToolsLoadTest, SigsnoopPerfBuffer) {
  round_trip<sigsnoop_bpf>(true, sigsnoop_points, sigsnoop_filters);
}
TEST_F(SyscallToolsLoadTest, SigsnoopKillOnlyRingBuffer) {
  round_trip<sigsnoop_bpf>(false, sigsnoop_kill_points, sigsnoop_filters);
}
TEST_F(SyscallToolsLoadTest, SigsnoopKillOnlyPerfBuffer) {
  round_trip<sigsnoop_bpf>(true, sigsnoop_kill_points);
}

// --- statsnoop: every stat syscall the kernel has ---

TEST_F(SyscallToolsLoadTest, StatsnoopRingBuffer) {
  round_trip<statsnoop_bpf>(false, statsnoop_hook_points);
}
TEST_F(SyscallToolsLoadTest, StatsnoopPerfBuffer) {
  round_trip<statsnoop_bpf>(true, statsnoop_hook_points,
                            [](statsnoop_bpf* s) { s->rodata->failed_only = true; });
}

// -F: the full-path walk verifies on both transports.
TEST_F(SyscallToolsLoadTest, StatsnoopFullPathBothTransports) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  const sk_fullpath_offsets offsets = fullpath_offsets("");
  for (bool perf : {false, true}) {
    round_trip<statsnoop_bpf>(perf, statsnoop_hook_points, [&offsets](statsnoop_bpf* s) {
      s->rodata->sk_fp_enabled = true;
      s->rodata->sk_fp = offsets;
    });
  }
}

TEST_F(SyscallToolsLoadTest, StatsnoopEachStashStore) {
  KernelFeatures features(tracefs_);
  std::vector<StashStore> stores{StashStore::kThreadHash};
  if (features.task_storage()) stores.push_back(StashStore::kTaskStorage);
  for (StashStore store : stores) {
    round_trip<statsnoop_bpf>(false, statsnoop_hook_points, [store](statsnoop_bpf* s) {
      configure_stash(store, s->maps.start_task, s->maps.start_tid,
                      s->rodata->sk_stash_task_storage);
    });
  }
}

// --- mountsnoop: mount, umount2 and the new mount API where the kernel has it ---

TEST_F(SyscallToolsLoadTest, MountsnoopRingBuffer) {
  round_trip<mountsnoop_bpf>(false, mountsnoop_hook_points);
}
TEST_F(SyscallToolsLoadTest, MountsnoopPerfBuffer) {
  round_trip<mountsnoop_bpf>(true, mountsnoop_hook_points);
}

// --- syscount: raw tracepoints, or the raw_syscalls tracepoints; the
// entry too with -L (latency) ---

std::vector<HookPoint> syscount_count_points(syscount_bpf* s) {
  return syscount_hook_points(s, false);
}
std::vector<HookPoint> syscount_latency_points(syscount_bpf* s) {
  return syscount_hook_points(s, true);
}

TEST_F(SyscallToolsLoadTest, SyscountCountsRingBuffer) {
  round_trip<syscount_bpf>(false, syscount_count_points);
}
TEST_F(SyscallToolsLoadTest, SyscountCountsByProcessPerfBuffer) {
  round_trip<syscount_bpf>(true, syscount_count_points,
                           [](syscount_bpf* s) { s->rodata->by_process = true; });
}
TEST_F(SyscallToolsLoadTest, SyscountLatencyEveryAlternative) {
  every_alternative<syscount_bpf>(syscount_latency_points, [](syscount_bpf* s) {
    s->rodata->measure_latency = true;
    s->rodata->failures_only = true;
    s->rodata->only_errno = 2;
  });
}

}  // namespace
}  // namespace snoopkit
