#pragma once
// bindsnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "bindsnoop.skel.h"
#include "core/hooks.h"

namespace snoopkit {

/// bind(): kprobes see every bind of an IP socket (in-kernel ones too)
/// with its socket at hand; the tracepoints see bind(2) and find the
/// socket by fd.
inline std::vector<HookPoint> bindsnoop_hook_points(bindsnoop_bpf* skel) {
  auto& p = skel->progs;
  auto tp = [](const char* name) { return Requirement::tracepoint("syscalls", name); };
  return {{"bind",
           {{"kprobe",
             {Requirement::kprobe()},
             {p.kp_inet_bind, p.kr_inet_bind, p.kp_inet6_bind, p.kr_inet6_bind}},
            {"tracepoint",
             {tp("sys_enter_bind"), tp("sys_exit_bind")},
             {p.tp_enter_bind, p.tp_exit_bind}}}}};
}

}  // namespace snoopkit
