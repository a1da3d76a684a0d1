// Fuzz target: JsonWriter. Invariants: every line is strictly valid UTF-8
// JSON, and every byte string round-trips exactly (through <key>_b64 when
// it was not UTF-8).
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "core/escape.h"
#include "core/output.h"
#include "strict_json.h"

using namespace snoopkit;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The exact bytes the record carried for key, from the parsed JSON.
std::string exact(const fuzz::Value& obj, const std::string& key) {
  if (const auto* b64 = obj.get(key + "_b64")) {
    check(b64->kind == fuzz::Value::Kind::kString);
    auto bytes = fuzz::base64_decode(b64->text);
    check(bytes.has_value());
    return *bytes;
  }
  const auto* v = obj.get(key);
  check(v && v->kind == fuzz::Value::Kind::kString);
  return v->text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  // A name made at run time; "k" keeps it apart from the fixed names.
  std::string key = "k" + fdp.ConsumeRandomLengthString(24);
  std::string s = fdp.ConsumeRandomLengthString(4096);
  std::vector<std::string> list(fdp.ConsumeIntegralInRange<int>(0, 6));
  for (auto& item : list) item = fdp.ConsumeRandomLengthString(512);
  std::vector<std::string_view> views(list.begin(), list.end());
  std::int64_t i = fdp.ConsumeIntegral<std::int64_t>();
  std::uint64_t u = fdp.ConsumeIntegral<std::uint64_t>();
  std::string raw = fdp.ConsumeRemainingBytesAsString();

  Record r;
  r.set_type("fuzz");
  r.add_bytes("s", s);
  r.add_bytes_list("l", views);
  r.add_int("i", i);
  r.add_big_uint("big", u);
  r.add_bool("b", u & 1);
  r.add_raw("raw", raw);
  r.add_text_only("hidden", "x");
  r.add_uint(Key::named(key), 7);

  Sink sink(-1);
  JsonWriter writer(sink);
  writer.write(r);
  const std::string out = sink.buffer();
  // The writer reuses its line buffer: the same record renders the same.
  sink.buffer().clear();
  writer.write(r);
  check(sink.buffer() == out);

  // One line, valid UTF-8, strict JSON.
  check(!out.empty() && out.back() == '\n' && out.find('\n') == out.size() - 1);
  check(is_valid_utf8(out));
  auto doc = fuzz::parse_strict(std::string_view(out).substr(0, out.size() - 1));
  check(doc.has_value() && doc->kind == fuzz::Value::Kind::kObject);

  // Nothing lost: the exact bytes come back.
  check(exact(*doc, "s") == s);
  const auto* arr = doc->get("l");
  check(arr && arr->kind == fuzz::Value::Kind::kArray && arr->items.size() == list.size());
  const auto* arr_b64 = doc->get("l_b64");
  for (std::size_t k = 0; k < list.size(); ++k) {
    if (arr_b64) {
      check(arr_b64->items.size() == list.size());
      check(fuzz::base64_decode(arr_b64->items[k].text) == list[k]);
    } else {
      check(arr->items[k].text == list[k]);
    }
  }
  check(doc->get("i")->text == std::to_string(i));
  check(doc->get("big")->text == std::to_string(u));  // a string: no double rounding
  check(doc->get("hidden") == nullptr);
  check(doc->get("type")->text == "fuzz");
  // A name that is valid UTF-8 comes back exactly, however it was escaped.
  if (is_valid_utf8(key)) {
    const auto* v = doc->get(key);
    check(v && v->text == "7");
  }
  return 0;
}
