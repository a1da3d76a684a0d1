#pragma once
// runqlat's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "core/hooks.h"
#include "runqlat.skel.h"

namespace snoopkit {

/// The scheduler's wakeups and switches: tp_btf programs where the kernel
/// has BTF-typed tracing programs, raw tracepoints else.
inline std::vector<HookPoint> runqlat_hook_points(runqlat_bpf* skel) {
  auto& p = skel->progs;
  auto point = [](const char* name, bpf_program* btf, bpf_program* raw) {
    return HookPoint{name,
                     {{"tp_btf", {Requirement::fentry()}, {btf}},
                      {"raw_tracepoint", {Requirement::raw_tracepoint()}, {raw}}}};
  };
  return {point("sched_wakeup", p.btf_sched_wakeup, p.raw_sched_wakeup),
          point("sched_wakeup_new", p.btf_sched_wakeup_new, p.raw_sched_wakeup_new),
          point("sched_switch", p.btf_sched_switch, p.raw_sched_switch)};
}

}  // namespace snoopkit
