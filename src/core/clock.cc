#include "core/clock.h"

#include <time.h>

#include <cstdio>
#include <cstring>

#include "core/record.h"

namespace snoopkit {
namespace {

std::int64_t read_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Floor division, so times before the epoch still format correctly.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Writes v (< 10^n) as exactly n digits.
void put_digits(char* p, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

Clock::Clock() {
  resync();
  start_mono_ns_ = mono_now();
}

void Clock::resync() {
  // Bracket the wall clock reading with two monotonic ones: the offset is
  // then exact to within half their gap.
  std::int64_t m1 = read_ns(CLOCK_MONOTONIC);
  std::int64_t w = read_ns(CLOCK_REALTIME);
  std::int64_t m2 = read_ns(CLOCK_MONOTONIC);
  offset_ns_ = w - (m1 + (m2 - m1) / 2);
}

std::uint64_t Clock::mono_now() {
  return static_cast<std::uint64_t>(read_ns(CLOCK_MONOTONIC));
}

std::int64_t Clock::wall_ns(std::uint64_t mono_ns) const {
  return static_cast<std::int64_t>(mono_ns) + offset_ns_;
}

std::string Clock::format_rfc3339(std::int64_t wall) {
  std::int64_t sec = floor_div(wall, 1'000'000'000);
  std::int64_t nsec = wall - sec * 1'000'000'000;
  time_t t = static_cast<time_t>(sec);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(nsec));
  return buf;
}

std::string Clock::rfc3339(std::uint64_t mono_ns) const {
  return format_rfc3339(wall_ns(mono_ns));
}

std::string_view Clock::rfc3339(std::uint64_t mono_ns, char* buf) const {
  const std::int64_t wall = wall_ns(mono_ns);
  const std::int64_t sec = floor_div(wall, 1'000'000'000);
  if (sec != utc_sec_) {
    // "YYYY-MM-DDTHH:MM:SS" of this second, from the one formatter.
    const std::string full = format_rfc3339(sec * 1'000'000'000);
    std::memcpy(utc_, full.data(), sizeof(utc_) - 1);
    utc_sec_ = sec;
  }
  std::memcpy(buf, utc_, 19);
  buf[19] = '.';
  put_digits(buf + 20, static_cast<std::uint64_t>(wall - sec * 1'000'000'000), 9);
  buf[29] = 'Z';
  return {buf, kRfc3339Len};
}

void Clock::stamp(Record& r, std::uint64_t mono_ns) const {
  // The wall time is JSON's (and a column's only if one shows "time").
  if (r.wants_json() || r.wants_text("time")) {
    char buf[kRfc3339Len];
    r.add_raw("time", rfc3339(mono_ns, buf));
  }
  r.add_big_uint("ktime_ns", mono_ns);
}

std::string Clock::hms(std::uint64_t mono_ns) const {
  const std::int64_t sec = floor_div(wall_ns(mono_ns), 1'000'000'000);
  if (sec != local_sec_) {
    time_t t = static_cast<time_t>(sec);
    tm local{};
    localtime_r(&t, &local);
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", local.tm_hour, local.tm_min, local.tm_sec);
    std::memcpy(local_, buf, 8);
    local_sec_ = sec;
  }
  return std::string(local_, 8);
}

std::string Clock::since_start(std::uint64_t mono_ns) const {
  // Microseconds, rounded to nearest as "%.6f" would, in integers.
  const bool neg = mono_ns < start_mono_ns_;
  const std::uint64_t d = neg ? start_mono_ns_ - mono_ns : mono_ns - start_mono_ns_;
  const std::uint64_t us = (d + 500) / 1000;
  std::string out = neg && us ? "-" : "";
  out += std::to_string(us / 1'000'000);
  out += '.';
  char frac[6];
  put_digits(frac, us % 1'000'000, 6);
  out.append(frac, 6);
  return out;
}

}  // namespace snoopkit
