#pragma once
// Where the running kernel exposes what the runtime reads: named once, for
// the readers, the feature probes and the checks of what a user passed.

namespace snoopkit {

/// Where the running kernel exposes its BTF; tools read it when --btf is not given.
inline constexpr const char* kKernelBtfPath = "/sys/kernel/btf/vmlinux";

}  // namespace snoopkit
