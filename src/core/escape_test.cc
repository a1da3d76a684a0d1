#include "core/escape.h"

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

using namespace std::string_literals;

// An independent RFC 3629 check written the other way round (decode the
// value, then reject overlongs, surrogates and > U+10FFFF), to cross-check
// the range-table decoder on random input.
bool reference_valid(std::string_view s) {
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  for (std::size_t i = 0; i < s.size();) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Random bytes biased towards UTF-8 boundary cases, so that valid and
// invalid sequences of every length both show up often.
std::string random_bytes(std::mt19937& rng, std::size_t max_len) {
  static constexpr unsigned char kEdges[] = {0x00, 0x0a, 0x0d, 0x1b, 0x22, 0x5c, 0x7f, 0x80,
                                             0x8f, 0x90, 0x9f, 0xa0, 0xa8, 0xa9, 0xaa, 0xae,
                                             0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed,
                                             0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x81, 0xa6};
  std::uniform_int_distribution<std::size_t> len_d(0, max_len);
  std::uniform_int_distribution<int> kind(0, 3), byte(0, 255), ascii(0x20, 0x7e);
  std::uniform_int_distribution<std::size_t> edge(0, sizeof kEdges - 1);
  std::string s;
  for (std::size_t n = len_d(rng); s.size() < n;) {
    switch (kind(rng)) {
      case 0:
        s += static_cast<char>(ascii(rng));
        break;
      case 1:
        s += static_cast<char>(kEdges[edge(rng)]);
        break;
      case 2:
        s += static_cast<char>(byte(rng));
        break;
      default:
        s += "\xE2\x80\xA8\xC3\xA9\xF0\x9F\x98\x80\xE2\x80\xAE\xC2\x9B"s.substr(
            std::uniform_int_distribution<std::size_t>(0, 13)(rng), 3);
    }
  }
  return s;
}

// Inverse of append_text_escaped: \\, \" and \xNN back to bytes.
std::string text_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
    } else if (s[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      out += s[++i];
    }
  }
  return out;
}

bool has_terminal_controls(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    const unsigned c1 = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    const unsigned c2 = i + 2 < s.size() ? static_cast<unsigned char>(s[i + 2]) : 0;
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xC2 && c1 >= 0x80 && c1 <= 0x9F) return true;
    if (c == 0xE2 && c1 == 0x80 && c2 >= 0xAA && c2 <= 0xAE) return true;
    if (c == 0xE2 && c1 == 0x80 && ((c2 >= 0x8B && c2 <= 0x8F) || c2 == 0xA8 || c2 == 0xA9))
      return true;
    if (c == 0xE2 && c1 == 0x81 && c2 >= 0xA0 && c2 <= 0xAF) return true;
    if ((c == 0xD8 && c1 == 0x9C) || (c == 0xEF && c1 == 0xBB && c2 == 0xBF)) return true;
  }
  return false;
}

std::string text(std::string_view in, bool quote = false) {
  std::string out;
  append_text_escaped(out, in, quote);
  return out;
}

std::string json(std::string_view in, bool* valid = nullptr) {
  std::string out;
  const bool v = append_json_string(out, in);
  if (valid) *valid = v;
  return out;
}

struct Utf8Case {
  std::string bytes;
  bool valid;
  const char* what;
};

TEST(Utf8, Table) {
  const Utf8Case cases[] = {
      {"", true, "empty"},
      {"plain ascii", true, "ascii"},
      {"\x00"s, true, "NUL is valid UTF-8"},
      {"\xC3\xA9", true, "2-byte e-acute"},
      {"\xE2\x82\xAC", true, "3-byte euro"},
      {"\xF0\x9F\x98\x80", true, "4-byte emoji"},
      {"\xEF\xBF\xBD", true, "U+FFFD"},
      {"\xF4\x8F\xBF\xBF", true, "U+10FFFF"},
      {"\xED\x9F\xBF", true, "U+D7FF"},
      {"\xEE\x80\x80", true, "U+E000"},
      {"\xC0\x80", false, "overlong NUL"},
      {"\xC1\xBF", false, "overlong 2-byte"},
      {"\xE0\x80\x80", false, "overlong 3-byte"},
      {"\xE0\x9F\xBF", false, "overlong 3-byte max"},
      {"\xF0\x80\x80\x80", false, "overlong 4-byte"},
      {"\xF0\x8F\xBF\xBF", false, "overlong 4-byte max"},
      {"\xED\xA0\x80", false, "surrogate D800"},
      {"\xED\xBF\xBF", false, "surrogate DFFF"},
      {"\xF4\x90\x80\x80", false, "U+110000"},
      {"\xF5\x80\x80\x80", false, "lead F5"},
      {"\xFF", false, "byte FF"},
      {"\xE2\x82", false, "truncated 3-byte"},
      {"\xF0\x9F\x98", false, "truncated 4-byte"},
      {"\xC3", false, "truncated 2-byte"},
      {"\x80", false, "lone continuation"},
      {"a\xBF z", false, "continuation inside ascii"},
      {"\xC3\x28", false, "bad continuation"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_utf8(c.bytes), c.valid) << c.what;
    EXPECT_EQ(reference_valid(c.bytes), c.valid) << "reference: " << c.what;
  }
}

