#include "bpfload/hexdump.h"

#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

using namespace std::string_literals;

TEST(Hexdump, Hex) {
  std::string out = "x";
  append_hex(out, "\x00\x01\x7f\x80\xff*"s);
  EXPECT_EQ(out, "x00017f80ff2a");
  out.clear();
  append_hex(out, "");
  EXPECT_EQ(out, "");
}

TEST(Hexdump, FullLine) {
  std::string data =
      "\x2a\x01\x00\x00"
      "bash\x00\x00\x00\x00"
      "\x1b\n\\~"s;
  EXPECT_EQ(hexdump_line(data, 0),
            "00000000  2a 01 00 00 62 61 73 68  00 00 00 00 1b 0a 5c 7e  |*...bash......\\~|");
}

TEST(Hexdump, ShortLastLine) {
  std::string data(18, 'A');
  EXPECT_EQ(hexdump_line(data, 16),
            "00000010  41 41                                             |AA|");
  EXPECT_EQ(hexdump_line(data, 16).size(), hexdump_line(data, 0).size() - 14);
  EXPECT_EQ(hexdump_line("", 0), "00000000                                                    ||");
}

}  // namespace
}  // namespace snoopkit
