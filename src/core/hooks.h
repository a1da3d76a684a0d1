#pragma once
// Alternative hooks: a tool lists, for each thing it traces, the ways to
// hook it from richest to plainest; the runtime picks the first one the
// kernel supports and switches the others' programs off before load.

#include <string>
#include <vector>

#include "core/feature_probe.h"

struct bpf_link;
struct bpf_program;

namespace snoopkit {

/// A kernel facility a hook needs.
struct Requirement {
  enum class Kind { kTracepoint, kRawTracepoint, kFentry, kKprobe };
  Kind kind;
  std::string category;  // kTracepoint: e.g. "syscalls"
  std::string name;      // kTracepoint: e.g. "sys_enter_openat"

  static Requirement tracepoint(std::string category, std::string name) {
    return {Kind::kTracepoint, std::move(category), std::move(name)};
  }
  static Requirement raw_tracepoint() { return {Kind::kRawTracepoint, {}, {}}; }
  static Requirement fentry() { return {Kind::kFentry, {}, {}}; }
  static Requirement kprobe() { return {Kind::kKprobe, {}, {}}; }
};

/// A program the runtime attaches to a tracepoint itself, not its skeleton:
/// one program declared SEC("tracepoint") (no target) serving several
/// tracepoints, e.g. one exit handler for sys_exit_open, _openat, _openat2.
/// The kernel verifies and compiles it once however many it serves.
struct TracepointLink {
  bpf_program* prog;
  std::string category, name;
};

/// One way to hook a point: the programs to load if its requirements hold.
struct Alternative {
  std::string label;  // e.g. "tracepoint", "fentry"; shown in -v and readiness
  std::vector<Requirement> needs;
  std::vector<bpf_program*> programs;
  std::vector<TracepointLink> links;  // programs (also in programs) attached by the runtime
};

/// A thing a tool traces, with its alternatives from richest to plainest.
struct HookPoint {
  std::string name;  // e.g. "openat"
  std::vector<Alternative> alternatives;
  bool required = true;  // false: silently skipped when no alternative fits
};

/// A syscall traced at its sys_enter_<sys> and sys_exit_<sys> tracepoints
/// by the two programs given (the tools that report a syscall's result).
/// A program whose section names no tracepoint (SEC("tracepoint")) is
/// shared: the runtime attaches it here (see TracepointLink).
HookPoint syscall_hook_point(const std::string& sys, bpf_program* enter, bpf_program* exit,
                             bool required);

/// True if the probe says every requirement holds.
bool satisfied(FeatureProbe& probe, const std::vector<Requirement>& needs);

/// Which points must get a hook: the required ones, or also at least one
/// of all (a tool whose every point is optional, e.g. each stat syscall
/// where the kernel has it, but that traces nothing with none of them).
enum class HookNeed { kRequired, kAtLeastOne };

/// For each point, the index of the first supported alternative, or -1.
/// Throws Error naming the point and what the kernel lacks if a required
/// point has none, or, with kAtLeastOne, naming every point if none has one.
std::vector<int> choose_hooks(FeatureProbe& probe, const std::vector<HookPoint>& points,
                              HookNeed need = HookNeed::kRequired);

/// Switches off (bpf_program__set_autoload false) every program of every
/// alternative not chosen, and the skeleton's attachment of the programs
/// the runtime attaches itself. Call between open and load.
void apply_hook_choice(const std::vector<HookPoint>& points, const std::vector<int>& chosen);

/// Attaches the chosen alternatives' TracepointLinks (after load). Returns
/// the links, which the caller destroys; on failure destroys those made
/// and throws Error.
std::vector<bpf_link*> attach_links(const std::vector<HookPoint>& points,
                                    const std::vector<int>& chosen);

/// "openat=tracepoint open=tracepoint ..." for logs and the readiness line.
std::string describe_choice(const std::vector<HookPoint>& points, const std::vector<int>& chosen);

}  // namespace snoopkit
