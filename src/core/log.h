#pragma once
// Logging on stderr only (stdout is data). Levels: debug only with -v,
// warn = the run goes on, error = the run exits. libbpf's own messages are
// routed here: its warnings with -v, its debug output with -vv.

#include <string>

namespace snoopkit {

/// Sets up the default spdlog logger as "<tool>: <level>: message" on stderr
/// and routes libbpf's print callback through it.
void init_logging(const std::string& tool, int verbosity);

}  // namespace snoopkit
