// execsnoop: trace exec() syscalls, one line per new program.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "bpf/execsnoop.h"
#include "execsnoop.skel.h"
#include "execsnoop_setup.h"

using namespace snoopkit;

static_assert(sizeof(execsnoop_event) ==
              40 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN + EXECSNOOP_FILENAME_SIZE +
                  EXECSNOOP_MAX_BUDGET);

namespace {

constexpr std::size_t kHeader = offsetof(execsnoop_event, args);

struct Options {
  bool time = false, timestamp = false, fails = false, quote = false, print_uid = false;
  std::string line, ppid;
  unsigned max_args = 0;  // 0: every argument
  unsigned max_bytes = EXECSNOOP_DEFAULT_BUDGET;
};

std::string_view bounded(const char* s, std::size_t cap) {
  return {s, strnlen(s, cap)};
}

// The arguments an event carries, and whether any were dropped or cut.
struct Argv {
  std::vector<std::string_view> args;
  bool dropped = false, cut = false;
};

// Splits the command line (NUL-terminated strings back to back; after a
// cut, the last one may lack its NUL) and keeps at most max_args (0: all).
void split_argv(const execsnoop_event& e, std::size_t received, unsigned max_args, Argv& out) {
  out.args.clear();
  std::string_view rest(e.args,
                        std::min<std::size_t>({received, e.args_size, EXECSNOOP_MAX_BUDGET}));
  out.cut = false;
  while (!rest.empty()) {
    std::size_t nul = rest.find('\0');
    out.args.push_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) {
      out.cut = true;  // the budget ended inside this argument
      break;
    }
    rest.remove_prefix(nul + 1);
  }
  std::size_t total = out.args.size();
  if (e.flags & EXECSNOOP_F_ARGS_CUT) total = std::max<std::size_t>(total, e.args_count);
  if (max_args && out.args.size() > max_args) {
    out.args.resize(max_args);
    out.cut = false;  // the cut argument was past the last one kept
  }
  out.dropped = total > out.args.size();
}

}  // namespace

int main(int argc, char** argv) {
  App app("execsnoop", "Trace exec() syscalls: every program started, with its arguments.",
          {.pid = "-p,--pid", .uid = "-u,--uid", .cgroup = "-c,--cgroup", .comm = "-n,--name",
           .comm_help = "Trace only commands whose new name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-T,--time", o.time, "Include a time column (HH:MM:SS)");
  cli.add_flag("-t,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-x,--fails", o.fails, "Include failed exec()s");
  cli.add_flag("-q,--quote", o.quote, "Put \"quotemarks\" around arguments");
  cli.add_flag("-U,--print-uid", o.print_uid, "Include a UID column");
  cli.add_option("-l,--line", o.line, "Trace only commands where an argument contains LINE")
      ->type_name("LINE")
      ->check(non_empty());
  cli.add_option("-P,--ppid", o.ppid, "Trace only children of this parent PID")->type_name("PPID");
  cli.add_option("--max-args", o.max_args, "Show at most N arguments (default: all)")
      ->type_name("N")
      ->transform(whole_number(1, 0x7fffffffu));
  cli.add_option("--max-bytes", o.max_bytes,
                 "Keep at most N bytes of each command line, NULs included (default 32768, "
                 "at most 61440)")
      ->type_name("N")
      ->transform(whole_number(1, EXECSNOOP_MAX_BUDGET));

  std::uint32_t ppid = 0;
  app.add_check([&] {
    if (cli.count("--ppid")) ppid = parse_pid(o.ppid, "PPID");
  });

  return app.run(argc, argv, [&](Session& s) {
    // The parent pid and the command line are read at offsets from the
    // kernel's BTF (or --btf): no CO-RE relocation, so libbpf never loads
    // that BTF.
    const ExecOffsets offsets = exec_offsets(s.options().btf_path);

    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<execsnoop_bpf>();
    configure_execsnoop(skel.get(), offsets, o.max_bytes, o.fails);
    skel->rodata->targ_ppid = ppid;
    s.load_and_attach(skel, execsnoop_hook_points(skel.get()));

    std::vector<Column> cols;
    if (o.time) cols.push_back({"TIME", "TIME", 8});
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    if (o.print_uid) cols.push_back({"UID", "uid", 6});
    cols.push_back({"PCOMM", "comm", 16});
    cols.push_back({"PID", "pid", 6});
    cols.push_back({"PPID", "ppid", 6});
    cols.push_back({"RET", "ret", 3, false});
    cols.push_back({"ARGS", "ARGS", 0, true, o.quote});

    Argv av;
    std::vector<std::string_view> shown;  // the ARGS column, reused per event
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < kHeader) return false;
      const auto* e = static_cast<const execsnoop_event*>(data);
      split_argv(*e, size - kHeader, o.max_args, av);
      const auto& args = av.args;
      if (!o.line.empty()) {
        bool hit = false;
        for (auto a : args) hit = hit || a.find(o.line) != std::string_view::npos;
        if (!hit) return false;
      }

      std::string_view filename = bounded(e->filename, sizeof(e->filename));
      r.set_type("exec");
      s.stamp(r, e->ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e->ktime_ns); });
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e->ktime_ns); });
      r.add_uint("pid", e->pid);
      r.add_uint("tid", e->tid);
      if (!s.add_task_context(r, e->ctx, true)) return false;
      r.add_uint("ppid", e->ppid);
      r.add_uint("uid", e->uid);
      r.add_bytes("comm", bounded(e->comm, sizeof(e->comm)));
      r.add_int("ret", e->retval);
      r.add_bytes("syscall", e->flags & EXECSNOOP_F_EXECVEAT ? "execveat" : "execve");
      r.add_bytes("filename", filename);
      r.add_bytes_list("argv", args);
      r.add_bool("argv_truncated", av.dropped);
      r.add_bool("arg_truncated", av.cut);
      r.add_bool("filename_truncated", e->flags & EXECSNOOP_F_FILENAME_TRUNCATED);
      r.add_bool("argv_unreadable", e->flags & EXECSNOOP_F_ARGV_UNREADABLE);
      r.add_bool("filename_unreadable", e->flags & EXECSNOOP_F_FILENAME_UNREADABLE);

      // Text: like libbpf-tools, the file executed, then argv[1..], then "...".
      if (!r.wants_text("ARGS")) return true;
      shown.clear();
      shown.push_back(filename);
      for (std::size_t i = 1; i < args.size(); ++i) shown.push_back(args[i]);
      if (av.dropped) shown.push_back("...");
      r.add_bytes_list("ARGS", shown).in_json = false;
      return true;
    });
  });
}
