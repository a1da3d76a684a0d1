#include "core/record.h"

#include <utility>

#include "core/escape.h"

namespace snoopkit {

static_assert(sizeof(Key) == 16, "a key is passed in registers");
static_assert(sizeof(Field) <= 56, "a field is filled for every event: keep it small");

Key Key::named(std::string_view name) {
  return Key(name, json_plain_prefix(name) == name.size());
}

// The type is kept: a tool may set it once and clear() the record per event.
void Record::clear() {
  fields_.clear();
  items_.clear();
  arena_used_ = 0;
}

// A deque never moves its elements, so views into earlier slots survive
// growth; slots are reused after clear() so a steady state allocates nothing.
std::string_view Record::keep(std::string_view text) {
  if (arena_used_ == arena_.size()) arena_.emplace_back();
  std::string& slot = arena_[arena_used_++];
  slot.assign(text);
  return slot;
}

void Record::render_only(bool json, std::vector<std::string_view> text_keys) {
  filtered_ = true;
  json_ = json;
  text_keys_ = json ? std::vector<std::string_view>{} : std::move(text_keys);
}

bool Record::shows_column(std::string_view key) const {
  for (std::string_view k : text_keys_) {
    if (k == key) return true;
  }
  return false;
}

Field& Record::add_bytes_list(Key key, const std::vector<std::string_view>& items) {
  // Indices, not pointers: items_ may reallocate as later lists are added.
  const std::size_t begin = items_.size();
  items_.insert(items_.end(), items.begin(), items.end());
  Field& f = push(key, Field::Type::kBytesList);
  f.list_begin = static_cast<std::uint32_t>(begin);
  f.list_end = static_cast<std::uint32_t>(items_.size());
  return f;
}

Field& Record::add_raw(Key key, std::string_view text) {
  const std::string_view kept = keep(text);
  Field& f = push(key, Field::Type::kRaw);
  f.s = kept;
  return f;
}

Field& Record::add_text_only(Key key, std::string_view text) {
  Field& f = add_raw(key, text);
  f.in_json = false;
  return f;
}

Field& Record::add_histogram(Key key, const Histogram& h) {
  Field& f = push(key, Field::Type::kHistogram);
  f.histogram = &h;
  return f;
}

Field& Record::add_records(Key key, const std::vector<Record>& rows) {
  Field& f = push(key, Field::Type::kRecords);
  f.records = &rows;
  return f;
}

Field& Record::add_object(Key key, const Record& obj) {
  Field& f = push(key, Field::Type::kObject);
  f.object = &obj;
  f.in_text = false;
  return f;
}

const Field* Record::find(std::string_view key) const {
  for (const Field& f : fields_) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

}  // namespace snoopkit
