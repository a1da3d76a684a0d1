#include "core/task_context.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/cgroup_fs_fake.h"
#include "core/output.h"
#include "core/sink.h"

namespace snoopkit {
namespace {

const std::string kId(64, 'c');
const std::string kUid = "1234abcd-0000-1111-2222-333344445555";

class TaskContextTest : public ::testing::Test {
 protected:
  // A TaskContext over a fake file system: cgroup 1 is the host's root,
  // 2 a docker container, 3 a pod's container.
  std::unique_ptr<TaskContext> make(const std::string& want = "") {
    auto fake = std::make_unique<FakeCgroupFs>();
    fake->cgroups = {{1, "/"},
                     {2, "/docker/" + kId},
                     {3, "/kubepods/burstable/pod" + kUid + "/" + std::string(64, 'd')}};
    auto resolver = std::make_unique<CgroupResolver>(
        CgroupResolver::Options{16, "", dir_.path()}, std::move(fake));
    return std::make_unique<TaskContext>(want, std::move(resolver));
  }

  static std::string json(const Record& r) {
    Sink sink(-1);
    JsonWriter(sink).write(r);
    return sink.buffer();
  }

  static std::string text(const Record& r, std::vector<Column> cols) {
    Sink sink(-1);
    TextWriter(sink, std::move(cols)).write(r);
    return sink.buffer();
  }

  TempDir dir_;
};

TEST_F(TaskContextTest, HostTaskHasNoContainer) {
  auto tc = make();
  Record r;
  ASSERT_TRUE(tc->add(r, {1, 11, 12, 13, 14}, true));
  EXPECT_EQ(json(r), R"({"cgroup_id":1,"vpid":13,"vtid":14,"mntns":11,"pidns":12})"
                     "\n");
}

TEST_F(TaskContextTest, ContainerAndPodAreNestedObjects) {
  auto tc = make();
  Record r;
  ASSERT_TRUE(tc->add(r, {2, 11, 12, 1, 1}, false));
  EXPECT_EQ(json(r), R"({"cgroup_id":2,"vpid":1,"mntns":11,"pidns":12,"container":{"id":")" +
                         kId + R"(","runtime":"docker"}})"
                         "\n");
  Record p;
  ASSERT_TRUE(tc->add(p, {3, 0, 0, 0, 0}, false));
  const std::string line = json(p);
  EXPECT_NE(line.find(R"("pod":{"uid":")" + kUid + R"("}})"), std::string::npos) << line;
}

TEST_F(TaskContextTest, GoneCgroupKeepsOnlyItsId) {
  auto tc = make();
  Record r;
  ASSERT_TRUE(tc->add(r, {99, 0, 0, 0, 0}, false));
  EXPECT_EQ(json(r), R"({"cgroup_id":99,"vpid":0,"mntns":0,"pidns":0})"
                     "\n");
}

TEST_F(TaskContextTest, ContainerColumnShowsShortIdOrDash) {
  auto tc = make();
  std::vector<Column> cols{{"CONTAINER", "CONTAINER", 12}, {"X", "x", 0}};
  for (auto [cgroup, want] : {std::pair<std::uint64_t, std::string>{2, kId.substr(0, 12)},
                              {1, "-           "},
                              {99, "-           "}}) {
    Record r;
    r.render_only(false, {"CONTAINER", "x"});
    ASSERT_TRUE(tc->add(r, {cgroup, 0, 0, 0, 0}, true));
    r.add_uint("x", 7);
    EXPECT_EQ(text(r, cols), want + " 7\n");
  }
}

TEST_F(TaskContextTest, FilterKeepsOnlyTheWantedContainer) {
  auto tc = make(kId.substr(0, 5));  // no verdict map: writes fail quietly
  Record r;
  EXPECT_TRUE(tc->add(r, {2, 0, 0, 0, 0}, true));
  EXPECT_FALSE(tc->add(r, {1, 0, 0, 0, 0}, true));   // the host
  EXPECT_FALSE(tc->add(r, {3, 0, 0, 0, 0}, true));   // another container
  EXPECT_FALSE(tc->add(r, {99, 0, 0, 0, 0}, true));  // gone: cannot be told
}

TEST(ContainerColumn, GoesAfterTheTimeColumns) {
  std::vector<Column> cols{{"TIME", "TIME", 8}, {"TIME(s)", "TIME(s)", 8}, {"PID", "pid", 7}};
  insert_container_column(cols);
  ASSERT_EQ(cols.size(), 4u);
  EXPECT_EQ(cols[2].header, "CONTAINER");
  std::vector<Column> bare{{"PID", "pid", 7}};
  insert_container_column(bare);
  EXPECT_EQ(bare[0].header, "CONTAINER");
}

}  // namespace
}  // namespace snoopkit
