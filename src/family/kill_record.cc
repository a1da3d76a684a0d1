#include "family/kill_record.h"

#include <cstring>
#include <string_view>

#include "core/error.h"
#include "core/options.h"
#include "core/signals.h"

namespace snoopkit {
namespace {

const char* syscall_name(std::uint32_t s) {
  switch (s) {
    case KILLSNOOP_SYS_KILL:
      return "kill";
    case KILLSNOOP_SYS_TKILL:
      return "tkill";
    case KILLSNOOP_SYS_TGKILL:
      return "tgkill";
  }
  return "unknown";
}

}  // namespace

void add_signal_options(App& app, SignalOptions& o) {
  auto& cli = app.cli();
  cli.add_flag("-n,--name", o.names, "Show signal names (SIGTERM) instead of numbers");
  cli.add_option("-s,--signal", o.signal,
                 "Trace only this signal: a number (0-64) or a name (TERM, SIGTERM)")
      ->type_name("SIGNAL")
      ->check(non_empty());
  app.add_check([&o] {
    if (o.signal.empty()) return;
    o.sig = parse_signal(o.signal);
    if (!o.sig) throw UsageError("invalid signal '" + o.signal + "': expected 0-64 or a name");
  });
}

std::string signal_text(int sig, bool names) {
  std::string_view name = names ? signal_name(sig) : std::string_view{};
  return name.empty() ? std::to_string(sig) : std::string(name);
}

void add_kill_fields(Record& r, const killsnoop_event& e, bool names) {
  r.add_uint("pid", e.pid);
  r.add_uint("tid", e.tid);
  r.add_uint("uid", e.uid);
  r.add_bytes("comm", std::string_view(e.comm, strnlen(e.comm, sizeof(e.comm))));
  r.add_raw("syscall", syscall_name(e.syscall));
  r.add_int("tpid", e.tpid);
  r.add_int("ttid", e.ttid);
  r.add_int("sig", e.sig);
  r.add_raw("signal", std::string(signal_name(e.sig)));
  r.add_int("ret", e.ret);
  r.add_text_only("SIG", [&] { return signal_text(e.sig, names); });
  // The target as the caller named it: a thread for tkill/tgkill, else kill's pid argument.
  r.add_text_only("TPID", [&] { return std::to_string(e.syscall == KILLSNOOP_SYS_KILL ? e.tpid : e.ttid); });
  r.add_text_only("RESULT", [&] { return std::to_string(e.ret); });
}

}  // namespace snoopkit
