#pragma once
// A strict JSON reader for the fuzz targets: RFC 8259 only (no NaN, no
// trailing commas, no raw control bytes, UTF-8 checked by the caller),
// with strings decoded to bytes so they can be compared with the input.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool b = false;
  std::string text;  // kNumber: the literal; kString: decoded UTF-8 bytes
  std::vector<Value> items;
  std::vector<std::string> keys;  // kObject, in order; duplicates are rejected
  std::vector<Value> values;      // kObject, values[i] belongs to keys[i]

  /// The member named key, or nullptr.
  const Value* get(std::string_view key) const;
};

/// Parses exactly one JSON value spanning all of text (whitespace allowed
/// around it). Returns nullopt on any deviation from RFC 8259.
std::optional<Value> parse_strict(std::string_view text);

/// Decodes standard padded base64; nullopt if malformed.
std::optional<std::string> base64_decode(std::string_view b64);

}  // namespace fuzz
