#pragma once
// bpf_printk() output as binary trace events. bpfload makes a tracing
// instance of its own (<tracefs>/instances/snoopkit-bpfload-<pid>), enables
// only the bpf_trace:bpf_trace_printk event there, and reads that
// instance's per-CPU ring buffers through trace_pipe_raw: pages of
// length-prefixed events, each with the printing task's pid as the kernel
// recorded it. A message that holds a newline and then a whole, well-formed
// trace pipe line stays one message: nothing it prints can make a record of
// its own. And it consumes nothing of the host's trace pipe: other readers
// keep their lines.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snoopkit {

/// One bpf_printk() call.
struct PrintkSample {
  std::uint32_t pid = 0;  // the thread that printed (the kernel's pid)
  std::uint32_t cpu = 0;
  std::uint64_t ts = 0;      // trace clock ("local": ns, close to CLOCK_MONOTONIC)
  std::string_view message;  // the formatted string, without its NUL
};

/// The offset of the "bpf_string" __data_loc field in the event's format
/// file (<tracefs>/events/bpf_trace/bpf_trace_printk/format); nullopt when
/// the text has no such field of size 4.
std::optional<std::uint32_t> printk_string_field(std::string_view format);

/// What one ring buffer page held.
struct TracePageStats {
  std::uint64_t printk = 0;     // bpf_trace_printk events handed out
  std::uint64_t other = 0;      // other events (none in bpfload's own instance)
  std::uint64_t malformed = 0;  // events that did not parse, or a page cut short
  std::uint64_t missed = 0;     // events the kernel dropped before this page
  bool missed_unknown = false;  // it dropped some and did not say how many
};

/// Parses one page read from trace_pipe_raw (the 64-bit layout: u64 time
/// stamp, local_t commit, then events with 32-bit headers). Calls on_event
/// for each bpf_trace_printk event (type event_id); adds to stats.
void parse_trace_page(std::string_view page, std::uint16_t event_id, std::uint32_t string_field,
                      std::uint32_t cpu, const std::function<void(const PrintkSample&)>& on_event,
                      TracePageStats& stats);

/// The thread's name from /proc, or "<...>" when it is gone (as the trace
/// pipe shows a task it has no name for).
std::string task_comm(std::uint32_t pid);

/// "5678.123456": seconds with microseconds, as the trace pipe prints a
/// time stamp of the "local" trace clock.
std::string format_trace_seconds(std::uint64_t ns);

class PrintkEvents {
 public:
  using Handler = std::function<void(const PrintkSample&)>;

  /// Makes the instance, enables the event there and opens every CPU's
  /// trace_pipe_raw; throws Error (and leaves nothing behind) when the
  /// kernel refuses any of it. Instances of bpfload processes that are gone
  /// are removed first.
  explicit PrintkEvents(const std::string& tracefs_root);
  /// Closes the buffers and removes the instance.
  ~PrintkEvents();
  PrintkEvents(const PrintkEvents&) = delete;
  PrintkEvents& operator=(const PrintkEvents&) = delete;

  /// Hands every event pending on every CPU to on_event (which must not
  /// throw); returns how many. Throws Error on a read error.
  std::size_t drain(const Handler& on_event);
  /// Events the kernel dropped (a full buffer) so far; when it did not say
  /// how many, each such page counts one.
  std::uint64_t lost() const { return stats_.missed; }
  /// Events that did not parse (counted, never dropped silently).
  std::uint64_t malformed() const { return stats_.malformed; }

 private:
  void remove_instance() noexcept;

  std::string dir_;
  std::uint16_t event_id_ = 0;
  std::uint32_t string_field_ = 0;
  std::vector<int> fds_;             // per CPU
  std::vector<std::uint32_t> cpus_;  // the CPU of each fd
  std::vector<char> page_;
  std::size_t max_pages_ = 0;  // per CPU and drain
  TracePageStats stats_;
};

}  // namespace snoopkit
