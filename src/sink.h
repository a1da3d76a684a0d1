#pragma once
// The one place output bytes leave the process: a buffer flushed to a file
// descriptor with write(2), so that a pipe sees every batch promptly and a
// vanished reader or a full disk is reported, not a crash.

#include <string>

namespace snoopkit {

class Sink {
 public:
  enum class Status { kOk, kClosed /* EPIPE: reader went away */, kError /* errno kept */ };

  /// A sink over fd; it does not own fd.
  explicit Sink(int fd) : fd_(fd) {}
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
  int errno_ = 0;
  std::string buf_;
};

}  // namespace snoopkit
