// killsnoop: trace kill(2), tkill(2) and tgkill(2): who signals whom, and the result.
#include <cstddef>
#include <optional>
#include <string>

#include "app.h"
#include "error.h"
#include "kill_record.h"
#include "killsnoop.h"
#include "killsnoop.skel.h"
#include "signals.h"

using namespace snoopkit;

static_assert(sizeof(killsnoop_event) == 40 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool failed = false, names = false;
  std::string signal;
  std::optional<int> sig;  // -s, parsed
};

}  // namespace

int main(int argc, char** argv) {
  App app("killsnoop",
          "Trace signals sent with kill(2), tkill(2) and tgkill(2): sender, target, signal and "
          "result.",
          {.pid = "-p,--pid",
           .tid = "--tid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "--comm",
           .comm_help = "Trace only senders whose command name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-x,--failed", o.failed, "Trace failed calls only");
  cli.add_flag("-n,--name", o.names, "Show signal names (SIGTERM) instead of numbers");
  cli.add_option("-s,--signal", o.signal,
                 "Trace only this signal: a number (0-64) or a name (TERM, SIGTERM)")
      ->type_name("SIGNAL");
  app.add_check([&] {
    if (o.signal.empty()) return;
    o.sig = parse_signal(o.signal);
    if (!o.sig) throw UsageError("invalid signal '" + o.signal + "': expected 0-64 or a name");
  });

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<killsnoop_bpf>();
    skel->rodata->failed_only = o.failed;
    skel->rodata->filter_sig = o.sig.has_value();
    skel->rodata->targ_sig = o.sig.value_or(0);

    auto& p = skel->progs;
    s.load_and_attach(skel, {syscall_hook_point("kill", p.tp_enter_kill, p.tp_exit, true),
                             syscall_hook_point("tkill", p.tp_enter_tkill, p.tp_exit, false),
                             syscall_hook_point("tgkill", p.tp_enter_tgkill, p.tp_exit, false)});

    std::vector<Column> cols{{"TIME", "TIME", 8}, {"PID", "pid", 7},   {"COMM", "comm", 16},
                             {"SIG", "SIG", 9},   {"TPID", "TPID", 7}, {"RESULT", "RESULT", 0}};
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(killsnoop_event)) return false;
      const auto* e = static_cast<const killsnoop_event*>(data);
      r.set_type("kill");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e->ktime_ns); });
      add_kill_fields(r, *e, o.names);
      if (!s.add_task_context(r, e->ctx, true)) return false;
      return true;
    });
  });
}
