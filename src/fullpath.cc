#include "fullpath.h"

#include <vector>

#include "btf_offsets.h"
#include "record.h"

namespace snoopkit {

sk_fullpath_offsets fullpath_offsets(const std::string& btf_path) {
  const std::string path = btf_path.empty() ? kKernelBtfPath : btf_path;
  auto one = [&](std::string_view s, std::string_view m) {
    return btf_member_offsets(path, s, {m})[0];
  };
  auto two = [&](std::string_view s, std::string_view a, std::string_view b) {
    return btf_member_offsets(path, s, {a, b});
  };
  sk_fullpath_offsets o{};
  auto task = two("task_struct", "fs", "files");
  o.task_fs = task[0];
  o.task_files = task[1];
  auto fs = two("fs_struct", "pwd", "root");
  o.fs_pwd = fs[0];
  o.fs_root = fs[1];
  auto path_ = two("path", "mnt", "dentry");
  o.path_mnt = path_[0];
  o.path_dentry = path_[1];
  auto dentry = two("dentry", "d_parent", "d_name");
  o.dentry_d_parent = dentry[0];
  o.dentry_d_name = dentry[1];
  auto qstr = two("qstr", "name", "len");
  o.qstr_name = qstr[0];
  o.qstr_len = qstr[1];
  o.vfsmount_mnt_root = one("vfsmount", "mnt_root");
  auto mnt = btf_member_offsets(path, "mount", {"mnt", "mnt_parent", "mnt_mountpoint"});
  o.mount_mnt = mnt[0];
  o.mount_mnt_parent = mnt[1];
  o.mount_mnt_mountpoint = mnt[2];
  o.files_fdt = one("files_struct", "fdt");
  auto fdt = two("fdtable", "max_fds", "fd");
  o.fdt_max_fds = fdt[0];
  o.fdt_fd = fdt[1];
  o.file_f_path = one("file", "f_path");
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
  if (r.wants_text("PATH")) r.add_bytes("PATH", known ? std::string_view(joined_) : path).in_json = false;
}

}  // namespace snoopkit
