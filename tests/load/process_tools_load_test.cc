// Load tests for the tools that trace tasks and the scheduler (exitsnoop,
// oomkill, runqlat): each skeleton opens, takes the hooks as the tool
// declares them, loads, attaches and leaves nothing behind, on both
// transports; every hook alternative the tool may pick passes the
// verifier here, and those the kernel lacks the fentry for are left to the
// kernel-matrix VMs.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/btf_offsets.h"
#include "bpf/exitsnoop.h"
#include "exitsnoop_hooks.h"
#include "core/kernel_paths.h"
#include "load_support.h"
#include "oomkill_hooks.h"
#include "runqlat_hooks.h"
#include "core/session.h"
#include "core/transport.h"

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

TEST_F(ProcessToolsLoadTest, ExitsnoopContainerFilterAndTaskContext) {
  round_trip<exitsnoop_bpf>(false, exitsnoop_hook_points, [](exitsnoop_bpf* s) {
    s->rodata->sk_filter_container = true;
    set_task_context_offsets(*s->rodata, task_context_offsets(""));
  });
}

// The inode number of a namespace or cgroup file.
std::uint64_t inode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// sk_task_context() at the offsets the runtime takes from the kernel's BTF
// (no CO-RE) describes the current task: a child this test forks comes out
// with this host's namespaces, its own pid as vpid and vtid, and the cgroup
// v2 id of this process's cgroup.
TEST_F(ProcessToolsLoadTest, TaskContextDescribesTheExitingTask) {
  if (access(kKernelBtfPath, R_OK) != 0) SKIP_OR_FAIL("no kernel BTF to read offsets from");
  auto skel = Skeleton<exitsnoop_bpf>::open(nullptr);
  set_task_context_offsets(*skel->rodata, task_context_offsets(""));
  ASSERT_NO_THROW(skel.load());
  ASSERT_NO_THROW(skel.attach());
  std::vector<exitsnoop_event> seen;
  auto rb = make_ring_buffer(skel->maps.sk_events, [&](const void* data, std::size_t size) {
    if (size >= sizeof(exitsnoop_event)) seen.push_back(*static_cast<const exitsnoop_event*>(data));
    return true;
  });
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(3);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_GE(rb->consume(), 0);

  const exitsnoop_event* e = nullptr;
  for (const auto& s : seen)
    if (s.pid == static_cast<std::uint32_t>(child)) e = &s;
  ASSERT_NE(e, nullptr) << "no event for the child";
  EXPECT_EQ(e->ctx.vpid, static_cast<std::uint32_t>(child));
  EXPECT_EQ(e->ctx.vtid, static_cast<std::uint32_t>(child));
  EXPECT_EQ(e->ctx.pidns, inode("/proc/self/ns/pid"));
  EXPECT_EQ(e->ctx.mntns, inode("/proc/self/ns/mnt"));
  // The cgroup v2 id is the inode of the cgroup's directory ("0::/path").
  std::ifstream cg("/proc/self/cgroup"), mounts("/proc/self/mounts");
  std::string line, root, dev, dir, type, rest;
  while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
    if (type == "cgroup2") root = dir;
  while (std::getline(cg, line)) {
    if (line.rfind("0::", 0) == 0 && !root.empty()) {
      EXPECT_EQ(e->ctx.cgroup_id, inode(root + line.substr(3)));
    }
  }
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
