#pragma once
// Full paths (-F) for the tools that trace path arguments: the kernel walk's
// offsets, read from the kernel's BTF only when -F is given, and how an
// event's directory and path become one "full_path" field.

#include <cstdint>
#include <string>
#include <string_view>

#include <linux/types.h>  // before the plain-C ABI header, which uses __u32

#include "bpf/fullpath_abi.h"

namespace snoopkit {

class Record;

/// The offsets bpf/fullpath.bpf.h reads at, from the BTF at btf_path (the
/// running kernel's when empty). Throws Error naming the missing member.
sk_fullpath_offsets fullpath_offsets(const std::string& btf_path);

/// path when it is absolute; else dir joined to path (dir alone for an
/// empty path, as fstatat's AT_EMPTY_PATH names the dfd itself).
std::string join_full_path(std::string_view dir, std::string_view path);

/// One tool's -F: configures the walk and renders its result.
class FullPath {
 public:
  /// Turns the walk on (rodata `enabled`, `offsets`) when `on`: only then is
  /// the BTF read, so a run without -F starts as before. Call between open
  /// and load. Throws Error.
  void configure(bool on, const std::string& btf_path, bool& enabled, sk_fullpath_offsets& offsets);
  bool on() const { return on_; }
  /// The key the PATH column shows: "PATH" (the full path) with -F, else "path".
  const char* column_key() const { return on_ ? "PATH" : "path"; }
  /// With -F, adds "full_path" and "full_path_truncated" (the walk stopped
  /// short, or the path itself was cut) to r, nothing when the directory is
  /// unknown (dir_flags has SK_FULLPATH_F_UNKNOWN, or the path could not be
  /// read); and the text-only "PATH": the full path where there is one, else
  /// the path as given. path must outlive the record's next render; the
  /// joined string lives in this object.
  void add(Record& r, std::string_view path, bool path_ok, bool path_cut, std::string_view dir,
           std::uint32_t dir_flags);

 private:
  bool on_ = false;
  std::string joined_;
};

}  // namespace snoopkit
