#include "bpfload/object_setup.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>

#include "core/error.h"
#include "core/output.h"
#include "core/record.h"
#include "core/tracefs.h"

namespace snoopkit {
namespace {

constexpr std::size_t kStaleLimit = 64 << 20;  // trace pipe bytes dropped before attach, at most

bool contains(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::string errno_text(int err) {
  std::string s = Error("", err).what();  // ": <strerror>", libbpf's codes included
  return s.size() > 2 ? s.substr(2) : s;
}

}  // namespace

void write_inventory(Sink& sink, const ObjectFile& obj) {
  TextWriter progs(sink, {{"PROGRAM", "name", 16},
                          {"SECTION", "section", 36},
                          {"TYPE", "type", 14},
                          {"INSNS", "insns", 5, false},
                          {"LOAD", "LOAD", 4},
                          {"ATTACH", "ATTACH"}});
  progs.begin();
  Record r;
  for (const ProgramInfo& p : obj.programs()) {
    r.clear();
    r.add_bytes("name", p.name);
    r.add_bytes("section", p.section);
    r.add_raw("type", p.type);
    r.add_uint("insns", p.insns);
    r.add_raw("LOAD", p.autoload ? "yes" : "no");
    r.add_raw("ATTACH", describe_attach(p.attach));
    progs.write(r);
  }
  sink.buffer() += '\n';
  TextWriter maps(sink, {{"MAP", "name", 16},
                         {"TYPE", "type", 14},
                         {"KEY", "key", 4, false},
                         {"VALUE", "value", 6, false},
                         {"MAX_ENTRIES", "max_entries", 11, false},
                         {"FLAGS", "FLAGS"}});
  maps.begin();
  for (const MapInfo& m : obj.maps()) {
    r.clear();
    r.add_bytes("name", m.name);
    r.add_raw("type", m.type);
    r.add_uint("key", m.key_size);
    r.add_uint("value", m.value_size);
    r.add_uint("max_entries", m.max_entries);
    r.add_raw("FLAGS", fmt::format("{:#x}", m.flags));
    maps.write(r);
  }
}

void check_selection(const ObjectFile& obj, const std::vector<std::string>& programs,
                     const std::vector<std::string>& maps) {
  std::vector<ProgramInfo> progs = obj.programs();
  for (const std::string& n : programs) {
    if (std::none_of(progs.begin(), progs.end(), [&](auto& p) { return p.name == n; }))
      throw UsageError("--program " + printable(n) + ": the object has no such program");
  }
  std::vector<MapInfo> all = obj.maps();
  for (const std::string& n : maps) {
    auto it = std::find_if(all.begin(), all.end(), [&](auto& m) { return m.name == n; });
    if (it == all.end()) throw UsageError("--map " + printable(n) + ": the object has no such map");
    if (it->map_type != BPF_MAP_TYPE_RINGBUF)
      throw UsageError("--map " + printable(n) + ": a " + it->type + " map; only ring buffers are streamed");
  }
}

void select_programs(const ObjectFile& obj, const std::vector<std::string>& names) {
  if (names.empty()) return;
  for (const ProgramInfo& p : obj.programs())
    bpf_program__set_autoload(p.prog, contains(names, p.name));
}

std::vector<MapInfo> select_rings(const ObjectFile& obj, const std::vector<std::string>& names) {
  std::vector<MapInfo> rings;
  for (const MapInfo& m : obj.maps()) {
    if (m.map_type == BPF_MAP_TYPE_RINGBUF && (names.empty() || contains(names, m.name)))
      rings.push_back(m);
    if (m.map_type == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
      spdlog::info("map '{}' is a perf event array: not streamed (only ring buffers are)",
                   printable(m.name));
  }
  return rings;
}

void drop_unsupported(ObjectFile& obj, FeatureProbe& features, bool skip) {
  std::vector<std::string> why;
  for (const ProgramInfo& p : obj.programs()) {
    if (!p.autoload) continue;
    std::string reason = unsupported_reason(features, p.attach);
    if (reason.empty()) continue;
    why.push_back(fmt::format("program '{}' ({}): {}", printable(p.name), printable(p.section),
                              printable(reason)));
    if (!skip) continue;
    spdlog::warn("{}; not loaded (--skip-unsupported)", why.back());
    bpf_program__set_autoload(p.prog, false);
  }
  if (why.empty() || skip) return;
  throw Error(why.size() == 1
                  ? "cannot attach " + why[0]
                  : fmt::format("cannot attach {} programs: {}", why.size(), fmt::join(why, "; ")),
              0, "pass --skip-unsupported to run the other programs");
}

std::vector<std::string> attach_programs(ObjectFile& obj, bool skip) {
  std::vector<std::string> attached;
  for (const ProgramInfo& p : obj.programs()) {
    if (!p.autoload) continue;
    int err = obj.attach(p.prog);
    if (err == 0) {
      attached.push_back(printable(p.name) + "=" +
                         (p.attach.label.empty() ? "manual" : p.attach.label));
    } else if (err == -EOPNOTSUPP) {
      spdlog::warn(
          "program '{}' ({}): loaded but not attached: libbpf cannot attach this kind "
          "of section by itself",
          printable(p.name), printable(p.section));
    } else if (skip) {
      spdlog::warn("program '{}' ({}): cannot attach: {}; skipped (--skip-unsupported)",
                   printable(p.name), printable(p.section), errno_text(-err));
    } else {
      throw Error("attach program '" + printable(p.name) + "' (" + printable(p.section) + ")", -err,
                  "pass --skip-unsupported to run the other programs");
    }
  }
  return attached;
}

bool any_program_calls_printk(const ObjectFile& obj) {
  std::vector<ProgramInfo> progs = obj.programs();
  return std::any_of(progs.begin(), progs.end(),
                     [](auto& p) { return p.autoload && calls_printk(p.prog); });
}

std::unique_ptr<TracePipe> open_trace_pipe_for(const ObjectFile& obj) {
  if (!any_program_calls_printk(obj)) return nullptr;
  std::string tracefs = ensure_tracefs();
  if (!TracePipe::tracing_on(tracefs))
    spdlog::warn("{}/tracing_on is 0: the kernel drops bpf_printk() output", tracefs);
  auto pipe = std::make_unique<TracePipe>(tracefs);
  std::size_t stale = 0, n = 0;
  while (stale < kStaleLimit && (n = pipe->drain([](std::string_view) {})) > 0) stale += n;
  spdlog::debug("dropped {} bytes the trace pipe held before attach", stale);
  return pipe;
}

}  // namespace snoopkit
