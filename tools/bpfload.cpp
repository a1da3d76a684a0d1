// bpfload: load any BPF object file, attach its programs by their section
// names, and stream what they print (bpf_printk) and write to ring buffers.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/escape.h"
#include "bpfload/object_file.h"
#include "bpfload/object_setup.h"
#include "core/run_loop.h"
#include "bpfload/stream_records.h"
#include "bpfload/printk_events.h"
#include "bpfload/trace_pipe.h"
#include "core/tracefs.h"
#include "core/transport.h"
#include "bpfload/verifier_log.h"

using namespace snoopkit;

namespace {

struct Options {
  std::string object;
  bool list = false, no_attach = false, hex = false, skip_unsupported = false;
  std::vector<std::string> maps, programs;
};

// The ready line, in the runtime's shape: "N programs attached via <what
// is read> (<program>=<kind> ...)".
std::string ready_line(const std::vector<std::string>& attached, const std::vector<MapInfo>& rings,
                       std::string_view printk) {
  std::vector<std::string> names;
  for (const MapInfo& m : rings) names.push_back(m.name);
  std::string via = names.empty() ? "" : fmt::format("ring buffers {}", fmt::join(names, ", "));
  if (!printk.empty()) via += via.empty() ? std::string(printk) : " and " + std::string(printk);
  if (via.empty()) via = "nothing: no ring buffer, no bpf_printk()";
  return fmt::format("{} programs attached via {} ({})", attached.size(), via,
                     fmt::join(attached, " "));
}

}  // namespace

