#pragma once
// The run loop every tracing run shares (a tool's Session, bpfload): stdout
// through one buffer, stop signals from a signalfd, --duration, a drain on
// every wake-up and at least every --latency ms, a bound on one drain, one
// flush per batch, loss reports when the caller has a loss counter, and the
// end of a run: a final bounded drain, the summary, the exit code. A reader
// of stdout that went away (EPIPE) ends the run quietly with exit 0; any
// other write error is an Error.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/options.h"
#include "core/output.h"
#include "core/record.h"
#include "core/sink.h"

namespace snoopkit {

class RunLoop {
 public:
  /// Reads the kernel's running count of events it could not send.
  using LossCounter = std::function<std::uint64_t()>;

  /// Sets up stdout, the stop signals (blocked by App::run) and epoll.
  /// clock stamps records and must outlive the loop. With a loss counter,
  /// new losses are reported after each batch ("lost" records in JSON, a
  /// warning in text) and the summary line counts them; without one, the
  /// JSON summary says "lost": 0.
  RunLoop(const CommonOptions& opts, Clock& clock, LossCounter lost = {});
  ~RunLoop();
  RunLoop(const RunLoop&) = delete;
  RunLoop& operator=(const RunLoop&) = delete;

  /// The buffer over stdout that writers render into.
  Sink& sink() { return sink_; }
  /// Adds "time" (RFC 3339 UTC) and "ktime_ns" for a CLOCK_MONOTONIC time.
  void stamp(Record& r, std::uint64_t ktime_ns) const { clock_.stamp(r, ktime_ns); }
  /// How a watched fd wakes wait(). kLevel: whenever it has data. kEdge:
  /// only when its kernel object sends a wake-up. Event buffers are watched
  /// kEdge: their BPF side wakes the reader only per quarter of the ring
  /// (the perf buffer: per watermark), and a reader woken whenever the
  /// buffer is not empty would, under a steady stream, come back for every
  /// few events and spend its CPU on wake-ups, flushes and small writes.
  /// What arrives between wake-ups is drained within --latency ms.
  enum class Wake { kLevel, kEdge };
  /// Adds fd to the set a wait() wakes for.
  void watch(int fd, Wake wake = Wake::kLevel);

  /// Counts n events received from the kernel (the summary's "events").
  void received(std::uint64_t n = 1) { events_ += n; }
  /// True while stdout takes data (after EPIPE, records are dropped).
  bool writable() const;
  /// Renders r through w (a writer over sink()) if stdout takes data,
  /// counts it as printed, and flushes past the batch size.
  void write(Writer& w, const Record& r);

  /// Starts a drain; then more() says whether one more event fits in it.
  /// In a storm a ring buffer never empties, and the loop must still flush,
  /// report loss and notice signals. more() is noexcept: it runs in
  /// libbpf's callbacks.
  void begin_drain();
  bool more() noexcept;

  /// Flushes what writers put in the buffer so far (a text header), logs
  /// "ready: <what>; <plan>" ("tracing for N s" with --duration), and
  /// starts the run's clock.
  void ready(const std::string& what, const std::string& plan = "Ctrl-C to end");
  std::uint64_t start() const { return start_; }

  /// Waits up to timeout_ms (-1: no limit), less if --duration ends sooner,
  /// for a watched fd or a stop signal. Returns false when the run must stop.
  bool wait(int timeout_ms);
  /// Sets why the run ends (unless a reason is set); returns false.
  bool stop(std::string why);
  /// After a drain or a report: loss, then flush. Returns false when the
  /// reader of stdout went away; throws Error on any other write error.
  bool batch_done();
  /// From here on a stalled reader gets only a bounded wait.
  void stopping();
  /// The end of a run: loss, the summary (JSON record, stderr line), the
  /// final flush. Returns the exit code.
  int finish();

  /// The event loop: drain() after every wake-up and every --latency ms
  /// (at once again after a drain that more() cut short: the buffer still
  /// holds events, and a kEdge fd will not say so) until a stop, then once
  /// more with a bounded wait. drain() may throw
  /// Error. Returns false if the reader of stdout went away (exit 0, no
  /// summary); true when the caller should finish().
  bool pump(const std::function<void()>& drain);

  /// Milliseconds from now until the CLOCK_MONOTONIC time t (0 if past),
  /// as one wait() takes them.
  static int ms_until(std::uint64_t t);

 private:
  void report_lost();

  CommonOptions opts_;
  Clock& clock_;
  LossCounter lost_;
  Sink sink_;
  std::unique_ptr<JsonWriter> summary_writer_;
  Sink::Status out_ = Sink::Status::kOk;
  int sigfd_ = -1, ep_ = -1;
  std::uint64_t start_ = 0, deadline_ = 0, events_ = 0, printed_ = 0, lost_total_ = 0;
  bool cut_short_ = false;  // more() ended a drain since the last wait
  std::uint64_t batch_ = 0, batch_start_ = 0;
  std::string stop_reason_;
};

}  // namespace snoopkit
