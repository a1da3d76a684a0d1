#pragma once
// The one place output bytes leave the process: a buffer flushed to a file
// descriptor with write(2), so that a pipe sees every batch promptly and a
// vanished reader or a full disk is reported, not a crash.

#include <string>

namespace snoopkit {

class Sink {
 public:
  enum class Status {
    kOk,
    kClosed,       // EPIPE: the reader went away
    kError,        // any other write error; errno kept in error()
    kInterrupted,  // the wake fd became readable (or the wait timed out)
                   // before the reader took everything; the rest stays buffered
  };

  /// A sink over fd; it does not own fd.
  explicit Sink(int fd) : fd_(fd) {}
  /// Restores the fd's flags if make_interruptible changed them.
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  /// If fd is a pipe or a socket, makes writes to it non-blocking, so that a
  /// reader that stops reading cannot hold the process past wake_fd (a
  /// signalfd) becoming readable. Terminals and files are left alone.
  void make_interruptible(int wake_fd);
  /// Bounds how long flush() waits for a stalled reader (-1: forever).
  void set_wait_limit_ms(int ms) { wait_limit_ms_ = ms; }

  /// The buffer writers append to.
  std::string& buffer() { return buf_; }
  /// Writes everything buffered, retrying short writes and EINTR.
  Status flush();
  /// Flushes if the buffer has grown past the batch size.
  Status maybe_flush() { return buf_.size() >= kFlushAt ? flush() : Status::kOk; }
  /// errno of the last kError.
  int error() const { return errno_; }

 private:
  static constexpr std::size_t kFlushAt = 64 * 1024;
  int fd_;
  int wake_fd_ = -1;
  int saved_flags_ = -1;  // fd flags before make_interruptible, or -1
  int wait_limit_ms_ = -1;
  int errno_ = 0;
  std::string buf_;
};

}  // namespace snoopkit
