#include "core/container.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace snoopkit {
namespace {

using namespace std::string_literals;

const std::string kId(64, 'a');
const std::string kId2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUid = "1234abcd-0000-1111-2222-333344445555";
const std::string kUidUnderscores = "1234abcd_0000_1111_2222_333344445555";

struct Case {
  std::string path;
  std::optional<ContainerInfo> want;
};

ContainerInfo in(std::string id, std::string runtime, std::string pod_uid = {}) {
  ContainerInfo c{std::move(id), std::move(runtime), {}, {}};
  if (!pod_uid.empty()) c.pod = PodInfo{std::move(pod_uid), {}, {}};
  return c;
}

TEST(ParseCgroupPath, EveryRuntimeLayout) {
  const std::string k8s_systemd =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidUnderscores +
      ".slice/";
  const std::vector<Case> cases = {
      // docker: cgroupfs and systemd drivers, a sub-cgroup, docker in docker.
      {"/docker/" + kId, in(kId, "docker")},
      {"/system.slice/docker-" + kId + ".scope", in(kId, "docker")},
      {"/system.slice/docker-" + kId + ".scope/init.scope", in(kId, "docker")},
      {"/docker/" + kId + "/docker/" + kId2, in(kId2, "docker")},
      // Kubernetes, systemd driver: each runtime, each QoS class, a nested kubelet root.
      {k8s_systemd + "cri-containerd-" + kId + ".scope", in(kId, "containerd", kUid)},
      {k8s_systemd + "crio-" + kId + ".scope", in(kId, "cri-o", kUid)},
      {k8s_systemd + "docker-" + kId + ".scope", in(kId, "docker", kUid)},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidUnderscores +
           ".slice/cri-containerd-" + kId + ".scope",
       in(kId, "containerd", kUid)},
      {"/kubepods.slice/kubepods-pod" + kUidUnderscores + ".slice/cri-containerd-" + kId + ".scope",
       in(kId, "containerd", kUid)},
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kUidUnderscores + ".slice/cri-containerd-" + kId + ".scope",
       in(kId, "containerd", kUid)},
      // Kubernetes, cgroupfs driver: the runtime is not in the path (CRI-O's is).
      {"/kubepods/besteffort/pod" + kUid + "/" + kId, in(kId, "", kUid)},
      {"/kubepods/burstable/pod" + kUid + "/" + kId, in(kId, "", kUid)},
      {"/kubepods/pod" + kUid + "/" + kId, in(kId, "", kUid)},
      {"/kubepods/burstable/pod" + kUid + "/crio-" + kId, in(kId, "cri-o", kUid)},
      {"/kubepods/besteffort/pod0123456789abcdef0123456789abcdef/" + kId,
       in(kId, "", "0123456789abcdef0123456789abcdef")},  // a static pod's hash
      // CRI-O and podman outside Kubernetes.
      {"/system.slice/crio-" + kId + ".scope", in(kId, "cri-o")},
      {"/machine.slice/libpod-" + kId + ".scope", in(kId, "podman")},
      {"/machine.slice/libpod-" + kId + ".scope/container", in(kId, "podman")},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope",
       in(kId, "podman")},
      {"/libpod_parent/libpod-" + kId, in(kId, "podman")},
      // systemd's escaping of '-' inside a name.
      {"/system.slice/docker\\x2d" + kId + ".scope", in(kId, "docker")},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234abcd\\x2d0000"
       "\\x2d1111\\x2d2222\\x2d333344445555.slice/cri-containerd-" +
           kId + ".scope",
       in(kId, "containerd", kUid)},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_cgroup_path(c.path), c.want) << c.path;
  }
}

TEST(ParseCgroupPath, HostCgroupsAndMonitorsAreNotContainers) {
  const std::vector<std::string> host = {
      "/",
      "",
      "/init.scope",
      "/system.slice/sshd.service",
      "/system.slice/docker.service",
      "/system.slice/containerd.service",
      "/user.slice/user-0.slice/session-1.scope",
      "/docker",
      "/docker/buildkit",
      "/kubepods",
      "/kubepods/besteffort/pod" + kUid,
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidUnderscores +
          ".slice",
      // The monitor processes beside a container.
      "/system.slice/crio-conmon-" + kId + ".scope",
      "/machine.slice/libpod-conmon-" + kId + ".scope",
      // containerd's "/<namespace>/<id>" and a bare id: only runtime state tells.
      "/default/" + kId,
      "/" + kId,
      "/pod" + kUid + "/" + kId,  // not below kubepods
      "/system.slice/docker-" + kId.substr(0, 12) + ".scope",
      "/system.slice/other-" + kId + ".scope",
  };
  for (const auto& p : host) EXPECT_EQ(parse_cgroup_path(p), std::nullopt) << p;
}

TEST(ParseCgroupPath, HostileNamesAreNotContainers) {
  const std::vector<std::string> hostile = {
      "/docker/" + kId + "\n",
      "/docker/\n" + kId,
      "/docker/\"" + kId.substr(1),
      "/docker/" + kId.substr(1) + "\xff",
      "/docker/" + std::string(64, 'A'),  // ids are lower case
      "/system.slice/docker-" + kId + ".scope\n",
      "/system.slice/docker-" + kId.substr(2) + "\\x" + ".scope",
      "/docker/../docker/" + kId,
      "/docker/./" + kId,
      "docker/" + kId,  // not absolute
      "/kubepods/besteffort/pod" + kUid + "\"/" + kId.substr(1) + "'",
      "/kubepods/besteffort/pod\xc3\x28/" + kId + "x",
      // A pod uid with a quote or invalid UTF-8 is no pod, so a bare id below it is nothing.
      "/kubepods/besteffort/pod\"x\xff/" + kId,
  };
  for (const auto& p : hostile) EXPECT_EQ(parse_cgroup_path(p), std::nullopt) << p;
}

TEST(ParseCgroupPath, VeryLongPath) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "/d";
  EXPECT_EQ(parse_cgroup_path(deep + "/docker/" + kId), in(kId, "docker"));
  EXPECT_EQ(parse_cgroup_path(deep), std::nullopt);
  EXPECT_EQ(parse_cgroup_path("/" + std::string(100000, 'a')), std::nullopt);
}

TEST(SystemdUnescape, UndoesHexEscapesOnly) {
  EXPECT_EQ(systemd_unescape("a\\x2db"), "a-b");
  EXPECT_EQ(systemd_unescape("\\x5c\\x2D"), "\\-");
  EXPECT_EQ(systemd_unescape("a\\x2"), "a\\x2");
  EXPECT_EQ(systemd_unescape("a\\xzz"), "a\\xzz");
  EXPECT_EQ(systemd_unescape("\\x00"), "\0"s);
  EXPECT_EQ(systemd_unescape("plain"), "plain");
}

TEST(ContainerInfo, MatchesAnIdPrefixOrTheWholeName) {
  ContainerInfo c = in(kId2, "runc");
  c.name = "web";
  EXPECT_TRUE(c.matches(kId2));
  EXPECT_TRUE(c.matches("0123456789ab"));
  EXPECT_TRUE(c.matches("web"));
  EXPECT_FALSE(c.matches("we"));
  EXPECT_FALSE(c.matches("web2"));
  EXPECT_FALSE(c.matches("123"));
  EXPECT_FALSE(c.matches(""));
}

}  // namespace
}  // namespace snoopkit
