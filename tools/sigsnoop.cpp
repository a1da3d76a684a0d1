// sigsnoop: trace signals as the kernel generates them (or, with -k, kill(2) calls).
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/app.h"
#include "core/error.h"
#include "family/kill_record.h"
#include "core/signals.h"
#include "bpf/sigsnoop.h"
#include "sigsnoop.skel.h"
#include "sigsnoop_hooks.h"

using namespace snoopkit;

static_assert(sizeof(sigsnoop_event) == 48 + sizeof(sk_task_ctx) + 2 * SK_TASK_COMM_LEN);

namespace {

struct Options : SignalOptions {
  bool kill_only = false;
};

// TRACE_SIGNAL_* (include/trace/events/signal.h), in lower case.
const char* result_name(int result) {
  static const char* const kNames[] = {"delivered", "ignored", "already_pending", "overflow_fail",
                                       "lose_info"};
  return result >= 0 && result < 5 ? kNames[result] : "unknown";
}

std::string_view bounded(const char* s, std::size_t cap) {
  return {s, strnlen(s, cap)};
}

}  // namespace

int main(int argc, char** argv) {
  App app("sigsnoop",
          "Trace standard and real-time signals: who sent which signal to whom, and what became "
          "of it.",
          signal_sender_filters());
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-x,--failed", o.failed,
               "Trace failed signals only: not delivered (ignored, already pending, queue full), "
               "or with -k a failed kill(2)");
  cli.add_flag("-k,--kill", o.kill_only,
               "Trace signals issued by the kill(2) syscall only (prints \"kill\" records)");
  add_signal_options(app, o);

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<sigsnoop_bpf>();
    apply_signal_options(o, skel->rodata);

    // One mode or the other: the programs of the mode not wanted stay unloaded.
    s.load_and_attach(skel, sigsnoop_hook_points(skel.get(), o.kill_only));

    std::vector<Column> cols{{"TIME", "TIME", 8}, {"PID", "pid", 7},   {"COMM", "comm", 16},
                             {"SIG", "SIG", 9},   {"TPID", "TPID", 7}, {"RESULT", "RESULT", 0}};
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (o.kill_only) {
        if (size < sizeof(killsnoop_event)) return false;
        const auto* k = static_cast<const killsnoop_event*>(data);
        r.set_type("kill");
        s.stamp(r, k->ktime_ns);
        r.add_text_only("TIME", [&] { return s.clock().hms(k->ktime_ns); });
        add_kill_fields(r, *k, o.names);
        if (!s.add_task_context(r, k->ctx, true)) return false;
        return true;
      }
      if (size < sizeof(sigsnoop_event)) return false;
      const auto* e = static_cast<const sigsnoop_event*>(data);
      r.set_type("signal");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e->ktime_ns); });
      r.add_uint("pid", e->pid);
      r.add_uint("tid", e->tid);
      if (!s.add_task_context(r, e->ctx, true)) return false;
      r.add_uint("uid", e->uid);
      r.add_bytes("comm", bounded(e->comm, sizeof(e->comm)));
      r.add_int("tpid", e->tpid);
      r.add_bytes("tcomm", bounded(e->tcomm, sizeof(e->tcomm)));
      r.add_int("sig", e->sig);
      r.add_raw("signal", std::string(signal_name(e->sig)));
      r.add_int("si_code", e->si_code);
      r.add_int("si_errno", e->si_errno);
      r.add_bool("group", e->group);
      r.add_int("result", e->result);
      r.add_raw("result_name", result_name(e->result));
      r.add_text_only("SIG", [&] { return signal_text(e->sig, o.names); });
      r.add_text_only("TPID", [&] { return std::to_string(e->tpid); });
      r.add_text_only("RESULT", [&] { return std::to_string(e->result); });
      return true;
    });
  });
}
