// biolatency: summarize block I/O latency as log2 histograms, overall, per
// disk or per set of request flags, every interval.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "family/block_hooks.h"
#include "bpf/biolatency.h"
#include "biolatency.skel.h"
#include "family/disks.h"
#include "core/error.h"
#include "family/histogram_report.h"

using namespace snoopkit;

static_assert(sizeof(biolatency_key) == 8 + BIOLATENCY_RWBS_LEN);
static_assert(sizeof(sk_hist) == 4 * SK_HIST_SLOTS);

namespace {

struct Options {
  std::string disk;
  bool timestamp = false, ms = false, queued = false, per_disk = false, per_flags = false;
  Interval interval;
};

}  // namespace

int main(int argc, char** argv) {
  App app("biolatency",
          "Summarize block device I/O latency as a histogram: from issue (or, with -Q, from "
          "queueing) to completion.",
          {.duration = "--duration",  // -d is libbpf-tools' -d DISK
           .pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only I/O submitted by commands whose name contains NAME"});
  Options o;
  auto& cli = app.cli();
  cli.add_option("-d,--disk", o.disk, "Trace this disk only (a name from /sys/block, e.g. sda)")
      ->type_name("DISK")
      ->check(non_empty());
  cli.add_flag("-D,--disks", o.per_disk, "Print a histogram per disk device");
  cli.add_flag("-F,--flag", o.per_flags, "Print a histogram per set of I/O flags (rwbs)");
  cli.add_flag("-Q,--queued", o.queued, "Include the time queued in the OS");
  cli.add_flag("-T,--timestamp", o.timestamp, "Include a time line (HH:MM:SS) with each report");
  cli.add_flag("-m,--milliseconds", o.ms, "Millisecond histogram (default: microseconds)");
  add_interval_args(cli, o.interval);
  drop_event_options(cli);  // a summary tool prints no events

  // A usage error: checked before privileges, like every option.
  std::uint32_t dev = 0;
  app.add_check([&] {
    if (!o.disk.empty()) dev = disk_option(o.disk);
  });

  return app.run(argc, argv, [&](Session& s) {
    DiskNames disks;

    auto skel = s.open<biolatency_bpf>();
    auto* ro = skel->rodata;
    ro->targ_dev = dev;
    ro->track_queued = o.queued;
    ro->per_disk = o.per_disk;
    ro->per_flags = o.per_flags;
    ro->milliseconds = o.ms;

    s.load_and_attach(skel, block_hook_points(skel->progs, o.queued));

    HistogramReport<biolatency_key, sk_hist> report("biolatency", o.timestamp,
                                                    o.per_disk || o.per_flags, o.ms);
    auto by_key = [](const auto& a, const auto& b) {
      return std::memcmp(&a.key, &b.key, sizeof(a.key)) < 0;
    };
    return s.report(skel, report.columns(), o.interval, [&](Emit& emit) {
      for (const auto& e : report.drain(skel->maps.hists, by_key)) {
        Record& r = report.begin(s, emit);
        std::string_view rwbs(e.key.rwbs, strnlen(e.key.rwbs, sizeof(e.key.rwbs)));
        std::string label;
        if (o.per_disk) {
          r.add_bytes("disk", disks.name(e.key.dev));
          r.add_uint("dev_major", e.key.dev >> 20);
          r.add_uint("dev_minor", e.key.dev & 0xFFFFF);
          label = "disk = " + disks.name(e.key.dev);
        }
        if (o.per_flags) {
          r.add_bytes("rwbs", rwbs);
          label += (label.empty() ? "" : " ") + std::string("flags = ") + std::string(rwbs);
        }
        if (!label.empty()) r.add_text_only("LABEL", [&] { return std::move(label); });
        report.end(e.value.slots, emit);
      }
    });
  });
}
