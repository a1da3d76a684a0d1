// statsnoop: trace stat(2), lstat(2), fstatat(2), statx(2) and statfs(2), one line per call.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "core/app.h"
#include "core/error.h"
#include "family/fullpath.h"
#include "family/stash.h"
#include "bpf/statsnoop.h"
#include "statsnoop.skel.h"
#include "statsnoop_hooks.h"

using namespace snoopkit;

static_assert(sizeof(statsnoop_event) ==
              56 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN + STATSNOOP_PATH_SIZE + SK_FULLPATH_DIR_SIZE);

namespace {

struct Options {
  bool timestamp = false, failed = false, print_uid = false, full_path = false;
};

const char* syscall_name(std::uint32_t s) {
  switch (s) {
    case STATSNOOP_SYS_STAT:
      return "stat";
    case STATSNOOP_SYS_LSTAT:
      return "lstat";
    case STATSNOOP_SYS_FSTATAT:
      return "newfstatat";
    case STATSNOOP_SYS_STATX:
      return "statx";
    case STATSNOOP_SYS_STATFS:
      return "statfs";
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  App app("statsnoop",
          "Trace stat() family syscalls: every file whose status is asked for, and the result.",
          {.pid = "-p,--pid",
           .tid = "--tid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only process names containing NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-t,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-x,--failed", o.failed, "Show failed calls only");
  cli.add_flag("-U,--print-uid", o.print_uid, "Include a UID column");
  cli.add_flag("-F,--full-path", o.full_path,
               "Show full paths: a relative path resolved against the cwd or the dfd");
  FullPath full;

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<statsnoop_bpf>();
    skel->rodata->failed_only = o.failed;
    full.configure(o.full_path, s.options().btf_path, skel->rodata->sk_fp_enabled,
                   skel->rodata->sk_fp);
    configure_stash(choose_stash_store(s.features()), skel->maps.start_task, skel->maps.start_tid,
                    skel->rodata->sk_stash_task_storage);

    // Every point is optional, but tracing none of them is no trace at all.
    s.load_and_attach(skel, statsnoop_hook_points(skel.get()), HookNeed::kAtLeastOne);

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    if (o.print_uid) cols.push_back({"UID", "uid", 7});
    cols.push_back({"PID", "pid", 7});
    cols.push_back({"COMM", "comm", 16});
    cols.push_back({"RET", "RET", 4, false});
    cols.push_back({"ERR", "ERR", 4, false});
    cols.push_back({"PATH", full.column_key(), 0});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      constexpr std::size_t kHeader = offsetof(statsnoop_event, path);
      if (size < kHeader) return false;
      const auto* e = static_cast<const statsnoop_event*>(data);
      std::size_t cap = std::min<std::size_t>(size - kHeader, STATSNOOP_PATH_SIZE);

      r.set_type("stat");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e->ktime_ns); });
      r.add_uint("pid", e->pid);
      r.add_uint("tid", e->tid);
      if (!s.add_task_context(r, e->ctx, true)) return false;
      r.add_uint("uid", e->uid);
      r.add_bytes("comm", std::string_view(e->comm, strnlen(e->comm, sizeof(e->comm))));
      r.add_bytes("syscall", syscall_name(e->syscall));  // a literal: no copy
      r.add_int("ret", e->ret);
      r.add_int("dfd", e->dfd);
      std::string_view path(e->path, strnlen(e->path, cap));
      r.add_bytes("path", path);
      r.add_bool("path_truncated", e->path_flags & STATSNOOP_F_PATH_TRUNCATED);
      std::size_t dir_cap =
          size - kHeader > STATSNOOP_PATH_SIZE ? size - offsetof(statsnoop_event, dir) : 0;
      full.add(r, path, !(e->path_flags & STATSNOOP_F_PATH_FAULT),
               e->path_flags & STATSNOOP_F_PATH_TRUNCATED,
               std::string_view(e->dir, std::min<std::size_t>(e->dir_size, dir_cap)), e->dir_flags);
      r.add_uint("flags", e->flags);
      r.add_uint("mask", e->mask);
      r.add_text_only("RET", [&] { return std::to_string(e->ret >= 0 ? e->ret : -1); });
      r.add_text_only("ERR", [&] { return std::to_string(e->ret >= 0 ? 0 : -e->ret); });
      return true;
    });
  });
}
