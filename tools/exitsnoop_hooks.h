#pragma once
// exitsnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "exitsnoop.skel.h"
#include "core/hooks.h"

namespace snoopkit {

/// Every task's exit, at sched:sched_process_exit.
inline std::vector<HookPoint> exitsnoop_hook_points(exitsnoop_bpf* skel) {
  return {{"sched_process_exit",
           {{"tracepoint",
             {Requirement::tracepoint("sched", "sched_process_exit")},
             {skel->progs.tp_sched_process_exit}}}}};
}

}  // namespace snoopkit
