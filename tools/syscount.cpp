// syscount: summarize system calls by count (and latency with -L), by
// syscall or by process, every interval.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/maps.h"
#include "core/sink.h"
#include "family/syscalls.h"
#include "bpf/syscount.h"
#include "syscount.skel.h"
#include "syscount_hooks.h"

using namespace snoopkit;

static_assert(sizeof(syscount_value) == 16 + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool latency = false, process = false, failures = false, ms = false;
  unsigned top = 10;
  int only_errno = 0;
  Interval interval;
};

// -e: "ENOENT" or "2" becomes the number; anything else is a usage error.
std::string parse_errno(std::string& text) {
  for (int e = 1; e < 4096; ++e) {
    const char* name = strerrorname_np(e);
    if ((name && text == name) || text == std::to_string(e)) {
      text = std::to_string(e);
      return {};
    }
  }
  return "expected an errno number or name such as ENOENT, not '" + text + "'";
}

// -l: the table this tool names syscalls with, one "NR NAME" per line.
void list_syscalls() {
  std::string out;
  for (const SyscallEntry& e : syscall_table(native_syscall_abi()))
    out += std::to_string(e.nr) + " " + e.name + "\n";
  write_stdout(out);
}

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

struct Row {
  std::uint32_t key;
  syscount_value value;
};

}  // namespace

int main(int argc, char** argv) {
  App app("syscount",
          "Summarize system calls: the most frequent (or, with -L, the slowest) syscalls or "
          "processes, every interval.",
          {.pid = "-p,--pid",
           .tid = "--tid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Count only processes whose name contains NAME"});
  Options o;
  auto& cli = app.cli();
  // A summary tool prints no events: the event options go, and --latency
  // gives way to libbpf-tools' -L.
  drop_event_options(cli);
  cli.add_flag("-L,--latency", o.latency, "Also measure syscall latency, and sort by total time");
  cli.add_flag("-P,--process", o.process, "Count by process, not by syscall");
  cli.add_flag("-x,--failures", o.failures, "Count only failed syscalls");
  cli.add_option(
         "-e,--errno", o.only_errno,
         "Count only syscalls that failed with this errno (a number, or a name like ENOENT)")
      ->type_name("ERRNO")
      ->transform(CLI::Validator(parse_errno, ""));
  cli.add_flag("-m,--milliseconds", o.ms, "Show latency in milliseconds (default: microseconds)");
  cli.add_option("-T,--top", o.top, "Show only the top N syscalls or processes (default 10)")
      ->type_name("N")
      ->transform(whole_number(1, 100000));
  add_interval_args(cli, o.interval, "-i,--interval");
  cli.add_flag_callback(
      "-l,--list",
      [] {
        list_syscalls();
        throw CLI::Success();
      },
      "List the syscall numbers and names this tool knows, then exit");

  return app.run(argc, argv, [&](Session& s) {
    auto skel = s.open<syscount_bpf>();
    skel->rodata->by_process = o.process;
    skel->rodata->measure_latency = o.latency;
    skel->rodata->failures_only = o.failures;
    skel->rodata->only_errno = o.only_errno;

    s.load_and_attach(skel, syscount_hook_points(skel.get(), o.latency));

    // Text: "[HH:MM:SS]", then the table, as libbpf-tools prints it.
    const char* time_header = o.ms ? "TIME (ms)" : "TIME (us)";
    Column table{"", o.process ? "processes" : "syscalls"};
    if (o.process) {
      table.rows = {{"PID", "pid", 6}, {"COMM", "comm", 15}, {"COUNT", "count", 8, false}};
    } else {
      table.rows = {{"SYSCALL", "SYSCALL", 22}, {"COUNT", "count", 8, false}};
    }
    if (o.latency) table.rows.push_back({time_header, "TIME", 16, false});
    std::vector<Column> cols{{"", "TIME"}, table};

    std::vector<Row> rows;
    std::vector<Record> shown;
    return s.report(skel, cols, o.interval, [&](Emit& emit) {
      rows.clear();
      drain_hash(skel->maps.counts, [&](const void* k, const void* v) {
        Row row{};
        std::memcpy(&row.key, k, sizeof(row.key));
        std::memcpy(&row.value, v, sizeof(row.value));
        rows.push_back(row);
      });
      std::uint64_t total = 0;
      for (const Row& row : rows) total += row.value.count;
      emit.count_events(total);
      std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
        std::uint64_t va = o.latency ? a.value.total_ns : a.value.count;
        std::uint64_t vb = o.latency ? b.value.total_ns : b.value.count;
        return va != vb ? va > vb : a.key < b.key;
      });
      const std::size_t entries = rows.size();
      if (rows.size() > o.top) rows.resize(o.top);

      shown.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const syscount_value& v = rows[i].value;
        Record& r = shown[i];
        r.clear();
        if (o.process) {
          r.add_uint("pid", rows[i].key);
          r.add_bytes("comm", std::string_view(v.comm, strnlen(v.comm, sizeof(v.comm))));
        } else {
          std::string_view name = syscall_name(rows[i].key);
          if (!name.empty()) r.add_raw("syscall", std::string(name));
          r.add_uint("nr", rows[i].key);
          r.add_text_only("SYSCALL", name.empty() ? "[unknown: " + std::to_string(rows[i].key) + "]"
                                                  : std::string(name));
        }
        r.add_uint("count", v.count);
        if (o.latency) {
          r.add_big_uint("total_ns", v.total_ns);
          r.add_text_only("TIME", [&] { return fixed3(static_cast<double>(v.total_ns) / (o.ms ? 1e6 : 1e3)); });
        }
      }

      Record r;
      r.set_type("syscount");
      s.stamp(r, emit.now());
      r.add_text_only("TIME", [&] { return "[" + s.clock().hms(emit.now()) + "]"; });
      r.add_uint("total", total);
      r.add_uint("entries", entries);
      r.add_records(o.process ? Key("processes") : Key("syscalls"), shown);
      emit.write(r);
    });
  });
}
