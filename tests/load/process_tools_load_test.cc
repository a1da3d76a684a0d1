// Load tests for the tools that trace tasks and the scheduler (exitsnoop,
// oomkill, runqlat): each skeleton opens, takes the hooks as the tool
// declares them, loads, attaches and leaves nothing behind, on both
// transports; every hook alternative the tool may pick passes the
// verifier here, and those the kernel lacks the fentry for are left to the
// kernel-matrix VMs.
#include <gtest/gtest.h>

#include "exitsnoop_hooks.h"
#include "load_support.h"
#include "oomkill_hooks.h"
#include "runqlat_hooks.h"

namespace snoopkit {
namespace {

class ProcessToolsLoadTest : public load::ToolLoadTest {};

// --- exitsnoop ---

TEST_F(ProcessToolsLoadTest, ExitsnoopRingBuffer) {
  round_trip<exitsnoop_bpf>(false, exitsnoop_hook_points);
}
TEST_F(ProcessToolsLoadTest, ExitsnoopPerfBuffer) {
  round_trip<exitsnoop_bpf>(true, exitsnoop_hook_points);
}
TEST_F(ProcessToolsLoadTest, ExitsnoopThreadsFailedOnly) {
  round_trip<exitsnoop_bpf>(false, exitsnoop_hook_points, [](exitsnoop_bpf* s) {
    s->rodata->threads = true;
    s->rodata->failed_only = true;
  });
}

// --- oomkill: fentry, kprobe, or the oom:mark_victim tracepoint ---

TEST_F(ProcessToolsLoadTest, OomkillRingBuffer) {
  round_trip<oomkill_bpf>(false, oomkill_hook_points);
}
TEST_F(ProcessToolsLoadTest, OomkillPerfBuffer) {
  round_trip<oomkill_bpf>(true, oomkill_hook_points);
}
TEST_F(ProcessToolsLoadTest, OomkillEveryAlternative) {
  every_alternative<oomkill_bpf>(oomkill_hook_points);
}

// --- runqlat: tp_btf where the kernel has BTF-typed programs, raw tracepoints else ---

void runqlat_per_process(runqlat_bpf* s) {
  s->rodata->per_process = true;
  s->rodata->targ_cgroup_id = 1;  // the cgroup walk must pass the verifier too
  s->rodata->sk_targ_comm_len = 2;
}

TEST_F(ProcessToolsLoadTest, RunqlatRingBuffer) {
  round_trip<runqlat_bpf>(false, runqlat_hook_points);
}
TEST_F(ProcessToolsLoadTest, RunqlatPerfBuffer) {
  round_trip<runqlat_bpf>(true, runqlat_hook_points, runqlat_per_process);
}
TEST_F(ProcessToolsLoadTest, RunqlatEveryAlternative) {
  every_alternative<runqlat_bpf>(runqlat_hook_points, runqlat_per_process);
}

}  // namespace
}  // namespace snoopkit
