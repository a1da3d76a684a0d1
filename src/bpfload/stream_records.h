#pragma once
// The records bpfload streams: "ringbuf" (one ring buffer record, whose
// layout only the object's author knows: shown as bytes) and "printk" (one
// bpf_printk() call, from the bpf_trace_printk event or the trace pipe). Schemas: docs/schema/ringbuf.v1.json
// and docs/schema/printk.v1.json.

#include <string_view>
#include <vector>

#include "core/output.h"
#include "core/record.h"
#include "bpfload/printk_events.h"
#include "bpfload/trace_pipe.h"

namespace snoopkit {

/// Text columns of a ringbuf line: "ringbuf", map, size, the bytes in hex;
/// with dump, the hex dump block below it.
std::vector<Column> ringbuf_columns(bool dump);
/// Text columns of a printk line: "printk", time stamp, comm, pid, [cpu], message.
std::vector<Column> printk_columns();

/// Makes r a "ringbuf" record of bytes read from map (after the time
/// fields). With dump, adds a text-only hex dump (hexdump -C) whose rows
/// are kept in rows, which must outlive the next render.
void add_ringbuf_fields(Record& r, std::string_view map, std::string_view bytes, bool dump,
                        std::vector<Record>& rows);

/// Makes r a "printk" record of a trace pipe line (after the time fields).
void add_printk_fields(Record& r, const TraceLine& t);
/// Makes r a "printk" record of a bpf_trace_printk sample, whose thread is
/// named comm (after the time fields).
void add_printk_fields(Record& r, const PrintkSample& p, std::string_view comm);

}  // namespace snoopkit
