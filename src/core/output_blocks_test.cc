// Rendering of the block fields summary tools use: histograms and nested
// records, in both writers.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/histogram.h"
#include "core/output.h"
#include "core/record.h"

namespace snoopkit {
namespace {

std::string json_line(const Record& r) {
  Sink sink(-1);
  JsonWriter(sink).write(r);
  return sink.buffer();
}

std::string text(const std::vector<Column>& cols, const std::vector<const Record*>& recs) {
  Sink sink(-1);
  TextWriter w(sink, cols);
  w.begin();
  for (const Record* r : recs) w.write(*r);
  return sink.buffer();
}

Histogram small_histogram() {
  const std::uint32_t slots[] = {3, 0, 1};
  return log2_histogram("usecs", slots, 3);
}

TEST(RecordBlocks, FieldsPointAtTheirData) {
  Histogram h = small_histogram();
  std::vector<Record> rows(2);
  Record r;
  const Field& fh = r.add_histogram("buckets", h);
  EXPECT_EQ(fh.type, Field::Type::kHistogram);
  EXPECT_EQ(fh.histogram, &h);
  const Field& fr = r.add_records("syscalls", rows);
  EXPECT_EQ(fr.type, Field::Type::kRecords);
  EXPECT_EQ(fr.records, &rows);
  EXPECT_EQ(r.find("buckets")->histogram, &h);
}

TEST(JsonWriterBlocks, HistogramIsAnArrayOfBuckets) {
  Histogram h = small_histogram();
  Record r;
  r.set_type("runqlat");
  r.add_raw("unit", "usecs");
  r.add_histogram("buckets", h);
  r.add_uint("total", h.total());
  EXPECT_EQ(json_line(r),
            R"({"type":"runqlat","unit":"usecs","buckets":[{"low":0,"high":1,"count":3},)"
            R"({"low":2,"high":3,"count":0},{"low":4,"high":7,"count":1}],"total":4})"
            "\n");
}

TEST(JsonWriterBlocks, EmptyHistogramIsAnEmptyArray) {
  Histogram h;
  Record r;
  r.add_histogram("buckets", h);
  EXPECT_EQ(json_line(r), "{\"buckets\":[]}\n");
}

TEST(JsonWriterBlocks, NestedRecordsAreObjectsWithoutType) {
  std::vector<Record> rows(3);
  rows[0].set_type("ignored");
  rows[0].add_raw("syscall", "read");
  rows[0].add_uint("count", 12);
  rows[0].add_text_only("TIME", "1.5");
  rows[1].add_bytes("comm", "a\xff");
  rows[1].add_big_uint("total_ns", 5);
  const std::vector<Record> none;
  Record r;
  r.set_type("syscount");
  r.add_records("syscalls", rows);
  r.add_records("none", none);
  EXPECT_EQ(json_line(r),
            R"({"type":"syscount","syscalls":[{"syscall":"read","count":12},)"
            "{\"comm\":\"a\xEF\xBF\xBD\",\"comm_b64\":\"Yf8=\",\"total_ns\":\"5\"},{}],"
            R"("none":[]})"
            "\n");
}

TEST(TextWriterBlocks, NoHeaderLineWhenNoColumnHasOne) {
  EXPECT_EQ(text({{"", "TIME"}, {"", "buckets"}}, {}), "");
}

TEST(TextWriterBlocks, HistogramIsDrawnBelowAnEmptyLine) {
  Histogram h = small_histogram();
  Record r;
  r.add_histogram("buckets", h);
  std::string bars;
  append_log2_bars(bars, h);
  // No inline field: no line of its own, only the separating empty line.
  EXPECT_EQ(text({{"", "TIME", 8}, {"", "buckets"}}, {&r}), "\n" + bars);
  r.add_text_only("TIME", "12:00:01");
  EXPECT_EQ(text({{"", "TIME", 8}, {"", "buckets"}}, {&r}), "\n12:00:01\n" + bars);
}

TEST(TextWriterBlocks, EmptyHistogramDrawsNothing) {
  Histogram h;
  Record r;
  r.add_text_only("LABEL", "disk = vda");
  r.add_histogram("buckets", h);
  EXPECT_EQ(text({{"", "LABEL"}, {"", "buckets"}}, {&r}), "\ndisk = vda\n");
}

TEST(TextWriterBlocks, NestedRecordsAreAnAlignedTable) {
  std::vector<Record> rows(2);
  rows[0].add_raw("syscall", "read");
  rows[0].add_uint("count", 1237);
  rows[1].add_raw("syscall", "esc\x1b");
  rows[1].add_uint("count", 5);
  Record r;
  r.add_text_only("TIME", "[11:40:31]");
  r.add_records("syscalls", rows);
  Column table{"", "syscalls"};
  table.rows = {{"SYSCALL", "syscall", 22}, {"COUNT", "count", 6, false}};
  EXPECT_EQ(text({{"", "TIME"}, table}, {&r}),
            "\n[11:40:31]\n"
            "SYSCALL                 COUNT\n"
            "read                     1237\n"
            "esc\\x1b                     5\n");
}

TEST(TextWriterBlocks, EmptyTableKeepsItsHeader) {
  const std::vector<Record> none;
  Record r;
  r.add_records("syscalls", none);
  Column table{"", "syscalls"};
  table.rows = {{"SYSCALL", "syscall", 22}, {"COUNT", "count", 6, false}};
  EXPECT_EQ(text({table}, {&r}), "\nSYSCALL                 COUNT\n");
}

TEST(TextWriterBlocks, RightAlignedLastColumnPadsOnItsLeftOnly) {
  Record r;
  r.add_raw("name", "x");
  r.add_uint("n", 5);
  EXPECT_EQ(text({{"NAME", "name", 6}, {"N", "n", 4, false}}, {&r}), "NAME      N\nx         5\n");
  EXPECT_EQ(text({{"N", "n", 4, false}, {"NAME", "name", 6}}, {&r}), "   N NAME\n   5 x\n");
}

TEST(TextWriterBlocks, RecordsWithoutBlocksKeepTheirLines) {
  Record r;
  r.add_uint("pid", 1);
  EXPECT_EQ(text({{"PID", "pid", 5, false}, {"X", "x"}}, {&r, &r}), "  PID X\n    1 \n    1 \n");
}

}  // namespace
}  // namespace snoopkit
