#include "family/fullpath.h"

#include <vector>

#include "core/btf_offsets.h"
#include "core/record.h"

namespace snoopkit {

sk_fullpath_offsets fullpath_offsets(const std::string& btf_path) {
  const std::string path = btf_path.empty() ? kKernelBtfPath : btf_path;
  sk_fullpath_offsets o{};
  // Each struct, its members, and where each offset goes.
  struct Want {
    std::string_view name;
    std::vector<std::string_view> members;
    std::vector<__u32*> out;
  };
  const Want wants[] = {
      {"task_struct", {"fs", "files"}, {&o.task_fs, &o.task_files}},
      {"fs_struct", {"pwd", "root"}, {&o.fs_pwd, &o.fs_root}},
      {"path", {"mnt", "dentry"}, {&o.path_mnt, &o.path_dentry}},
      {"dentry", {"d_parent", "d_name"}, {&o.dentry_d_parent, &o.dentry_d_name}},
      {"qstr", {"name", "len"}, {&o.qstr_name, &o.qstr_len}},
      {"vfsmount", {"mnt_root"}, {&o.vfsmount_mnt_root}},
      {"mount",
       {"mnt", "mnt_parent", "mnt_mountpoint"},
       {&o.mount_mnt, &o.mount_mnt_parent, &o.mount_mnt_mountpoint}},
      {"files_struct", {"fdt"}, {&o.files_fdt}},
      {"fdtable", {"max_fds", "fd"}, {&o.fdt_max_fds, &o.fdt_fd}},
      {"file", {"f_path"}, {&o.file_f_path}},
  };
  // One pass over the BTF for all of them.
  std::vector<StructQuery> queries;
  for (const Want& w : wants) queries.push_back({w.name, w.members});
  const std::vector<StructLayout> layouts = btf_struct_layouts(path, queries);
  for (std::size_t q = 0; q < std::size(wants); ++q)
    for (std::size_t i = 0; i < wants[q].out.size(); ++i) *wants[q].out[i] = layouts[q].offsets[i];
  return o;
}

std::string join_full_path(std::string_view dir, std::string_view path) {
  if (dir.empty() || (!path.empty() && path.front() == '/')) return std::string(path);
  std::string out(dir);
  if (path.empty()) return out;
  if (out.back() != '/') out += '/';
  out += path;
  return out;
}

void FullPath::configure(bool on, const std::string& btf_path, bool& enabled,
                         sk_fullpath_offsets& offsets) {
  on_ = on;
  if (!on) return;
  offsets = fullpath_offsets(btf_path);
  enabled = true;
}

void FullPath::add(Record& r, std::string_view path, bool path_ok, bool path_cut,
                   std::string_view dir, std::uint32_t dir_flags) {
  if (!on_) return;
  const bool known = path_ok && !(dir_flags & SK_FULLPATH_F_UNKNOWN);
  if (known) {
    joined_ = join_full_path(dir, path);
    r.add_bytes("full_path", joined_);
    r.add_bool("full_path_truncated", path_cut || (dir_flags & SK_FULLPATH_F_CUT));
  }
  if (r.wants_text("PATH"))
    r.add_bytes("PATH", known ? std::string_view(joined_) : path).in_json = false;
}

}  // namespace snoopkit
