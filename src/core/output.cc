#include "core/output.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "core/escape.h"
#include "core/histogram.h"

namespace snoopkit {
namespace {

template <typename T>
void append_decimal(std::string& out, T v) {
  char buf[24];  // 20 digits for 2^64-1, plus a sign
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Appends `"<key><suffix>":`. Keys are the tools' own ASCII literals, but
// they go through the escaper anyway: its ASCII fast path makes that free.
void append_key(std::string& out, std::string_view key, std::string_view suffix = {}) {
  append_json_string(out, key);
  out.pop_back();  // reopen the string to add the suffix
  out += suffix;
  out += "\":";
}

// Pads the cell that starts at buf[start] to width columns. Right alignment
// inserts before the cell; that moves only the cell's own bytes.
void pad_cell(std::string& buf, std::size_t start, int width, bool left) {
  const std::size_t w = display_width(std::string_view(buf).substr(start));
  if (width <= 0 || w >= static_cast<std::size_t>(width)) return;
  const std::size_t fill = static_cast<std::size_t>(width) - w;
  if (left) {
    buf.append(fill, ' ');
  } else {
    buf.insert(start, fill, ' ');
  }
}

const Field* find_text_field(const Record& r, std::string_view key) {
  for (const Field& f : r.fields()) {
    if (f.in_text && f.key == key) return &f;
  }
  return nullptr;
}

void append_text_bytes(std::string& out, std::string_view bytes, bool quote) {
  if (quote) out += '"';
  append_text_escaped(out, bytes, quote);
  if (quote) out += '"';
}

void append_text_cell(std::string& out, const Record& r, const Field& f, const Column& col) {
  const bool quote = col.quote;
  switch (f.type) {
    case Field::Type::kInt:
      append_decimal(out, f.i);
      break;
    case Field::Type::kUint:
    case Field::Type::kBigUint:
      append_decimal(out, f.u);
      break;
    case Field::Type::kBool:
      out += f.b ? "true" : "false";
      break;
    // Raw text is meant to be ASCII, but escaping it costs nothing and means
    // no tool bug can put a control byte on the terminal.
    case Field::Type::kRaw:
      if (col.escaped)
        append_terminal_safe(out, f.s);
      else
        append_text_escaped(out, f.s);
      break;
    case Field::Type::kBytes:
      append_text_bytes(out, f.s, quote);
      break;
    case Field::Type::kBytesList:
      for (std::size_t k = f.list_begin; k < f.list_end; ++k) {
        if (k != f.list_begin) out += ' ';
        append_text_bytes(out, r.items()[k], quote);
      }
      break;
    case Field::Type::kHistogram:  // blocks: drawn below the line
    case Field::Type::kRecords:
    case Field::Type::kObject:  // JSON only
      break;
  }
}

bool is_block(const Field& f) {
  return f.type == Field::Type::kHistogram || f.type == Field::Type::kRecords;
}

// Whether the cell of col pads: a line never ends in padding spaces, but a
// right-aligned last column pads on its left, so its numbers line up.
bool pads(const Column& col, bool last) {
  return !last || !col.left;
}

// The header line of columns, or nothing when no column has a header.
void append_header(std::string& out, const std::vector<Column>& columns) {
  if (std::none_of(columns.begin(), columns.end(), [](auto& c) { return !c.header.empty(); }))
    return;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Column& col = columns[c];
    if (c != 0) out += ' ';
    const std::size_t start = out.size();
    out += col.header;
    if (pads(col, c + 1 == columns.size())) pad_cell(out, start, col.width, col.left);
  }
  out += '\n';
}

void append_record_text(std::string& out, const std::vector<Column>& columns, const Record& r);

void append_block(std::string& out, const Column& col, const Field& f) {
  if (f.type == Field::Type::kHistogram) {
    if (f.histogram) append_log2_bars(out, *f.histogram);
    return;
  }
  if (!f.records) return;
  append_header(out, col.rows);
  for (const Record& row : *f.records) append_record_text(out, col.rows, row);
}

// The field each column shows (nullptr: none), inline cells and blocks
// apart, in column order.
struct Matched {
  std::vector<std::pair<const Column*, const Field*>> cells, blocks;
};

// Finds each column's field. hints (one per column, or nullptr) remember
// where the field was in the last record: records of one tool come in the
// same shape, so the first look usually hits.
void match_columns(const std::vector<Column>& columns, const Record& r, Matched& m,
                   std::vector<std::size_t>* hints) {
  m.cells.clear();
  m.blocks.clear();
  const std::vector<Field>& fields = r.fields();
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Column& col = columns[c];
    const Field* f = nullptr;
    if (hints) {
      const std::size_t h = (*hints)[c];
      if (h < fields.size() && fields[h].in_text && fields[h].key == col.key) f = &fields[h];
    }
    if (!f) {
      f = find_text_field(r, col.key);
      if (f && hints) (*hints)[c] = static_cast<std::size_t>(f - fields.data());
    }
    if (f && is_block(*f))
      m.blocks.emplace_back(&col, f);
    else
      m.cells.emplace_back(&col, f);
  }
}

// One record: its line of inline cells, then its blocks in column order.
void append_matched(std::string& out, const Record& r, const Matched& m) {
  const bool any_inline =
      std::any_of(m.cells.begin(), m.cells.end(), [](const auto& cell) { return cell.second; });
  if (any_inline || m.blocks.empty()) {
    for (std::size_t c = 0; c < m.cells.size(); ++c) {
      const auto [col, f] = m.cells[c];
      if (c != 0) out += ' ';
      const std::size_t start = out.size();
      if (f) append_text_cell(out, r, *f, *col);
      if (pads(*col, c + 1 == m.cells.size())) pad_cell(out, start, col->width, col->left);
    }
    out += '\n';
  }
  for (const auto& [col, f] : m.blocks) append_block(out, *col, *f);
}

void append_record_text(std::string& out, const std::vector<Column>& columns, const Record& r) {
  Matched m;
  match_columns(columns, r, m, nullptr);
  append_matched(out, r, m);
}

void append_json_bytes_list(std::string& out, const Record& r, const Field& f) {
  bool all_valid = true;
  out += '[';
  for (std::size_t k = f.list_begin; k < f.list_end; ++k) {
    if (k != f.list_begin) out += ',';
    all_valid &= append_json_string(out, r.items()[k]);
  }
  out += ']';
  if (all_valid) return;
  // Every item, not just the bad ones, so that index k of "<key>_b64" is
  // index k of "<key>" and a reader needs no mapping.
  out += ',';
  append_key(out, f.key, "_b64");
  out += '[';
  for (std::size_t k = f.list_begin; k < f.list_end; ++k) {
    if (k != f.list_begin) out += ',';
    out += '"';
    append_base64(out, r.items()[k]);
    out += '"';
  }
  out += ']';
}

void append_json_histogram(std::string& out, const Histogram* h) {
  out += '[';
  if (h) {
    for (std::size_t k = 0; k < h->buckets.size(); ++k) {
      const Bucket& b = h->buckets[k];
      if (k != 0) out += ',';
      // Plain numbers: log2_histogram keeps bounds below 2^53, exact in doubles.
      out += "{\"low\":";
      append_decimal(out, b.low);
      out += ",\"high\":";
      append_decimal(out, b.high);
      out += ",\"count\":";
      append_decimal(out, b.count);
      out += '}';
    }
  }
  out += ']';
}

// Copies n bytes; up to 32 with a few word moves instead of a call: keys
// and most values are short, and a record is a dozen or more of them.
inline void copy_bytes(char* d, const char* s, std::size_t n) {
  auto move8 = [](char* to, const char* from) {
    std::uint64_t w;
    std::memcpy(&w, from, 8);
    std::memcpy(to, &w, 8);
  };
  if (n > 32) {
    std::memcpy(d, s, n);
  } else if (n >= 16) {  // the first 16 and the last 16, overlapping
    move8(d, s);
    move8(d + 8, s + 8);
    move8(d + n - 16, s + n - 16);
    move8(d + n - 8, s + n - 8);
  } else if (n >= 8) {
    move8(d, s);
    move8(d + n - 8, s + n - 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n > 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

}  // namespace

// One JSON line is built here through a cursor, with one check of the room
// per field, and reaches the sink's buffer in one copy. Fields that need
// more than a copy (escaping, lists, histograms) are rendered by the
// std::string helpers straight into the sink's buffer, after what the
// cursor holds so far.
class JsonWriter::Line {
 public:
  // Room for n more bytes: returns where they go. The caller writes through
  // a local pointer and hands back where it stopped (commit): a cursor kept
  // in this object would be reloaded after every byte stored, since a char
  // store may alias anything.
  char* reserve(std::size_t n) {
    if (cap_ - n_ < n) grow(n);
    return buf_.get() + n_;
  }
  void commit(const char* end) { n_ = static_cast<std::size_t>(end - buf_.get()); }
  // One byte, reserved and committed.
  void put(char c) {
    char* p = reserve(1);
    *p = c;
    commit(p + 1);
  }
  // Moves what the line holds to out; a helper then appends to out.
  std::string& flush(std::string& out) {
    out.append(buf_.get(), n_);
    n_ = 0;
    return out;
  }

 private:
  void grow(std::size_t n) {
    std::size_t cap = std::max<std::size_t>(cap_ * 2, 4096);
    while (cap - n_ < n) cap *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    if (n_) std::memcpy(bigger.get(), buf_.get(), n_);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, n_ = 0;
};

namespace {

constexpr std::size_t kNumberRoom = 24;  // 20 digits, a sign, quotes

inline char* put(char* p, std::string_view text) {
  copy_bytes(p, text.data(), text.size());
  return p + text.size();
}

// Starts a field: `,"key":` (no comma before the first field), with room
// for `value` more bytes after it. Returns where the value goes; a key that
// is not known to be plain goes through the escaper first.
inline char* put_key(JsonWriter::Line& b, std::string& out, bool comma, Key key,
                     std::size_t value) {
  char* p = b.reserve(key.size() + 4 + value);
  if (comma) *p++ = ',';
  if (!key.plain()) {
    b.commit(p);
    append_key(b.flush(out), key.view());
    return b.reserve(value);
  }
  *p++ = '"';
  p = put(p, key.view());
  *p++ = '"';
  *p++ = ':';
  return p;
}

// A string field: bytes that need no escaping are copied as they are.
// Returns false if bytes was not valid UTF-8.
bool put_string_field(JsonWriter::Line& b, std::string& out, bool comma, Key key,
                      std::string_view bytes) {
  if (json_plain_prefix(bytes) == bytes.size()) {
    char* p = put_key(b, out, comma, key, bytes.size() + 2);
    *p++ = '"';
    p = put(p, bytes);
    *p++ = '"';
    b.commit(p);
    return true;
  }
  b.commit(put_key(b, out, comma, key, 0));
  return append_json_string(b.flush(out), bytes);
}

void put_object(JsonWriter::Line& b, std::string& out, const Record& r, bool with_type) {
  b.put('{');
  bool comma = false;
  if (with_type && !r.type().empty()) {
    put_string_field(b, out, false, "type", r.type());
    comma = true;
  }
  for (const Field& f : r.fields()) {
    if (!f.in_json) continue;
    char* p = nullptr;  // where the value goes, after put_key
    switch (f.type) {
      case Field::Type::kInt:
        p = put_key(b, out, comma, f.key, kNumberRoom);
        b.commit(std::to_chars(p, p + kNumberRoom, f.i).ptr);
        break;
      case Field::Type::kUint:
        p = put_key(b, out, comma, f.key, kNumberRoom);
        b.commit(std::to_chars(p, p + kNumberRoom, f.u).ptr);
        break;
      case Field::Type::kBigUint:
        // Quoted: doubles in JavaScript and jq lose digits above 2^53.
        p = put_key(b, out, comma, f.key, kNumberRoom);
        *p++ = '"';
        p = std::to_chars(p, p + kNumberRoom - 2, f.u).ptr;
        *p++ = '"';
        b.commit(p);
        break;
      case Field::Type::kBool:
        p = put_key(b, out, comma, f.key, 5);
        b.commit(put(p, f.b ? std::string_view("true") : std::string_view("false")));
        break;
      case Field::Type::kRaw:
        put_string_field(b, out, comma, f.key, f.s);
        break;
      case Field::Type::kBytes:
        if (!put_string_field(b, out, comma, f.key, f.s)) {
          std::string& o = b.flush(out);
          o += ',';
          append_key(o, f.key.view(), "_b64");
          o += '"';
          append_base64(o, f.s);
          o += '"';
        }
        break;
      case Field::Type::kBytesList:
        b.commit(put_key(b, out, comma, f.key, 0));
        append_json_bytes_list(b.flush(out), r, f);
        break;
      case Field::Type::kHistogram:
        b.commit(put_key(b, out, comma, f.key, 0));
        append_json_histogram(b.flush(out), f.histogram);
        break;
      case Field::Type::kRecords:
        p = put_key(b, out, comma, f.key, 1);
        *p++ = '[';
        b.commit(p);
        if (f.records) {
          for (std::size_t k = 0; k < f.records->size(); ++k) {
            if (k != 0) b.put(',');
            put_object(b, out, (*f.records)[k], false);
          }
        }
        b.put(']');
        break;
      case Field::Type::kObject:
        if (f.object) {
          b.commit(put_key(b, out, comma, f.key, 0));
          put_object(b, out, *f.object, false);
        } else {
          b.commit(put(put_key(b, out, comma, f.key, 2), "{}"));
        }
        break;
    }
    comma = true;
  }
  b.put('}');
}

}  // namespace

void TextWriter::begin() {
  append_header(sink_.buffer(), columns_);
}

struct TextWriter::Scratch {
  Matched matched;
  std::vector<std::size_t> hints;
};

TextWriter::TextWriter(Sink& sink, std::vector<Column> columns)
    : sink_(sink), columns_(std::move(columns)), scratch_(std::make_unique<Scratch>()) {
  scratch_->hints.assign(columns_.size(), SIZE_MAX);
}

TextWriter::~TextWriter() = default;

void TextWriter::write(const Record& r) {
  std::string& out = sink_.buffer();
  match_columns(columns_, r, scratch_->matched, &scratch_->hints);
  if (!scratch_->matched.blocks.empty()) out += '\n';
  append_matched(out, r, scratch_->matched);
}

JsonWriter::JsonWriter(Sink& sink) : sink_(sink), line_(std::make_unique<Line>()) {}

JsonWriter::~JsonWriter() = default;

void JsonWriter::write(const Record& r) {
  std::string& out = sink_.buffer();
  put_object(*line_, out, r, true);
  line_->put('\n');
  line_->flush(out);
}

}  // namespace snoopkit
