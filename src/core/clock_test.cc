#include "core/clock.h"

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

TEST(FormatRfc3339, Epoch) {
  EXPECT_EQ(Clock::format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(FormatRfc3339, KnownTimestamps) {
  EXPECT_EQ(Clock::format_rfc3339(1700000000123456789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(Clock::format_rfc3339(951782400 * kSecond + 1), "2000-02-29T00:00:00.000000001Z");
  EXPECT_EQ(Clock::format_rfc3339(4102444799 * kSecond + 999999999),
            "2099-12-31T23:59:59.999999999Z");
}

TEST(FormatRfc3339, BeforeTheEpoch) {
  // Floor division: -1 ns is the last nanosecond of 1969, not "-0.000000001".
  EXPECT_EQ(Clock::format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(Clock::format_rfc3339(-kSecond), "1969-12-31T23:59:59.000000000Z");
  EXPECT_EQ(Clock::format_rfc3339(-kSecond - kSecond / 2), "1969-12-31T23:59:58.500000000Z");
  EXPECT_EQ(Clock::format_rfc3339(-86400 * kSecond), "1969-12-31T00:00:00.000000000Z");
}

TEST(Clock, WallNsMatchesRealtime) {
  Clock c;
  std::int64_t wall = c.wall_ns(Clock::mono_now());
  EXPECT_LT(std::llabs(wall - realtime_ns()), kSecond);
}

TEST(Clock, Rfc3339RoundTrip) {
  Clock c;
  std::uint64_t mono = Clock::mono_now();
  std::string s = c.rfc3339(mono);
  EXPECT_EQ(s, Clock::format_rfc3339(c.wall_ns(mono)));
  std::smatch m;
  ASSERT_TRUE(
      std::regex_match(s, m, std::regex(R"((\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})Z)")))
      << s;
  tm utc{};
  utc.tm_year = std::stoi(m[1]) - 1900;
  utc.tm_mon = std::stoi(m[2]) - 1;
  utc.tm_mday = std::stoi(m[3]);
  utc.tm_hour = std::stoi(m[4]);
  utc.tm_min = std::stoi(m[5]);
  utc.tm_sec = std::stoi(m[6]);
  std::int64_t parsed = static_cast<std::int64_t>(timegm(&utc)) * kSecond + std::stoll(m[7]);
  EXPECT_EQ(parsed, c.wall_ns(mono));
  EXPECT_LT(std::llabs(parsed - realtime_ns()), kSecond);
}

TEST(Clock, CachedRfc3339MatchesTheFormatterAcrossSeconds) {
  Clock c;
  const std::uint64_t mono = Clock::mono_now();
  char buf[Clock::kRfc3339Len];
  // Within one second, across second, minute and day boundaries (the
  // cache holds the date part of one second), and back again.
  for (std::uint64_t step : {0ull, 1ull, 999'999'999ull, 1'000'000'000ull, 59'000'000'001ull,
                             86'400'000'000'000ull, 1ull, 3'600'000'000'123ull}) {
    const std::uint64_t m = mono + step;
    EXPECT_EQ(c.rfc3339(m, buf), Clock::format_rfc3339(c.wall_ns(m))) << step;
    EXPECT_EQ(c.rfc3339(m), Clock::format_rfc3339(c.wall_ns(m))) << step;
  }
}

TEST(Clock, CachedHmsFollowsTheSecond) {
  Clock c;
  const std::uint64_t mono = Clock::mono_now();
  for (std::uint64_t step : {0ull, 1'000'000'000ull, 61'000'000'000ull, 0ull}) {
    const std::int64_t sec = (c.wall_ns(mono + step) - c.wall_ns(mono + step) % kSecond) / kSecond;
    time_t t = static_cast<time_t>(sec);
    tm local{};
    localtime_r(&t, &local);
    char want[16];
    std::snprintf(want, sizeof(want), "%02d:%02d:%02d", local.tm_hour, local.tm_min, local.tm_sec);
    EXPECT_EQ(c.hms(mono + step), want) << step;
  }
}

TEST(Clock, ResyncKeepsOffset) {
  Clock c;
  std::uint64_t mono = Clock::mono_now();
  std::int64_t before = c.wall_ns(mono);
  c.resync();
  // Without an NTP step in between the offset moves by far less than 1 ms.
  EXPECT_LT(std::llabs(c.wall_ns(mono) - before), kSecond / 1000);
}

TEST(Clock, SinceStartHasSixDecimals) {
  std::uint64_t before = Clock::mono_now();
  Clock c;
  std::string s = c.since_start(Clock::mono_now());
  EXPECT_TRUE(std::regex_match(s, std::regex(R"(\d+\.\d{6})"))) << s;
  std::string later = c.since_start(before + 2 * kSecond);
  ASSERT_TRUE(std::regex_match(later, std::regex(R"(\d+\.\d{6})"))) << later;
  double v = std::stod(later);
  EXPECT_GT(v, 1.9);
  EXPECT_LE(v, 2.0);
}

TEST(Clock, HmsFormat) {
  Clock c;
  std::string s = c.hms(Clock::mono_now());
  EXPECT_TRUE(std::regex_match(s, std::regex(R"(\d\d:\d\d:\d\d)"))) << s;
}

}  // namespace
}  // namespace snoopkit
