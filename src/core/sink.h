#pragma once
// The one place output bytes leave the process: a buffer flushed to a file
// descriptor with write(2), so that a pipe sees every batch promptly and a
// vanished reader or a full disk is reported, not a crash.

#include <sys/types.h>

#include <string>
#include <string_view>

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
  /// Closes the private descriptor make_interruptible may have opened.
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  /// If fd is a pipe, a FIFO or a socket, makes the sink's writes to it
  /// non-blocking, so that a reader that stops reading cannot hold the
  /// process past wake_fd (a signalfd) becoming readable. fd's own flags
  /// are never changed: its open file description is shared with the shell
  /// and other writers. A pipe is opened again through /proc/self/fd, which
  /// gives the sink an open file description of its own; a socket is sent
  /// to with MSG_DONTWAIT. Terminals and files are left alone, and so is a
  /// pipe that cannot be opened again (writes then block).
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
  ssize_t write_some(const char* data, std::size_t size);

  int fd_;
  int wake_fd_ = -1;
  int private_fd_ = -1;  // fd_'s pipe, opened again non-blocking, or -1
  bool socket_ = false;  // fd_ is a socket: send() with MSG_DONTWAIT
  int wait_limit_ms_ = -1;
  int errno_ = 0;
  std::string buf_;
};

/// Writes text to stdout in full (--help, --version, a tool's list); throws
/// Error if stdout fails. A reader that went away (EPIPE) is not an error.
void write_stdout(std::string_view text);

}  // namespace snoopkit
