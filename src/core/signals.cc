#include "core/signals.h"

#include <array>
#include <charconv>
#include <string>

namespace snoopkit {
namespace {

// Index = signal number; 0 has no name.
constexpr std::array<std::string_view, 32> kNames = {
    "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

// "SIG32" .. "SIG64", built once.
const std::array<std::string, kMaxSignal + 1>& rt_names() {
  static const auto names = [] {
    std::array<std::string, kMaxSignal + 1> a;
    for (int s = static_cast<int>(kNames.size()); s <= kMaxSignal; ++s)
      a[s] = "SIG" + std::to_string(s);
    return a;
  }();
  return names;
}

// Other names the kernel headers give the same numbers.
struct Alias {
  std::string_view name;
  int sig;
};
constexpr Alias kAliases[] = {{"SIGIOT", 6}, {"SIGCLD", 17}, {"SIGPOLL", 29}, {"SIGUNUSED", 31}};

std::optional<int> parse_number(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0 ||
      v > kMaxSignal)
    return std::nullopt;
  return v;
}

}  // namespace

const sigset_t& stop_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&s, sig);
    return s;
  }();
  return set;
}

std::string_view signal_name(int sig) {
  if (sig <= 0 || sig > kMaxSignal) return {};
  if (sig < static_cast<int>(kNames.size())) return kNames[sig];
  return rt_names()[sig];
}

std::optional<int> parse_signal(std::string_view text) {
  if (!text.empty() && text.front() >= '0' && text.front() <= '9') return parse_number(text);
  std::string upper;
  for (char c : text) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  if (upper.rfind("SIG", 0) != 0) upper.insert(0, "SIG");
  for (int s = 1; s <= kMaxSignal; ++s)
    if (signal_name(s) == upper) return s;
  for (const Alias& a : kAliases)
    if (a.name == upper) return a.sig;
  return std::nullopt;
}

}  // namespace snoopkit
