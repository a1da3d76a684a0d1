#include "family/mount_flags.h"

#include <array>
#include <cstdio>

namespace snoopkit {
namespace {

constexpr FlagName bit(std::uint64_t b, std::string_view name) {
  return {b, b, name};
}

constexpr FlagName kMs[] = {
    bit(1, "MS_RDONLY"),
    bit(2, "MS_NOSUID"),
    bit(4, "MS_NODEV"),
    bit(8, "MS_NOEXEC"),
    bit(16, "MS_SYNCHRONOUS"),
    bit(32, "MS_REMOUNT"),
    bit(64, "MS_MANDLOCK"),
    bit(128, "MS_DIRSYNC"),
    bit(256, "MS_NOSYMFOLLOW"),
    bit(1024, "MS_NOATIME"),
    bit(2048, "MS_NODIRATIME"),
    bit(4096, "MS_BIND"),
    bit(8192, "MS_MOVE"),
    bit(16384, "MS_REC"),
    bit(32768, "MS_SILENT"),  // also spelt MS_VERBOSE
    bit(1u << 16, "MS_POSIXACL"),
    bit(1u << 17, "MS_UNBINDABLE"),
    bit(1u << 18, "MS_PRIVATE"),
    bit(1u << 19, "MS_SLAVE"),
    bit(1u << 20, "MS_SHARED"),
    bit(1u << 21, "MS_RELATIME"),
    bit(1u << 22, "MS_KERNMOUNT"),
    bit(1u << 23, "MS_I_VERSION"),
    bit(1u << 24, "MS_STRICTATIME"),
    bit(1u << 25, "MS_LAZYTIME"),
    bit(1u << 26, "MS_SUBMOUNT"),
    bit(1u << 27, "MS_NOREMOTELOCK"),
    bit(1u << 28, "MS_NOSEC"),
    bit(1u << 29, "MS_BORN"),
    bit(1u << 30, "MS_ACTIVE"),
    bit(1u << 31, "MS_NOUSER"),
};

constexpr FlagName kUmount[] = {bit(1, "MNT_FORCE"), bit(2, "MNT_DETACH"), bit(4, "MNT_EXPIRE"),
                                bit(8, "UMOUNT_NOFOLLOW")};
constexpr FlagName kFsopen[] = {bit(1, "FSOPEN_CLOEXEC")};
constexpr FlagName kFsmount[] = {bit(1, "FSMOUNT_CLOEXEC")};

// The atime field (0x70) is one value, not bits; its 0 is MOUNT_ATTR_RELATIME,
// the default, so it gets no name. In mount_setattr's attr_clr the whole
// field (MOUNT_ATTR__ATIME) is what is cleared.
constexpr FlagName kMountAttr[] = {
    bit(0x1, "MOUNT_ATTR_RDONLY"),          bit(0x2, "MOUNT_ATTR_NOSUID"),
    bit(0x4, "MOUNT_ATTR_NODEV"),           bit(0x8, "MOUNT_ATTR_NOEXEC"),
    {0x70, 0x70, "MOUNT_ATTR__ATIME"},      {0x70, 0x10, "MOUNT_ATTR_NOATIME"},
    {0x70, 0x20, "MOUNT_ATTR_STRICTATIME"}, bit(0x80, "MOUNT_ATTR_NODIRATIME"),
    bit(0x100000, "MOUNT_ATTR_IDMAP"),      bit(0x200000, "MOUNT_ATTR_NOSYMFOLLOW"),
};

constexpr FlagName kMoveMount[] = {
    bit(0x1, "MOVE_MOUNT_F_SYMLINKS"),    bit(0x2, "MOVE_MOUNT_F_AUTOMOUNTS"),
    bit(0x4, "MOVE_MOUNT_F_EMPTY_PATH"),  bit(0x10, "MOVE_MOUNT_T_SYMLINKS"),
    bit(0x20, "MOVE_MOUNT_T_AUTOMOUNTS"), bit(0x40, "MOVE_MOUNT_T_EMPTY_PATH"),
    bit(0x100, "MOVE_MOUNT_SET_GROUP"),   bit(0x200, "MOVE_MOUNT_BENEATH"),
};

constexpr FlagName kOpenTree[] = {
    bit(0x1, "OPEN_TREE_CLONE"),       bit(02000000, "OPEN_TREE_CLOEXEC"),
    bit(0x100, "AT_SYMLINK_NOFOLLOW"), bit(0x800, "AT_NO_AUTOMOUNT"),
    bit(0x1000, "AT_EMPTY_PATH"),      bit(0x8000, "AT_RECURSIVE"),
};

constexpr FlagName kFspick[] = {bit(1, "FSPICK_CLOEXEC"), bit(2, "FSPICK_SYMLINK_NOFOLLOW"),
                                bit(4, "FSPICK_NO_AUTOMOUNT"), bit(8, "FSPICK_EMPTY_PATH")};

constexpr FlagName kMountSetattr[] = {bit(0x100, "AT_SYMLINK_NOFOLLOW"),
                                      bit(0x800, "AT_NO_AUTOMOUNT"), bit(0x1000, "AT_EMPTY_PATH"),
                                      bit(0x8000, "AT_RECURSIVE")};

constexpr std::array<std::string_view, 9> kFsconfigCmds = {
    "FSCONFIG_SET_FLAG",   "FSCONFIG_SET_STRING",      "FSCONFIG_SET_BINARY",
    "FSCONFIG_SET_PATH",   "FSCONFIG_SET_PATH_EMPTY",  "FSCONFIG_SET_FD",
    "FSCONFIG_CMD_CREATE", "FSCONFIG_CMD_RECONFIGURE", "FSCONFIG_CMD_CREATE_EXCL",
};

constexpr std::uint64_t kMsMgcMask = 0xffff0000, kMsMgcVal = 0xC0ED0000;

}  // namespace

const FlagTable kMountFlags{kMs};
const FlagTable kUmountFlags{kUmount};
const FlagTable kFsopenFlags{kFsopen};
const FlagTable kFsmountFlags{kFsmount};
const FlagTable kMountAttrFlags{kMountAttr};
const FlagTable kMoveMountFlags{kMoveMount};
const FlagTable kOpenTreeFlags{kOpenTree};
const FlagTable kFspickFlags{kFspick};
const FlagTable kMountSetattrFlags{kMountSetattr};

std::uint64_t decode_flags(std::uint64_t flags, FlagTable table,
                           std::vector<std::string_view>& names) {
  std::uint64_t covered = 0;
  for (const FlagName& f : table) {
    if ((covered & f.mask) || f.value == 0 || (flags & f.mask) != f.value) continue;
    names.push_back(f.name);
    covered |= f.mask;
  }
  return flags & ~covered;
}

std::uint64_t decode_mount_flags(std::uint64_t flags, std::vector<std::string_view>& names) {
  if ((flags & kMsMgcMask) == kMsMgcVal) {
    names.push_back("MS_MGC_VAL");
    flags &= ~kMsMgcMask;
  }
  return decode_flags(flags, kMountFlags, names);
}

std::string_view fsconfig_cmd_name(std::uint32_t cmd) {
  return cmd < kFsconfigCmds.size() ? kFsconfigCmds[cmd] : std::string_view{};
}

std::string hex_flags(std::uint64_t bits) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(bits));
  return buf;
}

std::string join_flags(const std::vector<std::string_view>& names, std::uint64_t unknown,
                       std::string_view sep) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += sep;
    out += n;
  }
  if (unknown || out.empty()) {
    if (!out.empty()) out += sep;
    out += hex_flags(unknown);
  }
  return out;
}

}  // namespace snoopkit
