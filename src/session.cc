#include "session.h"

#include <bpf/bpf.h>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "error.h"
#include "snoopkit_common.h"
#include "transport.h"

namespace snoopkit {
namespace {

constexpr std::uint64_t kPageSize = 4096;
constexpr int kFinalFlushMs = 2000;  // how long a stopping tool waits for a stalled reader
constexpr std::uint64_t kMaxWaitMs =
    3'600'000;  // one epoll_wait at most: an int, and the loop re-waits
constexpr std::uint64_t kSweepNs = 5'000'000'000;  // how often cached cgroups that are gone are dropped

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
      features_(std::move(features)),
      task_context_(resolved_.container) {
  use_perf_ = opts_.perf_buffer;
  if (!use_perf_ && !features_->ring_buffer()) {
    spdlog::info("this kernel has no BPF ring buffer (Linux < 5.8): using the perf buffer");
    use_perf_ = true;
  }
}

Session::~Session() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
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
  // Verdicts are kept only for --container; otherwise the map is never read.
  if (resolved_.container.empty()) bpf_map__set_max_entries(m.container, 1);
}

void Session::after_load(const CommonMaps& m) {
  task_context_.set_verdict_map(bpf_map__fd(m.container));
  if (resolved_.cgroup_fd >= 0) {
    std::uint32_t zero = 0;
    int fd = resolved_.cgroup_fd;
    if (bpf_map__update_elem(m.cgroup, &zero, sizeof(zero), &fd, sizeof(fd), BPF_ANY) != 0)
      throw Error("set the cgroup filter", errno);
  }
  // The ring buffer holds events from the first one on, whenever its reader
  // is created; a perf buffer drops (and counts as lost) every event sent
  // before its per-CPU buffers are in the map, so it is created now.
  if (use_perf_) transport_ = make_transport(m);
}

std::unique_ptr<Transport> Session::make_transport(const CommonMaps& m) {
  // Events reach the run loop's handler once it is set; until then they
  // wait in the kernel (nothing consumes them before run_loop).
  EventHandler handler = [this](const void* data, std::size_t size) noexcept {
    return on_event_ ? on_event_(data, size) : false;
  };
  if (use_perf_) {
    long ncpu = libbpf_num_possible_cpus();
    std::uint64_t per_cpu =
        resolved_.buffer_bytes / static_cast<std::uint64_t>(ncpu > 0 ? ncpu : 1);
    std::uint64_t pages = 1;
    while (pages * 2 * kPageSize <= per_cpu) pages *= 2;
    return make_perf_buffer(m.events_perf, pages, pages * kPageSize / 4, std::move(handler));
  }
  return make_ring_buffer(m.events, std::move(handler));
}

void Session::count_programs(bpf_object* obj) {
  bpf_program* prog;
  programs_ = 0;
  bpf_object__for_each_program(prog, obj) {
    if (bpf_program__autoload(prog)) ++programs_;
  }
}

void Session::stamp(Record& r, std::uint64_t ktime_ns) const {
  clock_.stamp(r, ktime_ns);
}

const TaskContextOffsets& Session::task_context_offsets() {
  if (!task_offsets_) {
    try {
      task_offsets_ = snoopkit::task_context_offsets(opts_.btf_path);
    } catch (const Error& e) {
      // Not fatal: the events lose only the namespace fields and vpid/vtid.
      spdlog::warn("task context: {}; mntns, pidns, vpid and vtid will be 0", e.what());
      task_offsets_ = TaskContextOffsets{};
    }
  }
  return *task_offsets_;
}

// The policy both loops share: one writer over stdout, stop signals read
// from a signalfd, --duration, loss reports, and the end of a run (final
// flush, summary, exit code). An EPIPE ends the run quietly with exit 0;
// any other write error is an Error.
class Session::Loop {
 public:
  Loop(Session& s, bpf_map* stats, std::vector<Column> columns) : s_(s), stats_(stats) {
    if (s_.opts_.json)
      writer_ = std::make_unique<JsonWriter>(sink_);
    else
      writer_ = std::make_unique<TextWriter>(sink_, std::move(columns));
    // Signals were blocked at start-up; they arrive here as readable data.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, sig);
    sigfd_.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd_.fd < 0) throw Error("signalfd", errno);
    sink_.make_interruptible(sigfd_.fd);
    ep_.fd = epoll_create1(EPOLL_CLOEXEC);
    if (ep_.fd < 0) throw Error("epoll_create1", errno);
    watch(sigfd_.fd);
  }

  bool writable() const { return out_ == Sink::Status::kOk || out_ == Sink::Status::kInterrupted; }

  /// Renders r if stdout still takes data; flushes past the batch size.
  void write(const Record& r) {
    if (!writable()) return;
    writer_->write(r);
    if (out_ == Sink::Status::kOk) out_ = sink_.maybe_flush();
  }

