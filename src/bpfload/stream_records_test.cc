#include "bpfload/stream_records.h"

#include <string>

#include <gtest/gtest.h>

#include "core/sink.h"

namespace snoopkit {
namespace {

using namespace std::string_literals;

std::string render(bool json, const std::vector<Column>& cols, const Record& r) {
  Sink sink(-1);
  std::unique_ptr<Writer> w;
  if (json)
    w = std::make_unique<JsonWriter>(sink);
  else
    w = std::make_unique<TextWriter>(sink, cols);
  w->write(r);
  return sink.buffer();
}

TEST(StreamRecords, RingbufJson) {
  Record r;
  std::vector<Record> rows;
  add_ringbuf_fields(r, "events", "\x2a\x00\xff"s, false, rows);
  EXPECT_EQ(render(true, ringbuf_columns(false), r),
            R"({"type":"ringbuf","map":"events","size":3,"data_hex":"2a00ff","data_base64":"KgD/"})"
            "\n");
}

TEST(StreamRecords, RingbufText) {
  Record r;
  std::vector<Record> rows;
  add_ringbuf_fields(r, "events", "ab"s, false, rows);
  EXPECT_EQ(render(false, ringbuf_columns(false), r), "ringbuf events               2 6162\n");
}

TEST(StreamRecords, RingbufHexDumpIsTextOnly) {
  Record r;
  std::vector<Record> rows;
  std::string data(20, 'A');
  add_ringbuf_fields(r, "events", data, true, rows);
  ASSERT_EQ(rows.size(), 2u);
  std::string text = render(false, ringbuf_columns(true), r);
  EXPECT_NE(text.find("\n  00000000  41 41"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  00000010  41 41 41 41"), std::string::npos) << text;
  std::string json = render(true, ringbuf_columns(false), r);
  EXPECT_EQ(json.find("DUMP"), std::string::npos) << json;
  EXPECT_EQ(json.find("00000000"), std::string::npos) << json;
}

TEST(StreamRecords, EmptyRingbufRecord) {
  Record r;
  std::vector<Record> rows;
  add_ringbuf_fields(r, "e", "", true, rows);
  EXPECT_EQ(render(true, ringbuf_columns(false), r),
            R"({"type":"ringbuf","map":"e","size":0,"data_hex":"","data_base64":""})"
            "\n");
}

TEST(StreamRecords, Printk) {
  auto t = parse_trace_line(
      "            bash-1234    [003] d..31  5678.123456: bpf_trace_printk: hi \xff\n");
  ASSERT_TRUE(t);
  Record r;
  add_printk_fields(r, *t);
  EXPECT_EQ(render(true, printk_columns(), r),
            "{\"type\":\"printk\",\"ts\":\"5678.123456\",\"cpu\":3,\"pid\":1234,\"comm\":\"bash\","
            "\"message\":\"hi \xef\xbf\xbd\\n\",\"message_b64\":\"aGkg/wo=\"}\n");
  EXPECT_EQ(render(false, printk_columns(), r),
            "printk     5678.123456 bash                1234 [003] hi \\xff\\x0a\n");
}

}  // namespace
}  // namespace snoopkit
