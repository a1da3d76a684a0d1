#pragma once
// A record is one line of output: typed fields that a TextWriter or a
// JsonWriter renders. Tools fill records; they never format text themselves.

#include <concepts>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace snoopkit {

class Record;
struct Histogram;

/// One typed field. Bytes are exact, whatever the kernel handed over;
/// writers decide how to escape them.
struct Field {
  enum class Type : std::uint8_t {
    kInt,        // signed integer, JSON number
    kUint,       // unsigned integer < 2^53, JSON number
    kBigUint,    // unsigned 64-bit that may exceed 2^53: JSON string of digits
    kBool,       // JSON true / false
    kBytes,      // byte string: JSON string (+ "<key>_b64" if not UTF-8)
    kBytesList,  // list of byte strings: JSON array (+ "<key>_b64" array)
    kRaw,        // pre-rendered ASCII text (time stamps, octal): JSON string
    kHistogram,  // buckets: JSON array of {"low","high","count"}; text: log2 bars below the line
    kRecords,    // nested records: JSON array of objects; text: a table below the line
    kObject,     // one nested record: JSON object; text: not shown
  };
  std::string_view key;
  Type type = Type::kInt;
  bool in_json = true;  // false: shown in text columns only
  bool in_text = true;  // false: rendered in JSON only
  std::int64_t i = 0;
  std::uint64_t u = 0;
  bool b = false;
  std::string_view s;                            // kBytes, kRaw
  std::size_t list_begin = 0, list_end = 0;      // kBytesList: range in Record::items()
  const Histogram* histogram = nullptr;          // kHistogram
  const std::vector<Record>* records = nullptr;  // kRecords
  const Record* object = nullptr;                // kObject
};

/// A reusable record. Views handed to it must outlive the next render;
/// strings it formats itself live in its own arena until clear().
class Record {
 public:
  /// Forget all fields (keeps capacity, so one record serves every event).
  void clear();
  /// Sets the record type, rendered first as "type" in JSON.
  void set_type(std::string_view type) { type_ = type; }
  std::string_view type() const { return type_; }

  Field& add_int(std::string_view key, std::int64_t v);
  Field& add_uint(std::string_view key, std::uint64_t v);
  Field& add_big_uint(std::string_view key, std::uint64_t v);
  Field& add_bool(std::string_view key, bool v);
  Field& add_bytes(std::string_view key, std::string_view bytes);
  Field& add_bytes_list(std::string_view key, const std::vector<std::string_view>& items);
  /// Adds pre-rendered ASCII text; the record keeps its own copy.
  Field& add_raw(std::string_view key, std::string_view text);
  /// Adds a field for text columns only (e.g. "TIME" as HH:MM:SS).
  Field& add_text_only(std::string_view key, std::string_view text);
  /// The same, rendered by make() only when a text column shows `key`:
  /// in JSON mode, or for a column the options left out, nothing is
  /// formatted at all (the per-event cost of a storm is mostly formatting).
  template <class F>
  requires std::invocable<F&>
  void add_text_only(std::string_view key, F&& make) {
    if (wants_text(key)) add_text_only(key, std::string_view(make()));
  }

  /// Says what will be rendered, so that fields nobody sees are never
  /// formatted: JSON (every in_json field), or text with these column keys.
  /// A record that was never told renders everything (tests, nested rows).
  void render_only(bool json, std::vector<std::string_view> text_keys);
  /// Whether JSON-only work (e.g. the RFC 3339 time) is needed.
  bool wants_json() const { return !filtered_ || json_; }
  /// Whether a text column shows `key`.
  bool wants_text(std::string_view key) const;
  /// Adds a histogram (a view: h must outlive the next render).
  Field& add_histogram(std::string_view key, const Histogram& h);
  /// Adds a list of records, e.g. the rows of a top-N table (a view: rows
  /// must outlive the next render). Their types are not rendered.
  Field& add_records(std::string_view key, const std::vector<Record>& rows);

  /// Adds a nested object, e.g. {"id":..,"pod":{..}} (a view: obj must
  /// outlive the next render). Its type is not rendered; text never shows it.
  Field& add_object(std::string_view key, const Record& obj);

  const std::vector<Field>& fields() const { return fields_; }
  const std::vector<std::string_view>& items() const { return items_; }
  /// The field with this key, or nullptr.
  const Field* find(std::string_view key) const;

 private:
  Field& push(std::string_view key, Field::Type type);
  std::string_view keep(std::string_view text);

  std::string_view type_;
  std::vector<Field> fields_;
  std::vector<std::string_view> items_;
  std::deque<std::string> arena_;
  std::size_t arena_used_ = 0;
  bool filtered_ = false, json_ = false;
  std::vector<std::string_view> text_keys_;
};

}  // namespace snoopkit
