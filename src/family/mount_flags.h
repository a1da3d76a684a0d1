#pragma once
// Names for the flags of mount(2), umount2(2) and the new mount API
// (fsopen, fsconfig, fsmount, fspick, move_mount, open_tree, mount_setattr),
// from the kernel's UAPI headers (linux/mount.h, linux/fcntl.h).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace snoopkit {

/// One name: it applies when (flags & mask) == value. Single bits have
/// mask == value; a multi-bit field (MOUNT_ATTR__ATIME) lists each value.
struct FlagName {
  std::uint64_t mask;
  std::uint64_t value;
  std::string_view name;
};
using FlagTable = std::span<const FlagName>;

extern const FlagTable kMountFlags;         // mount(2): MS_*
extern const FlagTable kUmountFlags;        // umount2(2): MNT_*, UMOUNT_NOFOLLOW
extern const FlagTable kFsopenFlags;        // FSOPEN_*
extern const FlagTable kFsmountFlags;       // FSMOUNT_*
extern const FlagTable kMountAttrFlags;     // MOUNT_ATTR_* (fsmount, mount_setattr)
extern const FlagTable kMoveMountFlags;     // MOVE_MOUNT_*
extern const FlagTable kOpenTreeFlags;      // OPEN_TREE_*, AT_*
extern const FlagTable kFspickFlags;        // FSPICK_*
extern const FlagTable kMountSetattrFlags;  // AT_* of mount_setattr(2)

/// Appends the name of every entry of table that applies to flags (in table
/// order, at most one per mask); returns the bits no appended entry covers.
std::uint64_t decode_flags(std::uint64_t flags, FlagTable table,
                           std::vector<std::string_view>& names);

/// decode_flags over kMountFlags, and first "MS_MGC_VAL" when the upper 16
/// bits hold that old magic (the kernel then ignores them).
std::uint64_t decode_mount_flags(std::uint64_t flags, std::vector<std::string_view>& names);

/// "FSCONFIG_SET_STRING" for 1, ...; "" for a command the table lacks.
std::string_view fsconfig_cmd_name(std::uint32_t cmd);

/// "0x40": how an unnamed remainder of decode_flags appears in a name list.
std::string hex_flags(std::uint64_t bits);

/// Text form: names (and the unnamed remainder in hex) joined by sep, or
/// "0x0" when there is nothing to show.
std::string join_flags(const std::vector<std::string_view>& names, std::uint64_t unknown,
                       std::string_view sep = " | ");

}  // namespace snoopkit
