#pragma once
// What killsnoop and sigsnoop share: their signal options, and the "kill"
// record, one kill(2), tkill(2) or tgkill(2) call, as killsnoop and
// sigsnoop -k print it (from struct killsnoop_event, bpf/killsnoop.h).

#include <linux/types.h>

#include <optional>
#include <string>

#include "core/app.h"
#include "bpf/killsnoop.h"
#include "core/record.h"

namespace snoopkit {

/// The options both tools have. A tool's Options derives from this, so its
/// code reads o.failed, o.names and o.sig.
struct SignalOptions {
  bool failed = false;     // -x: each tool adds it, with its own help text
  bool names = false;      // -n, --name
  std::string signal;      // -s, --signal, as given
  std::optional<int> sig;  // -s, parsed by the check add_signal_options registers
};

/// The common filters both tools offer: by sender (its pid, thread, user,
/// cgroup or command name).
inline FilterFlags signal_sender_filters() {
  return {.pid = "-p,--pid",
          .tid = "--tid",
          .uid = "-u,--uid",
          .cgroup = "-c,--cgroup",
          .comm = "--comm",
          .comm_help = "Trace only senders whose command name contains NAME",
          .container = true};
}

/// Adds -n/--name and -s/--signal, and the check that parses -s (a usage
/// error for anything but a number 0-64 or a signal name).
void add_signal_options(App& app, SignalOptions& o);

/// Writes -x and -s into a skeleton's rodata (failed_only, filter_sig,
/// targ_sig). Call between open and load.
template <class Rodata>
void apply_signal_options(const SignalOptions& o, Rodata* ro) {
  ro->failed_only = o.failed;
  ro->filter_sig = o.sig.has_value();
  ro->targ_sig = o.sig.value_or(0);
}

/// The SIG text column: the signal's name if names is set and it has one
/// ("SIGTERM"), else its number.
std::string signal_text(int sig, bool names);

/// Adds the fields of a "kill" record after its type and time stamp, and
/// the text-only cells SIG (names: as signal_text), TPID and RESULT.
void add_kill_fields(Record& r, const killsnoop_event& e, bool names);

}  // namespace snoopkit
