#pragma once
// opensnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "core/hooks.h"
#include "opensnoop.skel.h"

namespace snoopkit {

/// open(2), openat(2) and openat2(2), each where the kernel has it (open(2)
/// is absent on arm64; openat(2) is required); one exit program
/// (SEC("tracepoint")) for all three.
inline std::vector<HookPoint> opensnoop_hook_points(opensnoop_bpf* skel) {
  auto& p = skel->progs;
  return {syscall_hook_point("open", p.tp_enter_open, p.tp_exit, false),
          syscall_hook_point("openat", p.tp_enter_openat, p.tp_exit, true),
          syscall_hook_point("openat2", p.tp_enter_openat2, p.tp_exit, false)};
}

}  // namespace snoopkit
