#include "feature_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

namespace snoopkit {
namespace {

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

template <class F>
bool cached(std::optional<bool>& slot, F probe) {
  if (!slot) slot = probe();
  return *slot;
}

// Loads "return 0" as fentry on a kernel function; true if the kernel accepts it.
bool probe_fentry_load() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  int id = -1;
  for (const char* fn : {"bpf_fentry_test1", "do_unlinkat", "vfs_read"}) {
    id = btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC);
    if (id > 0) break;
  }
  btf__free(vmlinux);
  if (id <= 0) return false;
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},  // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                   // exit
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
              .attach_btf_id = static_cast<__u32>(id));
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", insns, 2, &opts);
  if (fd < 0) return false;
  close(fd);
  return true;
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
  // libbpf 1.1's generic prog-type probe cannot answer for TRACING (it
  // needs a target), so load a real two-instruction fentry program.
  return cached(fentry_, [this] { return kernel_btf() && probe_fentry_load(); });
}

bool KernelFeatures::kprobes() {
  // KPROBE programs load on kernels without kprobes; what matters is
  // whether a kprobe can be created to attach them to.
  return cached(kprobes_, [this] {
    return exists("/sys/bus/event_source/devices/kprobe/type") ||
           exists(tracefs_ + "/kprobe_events");
  });
}

bool KernelFeatures::task_storage() {
  // libbpf loads a tracepoint program calling each helper and reads the
  // verifier's verdict; the map type needs kernel BTF.
  return cached(task_storage_, [this] {
    return kernel_btf() && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, nullptr) == 1 &&
           libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_storage_get,
                                   nullptr) == 1 &&
           libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf,
                                   nullptr) == 1;
  });
}

bool KernelFeatures::kernel_btf() {
  return cached(kernel_btf_, [] { return exists("/sys/kernel/btf/vmlinux"); });
}

}  // namespace snoopkit
