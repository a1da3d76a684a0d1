// Fuzz target: BTF validation and the streaming BTF reader on the same
// bytes. Invariants: validate_btf and btf_member_offsets end in a result or
// their own error, never a crash; and BTF that validate_btf accepts is safe
// for libbpf (every type resolves, every name is a string).
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/btf_offsets.h"
#include "core/btf_validate.h"
#include "core/error.h"

using namespace snoopkit;

namespace {

// What libbpf does with the types of a loaded BTF: walk and resolve each.
void walk_with_libbpf(const std::uint8_t* data, std::size_t size) {
  btf* b = btf__new(data, static_cast<__u32>(size));
  if (!b) return;  // libbpf may still refuse what it does not support
  const __u32 n = btf__type_cnt(b);
  for (__u32 id = 1; id < n; ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!t || !btf__name_by_offset(b, t->name_off)) __builtin_trap();
    btf__resolve_size(b, id);
    btf__resolve_type(b, id);
  }
  btf__free(b);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  libbpf_set_print(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bool valid = true;
  try {
    validate_btf(bytes);
  } catch (const BtfInvalid&) {
    valid = false;
  }
  if (valid) walk_with_libbpf(data, size);

  // The streaming reader reads a file: the same bytes in a memfd.
  int fd = memfd_create("btf", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    try {
      btf_member_offsets("/proc/self/fd/" + std::to_string(fd), "task_struct",
                         {"real_parent", "tgid"});
    } catch (const Error&) {
    }
    try {
      validate_btf_file("/proc/self/fd/" + std::to_string(fd));
    } catch (const Error&) {
    }
  }
  close(fd);
  return 0;
}
