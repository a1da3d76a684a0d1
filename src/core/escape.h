#pragma once
// Byte-exact escaping for text and JSON output.

#include <string>
#include <string_view>

namespace snoopkit {

/// True if bytes is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

/// Appends bytes for a terminal: printable UTF-8 as is; control bytes,
/// DEL, invalid UTF-8, C1 controls (U+0080..U+009F), every bidi control
/// (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), zero-width
/// and invisible format characters (U+200B..U+200D, U+2060..U+2064,
/// U+206A..U+206F, U+FEFF) and U+2028 / U+2029 as \xNN per byte; a
/// backslash as \\. If quote is set, '"' is escaped as \" too.
void append_text_escaped(std::string& out, std::string_view bytes, bool quote = false);

/// Appends text whose variable parts a tool has already escaped with
/// append_text_escaped (e.g. a call with quoted arguments): '\\' and '"'
/// pass as they are, and everything else append_text_escaped writes as
/// \xNN is escaped the same way, so a slip in the tool can still not put
/// a control byte on the terminal.
void append_terminal_safe(std::string& out, std::string_view text);

/// Appends a JSON string literal (with quotes) for bytes. Invalid UTF-8
/// sequences become U+FFFD; control characters, DEL, U+2028 and U+2029 are
/// \u-escaped. Returns false if bytes was not valid UTF-8 (so the caller
/// should add a lossless form).
bool append_json_string(std::string& out, std::string_view bytes);

/// The length of the leading run of bytes that a JSON string holds as they
/// are (printable ASCII other than '"' and '\\'): append_json_string's
/// fast path, and how writers tell a key that needs no escaping.
std::size_t json_plain_prefix(std::string_view bytes);
/// Appends standard base64 (RFC 4648, with padding) of bytes.
void append_base64(std::string& out, std::string_view bytes);

/// Number of terminal columns text would take (code points, roughly).
std::size_t display_width(std::string_view text);

}  // namespace snoopkit
