// exitsnoop: trace process exits (every thread's with -T), with exit code or signal and age.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/app.h"
#include "bpf/exitsnoop.h"
#include "exitsnoop.skel.h"
#include "exitsnoop_hooks.h"
#include "core/signals.h"

using namespace snoopkit;

static_assert(sizeof(exitsnoop_event) == 40 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool timestamp = false, failed = false, threads = false;
};

// The wait(2) status parts: WEXITSTATUS, WTERMSIG and WCOREDUMP.
struct Status {
  unsigned code, sig;
  bool core;
};
Status decode(std::uint32_t status) {
  return {(status >> 8) & 0xff, status & 0x7f, (status & 0x80) != 0};
}

// The EXIT_CODE column, as libbpf-tools words it: "0", "code 3", "signal 9 (SIGKILL)".
std::string describe(const Status& st) {
  if (st.sig == 0) return st.code == 0 ? "0" : "code " + std::to_string(st.code);
  std::string out = "signal " + std::to_string(st.sig);
  if (auto name = signal_name(static_cast<int>(st.sig)); !name.empty())
    out += " (" + std::string(name) + ")";
  if (st.core) out += ", core dumped";
  return out;
}

std::string seconds(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(ns) / 1e9);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  App app("exitsnoop",
          "Trace process termination: every process that exits, its exit code or fatal signal, "
          "and its age.",
          {.pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only processes (threads with -T) whose name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-t,--timestamp", o.timestamp, "Include a time column (HH:MM:SS)");
  cli.add_flag("-x,--failed", o.failed,
               "Trace error exits only: a non-zero exit code, or killed by a signal");
  cli.add_flag("-T,--threaded", o.threads,
               "Trace by thread: every thread's exit, not only the end of each process");

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<exitsnoop_bpf>();
    skel->rodata->threads = o.threads;
    skel->rodata->failed_only = o.failed;

    s.load_and_attach(skel, exitsnoop_hook_points(skel.get()));

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"TIME", "TIME", 8});
    cols.push_back({"PCOMM", "comm", 16});
    cols.push_back({"PID", "pid", 7});
    cols.push_back({"PPID", "ppid", 7});
    cols.push_back({"TID", "tid", 7});
    cols.push_back({"AGE(s)", "AGE(s)", 7});
    cols.push_back({"EXIT_CODE", "EXIT_CODE", 0});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(exitsnoop_event)) return false;
      const auto* e = static_cast<const exitsnoop_event*>(data);
      const Status st = decode(e->exit_code);
      // A task started after the event's clock read (never, barring a bug) ages 0.
      const std::uint64_t age = e->ktime_ns > e->start_ns ? e->ktime_ns - e->start_ns : 0;

      r.set_type("exit");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e->ktime_ns); });
      r.add_uint("pid", e->pid);
      r.add_uint("tid", e->tid);
      if (!s.add_task_context(r, e->ctx, true)) return false;
      r.add_uint("ppid", e->ppid);
      r.add_uint("uid", e->uid);
      r.add_bytes("comm", std::string_view(e->comm, strnlen(e->comm, sizeof(e->comm))));
      r.add_big_uint("age_ns", age);
      r.add_uint("status", e->exit_code);
      r.add_uint("exit_code", st.code);
      r.add_uint("sig", st.sig);
      r.add_raw("signal", std::string(signal_name(static_cast<int>(st.sig))));
      r.add_bool("core_dumped", st.core);
      r.add_bool("process_exit", e->flags & EXITSNOOP_F_PROCESS_EXIT);
      r.add_text_only("AGE(s)", [&] { return seconds(age); });
      r.add_text_only("EXIT_CODE", [&] { return describe(st); });
      return true;
    });
  });
}
