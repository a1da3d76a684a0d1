#include "core/output.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/escape.h"

namespace snoopkit {
namespace {

// A deliberately strict JSON reader (RFC 8259, UTF-8 only, no raw control
// bytes, no lone surrogates), so the tests hold the writer to what Python's
// json module accepts after a strict UTF-8 decode.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool b = false;
  std::string text;  // number literal or decoded string
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* get(std::string_view key) const {
    const auto it =
        std::find_if(object.begin(), object.end(), [&](auto& m) { return m.first == key; });
    return it == object.end() ? nullptr : &it->second;
  }
};

class JsonParser {
 public:
  static std::optional<Json> parse(std::string_view s) {
    if (!is_valid_utf8(s)) return std::nullopt;
    JsonParser p(s);
    Json out;
    if (!p.value(out)) return std::nullopt;
    p.ws();
    return p.i_ == s.size() ? std::optional(std::move(out)) : std::nullopt;
  }

 private:
  explicit JsonParser(std::string_view s) : s_(s) {}
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) { return peek() == c && (++i_, true); }
  void ws() { i_ = std::min(s_.size(), s_.find_first_not_of(" \t\n\r", i_)); }
  bool literal(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool number(std::string& out) {  // integers only: the writers never emit anything else
    const std::size_t start = i_;
    eat('-');
    if (!eat('0')) {
      if (peek() < '1' || peek() > '9') return false;
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    out = s_.substr(start, i_ - start);
    return true;
  }
  bool hex4(std::uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    const char* p = s_.data() + i_;
    i_ += 4;
    const auto res = std::from_chars(p, p + 4, v, 16);
    return res.ec == std::errc() && res.ptr == p + 4;
  }
  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) return out.push_back(static_cast<char>(cp));
    const int n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    // Lead byte 110xxxxx, 1110xxxx or 11110xxx, then 10xxxxxx continuations.
    out += static_cast<char>(((0xFF00 >> n) & 0xFF) | (cp >> (6 * (n - 1))));
    for (int k = n - 2; k >= 0; --k) out += static_cast<char>(0x80 | ((cp >> (6 * k)) & 0x3F));
  }
  bool string(std::string& out) {
    static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      const char e = i_ < s_.size() ? s_[i_++] : '\0';
      std::uint32_t cp, lo;
      if (const auto k = kFrom.find(e); e != '\0' && k != kFrom.npos) {
        out += kTo[k];
      } else if (e != 'u' || !hex4(cp) || (cp >= 0xDC00 && cp <= 0xDFFF)) {
        return false;
      } else if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
        put_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
      } else {
        put_utf8(out, cp);
      }
    }
    return false;
  }
  bool value(Json& out) {
    ws();
    if (eat('{') || eat('[')) {
      const bool obj = s_[i_ - 1] == '{';
      out.kind = obj ? Json::Kind::kObject : Json::Kind::kArray;
      ws();
      if (eat(obj ? '}' : ']')) return true;
      do {
        ws();
        if (obj) {
          auto& member = out.object.emplace_back();
          if (!string(member.first)) return false;
          ws();
          if (!eat(':') || !value(member.second)) return false;
        } else if (!value(out.array.emplace_back())) {
          return false;
        }
        ws();
      } while (eat(','));
      return eat(obj ? '}' : ']');
    }
    if (peek() == '"') {
      out.kind = Json::Kind::kString;
      return string(out.text);
    }
    if (literal("true") || literal("false")) {
      out.kind = Json::Kind::kBool;
      out.b = s_.substr(i_ - 4, 4) == "true";
      return true;
    }
    if (literal("null")) return true;
    out.kind = Json::Kind::kNumber;
    return number(out.text);
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::optional<std::string> base64_decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    if (in[k] == '=') {
      if (k + 2 < in.size() || (k + 1 < in.size() && in[k + 1] != '=')) return std::nullopt;
      break;
    }
    const auto d = kAlphabet.find(in[k]);
    if (d == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string json_line(const Record& r) {
  Sink sink(-1);
  JsonWriter(sink).write(r);
  return sink.buffer();
}

Json parse_line(const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one object per line";
  auto v = JsonParser::parse(std::string_view(line).substr(0, line.size() - 1));
  EXPECT_TRUE(v.has_value()) << line;
  EXPECT_EQ(v ? v->kind : Json::Kind::kNull, Json::Kind::kObject);
  return v.value_or(Json{});
}

TEST(JsonWriter, RendersTypeFirstThenFieldsInOrder) {
  Record r;
  r.set_type("open");
  r.add_uint("pid", 42);
  r.add_int("ret", -2);
  r.add_int("min", INT64_MIN);
  r.add_big_uint("big", UINT64_MAX);
  r.add_bool("ok", true);
  r.add_bool("no", false);
  r.add_bytes("path", "/etc/passwd");
  r.add_raw("mode", "0644");
  EXPECT_EQ(
      json_line(r),
      R"({"type":"open","pid":42,"ret":-2,"min":-9223372036854775808,)"
      R"("big":"18446744073709551615","ok":true,"no":false,"path":"/etc/passwd","mode":"0644"})"
      "\n");
}

// A name made at run time is checked then: one that needs escaping is
// escaped, in the key and in its "_b64" companion.
TEST(JsonWriter, EscapesRunTimeKeysThatNeedIt) {
  const std::string odd = "we\"ird\n";
  EXPECT_FALSE(Key::named(odd).plain());
  EXPECT_TRUE(Key::named("fine_name").plain());
  Record r;
  r.add_uint(Key::named("fine_name"), 1);
  r.add_bytes(Key::named(odd), "a\x80");
  EXPECT_EQ(json_line(r), "{\"fine_name\":1,\"we\\\"ird\\n\":\"a\xEF\xBF\xBD\","
                          "\"we\\\"ird\\n_b64\":\"YYA=\"}\n");
}

// A line is built apart and appended once; fields that take the slow paths
// (escaping, lists, nested records) land between the others in order, and
// a line longer than the builder's first buffer comes out whole.
TEST(JsonWriter, LongLinesAndSlowPathsKeepTheirOrder) {
  const std::string long_plain(10000, 'x');
  const std::string long_odd = std::string(5000, 'y') + "\n" + std::string(5000, 'z');
  Record inner;
  inner.add_bytes("id", "c0ffee");
  Record r;
  r.set_type("t");
  r.add_uint("a", 1);
  r.add_bytes("p", long_plain);
  r.add_bytes("q", long_odd);
  r.add_bytes_list("l", {"1", "2"});
  r.add_object("o", inner);
  r.add_bool("z", true);
  Sink sink(-1);
  JsonWriter w(sink);
  for (int k = 0; k < 3; ++k) w.write(r);  // the builder is reused
  const std::string one = "{\"type\":\"t\",\"a\":1,\"p\":\"" + long_plain + "\",\"q\":\"" +
                          std::string(5000, 'y') + "\\n" + std::string(5000, 'z') +
                          "\",\"l\":[\"1\",\"2\"],\"o\":{\"id\":\"c0ffee\"},\"z\":true}\n";
  EXPECT_EQ(sink.buffer(), one + one + one);
}

TEST(JsonWriter, OmitsEmptyType) {
  Record r;
  EXPECT_EQ(json_line(r), "{}\n");
  r.add_uint("a", 1);
  EXPECT_EQ(json_line(r), "{\"a\":1}\n");
}

TEST(JsonWriter, RespectsInJson) {
  Record r;
  r.set_type("t");
  r.add_text_only("TIME", "12:00:00");
  r.add_uint("ts", 7).in_text = false;
  r.add_int("hidden", 1).in_json = false;
  EXPECT_EQ(json_line(r), "{\"type\":\"t\",\"ts\":7}\n");
}

TEST(JsonWriter, InvalidBytesGetBase64Member) {
  Record r;
  r.add_bytes("path", "a\x80");
  r.add_bytes("ok", "caf\xC3\xA9");
  EXPECT_EQ(json_line(r),
            "{\"path\":\"a\xEF\xBF\xBD\",\"path_b64\":\"YYA=\",\"ok\":\"caf\xC3\xA9\"}\n");
}

TEST(JsonWriter, BytesListAndBase64Array) {
  Record r;
  r.add_bytes_list("argv", {"ls", "-l"});
  r.add_bytes_list("none", {});
  r.add_bytes_list("bad", {"ls", "\xFF", ""});
  EXPECT_EQ(json_line(r),
            "{\"argv\":[\"ls\",\"-l\"],\"none\":[],"
            "\"bad\":[\"ls\",\"\xEF\xBF\xBD\",\"\"],\"bad_b64\":[\"bHM=\",\"/w==\",\"\"]}\n");
}

TEST(JsonWriter, NestsObjectsWithoutTheirType) {
  Record pod;
  pod.set_type("ignored");
  pod.add_bytes("uid", "u-1");
  pod.add_bytes("name", "a\nb\x80");
  Record container;
  container.add_bytes("id", "abc");
  container.add_object("pod", pod);
  Record empty;
  Record r;
  r.set_type("exit");
  r.add_uint("pid", 1);
  r.add_object("container", container);
  r.add_object("none", empty);
  r.add_uint("after", 2);
  EXPECT_EQ(json_line(r),
            R"({"type":"exit","pid":1,"container":{"id":"abc","pod":{"uid":"u-1",)"
            "\"name\":\"a\\nb\xEF\xBF\xBD\",\"name_b64\":\"YQpigA==\"}},"
            R"("none":{},"after":2})"
            "\n");
  const std::string line = json_line(r);
  EXPECT_TRUE(JsonParser::parse(line.substr(0, line.size() - 1)).has_value());
}

TEST(JsonWriter, EscapesHostileBytesIntoOneStrictLine) {
  Record r;
  r.set_type("exec");
  r.add_bytes("comm", "a\"b\\c\nd\x1b[0m\x7f\xE2\x80\xA8");
  const std::string line = json_line(r);
  EXPECT_EQ(line, R"({"type":"exec","comm":"a\"b\\c\nd\u001b[0m\u007f\u2028"})"
                  "\n");
  const Json v = parse_line(line);
  ASSERT_NE(v.get("comm"), nullptr);
  EXPECT_EQ(v.get("comm")->text, "a\"b\\c\nd\x1b[0m\x7f\xE2\x80\xA8");
}

