#include "core/escape.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace snoopkit {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// One step of a strict RFC 3629 decoder. For an ill-formed sequence, len is
// its "maximal subpart" (Unicode ch. 3, U+FFFD substitution of maximal
// subparts): the longest prefix that could still start a well-formed
// sequence, at least one byte. This is what Python's errors="replace" and
// the WHATWG decoder do, so our U+FFFD count matches what readers expect.
struct Seq {
  std::size_t len;
  bool ok;
};

inline Seq next_seq(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  if (c < 0x80) return {1, true};
  std::size_t need;
  // The second byte's range is narrowed for the lead bytes that would
  // otherwise allow overlongs (E0, F0), surrogates (ED) or > U+10FFFF (F4).
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return {1, false};  // a continuation byte, C0/C1 (always overlong) or F5..FF
  }
  const std::size_t avail = static_cast<std::size_t>(end - p) - 1;
  if (avail < 1 || p[1] < lo || p[1] > hi) return {1, false};
  for (std::size_t k = 2; k <= need; ++k) {
    if (avail < k || (p[k] & 0xC0) != 0x80) return {k, false};
  }
  return {need + 1, true};
}

// Bytes that leave the ASCII fast path. Everything >= 0x80 goes through the
// decoder; below that, only what each escaper rewrites.
constexpr std::array<bool, 256> make_table(bool backslash, bool quote) {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = c < 0x20 || c >= 0x7f || (backslash && c == '\\') || (quote && c == '"');
  return t;
}
constexpr auto kJsonSpecial = make_table(true, true);
constexpr auto kTextSpecial = make_table(true, false);
constexpr auto kTextQuoteSpecial = make_table(true, true);
constexpr auto kTerminalSpecial = make_table(false, false);

inline void append_hex_byte(std::string& out, unsigned char c) {
  const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
  out.append(esc, 4);
}

// U+0080..U+009F: 8-bit terminals read these as CSI, OSC and friends.
inline bool is_c1(const unsigned char* p) {
  return p[0] == 0xC2 && p[1] <= 0x9F;
}

// Characters that show nothing or move what follows, so that two different
// names look the same or a line reads in another order ("Trojan Source",
// CVE-2021-42574):
// - every bidi control (Unicode's Bidi_Control property): U+061C, U+200E,
//   U+200F, U+202A..U+202E, U+2066..U+2069;
// - zero-width characters: U+200B..U+200D, U+2060..U+2064 (word joiner,
//   invisible operators), the deprecated format controls U+206A..U+206F,
//   and U+FEFF (zero-width no-break space);
// - U+2028 and U+2029, which some terminals and editors take as line ends.
// p is a well-formed sequence of len bytes.
inline bool is_invisible(const unsigned char* p, std::size_t len) {
  if (len == 2) return p[0] == 0xD8 && p[1] == 0x9C;  // U+061C
  if (len != 3) return false;
  if (p[0] == 0xEF) return p[1] == 0xBB && p[2] == 0xBF;  // U+FEFF
  if (p[0] != 0xE2) return false;
  if (p[1] == 0x80)  // U+2000..U+203F
    return (p[2] >= 0x8B && p[2] <= 0x8F) || (p[2] >= 0xA8 && p[2] <= 0xAE);
  return p[1] == 0x81 && p[2] >= 0xA0 && p[2] <= 0xAF;  // U+2060..U+206F
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const Seq s = next_seq(p, end);
    if (!s.ok) return false;
    p += s.len;
  }
  return true;
}

namespace {

// The text escaper over the table of the bytes it looks at: '\\' and '"'
// are escaped only when the table names them.
void escape_text(std::string& out, std::string_view bytes, const std::array<bool, 256>& special) {
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    const auto* run = p;
    while (p < end && !special[*p]) ++p;
    if (p != run) out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
    if (p == end) break;
    const unsigned char c = *p;
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
      ++p;
      continue;
    }
    if (c < 0x80) {  // C0 controls and DEL
      append_hex_byte(out, c);
      ++p;
      continue;
    }
    const Seq s = next_seq(p, end);
    // Ill-formed bytes are escaped one by one, so that the \xNN form shows
    // exactly what the kernel saw.
    if (!s.ok || (s.len == 2 && is_c1(p)) || is_invisible(p, s.len)) {
      for (std::size_t k = 0; k < s.len; ++k) append_hex_byte(out, p[k]);
    } else {
      out.append(reinterpret_cast<const char*>(p), s.len);
    }
    p += s.len;
  }
}

}  // namespace

void append_text_escaped(std::string& out, std::string_view bytes, bool quote) {
  escape_text(out, bytes, quote ? kTextQuoteSpecial : kTextSpecial);
}

void append_terminal_safe(std::string& out, std::string_view text) {
  escape_text(out, text, kTerminalSpecial);
}

std::size_t json_plain_prefix(std::string_view bytes) {
  // Eight bytes at a time: a word passes when none of its bytes is below
  // 0x20, 0x7f or above, '"' or '\\' (the bit tricks are exact for "is
  // there such a byte"; which one does not matter here).
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const char* p = bytes.data();
  std::size_t n = 0;
  for (; n + 8 <= bytes.size(); n += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + n, 8);
    const std::uint64_t bad = (w & kHigh) | ((w - kOnes * 0x20) & ~w & kHigh) |
                              has_zero(w ^ (kOnes * 0x7f)) | has_zero(w ^ (kOnes * '"')) |
                              has_zero(w ^ (kOnes * '\\'));
    if (bad) break;
  }
  while (n < bytes.size() && !kJsonSpecial[static_cast<unsigned char>(p[n])]) ++n;
  return n;
}

bool append_json_string(std::string& out, std::string_view bytes) {
  bool valid = true;
  const std::size_t plain = json_plain_prefix(bytes);
  out += '"';
  out.append(bytes.data(), plain);
  if (plain == bytes.size()) {
    out += '"';
    return true;
  }
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + plain;
  const auto* end = reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size();
  while (p < end) {
    const auto* run = p;
    while (p < end && !kJsonSpecial[*p]) ++p;
    if (p != run) out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default: {  // other C0 controls and DEL
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          out.append(esc, 6);
        }
      }
      continue;
    }
    const Seq s = next_seq(p, end);
    if (!s.ok) {
      valid = false;
      out += "\xEF\xBF\xBD";
    } else if (s.len == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
      // U+2028 / U+2029 are legal in JSON but end a line in JavaScript.
      out += p[2] == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(reinterpret_cast<const char*>(p), s.len);
    }
    p += s.len;
  }
  out += '"';
  return valid;
}

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  const std::size_t start = out.size();
  out.resize(start + (n + 2) / 3 * 4);
  char* o = out.data() + start;
  for (; n >= 3; n -= 3, p += 3) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (n > 0) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (n == 2 ? std::uint32_t{p[1]} << 8 : 0);
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = n == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

std::size_t display_width(std::string_view text) {
  // Code points, not East Asian width: escaped text is valid UTF-8, and a
  // wide character costing one column of misalignment is acceptable here.
  std::size_t n = 0;
  for (const char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

}  // namespace snoopkit
