#include "session.h"

#include <bpf/bpf.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "error.h"
#include "snoopkit_common.h"
#include "transport.h"

namespace snoopkit {
namespace {

constexpr std::uint64_t kPageSize = 4096;
constexpr int kFinalFlushMs = 2000;  // how long a stopping tool waits for a stalled reader

// Closes an fd on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

std::uint64_t read_lost(bpf_map* stats) {
  std::uint32_t key = SK_STAT_LOST;
  std::uint64_t value = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(stats), &key, &value) != 0) return 0;
  return value;
}

}  // namespace

Session::Session(std::string tool, const CommonOptions& opts, Resolved resolved,
                 std::unique_ptr<FeatureProbe> features)
    : tool_(std::move(tool)),
      opts_(opts),
      resolved_(std::move(resolved)),
      features_(std::move(features)) {
  use_perf_ = opts_.perf_buffer;
  if (!use_perf_ && !features_->ring_buffer()) {
    spdlog::info("this kernel has no BPF ring buffer (Linux < 5.8): using the perf buffer");
    use_perf_ = true;
  }
}

Session::~Session() {
  if (resolved_.cgroup_fd >= 0) close(resolved_.cgroup_fd);
}

const bpf_object_open_opts* Session::open_opts() {
  open_opts_ = {};
  open_opts_.sz = sizeof(open_opts_);
  if (!opts_.btf_path.empty()) open_opts_.btf_custom_path = opts_.btf_path.c_str();
  return &open_opts_;
}

std::uint64_t Session::wakeup_bytes() const {
  // Wake the reader when a quarter of the ring is pending; below that the
  // --latency timer drains it. One wake-up per event is what makes
  // per-event tracing expensive for the traced program.
  return use_perf_ ? 0 : resolved_.buffer_bytes / 4;
}

void Session::size_maps(const CommonMaps& m) {
  if (!features_->ring_buffer()) {
    // No ring buffer map type: stand a tiny array in its place; the
    // programs' ring buffer branch is dead code when sk_use_perf is set.
    bpf_map__set_type(m.events, BPF_MAP_TYPE_ARRAY);
    bpf_map__set_key_size(m.events, 4);
    bpf_map__set_value_size(m.events, 4);
    bpf_map__set_max_entries(m.events, 1);
  } else {
    bpf_map__set_max_entries(m.events, use_perf_ ? kPageSize : resolved_.buffer_bytes);
  }
}

void Session::after_load(const CommonMaps& m) {
  if (resolved_.cgroup_fd < 0) return;
  std::uint32_t zero = 0;
  int fd = resolved_.cgroup_fd;
  if (bpf_map__update_elem(m.cgroup, &zero, sizeof(zero), &fd, sizeof(fd), BPF_ANY) != 0)
    throw Error("set the cgroup filter", errno);
}

void Session::count_programs(bpf_object* obj) {
  bpf_program* prog;
  programs_ = 0;
  bpf_object__for_each_program(prog, obj) {
    if (bpf_program__autoload(prog)) ++programs_;
  }
}

void Session::stamp(Record& r, std::uint64_t ktime_ns) const {
  r.add_raw("time", clock_.rfc3339(ktime_ns));
  r.add_big_uint("ktime_ns", ktime_ns);
}

