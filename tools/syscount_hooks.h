#pragma once
// syscount's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <bpf/libbpf.h>

#include <vector>

#include "core/hooks.h"
#include "syscount.skel.h"

namespace snoopkit {

/// Every syscall's exit, and with latency (-L) its entry too. Raw
/// tracepoints build no trace record: cheaper on every syscall; the
/// raw_syscalls tracepoints where the kernel lacks them. Call between open
/// and load.
inline std::vector<HookPoint> syscount_hook_points(syscount_bpf* skel, bool latency) {
  auto& p = skel->progs;
  auto tp = [](const char* name) { return Requirement::tracepoint("raw_syscalls", name); };
  std::vector<HookPoint> points{
      {"sys_exit",
       {{"raw_tracepoint", {Requirement::raw_tracepoint()}, {p.raw_sys_exit}},
        {"tracepoint", {tp("sys_exit")}, {p.tp_sys_exit}}}}};
  if (latency) {
    points.push_back({"sys_enter",
                      {{"raw_tracepoint", {Requirement::raw_tracepoint()}, {p.raw_sys_enter}},
                       {"tracepoint", {tp("sys_enter")}, {p.tp_sys_enter}}}});
  } else {
    bpf_program__set_autoload(p.raw_sys_enter, false);  // counting needs only the exit
    bpf_program__set_autoload(p.tp_sys_enter, false);
  }
  return points;
}

}  // namespace snoopkit
