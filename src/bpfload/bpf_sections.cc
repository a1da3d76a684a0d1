#include "bpfload/bpf_sections.h"

#include <array>
#include <utility>

namespace snoopkit {
namespace {

using Kind = SectionAttach::Kind;

struct Prefix {
  std::string_view prefix;  // up to and including the '/'
  Kind kind;
  std::string_view label;
};

// libbpf's section definitions (libbpf.c section_defs) that auto-attach,
// longest first where one prefix starts another.
constexpr std::array kPrefixes = {
    Prefix{"tracepoint/", Kind::kTracepoint, "tracepoint"},
    Prefix{"tp/", Kind::kTracepoint, "tracepoint"},
    Prefix{"raw_tracepoint.w/", Kind::kRawTracepoint, "raw_tp"},
    Prefix{"raw_tracepoint/", Kind::kRawTracepoint, "raw_tp"},
    Prefix{"raw_tp.w/", Kind::kRawTracepoint, "raw_tp"},
    Prefix{"raw_tp/", Kind::kRawTracepoint, "raw_tp"},
    Prefix{"tp_btf/", Kind::kBtfTracepoint, "tp_btf"},
    Prefix{"kprobe.multi/", Kind::kKprobe, "kprobe.multi"},
    Prefix{"kretprobe.multi/", Kind::kKprobe, "kretprobe.multi"},
    Prefix{"kprobe/", Kind::kKprobe, "kprobe"},
    Prefix{"kretprobe/", Kind::kKprobe, "kretprobe"},
    Prefix{"ksyscall/", Kind::kKprobe, "ksyscall"},
    Prefix{"kretsyscall/", Kind::kKprobe, "kretsyscall"},
    Prefix{"uprobe.s/", Kind::kUprobe, "uprobe"},
    Prefix{"uprobe/", Kind::kUprobe, "uprobe"},
    Prefix{"uretprobe.s/", Kind::kUprobe, "uretprobe"},
    Prefix{"uretprobe/", Kind::kUprobe, "uretprobe"},
    Prefix{"usdt/", Kind::kUprobe, "usdt"},
    Prefix{"fentry.s/", Kind::kTrampoline, "fentry"},
    Prefix{"fentry/", Kind::kTrampoline, "fentry"},
    Prefix{"fexit.s/", Kind::kTrampoline, "fexit"},
    Prefix{"fexit/", Kind::kTrampoline, "fexit"},
    Prefix{"fmod_ret.s/", Kind::kTrampoline, "fmod_ret"},
    Prefix{"fmod_ret/", Kind::kTrampoline, "fmod_ret"},
    Prefix{"lsm.s/", Kind::kTrampoline, "lsm"},
    Prefix{"lsm/", Kind::kTrampoline, "lsm"},
    Prefix{"iter.s/", Kind::kIterator, "iter"},
    Prefix{"iter/", Kind::kIterator, "iter"},
};

}  // namespace

SectionAttach classify_section(std::string_view section) {
  SectionAttach a;
  for (const Prefix& p : kPrefixes) {
    if (section.substr(0, p.prefix.size()) != p.prefix) continue;
    std::string_view rest = section.substr(p.prefix.size());
    if (rest.empty()) return a;  // no target: attached by hand
    if (p.kind == Kind::kTracepoint) {
      // CAT/NAME; libbpf needs both parts to auto-attach.
      std::size_t slash = rest.find('/');
      if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) return a;
      std::string cat(rest.substr(0, slash)), name(rest.substr(slash + 1));
      a.target = cat + ":" + name;
      a.needs = Requirement::tracepoint(std::move(cat), std::move(name));
    } else {
      a.target = std::string(rest);
      if (p.kind == Kind::kRawTracepoint || p.kind == Kind::kBtfTracepoint)
        a.needs = Requirement::raw_tracepoint();
      else if (p.kind == Kind::kKprobe)
        a.needs = Requirement::kprobe();
      else if (p.kind == Kind::kTrampoline)
        a.needs = Requirement::fentry();
    }
    a.kind = p.kind;
    a.label = std::string(p.label);
    return a;
  }
  return a;
}

std::string describe_attach(const SectionAttach& a) {
  if (a.kind == Kind::kManual) return "not auto-attached";
  return a.target.empty() ? a.label : a.label + " " + a.target;
}

std::string unsupported_reason(FeatureProbe& probe, const SectionAttach& a) {
  if (!a.needs || satisfied(probe, {*a.needs})) return {};
  switch (a.needs->kind) {
    case Requirement::Kind::kTracepoint:
      return "this kernel has no tracepoint " + a.target;
    case Requirement::Kind::kRawTracepoint:
      return "this kernel cannot attach raw tracepoint programs";
    case Requirement::Kind::kKprobe:
      return "this kernel has no kprobes (no kprobe PMU, no kprobe_events)";
    case Requirement::Kind::kFentry:
      return "this kernel cannot attach fentry/fexit/lsm programs (no BPF trampolines, or no "
             "kernel BTF)";
  }
  return {};
}

}  // namespace snoopkit
