#pragma once
// statsnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "core/hooks.h"
#include "statsnoop.skel.h"

namespace snoopkit {

/// Each stat syscall where the kernel has it (arm64 has no stat(2) or
/// lstat(2)); one exit program (SEC("tracepoint")) for all of them. Every
/// point is optional: load them with HookNeed::kAtLeastOne.
inline std::vector<HookPoint> statsnoop_hook_points(statsnoop_bpf* skel) {
  auto& p = skel->progs;
  return {syscall_hook_point("newstat", p.tp_enter_newstat, p.tp_exit, false),
          syscall_hook_point("newlstat", p.tp_enter_newlstat, p.tp_exit, false),
          syscall_hook_point("newfstatat", p.tp_enter_newfstatat, p.tp_exit, false),
          syscall_hook_point("statx", p.tp_enter_statx, p.tp_exit, false),
          syscall_hook_point("statfs", p.tp_enter_statfs, p.tp_exit, false)};
}

}  // namespace snoopkit
