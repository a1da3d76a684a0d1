#pragma once
// Turns the kernel's monotonic nanoseconds (bpf_ktime_get_ns) into wall
// clock times for output.

#include <cstdint>
#include <string>
#include <string_view>

namespace snoopkit {

class Record;

class Clock {
 public:
  /// Reads both clocks now; the first reading is also "start" for -t.
  Clock();
  /// Re-reads the offset between the clocks (follows NTP steps); cheap.
  void resync();
  /// Wall clock nanoseconds since the epoch for a monotonic timestamp.
  std::int64_t wall_ns(std::uint64_t mono_ns) const;
  /// RFC 3339 UTC with nanoseconds: 2026-11-21T23:59:01.123456789Z.
  std::string rfc3339(std::uint64_t mono_ns) const;
  /// The same into buf (kRfc3339Len bytes), without allocating; the date
  /// part is cached per second, since events come in runs of one second.
  static constexpr std::size_t kRfc3339Len = 30;
  std::string_view rfc3339(std::uint64_t mono_ns, char* buf) const;
  /// Local time of day, HH:MM:SS (the TIME column of libbpf-tools); cached
  /// per second.
  std::string hms(std::uint64_t mono_ns) const;
  /// Seconds since the tool started, with 6 decimals (the TIME(s) column).
  std::string since_start(std::uint64_t mono_ns) const;
  /// Adds the common time fields to r: "time" (RFC 3339 UTC; only when the
  /// record's output shows it) and "ktime_ns".
  void stamp(Record& r, std::uint64_t mono_ns) const;
  /// The monotonic clock now, in nanoseconds.
  static std::uint64_t mono_now();

  /// Formats wall clock nanoseconds as RFC 3339 UTC (exposed for tests).
  static std::string format_rfc3339(std::int64_t wall_ns);

 private:
  std::int64_t offset_ns_ = 0;  // wall - mono
  std::uint64_t start_mono_ns_ = 0;
  // Per-second caches: the second they hold and its rendering.
  mutable std::int64_t utc_sec_ = INT64_MIN, local_sec_ = INT64_MIN;
  mutable char utc_[20] = {}, local_[9] = {};
};

}  // namespace snoopkit
