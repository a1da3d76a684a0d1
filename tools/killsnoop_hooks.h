#pragma once
// killsnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "core/hooks.h"
#include "killsnoop.skel.h"

namespace snoopkit {

/// kill(2), and tkill(2) and tgkill(2) where the kernel has them; one exit
/// program (SEC("tracepoint")) for all three.
inline std::vector<HookPoint> killsnoop_hook_points(killsnoop_bpf* skel) {
  auto& p = skel->progs;
  return {syscall_hook_point("kill", p.tp_enter_kill, p.tp_exit, true),
          syscall_hook_point("tkill", p.tp_enter_tkill, p.tp_exit, false),
          syscall_hook_point("tgkill", p.tp_enter_tgkill, p.tp_exit, false)};
}

}  // namespace snoopkit
