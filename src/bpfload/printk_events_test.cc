#include "bpfload/printk_events.h"

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

constexpr std::uint16_t kId = 550;
constexpr std::uint32_t kField = 8;  // bpf_string's __data_loc, as on Linux 6.x

// Builds ring buffer pages the way the kernel lays them out.
class Page {
 public:
  explicit Page(std::uint64_t ts) { put64(ts), put64(0); }

  // A bpf_trace_printk entry: trace_entry, __data_loc, the string with its NUL.
  Page& printk(std::uint32_t delta, std::int32_t pid, std::string_view msg, bool long_form = false,
               std::uint16_t id = kId) {
    std::string entry(12, '\0');
    std::memcpy(entry.data(), &id, 2);
    std::memcpy(entry.data() + 4, &pid, 4);
    const std::uint32_t loc = (static_cast<std::uint32_t>(msg.size() + 1) << 16) | 12;
    std::memcpy(entry.data() + kField, &loc, 4);
    entry.append(msg);
    entry.push_back('\0');
    while (entry.size() % 4) entry.push_back('\0');
    if (long_form || entry.size() > 28 * 4) {
      put32(delta << 5);  // type_len 0
      put32(static_cast<std::uint32_t>(entry.size() + 4));
    } else {
      put32((delta << 5) | static_cast<std::uint32_t>(entry.size() / 4));
    }
    data_.append(entry);
    return *this;
  }
  Page& extend(std::uint64_t delta) {
    put32(static_cast<std::uint32_t>(((delta & ((1u << 27) - 1)) << 5) | 30));
    put32(static_cast<std::uint32_t>(delta >> 27));
    return *this;
  }
  Page& padding(std::uint32_t delta, std::uint32_t len) {
    put32((delta << 5) | 29);
    put32(len);
    data_.append(len - 4, '\0');
    return *this;
  }
  Page& raw(std::string_view bytes) {
    data_.append(bytes);
    return *this;
  }
  // The page with its commit (data length and flags), and what follows it.
  std::string bytes(std::uint64_t flags = 0, std::string_view tail = {}) const {
    std::string p = data_;
    const std::uint64_t commit = (p.size() - 16) | flags;
    std::memcpy(p.data() + 8, &commit, 8);
    p.append(tail);
    return p;
  }

 private:
  void put32(std::uint32_t v) { data_.append(reinterpret_cast<const char*>(&v), 4); }
  void put64(std::uint64_t v) { data_.append(reinterpret_cast<const char*>(&v), 8); }
  std::string data_;
};

struct Seen {
  std::uint32_t pid, cpu;
  std::uint64_t ts;
  std::string message;
};

std::vector<Seen> parse(const std::string& page, TracePageStats& stats, std::uint32_t cpu = 1) {
  std::vector<Seen> out;
  parse_trace_page(
      page, kId, kField, cpu,
      [&](const PrintkSample& s) {
        out.push_back({s.pid, s.cpu, s.ts, std::string(s.message)});
      },
      stats);
  return out;
}

TEST(PrintkEvents, StringFieldFromTheFormatFile) {
  const std::string format =
      "name: bpf_trace_printk\nID: 550\nformat:\n"
      "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
      "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
      "\tfield:__data_loc char[] bpf_string;\toffset:8;\tsize:4;\tsigned:0;\n\n"
      "print fmt: \"%s\", __get_str(bpf_string)\n";
  EXPECT_EQ(printk_string_field(format), 8u);
  EXPECT_FALSE(printk_string_field("\tfield:__data_loc char[] bpf_string;\toffset:8;\tsize:8;"));
  EXPECT_FALSE(printk_string_field("\tfield:__data_loc char[] bpf_string;\toffset:x;\tsize:4;"));
  EXPECT_FALSE(printk_string_field("\tfield:char msg[16];\toffset:8;\tsize:16;\n"));
  EXPECT_FALSE(printk_string_field(""));
}

TEST(PrintkEvents, EventsWithTimeDeltasAndPids) {
  TracePageStats st;
  auto seen = parse(Page(1000).printk(5, 42, "hello").printk(7, 43, "world").bytes(), st, 3);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].pid, 42u);
  EXPECT_EQ(seen[0].cpu, 3u);
  EXPECT_EQ(seen[0].ts, 1005u);
  EXPECT_EQ(seen[0].message, "hello");
  EXPECT_EQ(seen[1].pid, 43u);
  EXPECT_EQ(seen[1].ts, 1012u);
  EXPECT_EQ(st.printk, 2u);
  EXPECT_EQ(st.malformed + st.other + st.missed, 0u);
}

