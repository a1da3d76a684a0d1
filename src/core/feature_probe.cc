#include "core/feature_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "core/kernel_paths.h"

namespace snoopkit {
namespace {

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

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

bool KernelFeatures::syscall_context(std::string_view name) {
  // Every syscall tracepoint comes from one template in the kernel, so the
  // first of each kind read stands for the others (one file read, not one
  // per syscall).
  bool exit = name.substr(0, 9) == "sys_exit_";
  return cached(exit ? sys_exit_context_ : sys_enter_context_, [&] {
    std::ifstream f(tracefs_ + "/events/syscalls/" + std::string(name) + "/format");
    std::stringstream text;
    text << f.rdbuf();
    return f.good() && syscall_context_matches(name, text.str());
  });
}

namespace {

struct FormatField {
  std::string_view name;
  long offset = -1, size = -1;
};

long number_after(std::string_view line, std::string_view key) {
  auto at = line.find(key);
  if (at == std::string_view::npos) return -1;
  long v = -1;
  const char* begin = line.data() + at + key.size();
  std::from_chars(begin, line.data() + line.size(), v);
  return v;
}

// "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;"
std::optional<FormatField> parse_field(std::string_view line) {
  auto at = line.find("field:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view decl = line.substr(at + 6);
  decl = decl.substr(0, decl.find(';'));
  if (auto br = decl.find('['); br != std::string_view::npos) decl = decl.substr(0, br);
  while (!decl.empty() && decl.back() == ' ') decl.remove_suffix(1);
  auto sp = decl.find_last_of(" *");
  FormatField f;
  f.name = sp == std::string_view::npos ? decl : decl.substr(sp + 1);
  f.offset = number_after(line, "offset:");
  f.size = number_after(line, "size:");
  return f;
}

}  // namespace

bool syscall_context_matches(std::string_view name, std::string_view format) {
  bool exit = name.substr(0, 9) == "sys_exit_";
  if (!exit && name.substr(0, 10) != "sys_enter_") return false;
  bool nr = false;
  int args = 0, rets = 0;
  while (!format.empty()) {
    auto nl = format.find('\n');
    std::string_view line = format.substr(0, nl);
    format = nl == std::string_view::npos ? std::string_view{} : format.substr(nl + 1);
    auto f = parse_field(line);
    if (!f || f->name.substr(0, 7) == "common_") continue;
    if (f->name == "__syscall_nr") {
      if (f->offset != 8 || f->size != 4) return false;
      nr = true;
    } else if (exit) {
      if (f->name != "ret" || f->offset != 16 || f->size != 8) return false;
      ++rets;
    } else {
      if (f->offset != 16 + 8 * args || f->size != 8 || args >= 6) return false;
      ++args;
    }
  }
  return nr && (exit ? rets == 1 : true);
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
           libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_storage_get, nullptr) ==
               1 &&
           libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf,
                                   nullptr) == 1;
  });
}

bool KernelFeatures::kernel_btf() {
  return cached(kernel_btf_, [] { return exists(kKernelBtfPath); });
}

}  // namespace snoopkit
