#pragma once
// Internet addresses, ports and TCP states for the network tools: how they
// are printed and how port lists on the command line are read.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace snoopkit {

/// Address families as the kernel numbers them (AF_INET, AF_INET6).
inline constexpr std::uint16_t kFamilyInet = 2;
inline constexpr std::uint16_t kFamilyInet6 = 10;

/// The text form of an address: dotted quad for AF_INET (addr: 4 bytes in
/// network order), RFC 5952 for AF_INET6 (16 bytes; IPv4-mapped addresses
/// as ::ffff:a.b.c.d). Any other family: "".
std::string format_addr(std::uint16_t family, const std::uint8_t* addr);

/// "ipv4", "ipv6", or "" for another family (the JSON "family" value).
std::string_view family_name(std::uint16_t family);

/// 4, 6, or 0 for another family (the text IP column).
int ip_version(std::uint16_t family);

/// A comma-separated list of ports ("80,443"), each 0-65535, at most
/// max_ports of them, duplicates dropped; throws UsageError otherwise.
/// what names the option in the message (e.g. "-P").
std::vector<std::uint16_t> parse_ports(std::string_view text, std::size_t max_ports,
                                       std::string_view what);

/// The TCP state name of libbpf-tools' columns ("ESTABLISHED", "SYN_SENT",
/// ...); "UNKNOWN" outside 1-12.
std::string_view tcp_state_name(int state);

/// "TCP", "UDP", "SCTP", ... for an IPPROTO_* number; "" when unknown.
std::string_view ip_protocol_name(int protocol);

}  // namespace snoopkit
