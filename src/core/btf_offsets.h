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

#include "core/kernel_paths.h"

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

/// What to look up in one struct: its name and the members wanted.
struct StructQuery {
  std::string_view name;
  std::vector<std::string_view> members;
};

/// A struct's size and the byte offsets of the queried members, in order.
struct StructLayout {
  std::uint32_t size = 0;
  std::vector<std::uint32_t> offsets;
};

/// The layouts of several structs (kind STRUCT) in the BTF at path, one per
/// query, in that order, read in one pass over the string section and one
/// over the type section (more only for members inside anonymous structs or
/// unions). Throws Error as btf_member_offsets() does.
std::vector<StructLayout> btf_struct_layouts(const std::string& path,
                                             const std::vector<StructQuery>& queries);

/// task_struct's real_parent and tgid offsets in the BTF at btf_path, or in
/// the running kernel's BTF when btf_path is empty. Throws Error.
TaskOffsets task_offsets(const std::string& btf_path);

/// The offsets the BPF runtime's sk_task_context() reads at (rodata sk_off_*).
struct TaskContextOffsets {
  std::uint32_t task_nsproxy = 0, task_thread_pid = 0, task_group_leader = 0;
  std::uint32_t nsproxy_mnt_ns = 0, mntns_inum = 0;
  std::uint32_t pid_level = 0, pid_numbers = 0, upid_size = 0, upid_nr = 0, upid_ns = 0;
  std::uint32_t pidns_inum = 0;
};

/// The task context offsets in the BTF at btf_path (the running kernel's
/// when empty), from one btf_struct_layouts() query. Throws Error.
TaskContextOffsets task_context_offsets(const std::string& btf_path);

}  // namespace snoopkit
