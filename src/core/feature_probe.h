#pragma once
// What the running kernel supports, probed once and cached. Tools and the
// hook chooser ask a FeatureProbe, so tests can hand them a fake one.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace snoopkit {

/// Questions about the kernel, each answered once per process.
class FeatureProbe {
 public:
  virtual ~FeatureProbe() = default;
  /// BPF_MAP_TYPE_RINGBUF (Linux 5.8).
  virtual bool ring_buffer() = 0;
  /// The tracepoint category:name exists (needs tracefs mounted).
  virtual bool tracepoint(std::string_view category, std::string_view name) = 0;
  /// The syscalls:sys_enter_* or sys_exit_* tracepoint name (which exists)
  /// has the context layout the BPF side reads (struct sk_sys_enter and
  /// sk_sys_exit, bpf/snoopkit.bpf.h).
  virtual bool syscall_context(std::string_view name) { return !name.empty(); }
  /// BPF_PROG_TYPE_RAW_TRACEPOINT programs load.
  virtual bool raw_tracepoint() = 0;
  /// fentry/fexit programs (BPF_PROG_TYPE_TRACING) load.
  virtual bool fentry() = 0;
  /// kprobes can be created (kprobe PMU or tracefs kprobe_events).
  virtual bool kprobes() = 0;
  /// The kernel exposes its BTF at /sys/kernel/btf/vmlinux.
  virtual bool kernel_btf() = 0;
  /// Task local storage from tracepoint programs: BPF_MAP_TYPE_TASK_STORAGE,
  /// bpf_task_storage_get and bpf_get_current_task_btf (Linux 5.13+).
  virtual bool task_storage() { return false; }
};

/// The real kernel, probed lazily through libbpf and sysfs/tracefs.
class KernelFeatures : public FeatureProbe {
 public:
  /// tracefs_root: where tracepoint events are listed (e.g. /sys/kernel/tracing).
  explicit KernelFeatures(std::string tracefs_root) : tracefs_(std::move(tracefs_root)) {}
  bool ring_buffer() override;
  bool tracepoint(std::string_view category, std::string_view name) override;
  bool syscall_context(std::string_view name) override;
  bool raw_tracepoint() override;
  bool fentry() override;
  bool kprobes() override;
  bool kernel_btf() override;
  bool task_storage() override;

 private:
  std::string tracefs_;
  std::optional<bool> ring_buffer_, raw_tracepoint_, fentry_, kprobes_, kernel_btf_, task_storage_,
      sys_enter_context_, sys_exit_context_;
  std::map<std::string, bool, std::less<>> tracepoints_;
};

/// Whether the format file of syscalls:<name> (a sys_enter_* or sys_exit_*
/// tracepoint) shows the layout struct sk_sys_enter and sk_sys_exit
/// (bpf/snoopkit.bpf.h) read: __syscall_nr
/// at offset 8; on entry each argument an 8-byte slot from offset 16, on
/// exit "ret" at offset 16, 8 bytes.
bool syscall_context_matches(std::string_view name, std::string_view format);

}  // namespace snoopkit
