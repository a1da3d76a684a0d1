#pragma once
// execsnoop's facts, declared once for the tool and its load tests: where
// its programs read the kernel's structs, its hook points, and how its
// skeleton is set up between open and load.

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/btf_offsets.h"
#include "core/error.h"
#include "bpf/execsnoop.h"
#include "execsnoop.skel.h"
#include "core/hooks.h"

namespace snoopkit {

/// Byte offsets of the kernel struct members execsnoop's programs read.
struct ExecOffsets {
  std::vector<std::uint32_t> task;  // task_struct: real_parent, tgid, mm
  std::vector<std::uint32_t> mm;    // mm_struct: start_stack, arg_start, arg_end
};

/// The offsets in the BTF at btf_path (the running kernel's when empty).
/// Throws Error naming the file when one is missing or cannot be right.
inline ExecOffsets exec_offsets(const std::string& btf_path) {
  const std::string path = btf_path.empty() ? kKernelBtfPath : btf_path;
  const auto l = btf_struct_layouts(path, {{"task_struct", {"real_parent", "tgid", "mm"}},
                                           {"mm_struct", {"start_stack", "arg_start", "arg_end"}}});
  ExecOffsets off{l[0].offsets, l[1].offsets};
  // None of them ever leads its struct: a 0 means this is not a kernel's
  // BTF, and the programs take 0 as unset.
  auto zero = [](const std::vector<std::uint32_t>& v) {
    return std::find(v.begin(), v.end(), 0u) != v.end();
  };
  if (zero(off.task) || zero(off.mm))
    throw Error("BTF file " + path + ": a task_struct or mm_struct member at offset 0", 0,
                "pass --btf PATH with the BTF of the running kernel");
  return off;
}

/// execsnoop's hook points: execve and execveat at their syscall
/// tracepoints, and sched_process_exec, where a successful exec is read.
inline std::vector<HookPoint> execsnoop_hook_points(execsnoop_bpf* skel) {
  auto& p = skel->progs;
  return {syscall_hook_point("execve", p.tp_enter_execve, p.tp_exit_execve, true),
          syscall_hook_point("execveat", p.tp_enter_execveat, p.tp_exit_execveat, false),
          {"sched_process_exec",
           {{"tracepoint",
             {Requirement::tracepoint("sched", "sched_process_exec")},
             {p.tp_sched_exec}}}}};
}

/// Writes the offsets, the byte budget and the failed-exec switch into
/// rodata and sizes the event slots: one per CPU, with room for budget
/// bytes of arguments. A failed exec's arguments are read with the budget
/// as their size wherever they start, so with failed the slot holds the
/// budget twice. Call between open and load; throws Error.
inline void configure_execsnoop(execsnoop_bpf* skel, const ExecOffsets& off, std::uint32_t budget,
                                bool failed) {
  auto& ro = *skel->rodata;
  ro.task_real_parent_off = off.task.at(0);
  ro.task_tgid_off = off.task.at(1);
  ro.task_mm_off = off.task.at(2);
  ro.mm_start_stack_off = off.mm.at(0);
  ro.mm_arg_start_off = off.mm.at(1);
  ro.mm_arg_end_off = off.mm.at(2);
  ro.budget = budget;
  ro.include_failed = failed;
  const long ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw Error("count the possible CPUs", static_cast<int>(-ncpu));
  const std::size_t slot = offsetof(execsnoop_event, args) + std::size_t{budget} * (failed ? 2 : 1);
  if (bpf_map__set_max_entries(skel->maps.scratch, static_cast<std::uint32_t>(ncpu)) ||
      bpf_map__set_value_size(skel->maps.scratch, static_cast<std::uint32_t>(slot)))
    throw Error("size execsnoop's event slots", errno);
}

}  // namespace snoopkit
