#include "family/mount_flags.h"

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

using Names = std::vector<std::string_view>;

TEST(MountFlags, DecodesEveryBitInOrder) {
  Names names;
  // MS_RDONLY | MS_NOSUID | MS_REC | MS_PRIVATE: 16384 is MS_REC, not MS_VERBOSE.
  EXPECT_EQ(decode_mount_flags(1 | 2 | 16384 | (1u << 18), names), 0u);
  EXPECT_EQ(names, (Names{"MS_RDONLY", "MS_NOSUID", "MS_REC", "MS_PRIVATE"}));
}

TEST(MountFlags, EveryTableBitHasItsOwnName) {
  for (std::uint64_t b = 0; b < 32; ++b) {
    Names names;
    std::uint64_t rest = decode_mount_flags(1ull << b, names);
    if (b == 9) {  // 512 is unused
      EXPECT_EQ(rest, 1ull << b);
      EXPECT_TRUE(names.empty());
    } else {
      EXPECT_EQ(rest, 0u) << b;
      EXPECT_EQ(names.size(), 1u) << b;
    }
  }
  Names names;
  EXPECT_EQ(decode_mount_flags(32768, names), 0u);
  EXPECT_EQ(names, Names{"MS_SILENT"});
}

TEST(MountFlags, MagicAndUnknownBits) {
  Names names;
  EXPECT_EQ(decode_mount_flags(0xC0ED0000ull | 1 | 512, names), 512u);
  EXPECT_EQ(names, (Names{"MS_MGC_VAL", "MS_RDONLY"}));
  EXPECT_EQ(join_flags(names, 512), "MS_MGC_VAL | MS_RDONLY | 0x200");
  names.clear();
  EXPECT_EQ(decode_mount_flags(1ull << 40, names), 1ull << 40);
  EXPECT_TRUE(names.empty());
}

TEST(MountFlags, JoinShowsZeroAsHex) {
  EXPECT_EQ(join_flags({}, 0), "0x0");
  EXPECT_EQ(join_flags({}, 0x30), "0x30");
  EXPECT_EQ(join_flags({"A", "B"}, 0, "|"), "A|B");
  EXPECT_EQ(hex_flags(0xC0ED0000), "0xc0ed0000");
}

TEST(MountAttrFlags, AtimeIsAValueNotBits) {
  Names names;
  EXPECT_EQ(decode_flags(0x1 | 0x10, kMountAttrFlags, names), 0u);
  EXPECT_EQ(names, (Names{"MOUNT_ATTR_RDONLY", "MOUNT_ATTR_NOATIME"}));
  names.clear();
  EXPECT_EQ(decode_flags(0x20, kMountAttrFlags, names), 0u);
  EXPECT_EQ(names, Names{"MOUNT_ATTR_STRICTATIME"});
  names.clear();
  EXPECT_EQ(decode_flags(0x70, kMountAttrFlags, names), 0u);
  EXPECT_EQ(names, Names{"MOUNT_ATTR__ATIME"});
  names.clear();
  // MOUNT_ATTR_RELATIME is 0: nothing to name. 0x30 is no atime value.
  EXPECT_EQ(decode_flags(0, kMountAttrFlags, names), 0u);
  EXPECT_EQ(decode_flags(0x30, kMountAttrFlags, names), 0x30u);
  EXPECT_TRUE(names.empty());
}

TEST(OtherTables, Names) {
  Names names;
  EXPECT_EQ(decode_flags(2 | 8, kUmountFlags, names), 0u);
  EXPECT_EQ(names, (Names{"MNT_DETACH", "UMOUNT_NOFOLLOW"}));
  names.clear();
  EXPECT_EQ(decode_flags(0x4 | 0x40, kMoveMountFlags, names), 0u);
  EXPECT_EQ(names, (Names{"MOVE_MOUNT_F_EMPTY_PATH", "MOVE_MOUNT_T_EMPTY_PATH"}));
  names.clear();
  EXPECT_EQ(decode_flags(1 | 02000000 | 0x8000, kOpenTreeFlags, names), 0u);
  EXPECT_EQ(names, (Names{"OPEN_TREE_CLONE", "OPEN_TREE_CLOEXEC", "AT_RECURSIVE"}));
  names.clear();
  EXPECT_EQ(decode_flags(1, kFsopenFlags, names), 0u);
  EXPECT_EQ(decode_flags(1, kFsmountFlags, names), 0u);
  EXPECT_EQ(decode_flags(1 | 8, kFspickFlags, names), 0u);
  EXPECT_EQ(decode_flags(0x1000, kMountSetattrFlags, names), 0u);
  EXPECT_EQ(names, (Names{"FSOPEN_CLOEXEC", "FSMOUNT_CLOEXEC", "FSPICK_CLOEXEC",
                          "FSPICK_EMPTY_PATH", "AT_EMPTY_PATH"}));
}

TEST(FsconfigCmd, Names) {
  EXPECT_EQ(fsconfig_cmd_name(0), "FSCONFIG_SET_FLAG");
  EXPECT_EQ(fsconfig_cmd_name(1), "FSCONFIG_SET_STRING");
  EXPECT_EQ(fsconfig_cmd_name(6), "FSCONFIG_CMD_CREATE");
  EXPECT_EQ(fsconfig_cmd_name(8), "FSCONFIG_CMD_CREATE_EXCL");
  EXPECT_EQ(fsconfig_cmd_name(9), "");
}

}  // namespace
}  // namespace snoopkit
