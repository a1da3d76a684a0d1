#pragma once
// Struct member offsets read from a kernel BTF file as a stream: a fixed
// 64 KiB buffer walks the type section and scans the string section, so a
// lookup costs well under 1 MiB however large the file is. A BPF program
// that reads at these offsets (passed in through rodata) needs no CO-RE
// relocation, which spares libbpf loading and indexing the whole kernel BTF.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_paths.h"

namespace snoopkit {

/// Byte offsets in the kernel's struct task_struct.
struct TaskOffsets {
  std::uint32_t real_parent = 0;  // struct task_struct *real_parent
  std::uint32_t tgid = 0;         // pid_t tgid
};

/// Byte offsets of members of struct struct_name (kind STRUCT: a forward
/// declaration or a union of that name does not count) in the BTF at path,
/// a raw BTF file or an ELF file with a .BTF section, one per name in
/// members, in that order. A member inside an anonymous struct or union
/// member is found at its offset from the outer struct. Throws Error naming
/// the file and what is wrong: unreadable, not BTF, truncated, no such
/// struct or member, a bitfield member.
std::vector<std::uint32_t> btf_member_offsets(const std::string& path, std::string_view struct_name,
                                              const std::vector<std::string_view>& members);

/// task_struct's real_parent and tgid offsets in the BTF at btf_path, or in
/// the running kernel's BTF when btf_path is empty. Throws Error.
TaskOffsets task_offsets(const std::string& btf_path);

}  // namespace snoopkit
