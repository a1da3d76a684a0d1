#pragma once
// Reading the BPF maps summary tools aggregate into.

#include <cstddef>
#include <functional>

struct bpf_map;

namespace snoopkit {

/// Receives one entry: key and value bytes, valid only during the call.
using EntryVisitor = std::function<void(const void* key, const void* value)>;

/// Visits every entry of a (non per-CPU) hash map and deletes it, so the
/// next call sees only what the kernel added since: each update is counted
/// in exactly one call. Throws Error if the map cannot be read.
void drain_hash(bpf_map* map, const EntryVisitor& visit);

}  // namespace snoopkit
