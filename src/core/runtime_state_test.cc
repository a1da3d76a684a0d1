#include "core/runtime_state.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/cgroup_fs_fake.h"

namespace snoopkit {
namespace {

// A state.json the way runc 1.1 writes it (trimmed): the unified path under
// "", the cgroupfs path in the config, annotations as "key=value" labels.
std::string runc_state(const std::string& id, const std::string& cgroup,
                       const std::string& labels = "") {
  return R"({"id":")" + id + R"(","init_process_pid":25268,"cgroup_paths":{"":"/sys/fs/cgroup)" +
         cgroup + R"(","memory":"/sys/fs/cgroup/memory)" + cgroup +
         R"("},"config":{"rootfs":"/x","labels":[)" + labels +
         R"("bundle=/tmp/b"],"cgroups":{"path":")" + cgroup + R"(","devices":[]}}})";
}

TEST(ParseRuncState, IdCgroupAndCriAnnotations) {
  auto s = parse_runc_state(runc_state("web-1", "/kubepods/besteffort/podu/abc",
                                       R"("io.kubernetes.cri.sandbox-name=mypod",)"
                                       R"("io.kubernetes.cri.sandbox-namespace=prod",)"
                                       R"("io.kubernetes.cri.sandbox-uid=u-1",)"
                                       R"("io.kubernetes.cri.container-name=web",)"),
                            "/sys/fs/cgroup");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "web-1");
  EXPECT_EQ(s->cgroup_path, "/kubepods/besteffort/podu/abc");
  EXPECT_EQ(s->pod_name, "mypod");
  EXPECT_EQ(s->pod_namespace, "prod");
  EXPECT_EQ(s->pod_uid, "u-1");
  EXPECT_EQ(s->container_name, "web");
}

TEST(ParseRuncState, CrioAndDockershimAnnotations) {
  auto s = parse_runc_state(runc_state("c", "/x",
                                       R"("io.kubernetes.pod.name=p=q",)"
                                       R"("io.kubernetes.pod.namespace=ns",)"
                                       R"("io.kubernetes.container.name=db",)"),
                            "/sys/fs/cgroup");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pod_name, "p=q");  // only the first '=' splits
  EXPECT_EQ(s->pod_namespace, "ns");
  EXPECT_EQ(s->container_name, "db");
}

TEST(ParseRuncState, CgroupFromTheConfigWhenNoUnifiedPath) {
  auto s = parse_runc_state(R"({"id":"a","config":{"cgroups":{"path":"/docker/a"}}})",
                            "/sys/fs/cgroup/unified");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cgroup_path, "/docker/a");
  // A unified path below another root is not taken for ours.
  s = parse_runc_state(R"({"id":"a","cgroup_paths":{"":"/elsewhere/b"}})", "/sys/fs/cgroup");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cgroup_path, "");
}

TEST(ParseRuncState, MalformedIsRejected) {
  for (const std::string& bad :
       std::vector<std::string>{"", "{", "[]", "null", R"({"id":5})", R"({"id":""})",
                                "{\"id\":\"\xff\"}", R"({"id":"a",})", std::string(200000, '[')}) {
    EXPECT_FALSE(parse_runc_state(bad, "/sys/fs/cgroup")) << bad.substr(0, 40);
  }
  // Wrong types below the id are skipped, not fatal.
  auto s = parse_runc_state(R"({"id":"a","cgroup_paths":[],"config":{"labels":[1,"x"]}})", "/");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "a");
}

TEST(FindCgroup2Mount, HybridPureAndNone) {
  const char* hybrid =
      "25 31 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
      "41 25 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
      "42 25 0:39 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
  EXPECT_EQ(find_cgroup2_mount(hybrid), "/sys/fs/cgroup/unified");
  EXPECT_EQ(find_cgroup2_mount("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"),
            "/sys/fs/cgroup");
  EXPECT_EQ(find_cgroup2_mount("30 23 0:26 / /my\\040cg rw - cgroup2 none rw\n"), "/my cg");
  EXPECT_EQ(find_cgroup2_mount("42 25 0:39 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw\n"), "");
  EXPECT_EQ(find_cgroup2_mount(""), "");
}

class RuntimeStateIndexTest : public ::testing::Test {
 protected:
  TempDir dir_;
  FakeCgroupFs fs_;
  RuntimeStateIndex index_{dir_.path(), &fs_};
};

