#include "core/hooks.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "core/error.h"

namespace snoopkit {
namespace {

bool holds(FeatureProbe& probe, const Requirement& r) {
  switch (r.kind) {
    case Requirement::Kind::kTracepoint:
      // Syscall tracepoints are read without CO-RE (struct sk_sys_enter and
      // sk_sys_exit, bpf/snoopkit.bpf.h): their layout is checked against
      // the kernel's format file instead.
      return probe.tracepoint(r.category, r.name) &&
             (r.category != "syscalls" || probe.syscall_context(r.name));
    case Requirement::Kind::kRawTracepoint:
      return probe.raw_tracepoint();
    case Requirement::Kind::kFentry:
      return probe.kernel_btf() && probe.fentry();
    case Requirement::Kind::kKprobe:
      return probe.kprobes();
  }
  return false;
}

std::string describe(const Requirement& r) {
  switch (r.kind) {
    case Requirement::Kind::kTracepoint:
      return "tracepoint " + r.category + ":" + r.name +
             (r.category == "syscalls" ? " (in the standard syscall context layout)" : "");
    case Requirement::Kind::kRawTracepoint:
      return "raw tracepoints";
    case Requirement::Kind::kFentry:
      return "fentry (BPF_PROG_TYPE_TRACING, with kernel BTF)";
    case Requirement::Kind::kKprobe:
      return "kprobes";
  }
  return "?";
}

}  // namespace

namespace {

// SEC("tracepoint") or SEC("tp"): a program with no tracepoint of its own.
bool shared_tracepoint_program(const bpf_program* prog) {
  const char* sec = prog ? bpf_program__section_name(prog) : nullptr;
  return sec && (std::string_view(sec) == "tracepoint" || std::string_view(sec) == "tp");
}

}  // namespace

HookPoint syscall_hook_point(const std::string& sys, bpf_program* enter, bpf_program* exit,
                             bool required) {
  Alternative alt{"tracepoint",
                  {Requirement::tracepoint("syscalls", "sys_enter_" + sys),
                   Requirement::tracepoint("syscalls", "sys_exit_" + sys)},
                  {enter, exit},
                  {}};
  if (shared_tracepoint_program(enter))
    alt.links.push_back({enter, "syscalls", "sys_enter_" + sys});
  if (shared_tracepoint_program(exit)) alt.links.push_back({exit, "syscalls", "sys_exit_" + sys});
  return {sys, {std::move(alt)}, required};
}

bool satisfied(FeatureProbe& probe, const std::vector<Requirement>& needs) {
  for (const auto& r : needs)
    if (!holds(probe, r)) return false;
  return true;
}

std::vector<int> choose_hooks(FeatureProbe& probe, const std::vector<HookPoint>& points,
                              HookNeed need) {
  std::vector<int> chosen;
  chosen.reserve(points.size());
  std::string names, first_missing;
  for (const auto& p : points) {
    int pick = -1;
    std::string missing;
    for (std::size_t i = 0; i < p.alternatives.size() && pick < 0; ++i) {
      const auto& alt = p.alternatives[i];
      if (satisfied(probe, alt.needs)) {
        pick = static_cast<int>(i);
        break;
      }
      for (const auto& r : alt.needs) {
        if (holds(probe, r)) continue;
        if (!missing.empty()) missing += ", ";
        missing += describe(r);
      }
    }
    if (p.alternatives.empty()) missing = "any declared hook (the tool lists none)";
    if (pick < 0 && p.required)
      throw Error("cannot trace " + p.name + ": this kernel lacks " + missing, 0,
                  "no supported hook; see docs/COMPATIBILITY.md for kernel requirements");
    chosen.push_back(pick);
    names += (names.empty() ? "" : ", ") + p.name;
    if (first_missing.empty()) first_missing = missing;
  }
  if (need == HookNeed::kAtLeastOne && !points.empty() &&
      std::all_of(chosen.begin(), chosen.end(), [](int c) { return c < 0; }))
    throw Error("cannot trace any of " + names + ": this kernel lacks " + first_missing, 0,
                "no supported hook; see docs/COMPATIBILITY.md for kernel requirements");
  return chosen;
}

void apply_hook_choice(const std::vector<HookPoint>& points, const std::vector<int>& chosen) {
  // A program may serve several alternatives (a shared exit handler): keep
  // every program a chosen alternative names, switch off the rest.
  std::vector<bpf_program*> keep;
  for (std::size_t p = 0; p < points.size(); ++p)
    if (chosen[p] >= 0)
      for (bpf_program* prog : points[p].alternatives[chosen[p]].programs) keep.push_back(prog);
  for (const auto& point : points)
    for (const auto& alt : point.alternatives)
      for (bpf_program* prog : alt.programs)
        if (prog && std::find(keep.begin(), keep.end(), prog) == keep.end())
          bpf_program__set_autoload(prog, false);
  for (const auto& point : points)
    for (const auto& alt : point.alternatives)
      for (const auto& link : alt.links) bpf_program__set_autoattach(link.prog, false);
}

std::vector<bpf_link*> attach_links(const std::vector<HookPoint>& points,
                                    const std::vector<int>& chosen) {
  std::vector<bpf_link*> links;
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (chosen[p] < 0) continue;
    for (const auto& l : points[p].alternatives[chosen[p]].links) {
      bpf_link* link = bpf_program__attach_tracepoint(l.prog, l.category.c_str(), l.name.c_str());
      if (!link) {
        int err = errno;
        for (bpf_link* made : links) bpf_link__destroy(made);
        throw Error("attach BPF program " + std::string(bpf_program__name(l.prog)) +
                        " to tracepoint " + l.category + ":" + l.name,
                    err);
      }
      links.push_back(link);
    }
  }
  return links;
}

std::string describe_choice(const std::vector<HookPoint>& points, const std::vector<int>& chosen) {
  std::string out;
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (!out.empty()) out += ' ';
    out += points[p].name + "=";
    out += chosen[p] < 0 ? std::string("none") : points[p].alternatives[chosen[p]].label;
  }
  return out;
}

}  // namespace snoopkit
