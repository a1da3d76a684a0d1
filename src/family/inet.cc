#include "family/inet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "core/error.h"

namespace snoopkit {

std::string format_addr(std::uint16_t family, const std::uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  int af = family == kFamilyInet ? AF_INET : family == kFamilyInet6 ? AF_INET6 : -1;
  if (af < 0 || !inet_ntop(af, addr, buf, sizeof(buf))) return {};
  return buf;
}

std::string_view family_name(std::uint16_t family) {
  return family == kFamilyInet ? "ipv4" : family == kFamilyInet6 ? "ipv6" : "";
}

int ip_version(std::uint16_t family) {
  return family == kFamilyInet ? 4 : family == kFamilyInet6 ? 6 : 0;
}

std::vector<std::uint16_t> parse_ports(std::string_view text, std::size_t max_ports,
                                       std::string_view what) {
  auto bad = [&](std::string_view item, const char* why) {
    return UsageError(std::string(what) + ": invalid port '" + std::string(item) + "' in '" +
                      std::string(text) + "': " + why);
  };
  std::vector<std::uint16_t> ports;
  std::size_t pos = 0;
  while (true) {
    std::size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      throw bad(item, "expected a number");
    if (value > 65535) throw bad(item, "ports are 0-65535");
    if (std::find(ports.begin(), ports.end(), value) == ports.end())
      ports.push_back(static_cast<std::uint16_t>(value));
    if (ports.size() > max_ports)
      throw UsageError(std::string(what) + ": at most " + std::to_string(max_ports) +
                       " ports, got more in '" + std::string(text) + "'");
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return ports;
}

std::string_view tcp_state_name(int state) {
  static constexpr std::array<std::string_view, 13> kNames = {
      "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
      "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
  };
  if (state < 1 || state >= static_cast<int>(kNames.size())) return kNames[0];
  return kNames[static_cast<std::size_t>(state)];
}

std::string_view ip_protocol_name(int protocol) {
  switch (protocol) {
    case 1:
      return "ICMP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 58:
      return "ICMPV6";
    case 132:
      return "SCTP";
    case 136:
      return "UDPLITE";
    case 262:
      return "MPTCP";
  }
  return "";
}

}  // namespace snoopkit
