#pragma once
// One interface over the two ways events leave the kernel: the BPF ring
// buffer (Linux 5.8+, shared by all CPUs) and the perf buffer (per CPU).
// Both wake the reader in batches; the poll loop drains them on a timer
// too, so no event waits longer than --latency.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

struct bpf_map;

namespace snoopkit {

/// Receives one event's bytes; returns false to end this consume() call
/// early (the event itself is consumed). Must not throw (it runs under
/// libbpf's C callbacks); failures are recorded and handed back to the loop.
using EventHandler = std::function<bool(const void* data, std::size_t size)>;

class Transport {
 public:
  virtual ~Transport() = default;
  /// An fd that becomes readable when the kernel wakes the reader.
  virtual int epoll_fd() const = 0;
  /// Hands pending events to the handler until none is left or the handler
  /// returns false; returns how many, or -errno.
  virtual int consume() = 0;
  /// Losses the transport itself reported (perf buffer PERF_RECORD_LOST).
  virtual std::uint64_t reported_lost() const { return 0; }
  virtual const char* name() const = 0;
};

/// A ring buffer reader over map (BPF_MAP_TYPE_RINGBUF, already loaded).
std::unique_ptr<Transport> make_ring_buffer(bpf_map* map, EventHandler handler);

/// A perf buffer reader over map (BPF_MAP_TYPE_PERF_EVENT_ARRAY, loaded):
/// pages_per_cpu pages per CPU, waking the reader once wakeup_bytes are
/// pending on a CPU.
std::unique_ptr<Transport> make_perf_buffer(bpf_map* map, std::size_t pages_per_cpu,
                                            std::size_t wakeup_bytes, EventHandler handler);

}  // namespace snoopkit
