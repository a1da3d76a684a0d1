#pragma once
// The "kill" record: one kill(2), tkill(2) or tgkill(2) call, as killsnoop
// and sigsnoop -k print it (from struct killsnoop_event, bpf/killsnoop.h).

#include <linux/types.h>

#include <string>

#include "killsnoop.h"
#include "record.h"

namespace snoopkit {

/// The SIG text column: the signal's name if names is set and it has one
/// ("SIGTERM"), else its number.
std::string signal_text(int sig, bool names);

/// Adds the fields of a "kill" record after its type and time stamp, and
/// the text-only cells SIG (names: as signal_text), TPID and RESULT.
void add_kill_fields(Record& r, const killsnoop_event& e, bool names);

}  // namespace snoopkit
