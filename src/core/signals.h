#pragma once
// Signal numbers and their names, as the kernel numbers them (x86, arm and
// the generic syscall ABI; alpha, mips, parisc and sparc number some
// signals differently and are not covered).

#include <signal.h>

#include <optional>
#include <string_view>

namespace snoopkit {

/// The highest signal number (_NSIG - 1 on x86 and arm64).
inline constexpr int kMaxSignal = 64;

/// "SIGTERM" for 15; "SIG34" for a real-time signal (32..64: libcs reserve
/// some of them and disagree on SIGRTMIN, so a bare number is the only
/// unambiguous name); "" for 0 (an existence check) or a number that is not
/// a signal.
std::string_view signal_name(int sig);

/// The signals that stop a run: SIGINT, SIGTERM, SIGHUP.
const sigset_t& stop_signals();

/// A signal given on the command line: "9", "KILL", "SIGKILL", "sigkill",
/// "SIG34" or "0"; nullopt for anything else (or a number above kMaxSignal).
std::optional<int> parse_signal(std::string_view text);

}  // namespace snoopkit
