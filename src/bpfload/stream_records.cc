#include "bpfload/stream_records.h"

#include <spdlog/fmt/fmt.h>

#include <string>

#include "core/escape.h"
#include "bpfload/hexdump.h"

namespace snoopkit {

std::vector<Column> ringbuf_columns(bool dump) {
  std::vector<Column> cols{
      {"", "KIND", 7}, {"", "map", 16}, {"", "size", 5, false}, {"", "data_hex"}};
  if (dump) cols.push_back({"", "DUMP", 0, true, false, {{"", "line"}}});
  return cols;
}

std::vector<Column> printk_columns() {
  return {{"", "KIND", 7},       {"", "ts", 14, false}, {"", "comm", 16},
          {"", "pid", 7, false}, {"", "CPU", 5},        {"", "message"}};
}

void add_ringbuf_fields(Record& r, std::string_view map, std::string_view bytes, bool dump,
                        std::vector<Record>& rows) {
  r.set_type("ringbuf");
  r.add_text_only("KIND", "ringbuf");
  r.add_bytes("map", map);
  r.add_uint("size", bytes.size());
  std::string hex;
  append_hex(hex, bytes);
  r.add_raw("data_hex", std::move(hex));
  std::string b64;
  append_base64(b64, bytes);
  r.add_raw("data_base64", std::move(b64));
  if (!dump) return;
  rows.resize((bytes.size() + kHexdumpWidth - 1) / kHexdumpWidth);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].clear();
    rows[i].add_raw("line", "  " + hexdump_line(bytes, i * kHexdumpWidth));
  }
  r.add_records("DUMP", rows).in_json = false;
}

void add_printk_fields(Record& r, const TraceLine& t) {
  r.set_type("printk");
  r.add_text_only("KIND", "printk");
  r.add_raw("ts", std::string(t.ts));
  r.add_uint("cpu", t.cpu);
  r.add_text_only("CPU", [&] { return fmt::format("[{:03}]", t.cpu); });
  r.add_uint("pid", t.pid);
  r.add_bytes("comm", t.comm);
  r.add_bytes("message", t.message);
}

void add_printk_fields(Record& r, const PrintkSample& p, std::string_view comm) {
  r.set_type("printk");
  r.add_text_only("KIND", "printk");
  r.add_raw("ts", format_trace_seconds(p.ts));
  r.add_uint("cpu", p.cpu);
  r.add_text_only("CPU", [&] { return fmt::format("[{:03}]", p.cpu); });
  r.add_uint("pid", p.pid);
  r.add_bytes("comm", comm);
  r.add_bytes("message", p.message);
}

}  // namespace snoopkit
