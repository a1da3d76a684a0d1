// Load tests for oomkill, biosnoop, syscount, runqlat and biolatency: each
// hook alternative this kernel supports opens, loads (verifier), attaches
// and leaves nothing behind, with the ring buffer and the perf buffer.
// Alternatives the kernel lacks (fentry, kprobes here) are named in the
// output and left to the kernel-matrix VMs, which have them.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "biolatency.skel.h"
#include "biosnoop.skel.h"
#include "error.h"
#include "feature_probe.h"
#include "hooks.h"
#include "load_support.h"
#include "oomkill.skel.h"
#include "runqlat.skel.h"
#include "skeleton.h"
#include "syscount.skel.h"
#include "tracefs.h"

namespace snoopkit {
namespace {

using load::Ids;

class GroupCLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tracefs;
    if (std::string why = load::bpf_unavailable(&tracefs); !why.empty()) SKIP_OR_FAIL(why);
    features_ = std::make_unique<KernelFeatures>(tracefs);
  }

  // Opens Skel, lets configure() set rodata, switches on exactly the
  // programs pick() names, then loads, attaches, checks that each of them
  // has a link, destroys, and checks the kernel let go. Returns false,
  // having loaded nothing, when the kernel lacks one of needs.
  template <class Skel>
  bool round_trip(const std::string& what, const std::vector<Requirement>& needs, bool perf,
                  const std::function<std::vector<bpf_program*>(Skel*)>& pick,
                  const std::function<void(Skel*)>& configure = {}) {
    if (!satisfied(*features_, needs)) {
      std::cout << "[   NOTE   ] " << what
                << ": this kernel lacks its hook; left to the VM tests\n";
      return false;
    }
    Ids progs, maps;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;
      if (configure) configure(skel.get());
      std::vector<bpf_program*> on = pick(skel.get());
      bpf_program* prog;
      bpf_object__for_each_program(prog, skel.obj()) {
        bool keep = std::find(on.begin(), on.end(), prog) != on.end();
        bpf_program__set_autoload(prog, keep);
      }
      EXPECT_NO_THROW(skel.load()) << what;
      if (HasFailure()) return true;
      progs = load::prog_ids(skel.obj());
      maps = load::map_ids(skel.obj());
      EXPECT_EQ(progs.size(), on.size()) << what;
      EXPECT_NO_THROW(skel.attach()) << what;
      const bpf_object_skeleton* s = skel->skeleton;
      for (int i = 0; i < s->prog_cnt; ++i) {
        if (bpf_program__autoload(*s->progs[i].prog)) {
          EXPECT_NE(*s->progs[i].link, nullptr) << what << ": " << s->progs[i].name;
        }
      }
    }
    load::expect_released(progs, maps);
    return true;
  }

  std::unique_ptr<FeatureProbe> features_;
};

Requirement tp(const char* cat, const char* name) {
  return Requirement::tracepoint(cat, name);
}

// --- syscount: raw tracepoints, or the raw_syscalls tracepoints ---

TEST_F(GroupCLoadTest, SyscountRawTracepoints) {
  for (bool perf : {false, true}) {
    for (bool latency : {false, true}) {
      round_trip<syscount_bpf>(
          "syscount raw_tp", {Requirement::raw_tracepoint()}, perf,
          [&](syscount_bpf* s) {
            std::vector<bpf_program*> on{s->progs.raw_sys_exit};
            if (latency) on.push_back(s->progs.raw_sys_enter);
            return on;
          },
          [&](syscount_bpf* s) {
            s->rodata->measure_latency = latency;
            s->rodata->by_process = perf;  // both key kinds, once each
          });
    }
  }
}

TEST_F(GroupCLoadTest, SyscountTracepoints) {
  for (bool perf : {false, true}) {
    round_trip<syscount_bpf>(
        "syscount tracepoint", {tp("raw_syscalls", "sys_enter"), tp("raw_syscalls", "sys_exit")},
        perf,
        [](syscount_bpf* s) {
          return std::vector<bpf_program*>{s->progs.tp_sys_enter, s->progs.tp_sys_exit};
        },
        [](syscount_bpf* s) {
          s->rodata->measure_latency = true;
          s->rodata->failures_only = true;
          s->rodata->only_errno = 2;
        });
  }
}

// --- runqlat: tp_btf where the kernel has BTF-typed programs, raw tracepoints else ---

std::vector<bpf_program*> runqlat_raw(runqlat_bpf* s) {
  return {s->progs.raw_sched_wakeup, s->progs.raw_sched_wakeup_new, s->progs.raw_sched_switch};
}