std::string random_bytes(std::mt19937& rng) {
  std::uniform_int_distribution<int> len(0, 20), kind(0, 2), byte(0, 255), ascii(0, 0x7f);
  std::string s;
  for (int n = len(rng); n > 0; --n) {
    const int k = kind(rng);
    s += static_cast<char>(k == 0 ? ascii(rng) : k == 1 ? byte(rng) : 0x80 + byte(rng) % 0x40);
  }
  if (kind(rng) == 0) s += "caf\xC3\xA9\xF0\x9F\x98\x80";
  return s;
}

// The exact bytes: the string itself when it was valid UTF-8, else its
// base64 twin from "<key>_b64".
std::string exact(const Json& str, const Json* b64) {
  return b64 ? base64_decode(b64->text).value_or("<bad base64>") : str.text;
}

TEST(JsonWriter, RandomBytesRoundTripLosslessly) {
  std::mt19937 rng(42);
  Record r;
  for (int i = 0; i < 3000; ++i) {
    const std::string bytes = random_bytes(rng);
    std::vector<std::string> owned = {random_bytes(rng), random_bytes(rng), random_bytes(rng)};
    const std::vector<std::string_view> list(owned.begin(), owned.end());
    r.clear();
    r.set_type("rand");
    r.add_bytes("b", bytes);
    r.add_bytes_list("l", list);
    const Json v = parse_line(json_line(r));
    ASSERT_FALSE(HasFailure()) << testing::PrintToString(bytes);
    EXPECT_EQ(exact(*v.get("b"), v.get("b_b64")), bytes);
    EXPECT_EQ(v.get("b_b64") == nullptr, is_valid_utf8(bytes));

    const Json* l = v.get("l");
    ASSERT_TRUE(l && l->kind == Json::Kind::kArray && l->array.size() == 3);
    const Json* l64 = v.get("l_b64");
    bool all_valid = true;
    for (std::size_t k = 0; k < 3; ++k) {
      all_valid &= is_valid_utf8(owned[k]);
      EXPECT_EQ(exact(l->array[k], l64 ? &l64->array.at(k) : nullptr), owned[k]);
    }
    EXPECT_EQ(l64 == nullptr, all_valid);
  }
}

