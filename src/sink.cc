#include "sink.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace snoopkit {

Sink::Status Sink::flush() {
  std::size_t off = 0;
  Status status = Status::kOk;
  while (off < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    const int err = n < 0 ? errno : EIO;  // write(2) of > 0 bytes returning 0: treat as I/O error
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      // A non-blocking fd (e.g. a shared O_NONBLOCK pipe): wait instead of
      // spinning or dropping output. POLLERR/POLLHUP wake us too, and the
      // next write then reports what happened.
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, -1) >= 0 || errno == EINTR) continue;
      errno_ = errno;
      status = Status::kError;
      break;
    }
    if (err == EPIPE) {
      status = Status::kClosed;
      break;
    }
    errno_ = err;
    status = Status::kError;
    break;
  }
  // Whatever was not written can never be delivered; dropping it keeps the
  // buffer from growing while the caller shuts down.
  buf_.clear();
  return status;
}

}  // namespace snoopkit
