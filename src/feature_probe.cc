#include "feature_probe.h"

#include <bpf/libbpf.h>
#include <unistd.h>

namespace snoopkit {
namespace {

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

template <class F>
bool cached(std::optional<bool>& slot, F probe) {
  if (!slot) slot = probe();
  return *slot;
}

}  // namespace

bool KernelFeatures::ring_buffer() {
  return cached(ring_buffer_,
                [] { return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1; });
}

bool KernelFeatures::tracepoint(std::string_view category, std::string_view name) {
  std::string key = std::string(category) + "/" + std::string(name);
  auto it = tracepoints_.find(key);
  if (it != tracepoints_.end()) return it->second;
  bool ok = exists(tracefs_ + "/events/" + key + "/id");
  tracepoints_.emplace(key, ok);
  return ok;
}

bool KernelFeatures::raw_tracepoint() {
  return cached(raw_tracepoint_, [] {
    return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr) == 1;
  });
}

bool KernelFeatures::fentry() {
  // libbpf loads a real fentry program against a kernel function here.
  return cached(fentry_,
                [] { return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, nullptr) == 1; });
}

bool KernelFeatures::kprobes() {
  // KPROBE programs load on kernels without kprobes; what matters is
  // whether a kprobe can be created to attach them to.
  return cached(kprobes_, [this] {
    return exists("/sys/bus/event_source/devices/kprobe/type") ||
           exists(tracefs_ + "/kprobe_events");
  });
}

bool KernelFeatures::kernel_btf() {
  return cached(kernel_btf_, [] { return exists("/sys/kernel/btf/vmlinux"); });
}

}  // namespace snoopkit