TEST_F(RuntimeStateIndexTest, FindsEveryRuntimesStateByIdAndCgroup) {
  dir_.write("runc/plain/state.json", runc_state("plain", "/mine/plain"));
  dir_.write("containerd/runc/k8s.io/c1/state.json", runc_state("c1", "/default/c1"));
  dir_.write("docker/runtime-runc/moby/d1/state.json", runc_state("d1", "/docker/d1"));
  ASSERT_TRUE(index_.by_id("plain"));
  EXPECT_EQ(index_.by_id("plain")->runtime, "runc");
  ASSERT_TRUE(index_.by_cgroup("/default/c1"));
  EXPECT_EQ(index_.by_cgroup("/default/c1")->runtime, "containerd");
  ASSERT_TRUE(index_.by_id("d1"));
  EXPECT_EQ(index_.by_id("d1")->runtime, "docker");
  EXPECT_EQ(index_.size(), 3u);
}

TEST_F(RuntimeStateIndexTest, RescansAtMostOncePerInterval) {
  EXPECT_FALSE(index_.by_id("late"));
  int scans = fs_.list_calls;
  dir_.write("runc/late/state.json", runc_state("late", "/late"));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(index_.by_id("late"));
  EXPECT_EQ(fs_.list_calls, scans);
  fs_.clock += RuntimeStateIndex::kRescanInterval;
  EXPECT_TRUE(index_.by_id("late"));
  // A container that is gone is forgotten at the next scan.
  std::filesystem::remove_all(dir_.path() + "/runc/late");
  fs_.clock += RuntimeStateIndex::kRescanInterval;
  EXPECT_FALSE(index_.by_id("other"));
  EXPECT_EQ(index_.size(), 0u);
}

TEST_F(RuntimeStateIndexTest, MalformedHugeAndSymlinkedStateIsIgnored) {
  dir_.write("runc/good/state.json", runc_state("good", "/good"));
  dir_.write("runc/bad/state.json", "{\"id\": \"bad\", ");
  dir_.write("runc/huge/state.json",
             runc_state("huge", "/huge", "\"pad=" + std::string(1 << 20, 'x') + "\","));
  dir_.write("outside/state.json", runc_state("link", "/link"));
  std::filesystem::create_directories(dir_.path() + "/runc/link");
  std::filesystem::create_symlink(dir_.path() + "/outside/state.json",
                                  dir_.path() + "/runc/link/state.json");
  std::filesystem::create_directory_symlink(dir_.path() + "/outside",
                                            dir_.path() + "/runc/dirlink");
  dir_.write("runc/fifo/.keep", "");
  ASSERT_EQ(::mkfifo((dir_.path() + "/runc/fifo/state.json").c_str(), 0600), 0);
  EXPECT_TRUE(index_.by_id("good"));
  for (const char* id : {"bad", "huge", "link", "dirlink", "fifo"}) {
    EXPECT_FALSE(index_.by_id(id)) << id;
  }
  EXPECT_EQ(index_.size(), 1u);
}

TEST_F(RuntimeStateIndexTest, ABadStateFileIsWarnedAboutOnceUnderVerbose) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(log));
  logger->set_level(spdlog::level::debug);  // what -v sets
  logger->set_pattern("%l: %v");
  spdlog::set_default_logger(logger);
  dir_.write("runc/bad/state.json", "not json");
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(index_.by_id("bad"));
    fs_.clock += RuntimeStateIndex::kRescanInterval;
  }
  spdlog::set_default_logger(previous);
  std::string text = log.str();
  EXPECT_NE(text.find("runc/bad/state.json"), std::string::npos) << text;
  EXPECT_EQ(text.find("ignoring"), text.rfind("ignoring")) << text;
  // At debug level: shown only with -v.
  EXPECT_EQ(text.rfind("debug: warning: ignoring", 0), 0u) << text;
}

TEST_F(RuntimeStateIndexTest, SymlinkedRuntimeDirectoryIsNotFollowed) {
  TempDir other;
  other.write("elsewhere/x/state.json", runc_state("x", "/x"));
  std::filesystem::create_directory_symlink(other.path() + "/elsewhere", dir_.path() + "/runc");
  EXPECT_FALSE(index_.by_id("x"));
  EXPECT_FALSE(index_.by_cgroup("/x"));
}

TEST(RuntimeStateIndex, MissingStateRootHasNoNames) {
  FakeCgroupFs fs;
  RuntimeStateIndex index("/nonexistent-state-root", &fs);
  EXPECT_FALSE(index.by_id("a"));
  EXPECT_FALSE(index.by_cgroup("/a"));
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace snoopkit
