// bindsnoop: trace bind() on IPv4 and IPv6 sockets, one line per call.
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "bpf/bindsnoop.h"
#include "bindsnoop.skel.h"
#include "bindsnoop_hooks.h"
#include "family/inet.h"

using namespace snoopkit;

static_assert(sizeof(bindsnoop_event) == 56 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool timestamp = false, failed = false;
  std::string ports;
};

// Socket options, libbpf-tools' OPTS letters and their names for JSON.
struct Opt {
  unsigned bit;
  char letter;
  std::string_view name;
};
constexpr Opt kOpts[] = {
    {BINDSNOOP_OPT_FREEBIND, 'F', "IP_FREEBIND"},
    {BINDSNOOP_OPT_TRANSPARENT, 'T', "IP_TRANSPARENT"},
    {BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT, 'N', "IP_BIND_ADDRESS_NO_PORT"},
    {BINDSNOOP_OPT_REUSEADDR, 'R', "SO_REUSEADDR"},
    {BINDSNOOP_OPT_REUSEPORT, 'r', "SO_REUSEPORT"},
};

}  // namespace

int main(int argc, char** argv) {
  App app("bindsnoop",
          "Trace bind() on IPv4 and IPv6 sockets: the address and port asked for, the port "
          "bound, the protocol, socket options and the result.",
          {.pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only commands whose name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-t,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-x,--failed", o.failed, "Include failed bind()s (RET is -errno)");
  auto* ports_opt =
      cli.add_option("-P,--ports", o.ports,
                     "Trace only these ports, asked for or bound (comma-separated, at most 16; in "
                     "the kernel)")
          ->type_name("PORTS");
  cli.footer(
      "PORT is the port bound (the kernel's choice when 0 was asked for) after a successful "
      "bind, else the port asked for. OPTS: F IP_FREEBIND, T IP_TRANSPARENT, N "
      "IP_BIND_ADDRESS_NO_PORT, R SO_REUSEADDR, r SO_REUSEPORT. IF is the SO_BINDTODEVICE "
      "interface index.");

  std::vector<std::uint16_t> ports;  // a usage error is found before privileges
  app.add_check([&] {
    if (ports_opt->count()) ports = parse_ports(o.ports, BINDSNOOP_MAX_PORTS, "-P");
  });

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<bindsnoop_bpf>();
    skel->rodata->include_failed = o.failed;
    for (std::size_t i = 0; i < ports.size(); ++i) skel->rodata->ports[i] = ports[i];
    skel->rodata->n_ports = static_cast<std::uint32_t>(ports.size());

    s.load_and_attach(skel, bindsnoop_hook_points(skel.get()));

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    cols.push_back({"PID", "pid", 7});
    cols.push_back({"COMM", "comm", 16});
    cols.push_back({"RET", "ret", 3, false});
    cols.push_back({"PROTO", "PROTO", 5});
    cols.push_back({"OPTS", "OPTS", 5});
    cols.push_back({"IF", "IF", 4, false});
    cols.push_back({"PORT", "PORT", 5, false});
    cols.push_back({"ADDR", "addr", 0});

    std::vector<std::string_view> opt_names;
    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(bindsnoop_event)) return false;
      const auto& e = *static_cast<const bindsnoop_event*>(data);  // views into it stay valid
      bool known = e.flags & BINDSNOOP_F_SOCK_KNOWN;

      r.set_type("bind");
      s.stamp(r, e.ktime_ns);
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e.ktime_ns); });
      r.add_uint("pid", e.pid);
      r.add_uint("tid", e.tid);
      if (!s.add_task_context(r, e.ctx, true)) return false;
      r.add_uint("uid", e.uid);
      r.add_bytes("comm", std::string_view(e.comm, strnlen(e.comm, sizeof(e.comm))));
      r.add_int("ret", e.ret);
      r.add_raw("family", std::string(family_name(e.family)));
      r.add_raw("addr", format_addr(e.family, e.addr));
      r.add_uint("port", e.port);
      std::string letters(std::size(kOpts), '.');
      opt_names.clear();
      for (std::size_t i = 0; i < std::size(kOpts); ++i) {
        if (!(e.opts & kOpts[i].bit)) continue;
        letters[i] = kOpts[i].letter;
        opt_names.push_back(kOpts[i].name);
      }
      if (known) {
        r.add_uint("bound_port", e.bound_port);
        r.add_uint("protocol", e.protocol);
        r.add_int("bound_dev_if", e.bound_dev_if);
        r.add_bytes_list("options", opt_names);
      }
      std::string_view proto = known ? ip_protocol_name(e.protocol) : "?";
      r.add_text_only("PROTO", [&] { return proto.empty() ? std::to_string(e.protocol) : std::string(proto); });
      r.add_text_only("OPTS", [&] { return known ? letters : "?"; });
      r.add_text_only("IF", [&] { return known ? std::to_string(e.bound_dev_if) : "?"; });
      r.add_text_only("PORT", [&] { return std::to_string(e.ret == 0 && known ? e.bound_port : e.port); });
      return true;
    });
  });
}
