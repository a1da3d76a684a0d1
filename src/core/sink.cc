#include "core/sink.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace snoopkit {

Sink::~Sink() {
  if (private_fd_ >= 0) close(private_fd_);
}

void Sink::make_interruptible(int wake_fd) {
  wake_fd_ = wake_fd;
  struct stat st {};
  if (fstat(fd_, &st) != 0) return;
  if (S_ISSOCK(st.st_mode)) {
    socket_ = true;
    return;
  }
  if (!S_ISFIFO(st.st_mode) || private_fd_ >= 0) return;
  // Setting O_NONBLOCK on fd_ would change it for everyone who shares the
  // pipe, and leave it set if we are killed. A FIFO with no reader left
  // fails with ENXIO: then the writes go to fd_ and meet EPIPE.
  const std::string path = "/proc/self/fd/" + std::to_string(fd_);
  private_fd_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (private_fd_ < 0)
    spdlog::debug("cannot open stdout's pipe again ({}): a stalled reader can delay exit",
                  std::strerror(errno));
}

ssize_t Sink::write_some(const char* data, std::size_t size) {
  if (socket_) return ::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  return ::write(private_fd_ >= 0 ? private_fd_ : fd_, data, size);
}

Sink::Status Sink::flush() {
  std::size_t off = 0;
  Status status = Status::kOk;
  while (off < buf_.size()) {
    const ssize_t n = write_some(buf_.data() + off, buf_.size() - off);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    const int err = n < 0 ? errno : EIO;  // write(2) of > 0 bytes returning 0: treat as I/O error
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      // Wait for the reader, or for the wake fd (a stop signal). POLLERR /
      // POLLHUP wake us too, and the next write reports what happened.
      pollfd pfds[2] = {{private_fd_ >= 0 ? private_fd_ : fd_, POLLOUT, 0}, {wake_fd_, POLLIN, 0}};
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

void write_stdout(std::string_view text) {
  Sink out(STDOUT_FILENO);
  out.buffer() = text;
  const Sink::Status status = out.flush();
  if (status == Sink::Status::kError) throw Error("write to stdout", out.error());
}

}  // namespace snoopkit
