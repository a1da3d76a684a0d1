// Fuzz target: TextWriter. Invariants: each record is exactly one line,
// valid UTF-8, with no byte or sequence a terminal would act on (C0, DEL,
// C1, bidi controls).
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "core/escape.h"
#include "core/output.h"

using namespace snoopkit;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool has_terminal_control(const std::string& line) {
  for (std::size_t k = 0; k < line.size(); ++k) {
    unsigned char c = static_cast<unsigned char>(line[k]);
    if (c < 0x20 || c == 0x7f) return true;
    unsigned char n1 = k + 1 < line.size() ? static_cast<unsigned char>(line[k + 1]) : 0;
    unsigned char n2 = k + 2 < line.size() ? static_cast<unsigned char>(line[k + 2]) : 0;
    if (c == 0xC2 && n1 >= 0x80 && n1 <= 0x9F) return true;                  // C1
    if (c == 0xE2 && n1 == 0x80 && n2 >= 0xAA && n2 <= 0xAE) return true;    // U+202A..E
    if (c == 0xE2 && n1 == 0x81 && n2 >= 0xA6 && n2 <= 0xA9) return true;    // U+2066..9
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  bool quote = fdp.ConsumeBool();
  std::string comm = fdp.ConsumeRandomLengthString(64);
  std::vector<std::string> args(fdp.ConsumeIntegralInRange<int>(0, 6));
  for (auto& a : args) a = fdp.ConsumeRandomLengthString(256);
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string raw = fdp.ConsumeRemainingBytesAsString();

  Sink sink(-1);
  TextWriter writer(sink, {{"COMM", "comm", 16}, {"RAW", "raw", 8, false}, {"ARGS", "args", 0, true, quote}});
  writer.begin();
  Record r;
  r.add_bytes("comm", comm);
  r.add_raw("raw", raw);
  r.add_bytes_list("args", views);
  writer.write(r);

  const std::string& out = sink.buffer();
  std::size_t header_end = out.find('\n');
  check(header_end != std::string::npos);
  std::string line = out.substr(header_end + 1);
  check(!line.empty() && line.back() == '\n');
  line.pop_back();
  check(!has_terminal_control(line));
  check(is_valid_utf8(line));
  return 0;
}
