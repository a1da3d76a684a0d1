#pragma once
// Options every tool shares, and the checks that run on them before
// anything is loaded into the kernel (a failure is a usage error, exit 2).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
class Validator;
}

namespace snoopkit {

struct CommonOptions {
  bool json = false;
  double duration_s = 0;  // 0: until SIGINT / SIGTERM
  int verbosity = 0;
  unsigned latency_ms = 50;
  std::string buffer_size = "1M";  // as typed; see buffer_bytes()
  bool perf_buffer = false;
  std::string btf_path;

  // Filters, registered by the tools that offer them (flags as libbpf-tools).
  std::string pid, tid, uid, cgroup, comm;
  std::string container;  // --container ID|NAME
  bool show_container = false;
  // Set by add_common_options from FilterFlags::container: the tool's events
  // carry the task context, so its skeletons need the kernel's struct offsets.
  bool task_context = false;
};

/// Which common filters a tool offers, with its own flag names and help.
struct FilterFlags {
  // --duration's names; libbpf-tools' block tools keep -d for DISK.
  std::string duration = "-d,--duration";
  std::string duration_positional;  // e.g. "duration": `biosnoop 10` traces 10 s
  std::string pid;     // e.g. "-p,--pid"; empty: not offered
  std::string tid;
  std::string uid;
  std::string cgroup;
  std::string comm;
  std::string comm_help = "Trace only commands whose name contains NAME";
  bool container = false;  // --container and --show-container (tools whose events describe a task)
};

/// Longest --duration / interval accepted: beyond it a deadline in
/// nanoseconds would not fit 64 bits (and no one traces for 30 years).
inline constexpr double kMaxSeconds = 1e9;

// The one rule for numbers on every command line: decimal digits only (no
// sign, no 0x, no spaces around them), never empty. Options that take a
// number use these validators; the filters parse with parse_decimal.

/// The digits of text as a number; nullopt if text is empty, holds anything
/// but the digits 0-9, or does not fit 64 bits.
std::optional<std::uint64_t> parse_decimal(std::string_view text);

/// For an unsigned option (`->transform(whole_number(1, 60))`): a decimal
/// number in [lo, hi].
CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi);

/// Accepts a decimal number of seconds ("10", "0.5") in (0, kMaxSeconds].
const CLI::Validator& seconds_validator();

/// Refuses an empty value: `-d ''` (an unset shell variable) must not mean
/// "no filter".
const CLI::Validator& non_empty();

/// Registers the common options (and the filters named in flags) on app.
void add_common_options(CLI::App& app, CommonOptions& opts, const FilterFlags& flags);

/// Checked, parsed values of CommonOptions, ready for the kernel.
struct Resolved {
  std::uint32_t pid = 0;  // 0: no filter
  std::uint32_t tid = 0;
  std::optional<std::uint32_t> uid;
  int cgroup_fd = -1;  // open cgroup v2 directory, or -1
  std::string comm;    // at most 15 bytes
  std::uint64_t buffer_bytes = 0;  // power of two, >= 4096
  std::string container;           // "" : no container filter
};

/// Checks and parses every option; throws UsageError with one clear line.
Resolved resolve(const CommonOptions& opts);

/// A PID (or TID) that names a live task; throws UsageError otherwise.
std::uint32_t parse_pid(const std::string& text, const char* what = "PID");
/// A numeric UID (any, with or without a passwd entry) or a user name that
/// exists; throws UsageError otherwise.
std::uint32_t parse_uid(const std::string& text);
/// Opens a cgroup v2 directory (O_RDONLY); throws UsageError otherwise.
int open_cgroup_v2(const std::string& path);
/// A --container value: a container id prefix or a name (at most 255 bytes,
/// no control bytes); throws UsageError otherwise.
std::string parse_container(const std::string& text);
/// "64K", "1M", "4096": bytes, rounded up to a power of two in [4 KiB, 1 GiB].
std::uint64_t parse_buffer_size(const std::string& text);

}  // namespace snoopkit
