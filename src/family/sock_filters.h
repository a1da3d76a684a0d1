#pragma once
// What tcplife and tcpstates share: the socket filters (-4/-6, -L/-D port
// lists, applied in the kernel through the tools' rodata), their one hook
// (sock:inet_sock_set_state), and the endpoint columns and fields.

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/hooks.h"
#include "family/inet.h"
#include "core/output.h"
#include "core/record.h"

namespace snoopkit {

struct SockFilterOptions {
  bool ipv4 = false, ipv6 = false;
  std::string lports, rports;
  CLI::Option* lports_opt = nullptr;
  CLI::Option* rports_opt = nullptr;
  std::vector<std::uint16_t> lport_list, rport_list;  // parsed by the check
};

/// -4/--ipv4, -6/--ipv6 (what: "sessions", "sockets"), -L/--localport and
/// -D/--remoteport (at most max_ports each, filtered in the kernel). The
/// port lists are checked with the other options, before the privilege
/// check: a bad list is a usage error (exit 2) for anyone.
inline void add_sock_filter_options(App& app, SockFilterOptions& o, const std::string& what,
                                    std::size_t max_ports) {
  CLI::App& cli = app.cli();
  auto* v4 = cli.add_flag("-4,--ipv4", o.ipv4, "Trace IPv4 " + what + " only");
  cli.add_flag("-6,--ipv6", o.ipv6, "Trace IPv6 " + what + " only")->excludes(v4);
  const std::string limit =
      " (comma-separated, at most " + std::to_string(max_ports) + "; in the kernel)";
  o.lports_opt = cli.add_option("-L,--localport", o.lports, "Trace only these local ports" + limit)
                     ->type_name("PORTS");
  o.rports_opt =
      cli.add_option("-D,--remoteport", o.rports, "Trace only these remote ports" + limit)
          ->type_name("PORTS");
  app.add_check([&o, max_ports] {
    if (o.lports_opt->count()) o.lport_list = parse_ports(o.lports, max_ports, "-L");
    if (o.rports_opt->count()) o.rport_list = parse_ports(o.rports, max_ports, "-D");
  });
}

/// Writes the filters into a skeleton's rodata (targ_family, lports,
/// n_lports, rports, n_rports).
template <class Rodata>
void apply_sock_filters(const SockFilterOptions& o, Rodata* ro) {
  auto set = [](auto& dst, const std::vector<std::uint16_t>& ports) {
    for (std::size_t i = 0; i < ports.size() && i < std::size(dst); ++i) dst[i] = ports[i];
    return static_cast<std::uint32_t>(ports.size());
  };
  ro->targ_family = o.ipv4 ? kFamilyInet : o.ipv6 ? kFamilyInet6 : 0;
  ro->n_lports = set(ro->lports, o.lport_list);
  ro->n_rports = set(ro->rports, o.rport_list);
}

/// The one hook both tools have: sock:inet_sock_set_state.
inline std::vector<HookPoint> sock_state_hooks(bpf_program* prog) {
  return {{"inet_sock_set_state",
           {{"tracepoint", {Requirement::tracepoint("sock", "inet_sock_set_state")}, {prog}}}}};
}

/// LADDR LPORT RADDR RPORT.
inline void add_endpoint_columns(std::vector<Column>& cols, int addr_width) {
  cols.push_back({"LADDR", "laddr", addr_width});
  cols.push_back({"LPORT", "lport", 5});
  cols.push_back({"RADDR", "raddr", addr_width});
  cols.push_back({"RPORT", "rport", 5});
}

/// "laddr", "lport", "raddr", "rport" (addresses: 16 bytes, see format_addr).
inline void add_endpoints(Record& r, std::uint16_t family, const std::uint8_t* saddr,
                          std::uint16_t sport, const std::uint8_t* daddr, std::uint16_t dport) {
  r.add_raw("laddr", format_addr(family, saddr));
  r.add_uint("lport", sport);
  r.add_raw("raddr", format_addr(family, daddr));
  r.add_uint("rport", dport);
}

}  // namespace snoopkit
