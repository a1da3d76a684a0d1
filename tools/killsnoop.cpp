// killsnoop: trace kill(2), tkill(2) and tgkill(2): who signals whom, and the result.
#include <cstddef>
#include <optional>
#include <string>

#include "core/app.h"
#include "core/error.h"
#include "family/kill_record.h"
#include "bpf/killsnoop.h"
#include "killsnoop.skel.h"
#include "killsnoop_hooks.h"
#include "core/signals.h"

using namespace snoopkit;

static_assert(sizeof(killsnoop_event) == 40 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

namespace {

struct Options : SignalOptions {};

}  // namespace

int main(int argc, char** argv) {
  App app("killsnoop",
          "Trace signals sent with kill(2), tkill(2) and tgkill(2): sender, target, signal and "
          "result.",
          signal_sender_filters());
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-x,--failed", o.failed, "Trace failed calls only");
  add_signal_options(app, o);

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<killsnoop_bpf>();
    apply_signal_options(o, skel->rodata);

    s.load_and_attach(skel, killsnoop_hook_points(skel.get()));

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
