// tcpstates: trace TCP state changes, with the time each socket spent in the old state.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/app.h"
#include "family/inet.h"
#include "family/sock_filters.h"
#include "bpf/tcpstates.h"
#include "tcpstates.skel.h"

using namespace snoopkit;

static_assert(sizeof(tcpstates_event) == 80 + SK_TASK_COMM_LEN);

namespace {

struct Options {
  bool time = false, timestamp = false, wide = false;
  SockFilterOptions sock;
};

std::string hex64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string millis(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(ns) / 1e6);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  App app("tcpstates",
          "Trace TCP state changes: every transition of every TCP socket, and how long it "
          "spent in the old state.");
  Options o;
  auto& cli = app.cli();
  add_sock_filter_options(app, o.sock, "sockets", TCPSTATES_MAX_PORTS);
  cli.add_flag("-T,--time", o.time, "Include a time column (HH:MM:SS)");
  cli.add_flag("-t,--timestamp", o.timestamp, "Include seconds since start");
  cli.add_flag("-w,--wide", o.wide, "Wide columns (fit IPv6 addresses) and an IP version column");
  cli.footer(
      "PID and COMM are the task running when the state changed: the socket's user for changes "
      "it made (connect(), listen(), close()), any task for those the network stack made on a "
      "packet or a timer; hence no filter by process. MS, the time in the old state, is - for a "
      "socket's first change seen. A closing socket's TIME_WAIT is kept by a separate timewait "
      "socket, so the connection is seen going to CLOSE.");

  return app.run(argc, argv, [&](Session& s) {
    // Open, then set this tool's rodata: only between open and load.
    auto skel = s.open<tcpstates_bpf>();
    apply_sock_filters(o.sock, skel->rodata);
    s.load_and_attach(skel, sock_state_hooks(skel->progs.tp_set_state));

    const int addr_width = o.wide ? 26 : 15;
    std::vector<Column> cols;
    if (o.time) cols.push_back({"TIME", "TIME", 8});
    if (o.timestamp) cols.push_back({"TIME(s)", "TIME(s)", 8});
    cols.push_back({"SKADDR", "skaddr", 16});
    cols.push_back({"PID", "pid", 7});
    cols.push_back({"COMM", "comm", 16});
    if (o.wide) cols.push_back({"IP", "IP", 2});
    add_endpoint_columns(cols, addr_width);
    cols.push_back({"OLDSTATE", "oldstate", 11});
    cols.push_back({"->", "ARROW", 2});
    cols.push_back({"NEWSTATE", "newstate", 11});
    cols.push_back({"MS", "MS", 0});

    return s.trace(skel, cols, [&](const void* data, std::size_t size, Record& r) {
      if (size < sizeof(tcpstates_event)) return false;
      const auto& e = *static_cast<const tcpstates_event*>(data);  // views into it stay valid
      bool known = e.flags & TCPSTATES_F_DELTA_KNOWN;

      r.set_type("tcpstate");
      s.stamp(r, e.ktime_ns);
      r.add_text_only("TIME", [&] { return s.clock().hms(e.ktime_ns); });
      r.add_text_only("TIME(s)", [&] { return s.clock().since_start(e.ktime_ns); });
      r.add_raw("skaddr", hex64(e.skaddr));
      r.add_uint("pid", e.pid);
      r.add_uint("tid", e.tid);
      r.add_bytes("comm", std::string_view(e.comm, strnlen(e.comm, sizeof(e.comm))));
      r.add_raw("family", std::string(family_name(e.family)));
      r.add_text_only("IP", [&] { return std::to_string(ip_version(e.family)); });
      add_endpoints(r, e.family, e.saddr, e.sport, e.daddr, e.dport);
      r.add_raw("oldstate", std::string(tcp_state_name(e.oldstate)));
      r.add_text_only("ARROW", "->");
      r.add_raw("newstate", std::string(tcp_state_name(e.newstate)));
      if (known) r.add_uint("delta_ns", e.delta_ns).in_text = false;
      r.add_text_only("MS", [&] { return known ? millis(e.delta_ns) : "-"; });
      return true;
    });
  });
}
