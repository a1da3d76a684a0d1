// opensnoop: trace open(), openat() and openat2(), one line per call.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/app.h"
#include "family/fullpath.h"
#include "bpf/opensnoop.h"
#include "opensnoop.skel.h"
#include "opensnoop_hooks.h"
#include "family/stash.h"

using namespace snoopkit;

static_assert(sizeof(opensnoop_event) ==
              64 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN + OPENSNOOP_PATH_SIZE + SK_FULLPATH_DIR_SIZE);

namespace {

struct Options {
  bool timestamp = false, print_uid = false, failed = false, extended = false, full_path = false;
};

const char* syscall_name(std::uint32_t s) {
  switch (s) {
    case OPENSNOOP_SYS_OPEN:
      return "open";
    case OPENSNOOP_SYS_OPENAT:
      return "openat";
    case OPENSNOOP_SYS_OPENAT2:
      return "openat2";
  }
  return "unknown";
}

std::string octal(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08llo", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  App app("opensnoop", "Trace open() family syscalls: every file opened, and the result.",
          {.pid = "-p,--pid",
           .tid = "-t,--tid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only process names containing NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-T,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-U,--print-uid", o.print_uid, "Include a UID column");
  cli.add_flag("-x,--failed", o.failed, "Show failed opens only");
  cli.add_flag("-e,--extended-fields", o.extended, "Include the open flags column");
  cli.add_flag("-F,--full-path", o.full_path,
               "Show full paths: a relative path resolved against the cwd or the dfd");
  FullPath full;

  return app.run(argc, argv, [&](Session& s) {
    auto skel = s.open<opensnoop_bpf>();
    skel->rodata->failed_only = o.failed;
    full.configure(o.full_path, s.options().btf_path, skel->rodata->sk_fp_enabled,
                   skel->rodata->sk_fp);
    configure_stash(choose_stash_store(s.features()), skel->maps.start_task, skel->maps.start_tid,
                    skel->rodata->sk_stash_task_storage);

    s.load_and_attach(skel, opensnoop_hook_points(skel.get()));

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    if (o.print_uid) cols.push_back({"UID", "uid", 7});
    cols.push_back({"PID", "pid", 6});
    cols.push_back({"COMM", "comm", 16});
    cols.push_back({"FD", "FD", 3, false});
    cols.push_back({"ERR", "ERR", 3, false});
    if (o.extended) cols.push_back({"FLAGS", "FLAGS", 8});
    cols.push_back({"PATH", full.column_key(), 0});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      constexpr std::size_t kHeader = offsetof(opensnoop_event, path);
      if (size < kHeader) return false;
      const auto* e = static_cast<const opensnoop_event*>(data);
      std::size_t cap = std::min<std::size_t>(size - kHeader, OPENSNOOP_PATH_SIZE);
      std::string_view path(e->path, strnlen(e->path, cap));

      r.set_type("open");
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
      r.add_bytes("path", path);
      r.add_bool("path_truncated", e->path_flags & OPENSNOOP_F_PATH_TRUNCATED);
      std::size_t dir_cap =
          size - kHeader > OPENSNOOP_PATH_SIZE ? size - offsetof(opensnoop_event, dir) : 0;
      full.add(r, path, !(e->path_flags & OPENSNOOP_F_PATH_FAULT),
               e->path_flags & OPENSNOOP_F_PATH_TRUNCATED,
               std::string_view(e->dir, std::min<std::size_t>(e->dir_size, dir_cap)), e->dir_flags);
      // openat2's flags and mode are 64-bit: the low words are the values
      // every consumer knows; nonzero high words come separately, so no
      // JSON number exceeds 2^53 and nothing is lost.
      r.add_uint("flags", e->flags & 0xffffffffu);
      r.add_uint("mode", e->mode & 0xffffffffu);
      if (e->flags >> 32) r.add_uint("flags_hi", e->flags >> 32);
      if (e->mode >> 32) r.add_uint("mode_hi", e->mode >> 32);
      r.add_text_only("FD", [&] { return std::to_string(e->ret >= 0 ? e->ret : -1); });
      r.add_text_only("ERR", [&] { return std::to_string(e->ret >= 0 ? 0 : -e->ret); });
      r.add_text_only("FLAGS", [&] { return octal(e->flags); });
      return true;
    });
  });
}