Column col(std::string header, std::string key, int width, bool left = true, bool quote = false) {
  return Column{std::move(header), std::move(key), width, left, quote};
}

std::vector<Column> columns() {
  return {col("PID", "pid", 7, false), col("COMM", "comm", 8), col("RET", "ret", 4, false),
          col("PATH", "path", 30)};
}

TEST(TextWriter, HeaderIsPaddedExceptLastColumn) {
  Sink sink(-1);
  TextWriter(sink, columns()).begin();
  EXPECT_EQ(sink.buffer(), "    PID COMM      RET PATH\n");
}

TEST(TextWriter, RowsAlignUnderTheHeader) {
  Sink sink(-1);
  TextWriter w(sink, columns());
  Record r;
  r.add_uint("pid", 1234);
  r.add_bytes("comm", "cat");
  r.add_int("ret", -2);
  r.add_bytes("path", "/etc/passwd");
  w.write(r);
  r.clear();
  r.add_bytes("path", "/x");
  r.add_bytes("comm", "a-very-long-comm");  // overflows, never truncated
  r.add_uint("pid", 1234567890);
  w.write(r);  // "ret" missing: an empty cell
  EXPECT_EQ(sink.buffer(),
            "   1234 cat        -2 /etc/passwd\n"
            "1234567890 a-very-long-comm      /x\n");
}

