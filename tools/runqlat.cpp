// runqlat: summarize run-queue (scheduler) latency as log2 histograms,
// overall or per process, thread or PID namespace, every interval.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "app.h"
#include "error.h"
#include "histogram.h"
#include "maps.h"
#include "runqlat.h"
#include "runqlat.skel.h"

using namespace snoopkit;

static_assert(sizeof(runqlat_hist) == 4 * SK_HIST_SLOTS + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool timestamp = false, ms = false, per_process = false, per_thread = false, per_pidns = false;
  Interval interval;
};

// A cgroup v2 id is the inode number of its directory.
std::uint64_t cgroup_id(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw Error("stat " + path, errno);
  return st.st_ino;
}

struct Entry {
  std::uint32_t key;
  runqlat_hist value;
};

}  // namespace

int main(int argc, char** argv) {
  App app("runqlat",
          "Summarize run queue (scheduler) latency as a histogram: how long runnable tasks wait "
          "for a CPU.",
          {.pid = "-p,--pid",
           .tid = "--tid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only tasks whose name contains NAME"});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-T,--timestamp", o.timestamp, "Include a time line (HH:MM:SS) with each report");
  cli.add_flag("-m,--milliseconds", o.ms, "Millisecond histogram (default: microseconds)");
  auto* by_pid = cli.add_flag("-P,--pids", o.per_process, "Print a histogram per process ID");
  auto* by_tid = cli.add_flag("-L,--tids", o.per_thread, "Print a histogram per thread ID");
  auto* by_ns = cli.add_flag("--pidnss", o.per_pidns, "Print a histogram per PID namespace");
  by_pid->excludes(by_tid)->excludes(by_ns);
  by_tid->excludes(by_ns);
  add_interval_args(cli, o.interval);
  drop_event_options(cli);  // a summary tool prints no events

  return app.run(argc, argv, [&](Session& s) {
    auto skel = s.open<runqlat_bpf>();
    auto* ro = skel->rodata;
    ro->per_process = o.per_process;
    ro->per_thread = o.per_thread;
    ro->per_pidns = o.per_pidns;
    ro->milliseconds = o.ms;
    // The filters apply to the task that waited, which is rarely the current
    // task when the scheduler hooks run: the BPF side checks the task itself.
    if (!s.options().cgroup.empty()) ro->targ_cgroup_id = cgroup_id(s.options().cgroup);

    auto& p = skel->progs;
    auto point = [](const char* name, bpf_program* btf, bpf_program* raw) {
      return HookPoint{name,
                       {{"tp_btf", {Requirement::fentry()}, {btf}},
                        {"raw_tracepoint", {Requirement::raw_tracepoint()}, {raw}}}};
    };
    s.load_and_attach(skel,
                      {point("sched_wakeup", p.btf_sched_wakeup, p.raw_sched_wakeup),
                       point("sched_wakeup_new", p.btf_sched_wakeup_new, p.raw_sched_wakeup_new),
                       point("sched_switch", p.btf_sched_switch, p.raw_sched_switch)});

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"", "TIME"});
    if (o.per_process || o.per_thread || o.per_pidns) cols.push_back({"", "LABEL"});
    cols.push_back({"", "buckets"});

    const char* unit = o.ms ? "msecs" : "usecs";
    std::vector<Entry> entries;
    Histogram hist;
    Record r;
    return s.report(skel, cols, o.interval, [&](Emit& emit) {
      entries.clear();
      drain_hash(skel->maps.hists, [&](const void* k, const void* v) {
        Entry e{};
        std::memcpy(&e.key, k, sizeof(e.key));
        std::memcpy(&e.value, v, sizeof(e.value));
        entries.push_back(e);
      });
      std::sort(entries.begin(), entries.end(),
                [](const Entry& a, const Entry& b) { return a.key < b.key; });
      // One histogram for everything is printed every interval, even empty.
      if (entries.empty() && !(o.per_process || o.per_thread || o.per_pidns))
        entries.push_back({RUNQLAT_ALL, {}});

      for (const Entry& e : entries) {
        hist = log2_histogram(unit, e.value.hist.slots, SK_HIST_SLOTS);
        std::string_view comm(e.value.comm, strnlen(e.value.comm, sizeof(e.value.comm)));
        r.clear();
        r.set_type("runqlat");
        s.stamp(r, emit.now());
        if (o.timestamp) r.add_text_only("TIME", [&] { return s.clock().hms(emit.now()); });
        if (o.per_process || o.per_thread) {
          r.add_uint(o.per_process ? "pid" : "tid", e.key);
          r.add_bytes("comm", comm);
        } else if (o.per_pidns) {
          r.add_uint("pidns", e.key);
        }
        if (o.per_process || o.per_thread || o.per_pidns) {
          std::string label = o.per_process ? "pid = " : o.per_thread ? "tid = " : "pidns = ";
          label += std::to_string(e.key);
          if (!o.per_pidns) label += " " + std::string(comm);
          r.add_text_only("LABEL", [&] { return std::move(label); });
        }
        r.add_raw("unit", unit);
        r.add_uint("total", hist.total());
        r.add_histogram("buckets", hist);
        emit.count_events(hist.total());
        emit.write(r);
      }
    });
  });
}
