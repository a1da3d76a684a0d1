#include "core/histogram.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

TEST(Histogram, Log2SlotsBecomeBuckets) {
  const std::uint32_t slots[] = {3, 0, 5, 1, 0, 0};
  Histogram h = log2_histogram("usecs", slots, 6);
  EXPECT_EQ(h.unit, "usecs");
  ASSERT_EQ(h.buckets.size(), 4u);  // trailing empty slots dropped
  EXPECT_EQ(h.buckets[0].low, 0u);
  EXPECT_EQ(h.buckets[0].high, 1u);
  EXPECT_EQ(h.buckets[0].count, 3u);
  EXPECT_EQ(h.buckets[1].low, 2u);
  EXPECT_EQ(h.buckets[1].high, 3u);
  EXPECT_EQ(h.buckets[1].count, 0u);
  EXPECT_EQ(h.buckets[2].low, 4u);
  EXPECT_EQ(h.buckets[2].high, 7u);
  EXPECT_EQ(h.buckets[3].low, 8u);
  EXPECT_EQ(h.buckets[3].high, 15u);
  EXPECT_EQ(h.total(), 9u);
}

TEST(Histogram, BucketsAreContiguous) {
  std::vector<std::uint32_t> slots(kMaxLog2Slots + 5, 1);
  Histogram h = log2_histogram("x", slots.data(), slots.size());
  ASSERT_EQ(h.buckets.size(), kMaxLog2Slots);
  for (std::size_t i = 1; i < h.buckets.size(); ++i)
    EXPECT_EQ(h.buckets[i].low, h.buckets[i - 1].high + 1) << i;
  EXPECT_EQ(h.buckets.back().high, (std::uint64_t{1} << 53) - 1);  // exact as a double
}

TEST(Histogram, EmptyHasNoBucketsAndNoPicture) {
  const std::uint32_t slots[4] = {};
  Histogram h = log2_histogram("usecs", slots, 4);
  EXPECT_TRUE(h.buckets.empty());
  EXPECT_EQ(h.total(), 0u);
  std::string out;
  append_log2_bars(out, h);
  EXPECT_EQ(out, "");
}

TEST(Histogram, BarsLookLikeLibbpfTools) {
  const std::uint32_t slots[] = {0, 1, 4, 2};
  std::string out;
  append_log2_bars(out, log2_histogram("usecs", slots, 4));
  EXPECT_EQ(out,
            "     usecs               : count    distribution\n"
            "         0 -> 1          : 0        |                                        |\n"
            "         2 -> 3          : 1        |**********                              |\n"
            "         4 -> 7          : 4        |****************************************|\n"
            "         8 -> 15         : 2        |********************                    |\n");
}

TEST(Histogram, WideValuesGetWideColumnsAndHalfBars) {
  std::vector<std::uint32_t> slots(35, 0);
  slots[34] = 7;
  slots[0] = 7;
  std::string out;
  append_log2_bars(out, log2_histogram("nsecs", slots.data(), slots.size()));
  const std::string first = out.substr(0, out.find('\n'));
  EXPECT_EQ(first,
            std::string(15, ' ') + "nsecs" + std::string(24, ' ') + " : count    distribution");
  EXPECT_NE(
      out.find("         17179869184 -> 34359738367          : 7        |********************|\n"),
      std::string::npos)
      << out;
}

TEST(Histogram, HugeCountsStillScale) {
  Histogram h{"usecs", {{0, 1, UINT64_MAX}, {2, 3, UINT64_MAX / 2}}};
  std::string out;
  append_log2_bars(out, h);
  EXPECT_NE(out.find("|" + std::string(40, '*') + "|"), std::string::npos) << out;
  EXPECT_NE(out.find("|" + std::string(19, '*') + std::string(21, ' ') + "|"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace snoopkit
