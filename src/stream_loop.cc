#include "stream_loop.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "error.h"

namespace snoopkit {
namespace {

constexpr int kFinalFlushMs = 2000;  // how long a stopping run waits for a stalled reader
constexpr std::uint64_t kMaxWaitMs = 3'600'000;  // one epoll_wait at most; the loop re-waits

}  // namespace

StreamLoop::StreamLoop(const CommonOptions& opts) : opts_(opts), sink_(STDOUT_FILENO) {
  if (opts_.json) summary_writer_ = std::make_unique<JsonWriter>(sink_);
  // Signals were blocked at start-up; they arrive here as readable data.
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, sig);
  sigfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd_ < 0) throw Error("signalfd", errno);
  sink_.make_interruptible(sigfd_);
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) throw Error("epoll_create1", errno);
  watch(sigfd_);
}

StreamLoop::~StreamLoop() {
  if (ep_ >= 0) close(ep_);
  if (sigfd_ >= 0) close(sigfd_);
}

void StreamLoop::stamp(Record& r, std::uint64_t ktime_ns) const { clock_.stamp(r, ktime_ns); }

void StreamLoop::watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw Error("epoll_ctl", errno);
}

bool StreamLoop::writable() const {
  return out_ == Sink::Status::kOk || out_ == Sink::Status::kInterrupted;
}

void StreamLoop::write(Writer& w, const Record& r) {
  if (!writable()) return;
  w.write(r);
  ++printed_;
  if (out_ == Sink::Status::kOk) out_ = sink_.maybe_flush();
}

int StreamLoop::run(const std::string& what, const std::function<void()>& drain) {
  out_ = sink_.flush();
  spdlog::info("ready: {}; {}", what,
               opts_.duration_s > 0 ? "tracing for " + std::to_string(opts_.duration_s) + " s"
                                    : std::string("Ctrl-C to end"));
  start_ = Clock::mono_now();
  deadline_ =
      opts_.duration_s > 0 ? start_ + static_cast<std::uint64_t>(opts_.duration_s * 1e9) : 0;

  while (wait(static_cast<int>(opts_.latency_ms))) {
    drain();
    clock_.resync();
    if (!batch_done()) return kExitOk;
  }
  // Final drain: what the kernel queued before the stop is still printed,
  // but a reader that has stalled gets only a bounded wait.
  sink_.set_wait_limit_ms(kFinalFlushMs);
  drain();
  return finish();
}

bool StreamLoop::wait(int timeout_ms) {
  if (deadline_) {
    std::uint64_t now = Clock::mono_now();
    if (now >= deadline_) {
      stop_reason_ = "duration elapsed";
      return false;
    }
    std::uint64_t left =
        std::min<std::uint64_t>((deadline_ - now + 999'999) / 1'000'000, kMaxWaitMs);
    if (left < static_cast<std::uint64_t>(timeout_ms)) timeout_ms = static_cast<int>(left);
  }
  epoll_event evs[8];
  int n = epoll_wait(ep_, evs, 8, timeout_ms);
  if (n < 0 && errno != EINTR) throw Error("epoll_wait", errno);
  for (int i = 0; i < n; ++i) {
    if (evs[i].data.fd != sigfd_) continue;
    signalfd_siginfo si{};
    if (read(sigfd_, &si, sizeof(si)) == sizeof(si))
      stop_reason_ = std::string("received ") + sigabbrev_np(static_cast<int>(si.ssi_signo));
  }
  if (!stop_reason_.empty()) return false;
  if (deadline_ && Clock::mono_now() >= deadline_) {
    stop_reason_ = "duration elapsed";
    return false;
  }
  return true;
}

bool StreamLoop::batch_done() {
  if (writable()) out_ = sink_.flush();
  if (out_ == Sink::Status::kClosed) {
    spdlog::debug("stdout was closed by its reader; exiting");
    return false;
  }
  if (out_ == Sink::Status::kError) throw Error("write to stdout", sink_.error());
  return true;
}

int StreamLoop::finish() {
  double elapsed = static_cast<double>(Clock::mono_now() - start_) / 1e9;
  if (summary_writer_ && writable()) {
    // bpfload cannot see what the object's own programs failed to submit.
    Record rec;
    rec.set_type("summary");
    stamp(rec, Clock::mono_now());
    rec.add_uint("events", events_);
    rec.add_uint("printed", printed_);
    rec.add_uint("lost", 0);
    rec.add_uint("elapsed_ms", static_cast<std::uint64_t>(elapsed * 1000));
    summary_writer_->write(rec);
  }
  if (writable()) out_ = sink_.flush();
  if (out_ == Sink::Status::kInterrupted) {
    spdlog::warn("stdout's reader did not take the last {} bytes within {} ms; dropped",
                 sink_.buffer().size(), kFinalFlushMs);
  }
  if (out_ == Sink::Status::kClosed) return kExitOk;
  spdlog::info("{}: {} events, {} printed in {:.1f} s", stop_reason_, events_, printed_, elapsed);
  if (out_ == Sink::Status::kError) throw Error("write to stdout", sink_.error());
  return kExitOk;
}

}  // namespace snoopkit
