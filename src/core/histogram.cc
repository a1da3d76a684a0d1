#include "core/histogram.h"

#include <algorithm>
#include <charconv>

namespace snoopkit {
namespace {

// Appends v right-aligned (left = false) or left-aligned in width columns.
void append_padded(std::string& out, std::uint64_t v, std::size_t width, bool left) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  const std::size_t len = static_cast<std::size_t>(res.ptr - buf);
  const std::size_t fill = len < width ? width - len : 0;
  if (!left) out.append(fill, ' ');
  out.append(buf, len);
  if (left) out.append(fill, ' ');
}

}  // namespace

std::uint64_t Histogram::total() const {
  std::uint64_t n = 0;
  for (const Bucket& b : buckets) n += b.count;
  return n;
}

Histogram log2_histogram(std::string unit, const std::uint32_t* slots, std::size_t n) {
  Histogram h;
  h.unit = std::move(unit);
  std::size_t used = n;
  while (used > 0 && slots[used - 1] == 0) --used;
  used = std::min(used, kMaxLog2Slots);
  h.buckets.reserve(used);
  for (std::size_t i = 0; i < used; ++i) {
    const std::uint64_t low = i == 0 ? 0 : std::uint64_t{1} << i;
    const std::uint64_t high = (std::uint64_t{2} << i) - 1;
    h.buckets.push_back({low, high, slots[i]});
  }
  return h;
}

void append_log2_bars(std::string& out, const Histogram& h) {
  if (h.buckets.empty()) return;
  std::uint64_t max = 0;
  for (const Bucket& b : h.buckets) max = std::max(max, b.count);
  // Wide values (past 2^33) get wider number columns and half-length bars,
  // so a line stays within 80 columns.
  const bool wide = h.buckets.size() > 33;
  const std::size_t num_width = wide ? 20 : 10, bar = wide ? 20 : 40;
  out.append(wide ? 15 : 5, ' ');
  out += h.unit;
  if (h.unit.size() < (wide ? 29u : 19u)) out.append((wide ? 29 : 19) - h.unit.size(), ' ');
  out += " : count    distribution\n";
  for (const Bucket& b : h.buckets) {
    append_padded(out, b.low, num_width, false);
    out += " -> ";
    append_padded(out, b.high, num_width, true);
    out += " : ";
    append_padded(out, b.count, 8, true);
    out += " |";
    // Scale in 128 bits: count * bar overflows 64 bits only for absurd
    // counts, but the picture must never be wrong.
    const std::size_t stars =
        max == 0 ? 0
                 : static_cast<std::size_t>(static_cast<unsigned __int128>(b.count) * bar / max);
    out.append(stars, '*');
    out.append(bar - stars, ' ');
    out += "|\n";
  }
}

}  // namespace snoopkit
