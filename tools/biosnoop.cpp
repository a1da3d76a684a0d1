// biosnoop: trace block I/O, one line per request when it completes.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/app.h"
#include "family/block_hooks.h"
#include "bpf/biosnoop.h"
#include "biosnoop.skel.h"
#include "family/disks.h"
#include "core/error.h"

using namespace snoopkit;

static_assert(sizeof(biosnoop_event) == 48 + sizeof(sk_task_ctx) + BIOSNOOP_RWBS_LEN + SK_TASK_COMM_LEN);

namespace {

struct Options {
  std::string disk;
  bool queued = false;
};

std::string ms3(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(ns) / 1e6);
  return buf;
}

// The kind of request, from the rwbs flags: the operation is the letter
// after an optional leading F (a preflush).
const char* op_of(std::string_view rwbs) {
  std::string_view rest = rwbs.size() > 1 && rwbs[0] == 'F' ? rwbs.substr(1) : rwbs;
  if (rwbs == "F" || rest.starts_with("F")) return "flush";
  if (rest.starts_with("R")) return "read";
  if (rest.starts_with("W")) return "write";
  if (rest.starts_with("DE")) return "secure_erase";
  if (rest.starts_with("D")) return "discard";
  return "other";
}

}  // namespace

int main(int argc, char** argv) {
  App app("biosnoop", "Trace block device I/O: every request, its size and its latency.",
          {.duration = "--duration",  // -d is libbpf-tools' -d DISK
           .duration_positional = "duration",  // `biosnoop 10` traces 10 s
           .pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only I/O submitted by commands whose name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_option("-d,--disk", o.disk, "Trace this disk only (a name from /sys/block, e.g. sda)")
      ->type_name("DISK")
      ->check(non_empty());
  cli.add_flag("-Q,--queued", o.queued, "Include the time queued in the OS (a QUE(ms) column)");

  // A usage error: checked before privileges, like every option.
  std::uint32_t dev = 0;
  app.add_check([&] {
    if (!o.disk.empty()) dev = disk_option(o.disk);
  });

  return app.run(argc, argv, [&](Session& s) {
    DiskNames disks;

    auto skel = s.open<biosnoop_bpf>();
    skel->rodata->targ_dev = dev;
    skel->rodata->track_queued = o.queued;

    s.load_and_attach(skel, block_hook_points(skel->progs, o.queued));

    std::vector<Column> cols{{"TIME(s)", "TIME(s)", 11}, {"COMM", "comm", 14},
                             {"PID", "pid", 7},          {"DISK", "disk", 7},
                             {"T", "rwbs", 3},           {"SECTOR", "sector", 10},
                             {"BYTES", "bytes", 7}};
    if (o.queued) cols.push_back({"QUE(ms)", "QUE(ms)", 7, false});
    cols.push_back({"LAT(ms)", "LAT(ms)", 7, false});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(biosnoop_event)) return false;
      const auto* e = static_cast<const biosnoop_event*>(data);
      std::string_view rwbs(e->rwbs, strnlen(e->rwbs, sizeof(e->rwbs)));

      r.set_type("block_io");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e->ktime_ns); });
      r.add_uint("pid", e->pid);
      if (!s.add_task_context(r, e->ctx, false)) return false;
      r.add_bytes("comm", std::string_view(e->comm, strnlen(e->comm, sizeof(e->comm))));
      r.add_bytes("disk", disks.name(e->dev));
      r.add_uint("dev_major", e->dev >> 20);
      r.add_uint("dev_minor", e->dev & 0xFFFFF);
      r.add_raw("op", op_of(rwbs));
      r.add_bytes("rwbs", rwbs);
      r.add_uint("sector", e->sector);
      r.add_uint("bytes", e->bytes);
      r.add_uint("latency_ns", e->latency_ns);
      if (o.queued) r.add_uint("queued_ns", e->queued_ns);
      r.add_int("error", e->error);
      r.add_text_only("QUE(ms)", [&] { return ms3(e->queued_ns); });
      r.add_text_only("LAT(ms)", [&] { return ms3(e->latency_ns); });
      return true;
    });
  });
}
