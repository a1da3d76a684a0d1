// Load tests for the network tools (bindsnoop, tcpconnect, tcplife,
// tcpstates): every skeleton opens, loads (verifier) and attaches with the
// hooks this kernel supports, on both transports, and leaves nothing behind.
// Every alternative's programs pass the verifier here; they are attached
// only where the kernel can (kprobes need a kprobe PMU or kprobe_events).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bindsnoop.skel.h"
#include "error.h"
#include "feature_probe.h"
#include "hooks.h"
#include "load_support.h"
#include "skeleton.h"
#include "tcpconnect.skel.h"
#include "tcplife.skel.h"
#include "tcpstates.skel.h"
#include "tracefs.h"

namespace snoopkit {
namespace {

using load::Ids;

std::vector<Alternative> alternatives(bindsnoop_bpf* s) {
  auto tp = [](const char* n) { return Requirement::tracepoint("syscalls", n); };
  auto& p = s->progs;
  return {{{"kprobe",
            {Requirement::kprobe()},
            {p.kp_inet_bind, p.kr_inet_bind, p.kp_inet6_bind, p.kr_inet6_bind}},
           {"tracepoint",
            {tp("sys_enter_bind"), tp("sys_exit_bind")},
            {p.tp_enter_bind, p.tp_exit_bind}}}};
}

std::vector<Alternative> alternatives(tcpconnect_bpf* s) {
  auto set_state = Requirement::tracepoint("sock", "inet_sock_set_state");
  auto& p = s->progs;
  return {{{"kprobe",
            {Requirement::kprobe()},
            {p.kp_v4_connect, p.kr_v4_connect, p.kp_v6_connect, p.kr_v6_connect}},
           {"tracepoint",
            {set_state, Requirement::tracepoint("syscalls", "sys_exit_connect")},
            {p.tp_set_state, p.tp_exit_connect}},
           {"tracepoint-state-only", {set_state}, {p.tp_set_state}}}};
}

std::vector<Alternative> alternatives(tcplife_bpf* s) {
  return {{{"tracepoint",
            {Requirement::tracepoint("sock", "inet_sock_set_state")},
            {s->progs.tp_set_state}}}};
}

std::vector<Alternative> alternatives(tcpstates_bpf* s) {
  return {{{"tracepoint",
            {Requirement::tracepoint("sock", "inet_sock_set_state")},
            {s->progs.tp_set_state}}}};
}

class GroupBLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = load::bpf_unavailable(&tracefs_); !why.empty()) SKIP_OR_FAIL(why);
  }

  // Loads the programs of alternative `which` only (forced, whatever the
  // kernel would choose); attaches them when attach is set. Returns how many
  // programs were loaded.
  template <class Skel>
  std::size_t load_alternative(std::size_t which, bool perf, bool attach) {
    Ids progs;
    std::size_t loaded = 0;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;  // rodata: only between open and load
      auto alts = alternatives(skel.get());
      if (which >= alts.size()) return 0;
      HookPoint point{"point", alts};
      apply_hook_choice({point}, {static_cast<int>(which)});
      EXPECT_NO_THROW(skel.load()) << alts[which].label;
      progs = load::prog_ids(skel.obj());
      loaded = progs.size();
      EXPECT_EQ(loaded, alts[which].programs.size()) << alts[which].label;
      if (attach) {
        EXPECT_NO_THROW(skel.attach()) << alts[which].label;
        for (bpf_program* prog : alts[which].programs)
          EXPECT_NE(bpf_program__fd(prog), -1) << bpf_program__name(prog);
      }
    }
    load::expect_released(progs);
    return loaded;
  }

  // The tool's own path: the kernel's choice, loaded and attached.
  template <class Skel>
  void round_trip(bool perf) {
    Ids progs;
    {
      KernelFeatures features(tracefs_);
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;
      HookPoint point{"point", alternatives(skel.get())};
      std::vector<int> chosen = choose_hooks(features, {point});
      ASSERT_GE(chosen[0], 0);
      apply_hook_choice({point}, chosen);
      ASSERT_NO_THROW(skel.load());
      progs = load::prog_ids(skel.obj());
      ASSERT_EQ(progs.size(), point.alternatives[chosen[0]].programs.size());
      ASSERT_NO_THROW(skel.attach());
      // Every loaded program has its link; nothing else is linked.
      const bpf_object_skeleton* s = skel->skeleton;
      for (int i = 0; i < s->prog_cnt; ++i) {
        bool on = bpf_program__autoload(*s->progs[i].prog);
        EXPECT_EQ(*s->progs[i].link != nullptr, on) << s->progs[i].name;
      }
    }
    load::expect_released(progs);
  }

  // Every alternative verifies; those this kernel supports also attach.
  template <class Skel>
  void every_alternative() {
    KernelFeatures features(tracefs_);
    auto probe = Skeleton<Skel>::open(nullptr);
    auto alts = alternatives(probe.get());
    for (std::size_t i = 0; i < alts.size(); ++i) {
      bool supported = satisfied(features, alts[i].needs);
      SCOPED_TRACE(alts[i].label + (supported ? " (attached)" : " (verifier only)"));
      for (bool perf : {false, true}) EXPECT_GT(load_alternative<Skel>(i, perf, supported), 0u);
    }
  }

  std::string tracefs_;
};

TEST_F(GroupBLoadTest, BindsnoopRingBuffer) {
  round_trip<bindsnoop_bpf>(false);
}
TEST_F(GroupBLoadTest, BindsnoopPerfBuffer) {
  round_trip<bindsnoop_bpf>(true);
}
TEST_F(GroupBLoadTest, BindsnoopEveryAlternative) {
  every_alternative<bindsnoop_bpf>();
}
TEST_F(GroupBLoadTest, TcpconnectRingBuffer) {
  round_trip<tcpconnect_bpf>(false);
}
TEST_F(GroupBLoadTest, TcpconnectPerfBuffer) {
  round_trip<tcpconnect_bpf>(true);
}
TEST_F(GroupBLoadTest, TcpconnectEveryAlternative) {
  every_alternative<tcpconnect_bpf>();
}
TEST_F(GroupBLoadTest, TcplifeRingBuffer) {
  round_trip<tcplife_bpf>(false);
}
TEST_F(GroupBLoadTest, TcplifePerfBuffer) {
  round_trip<tcplife_bpf>(true);
}
TEST_F(GroupBLoadTest, TcpstatesRingBuffer) {
  round_trip<tcpstates_bpf>(false);
}
TEST_F(GroupBLoadTest, TcpstatesPerfBuffer) {
  round_trip<tcpstates_bpf>(true);
}

}  // namespace
}  // namespace snoopkit
