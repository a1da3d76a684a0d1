#pragma once
// tcpconnect's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <vector>

#include "core/hooks.h"
#include "tcpconnect.skel.h"

namespace snoopkit {

/// connect(): kprobes see the call itself; the tracepoints need no
/// kprobes, and sys_exit_connect only to report a non-blocking connect()
/// at once.
inline std::vector<HookPoint> tcpconnect_hook_points(tcpconnect_bpf* skel) {
  auto& p = skel->progs;
  auto set_state = Requirement::tracepoint("sock", "inet_sock_set_state");
  return {{"connect",
           {{"kprobe",
             {Requirement::kprobe()},
             {p.kp_v4_connect, p.kr_v4_connect, p.kp_v6_connect, p.kr_v6_connect}},
            {"tracepoint",
             {set_state, Requirement::tracepoint("syscalls", "sys_exit_connect")},
             {p.tp_set_state, p.tp_exit_connect}},
            {"tracepoint-state-only", {set_state}, {p.tp_set_state}}}}};
}

}  // namespace snoopkit
