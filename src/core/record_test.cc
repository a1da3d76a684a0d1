#include "core/record.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

TEST(Record, AddsTypedFieldsInOrder) {
  Record r;
  r.set_type("open");
  r.add_int("ret", -2);
  r.add_uint("pid", 42);
  r.add_big_uint("cgroup", UINT64_MAX);
  r.add_bool("ok", true);
  r.add_bytes("path", "/etc/passwd");
  r.add_raw("mode", "0644");

  EXPECT_EQ(r.type(), "open");
  ASSERT_EQ(r.fields().size(), 6u);
  const auto& f = r.fields();
  EXPECT_EQ(f[0].key, "ret");
  EXPECT_EQ(f[0].type, Field::Type::kInt);
  EXPECT_EQ(f[0].i, -2);
  EXPECT_EQ(f[1].type, Field::Type::kUint);
  EXPECT_EQ(f[1].u, 42u);
  EXPECT_EQ(f[2].type, Field::Type::kBigUint);
  EXPECT_EQ(f[2].u, UINT64_MAX);
  EXPECT_EQ(f[3].type, Field::Type::kBool);
  EXPECT_TRUE(f[3].b);
  EXPECT_EQ(f[4].type, Field::Type::kBytes);
  EXPECT_EQ(f[4].s, "/etc/passwd");
  EXPECT_EQ(f[5].type, Field::Type::kRaw);
  EXPECT_EQ(f[5].s, "0644");
  for (const Field& x : f) {
    EXPECT_TRUE(x.in_json);
    EXPECT_TRUE(x.in_text);
  }
}

TEST(Record, TextOnlyFieldIsHiddenFromJson) {
  Record r;
  const Field& f = r.add_text_only("TIME", "12:34:56");
  EXPECT_EQ(f.type, Field::Type::kRaw);
  EXPECT_FALSE(f.in_json);
  EXPECT_TRUE(f.in_text);
  EXPECT_EQ(f.s, "12:34:56");
}

TEST(Record, ReturnedFieldCanBeAdjusted) {
  Record r;
  r.add_uint("ts_ns", 1).in_text = false;
  EXPECT_FALSE(r.fields()[0].in_text);
}

TEST(Record, BytesListRecordsRangesInItems) {
  Record r;
  r.add_bytes_list("argv", {"ls", "-l", "/tmp"});
  r.add_bytes_list("empty", {});
  r.add_bytes_list("env", {"A=1", "B=2"});
  ASSERT_EQ(r.items().size(), 5u);
  const Field* argv = r.find("argv");
  const Field* empty = r.find("empty");
  const Field* env = r.find("env");
  ASSERT_TRUE(argv && empty && env);
  EXPECT_EQ(argv->type, Field::Type::kBytesList);
  EXPECT_EQ(argv->list_begin, 0u);
  EXPECT_EQ(argv->list_end, 3u);
  EXPECT_EQ(empty->list_begin, empty->list_end);
  EXPECT_EQ(env->list_begin, 3u);
  EXPECT_EQ(env->list_end, 5u);
  EXPECT_EQ(r.items()[2], "/tmp");
  EXPECT_EQ(r.items()[4], "B=2");
}

TEST(Record, ObjectIsAJsonOnlyView) {
  Record inner;
  Record r;
  const Field& f = r.add_object("container", inner);
  EXPECT_EQ(f.type, Field::Type::kObject);
  EXPECT_EQ(f.object, &inner);
  EXPECT_TRUE(f.in_json);
  EXPECT_FALSE(f.in_text);
}

TEST(Record, FindReturnsFirstMatchOrNull) {
  Record r;
  r.add_int("a", 1);
  r.add_int("b", 2);
  r.add_int("a", 3);
  ASSERT_NE(r.find("a"), nullptr);
  EXPECT_EQ(r.find("a")->i, 1);
  EXPECT_EQ(r.find("b")->i, 2);
  EXPECT_EQ(r.find("c"), nullptr);
  EXPECT_EQ(r.find(""), nullptr);
}

