#include "family/fullpath.h"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "core/btf_offsets.h"
#include "core/record.h"

namespace snoopkit {
namespace {

TEST(JoinFullPath, AbsolutePathIsKept) {
  EXPECT_EQ(join_full_path("", "/etc/hostname"), "/etc/hostname");
  EXPECT_EQ(join_full_path("/home/u", "/etc/hostname"), "/etc/hostname");
}

TEST(JoinFullPath, RelativePathIsJoinedToItsDirectory) {
  EXPECT_EQ(join_full_path("/home/u", "a/b"), "/home/u/a/b");
  EXPECT_EQ(join_full_path("/", "etc"), "/etc");
  EXPECT_EQ(join_full_path("/home/u", "../x"), "/home/u/../x");
}

TEST(JoinFullPath, EmptyPathIsTheDirectoryItself) {
  // fstatat(fd, "", AT_EMPTY_PATH) names the dfd's own file.
  EXPECT_EQ(join_full_path("/var/log/syslog", ""), "/var/log/syslog");
}

TEST(JoinFullPath, NoDirectoryLeavesThePath) {
  EXPECT_EQ(join_full_path("", "rel"), "rel");
}

TEST(FullPath, AddsNothingWithoutTheOption) {
  FullPath full;
  Record r;
  full.add(r, "rel", true, false, "/d", 0);
  EXPECT_EQ(r.find("full_path"), nullptr);
  EXPECT_EQ(r.find("PATH"), nullptr);
  EXPECT_STREQ(full.column_key(), "path");
}

TEST(FullPath, AddsTheJoinedPathAndItsFlag) {
  FullPath full;
  bool enabled = false;
  sk_fullpath_offsets offsets{};
  if (access(kKernelBtfPath, R_OK) != 0) GTEST_SKIP() << "no kernel BTF";
  full.configure(true, "", enabled, offsets);
  EXPECT_TRUE(enabled);
  EXPECT_STREQ(full.column_key(), "PATH");
  Record r;
  full.add(r, "rel", true, false, "/d", SK_FULLPATH_F_CUT);
  ASSERT_NE(r.find("full_path"), nullptr);
  EXPECT_EQ(r.find("full_path")->s, "/d/rel");
  EXPECT_TRUE(r.find("full_path_truncated")->b);
  EXPECT_FALSE(r.find("PATH")->in_json);
  EXPECT_EQ(r.find("PATH")->s, "/d/rel");
}

TEST(FullPath, UnknownDirectoryShowsThePathAsGiven) {
  FullPath full;
  bool enabled = false;
  sk_fullpath_offsets offsets{};
  if (access(kKernelBtfPath, R_OK) != 0) GTEST_SKIP() << "no kernel BTF";
  full.configure(true, "", enabled, offsets);
  Record r;
  full.add(r, "rel", true, false, "", SK_FULLPATH_F_UNKNOWN);
  EXPECT_EQ(r.find("full_path"), nullptr);
  EXPECT_EQ(r.find("PATH")->s, "rel");
  Record cut;
  full.add(cut, "/a/very/long", true, true, "", 0);
  EXPECT_TRUE(cut.find("full_path_truncated")->b);
}

// Every member the walk reads exists in the running kernel's BTF, and none
// of those that never lead their struct is at offset 0.
TEST(FullPathOffsets, RunningKernel) {
  if (access(kKernelBtfPath, R_OK) != 0) GTEST_SKIP() << "no kernel BTF";
  sk_fullpath_offsets o = fullpath_offsets("");
  EXPECT_GT(o.task_fs, 0u);
  EXPECT_GT(o.task_files, 0u);
  EXPECT_NE(o.fs_root, o.fs_pwd);
  EXPECT_EQ(o.path_dentry, 8u);  // struct path { vfsmount *mnt; dentry *dentry; }
  EXPECT_GT(o.dentry_d_parent, 0u);
  EXPECT_GT(o.dentry_d_name, 0u);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  EXPECT_EQ(o.qstr_len, 4u);  // after the hash, in the anonymous struct of the union
#endif
  EXPECT_EQ(o.qstr_name, 8u);
  EXPECT_GT(o.mount_mnt, 0u);
  EXPECT_GT(o.file_f_path, 0u);
}

}  // namespace
}  // namespace snoopkit
