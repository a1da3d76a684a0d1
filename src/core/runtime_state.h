#pragma once
// Container runtimes' own state: runc's state.json, below a state root
// (/run) where runc, containerd and docker keep it. It maps a cgroup to its
// container and carries the OCI annotations CRI sets (pod name, namespace,
// container name) as "key=value" labels.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/cgroup_fs.h"

namespace snoopkit {

/// What one state.json says of its container ("" = not said).
struct RuntimeState {
  std::string id;
  std::string runtime;      // from where the state lives: "runc", "containerd", "docker"
  std::string cgroup_path;  // relative to the cgroup v2 root
  std::string container_name;
  std::string pod_uid;
  std::string pod_name;
  std::string pod_namespace;
};

/// Parses runc's state.json; nullopt when it is not a JSON object with a
/// string "id". `cgroup2_root` is stripped from the unified cgroup path.
std::optional<RuntimeState> parse_runc_state(std::string_view json, std::string_view cgroup2_root);

/// The state files below a state root, indexed by container id and by
/// cgroup path. Re-scanned at most once per kRescanInterval, and only when
/// asked for something it does not hold.
class RuntimeStateIndex {
 public:
  /// `fs` is not owned and outlives the index.
  RuntimeStateIndex(std::string state_root, CgroupFs* fs);

  /// The state of container `id`, or nullptr.
  const RuntimeState* by_id(std::string_view id);
  /// The state whose cgroup is `cgroup_path`, or nullptr.
  const RuntimeState* by_cgroup(std::string_view cgroup_path);
  std::size_t size() const { return states_.size(); }
  std::size_t memory_bytes() const;

  static constexpr std::size_t kMaxStateBytes = 1 << 20;  // larger: rejected
  static constexpr std::size_t kMaxStates = 4096;         // per scan, over all runtimes
  static constexpr std::chrono::milliseconds kRescanInterval{1000};

 private:
  void maybe_rescan();
  void rescan();
  void index(const std::string& key, RuntimeState state);
  void unindex(const std::string& key);

  std::string root_;
  CgroupFs* fs_;
  bool scanned_ = false;
  CgroupFs::Clock::time_point last_scan_{};
  // key: the state directory relative to the root ("runc/<id>").
  std::unordered_map<std::string, RuntimeState> states_;
  std::unordered_set<std::string> rejected_;                // warned about once, not read again
  std::unordered_map<std::string, std::string> by_id_;      // id -> key
  std::unordered_map<std::string, std::string> by_cgroup_;  // cgroup path -> key
};

}  // namespace snoopkit
