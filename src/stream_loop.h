#pragma once
// The poll loop of a tracing run whose sources are not a skeleton's event
// buffer (bpfload: any number of ring buffers and the trace pipe), with the
// policy of Session's loop: signals from a signalfd, --duration, a drain on
// every wake-up and at least every --latency ms, one flush per batch, a
// reader that went away (EPIPE) ends the run quietly with exit 0, a final
// bounded drain and the summary at a stop.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "clock.h"
#include "options.h"
#include "output.h"
#include "record.h"
#include "sink.h"

namespace snoopkit {

class StreamLoop {
 public:
  /// Sets up stdout, the stop signals (blocked by App::run) and epoll.
  explicit StreamLoop(const CommonOptions& opts);
  ~StreamLoop();
  StreamLoop(const StreamLoop&) = delete;
  StreamLoop& operator=(const StreamLoop&) = delete;

  /// The buffer over stdout that writers render into.
  Sink& sink() { return sink_; }
  /// Adds "time" (RFC 3339 UTC) and "ktime_ns" for a CLOCK_MONOTONIC time.
  void stamp(Record& r, std::uint64_t ktime_ns) const;
  /// Adds fd to the set a wake-up waits for.
  void watch(int fd);

  /// Counts one event received from the kernel (for the summary).
  void received() { ++events_; }
  /// True while stdout takes data (after EPIPE, records are dropped).
  bool writable() const;
  /// Renders r through w (a writer over sink()) and counts it as printed.
  void write(Writer& w, const Record& r);

  /// Flushes what writers put in the buffer so far (text headers), logs
  /// "ready: <what>; ..." on stderr, then polls: drain() runs after every
  /// wake-up, every --latency ms, and once more at the stop. drain() may
  /// throw Error (exit 1). Returns the exit code.
  int run(const std::string& what, const std::function<void()>& drain);

 private:
  bool wait(int timeout_ms);
  bool batch_done();
  int finish();

  CommonOptions opts_;
  Clock clock_;
  Sink sink_;
  std::unique_ptr<JsonWriter> summary_writer_;
  Sink::Status out_ = Sink::Status::kOk;
  int sigfd_ = -1, ep_ = -1;
  std::uint64_t start_ = 0, deadline_ = 0, events_ = 0, printed_ = 0;
  std::string stop_reason_;
};

}  // namespace snoopkit
