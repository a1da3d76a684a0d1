#include "family/disks.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace snoopkit {
namespace {

// "254:0\n" -> kernel dev_t.
std::optional<std::uint32_t> read_dev(const std::filesystem::path& file) {
  std::ifstream in(file);
  unsigned major = 0, minor = 0;
  char colon = 0;
  if (!(in >> major >> colon >> minor) || colon != ':' || major >= 4096 || minor >= (1u << 20))
    return std::nullopt;
  return kernel_dev(major, minor);
}

}  // namespace

void DiskNames::scan() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(sysfs_ + "/block", ec)) {
    if (auto d = read_dev(entry.path() / "dev")) names_[*d] = entry.path().filename().string();
  }
}

const std::string& DiskNames::name(std::uint32_t dev) {
  auto it = names_.find(dev);
  if (it == names_.end()) {
    scan();
    it = names_.find(dev);
  }
  if (it == names_.end())  // remembered, so an unknown device costs one scan
    it = names_.emplace(dev, std::to_string(dev >> 20) + ":" + std::to_string(dev & 0xFFFFF)).first;
  return it->second;
}

std::optional<std::uint32_t> DiskNames::dev(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return std::nullopt;
  return read_dev(std::filesystem::path(sysfs_) / "block" / name / "dev");
}

std::uint32_t disk_option(const std::string& name) {
  auto dev = DiskNames().dev(name);
  if (!dev) throw UsageError("no such disk: " + name + " (see /sys/block)");
  return *dev;
}

}  // namespace snoopkit