int Session::run_loop(const CommonMaps& m, std::vector<Column> columns, Formatter format) {
  Sink sink(STDOUT_FILENO);
  std::unique_ptr<Writer> writer;
  if (opts_.json)
    writer = std::make_unique<JsonWriter>(sink);
  else
    writer = std::make_unique<TextWriter>(sink, std::move(columns));

  Record rec;
  std::uint64_t received = 0, printed = 0;
  Sink::Status out = Sink::Status::kOk;
  auto writable = [&] { return out == Sink::Status::kOk || out == Sink::Status::kInterrupted; };
  const std::uint64_t latency_ns = std::uint64_t{opts_.latency_ms} * 1'000'000;
  std::uint64_t batch = 0, batch_start = 0;
  auto handler = [&](const void* data, std::size_t size) noexcept {
    ++received;
    if (writable()) {
      rec.clear();
      if (format(data, size, rec)) {
        ++printed;
        writer->write(rec);
        if (out == Sink::Status::kOk) out = sink.maybe_flush();
      }
    }
    // Bound one drain: in an event storm the ring never empties, and the
    // loop must still flush, report loss and notice signals.
    return (++batch & 1023) != 0 || Clock::mono_now() - batch_start < latency_ns;
  };

  std::unique_ptr<Transport> transport;
  if (use_perf_) {
    long ncpu = libbpf_num_possible_cpus();
    std::uint64_t per_cpu = resolved_.buffer_bytes / static_cast<std::uint64_t>(ncpu > 0 ? ncpu : 1);
    std::uint64_t pages = 1;
    while (pages * 2 * kPageSize <= per_cpu) pages *= 2;
    transport = make_perf_buffer(m.events_perf, pages, pages * kPageSize / 4, handler);
  } else {
    transport = make_ring_buffer(m.events, handler);
  }

  // Signals were blocked at start-up; they arrive here as readable data.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, s);
  Fd sigfd{signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)};
  if (sigfd.fd < 0) throw Error("signalfd", errno);
  sink.make_interruptible(sigfd.fd);
  Fd ep{epoll_create1(EPOLL_CLOEXEC)};
  if (ep.fd < 0) throw Error("epoll_create1", errno);
  for (int fd : {transport->epoll_fd(), sigfd.fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep.fd, EPOLL_CTL_ADD, fd, &ev) != 0) throw Error("epoll_ctl", errno);
  }

  writer->begin();
  out = sink.flush();
  spdlog::info("ready: {} programs attached via {} ({}); {}", programs_, transport->name(), hooks_,
               opts_.duration_s > 0 ? "tracing for " + std::to_string(opts_.duration_s) + " s"
                                    : std::string("Ctrl-C to end"));

  const std::uint64_t start = Clock::mono_now();
  const std::uint64_t deadline =
      opts_.duration_s > 0 ? start + static_cast<std::uint64_t>(opts_.duration_s * 1e9) : 0;
  std::uint64_t lost_total = 0;
  std::string stop_reason;

  auto report_lost = [&] {
    std::uint64_t lost = read_lost(m.stats);
    if (lost <= lost_total) return;
    std::uint64_t delta = lost - lost_total;
    lost_total = lost;
    if (opts_.json) {
      if (!writable()) return;
      Record r;
      r.set_type("lost");
      stamp(r, Clock::mono_now());
      r.add_uint("lost", delta);
      r.add_uint("lost_total", lost_total);
      writer->write(r);
    } else {
      spdlog::warn("lost {} events ({} in total): the reader fell behind; try --buffer-size or filters",
                   delta, lost_total);
    }
  };

  auto drain = [&] {
    batch = 0;
    batch_start = Clock::mono_now();
    int n = transport->consume();
    if (n < 0 && n != -EINTR) throw Error("read events", -n);
    clock_.resync();
    report_lost();
    if (writable()) out = sink.flush();
  };

  while (true) {
    int timeout = static_cast<int>(opts_.latency_ms);
    if (deadline) {
      std::uint64_t now = Clock::mono_now();
      if (now >= deadline) {
        stop_reason = "duration elapsed";
        break;
      }
      timeout = std::min<std::uint64_t>(timeout, (deadline - now + 999'999) / 1'000'000);
    }
    epoll_event evs[4];
    int n = epoll_wait(ep.fd, evs, 4, timeout);
    if (n < 0 && errno != EINTR) throw Error("epoll_wait", errno);
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd != sigfd.fd) continue;
      signalfd_siginfo si{};
      if (read(sigfd.fd, &si, sizeof(si)) == sizeof(si))
        stop_reason = std::string("received ") + sigabbrev_np(static_cast<int>(si.ssi_signo));
    }
    drain();
    if (out == Sink::Status::kClosed) {
      spdlog::debug("stdout was closed by its reader; exiting");
      return kExitOk;
    }
    if (out == Sink::Status::kError) throw Error("write to stdout", sink.error());
    if (!stop_reason.empty()) break;
  }

  // Final drain: what the kernel queued before the stop is still printed,
  // but a reader that has stalled gets only a bounded wait.
  sink.set_wait_limit_ms(kFinalFlushMs);
  drain();
  if (transport->reported_lost())
    spdlog::debug("perf buffer reported {} lost samples", transport->reported_lost());
  double elapsed = static_cast<double>(Clock::mono_now() - start) / 1e9;
  if (opts_.json) {
    rec.clear();
    rec.set_type("summary");
    stamp(rec, Clock::mono_now());
    rec.add_uint("events", received);
    rec.add_uint("printed", printed);
    rec.add_uint("lost", lost_total);
    rec.add_uint("elapsed_ms", static_cast<std::uint64_t>(elapsed * 1000));
    if (writable()) writer->write(rec);
  }
  if (writable()) out = sink.flush();
  if (out == Sink::Status::kInterrupted) {
    spdlog::warn("stdout's reader did not take the last {} bytes within {} ms; dropped",
                 sink.buffer().size(), kFinalFlushMs);
  }
  spdlog::info("{}: {} events, {} printed, {} lost in {:.1f} s", stop_reason, received, printed,
               lost_total, elapsed);
  if (out == Sink::Status::kError) throw Error("write to stdout", sink.error());
  return kExitOk;
}

}  // namespace snoopkit