TEST(TextWriter, RendersEveryType) {
  Sink sink(-1);
  TextWriter w(sink, {col("A", "a", 0), col("B", "b", 0), col("C", "c", 0), col("D", "d", 0),
                      col("E", "e", 0)});
  Record r;
  r.add_big_uint("a", UINT64_MAX);
  r.add_bool("b", false);
  r.add_raw("c", "0644\n");
  r.add_int("d", INT64_MIN);
  r.add_bool("e", true);
  w.write(r);
  EXPECT_EQ(sink.buffer(), "18446744073709551615 false 0644\\x0a -9223372036854775808 true\n");
}

TEST(TextWriter, EscapesAndPadsByEscapedWidth) {
  Sink sink(-1);
  TextWriter w(sink, {col("X", "x", 9), col("Y", "y", 6), col("Z", "z", 3, false)});
  Record r;
  r.add_bytes("x", "a\nb");
  r.add_bytes("y", "caf\xC3\xA9");
  r.add_bytes("z", "\xE2\x80\xAEz\x1b");
  w.write(r);
  EXPECT_EQ(sink.buffer(), "a\\x0ab    caf\xC3\xA9   \\xe2\\x80\\xaez\\x1b\n");
}

TEST(TextWriter, QuoteModeWrapsEachItem) {
  Sink sink(-1);
  TextWriter w(sink, {col("ARGS", "argv", 20, true, true), col("RAW", "argv", 0),
                      col("FILE", "file", 0, true, true)});
  Record r;
  r.add_bytes_list("argv", {"ls", "a b", "x\"y", ""});
  r.add_bytes("file", "q\"\\");
  w.write(r);
  EXPECT_EQ(sink.buffer(), R"("ls" "a b" "x\"y" "" ls a b x"y  "q\"\\")"
                           "\n");
}

TEST(TextWriter, NeverShowsObjects) {
  Sink sink(-1);
  TextWriter w(sink, {col("C", "container", 4), col("N", "n", 0)});
  Record inner;
  inner.add_bytes("id", "abc\n");
  Record r;
  r.add_object("container", inner);
  r.add_uint("n", 5);
  w.write(r);
  EXPECT_EQ(sink.buffer(), "     5\n");
}

TEST(TextWriter, MatchesOnlyTextFields) {
  Sink sink(-1);
  TextWriter w(sink, {col("TIME", "time", 8), col("N", "n", 0)});
  Record r;
  r.add_uint("time", 123456789).in_text = false;  // JSON's time stamp
  r.add_text_only("time", "12:34:56");
  r.add_uint("n", 5).in_text = false;
  w.write(r);
  EXPECT_EQ(sink.buffer(), "12:34:56 \n");
}

TEST(TextWriter, RandomHostileValuesStayOnOneLine) {
  std::mt19937 rng(7);
  Sink sink(-1);
  TextWriter w(sink, {col("A", "a", 10, true, true), col("B", "b", 10, false)});
  Record r;
  for (int i = 0; i < 2000; ++i) {
    const std::string a = random_bytes(rng), b = random_bytes(rng);
    r.clear();
    r.add_bytes("a", a);
    r.add_bytes_list("b", {b, a});
    sink.buffer().clear();
    w.write(r);
    const std::string& line = sink.buffer();
    ASSERT_TRUE(is_valid_utf8(line));
    ASSERT_EQ(line.find('\n'), line.size() - 1);
    for (std::size_t k = 0; k + 1 < line.size(); ++k) {
      ASSERT_TRUE(static_cast<unsigned char>(line[k]) >= 0x20 && line[k] != 0x7f) << line;
    }
  }
}

}  // namespace
}  // namespace snoopkit
