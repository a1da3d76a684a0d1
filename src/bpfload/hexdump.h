#pragma once
// Bytes as hexadecimal, for records whose layout only their author knows.

#include <cstddef>
#include <string>
#include <string_view>

namespace snoopkit {

/// Appends two lower-case hex digits per byte, no separators: "2a0100".
void append_hex(std::string& out, std::string_view bytes);

/// Bytes per hexdump_line().
inline constexpr std::size_t kHexdumpWidth = 16;

/// One line of a canonical hex dump (as `hexdump -C`) of bytes[offset,
/// offset + 16): "00000010  2a 01 00 00 62 61 73 68  00 00 ... |*...bash..|".
/// Bytes outside printable ASCII show as '.' in the right-hand column.
std::string hexdump_line(std::string_view bytes, std::size_t offset);

}  // namespace snoopkit
