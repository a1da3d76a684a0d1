#include "family/syscalls.h"

#include <algorithm>

namespace snoopkit {

SyscallAbi native_syscall_abi() {
#if defined(__aarch64__)
  return SyscallAbi::kArm64;
#else
  return SyscallAbi::kX86_64;
#endif
}

std::span<const SyscallEntry> syscall_table(SyscallAbi abi) {
  if (abi == SyscallAbi::kArm64) return {kSyscallsArm64, kSyscallsArm64Count};
  return {kSyscallsX86_64, kSyscallsX86_64Count};
}

std::string_view syscall_name(std::int64_t nr, SyscallAbi abi) {
  const auto table = syscall_table(abi);
  const auto it = std::lower_bound(table.begin(), table.end(), nr,
                                   [](const SyscallEntry& e, std::int64_t n) { return e.nr < n; });
  return it != table.end() && it->nr == nr ? it->name : "";
}

std::int64_t syscall_number(std::string_view name, SyscallAbi abi) {
  for (const SyscallEntry& e : syscall_table(abi))
    if (name == e.name) return e.nr;
  return -1;
}

}  // namespace snoopkit
