#include "core/options.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace snoopkit {
namespace {

// Where cgroup v2 is mounted on this host, for the error message.
std::string cgroup2_mount() {
  std::ifstream mounts("/proc/self/mounts");
  std::string dev, dir, type;
  std::string rest;
  while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
    if (type == "cgroup2") return dir;
  return {};
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  std::uint64_t v = 0;
  if (!all_digits(text)) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

const CLI::Validator& non_empty() {
  // "-p ''" (an unset shell variable) must not silently mean "no filter".
  static const CLI::Validator v(
      [](std::string& s) { return s.empty() ? std::string("must not be empty") : std::string(); },
      "", "non-empty");
  return v;
}

CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi) {
  const std::string range = "expected a whole number from " + std::to_string(lo) + " to " +
                            std::to_string(hi) + " (decimal digits only)";
  // A transform, not a check: CLI11's own conversion reads "0x10" as hex and
  // "010" as octal, so it is handed the canonical decimal form.
  return CLI::Validator(
      [=](std::string& s) {
        auto v = parse_decimal(s);
        if (!v || *v < lo || *v > hi) return range + ", not '" + s + "'";
        s = std::to_string(*v);
        return std::string();
      },
      "", "whole number");
}

const CLI::Validator& seconds_validator() {
  static const CLI::Validator v(
      [](std::string& s) {
        // Decimal only: digits, optionally a point and more digits (no sign,
        // exponent, hex or spaces, which std::stod would take).
        const std::size_t dot = s.find('.');
        const bool decimal = all_digits(s.substr(0, dot)) &&
                             (dot == std::string::npos || all_digits(s.substr(dot + 1)));
        const double d = decimal ? std::strtod(s.c_str(), nullptr) : 0;  // HUGE_VAL if too long
        if (!decimal || !std::isfinite(d) || d <= 0 || d > kMaxSeconds)
          return "expected seconds in (0, " + std::to_string(static_cast<long>(kMaxSeconds)) +
                 "] as a decimal number (e.g. 10 or 0.5), not '" + s + "'";
        return std::string();
      },
      "", "seconds");
  return v;
}

void add_common_options(CLI::App& app, CommonOptions& o, const FilterFlags& f) {
  app.add_flag("-j,--json", o.json, "Print one JSON object per line (see the JSON schema)");
  app.add_option(f.duration, o.duration_s, "Trace for SECONDS, then exit")
      ->type_name("SECONDS")
      ->check(seconds_validator());
  if (!f.duration_positional.empty())
    app.add_option(f.duration_positional, o.duration_s, "Trace for SECONDS (same as --duration)")
        ->type_name("SECONDS")
        ->check(seconds_validator());
  app.add_flag("-v,--verbose", o.verbosity, "Debug output on stderr; -vv adds libbpf's");
  app.add_option("--latency", o.latency_ms,
                 "Longest time an event may wait before it is printed, in ms (default 50)")
      ->type_name("MS")
      ->transform(whole_number(1, 10000));
  app.add_option("--buffer-size", o.buffer_size,
                 "Kernel event buffer size, e.g. 256K, 4M (default 1M; rounded up to a power of 2)")
      ->type_name("SIZE");
  app.add_flag("--perf-buffer", o.perf_buffer,
               "Use the perf buffer instead of the BPF ring buffer (automatic before Linux 5.8)");
  app.add_option("--btf", o.btf_path,
                 "Kernel BTF file, for kernels without /sys/kernel/btf/vmlinux")
      ->type_name("PATH");
  if (!f.pid.empty()) app.add_option(f.pid, o.pid, "Trace this process ID only")->type_name("PID")->check(non_empty());
  if (!f.tid.empty()) app.add_option(f.tid, o.tid, "Trace this thread ID only")->type_name("TID")->check(non_empty());
  if (!f.uid.empty()) app.add_option(f.uid, o.uid, "Trace this user ID (or name) only")->type_name("UID")->check(non_empty());
  if (!f.cgroup.empty())
    app.add_option(f.cgroup, o.cgroup, "Trace processes in this cgroup v2 directory (and below)")
        ->type_name("PATH")
        ->check(non_empty());
  if (!f.comm.empty())
    app.add_option(f.comm, o.comm, f.comm_help)->type_name("NAME")->check(non_empty());
  o.task_context = f.container;
  if (f.container) {
    app.add_option("--container", o.container,
                   "Trace only this container: a prefix of its id, or its whole name")
        ->type_name("ID|NAME")
        ->check(non_empty());
    app.add_flag("--show-container", o.show_container,
                 "Add a CONTAINER column: the container's name, else its 12-character id");
  }
}

std::uint32_t parse_pid(const std::string& text, const char* what) {
  auto v = parse_decimal(text);
  if (!v || *v == 0 || *v > 0x3fffffff)
    throw UsageError(std::string("invalid ") + what + " '" + text + "': expected a positive integer");
  if (access(("/proc/" + std::to_string(*v)).c_str(), F_OK) != 0)
    throw UsageError(std::string("no such ") + what + ": " + text);
  return static_cast<std::uint32_t>(*v);
}

std::uint32_t parse_uid(const std::string& text) {
  passwd pw{}, *res = nullptr;
  char buf[4096];
  if (auto v = parse_decimal(text)) {
    // A number needs no passwd entry: a container's users are rarely in
    // the host's. (uid_t -1 is "no UID" to the kernel.)
    if (*v >= 0xffffffffu) throw UsageError("invalid UID '" + text + "': out of range");
    return static_cast<std::uint32_t>(*v);
  }
  if (text.empty() || getpwnam_r(text.c_str(), &pw, buf, sizeof(buf), &res) != 0 || !res)
    throw UsageError("invalid UID '" + text + "': not a number or a known user name");
  return res->pw_uid;
}

int open_cgroup_v2(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw UsageError("cgroup '" + path + "': " + std::strerror(errno));
  struct statfs st {};
  if (fstatfs(fd, &st) != 0 || st.f_type != CGROUP2_SUPER_MAGIC) {
    close(fd);
    std::string where = cgroup2_mount();
    throw UsageError("'" + path + "' is not a cgroup v2 directory" +
                     (where.empty() ? std::string() : " (cgroup v2 is mounted at " + where + ")"));
  }
  return fd;
}

std::string parse_container(const std::string& text) {
  constexpr std::size_t kMaxContainer = 255;
  if (text.empty() || text.size() > kMaxContainer)
    throw UsageError("invalid --container '" + text + "': expected a container id prefix or name of 1 to 255 bytes");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f)
      throw UsageError("invalid --container: a container id or name has no control characters");
  return text;
}

