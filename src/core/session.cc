#include "core/session.h"

#include <bpf/bpf.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/error.h"
#include "core/run_loop.h"
#include "bpf/snoopkit_common.h"
#include "core/transport.h"

namespace snoopkit {
namespace {

constexpr std::uint64_t kPageSize = 4096;
constexpr std::uint64_t kSweepNs = 5'000'000'000;  // how often cached cgroups that are gone are dropped

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
      const std::uint64_t start = Clock::mono_now();
      task_offsets_ = snoopkit::task_context_offsets(opts_.btf_path);
      spdlog::debug("task context: struct offsets read from the kernel's BTF in {:.1f} ms",
                    static_cast<double>(Clock::mono_now() - start) / 1e6);
    } catch (const Error& e) {
      // Not fatal: the events lose only the namespace fields and vpid/vtid.
      spdlog::warn("task context: {}; mntns, pidns, vpid and vtid will be 0", e.what());
      task_offsets_ = TaskContextOffsets{};
    }
  }
  return *task_offsets_;
}

std::string Session::ready_what(const std::string& via) const {
  return fmt::format("{} programs attached via {} ({})", programs_, via, hooks_);
}

int Session::run_loop(const CommonMaps& m, std::vector<Column> columns, Formatter format) {
  if (opts_.show_container) insert_container_column(columns);
  // The record renders only what the output shows: nothing text-only in
  // JSON mode, only the chosen columns in text mode.
  std::vector<std::string> text_keys;
  for (const Column& c : columns) text_keys.push_back(c.key);
  Record rec;
  rec.render_only(opts_.json, {text_keys.begin(), text_keys.end()});
  RunLoop loop(opts_, clock_, [stats = m.stats] { return read_lost(stats); });
  std::unique_ptr<Writer> writer = make_writer(loop.sink(), std::move(columns));

  auto handler = [&](const void* data, std::size_t size) noexcept {
    loop.received();
    if (loop.writable()) {
      rec.clear();
      if (format(data, size, rec)) loop.write(*writer, rec);
    }
    return loop.more();
  };

  if (!transport_) transport_ = make_transport(m);
  on_event_ = handler;
  Transport* transport = transport_.get();
  loop.watch(transport->epoll_fd(), RunLoop::Wake::kEdge);
  writer->begin();
  loop.ready(ready_what(transport->name()));

  std::uint64_t next_sweep = Clock::mono_now() + kSweepNs;
  bool stopped = loop.pump([&] {
    loop.begin_drain();
    int n = transport->consume();
    if (n < 0 && n != -EINTR) throw Error("read events", -n);
    if (Clock::mono_now() >= next_sweep) {
      task_context_.sweep();
      next_sweep = Clock::mono_now() + kSweepNs;
    }
  });
  if (!stopped) return kExitOk;
  if (transport->reported_lost())
    spdlog::debug("perf buffer reported {} lost samples", transport->reported_lost());
  return loop.finish();
}

int Session::run_report(const CommonMaps& m, std::vector<Column> columns, Interval interval,
                        Tick tick) {
  RunLoop loop(opts_, clock_, [stats = m.stats] { return read_lost(stats); });
  std::unique_ptr<Writer> writer = make_writer(loop.sink(), std::move(columns));
  struct LoopEmit : Emit {
    RunLoop& loop;
    Writer& writer;
    std::uint64_t taken_at = 0;
    LoopEmit(RunLoop& l, Writer& w) : loop(l), writer(w) {}
    void write(const Record& r) override { loop.write(writer, r); }
    void count_events(std::uint64_t n) override { loop.received(n); }
    std::uint64_t now() const override { return taken_at; }
  } emit(loop, *writer);

  std::string plan = "one report at the end; Ctrl-C to end";
  if (interval.seconds > 0) {
    plan = fmt::format("a report every {} s", interval.seconds);
    if (interval.count) plan += fmt::format(", {} in all", interval.count);
  }
  writer->begin();
  loop.ready(ready_what("BPF maps"), plan);

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
    if (!loop.wait(next ? RunLoop::ms_until(next) : -1)) break;
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
  return loop.finish();
}

std::unique_ptr<Writer> Session::make_writer(Sink& sink, std::vector<Column> columns) const {
  if (opts_.json) return std::make_unique<JsonWriter>(sink);
  return std::make_unique<TextWriter>(sink, std::move(columns));
}

}  // namespace snoopkit
