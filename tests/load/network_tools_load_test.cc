// Load tests for the network tools (bindsnoop, tcpconnect, tcplife,
// tcpstates): every skeleton opens, loads (verifier) and attaches with the
// hooks this kernel supports, as the tools declare them, on both
// transports, and leaves nothing behind. Every alternative's programs pass
// the verifier here; they are attached only where the kernel can (kprobes
// need a kprobe PMU or kprobe_events).
#include <vector>

#include <gtest/gtest.h>

#include "bindsnoop_hooks.h"
#include "core/hooks.h"
#include "load_support.h"
#include "family/sock_filters.h"
#include "tcpconnect_hooks.h"
#include "tcplife.skel.h"
#include "tcpstates.skel.h"

namespace snoopkit {
namespace {

class NetworkToolsLoadTest : public load::ToolLoadTest {};

// tcplife and tcpstates share their one hook (sock_filters.h).
template <class Skel>
std::vector<HookPoint> sock_state_points(Skel* s) {
  return sock_state_hooks(s->progs.tp_set_state);
}

TEST_F(NetworkToolsLoadTest, BindsnoopRingBuffer) {
  round_trip<bindsnoop_bpf>(false, bindsnoop_hook_points);
}
TEST_F(NetworkToolsLoadTest, BindsnoopPerfBuffer) {
  round_trip<bindsnoop_bpf>(true, bindsnoop_hook_points);
}
TEST_F(NetworkToolsLoadTest, BindsnoopEveryAlternative) {
  every_alternative<bindsnoop_bpf>(bindsnoop_hook_points);
}
TEST_F(NetworkToolsLoadTest, TcpconnectRingBuffer) {
  round_trip<tcpconnect_bpf>(false, tcpconnect_hook_points);
}
TEST_F(NetworkToolsLoadTest, TcpconnectPerfBuffer) {
  round_trip<tcpconnect_bpf>(true, tcpconnect_hook_points);
}
TEST_F(NetworkToolsLoadTest, TcpconnectEveryAlternative) {
  every_alternative<tcpconnect_bpf>(tcpconnect_hook_points);
}
TEST_F(NetworkToolsLoadTest, TcplifeRingBuffer) {
  round_trip<tcplife_bpf>(false, sock_state_points<tcplife_bpf>);
}
TEST_F(NetworkToolsLoadTest, TcplifePerfBuffer) {
  round_trip<tcplife_bpf>(true, sock_state_points<tcplife_bpf>);
}
TEST_F(NetworkToolsLoadTest, TcpstatesRingBuffer) {
  round_trip<tcpstates_bpf>(false, sock_state_points<tcpstates_bpf>);
}
TEST_F(NetworkToolsLoadTest, TcpstatesPerfBuffer) {
  round_trip<tcpstates_bpf>(true, sock_state_points<tcpstates_bpf>);
}

}  // namespace
}  // namespace snoopkit