int main(int argc, char** argv) {
  App app("bpfload",
          "Load a BPF object file, attach its programs by section name, and stream their "
          "bpf_printk() output and ring buffer records.");
  Options o;
  auto& cli = app.cli();
  cli.add_option("OBJECT", o.object, "The BPF object file (built with clang -target bpf -c)")
      ->required()
      ->type_name("FILE");
  cli.add_flag("-l,--list", o.list,
               "List the object's programs (section, type, instructions, attach kind) and maps "
               "(type, key and value size, max entries, flags), then exit without loading");
  cli.add_flag("--no-attach", o.no_attach,
               "Load the programs (the verifier checks them), then exit without attaching");
  cli.add_option("--program", o.programs, "Load and attach only this program (repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  cli.add_option("--map", o.maps, "Stream only this ring buffer map (repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  cli.add_flag("--skip-unsupported", o.skip_unsupported,
               "Skip the programs this kernel cannot attach (e.g. kprobes on a kernel without "
               "them) instead of failing");
  cli.add_flag("--hex", o.hex,
               "Text output: add a hex dump (offsets, bytes, ASCII) below each ring buffer record");
  cli.footer(
      "Every BPF_MAP_TYPE_RINGBUF map is streamed (--buffer-size resizes them). bpf_printk() "
      "output is read from the bpf_trace_printk trace event, which is global: printk records "
      "are every bpf_printk() on the host while bpfload runs, not only this object's (other "
      "readers of the trace pipe keep theirs).");

  app.add_check([&] {
    // Everything about the command line, before privileges and probes:
    // opening an object does not touch the kernel.
    check_object_file(o.object);
    check_selection(ObjectFile::open(o.object, app.options().btf_path), o.programs, o.maps);
    const CommonOptions& co = app.options();
    if (o.hex && co.json) throw UsageError("--hex is for text output (JSON has data_hex)");
    if (o.list && co.json) throw UsageError("--list prints text tables; drop --json");
    if (co.perf_buffer)
      throw UsageError("--perf-buffer does not apply: bpfload reads the object's own maps");
  });

  return app.run(argc, argv, [&](Session& s) -> int {
    const CommonOptions& co = s.options();
    ObjectFile obj = ObjectFile::open(o.object, co.btf_path);
    select_programs(obj, o.programs);
    std::vector<MapInfo> rings = select_rings(obj, o.maps);
    if (o.list) {
      Sink out(STDOUT_FILENO);
      write_inventory(out, obj);
      Sink::Status st = out.flush();
      if (st == Sink::Status::kError) throw Error("write to stdout", out.error());
      return kExitOk;
    }
    drop_unsupported(obj, s.features(), o.skip_unsupported);
    if (cli.count("--buffer-size"))
      for (const MapInfo& m : rings)
        bpf_map__set_max_entries(m.map, static_cast<__u32>(parse_buffer_size(co.buffer_size)));
    if (co.verbosity > 0) {
      Sink table(-1);
      write_inventory(table, obj);
      for (std::string_view l : log_lines(table.buffer()))
        if (!l.empty()) spdlog::debug("{}", l);
    }

    // Load: the verifier runs here; a rejection prints the end of its log.
    if (auto failure = obj.load()) throw_load_failure(*failure, co.verbosity > 0);
    if (o.no_attach) {
      std::size_t n = 0;
      for (const ProgramInfo& p : obj.programs()) n += p.autoload;
      spdlog::info("loaded {} programs; nothing attached (--no-attach)", n);
      return kExitOk;
    }
    // bpf_printk() output: the bpf_trace_printk event, where every call is
    // one event in its own tracing instance; the trace pipe only where that
    // instance cannot be made.
    std::unique_ptr<PrintkEvents> events;
    std::unique_ptr<TracePipe> pipe;
    if (any_program_calls_printk(obj)) {
      try {
        events = std::make_unique<PrintkEvents>(ensure_tracefs());
      } catch (const Error& e) {
        spdlog::warn("reading bpf_printk() output from the trace pipe ({}): there, a message "
                     "holding a newline can imitate a record of its own",
                     e.what());
        pipe = open_trace_pipe_for(obj);
      }
    }
    std::vector<std::string> attached = attach_programs(obj, o.skip_unsupported);

    Clock clock;
    RunLoop loop(co, clock, [&] { return events ? events->lost() : std::uint64_t{0}; });
    std::unique_ptr<Writer> ring_out, printk_out;
    if (co.json) {
      ring_out = std::make_unique<JsonWriter>(loop.sink());
      printk_out = std::make_unique<JsonWriter>(loop.sink());
    } else {
      ring_out = std::make_unique<TextWriter>(loop.sink(), ringbuf_columns(o.hex));
      printk_out = std::make_unique<TextWriter>(loop.sink(), printk_columns());
    }
    Record rec;
    std::vector<Record> rows;

    // Ring buffer records: one reader per map. Handlers run under libbpf's
    // C callbacks: they must not throw.
    std::vector<std::unique_ptr<Transport>> readers;
    for (const MapInfo& m : rings) {
      auto handler = [&, name = m.name](const void* data, std::size_t size) noexcept {
        loop.received();
        if (loop.writable()) {
          rec.clear();
          loop.stamp(rec, Clock::mono_now());
          add_ringbuf_fields(rec, name, {static_cast<const char*>(data), size}, o.hex, rows);
          loop.write(*ring_out, rec);
        }
        return loop.more();
      };
      readers.push_back(make_ring_buffer(m.map, handler));
      loop.watch(readers.back()->epoll_fd(), RunLoop::Wake::kEdge);
    }

    // bpf_printk() records from the trace pipe; other records are other
    // trace events someone enabled. A line that is no record header is the
    // rest of a message that held a '\n': it stays in that message.
    bool warned = false;
    TraceRecordJoiner joiner(
        [&](const TraceLine& t) {
          if (t.event != kPrintkEvent) return;
          loop.received();
          rec.clear();
          loop.stamp(rec, Clock::mono_now());
          add_printk_fields(rec, t);
          loop.write(*printk_out, rec);
        },
        [&](std::string_view line) {
          if (line.empty() || warned) return;
          std::string shown;
          append_text_escaped(shown, line);
          spdlog::warn("skipped a trace pipe line not in the expected format: {}", shown);
          warned = true;
        });
    if (pipe) loop.watch(pipe->fd());
    const PrintkEvents::Handler on_printk = [&](const PrintkSample& p) {
      loop.received();
      if (!loop.writable()) return;
      rec.clear();
      loop.stamp(rec, Clock::mono_now());
      const std::string comm = task_comm(p.pid);  // rec keeps a view of it
      add_printk_fields(rec, p, comm);
      loop.write(*printk_out, rec);
    };
    // The instance's buffers are read every --latency ms (their poll wakes
    // only when half full).

    loop.ready(ready_line(attached, rings,
                          events ? "the bpf_trace_printk event" : pipe ? "the trace pipe" : ""));
    bool stopped = loop.pump([&] {
      for (auto& r : readers) {
        loop.begin_drain();
        int n = r->consume();
        if (n < 0 && n != -EINTR) throw Error("read a ring buffer", -n);
      }
      if (pipe) {
        pipe->drain([&](std::string_view line) { joiner.line(line); });
        joiner.flush();
      }
      if (events) events->drain(on_printk);
    });
    if (events && events->malformed())
      spdlog::warn("{} bpf_trace_printk samples were not in the expected layout and were skipped",
                   events->malformed());
    return stopped ? loop.finish() : kExitOk;
  });
}