  /// Adds fd to the set a wait() wakes for.
  void watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep_.fd, EPOLL_CTL_ADD, fd, &ev) != 0) throw Error("epoll_ctl", errno);
  }

  /// Prints the text header and the "ready:" line; the run's clock starts.
  void ready(const std::string& via, const std::string& plan) {
    writer_->begin();
    out_ = sink_.flush();
    const auto& o = s_.opts_;
    spdlog::info("ready: {} programs attached via {} ({}); {}", s_.programs_, via, s_.hooks_,
                 o.duration_s > 0 ? fmt::format("tracing for {:g} s", o.duration_s) : plan);
    start_ = Clock::mono_now();
    deadline_ = o.duration_s > 0 ? start_ + static_cast<std::uint64_t>(o.duration_s * 1e9) : 0;
  }
  std::uint64_t start() const { return start_; }

  /// Waits up to timeout_ms (-1: no limit), less if --duration ends sooner,
  /// for a watched fd or a stop signal. Returns false when the run must
  /// stop (stop_reason says why).
  bool wait(int timeout_ms) {
    if (!stop_reason.empty()) return false;
    if (deadline_) {
      std::uint64_t now = Clock::mono_now();
      if (now >= deadline_) return stop("duration elapsed");
      std::uint64_t left =
          std::min<std::uint64_t>((deadline_ - now + 999'999) / 1'000'000, kMaxWaitMs);
      if (timeout_ms < 0 || left < static_cast<std::uint64_t>(timeout_ms))
        timeout_ms = static_cast<int>(left);
    }
    epoll_event evs[4];
    int n = epoll_wait(ep_.fd, evs, 4, timeout_ms);
    if (n < 0 && errno != EINTR) throw Error("epoll_wait", errno);
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd != sigfd_.fd) continue;
      signalfd_siginfo si{};
      if (read(sigfd_.fd, &si, sizeof(si)) == sizeof(si))
        stop_reason = std::string("received ") + sigabbrev_np(static_cast<int>(si.ssi_signo));
    }
    if (!stop_reason.empty()) return false;
    if (deadline_ && Clock::mono_now() >= deadline_) return stop("duration elapsed");
    return true;
  }

  /// Sets why the run ends; returns false (for wait()).
  bool stop(std::string why) {
    stop_reason = std::move(why);
    return false;
  }

  /// After a drain or a report: loss, then flush. Returns false when the
  /// reader of stdout went away; throws Error on any other write error.
  bool batch_done() {
    report_lost();
    if (writable()) out_ = sink_.flush();
    if (out_ == Sink::Status::kClosed) {
      spdlog::debug("stdout was closed by its reader; exiting");
      return false;
    }
    if (out_ == Sink::Status::kError) throw Error("write to stdout", sink_.error());
    return true;
  }

  /// From here on a stalled reader gets only a bounded wait.
  void stopping() { sink_.set_wait_limit_ms(kFinalFlushMs); }

  /// The end of a run: loss, the summary (JSON record or stderr line), the
  /// final flush. Returns the exit code.
  int finish(std::uint64_t events, std::uint64_t printed) {
    report_lost();
    double elapsed = static_cast<double>(Clock::mono_now() - start_) / 1e9;
    if (s_.opts_.json) {
      Record rec;
      rec.set_type("summary");
      s_.stamp(rec, Clock::mono_now());
      rec.add_uint("events", events);
      rec.add_uint("printed", printed);
      rec.add_uint("lost", lost_total_);
      rec.add_uint("elapsed_ms", static_cast<std::uint64_t>(elapsed * 1000));
      if (writable()) writer_->write(rec);
    }
    if (writable()) out_ = sink_.flush();
    if (out_ == Sink::Status::kInterrupted) {
      spdlog::warn("stdout's reader did not take the last {} bytes within {} ms; dropped",
                   sink_.buffer().size(), kFinalFlushMs);
    }
    spdlog::info("{}: {} events, {} printed, {} lost in {:.1f} s", stop_reason, events, printed,
                 lost_total_, elapsed);
    if (out_ == Sink::Status::kError) throw Error("write to stdout", sink_.error());
    return kExitOk;
  }

  std::string stop_reason;

 private:
  void report_lost() {
    std::uint64_t lost = read_lost(stats_);
    if (lost <= lost_total_) return;
    std::uint64_t delta = lost - lost_total_;
    lost_total_ = lost;
    if (s_.opts_.json) {
      Record r;
      r.set_type("lost");
      s_.stamp(r, Clock::mono_now());
      r.add_uint("lost", delta);
      r.add_uint("lost_total", lost_total_);
      write(r);
    } else {
      spdlog::warn(
          "lost {} events ({} in total): the reader fell behind; try --buffer-size or filters",
          delta, lost_total_);
    }
  }

  Session& s_;
  bpf_map* stats_;
  Sink sink_{STDOUT_FILENO};
  std::unique_ptr<Writer> writer_;
  Sink::Status out_ = Sink::Status::kOk;
  Fd sigfd_, ep_;
  std::uint64_t start_ = 0, deadline_ = 0, lost_total_ = 0;
};