std::uint64_t parse_buffer_size(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  auto num = parse_decimal(text.substr(0, i));
  std::string unit = text.substr(i);
  std::uint64_t mult = 1;
  if (unit == "K" || unit == "k" || unit == "KiB") mult = 1ull << 10;
  else if (unit == "M" || unit == "m" || unit == "MiB") mult = 1ull << 20;
  else if (unit == "G" || unit == "g" || unit == "GiB") mult = 1ull << 30;
  else if (!unit.empty()) num.reset();
  constexpr std::uint64_t kMin = 4096, kMax = 1ull << 30;
  if (!num || *num == 0 || *num > kMax / mult || *num * mult > kMax)
    throw UsageError("invalid --buffer-size '" + text + "': expected a size like 256K or 4M, at most 1G");
  std::uint64_t bytes = *num * mult, p = kMin;
  while (p < bytes) p <<= 1;
  return p;
}

Resolved resolve(const CommonOptions& o) {
  Resolved r;
  if (!o.pid.empty()) r.pid = parse_pid(o.pid);
  if (!o.tid.empty()) r.tid = parse_pid(o.tid, "TID");
  if (!o.uid.empty()) r.uid = parse_uid(o.uid);
  if (!o.comm.empty()) {
    if (o.comm.size() > 15)
      throw UsageError("name '" + o.comm + "' is longer than 15 bytes: a command name never matches it");
    r.comm = o.comm;
  }
  r.buffer_bytes = parse_buffer_size(o.buffer_size);
  if (!o.container.empty()) r.container = parse_container(o.container);
  // Last: the only check that holds a resource.
  if (!o.cgroup.empty()) r.cgroup_fd = open_cgroup_v2(o.cgroup);
  return r;
}

}  // namespace snoopkit
