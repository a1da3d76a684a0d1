// runqlat: summarize run-queue (scheduler) latency as log2 histograms,
// overall or per process, thread or PID namespace, every interval.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/error.h"
#include "family/histogram_report.h"
#include "bpf/runqlat.h"
#include "runqlat.skel.h"
#include "runqlat_hooks.h"

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

    s.load_and_attach(skel, runqlat_hook_points(skel.get()));

    const bool labelled = o.per_process || o.per_thread || o.per_pidns;
    HistogramReport<std::uint32_t, runqlat_hist> report("runqlat", o.timestamp, labelled, o.ms);
    auto by_key = [](const auto& a, const auto& b) { return a.key < b.key; };
    return s.report(skel, report.columns(), o.interval, [&](Emit& emit) {
      for (const auto& e : report.drain(skel->maps.hists, by_key, {RUNQLAT_ALL, {}})) {
        Record& r = report.begin(s, emit);
        std::string_view comm(e.value.comm, strnlen(e.value.comm, sizeof(e.value.comm)));
        if (o.per_process || o.per_thread) {
          r.add_uint(o.per_process ? Key("pid") : Key("tid"), e.key);
          r.add_bytes("comm", comm);
        } else if (o.per_pidns) {
          r.add_uint("pidns", e.key);
        }
        if (labelled) {
          std::string label = o.per_process ? "pid = " : o.per_thread ? "tid = " : "pidns = ";
          label += std::to_string(e.key);
          if (!o.per_pidns) label += " " + std::string(comm);
          r.add_text_only("LABEL", [&] { return std::move(label); });
        }
        report.end(e.value.hist.slots, emit);
      }
    });
  });
}
