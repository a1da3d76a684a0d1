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

/// A field's name. A string literal becomes a Key at compile time and is
/// checked there to need no escaping in JSON (printable ASCII other than
/// '"' and '\\'), so writers copy it as it is; a name made at run time goes
/// through Key::named(), which checks it then (and writers escape it if it
/// is not plain).
class Key {
 public:
  template <std::size_t N>
  consteval Key(const char (&name)[N]) : data_(name), size_(N - 1), plain_(1) {
    for (std::size_t k = 0; k + 1 < N; ++k) {
      const char c = name[k];
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (c & 0x80))
        throw "a field name in a literal must be printable ASCII without '\"' or '\\\\'";
    }
  }
  /// A name known only at run time (a table entry, a user's choice).
  static Key named(std::string_view name);

  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  /// True when JSON holds the name as it is.
  bool plain() const { return plain_ != 0; }
  friend bool operator==(const Key& k, std::string_view name) { return k.view() == name; }

 private:
  Key(std::string_view name, bool plain)
      : data_(name.data()), size_(static_cast<std::uint32_t>(name.size())), plain_(plain) {}
  // 16 bytes with no padding: passed in two registers and copied as two
  // words (a bool here made the copy an unaligned load across two stores).
  const char* data_;
  std::uint32_t size_;
  std::uint32_t plain_;
};

/// One typed field. Bytes are exact, whatever the kernel handed over;
/// writers decide how to escape them.
struct Field {
  // The scalars (a number or a bool) come first: writers test type <= kBool.
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
  // 56 bytes, so that adding a field is a few stores (a record is refilled
  // for every event): the value lives in a union chosen by type.
  Key key = "";
  std::string_view s;  // kBytes, kRaw
  union {
    std::int64_t i = 0;                     // kInt
    std::uint64_t u;                        // kUint, kBigUint
    bool b;                                 // kBool
    const Histogram* histogram;             // kHistogram (a view)
    const std::vector<Record>* records;     // kRecords (a view)
    const Record* object;                   // kObject (a view)
  };
  std::uint32_t list_begin = 0, list_end = 0;  // kBytesList: range in Record::items()
  Type type = Type::kInt;
  bool in_json = true;  // false: shown in text columns only
  bool in_text = true;  // false: rendered in JSON only
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

  // Inline: a tool adds a dozen or more fields per event.
  Field& add_int(Key key, std::int64_t v) { return add<&Field::i>(key, Field::Type::kInt, v); }
  Field& add_uint(Key key, std::uint64_t v) { return add<&Field::u>(key, Field::Type::kUint, v); }
  Field& add_big_uint(Key key, std::uint64_t v) {
    return add<&Field::u>(key, Field::Type::kBigUint, v);
  }
  Field& add_bool(Key key, bool v) { return add<&Field::b>(key, Field::Type::kBool, v); }
  Field& add_bytes(Key key, std::string_view bytes) {
    return add<&Field::s>(key, Field::Type::kBytes, bytes);
  }
  Field& add_bytes_list(Key key, const std::vector<std::string_view>& items);
  /// Adds pre-rendered ASCII text; the record keeps its own copy.
  Field& add_raw(Key key, std::string_view text);
  /// Adds a field for text columns only (e.g. "TIME" as HH:MM:SS).
  Field& add_text_only(Key key, std::string_view text);
  /// The same, rendered by make() only when a text column shows `key`:
  /// in JSON mode, or for a column the options left out, nothing is
  /// formatted at all (the per-event cost of a storm is mostly formatting).
  template <class F>
  requires std::invocable<F&>
  void add_text_only(Key key, F&& make) {
    if (wants_text(key)) add_text_only(key, std::string_view(make()));
  }

  /// Says what will be rendered, so that fields nobody sees are never
  /// formatted: JSON (every in_json field), or text with these column keys.
  /// A record that was never told renders everything (tests, nested rows).
  void render_only(bool json, std::vector<std::string_view> text_keys);
  /// Whether JSON-only work (e.g. the RFC 3339 time) is needed.
  bool wants_json() const { return !filtered_ || json_; }
  /// Whether a text column shows `key`.
  bool wants_text(std::string_view key) const {
    if (!filtered_) return true;
    return !json_ && shows_column(key);  // JSON mode: no text column at all
  }
  /// Adds a histogram (a view: h must outlive the next render).
  Field& add_histogram(Key key, const Histogram& h);
  /// Adds a list of records, e.g. the rows of a top-N table (a view: rows
  /// must outlive the next render). Their types are not rendered.
  Field& add_records(Key key, const std::vector<Record>& rows);

  /// Adds a nested object, e.g. {"id":..,"pod":{..}} (a view: obj must
  /// outlive the next render). Its type is not rendered; text never shows it.
  Field& add_object(Key key, const Record& obj);

  const std::vector<Field>& fields() const { return fields_; }
  const std::vector<std::string_view>& items() const { return items_; }
  /// The field with this key, or nullptr.
  const Field* find(std::string_view key) const;

 private:
  bool shows_column(std::string_view key) const;
  template <auto Member, class T>
  Field& add(Key key, Field::Type type, T v) {
    Field& f = push(key, type);
    f.*Member = v;
    return f;
  }
  Field& push(Key key, Field::Type type) {
    Field& f = fields_.emplace_back();
    f.key = key;
    f.type = type;
    return f;
  }
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
