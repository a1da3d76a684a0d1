#pragma once
// Histograms as data: buckets {low, high, count} that a JsonWriter prints as
// objects and a TextWriter draws as libbpf-tools' log2 bars.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace snoopkit {

/// One bucket: values v with low <= v <= high were seen count times.
struct Bucket {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  std::uint64_t count = 0;
};

/// A histogram: ascending, contiguous buckets in some unit.
struct Histogram {
  std::string unit;  // what low and high count, e.g. "usecs"; the text header's label
  std::vector<Bucket> buckets;

  /// The sum of the counts.
  std::uint64_t total() const;
};

/// The most log2 slots a histogram keeps: slot 52 ends at 2^53-1, so every
/// bound is an exact JSON number (a double).
inline constexpr std::size_t kMaxLog2Slots = 53;

/// Buckets from log2 slots as the BPF side fills them (bpf/snoopkit_hist.h):
/// slot 0 holds 0..1, slot i >= 1 holds 2^i..2^(i+1)-1. Slots after the last
/// non-empty one are dropped, so an empty histogram has no buckets; so are
/// slots past kMaxLog2Slots.
Histogram log2_histogram(std::string unit, const std::uint32_t* slots, std::size_t n);

/// Appends the libbpf-tools picture of h: a "<unit> : count distribution"
/// header, then one line per bucket with a bar of up to 40 stars (20 when
/// the values span more than 33 buckets). Nothing for an empty histogram.
void append_log2_bars(std::string& out, const Histogram& h);

}  // namespace snoopkit
