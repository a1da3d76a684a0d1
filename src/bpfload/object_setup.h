#pragma once
// The steps bpfload takes over a user's BPF object between open and the
// poll loop: what to list, which programs and maps to use, what this
// kernel cannot attach, attaching, and the trace pipe.

#include <memory>
#include <string>
#include <vector>

#include "core/feature_probe.h"
#include "bpfload/object_file.h"
#include "core/sink.h"
#include "bpfload/trace_pipe.h"

namespace snoopkit {

/// Renders the inventory into sink's buffer: a table of programs (name,
/// section, type, instructions, loaded or not, attach kind), an empty
/// line, a table of maps (name, type, key and value size, max entries,
/// flags).
void write_inventory(Sink& sink, const ObjectFile& obj);

/// Checks that the object has every program in programs and that every
/// map in maps is one of its ring buffers; throws UsageError otherwise.
void check_selection(const ObjectFile& obj, const std::vector<std::string>& programs,
                     const std::vector<std::string>& maps);

/// Switches off the programs not in names (all stay on if names is empty).
void select_programs(const ObjectFile& obj, const std::vector<std::string>& names);

/// The ring buffer maps to stream: those in names, or all if names is empty.
std::vector<MapInfo> select_rings(const ObjectFile& obj, const std::vector<std::string>& names);

/// Before load: a program this kernel cannot attach (by the feature
/// probes) is an Error naming it, or with skip a warning, and is then not
/// loaded.
void drop_unsupported(ObjectFile& obj, FeatureProbe& features, bool skip);

/// After load: attaches every loaded program by its section name. A
/// section libbpf cannot attach by itself is a warning; any other failure
/// is an Error, or with skip a warning. Returns what was attached, as
/// "<program>=<kind>" ("on_execve=tracepoint", ...).
std::vector<std::string> attach_programs(ObjectFile& obj, bool skip);

/// Whether a program that will be loaded calls bpf_printk().
bool any_program_calls_printk(const ObjectFile& obj);

/// After load and before attach: if a loaded program calls bpf_printk(),
/// opens the trace pipe and drops what it held (output from before this
/// object's programs ran); else nullptr. Where the bpf_trace_printk event
/// cannot be opened (PrintkEvents).
std::unique_ptr<TracePipe> open_trace_pipe_for(const ObjectFile& obj);

}  // namespace snoopkit
