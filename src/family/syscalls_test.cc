#include "family/syscalls.h"

#include <sys/syscall.h>

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

TEST(Syscalls, X86_64NumbersEveryKernelAgreesOn) {
  constexpr auto kAbi = SyscallAbi::kX86_64;
  EXPECT_EQ(syscall_name(0, kAbi), "read");
  EXPECT_EQ(syscall_name(39, kAbi), "getpid");
  EXPECT_EQ(syscall_name(110, kAbi), "getppid");
  EXPECT_EQ(syscall_name(257, kAbi), "openat");
  EXPECT_EQ(syscall_name(262, kAbi), "newfstatat");
  EXPECT_EQ(syscall_name(437, kAbi), "openat2");
  EXPECT_EQ(syscall_name(451, kAbi), "cachestat");  // newer than Debian 12's headers
  EXPECT_EQ(syscall_number("execve", kAbi), 59);
}

TEST(Syscalls, Arm64UsesTheGenericTable) {
  constexpr auto kAbi = SyscallAbi::kArm64;
  EXPECT_EQ(syscall_name(63, kAbi), "read");
  EXPECT_EQ(syscall_name(173, kAbi), "getppid");
  EXPECT_EQ(syscall_name(56, kAbi), "openat");
  EXPECT_EQ(syscall_name(79, kAbi), "newfstatat");
  EXPECT_EQ(syscall_name(38, kAbi), "renameat");
  EXPECT_EQ(syscall_name(222, kAbi), "mmap");
  EXPECT_EQ(syscall_name(435, kAbi), "clone3");
  EXPECT_EQ(syscall_name(462, kAbi), "mseal");
  EXPECT_EQ(syscall_number("open", kAbi), -1);  // no open(2) on arm64
  EXPECT_EQ(syscall_name(2, kAbi), "io_submit") << "2 is not open here";
}

TEST(Syscalls, UnknownNumbersHaveNoName) {
  for (auto abi : {SyscallAbi::kX86_64, SyscallAbi::kArm64}) {
    EXPECT_EQ(syscall_name(-1, abi), "");
    EXPECT_EQ(syscall_name(100000, abi), "");
    EXPECT_EQ(syscall_name(400, abi), "");  // the unused 387..423 range
    EXPECT_EQ(syscall_number("no_such_call", abi), -1);
  }
}

TEST(Syscalls, TablesAreSortedAndUnique) {
  for (auto abi : {SyscallAbi::kX86_64, SyscallAbi::kArm64}) {
    const auto table = syscall_table(abi);
    ASSERT_GT(table.size(), 300u);
    std::set<std::string> names;
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (i) {
        EXPECT_LT(table[i - 1].nr, table[i].nr);
      }
      EXPECT_TRUE(names.insert(table[i].name).second) << table[i].name;
      EXPECT_EQ(syscall_number(table[i].name, abi), table[i].nr);
    }
  }
}

// The build host's own <sys/syscall.h> agrees with the native table.
TEST(Syscalls, NativeTableMatchesTheBuildHost) {
  EXPECT_EQ(syscall_name(SYS_getppid), "getppid");
  EXPECT_EQ(syscall_name(SYS_openat), "openat");
  EXPECT_EQ(syscall_name(SYS_clone), "clone");
  EXPECT_EQ(syscall_name(SYS_exit_group), "exit_group");
  EXPECT_EQ(syscall_number("getpid"), SYS_getpid);
}

}  // namespace
}  // namespace snoopkit
