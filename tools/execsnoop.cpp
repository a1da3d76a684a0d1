// execsnoop: trace exec() syscalls, one line per new program.
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "app.h"
#include "btf_offsets.h"
#include "execsnoop.h"
#include "execsnoop.skel.h"

using namespace snoopkit;

static_assert(sizeof(execsnoop_event) == 40 + SK_TASK_COMM_LEN + EXECSNOOP_FILENAME_SIZE +
                                             EXECSNOOP_ARGS_SIZE);

namespace {

struct Options {
  bool time = false, timestamp = false, fails = false, quote = false, print_uid = false;
  std::string line, ppid;
  unsigned max_args = EXECSNOOP_DEFAULT_ARGS;
};

std::string_view bounded(const char* s, std::size_t cap) {
  return {s, strnlen(s, cap)};
}

}  // namespace

int main(int argc, char** argv) {
  App app("execsnoop", "Trace exec() syscalls: every program started, with its arguments.",
          {.pid = "-p,--pid", .uid = "-u,--uid", .cgroup = "-c,--cgroup", .comm = "-n,--name",
           .comm_help = "Trace only commands whose new name contains NAME"});
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
  cli.add_option("--max-args", o.max_args, "Arguments to capture (1-60, default 20)")
      ->type_name("N")
      ->transform(whole_number(1, EXECSNOOP_MAX_ARGS));

  std::uint32_t ppid = 0;
  app.add_check([&] {
    if (cli.count("--ppid")) ppid = parse_pid(o.ppid, "PPID");
  });

  return app.run(argc, argv, [&](Session& s) {
    // The parent pid is read at task_struct offsets from the kernel's BTF
    // (or --btf): no CO-RE relocation, so libbpf never loads that BTF.
    const TaskOffsets task = task_offsets(s.options().btf_path);

    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<execsnoop_bpf>();
    skel->rodata->task_real_parent_off = task.real_parent;
    skel->rodata->task_tgid_off = task.tgid;
    skel->rodata->max_args = o.max_args;
    // In-flight execs keep room for max_args arguments only.
    const std::uint32_t args_cap = o.max_args * EXECSNOOP_ARG_SIZE;
    skel->rodata->args_cap = args_cap;
    if (bpf_map__set_value_size(skel->maps.execs, offsetof(execsnoop_event, args) + args_cap))
      throw Error("size the execs map", errno);
    skel->rodata->include_failed = o.fails;
    skel->rodata->targ_ppid = ppid;

    auto tp = [](const char* name) { return Requirement::tracepoint("syscalls", name); };
    s.load_and_attach(
        skel, {{"execve",
                {{"tracepoint",
                  {tp("sys_enter_execve"), tp("sys_exit_execve")},
                  {skel->progs.tp_enter_execve, skel->progs.tp_exit_execve}}}},
               {"execveat",
                {{"tracepoint",
                  {tp("sys_enter_execveat"), tp("sys_exit_execveat")},
                  {skel->progs.tp_enter_execveat, skel->progs.tp_exit_execveat}}},
                /*required=*/false}});

    std::vector<Column> cols;
    if (o.time) cols.push_back({"TIME", "TIME", 8});
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    if (o.print_uid) cols.push_back({"UID", "uid", 6});
    cols.push_back({"PCOMM", "comm", 16});
    cols.push_back({"PID", "pid", 6});
    cols.push_back({"PPID", "ppid", 6});
    cols.push_back({"RET", "ret", 3, false});
    cols.push_back({"ARGS", "ARGS", 0, true, o.quote});

    std::vector<std::string_view> args;
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      constexpr std::size_t kHeader = offsetof(execsnoop_event, args);
      if (size < kHeader) return false;
      const auto* e = static_cast<const execsnoop_event*>(data);

      // argv: args_count NUL-terminated strings within the bytes received.
      args.clear();
      std::size_t avail = std::min<std::size_t>({size - kHeader, e->args_size, EXECSNOOP_ARGS_SIZE});
      for (std::size_t off = 0; off < avail && args.size() < e->args_count;) {
        std::string_view a = bounded(e->args + off, avail - off);
        args.push_back(a);
        off += a.size() + 1;
      }
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
      r.add_uint("ppid", e->ppid);
      r.add_uint("uid", e->uid);
      r.add_bytes("comm", bounded(e->comm, sizeof(e->comm)));
      r.add_int("ret", e->retval);
      r.add_raw("syscall", e->flags & EXECSNOOP_F_EXECVEAT ? "execveat" : "execve");
      r.add_bytes("filename", filename);
      r.add_bytes_list("argv", args);
      r.add_bool("argv_truncated", e->flags & EXECSNOOP_F_ARGS_TRUNCATED);
      r.add_bool("arg_truncated", e->flags & EXECSNOOP_F_ARG_TRUNCATED);
      r.add_bool("filename_truncated", e->flags & EXECSNOOP_F_FILENAME_TRUNCATED);

      // Text: like libbpf-tools, the file executed, then argv[1..], then "...".
      std::vector<std::string_view> shown;
      shown.push_back(filename);
      for (std::size_t i = 1; i < args.size(); ++i) shown.push_back(args[i]);
      if (e->flags & EXECSNOOP_F_ARGS_TRUNCATED) shown.push_back("...");
      r.add_bytes_list("ARGS", shown).in_json = false;
      return true;
    });
  });
}
