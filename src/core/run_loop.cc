#include "core/run_loop.h"

#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace snoopkit {
namespace {

constexpr int kFinalFlushMs = 2000;  // how long a stopping run waits for a stalled reader
constexpr std::uint64_t kMaxWaitMs = 3'600'000;  // one epoll_wait at most: an int; the loop re-waits
constexpr std::uint64_t kBatchEvents = 1024;     // events between two looks at the clock

}  // namespace

RunLoop::RunLoop(const CommonOptions& opts, Clock& clock, LossCounter lost)
    : opts_(opts), clock_(clock), lost_(std::move(lost)), sink_(STDOUT_FILENO) {
  if (opts_.json) summary_writer_ = std::make_unique<JsonWriter>(sink_);
  // Signals were blocked at start-up; they arrive here as readable data.
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, sig);
  sigfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd_ < 0) throw Error("signalfd", errno);
  sink_.make_interruptible(sigfd_);
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) {
    int err = errno;
    close(sigfd_);
    throw Error("epoll_create1", err);
  }
  try {
    watch(sigfd_);
  } catch (...) {
    close(ep_);
    close(sigfd_);
    throw;
  }
}

RunLoop::~RunLoop() {
  close(ep_);
  close(sigfd_);
}

void RunLoop::watch(int fd, Wake wake) {
  epoll_event ev{};
  ev.events = EPOLLIN | (wake == Wake::kEdge ? EPOLLET : 0u);
  ev.data.fd = fd;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw Error("epoll_ctl", errno);
}

bool RunLoop::writable() const {
  return out_ == Sink::Status::kOk || out_ == Sink::Status::kInterrupted;
}

void RunLoop::write(Writer& w, const Record& r) {
  if (!writable()) return;
  w.write(r);
  ++printed_;
  if (out_ == Sink::Status::kOk) out_ = sink_.maybe_flush();
}

void RunLoop::begin_drain() {
  batch_ = 0;
  batch_start_ = Clock::mono_now();
}

bool RunLoop::more() noexcept {
  const std::uint64_t latency_ns = std::uint64_t{opts_.latency_ms} * 1'000'000;
  if ((++batch_ % kBatchEvents) != 0 || Clock::mono_now() - batch_start_ < latency_ns) return true;
  cut_short_ = true;
  return false;
}

void RunLoop::ready(const std::string& what, const std::string& plan) {
  out_ = sink_.flush();
  spdlog::info("ready: {}; {}", what,
               opts_.duration_s > 0 ? fmt::format("tracing for {:g} s", opts_.duration_s) : plan);
  start_ = Clock::mono_now();
  deadline_ =
      opts_.duration_s > 0 ? start_ + static_cast<std::uint64_t>(opts_.duration_s * 1e9) : 0;
}

int RunLoop::ms_until(std::uint64_t t) {
  const std::uint64_t now = Clock::mono_now();
  if (t <= now) return 0;
  return static_cast<int>(std::min<std::uint64_t>((t - now + 999'999) / 1'000'000, kMaxWaitMs));
}

bool RunLoop::wait(int timeout_ms) {
  if (!stop_reason_.empty()) return false;
  if (deadline_) {
    if (Clock::mono_now() >= deadline_) return stop("duration elapsed");
    const int left = ms_until(deadline_);
    if (timeout_ms < 0 || left < timeout_ms) timeout_ms = left;
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
  if (deadline_ && Clock::mono_now() >= deadline_) return stop("duration elapsed");
  return true;
}

bool RunLoop::stop(std::string why) {
  if (stop_reason_.empty()) stop_reason_ = std::move(why);
  return false;
}

bool RunLoop::batch_done() {
  report_lost();
  if (writable()) out_ = sink_.flush();
  if (out_ == Sink::Status::kClosed) {
    spdlog::debug("stdout was closed by its reader; exiting");
    return false;
  }
  if (out_ == Sink::Status::kError) throw Error("write to stdout", sink_.error());
  return true;
}

void RunLoop::stopping() { sink_.set_wait_limit_ms(kFinalFlushMs); }

bool RunLoop::pump(const std::function<void()>& drain) {
  while (wait(cut_short_ ? 0 : static_cast<int>(opts_.latency_ms))) {
    cut_short_ = false;
    drain();
    clock_.resync();
    if (!batch_done()) return false;
  }
  // Final drain: what the kernel queued before the stop is still printed,
  // but a reader that has stalled gets only a bounded wait.
  stopping();
  drain();
  return true;
}

int RunLoop::finish() {
  report_lost();
  const double elapsed = static_cast<double>(Clock::mono_now() - start_) / 1e9;
  if (summary_writer_ && writable()) {
    Record rec;
    rec.set_type("summary");
    stamp(rec, Clock::mono_now());
    rec.add_uint("events", events_);
    rec.add_uint("printed", printed_);
    rec.add_uint("lost", lost_total_);
    rec.add_uint("elapsed_ms", static_cast<std::uint64_t>(elapsed * 1000));
    summary_writer_->write(rec);
  }
  if (writable()) out_ = sink_.flush();
  if (out_ == Sink::Status::kInterrupted) {
    spdlog::warn("stdout's reader did not take the last {} bytes within {} ms; dropped",
                 sink_.buffer().size(), kFinalFlushMs);
  }
  const std::string lost = lost_ ? fmt::format(", {} lost", lost_total_) : "";
  spdlog::info("{}: {} events, {} printed{} in {:.1f} s", stop_reason_, events_, printed_, lost,
               elapsed);
  if (out_ == Sink::Status::kError) throw Error("write to stdout", sink_.error());
  return kExitOk;
}

void RunLoop::report_lost() {
  if (!lost_) return;
  const std::uint64_t lost = lost_();
  if (lost <= lost_total_) return;
  const std::uint64_t delta = lost - lost_total_;
  lost_total_ = lost;
  if (summary_writer_) {
    if (!writable()) return;
    Record r;
    r.set_type("lost");
    stamp(r, Clock::mono_now());
    r.add_uint("lost", delta);
    r.add_uint("lost_total", lost_total_);
    summary_writer_->write(r);
    if (out_ == Sink::Status::kOk) out_ = sink_.maybe_flush();
  } else {
    spdlog::warn(
        "lost {} events ({} in total): the reader fell behind; try --buffer-size or filters",
        delta, lost_total_);
  }
}

}  // namespace snoopkit
