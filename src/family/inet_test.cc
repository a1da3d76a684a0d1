#include "family/inet.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace snoopkit {
namespace {

TEST(FormatAddr, Ipv4InNetworkOrder) {
  const std::uint8_t lo[4] = {127, 0, 0, 1};
  const std::uint8_t any[4] = {0, 0, 0, 0};
  const std::uint8_t high[4] = {255, 254, 10, 200};
  EXPECT_EQ(format_addr(kFamilyInet, lo), "127.0.0.1");
  EXPECT_EQ(format_addr(kFamilyInet, any), "0.0.0.0");
  EXPECT_EQ(format_addr(kFamilyInet, high), "255.254.10.200");
}

TEST(FormatAddr, Ipv6Rfc5952) {
  std::uint8_t a[16] = {};
  EXPECT_EQ(format_addr(kFamilyInet6, a), "::");
  a[15] = 1;
  EXPECT_EQ(format_addr(kFamilyInet6, a), "::1");
  const std::uint8_t doc[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x2a};
  EXPECT_EQ(format_addr(kFamilyInet6, doc), "2001:db8::2a");
  const std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  EXPECT_EQ(format_addr(kFamilyInet6, mapped), "::ffff:127.0.0.1");
  const std::uint8_t ll[16] = {0xfe, 0x80, 0,    0,    0,    0,    0,    0,
                               0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
  EXPECT_EQ(format_addr(kFamilyInet6, ll), "fe80::211:22ff:fe33:4455");
}

TEST(FormatAddr, OtherFamiliesAreEmpty) {
  const std::uint8_t a[16] = {1, 2, 3, 4};
  EXPECT_EQ(format_addr(0, a), "");
  EXPECT_EQ(format_addr(1, a), "");  // AF_UNIX
  EXPECT_EQ(family_name(1), "");
  EXPECT_EQ(ip_version(1), 0);
}

TEST(Family, NamesAndVersions) {
  EXPECT_EQ(family_name(kFamilyInet), "ipv4");
  EXPECT_EQ(family_name(kFamilyInet6), "ipv6");
  EXPECT_EQ(ip_version(kFamilyInet), 4);
  EXPECT_EQ(ip_version(kFamilyInet6), 6);
}

TEST(ParsePorts, ListsInOrderWithoutDuplicates) {
  EXPECT_EQ(parse_ports("80", 8, "-P"), (std::vector<std::uint16_t>{80}));
  EXPECT_EQ(parse_ports("80,443,80,0,65535", 8, "-P"),
            (std::vector<std::uint16_t>{80, 443, 0, 65535}));
}

TEST(ParsePorts, RejectsBadInput) {
  for (const char* bad : {"", ",", "80,", ",80", "80,,81", "http", "-1", "65536", "80 ", " 80",
                          "8O", "0x50", "99999999999999999999"}) {
    EXPECT_THROW(parse_ports(bad, 8, "-P"), UsageError) << "'" << bad << "'";
  }
}

TEST(ParsePorts, LimitCountsDistinctPorts) {
  EXPECT_EQ(parse_ports("1,2,3", 3, "-L").size(), 3u);
  EXPECT_EQ(parse_ports("1,2,3,3,1", 3, "-L").size(), 3u);
  try {
    parse_ports("1,2,3,4", 3, "-L");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("-L: at most 3 ports"), std::string::npos) << e.what();
  }
}

TEST(ParsePorts, MessageNamesOptionAndItem) {
  try {
    parse_ports("22,ssh", 8, "--ports");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "--ports: invalid port 'ssh' in '22,ssh': expected a number");
  }
}

TEST(TcpStateName, KernelNumbering) {
  EXPECT_EQ(tcp_state_name(1), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(2), "SYN_SENT");
  EXPECT_EQ(tcp_state_name(3), "SYN_RECV");
  EXPECT_EQ(tcp_state_name(4), "FIN_WAIT1");
  EXPECT_EQ(tcp_state_name(5), "FIN_WAIT2");
  EXPECT_EQ(tcp_state_name(6), "TIME_WAIT");
  EXPECT_EQ(tcp_state_name(7), "CLOSE");
  EXPECT_EQ(tcp_state_name(8), "CLOSE_WAIT");
  EXPECT_EQ(tcp_state_name(9), "LAST_ACK");
  EXPECT_EQ(tcp_state_name(10), "LISTEN");
  EXPECT_EQ(tcp_state_name(11), "CLOSING");
  EXPECT_EQ(tcp_state_name(12), "NEW_SYN_RECV");
  EXPECT_EQ(tcp_state_name(0), "UNKNOWN");
  EXPECT_EQ(tcp_state_name(13), "UNKNOWN");
  EXPECT_EQ(tcp_state_name(-1), "UNKNOWN");
}

TEST(IpProtocolName, KnownAndUnknown) {
  EXPECT_EQ(ip_protocol_name(6), "TCP");
  EXPECT_EQ(ip_protocol_name(17), "UDP");
  EXPECT_EQ(ip_protocol_name(132), "SCTP");
  EXPECT_EQ(ip_protocol_name(262), "MPTCP");
  EXPECT_EQ(ip_protocol_name(255), "");
}

}  // namespace
}  // namespace snoopkit
