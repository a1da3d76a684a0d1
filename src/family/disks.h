#pragma once
// Block device names and numbers, from sysfs: the block tracepoints carry
// a dev_t in the kernel's own encoding (major << 20 | minor).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace snoopkit {

/// dev_t as the kernel encodes it inside (MKDEV): major << 20 | minor.
constexpr std::uint32_t kernel_dev(std::uint32_t major, std::uint32_t minor) {
  return major << 20 | minor;
}

/// Names disks by their kernel dev_t, from <sysfs>/block/*/dev; caches, and
/// reads sysfs again for a device it does not know yet (a new loop device).
class DiskNames {
 public:
  explicit DiskNames(std::string sysfs = "/sys") : sysfs_(std::move(sysfs)) {}
  /// The disk's name (e.g. "vda"), or "major:minor" if sysfs has none.
  const std::string& name(std::uint32_t dev);
  /// The kernel dev_t of the disk called name, or nullopt.
  std::optional<std::uint32_t> dev(const std::string& name);

 private:
  void scan();
  std::string sysfs_;
  std::map<std::uint32_t, std::string> names_;
};

/// The kernel dev_t of the disk a command line names (-d NAME); throws
/// UsageError if /sys/block has no such disk.
std::uint32_t disk_option(const std::string& name);

}  // namespace snoopkit