TEST(Utf8, MatchesReferenceOnRandomInput) {
  std::mt19937 rng(1);
  int valid = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string s = random_bytes(rng, 12);
    ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << testing::PrintToString(s);
    valid += reference_valid(s);
  }
  EXPECT_GT(valid, 1000);  // the generator exercises both outcomes
  EXPECT_LT(valid, 19000);
}

TEST(JsonString, Escapes) {
  EXPECT_EQ(json(""), R"("")");
  EXPECT_EQ(json("abc"), R"("abc")");
  EXPECT_EQ(json("a\"b"), R"("a\"b")");
  EXPECT_EQ(json("a\\b"), R"("a\\b")");
  EXPECT_EQ(json("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json("\x1b[31m"), R"("\u001b[31m")");
  EXPECT_EQ(json("\x7f"), R"("\u007f")");
  EXPECT_EQ(json("\x00\x01\x1f"s), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json("/"), R"("/")");
  EXPECT_EQ(json("\xE2\x80\xA8 \xE2\x80\xA9"), R"("\u2028 \u2029")");
  EXPECT_EQ(json("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

// The word-at-a-time scan must stop at the first byte that needs escaping,
// wherever it sits in a word, for every such byte.
TEST(JsonString, PlainPrefixStopsAtEverySpecialByteInEveryPosition) {
  for (int c = 0; c < 256; ++c) {
    const bool special = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
    for (std::size_t len : {1u, 7u, 8u, 9u, 16u, 17u, 40u}) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(c);
        EXPECT_EQ(json_plain_prefix(s), special ? at : len)
            << "byte " << c << " at " << at << " of " << len;
      }
    }
  }
  EXPECT_EQ(json_plain_prefix(""), 0u);
}

TEST(JsonString, InvalidBecomesReplacementPerMaximalSubpart) {
  const std::string r = "\xEF\xBF\xBD";
  bool valid = true;
  EXPECT_EQ(json("a\x80z", &valid), "\"a" + r + "z\"");
  EXPECT_FALSE(valid);
  EXPECT_EQ(json("\xFF\xFE"), "\"" + r + r + "\"");
  EXPECT_EQ(json("\xC0\x80"), "\"" + r + r + "\"");          // C0 is never a lead
  EXPECT_EQ(json("\xE0\x80\x80"), "\"" + r + r + r + "\"");  // 80 cannot follow E0
  EXPECT_EQ(json("\xED\xA0\x80"), "\"" + r + r + r + "\"");  // surrogate
  EXPECT_EQ(json("\xF4\x90\x80\x80"), "\"" + r + r + r + r + "\"");
  EXPECT_EQ(json("\xE2\x82"), "\"" + r + "\"");  // one truncated sequence: one U+FFFD
  EXPECT_EQ(json("\xF0\x9F\x98z"), "\"" + r + "z\"");
  EXPECT_EQ(json("\xE2\x82\xE2\x82\xAC"), "\"" + r + "\xE2\x82\xAC\"");
  EXPECT_EQ(json("\xC3\""), "\"" + r + "\\\"\"");  // a quote is never swallowed
  json("ok", &valid);
  EXPECT_TRUE(valid);
}

TEST(JsonString, RandomOutputIsCleanUtf8) {
  std::mt19937 rng(2);
  for (int i = 0; i < 5000; ++i) {
    const std::string in = random_bytes(rng, 24);
    bool valid = false;
    const std::string out = json(in, &valid);
    ASSERT_EQ(valid, reference_valid(in));
    ASSERT_TRUE(reference_valid(out)) << testing::PrintToString(in);
    ASSERT_EQ(out.front(), '"');
    ASSERT_EQ(out.back(), '"');
    for (std::size_t k = 0; k < out.size(); ++k) {
      const unsigned char c = static_cast<unsigned char>(out[k]);
      ASSERT_TRUE(c >= 0x20 && c != 0x7f) << testing::PrintToString(in);
      ASSERT_NE(out.compare(k, 3, "\xE2\x80\xA8"), 0);
      ASSERT_NE(out.compare(k, 3, "\xE2\x80\xA9"), 0);
    }
  }
}

TEST(TextEscape, Table) {
  EXPECT_EQ(text("plain /tmp/x.txt"), "plain /tmp/x.txt");
  EXPECT_EQ(text("a\nb\rc\td"), R"(a\x0ab\x0dc\x09d)");
  EXPECT_EQ(text("\x1b[2J\x7f"), R"(\x1b[2J\x7f)");
  EXPECT_EQ(text("back\\slash"), R"(back\\slash)");
  EXPECT_EQ(text("say \"hi\""), "say \"hi\"");
  EXPECT_EQ(text("say \"hi\"", true), R"(say \"hi\")");
  EXPECT_EQ(text("\x00"s), R"(\x00)");
  EXPECT_EQ(text("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(text("\xC2\x9B"
                 "31m"),
            R"(\xc2\x9b31m)");  // C1 CSI
  EXPECT_EQ(text("\xC2\x80\xC2\x9F\xC2\xA0"), "\\xc2\\x80\\xc2\\x9f\xC2\xA0");
  EXPECT_EQ(text("\xE2\x80\xAE"
                 "fdp.exe"),
            R"(\xe2\x80\xaefdp.exe)");  // RLO
  EXPECT_EQ(text("\xE2\x80\xAA\xE2\x81\xA6\xE2\x81\xA9"),
            R"(\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9)");
  // Characters next to the escaped ranges print as themselves: U+200A
  // (hair space), U+2010 (hyphen), U+2027, U+202F, U+205F, U+2070, U+FEFE.
  EXPECT_EQ(
      text("\xE2\x80\x8A\xE2\x80\x90\xE2\x80\xA7\xE2\x80\xAF\xE2\x81\x9F\xE2\x81\xB0\xEF\xBB\xBE"),
      "\xE2\x80\x8A\xE2\x80\x90\xE2\x80\xA7\xE2\x80\xAF\xE2\x81\x9F\xE2\x81\xB0\xEF\xBB\xBE");
  EXPECT_EQ(text("\xD8\x9B\xD8\x9D"), "\xD8\x9B\xD8\x9D");  // U+061B, U+061D
  EXPECT_EQ(text("\xFF\xC0\x80\xE2\x82"), R"(\xff\xc0\x80\xe2\x82)");
  EXPECT_EQ(text("\xED\xA0\x80"), R"(\xed\xa0\x80)");
}

// Every bidi control, zero-width and invisible format character, and the
// Unicode line and paragraph separators: none reaches a terminal raw.
TEST(TextEscape, InvisibleAndBidiCharacters) {
  auto utf8 = [](char32_t cp) {
    std::string s;
    if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
    } else {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    }
    s += static_cast<char>(0x80 | (cp & 0x3F));
    return s;
  };
  auto hex = [](const std::string& bytes) {
    std::string out;
    for (unsigned char c : bytes) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    return out;
  };
  std::vector<char32_t> escaped = {0x061C, 0xFEFF, 0x2028, 0x2029};
  for (char32_t cp = 0x200B; cp <= 0x200F; ++cp) escaped.push_back(cp);  // ZWSP..RLM
  for (char32_t cp = 0x202A; cp <= 0x202E; ++cp) escaped.push_back(cp);  // LRE..RLO
  for (char32_t cp = 0x2060; cp <= 0x206F; ++cp) escaped.push_back(cp);  // WJ, LRI..PDI, ...
  for (char32_t cp : escaped) {
    const std::string raw = utf8(cp);
    for (const bool quote : {false, true})
      EXPECT_EQ(text("a" + raw + "b", quote), "a" + hex(raw) + "b")
          << std::hex << "U+" << static_cast<unsigned>(cp);
  }
}

TEST(TextEscape, RandomInputRoundTripsWithoutTerminalControls) {
  std::mt19937 rng(3);
  for (int i = 0; i < 5000; ++i) {
    const std::string in = random_bytes(rng, 24);
    for (const bool quote : {false, true}) {
      const std::string out = text(in, quote);
      ASSERT_FALSE(has_terminal_controls(out)) << testing::PrintToString(in);
      ASSERT_TRUE(reference_valid(out)) << testing::PrintToString(in);
      ASSERT_EQ(text_unescape(out), in);
      if (quote) {
        for (std::size_t k = 0; k < out.size(); ++k) {
          if (out[k] == '\\')
            ++k;  // skip the escaped byte
          else
            ASSERT_NE(out[k], '"');
        }
      }
    }
  }
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {"\xff\xfe\xfd", "//79"},
      {"\x00\x80"s, "AIA="},
      {"\xfb\xff", "+/8="},
  };
  for (const auto& [in, want] : cases) {
    std::string out = "prefix:";
    append_base64(out, in);
    EXPECT_EQ(out, "prefix:" + want);
  }
}

TEST(DisplayWidth, CountsCodePoints) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("caf\xC3\xA9"), 4u);
  EXPECT_EQ(display_width("\xF0\x9F\x98\x80!"), 2u);
  EXPECT_EQ(display_width(R"(\x0a)"), 4u);
}

}  // namespace
}  // namespace snoopkit
