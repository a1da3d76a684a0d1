// mountsnoop: trace mount(2), umount2(2) and the new mount API, with decoded flags.
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "core/escape.h"
#include "family/mount_flags.h"
#include "bpf/mountsnoop.h"
#include "mountsnoop.skel.h"
#include "mountsnoop_hooks.h"

using namespace snoopkit;

static_assert(sizeof(mountsnoop_event) ==
              120 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN + 3 * MOUNTSNOOP_STR_SIZE + MOUNTSNOOP_KEY_SIZE);

namespace {

struct Options {
  bool timestamp = false, detailed = false;
};

// How one syscall's arguments appear: the event slots it uses (see bpf/mountsnoop.h),
// their JSON keys, and the order of the arguments in the text CALL column.
enum Arg : char { kEnd, kS0, kS1, kS2, kS3, kFlags, kFd0, kFd1, kCmd, kNum0, kAttr };
struct Num {
  const char* key;
  const char* names_key;  // with table: "<key>_names", the decoded flags
  FlagTable table;
};
struct Shape {
  const char* name;
  FlagTable flags;  // empty: the call has no flags argument (mount(2) decodes its own)
  std::array<const char*, MOUNTSNOOP_NSTR> str;
  std::array<const char*, 2> fd;
  std::array<Num, 4> num;
  std::array<Arg, 6> call;
};

// One syscall per row reads better than one field per line.
// clang-format off
const std::array<Shape, MOUNTSNOOP_SYS_MAX> kShapes = {{
    {"mount", kMountFlags, {"source", "target", "data", "fstype"}, {}, {},
     {kS0, kS1, kS3, kFlags, kS2}},
    {"umount", kUmountFlags, {nullptr, "target"}, {}, {}, {kS1, kFlags}},
    {"fsopen", kFsopenFlags, {nullptr, nullptr, nullptr, "fstype"}, {}, {}, {kS3, kFlags}},
    {"fsconfig", {}, {nullptr, nullptr, "value", "key"}, {"fd"}, {{{"aux", nullptr, {}}}},
     {kFd0, kCmd, kS3, kS2, kNum0}},
    {"fsmount", kFsmountFlags, {}, {"fd"}, {{{"attr_flags", "attr_names", kMountAttrFlags}}},
     {kFd0, kFlags, kNum0}},
    {"fspick", kFspickFlags, {"path"}, {"dfd"}, {}, {kFd0, kS0, kFlags}},
    {"move_mount", kMoveMountFlags, {"source", "target"}, {"from_fd", "to_fd"}, {},
     {kFd0, kS0, kFd1, kS1, kFlags}},
    {"open_tree", kOpenTreeFlags, {"path"}, {"dfd"}, {}, {kFd0, kS0, kFlags}},
    {"mount_setattr", kMountSetattrFlags, {"path"}, {"dfd"},
     {{{"attr_set", "attr_set_names", kMountAttrFlags},
       {"attr_clr", "attr_clr_names", kMountAttrFlags},
       {"propagation", "propagation_names", kMountFlags},
       {"userns_fd", nullptr, {}}}},
     {kFd0, kS0, kFlags, kAttr}},
    {"pivot_root", {}, {"new_root", "put_old"}, {}, {}, {kS0, kS1}},
}};
// clang-format on

// Flag names plus, for bits no name covers, one hex item; views into `spare`.
std::vector<std::string_view> flag_list(std::uint64_t v, FlagTable t, bool mount,
                                        std::string& spare) {
  std::vector<std::string_view> names;
  std::uint64_t rest = mount ? decode_mount_flags(v, names) : decode_flags(v, t, names);
  if (rest) names.push_back(spare = hex_flags(rest));
  return names;
}

std::string text_flags(const std::vector<std::string_view>& names) {
  return join_flags(names, 0);
}

std::string cmd_text(std::uint32_t cmd) {
  std::string_view name = fsconfig_cmd_name(cmd);
  return name.empty() ? std::to_string(cmd) : std::string(name);
}

std::string fd_text(std::int32_t fd) {
  return fd == -100 ? "AT_FDCWD" : std::to_string(fd);
}

}  // namespace

