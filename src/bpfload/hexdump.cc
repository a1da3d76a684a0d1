#include "bpfload/hexdump.h"

namespace snoopkit {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

void append_byte(std::string& out, unsigned char c) {
  out += kDigits[c >> 4];
  out += kDigits[c & 0xf];
}

}  // namespace

void append_hex(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + 2 * bytes.size());
  for (char c : bytes) append_byte(out, static_cast<unsigned char>(c));
}

std::string hexdump_line(std::string_view bytes, std::size_t offset) {
  std::string out;
  for (int shift = 28; shift >= 0; shift -= 4) out += kDigits[(offset >> shift) & 0xf];
  out += ' ';
  std::string_view row = offset < bytes.size() ? bytes.substr(offset, kHexdumpWidth) : "";
  for (std::size_t i = 0; i < kHexdumpWidth; ++i) {
    if (i % 8 == 0) out += ' ';
    if (i < row.size()) {
      append_byte(out, static_cast<unsigned char>(row[i]));
      out += ' ';
    } else {
      out += "   ";
    }
  }
  out += " |";
  for (char c : row) out += (c >= 0x20 && c < 0x7f) ? c : '.';
  out += '|';
  return out;
}

}  // namespace snoopkit
