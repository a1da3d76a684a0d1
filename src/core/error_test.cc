#include "core/error.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

TEST(Error, AppendsStrerrorWhenErrnoGiven) {
  Error e("open /x", ENOENT, "check the path");
  EXPECT_EQ(std::string(e.what()), std::string("open /x: ") + std::strerror(ENOENT));
  EXPECT_EQ(e.err(), ENOENT);
  EXPECT_EQ(e.hint(), "check the path");
}

TEST(Error, NoErrnoNoSuffix) {
  Error e("cannot trace openat");
  EXPECT_EQ(std::string(e.what()), "cannot trace openat");
  EXPECT_EQ(e.err(), 0);
  EXPECT_TRUE(e.hint().empty());
}

TEST(Error, PrivilegeHintNamesTheCapabilities) {
  Error e("load BPF programs", EPERM, kPrivilegeHint);
  EXPECT_NE(std::string(e.what()).find(std::strerror(EPERM)), std::string::npos);
  EXPECT_NE(e.hint().find("CAP_BPF"), std::string::npos);
  EXPECT_NE(e.hint().find("CAP_PERFMON"), std::string::npos);
}

TEST(Error, CaughtAsRuntimeError) {
  try {
    throw Error("x", EINVAL, "h");
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::strerror(EINVAL)), std::string::npos);
  }
  EXPECT_THROW(throw UsageError("bad flag"), std::runtime_error);
}

TEST(ExitCode, Values) {
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitUsage, 2);
}

}  // namespace
}  // namespace snoopkit