int main(int argc, char** argv) {
  App app("mountsnoop",
          "Trace mount and umount syscalls, and the new mount API (fsopen, fsconfig, fsmount, "
          "move_mount, ...), with their flags decoded.",
          {.pid = "-p,--pid",
           .tid = "--tid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only process names containing NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-t,--timestamp", o.timestamp, "Include a time column (HH:MM:SS)");
  cli.add_flag(
      "--detailed", o.detailed,
      "Detailed output: add UID and LAT(us) (syscall latency) columns (libbpf-tools -d; -d is "
      "--duration here)");

  return app.run(argc, argv, [&](Session& s) {
    auto skel = s.open<mountsnoop_bpf>();

    s.load_and_attach(skel, mountsnoop_hook_points(skel.get()));

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"TIME", "TIME", 8});
    cols.push_back({"COMM", "comm", 16});
    cols.push_back({"PID", "pid", 7});
    cols.push_back({"TID", "tid", 7});
    if (o.detailed) cols.push_back({"UID", "uid", 7});
    cols.push_back({"MNT_NS", "mnt_ns", 11});
    if (o.detailed) cols.push_back({"LAT(us)", "LAT(us)", 8, false});
    cols.push_back({.header = "CALL", .key = "CALL", .escaped = true});

    std::array<std::string, 6> spare;   // hex items of the flag lists; live until the next event
    std::vector<std::string_view> cut;  // keys of the strings that were cut
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(mountsnoop_event)) return false;
      const auto* e = static_cast<const mountsnoop_event*>(data);
      if (e->syscall >= kShapes.size()) return false;
      const Shape& sh = kShapes[e->syscall];
      const bool is_mount = e->syscall == MOUNTSNOOP_SYS_MOUNT;
      auto str = [&](int i) {
        const char* base = i < 3 ? e->str[i] : e->key;
        std::size_t cap = i < 3 ? MOUNTSNOOP_STR_SIZE : MOUNTSNOOP_KEY_SIZE;
        return std::string_view(base, std::min<std::size_t>(e->str_len[i], cap));
      };

      r.set_type("mount");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e->ktime_ns); });
      r.add_uint("pid", e->pid);
      r.add_uint("tid", e->tid);
      if (!s.add_task_context(r, e->ctx, true)) return false;
      r.add_uint("uid", e->uid);
      r.add_bytes("comm", std::string_view(e->comm, strnlen(e->comm, sizeof(e->comm))));
      r.add_uint("mnt_ns", e->mnt_ns);
      r.add_raw("syscall", sh.name);
      r.add_int("ret", e->ret);
      r.add_uint("latency_ns", e->latency_ns);
      r.add_uint("flags", e->flags);
      auto flags = flag_list(e->flags, sh.flags, is_mount, spare[0]);
      r.add_bytes_list("flag_names", flags);
      for (int i = 0; i < 2; ++i)
        if (sh.fd[i]) r.add_int(Key::named(sh.fd[i]), e->fd[i]);
      if (e->syscall == MOUNTSNOOP_SYS_FSCONFIG) {
        r.add_uint("cmd", e->cmd);
        r.add_raw("cmd_name", std::string(fsconfig_cmd_name(e->cmd)));
      }
      std::array<std::vector<std::string_view>, 4> num_names;
      for (int i = 0; i < 4; ++i) {
        const Num& n = sh.num[i];
        if (!n.key) continue;
        if (n.table.empty()) {
          r.add_int(Key::named(n.key), static_cast<std::int64_t>(e->num[i]));
          continue;
        }
        r.add_uint(Key::named(n.key), e->num[i]);
        num_names[i] = flag_list(e->num[i], n.table, false, spare[i + 1]);
        r.add_bytes_list(Key::named(n.names_key), num_names[i]);
      }
      cut.clear();
      for (int i : {0, 1, 3, 2}) {  // mount(2)'s order: source, target, fstype, data
        if (!sh.str[i]) continue;
        r.add_bytes(Key::named(sh.str[i]), str(i));
        if (e->truncated & (1u << i)) cut.push_back(sh.str[i]);
      }
      r.add_bytes_list("truncated", cut);

      // Text: the call as strace would show it, e.g. mount("none", "/mnt", "tmpfs", 0x0, "") = 0.
      std::string call = std::string(sh.name) + "(";
      for (std::size_t k = 0; k < sh.call.size() && sh.call[k] != kEnd; ++k) {
        if (k) call += ", ";
        // clang-format off
        switch (sh.call[k]) {
          case kS0: case kS1: case kS2: case kS3:  // \" and \\ inside: no string can end early
            call += '"';
            append_text_escaped(call, str(sh.call[k] - kS0), true);
            call += '"'; break;
          case kFlags: call += text_flags(flags); break;
          case kFd0: call += fd_text(e->fd[0]); break;
          case kFd1: call += fd_text(e->fd[1]); break;
          case kCmd: call += cmd_text(e->cmd); break;
          case kNum0: call += sh.num[0].table.empty()
                                  ? std::to_string(static_cast<std::int64_t>(e->num[0]))
                                  : text_flags(num_names[0]); break;
          case kAttr:
            call += "{attr_set=" + text_flags(num_names[0]) + ", attr_clr=" +
                    text_flags(num_names[1]) + ", propagation=" + text_flags(num_names[2]) +
                    ", userns_fd=" + std::to_string(static_cast<std::int64_t>(e->num[3])) + "}";
            break;
          case kEnd: break;
        }
        // clang-format on
      }
      call += ") = " + std::to_string(e->ret);
      r.add_text_only("CALL", [&] { return std::move(call); });
      r.add_text_only("LAT(us)", [&] { return std::to_string(e->latency_ns / 1000); });
      return true;
    });
  });
}
