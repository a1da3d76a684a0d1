#include "sink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace snoopkit {

Sink::~Sink() {
  if (saved_flags_ >= 0) fcntl(fd_, F_SETFL, saved_flags_);
}

void Sink::make_interruptible(int wake_fd) {
  wake_fd_ = wake_fd;
  struct stat st {};
  if (fstat(fd_, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) return;
  // A terminal is shared with the shell, so it stays blocking; a pipe's
  // write end is ours alone, and its flags are restored on destruction.
  int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || (flags & O_NONBLOCK)) return;
  if (fcntl(fd_, F_SETFL, flags | O_NONBLOCK) == 0) saved_flags_ = flags;
}

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
      // Wait for the reader, or for the wake fd (a stop signal). POLLERR /
      // POLLHUP wake us too, and the next write reports what happened.
      pollfd pfds[2] = {{fd_, POLLOUT, 0}, {wake_fd_, POLLIN, 0}};
      int r = ::poll(pfds, wake_fd_ >= 0 ? 2 : 1, wait_limit_ms_);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        errno_ = errno;
        status = Status::kError;
        break;
      }
      if (r == 0 || (pfds[1].revents & POLLIN)) {
        // Keep what is unwritten: the caller decides whether to try again.
        buf_.erase(0, off);
        return Status::kInterrupted;
      }
      continue;
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
