#pragma once
// Which container and pod a cgroup belongs to. The BPF side hands over a
// cgroup v2 id per event; user space turns it into a path once (cached by
// id, bounded) and reads the container id and runtime from the path's
// layout, and names from the runtime's state (runc's state.json).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/cgroup_fs.h"
#include "core/runtime_state.h"

namespace snoopkit {

/// A Kubernetes pod, as far as it is known ("" = unknown).
struct PodInfo {
  std::string uid;         // from the cgroup path (dashes restored)
  std::string name;        // from runtime state annotations, "" if unknown
  std::string namespace_;  // idem

  bool operator==(const PodInfo&) const = default;
};

/// A container, as far as it is known.
struct ContainerInfo {
  std::string id;       // full id, e.g. 64 hex digits
  std::string runtime;  // "docker", "containerd", "cri-o", "podman", "runc"; "" if the path
                        // does not tell and no runtime state was found
  std::string name;     // "" if unknown
  std::optional<PodInfo> pod;

  /// Whether `want` names this container: a prefix of id, or the whole name.
  /// An empty `want` names nothing.
  bool matches(std::string_view want) const;

  bool operator==(const ContainerInfo&) const = default;
};

/// What a cgroup v2 path (relative to the v2 root, e.g.
/// "/kubepods/besteffort/pod<uid>/<id>" or
/// "/system.slice/docker-<id>.scope") says of a container; nullopt for a
/// host cgroup. The deepest container component wins (a container that
/// makes sub-cgroups, docker in docker). Pure: no file access.
std::optional<ContainerInfo> parse_cgroup_path(std::string_view path);

/// Undoes systemd's unit name escaping ("\x2d" -> "-"); other bytes stay.
std::string systemd_unescape(std::string_view name);

/// A resolved cgroup.
struct CgroupInfo {
  std::string path;  // relative to the cgroup v2 root, "/" for the root
  std::optional<ContainerInfo> container;
};

/// cgroup id -> CgroupInfo, resolved once and cached with bounded memory
/// (LRU); entries for cgroups that are gone are dropped. Never throws
/// from lookup(). Not thread-safe: one per session loop.
class CgroupResolver {
 public:
  struct Options {
    std::size_t capacity = 4096;      // entries kept
    std::string cgroup2_root;         // "" = find the cgroup v2 mount
    std::string state_root = "/run";  // runtime state (runc state.json) lives below
  };
  /// Real file system. Finds no cgroup v2 mount: every lookup is nullptr.
  explicit CgroupResolver(Options opts);
  /// Tests: `fs` fakes every file system access and the clock.
  CgroupResolver(Options opts, std::unique_ptr<CgroupFs> fs);
  ~CgroupResolver();
  CgroupResolver(const CgroupResolver&) = delete;
  CgroupResolver& operator=(const CgroupResolver&) = delete;

  /// nullptr when the id cannot be resolved (gone, no cgroup v2): the
  /// record then keeps only cgroup_id. Cheap when cached (a hash lookup).
  /// The pointer stays valid until the next lookup() or sweep().
  const CgroupInfo* lookup(std::uint64_t cgroup_id);
  /// Drops cached entries whose cgroup is gone; call every few seconds.
  void sweep();
  std::size_t size() const;
  std::size_t memory_bytes() const;  // approximate bytes held by the cache

  /// How long an id that could not be resolved is answered nullptr without
  /// asking the file system again.
  static constexpr std::chrono::milliseconds kNegativeTtl{2000};
  /// How long after its first resolution a cgroup that runtime state did not
  /// describe is checked again (runc writes state.json after making the
  /// cgroup), at most once per kStateRescanInterval.
  static constexpr std::chrono::milliseconds kStateRecheckWindow{5000};

 private:
  struct Entry {
    std::uint64_t id;
    CgroupInfo info;
    // Until when a missing runtime state is looked for again (0 = never).
    CgroupFs::Clock::time_point recheck_until{};
    CgroupFs::Clock::time_point next_recheck{};
  };
  using Lru = std::list<Entry>;

  const CgroupInfo* resolve(std::uint64_t cgroup_id);
  void describe(Entry& entry, CgroupFs::Clock::time_point now);
  void remember_missing(std::uint64_t cgroup_id, CgroupFs::Clock::time_point now);

  Options opts_;
  std::unique_ptr<CgroupFs> fs_;
  RuntimeStateIndex states_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::uint64_t, Lru::iterator> by_id_;
  std::unordered_map<std::uint64_t, CgroupFs::Clock::time_point> missing_;  // id -> expiry
};

}  // namespace snoopkit
