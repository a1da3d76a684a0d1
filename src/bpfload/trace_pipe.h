#pragma once
// The kernel's trace pipe (<tracefs>/trace_pipe): where bpf_printk() output
// goes. It is one global, consuming stream: every reader on the host takes
// lines from the same buffer, and it carries every bpf_printk() of every
// BPF program, and every enabled trace event, not only one program's.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace snoopkit {

/// One line of the trace pipe, e.g.
/// "            bash-1234    [003] d..31  5678.123456: bpf_trace_printk: hello".
struct TraceLine {
  std::string_view comm;  // the task name (at most 15 bytes), "<...>" when unknown
  std::uint32_t pid = 0;  // the thread that printed
  std::uint32_t cpu = 0;
  std::string_view flags;    // irq/preempt state ("d..31"), "" when the kernel left it out
  std::string_view ts;       // trace clock time stamp as printed ("5678.123456")
  std::string_view event;    // "bpf_trace_printk" for bpf_printk() output
  std::string_view message;  // what follows "<event>: "
};

/// Parses one line (without its '\n'); nullopt if it is not in the trace
/// pipe's format (e.g. the second line of a message that held a '\n').
std::optional<TraceLine> parse_trace_line(std::string_view line);

/// The event name bpf_printk() (bpf_trace_printk, bpf_trace_vprintk) writes.
inline constexpr std::string_view kPrintkEvent = "bpf_trace_printk";

using LineHandler = std::function<void(std::string_view line)>;

/// Joins trace pipe lines into records. A message that held a '\n' reaches
/// the pipe as several lines: a line that does not parse as a record header
/// continues the record before it (joined with '\n'), so it never becomes
/// a record with a pid and comm of its own. A forged line that does parse
/// as a header cannot be told apart from a real one (see docs/RELIABILITY.md).
class TraceRecordJoiner {
 public:
  /// on_record gets each whole record; stray: a line with no record before it.
  TraceRecordJoiner(std::function<void(const TraceLine&)> on_record, LineHandler stray)
      : on_record_(std::move(on_record)), stray_(std::move(stray)) {}
  /// Takes one line (without its '\n').
  void line(std::string_view l);
  /// Hands out the record still open. The kernel writes whole records per
  /// read(2), so the end of a drain ends a record.
  void flush();

 private:
  std::function<void(const TraceLine&)> on_record_;
  LineHandler stray_;
  std::string text_;  // the open record's header line, then its continuations
  bool open_ = false;
};

/// A non-blocking reader of <tracefs>/trace_pipe that hands out whole lines.
class TracePipe {
 public:
  /// Opens the trace pipe under tracefs_root; throws Error.
  explicit TracePipe(const std::string& tracefs_root);
  ~TracePipe();
  TracePipe(const TracePipe&) = delete;
  TracePipe& operator=(const TracePipe&) = delete;

  /// Becomes readable (epoll) when the kernel has output.
  int fd() const { return fd_; }
  /// Reads what is pending, at most about max_bytes (the pipe never empties
  /// in a storm), and calls on_line for each complete line. Returns the
  /// bytes read; throws Error on a read error.
  std::size_t drain(const LineHandler& on_line, std::size_t max_bytes = 1 << 20);

  /// False if <tracefs_root>/tracing_on reads 0: then the kernel drops
  /// bpf_printk() output. True when it cannot be read.
  static bool tracing_on(const std::string& tracefs_root);

 private:
  int fd_ = -1;
  std::string pending_;
};

}  // namespace snoopkit
