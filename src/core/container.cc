#include "core/container.h"

#include <array>

namespace snoopkit {
namespace {

constexpr std::size_t kContainerIdLength = 64;
constexpr std::size_t kMaxPodUidLength = 64;

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Every runtime of the layouts below names a container by 64 hex digits.
bool is_container_id(std::string_view s) {
  if (s.size() != kContainerIdLength) return false;
  for (char c : s) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

// A pod uid: a UUID, or the 32 hex digits of a static pod's config hash.
bool is_pod_uid(std::string_view s) {
  if (s.empty() || s.size() > kMaxPodUidLength) return false;
  for (char c : s) {
    if (!is_lower_hex(c) && c != '-') return false;
  }
  return true;
}

// The systemd scope prefixes that name a container, and whose runtime.
// "crio-conmon-" and "libpod-conmon-" (the monitor process) are not in it.
struct ScopePrefix {
  std::string_view prefix;
  std::string_view runtime;
};
constexpr std::array<ScopePrefix, 4> kScopePrefixes{{
    {"docker-", "docker"},
    {"cri-containerd-", "containerd"},
    {"crio-", "cri-o"},
    {"libpod-", "podman"},
}};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "<prefix><id>" (a systemd scope without ".scope", or a cgroupfs name).
std::optional<ContainerInfo> prefixed_container(std::string_view name) {
  for (const auto& p : kScopePrefixes) {
    if (name.starts_with(p.prefix) && is_container_id(name.substr(p.prefix.size()))) {
      return ContainerInfo{
          std::string(name.substr(p.prefix.size())), std::string(p.runtime), {}, {}};
    }
  }
  return std::nullopt;
}

// The container a component names, given its parent component.
std::optional<ContainerInfo> container_of(std::string_view name, std::string_view parent,
                                          bool parent_is_pod) {
  if (ends_with(name, ".scope")) {
    std::string unit = systemd_unescape(name.substr(0, name.size() - 6));
    return prefixed_container(unit);
  }
  if (is_container_id(name)) {
    // docker cgroupfs: /docker/<id>; Kubernetes cgroupfs: /kubepods/.../pod<uid>/<id>,
    // whose runtime the path does not say.
    if (parent == "docker") return ContainerInfo{std::string(name), "docker", {}, {}};
    if (parent_is_pod) return ContainerInfo{std::string(name), "", {}, {}};
    return std::nullopt;
  }
  // CRI-O and podman with the cgroupfs manager keep the prefix without ".scope".
  if (parent_is_pod || parent == "libpod_parent") return prefixed_container(name);
  return std::nullopt;
}

// The pod uid a component names: "pod<uid>" below "kubepods" (cgroupfs), or
// "<...kubepods...>-pod<uid with '_' for '-'>.slice" (systemd).
std::optional<std::string> pod_of(std::string_view name, bool below_kubepods) {
  if (ends_with(name, ".slice")) {
    std::string unit = systemd_unescape(name.substr(0, name.size() - 6));
    // A uid holds no 'p' or 'o', so the last "-pod" starts it.
    auto at = unit.rfind("-pod");
    if (at == std::string::npos) return std::nullopt;
    if (std::string_view(unit).substr(0, at).find("kubepods") == std::string_view::npos) {
      return std::nullopt;
    }
    std::string uid = unit.substr(at + 4);
    for (char& c : uid) {
      if (c == '_') c = '-';
    }
    if (!is_pod_uid(uid)) return std::nullopt;
    return uid;
  }
  if (below_kubepods && name.starts_with("pod") && is_pod_uid(name.substr(3))) {
    return std::string(name.substr(3));
  }
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ContainerInfo::matches(std::string_view want) const {
  if (want.empty()) return false;
  return std::string_view(id).starts_with(want) || name == want;
}

std::string systemd_unescape(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 3 < name.size() && name[i + 1] == 'x' &&
        hex_value(name[i + 2]) >= 0 && hex_value(name[i + 3]) >= 0) {
      out.push_back(static_cast<char>(hex_value(name[i + 2]) * 16 + hex_value(name[i + 3])));
      i += 3;
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

std::optional<ContainerInfo> parse_cgroup_path(std::string_view path) {
  if (!path.starts_with('/')) return std::nullopt;
  std::optional<ContainerInfo> found;
  std::optional<std::string> pod;
  bool below_kubepods = false;
  bool parent_is_pod = false;
  std::string_view parent;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view name = path.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    // The kernel never names a cgroup "." or "..": not a path it produced.
    if (name == "." || name == "..") return std::nullopt;
    bool is_pod = false;
    if (auto c = container_of(name, parent, parent_is_pod)) {
      c->pod = pod ? std::optional<PodInfo>(PodInfo{*pod, {}, {}}) : std::nullopt;
      found = std::move(c);
    } else if (auto uid = pod_of(name, below_kubepods)) {
      pod = std::move(uid);
      is_pod = true;
    }
    if (name.starts_with("kubepods")) below_kubepods = true;
    parent = name;
    parent_is_pod = is_pod;
  }
  return found;
}

}  // namespace snoopkit
