#pragma once
// A tracing session: everything between a parsed command line and exit.
// Tools call, in order: open<Skel>() (then set their own rodata),
// load_and_attach(skel, hooks), then trace(skel, columns, format) for event
// tools or report(skel, columns, interval, tick) for summary tools.

#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/btf_offsets.h"
#include "core/clock.h"
#include "core/feature_probe.h"
#include "core/hooks.h"
#include "core/interval.h"
#include "core/options.h"
#include "core/output.h"
#include "core/record.h"
#include "core/sink.h"
#include "core/skeleton.h"
#include "bpf/snoopkit_common.h"
#include "core/task_context.h"
#include "core/transport.h"

namespace snoopkit {

/// Turns one event's bytes into a record; returns false to skip the event
/// (a user-space filter). Must not throw.
using Formatter = std::function<bool(const void* data, std::size_t size, Record& r)>;

/// What a summary tool's tick writes through.
class Emit {
 public:
  virtual ~Emit() = default;
  /// Renders one record (JSON: one line; text: its line and its blocks).
  virtual void write(const Record& r) = 0;
  /// Adds n kernel events (e.g. a histogram's total) to the summary's "events".
  virtual void count_events(std::uint64_t n) = 0;
  /// When this report was taken (CLOCK_MONOTONIC ns), for Session::stamp().
  virtual std::uint64_t now() const = 0;
};

/// Reads (and clears) a summary tool's BPF maps and writes its records
/// through emit. Runs in the poll loop, never in a libbpf callback: it may
/// throw Error, which ends the run with exit 1.
using Tick = std::function<void(Emit& emit)>;

/// Writes the offsets sk_task_context() reads at into a skeleton's rodata
/// (between open and load).
template <class Rodata>
void set_task_context_offsets(Rodata& ro, const TaskContextOffsets& t) {
  ro.sk_off_task_nsproxy = t.task_nsproxy;
  ro.sk_off_task_thread_pid = t.task_thread_pid;
  ro.sk_off_task_group_leader = t.task_group_leader;
  ro.sk_off_nsproxy_mnt_ns = t.nsproxy_mnt_ns;
  ro.sk_off_mntns_inum = t.mntns_inum;
  ro.sk_off_pid_level = t.pid_level;
  ro.sk_off_pid_numbers = t.pid_numbers;
  ro.sk_sz_upid = t.upid_size;
  ro.sk_off_upid_nr = t.upid_nr;
  ro.sk_off_upid_ns = t.upid_ns;
  ro.sk_off_pidns_inum = t.pidns_inum;
}

/// The common BPF objects every skeleton has (declared in bpf/snoopkit.bpf.h).
struct CommonMaps {
  bpf_map* events;       // ring buffer
  bpf_map* events_perf;  // perf event array
  bpf_map* stats;        // loss counters
  bpf_map* cgroup;       // cgroup filter
  bpf_map* container;    // --container verdicts by cgroup id
};

class Session {
 public:
  Session(std::string tool, const CommonOptions& opts, Resolved resolved,
          std::unique_ptr<FeatureProbe> features);
  ~Session();

  const CommonOptions& options() const { return opts_; }
  FeatureProbe& features() { return *features_; }
  const Clock& clock() const { return clock_; }
  bool json() const { return opts_.json; }

  /// Opens the skeleton and writes the common rodata (filters, transport).
  template <class Skel>
  Skeleton<Skel> open() {
    auto skel = Skeleton<Skel>::open(open_opts());
    auto* ro = skel->rodata;
    ro->sk_use_perf = use_perf_;
    ro->sk_wakeup_bytes = wakeup_bytes();
    ro->sk_targ_tgid = resolved_.pid;
    ro->sk_targ_tid = resolved_.tid;
    ro->sk_targ_uid = resolved_.uid.value_or(static_cast<std::uint32_t>(-1));
    ro->sk_filter_cgroup = resolved_.cgroup_fd >= 0;
    static_assert(sizeof(ro->sk_targ_comm) == 16);
    for (std::size_t i = 0; i < sizeof(ro->sk_targ_comm); ++i)
      ro->sk_targ_comm[i] = i < resolved_.comm.size() ? resolved_.comm[i] : '\0';
    ro->sk_targ_comm_len = static_cast<std::uint32_t>(resolved_.comm.size());
    ro->sk_filter_container = !resolved_.container.empty();
    // Only tools whose events carry the context pay for the BTF pass (the
    // others' programs never call sk_task_context; zero offsets read nothing).
    if (opts_.task_context) set_task_context_offsets(*ro, task_context_offsets());
    size_maps(maps_of(skel));
    return skel;
  }

