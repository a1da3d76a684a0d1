#pragma once
// tracefs: tracepoint attach reads event ids from it, and many hosts boot
// with it unmounted.

#include <string>

namespace snoopkit {

/// Returns the tracefs directory libbpf will read (/sys/kernel/tracing or
/// /sys/kernel/debug/tracing). If neither is mounted, mounts tracefs at
/// /sys/kernel/tracing inside a private mount namespace of this process, so
/// the host's mounts are left as they were. Throws Error with the fix if
/// that is not allowed.
std::string ensure_tracefs();

}  // namespace snoopkit
