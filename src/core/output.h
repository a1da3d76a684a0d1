#pragma once
// Writers render records to a Sink: TextWriter as aligned columns,
// JsonWriter as one JSON object per line.

#include <memory>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/sink.h"

namespace snoopkit {

/// A text column: which field it shows, its header and width.
///
/// The key names the rule "an UPPER-case key is a text-only field": a
/// column keyed in lower case ("pid", "comm") shows a field that JSON has
/// too, under that key; an UPPER-case key ("TIME", "SIG", "RET") shows a
/// Record::add_text_only field, a rendering for people that JSON leaves out
/// (JSON carries the typed fields it is made from). So a reader of a
/// tool's column list sees which columns are JSON fields. One exception
/// keeps its lower-case key: a text-only placeholder for a JSON field the
/// record leaves out (tcplife's "-" for a session with no known owner).
/// The rule is not checked at run time: the JSON schemas (docs/schema/,
/// additionalProperties false) reject an UPPER-case key that reaches JSON.
///
/// A column whose field is a kHistogram or kRecords is a block: it is drawn
/// on lines of its own below the record's line (a histogram as log2 bars,
/// records as a table of the `rows` columns, with their own header). Give
/// block columns an empty header; a header line is printed at begin() only
/// if some column has a header.
struct Column {
  std::string header;
  std::string key;                // Field::key shown in this column
  int width = 0;                  // minimum width; a left-aligned last column is never padded
  bool left = true;               // left-aligned (strings) or right-aligned (numbers)
  bool quote = false;             // kBytesList / kBytes: wrap each item in "quotes"
  std::vector<Column> rows = {};  // kRecords: the columns of the nested table
  // Text the tool built from parts it escaped itself (append_text_escaped),
  // e.g. a call with "quoted" arguments: its backslashes and quotes are
  // kept (see append_terminal_safe).
  bool escaped = false;
};

/// Renders records; implementations append to the sink's buffer.
class Writer {
 public:
  virtual ~Writer() = default;
  /// Called once, when tracing starts (text: the column header line).
  virtual void begin() {}
  /// Renders one record as one line.
  virtual void write(const Record& r) = 0;
};

/// Aligned columns like libbpf-tools. Control bytes, invalid UTF-8, C1
/// controls, bidi controls and invisible characters are escaped as \xNN so that no value can
/// forge a line or drive the terminal. A record with blocks (histograms,
/// tables) starts with an empty line, so that successive reports stay apart
/// as in libbpf-tools; its own line is left out when none of its inline
/// columns has a field.
class TextWriter : public Writer {
 public:
  TextWriter(Sink& sink, std::vector<Column> columns);
  ~TextWriter() override;
  void begin() override;
  void write(const Record& r) override;

 private:
  struct Scratch;  // reused per record: which field each column shows
  Sink& sink_;
  std::vector<Column> columns_;
  std::unique_ptr<Scratch> scratch_;
};

/// One JSON object per line, always valid UTF-8: "type" first, then the
/// fields in order. A byte string that is not valid UTF-8 is rendered with
/// U+FFFD replacements and its exact bytes as base64 in "<key>_b64". A
/// histogram is an array of {"low","high","count"} objects; nested records
/// are an array of objects (without "type").
class JsonWriter : public Writer {
 public:
  explicit JsonWriter(Sink& sink);
  ~JsonWriter() override;
  void write(const Record& r) override;

  class Line;  // where a line is built before it is appended to the sink

 private:
  Sink& sink_;
  std::unique_ptr<Line> line_;
};

}  // namespace snoopkit
