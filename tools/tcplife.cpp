// tcplife: trace TCP sessions, one line per session when it closes.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "family/inet.h"
#include "family/sock_filters.h"
#include "bpf/tcplife.h"
#include "tcplife.skel.h"

using namespace snoopkit;

static_assert(sizeof(tcplife_event) == 80 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool time = false, timestamp = false, wide = false;
  SockFilterOptions sock;
};

std::string fixed(double v, const char* fmt) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  App app("tcplife",
          "Trace TCP sessions: one line per session when it closes, with its duration and the "
          "bytes sent and received.",
          {.pid = "-p,--pid",
           .uid = "-u,--uid",
           .cgroup = "-c,--cgroup",
           .comm = "-n,--name",
           .comm_help = "Trace only sessions whose owner's name contains NAME",
           .container = true});
  Options o;
  auto& cli = app.cli();
  add_sock_filter_options(app, o.sock, "sessions", TCPLIFE_MAX_PORTS);
  cli.add_flag("-T,--time", o.time, "Include a time column (HH:MM:SS)");
  cli.add_flag("-t,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-w,--wide", o.wide, "Wide address columns (fit IPv6 addresses)");
  cli.footer(
      "A session's owner (PID, COMM, UID) is the process that called connect(), or for an "
      "accepted session the one that closed or shut it down. A session reset before its owner "
      "closed it has no known owner: PID shows -, and the filters by process drop it.");

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<tcplife_bpf>();
    apply_sock_filters(o.sock, skel->rodata);
    s.load_and_attach(skel, sock_state_hooks(skel->progs.tp_set_state));

    const int addr_width = o.wide ? 26 : 15;
    std::vector<Column> cols;
    if (o.time) cols.push_back({"TIME", "TIME", 8});
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    cols.push_back({"PID", "pid", 7});
    cols.push_back({"COMM", "comm", 16});
    add_endpoint_columns(cols, addr_width);
    cols.push_back({"TX_KB", "TX_KB", 6});
    cols.push_back({"RX_KB", "RX_KB", 6});
    cols.push_back({"MS", "MS", 0});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(tcplife_event)) return false;
      const auto& e = *static_cast<const tcplife_event*>(data);  // views into it stay valid

      r.set_type("tcplife");
      s.stamp(r, e.ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e.ktime_ns); });
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e.ktime_ns); });
      if (e.flags & TCPLIFE_F_OWNER_KNOWN) {
        r.add_uint("pid", e.pid);
        if (!s.add_task_context(r, e.ctx, false)) return false;
        r.add_uint("uid", e.uid);
        r.add_bytes("comm", std::string_view(e.comm, strnlen(e.comm, sizeof(e.comm))));
      } else {
        r.add_text_only("pid", "-");
        r.add_text_only("comm", "-");
      }
      r.add_raw("family", std::string(family_name(e.family)));
      add_endpoints(r, e.family, e.saddr, e.sport, e.daddr, e.dport);
      r.add_bool("active", e.flags & TCPLIFE_F_ACTIVE);
      r.add_uint("tx_bytes", e.tx_bytes);
      r.add_uint("rx_bytes", e.rx_bytes);
      r.add_uint("duration_ns", e.duration_ns);
      r.add_text_only("TX_KB",
                      [&] { return fixed(static_cast<double>(e.tx_bytes) / 1024, "%.2f"); });
      r.add_text_only("RX_KB",
                      [&] { return fixed(static_cast<double>(e.rx_bytes) / 1024, "%.2f"); });
      r.add_text_only("MS",
                      [&] { return fixed(static_cast<double>(e.duration_ns) / 1e6, "%.2f"); });
      return true;
    });
  });
}
