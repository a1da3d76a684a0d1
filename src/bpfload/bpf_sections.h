#pragma once
// What a BPF program's ELF section name says about how it attaches, by
// libbpf's conventions (SEC("tracepoint/syscalls/sys_enter_execve"), ...),
// and what the kernel must offer for that: for loaders of objects that
// were not built with the tool (bpfload).

#include <optional>
#include <string>
#include <string_view>

#include "core/hooks.h"

namespace snoopkit {

/// How a section attaches.
struct SectionAttach {
  enum class Kind {
    kTracepoint,     // tracepoint/CAT/NAME, tp/CAT/NAME
    kRawTracepoint,  // raw_tracepoint/NAME, raw_tp/NAME (and .w writable forms)
    kBtfTracepoint,  // tp_btf/NAME
    kKprobe,         // kprobe/, kretprobe/, ksyscall/, kretsyscall/, kprobe.multi/, ...
    kUprobe,         // uprobe/, uretprobe/, usdt/ (and .s sleepable forms)
    kTrampoline,     // fentry/, fexit/, fmod_ret/, lsm/ (and .s forms)
    kIterator,       // iter/, iter.s/
    kManual,         // libbpf cannot attach it by itself (xdp, tc, socket, cgroup, ...)
  };
  Kind kind = Kind::kManual;
  std::string label;   // "tracepoint", "raw_tp", "kprobe", ...; "" for kManual
  std::string target;  // "syscalls:sys_enter_execve", "do_unlinkat", ...; "" if none
  /// What the kernel must support for the attach to work, if a probe can
  /// tell before loading; nullopt when only trying can tell.
  std::optional<Requirement> needs;
};

/// Classifies a section name. A kind whose target is missing (a bare
/// "kprobe" or "tracepoint" section, meant for attaching by hand) is kManual.
SectionAttach classify_section(std::string_view section);

/// "tracepoint syscalls:sys_enter_execve", "kprobe do_unlinkat",
/// "not auto-attached": for listings.
std::string describe_attach(const SectionAttach& a);

/// Why the kernel cannot attach a program of this kind, in words ("this
/// kernel has no kprobes"), or "" when probe says it can (or cannot tell).
std::string unsupported_reason(FeatureProbe& probe, const SectionAttach& a);

}  // namespace snoopkit
