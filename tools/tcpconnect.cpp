// tcpconnect: trace active TCP connections (connect()), one line per connection attempt.
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "family/inet.h"
#include "bpf/tcpconnect.h"
#include "tcpconnect.skel.h"
#include "tcpconnect_hooks.h"

using namespace snoopkit;

static_assert(sizeof(tcpconnect_event) == 64 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool timestamp = false, print_uid = false, source_port = false;
  std::string ports;
};

}  // namespace

int main(int argc, char** argv) {
  App app("tcpconnect",
          "Trace active TCP connections: every connect() that sends a SYN, IPv4 and IPv6.",
          {.pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only commands whose name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  cli.add_flag("-t,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-U,--print-uid", o.print_uid, "Include a UID column");
  cli.add_flag("-s,--source-port", o.source_port, "Include a source port column (SPORT)");
  auto* ports_opt =
      cli.add_option(
             "-P,--port", o.ports,
             "Trace only these destination ports (comma-separated, at most 16; in the kernel)")
          ->type_name("PORTS");

  std::vector<std::uint16_t> ports;  // a usage error is found before privileges
  app.add_check([&] {
    if (ports_opt->count()) ports = parse_ports(o.ports, TCPCONNECT_MAX_PORTS, "-P");
  });

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<tcpconnect_bpf>();
    for (std::size_t i = 0; i < ports.size(); ++i) skel->rodata->dports[i] = ports[i];
    skel->rodata->n_dports = static_cast<std::uint32_t>(ports.size());

    s.load_and_attach(skel, tcpconnect_hook_points(skel.get()));

    std::vector<Column> cols;
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    if (o.print_uid) cols.push_back({"UID", "uid", 6});
    cols.push_back({"PID", "pid", 6});
    cols.push_back({"COMM", "comm", 16});
    cols.push_back({"IP", "IP", 2});
    cols.push_back({"SADDR", "saddr", 16});
    cols.push_back({"DADDR", "daddr", 16});
    if (o.source_port) cols.push_back({"SPORT", "sport", 5});
    cols.push_back({"DPORT", "dport", 0});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(tcpconnect_event)) return false;
      const auto& e = *static_cast<const tcpconnect_event*>(data);  // views into it stay valid

      r.set_type("connect");
      s.stamp(r, e.ktime_ns);
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e.ktime_ns); });
      r.add_uint("pid", e.pid);
      r.add_uint("tid", e.tid);
      if (!s.add_task_context(r, e.ctx, true)) return false;
      r.add_uint("uid", e.uid);
      r.add_bytes("comm", std::string_view(e.comm, strnlen(e.comm, sizeof(e.comm))));
      r.add_raw("family", std::string(family_name(e.family)));
      r.add_text_only("IP", [&] { return std::to_string(ip_version(e.family)); });
      r.add_raw("saddr", format_addr(e.family, e.saddr));
      r.add_uint("sport", e.sport);
      r.add_raw("daddr", format_addr(e.family, e.daddr));
      r.add_uint("dport", e.dport);
      return true;
    });
  });
}