TEST(Record, RawTextIsCopiedAndStaysValidAsArenaGrows) {
  Record r;
  std::string src = "a string long enough to live on the heap, not in SSO";
  r.add_raw("first", src);
  src.assign(src.size(), 'x');  // the record must not alias the caller's string
  for (int i = 0; i < 200; ++i) r.add_raw("n", std::to_string(i));
  EXPECT_EQ(r.fields()[0].s, "a string long enough to live on the heap, not in SSO");
  for (int i = 0; i < 200; ++i) EXPECT_EQ(r.fields()[1 + i].s, std::to_string(i));
}

TEST(Record, ClearForgetsFieldsAndKeepsType) {
  Record r;
  r.set_type("exec");
  r.add_int("x", 1);
  r.add_bytes_list("argv", {"a", "b"});
  r.clear();
  EXPECT_TRUE(r.fields().empty());
  EXPECT_TRUE(r.items().empty());
  EXPECT_EQ(r.find("x"), nullptr);
  EXPECT_EQ(r.type(), "exec");
  r.add_bytes_list("argv", {"c"});
  EXPECT_EQ(r.find("argv")->list_begin, 0u);
  EXPECT_EQ(r.find("argv")->list_end, 1u);
}

TEST(Record, ClearReusesCapacityAndArena) {
  Record r;
  const std::string long_a(100, 'a');
  const std::string long_b(100, 'b');
  for (int i = 0; i < 16; ++i) r.add_int("k", i);
  r.add_bytes_list("l", {"1", "2", "3"});
  r.add_raw("raw", long_a);
  r.add_raw("short", "t1");
  const std::size_t fields_cap = r.fields().capacity();
  const std::size_t items_cap = r.items().capacity();
  const char* long_data = r.find("raw")->s.data();
  const char* short_data = r.find("short")->s.data();

  r.clear();
  EXPECT_EQ(r.fields().capacity(), fields_cap);
  EXPECT_EQ(r.items().capacity(), items_cap);
  // The same arena slots, in the same order, hold the new text.
  r.add_raw("raw", long_b);
  r.add_raw("short", "t2");
  EXPECT_EQ(r.find("raw")->s, long_b);
  EXPECT_EQ(r.find("raw")->s.data(), long_data);
  EXPECT_EQ(r.find("short")->s, "t2");
  EXPECT_EQ(r.find("short")->s.data(), short_data);
}

TEST(Record, UntoldRecordRendersEverything) {
  Record r;
  int calls = 0;
  r.add_text_only("TIME", [&] { ++calls; return std::string("12:00:00"); });
  EXPECT_EQ(calls, 1);
  ASSERT_NE(r.find("TIME"), nullptr);
  EXPECT_EQ(r.find("TIME")->s, "12:00:00");
  EXPECT_FALSE(r.find("TIME")->in_json);
  EXPECT_TRUE(r.wants_json());
}

TEST(Record, JsonModeNeverFormatsTextOnlyFields) {
  Record r;
  r.render_only(true, {"TIME", "PID"});  // columns are ignored in JSON mode
  int calls = 0;
  r.add_text_only("TIME", [&] { ++calls; return std::string("x"); });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(r.find("TIME"), nullptr);
  EXPECT_TRUE(r.wants_json());
  EXPECT_FALSE(r.wants_text("PID"));
  r.clear();  // the mode outlives clear()
  r.add_text_only("TIME", [&] { ++calls; return std::string("x"); });
  EXPECT_EQ(calls, 0);
}

TEST(Record, TextModeFormatsOnlyShownColumns) {
  Record r;
  const std::vector<std::string> keys = {"TIME(s)", "pid", "path"};
  r.render_only(false, {keys.begin(), keys.end()});
  int calls = 0;
  r.add_text_only("TIME(s)", [&] { ++calls; return std::string("1.000000"); });
  r.add_text_only("FLAGS", [&] { ++calls; return std::string("00000000"); });
  EXPECT_EQ(calls, 1);
  EXPECT_NE(r.find("TIME(s)"), nullptr);
  EXPECT_EQ(r.find("FLAGS"), nullptr);
  EXPECT_FALSE(r.wants_json());
  EXPECT_TRUE(r.wants_text("pid"));
  EXPECT_FALSE(r.wants_text("time"));
}

}  // namespace
}  // namespace snoopkit
