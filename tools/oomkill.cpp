// oomkill: trace OOM kills, one line per victim.
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "core/app.h"
#include "bpf/oomkill.h"
#include "oomkill.skel.h"
#include "oomkill_hooks.h"

using namespace snoopkit;

static_assert(sizeof(oomkill_event) == 56 + 24 + 2 * SK_TASK_COMM_LEN);

namespace {

// /proc/loadavg without its newline, as libbpf-tools prints it.
std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

std::string_view bounded(const char* s, std::size_t cap) {
  return {s, strnlen(s, cap)};
}

}  // namespace

int main(int argc, char** argv) {
  App app("oomkill",
          "Trace OOM kills: the victim, the process whose allocation triggered the kill, and "
          "the memory at stake.",
          {.pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only kills triggered by commands whose name contains NAME"});

  return app.run(argc, argv, [&](Session& s) {
    auto skel = s.open<oomkill_bpf>();
    s.load_and_attach(skel, oomkill_hook_points(skel.get()));

    std::vector<Column> cols{{"", "TIME", 8}, {"", "MESSAGE"}};
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(oomkill_event)) return false;
      const auto* e = static_cast<const oomkill_event*>(data);
      auto victim = bounded(e->victim_comm, sizeof(e->victim_comm));
      auto trigger = bounded(e->trigger_comm, sizeof(e->trigger_comm));
      std::string load = loadavg();

      r.set_type("oom_kill");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e->ktime_ns); });
      r.add_uint("pid", e->victim_pid);
      if (e->flags & OOMKILL_F_VICTIM_COMM) r.add_bytes("comm", victim);
      r.add_uint("trigger_pid", e->trigger_pid);
      r.add_bytes("trigger_comm", trigger);
      if (e->flags & OOMKILL_F_PAGES) r.add_uint("total_pages", e->total_pages);
      if (e->flags & OOMKILL_F_MEM) {
        r.add_uint("uid", e->victim_uid);
        r.add_int("oom_score_adj", e->oom_score_adj);
        r.add_uint("total_vm_kb", e->total_vm_kb);
        r.add_uint("anon_rss_kb", e->anon_rss_kb);
        r.add_uint("file_rss_kb", e->file_rss_kb);
        r.add_uint("shmem_rss_kb", e->shmem_rss_kb);
        r.add_uint("pgtables_kb", e->pgtables_kb);
      } else if (e->flags & OOMKILL_F_PAGES) {
        r.add_uint("uid", e->victim_uid);
      }
      r.add_raw("loadavg", load);

      // libbpf-tools' line, with the victim's memory where the hook has it.
      std::string msg = "Triggered by PID " + std::to_string(e->trigger_pid) + " (\"" +
                        std::string(trigger) + "\"), OOM kill of PID " +
                        std::to_string(e->victim_pid) + " (\"" + std::string(victim) + "\")";
      if (e->flags & OOMKILL_F_PAGES) msg += ", " + std::to_string(e->total_pages) + " pages";
      if (e->flags & OOMKILL_F_MEM) msg += ", anon-rss " + std::to_string(e->anon_rss_kb) + " kB";
      msg += ", loadavg: " + load;
      r.add_text_only("MESSAGE", [&] { return std::move(msg); });
      return true;
    });
  });
}