  /// Chooses hooks (need: see HookNeed), loads (verifier), fills the cgroup
  /// filter, attaches.
  template <class Skel>
  void load_and_attach(Skeleton<Skel>& skel, const std::vector<HookPoint>& points,
                       HookNeed need = HookNeed::kRequired) {
    std::vector<int> chosen = choose_hooks(*features_, points, need);
    apply_hook_choice(points, chosen);
    hooks_ = describe_choice(points, chosen);
    skel.load();
    after_load(maps_of(skel));
    skel.attach();
    links_ = attach_links(points, chosen);
    count_programs(skel.obj());
  }

  /// Prints events until SIGINT/SIGTERM/SIGHUP, --duration, or a reader
  /// that went away; then prints the summary. Returns the exit code.
  template <class Skel>
  int trace(Skeleton<Skel>& skel, std::vector<Column> columns, Formatter format) {
    return run_loop(maps_of(skel), std::move(columns), std::move(format));
  }

  /// Reports until SIGINT/SIGTERM/SIGHUP, --duration, interval.count
  /// reports, or a reader that went away: tick runs every interval.seconds
  /// (never, when 0), and once more at a stop that ends a partial interval.
  /// Output, signals, loss reports and the summary follow the same policy
  /// as trace(). Returns the exit code.
  template <class Skel>
  int report(Skeleton<Skel>& skel, std::vector<Column> columns, Interval interval, Tick tick) {
    return run_report(maps_of(skel), std::move(columns), interval, std::move(tick));
  }

  /// Adds the common time fields: "time" (RFC 3339 UTC) and "ktime_ns".
  void stamp(Record& r, std::uint64_t ktime_ns) const;

  /// Adds where a task runs (c from sk_task_context()): "cgroup_id", "vpid",
  /// "vtid" (when has_tid), "mntns", "pidns", and "container" for a task in
  /// a container (resolved once per cgroup), plus the CONTAINER text column.
  /// Returns false when --container rejects the task: skip the event. Must
  /// not throw (it runs in the formatter).
  bool add_task_context(Record& r, const sk_task_ctx& c, bool has_tid) {
    return task_context_.add(r, c, has_tid);
  }

 private:
  template <class Skel>
  static CommonMaps maps_of(Skeleton<Skel>& skel) {
    return {skel->maps.sk_events, skel->maps.sk_events_perf, skel->maps.sk_stats,
            skel->maps.sk_cgroup, skel->maps.sk_container_verdict};
  }
  /// The sk_off_* values, read from the BTF once per run; zeros (fields
  /// left 0) when the BTF lacks them.
  const TaskContextOffsets& task_context_offsets();
  const bpf_object_open_opts* open_opts();
  std::uint64_t wakeup_bytes() const;
  void size_maps(const CommonMaps& m);
  void after_load(const CommonMaps& m);
  std::unique_ptr<Transport> make_transport(const CommonMaps& m);
  void count_programs(bpf_object* obj);
  int run_loop(const CommonMaps& m, std::vector<Column> columns, Formatter format);
  int run_report(const CommonMaps& m, std::vector<Column> columns, Interval interval, Tick tick);
  std::string ready_what(const std::string& via) const;
  std::unique_ptr<Writer> make_writer(Sink& sink, std::vector<Column> columns) const;

  std::string tool_;
  CommonOptions opts_;
  Resolved resolved_;
  std::unique_ptr<FeatureProbe> features_;
  Clock clock_;
  bool use_perf_ = false;
  std::string hooks_;
  int programs_ = 0;
  std::vector<bpf_link*> links_;  // attached by the runtime (TracepointLink)
  // Created between load and attach: a perf buffer whose per-CPU fds are
  // not yet in the map would count every event before it as lost.
  std::unique_ptr<Transport> transport_;
  EventHandler on_event_;  // set by run_loop; events wait in the kernel until then
  bpf_object_open_opts open_opts_{};
  std::optional<TaskContextOffsets> task_offsets_;
  TaskContext task_context_;
};

}  // namespace snoopkit
