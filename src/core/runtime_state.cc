#include "core/runtime_state.h"

#include <spdlog/spdlog.h>

#include <array>
#include <nlohmann/json.hpp>
#include <vector>

namespace snoopkit {
namespace {

// Where each runtime keeps runc's state below the root, how many directory
// levels lead to "<id>/state.json", and the runtime named by the place.
struct StateDir {
  std::string_view dir;
  int levels;  // 1: <dir>/<id>; 2: <dir>/<namespace>/<id>
  std::string_view runtime;
};
constexpr std::array<StateDir, 3> kStateDirs{{
    {"runc", 1, "runc"},
    {"containerd/runc", 2, "containerd"},
    {"docker/runtime-runc/moby", 1, "docker"},
}};

// The CRI annotations, as containerd and as CRI-O / dockershim spell them.
struct Annotation {
  std::string_view key;
  std::string RuntimeState::*field;
};
constexpr std::array<Annotation, 8> kAnnotations{{
    {"io.kubernetes.cri.container-name", &RuntimeState::container_name},
    {"io.kubernetes.cri.sandbox-uid", &RuntimeState::pod_uid},
    {"io.kubernetes.cri.sandbox-name", &RuntimeState::pod_name},
    {"io.kubernetes.cri.sandbox-namespace", &RuntimeState::pod_namespace},
    {"io.kubernetes.container.name", &RuntimeState::container_name},
    {"io.kubernetes.pod.uid", &RuntimeState::pod_uid},
    {"io.kubernetes.pod.name", &RuntimeState::pod_name},
    {"io.kubernetes.pod.namespace", &RuntimeState::pod_namespace},
}};

std::string string_at(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// The cgroup v2 path of the container: runc records the unified path under
// the "" key; a cgroupfs path in the config is the same path below the root.
std::string cgroup_path_of(const nlohmann::json& state, std::string_view cgroup2_root) {
  std::string unified;
  if (auto it = state.find("cgroup_paths"); it != state.end()) unified = string_at(*it, "");
  if (!unified.empty() && !cgroup2_root.empty() && unified.starts_with(cgroup2_root)) {
    std::string rel = unified.substr(cgroup2_root.size());
    if (rel.empty()) return "/";
    if (rel.starts_with('/')) return rel;
  }
  if (auto it = state.find("config"); it != state.end() && it->is_object()) {
    if (auto c = it->find("cgroups"); c != it->end()) {
      std::string path = string_at(*c, "path");
      if (path.starts_with('/')) return path;
    }
  }
  return {};
}

}  // namespace

std::optional<RuntimeState> parse_runc_state(std::string_view json, std::string_view cgroup2_root) {
  auto state = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                     /*allow_exceptions=*/false);
  if (!state.is_object()) return std::nullopt;
  RuntimeState out;
  out.id = string_at(state, "id");
  if (out.id.empty()) return std::nullopt;
  out.cgroup_path = cgroup_path_of(state, cgroup2_root);
  auto config = state.find("config");
  if (config == state.end() || !config->is_object()) return out;
  auto labels = config->find("labels");
  if (labels == config->end() || !labels->is_array()) return out;
  for (const auto& label : *labels) {
    if (!label.is_string()) continue;
    const auto& text = label.get_ref<const std::string&>();
    auto eq = text.find('=');
    if (eq == std::string::npos) continue;
    std::string_view key(text.data(), eq);
    for (const auto& a : kAnnotations) {
      if (key == a.key && (out.*a.field).empty()) out.*a.field = text.substr(eq + 1);
    }
  }
  return out;
}

RuntimeStateIndex::RuntimeStateIndex(std::string state_root, CgroupFs* fs)
    : root_(std::move(state_root)), fs_(fs) {}

const RuntimeState* RuntimeStateIndex::by_id(std::string_view id) {
  for (int pass = 0; pass < 2; ++pass) {
    if (auto it = by_id_.find(std::string(id)); it != by_id_.end()) return &states_.at(it->second);
    if (pass == 0) maybe_rescan();
  }
  return nullptr;
}

const RuntimeState* RuntimeStateIndex::by_cgroup(std::string_view cgroup_path) {
  for (int pass = 0; pass < 2; ++pass) {
    if (auto it = by_cgroup_.find(std::string(cgroup_path)); it != by_cgroup_.end()) {
      return &states_.at(it->second);
    }
    if (pass == 0) maybe_rescan();
  }
  return nullptr;
}

void RuntimeStateIndex::maybe_rescan() {
  auto now = fs_->now();
  if (scanned_ && now - last_scan_ < kRescanInterval) return;
  scanned_ = true;
  last_scan_ = now;
  rescan();
}

void RuntimeStateIndex::rescan() {
  // The state directories present now, "<dir>[/<namespace>]/<id>".
  std::vector<std::pair<std::string, std::string_view>> present;  // key, runtime
  for (const auto& sd : kStateDirs) {
    std::vector<std::string> parents{std::string(sd.dir)};
    if (sd.levels == 2) {
      parents.clear();
      for (auto& ns : fs_->list_dirs(root_, std::string(sd.dir), kMaxStates)) {
        parents.push_back(std::string(sd.dir) + "/" + ns);
      }
    }
    for (const auto& parent : parents) {
      if (present.size() >= kMaxStates) break;
      for (auto& id : fs_->list_dirs(root_, parent, kMaxStates - present.size())) {
        present.emplace_back(parent + "/" + id, sd.runtime);
      }
    }
  }
  // Forget containers that are gone.
  std::unordered_set<std::string> keys;
  for (const auto& [key, runtime] : present) keys.insert(key);
  std::vector<std::string> gone;
  for (const auto& [key, state] : states_) {
    if (!keys.count(key)) gone.push_back(key);
  }
  for (const auto& key : gone) unindex(key);
  std::erase_if(rejected_, [&](const std::string& key) { return !keys.count(key); });
  // Read the new ones; a state's id and cgroup do not change while it lives.
  for (const auto& [key, runtime] : present) {
    if (states_.count(key) || rejected_.count(key)) continue;
    auto file = fs_->read_file(root_, key + "/state.json", kMaxStateBytes);
    if (file.status == CgroupFs::ReadStatus::kMissing) continue;  // not written yet
    std::optional<RuntimeState> state;
    if (file.status == CgroupFs::ReadStatus::kOk) {
      state = parse_runc_state(file.data, fs_->cgroup2_root());
    }
    if (!state) {
      rejected_.insert(key);
      spdlog::debug("warning: ignoring runtime state {}/{}/state.json: {}", root_, key,
                    file.status == CgroupFs::ReadStatus::kOk
                        ? "not a runc state"
                        : "a symlink, not a regular file, or over 1 MiB");
      continue;
    }
    state->runtime = runtime;
    index(key, std::move(*state));
  }
}

void RuntimeStateIndex::index(const std::string& key, RuntimeState state) {
  by_id_[state.id] = key;
  if (!state.cgroup_path.empty()) by_cgroup_[state.cgroup_path] = key;
  states_[key] = std::move(state);
}

void RuntimeStateIndex::unindex(const std::string& key) {
  auto it = states_.find(key);
  if (it == states_.end()) return;
  if (auto i = by_id_.find(it->second.id); i != by_id_.end() && i->second == key) by_id_.erase(i);
  if (auto c = by_cgroup_.find(it->second.cgroup_path); c != by_cgroup_.end() && c->second == key) {
    by_cgroup_.erase(c);
  }
  states_.erase(it);
}

std::size_t RuntimeStateIndex::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& [key, s] : states_) {
    bytes += 3 * (key.capacity() + 64) + sizeof(RuntimeState) + s.id.capacity() +
             s.cgroup_path.capacity() * 2 + s.container_name.capacity() + s.pod_uid.capacity() +
             s.pod_name.capacity() + s.pod_namespace.capacity();
  }
  return bytes;
}

}  // namespace snoopkit