TEST_F(GroupCLoadTest, RunqlatRawTracepoints) {
  for (bool perf : {false, true}) {
    EXPECT_TRUE(round_trip<runqlat_bpf>(
        "runqlat raw_tp", {Requirement::raw_tracepoint()}, perf, runqlat_raw, [&](runqlat_bpf* s) {
          s->rodata->per_process = perf;
          s->rodata->targ_cgroup_id = 1;  // the cgroup walk must pass the verifier too
          s->rodata->sk_targ_comm_len = 2;
        }));
  }
}

TEST_F(GroupCLoadTest, RunqlatTpBtf) {
  round_trip<runqlat_bpf>("runqlat tp_btf", {Requirement::fentry()}, false, [](runqlat_bpf* s) {
    return std::vector<bpf_program*>{s->progs.btf_sched_wakeup, s->progs.btf_sched_wakeup_new,
                                     s->progs.btf_sched_switch};
  });
}

// --- biosnoop and biolatency: block tracepoints; the submitter from
// block_io_start where present, and from block_bio_queue (older kernels) ---

template <class Skel>
std::vector<bpf_program*> block_progs(Skel* s, bool io_start) {
  std::vector<bpf_program*> on{s->progs.tp_rq_insert, s->progs.tp_rq_issue,
                               s->progs.tp_rq_complete};
  on.push_back(io_start ? s->progs.tp_io_start : s->progs.tp_bio_queue);
  return on;
}

// Each submitter hook this kernel has: block_io_start (6.5+) and the
// block_bio_queue fallback, which every kernel has.
std::vector<bool> submitter_variants(FeatureProbe& f) {
  if (f.tracepoint("block", "block_io_start")) return {true, false};
  return {false};
}

TEST_F(GroupCLoadTest, BiosnoopTracepoints) {
  for (bool io_start : submitter_variants(*features_)) {
    for (bool perf : {false, true}) {
      EXPECT_TRUE(round_trip<biosnoop_bpf>(
          "biosnoop", {tp("block", "block_rq_issue"), tp("block", "block_rq_complete")}, perf,
          [&](biosnoop_bpf* s) { return block_progs(s, io_start); },
          [](biosnoop_bpf* s) { s->rodata->track_queued = true; }))
          << (io_start ? "block_io_start" : "block_bio_queue");
    }
  }
}

TEST_F(GroupCLoadTest, BiolatencyTracepoints) {
  for (bool io_start : submitter_variants(*features_)) {
    for (bool perf : {false, true}) {
      EXPECT_TRUE(round_trip<biolatency_bpf>(
          "biolatency", {tp("block", "block_rq_issue"), tp("block", "block_rq_complete")}, perf,
          [&](biolatency_bpf* s) { return block_progs(s, io_start); },
          [&](biolatency_bpf* s) {
            s->rodata->per_disk = perf;
            s->rodata->per_flags = !perf;
            s->rodata->track_queued = true;
          }))
          << (io_start ? "block_io_start" : "block_bio_queue");
    }
  }
}

// --- oomkill: fentry, kprobe, or the oom:mark_victim tracepoint ---

TEST_F(GroupCLoadTest, OomkillTracepoint) {
  for (bool perf : {false, true}) {
    EXPECT_TRUE(round_trip<oomkill_bpf>(
        "oomkill tracepoint", {tp("oom", "mark_victim")}, perf,
        [](oomkill_bpf* s) { return std::vector<bpf_program*>{s->progs.tp_mark_victim}; }));
  }
}

TEST_F(GroupCLoadTest, OomkillKprobe) {
  round_trip<oomkill_bpf>("oomkill kprobe", {Requirement::kprobe()}, false, [](oomkill_bpf* s) {
    return std::vector<bpf_program*>{s->progs.kprobe_oom_kill_process};
  });
}

TEST_F(GroupCLoadTest, OomkillFentry) {
  round_trip<oomkill_bpf>("oomkill fentry", {Requirement::fentry()}, false, [](oomkill_bpf* s) {
    return std::vector<bpf_program*>{s->progs.fentry_oom_kill_process};
  });
}

// The tools' own choice on this kernel loads: the first supported alternative.
TEST_F(GroupCLoadTest, ToolsChooseLoadableHooks) {
  auto skel = Skeleton<oomkill_bpf>::open(nullptr);
  auto& p = skel->progs;
  std::vector<HookPoint> points{{"oom_kill",
                                 {{"fentry", {Requirement::fentry()}, {p.fentry_oom_kill_process}},
                                  {"kprobe", {Requirement::kprobe()}, {p.kprobe_oom_kill_process}},
                                  {"tracepoint", {tp("oom", "mark_victim")}, {p.tp_mark_victim}}}}};
  std::vector<int> chosen = choose_hooks(*features_, points);
  ASSERT_GE(chosen[0], 0);
  std::cout << "[   NOTE   ] oomkill hooks here: " << describe_choice(points, chosen) << "\n";
  apply_hook_choice(points, chosen);
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
}

}  // namespace
}  // namespace snoopkit
