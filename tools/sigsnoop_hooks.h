#pragma once
// sigsnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <bpf/libbpf.h>

#include <vector>

#include "core/hooks.h"
#include "sigsnoop.skel.h"

namespace snoopkit {

/// One mode or the other: every signal the kernel generates
/// (signal:signal_generate), or with kill_only (-k) the kill(2) syscall.
/// The programs of the mode not wanted stay unloaded. Call between open
/// and load.
inline std::vector<HookPoint> sigsnoop_hook_points(sigsnoop_bpf* skel, bool kill_only) {
  auto& p = skel->progs;
  for (bpf_program* prog : {p.tp_enter_kill, p.tp_exit_kill})
    bpf_program__set_autoload(prog, kill_only);
  bpf_program__set_autoload(p.tp_signal_generate, !kill_only);
  if (kill_only) return {syscall_hook_point("kill", p.tp_enter_kill, p.tp_exit_kill, true)};
  return {{"signal_generate",
           {{"tracepoint",
             {Requirement::tracepoint("signal", "signal_generate")},
             {p.tp_signal_generate}}}}};
}

}  // namespace snoopkit
