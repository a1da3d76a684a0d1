#pragma once
// The file system side of container resolution behind one small interface,
// so unit tests fake it: cgroup id -> path on the cgroup v2 mount, and
// bounded, symlink-free reads of runtime state files.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snoopkit {

class CgroupFs {
 public:
  using Clock = std::chrono::steady_clock;

  /// Why a state file could not be read.
  enum class ReadStatus {
    kOk,
    kMissing,   // absent or unreadable: nothing to say
    kRejected,  // a symlink on the way, not a regular file, or larger than the bound
  };
  struct ReadResult {
    ReadStatus status = ReadStatus::kMissing;
    std::string data;
  };

  virtual ~CgroupFs() = default;

  /// The cgroup v2 mount point ("" when there is none).
  virtual std::string cgroup2_root() const = 0;
  /// The path of cgroup `id` relative to the v2 root ("/" for the root);
  /// nullopt when the cgroup is gone or cannot be found.
  virtual std::optional<std::string> path_of(std::uint64_t id) = 0;
  /// Whether the cgroup at `path` (relative to the v2 root) still exists
  /// and still carries `id`.
  virtual bool exists(std::uint64_t id, const std::string& path) = 0;
  /// Reads `rel` (components separated by '/') below `root` without
  /// following a symlink in any component; at most `max_bytes`.
  virtual ReadResult read_file(const std::string& root, const std::string& rel,
                               std::size_t max_bytes) = 0;
  /// Names of the subdirectories of `rel` below `root` (no symlinks followed),
  /// at most `max_entries`; empty when missing or unreadable.
  virtual std::vector<std::string> list_dirs(const std::string& root, const std::string& rel,
                                             std::size_t max_entries) = 0;
  virtual Clock::time_point now() const { return Clock::now(); }
};

/// The real file system. `cgroup2_root` "" = the cgroup v2 mount found in
/// /proc/self/mountinfo. `use_handles` false skips open_by_handle_at and
/// always walks the hierarchy (tests of the fallback).
class RealCgroupFs final : public CgroupFs {
 public:
  explicit RealCgroupFs(std::string cgroup2_root = {}, bool use_handles = true);
  ~RealCgroupFs() override;
  RealCgroupFs(const RealCgroupFs&) = delete;
  RealCgroupFs& operator=(const RealCgroupFs&) = delete;

  std::string cgroup2_root() const override { return root_; }
  std::optional<std::string> path_of(std::uint64_t id) override;
  bool exists(std::uint64_t id, const std::string& path) override;
  ReadResult read_file(const std::string& root, const std::string& rel,
                       std::size_t max_bytes) override;
  std::vector<std::string> list_dirs(const std::string& root, const std::string& rel,
                                     std::size_t max_entries) override;

  /// Directories the fallback walk visits at most per lookup.
  static constexpr std::size_t kMaxWalk = 20000;

 private:
  std::optional<std::string> path_by_handle(std::uint64_t id);
  std::optional<std::string> path_by_walk(std::uint64_t id);

  std::string root_;
  int root_fd_ = -1;
  bool use_handles_;
};

/// The mount point of the first cgroup2 file system in a mountinfo text
/// (octal escapes undone); "" when there is none.
std::string find_cgroup2_mount(std::string_view mountinfo);

}  // namespace snoopkit
