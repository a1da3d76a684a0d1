#include "family/disks.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

namespace fs = std::filesystem;

class DisksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("snoopkit-disks-" + std::to_string(getpid()));
    fs::create_directories(root_ / "block");
  }
  void TearDown() override { fs::remove_all(root_); }
  void add(const std::string& name, const std::string& dev) {
    fs::create_directories(root_ / "block" / name);
    std::ofstream(root_ / "block" / name / "dev") << dev << "\n";
  }
  fs::path root_;
};

TEST_F(DisksTest, KernelEncoding) {
  EXPECT_EQ(kernel_dev(254, 0), 254u << 20);
  EXPECT_EQ(kernel_dev(7, 3), (7u << 20) | 3);
}

TEST_F(DisksTest, NamesAndNumbers) {
  add("vda", "254:0");
  add("loop3", "7:3");
  DiskNames d(root_.string());
  EXPECT_EQ(d.name(kernel_dev(254, 0)), "vda");
  EXPECT_EQ(d.name(kernel_dev(7, 3)), "loop3");
  EXPECT_EQ(d.dev("vda"), kernel_dev(254, 0));
  EXPECT_EQ(d.dev("nope"), std::nullopt);
  EXPECT_EQ(d.dev("../block/vda"), std::nullopt);
  EXPECT_EQ(d.dev(""), std::nullopt);
}

TEST_F(DisksTest, UnknownDeviceIsMajorMinorAndNewDisksAreFound) {
  DiskNames d(root_.string());
  EXPECT_EQ(d.name(kernel_dev(8, 16)), "8:16");
  add("loop9", "7:9");  // appeared after the first scan
  EXPECT_EQ(d.name(kernel_dev(7, 9)), "loop9");
}

TEST_F(DisksTest, MalformedDevFilesAreIgnored) {
  add("bad", "not a number");
  add("worse", "1:99999999");
  DiskNames d(root_.string());
  EXPECT_EQ(d.dev("bad"), std::nullopt);
  EXPECT_EQ(d.dev("worse"), std::nullopt);
}

}  // namespace
}  // namespace snoopkit