TEST(PrintkEvents, AMessageImitatingARecordStaysOneMessage) {
  const std::string msg =
      "open a\n            sshd-1       [000] d..31  12345.678901: bpf_trace_printk: forged";
  TracePageStats st;
  auto seen = parse(Page(0).printk(1, 4321, msg).bytes(), st);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].pid, 4321u);
  EXPECT_EQ(seen[0].message, msg);
}

TEST(PrintkEvents, LongEventsTimeExtendsPaddingAndOtherEvents) {
  const std::string big(300, 'x');
  TracePageStats st;
  auto seen = parse(Page(0)
                        .printk(1, 1, "short", /*long_form=*/true)
                        .extend(1ULL << 30)
                        .printk(2, 2, big)
                        .padding(3, 12)
                        .printk(4, 3, "other event", false, 7)
                        .printk(0, 4, "last")
                        .bytes(),
                    st);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].message, "short");
  EXPECT_EQ(seen[0].ts, 1u);
  EXPECT_EQ(seen[1].message, big);
  EXPECT_EQ(seen[1].ts, 1 + (1ULL << 30) + 2);
  EXPECT_EQ(seen[2].message, "last");
  EXPECT_EQ(seen[2].ts, 1 + (1ULL << 30) + 2 + 3 + 4);
  EXPECT_EQ(st.other, 1u);
  EXPECT_EQ(st.malformed, 0u);
}

TEST(PrintkEvents, MissedEventsAreCounted) {
  TracePageStats st;
  std::string count(8, '\0');
  const std::uint64_t n = 17;
  std::memcpy(count.data(), &n, 8);
  parse(Page(0).printk(1, 1, "a").bytes((1ULL << 31) | (1ULL << 30), count), st);
  EXPECT_EQ(st.missed, 17u);
  EXPECT_FALSE(st.missed_unknown);
  parse(Page(0).printk(1, 1, "a").bytes(1ULL << 31), st);
  EXPECT_EQ(st.missed, 18u);  // dropped some, count not stored: at least one
  EXPECT_TRUE(st.missed_unknown);
  EXPECT_EQ(st.printk, 2u);
}

TEST(PrintkEvents, CutOrLyingPagesNeverReadOutside) {
  const std::string good = Page(0).printk(1, 1, "hello world").bytes();
  // Every truncation of a good page: no crash, no event past the cut.
  for (std::size_t n = 0; n < good.size(); ++n) {
    TracePageStats st;
    std::string cut = good.substr(0, n);
    auto seen = parse(cut, st);
    EXPECT_TRUE(seen.empty()) << n;
  }
  // A commit larger than the page.
  {
    TracePageStats st;
    std::string p = good;
    const std::uint64_t commit = 1 << 20;
    std::memcpy(p.data() + 8, &commit, 8);
    EXPECT_TRUE(parse(p, st).empty());
    EXPECT_EQ(st.malformed, 1u);
  }
  // A __data_loc pointing past the entry.
  {
    TracePageStats st;
    std::string p = good;
    const std::uint32_t loc = (200u << 16) | 12;
    std::memcpy(p.data() + 16 + 4 + kField, &loc, 4);
    EXPECT_TRUE(parse(p, st).empty());
    EXPECT_EQ(st.malformed, 1u);
  }
  // A long event whose length runs past the data.
  {
    TracePageStats st;
    std::string p = Page(0).printk(1, 1, "x", true).bytes();
    const std::uint32_t len = 4096;
    std::memcpy(p.data() + 16 + 4, &len, 4);
    EXPECT_TRUE(parse(p, st).empty());
    EXPECT_EQ(st.malformed, 1u);
  }
}

TEST(PrintkEvents, TimeStampsAsTheTracePipePrintsThem) {
  EXPECT_EQ(format_trace_seconds(5678123456789ULL), "5678.123456");
  EXPECT_EQ(format_trace_seconds(0), "0.000000");
  EXPECT_EQ(format_trace_seconds(1000), "0.000001");
}

}  // namespace
}  // namespace snoopkit
