#pragma once
// oomkill's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "core/hooks.h"
#include "oomkill.skel.h"

namespace snoopkit {

/// An OOM kill: oom_kill_process() (fentry, else kprobe) sees the pages
/// weighed and the victim's process; the tracepoint, where kprobes are
/// missing, the victim's memory.
inline std::vector<HookPoint> oomkill_hook_points(oomkill_bpf* skel) {
  auto& p = skel->progs;
  return {{"oom_kill",
           {{"fentry", {Requirement::fentry()}, {p.fentry_oom_kill_process}},
            {"kprobe", {Requirement::kprobe()}, {p.kprobe_oom_kill_process}},
            {"tracepoint", {Requirement::tracepoint("oom", "mark_victim")}, {p.tp_mark_victim}}}}};
}

}  // namespace snoopkit
