#pragma once
// Test double for CgroupFs: cgroups are a map (id -> path) and the clock is
// set by hand; runtime state files are real files in a temporary directory,
// read through the real, symlink-refusing code.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/cgroup_fs.h"

namespace snoopkit {

class FakeCgroupFs final : public CgroupFs {
 public:
  std::map<std::uint64_t, std::string> cgroups;  // id -> path below the root
  std::string root = "/sys/fs/cgroup";
  Clock::time_point clock{std::chrono::hours(1)};
  int path_calls = 0;
  int list_calls = 0;

  std::string cgroup2_root() const override { return root; }
  std::optional<std::string> path_of(std::uint64_t id) override {
    ++path_calls;
    auto it = cgroups.find(id);
    if (it == cgroups.end()) return std::nullopt;
    return it->second;
  }
  bool exists(std::uint64_t id, const std::string& path) override {
    auto it = cgroups.find(id);
    return it != cgroups.end() && it->second == path;
  }
  ReadResult read_file(const std::string& dir, const std::string& rel,
                       std::size_t max_bytes) override {
    return real_.read_file(dir, rel, max_bytes);
  }
  std::vector<std::string> list_dirs(const std::string& dir, const std::string& rel,
                                     std::size_t max_entries) override {
    ++list_calls;
    return real_.list_dirs(dir, rel, max_entries);
  }
  Clock::time_point now() const override { return clock; }

 private:
  // No cgroup v2 root of its own: only its state file reading is used.
  RealCgroupFs real_{"/nonexistent-cgroup2-root"};
};

/// A temporary directory, removed with everything below it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/snoopkit-state-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// Writes `rel` (making its directories) with `text`.
  void write(const std::string& rel, const std::string& text) const {
    auto file = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }

 private:
  std::string path_;
};

}  // namespace snoopkit