int Session::run_loop(const CommonMaps& m, std::vector<Column> columns, Formatter format) {
  if (opts_.show_container) insert_container_column(columns);
  // The record renders only what the output shows: nothing text-only in
  // JSON mode, only the chosen columns in text mode.
  std::vector<std::string> text_keys;
  for (const Column& c : columns) text_keys.push_back(c.key);
  Record rec;
  rec.render_only(opts_.json, {text_keys.begin(), text_keys.end()});
  Loop loop(*this, m.stats, std::move(columns));

  std::uint64_t received = 0, printed = 0;
  const std::uint64_t latency_ns = std::uint64_t{opts_.latency_ms} * 1'000'000;
  std::uint64_t batch = 0, batch_start = 0;
  auto handler = [&](const void* data, std::size_t size) noexcept {
    ++received;
    if (loop.writable()) {
      rec.clear();
      if (format(data, size, rec)) {
        ++printed;
        loop.write(rec);
      }
    }
    // Bound one drain: in an event storm the ring never empties, and the
    // loop must still flush, report loss and notice signals.
    return (++batch & 1023) != 0 || Clock::mono_now() - batch_start < latency_ns;
  };

  if (!transport_) transport_ = make_transport(m);
  on_event_ = handler;
  Transport* transport = transport_.get();
  loop.watch(transport->epoll_fd());
  loop.ready(transport->name(), "Ctrl-C to end");

  auto drain = [&] {
    batch = 0;
    batch_start = Clock::mono_now();
    int n = transport->consume();
    if (n < 0 && n != -EINTR) throw Error("read events", -n);
    clock_.resync();
  };
  std::uint64_t next_sweep = Clock::mono_now() + kSweepNs;
  while (loop.wait(static_cast<int>(opts_.latency_ms))) {
    drain();
    if (!loop.batch_done()) return kExitOk;
    if (Clock::mono_now() >= next_sweep) {
      task_context_.sweep();
      next_sweep = Clock::mono_now() + kSweepNs;
    }
  }

  // Final drain: what the kernel queued before the stop is still printed,
  // but a reader that has stalled gets only a bounded wait.
  loop.stopping();
  drain();
  if (transport->reported_lost())
    spdlog::debug("perf buffer reported {} lost samples", transport->reported_lost());
  return loop.finish(received, printed);
}

int Session::run_report(const CommonMaps& m, std::vector<Column> columns, Interval interval,
                        Tick tick) {
  Loop loop(*this, m.stats, std::move(columns));
  struct LoopEmit : Emit {
    Loop& loop;
    std::uint64_t events = 0, printed = 0, taken_at = 0;
    explicit LoopEmit(Loop& l) : loop(l) {}
    void write(const Record& r) override {
      ++printed;
      loop.write(r);
    }
    void count_events(std::uint64_t n) override { events += n; }
    std::uint64_t now() const override { return taken_at; }
  } emit(loop);

  std::string plan = "one report at the end; Ctrl-C to end";
  if (interval.seconds > 0) {
    plan = fmt::format("a report every {} s", interval.seconds);
    if (interval.count) plan += fmt::format(", {} in all", interval.count);
  }
  loop.ready("BPF maps", plan);

  std::uint64_t reports = 0;
  auto take = [&] {
    clock_.resync();
    emit.taken_at = Clock::mono_now();
    tick(emit);
    ++reports;
  };
  const auto period = static_cast<std::uint64_t>(interval.seconds * 1e9);
  std::uint64_t next = period ? loop.start() + period : 0;
  bool done = false;
  while (!done) {
    int timeout = -1;
    if (next) {
      std::uint64_t now = Clock::mono_now();
      timeout = next > now ? static_cast<int>(std::min<std::uint64_t>(
                                 (next - now + 999'999) / 1'000'000, kMaxWaitMs))
                           : 0;
    }
    if (!loop.wait(timeout)) break;
    std::uint64_t now = Clock::mono_now();
    if (!next || now < next) continue;
    take();
    if (!loop.batch_done()) return kExitOk;
    if (interval.count && reports >= interval.count) {
      loop.stop(fmt::format("{} reports printed", reports));
      done = true;
    }
    // A tick that overran skips the intervals it missed rather than bunching.
    next += period;
    if (next <= now) next = now + period;
  }

  // A stop ends the current interval: report it, as libbpf-tools does.
  loop.stopping();
  if (!done) take();
  return loop.finish(emit.events, emit.printed);
}

}  // namespace snoopkit
