// CgroupResolver (declared in container.h): the per-event lookup is one
// hash lookup; a miss asks the file system once, and an id that cannot be
// resolved is answered from a short-lived negative cache.
#include "core/container.h"

namespace snoopkit {
namespace {

// Heap bytes a string holds beyond its own object (0 while it fits inline).
std::size_t heap_bytes(const std::string& s) {
  return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}

std::size_t heap_bytes(const std::optional<ContainerInfo>& c) {
  if (!c) return 0;
  std::size_t bytes = heap_bytes(c->id) + heap_bytes(c->runtime) + heap_bytes(c->name);
  if (c->pod)
    bytes += heap_bytes(c->pod->uid) + heap_bytes(c->pod->name) + heap_bytes(c->pod->namespace_);
  return bytes;
}

// One allocation's bookkeeping (malloc's header, rounding).
constexpr std::size_t kAllocOverhead = 16;

}  // namespace

CgroupResolver::CgroupResolver(Options opts)
    : CgroupResolver(opts, std::make_unique<RealCgroupFs>(opts.cgroup2_root)) {}

CgroupResolver::CgroupResolver(Options opts, std::unique_ptr<CgroupFs> fs)
    : opts_(std::move(opts)), fs_(std::move(fs)), states_(opts_.state_root, fs_.get()) {
  if (opts_.capacity == 0) opts_.capacity = 1;
}

CgroupResolver::~CgroupResolver() = default;

const CgroupInfo* CgroupResolver::lookup(std::uint64_t cgroup_id) {
  try {
    auto it = by_id_.find(cgroup_id);
    if (it == by_id_.end()) return resolve(cgroup_id);
    Entry& entry = *it->second;
    if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
    if (entry.recheck_until != CgroupFs::Clock::time_point{}) {
      auto now = fs_->now();
      if (now >= entry.recheck_until) {
        entry.recheck_until = {};
      } else if (now >= entry.next_recheck) {
        describe(entry, now);
      }
    }
    return &entry.info;
  } catch (...) {
    // Out of memory, or a library throwing where it should not: the record
    // keeps its cgroup id.
    return nullptr;
  }
}

const CgroupInfo* CgroupResolver::resolve(std::uint64_t cgroup_id) {
  auto now = fs_->now();
  if (auto m = missing_.find(cgroup_id); m != missing_.end()) {
    if (now < m->second) return nullptr;
    missing_.erase(m);
  }
  auto path = fs_->path_of(cgroup_id);
  if (!path) {
    remember_missing(cgroup_id, now);
    return nullptr;
  }
  if (lru_.size() >= opts_.capacity) {
    by_id_.erase(lru_.back().id);
    lru_.pop_back();
  }
  lru_.push_front(Entry{cgroup_id, CgroupInfo{std::move(*path), std::nullopt}});
  by_id_[cgroup_id] = lru_.begin();
  Entry& entry = lru_.front();
  entry.recheck_until = now + kStateRecheckWindow;
  describe(entry, now);
  return &entry.info;
}

void CgroupResolver::describe(Entry& entry, CgroupFs::Clock::time_point now) {
  auto container = parse_cgroup_path(entry.info.path);
  const RuntimeState* state = container ? states_.by_id(container->id) : nullptr;
  if (!state) state = states_.by_cgroup(entry.info.path);
  entry.next_recheck = now + RuntimeStateIndex::kRescanInterval;
  if (!state) {
    entry.info.container = std::move(container);
    return;
  }
  entry.recheck_until = {};
  if (!container) container = ContainerInfo{state->id, {}, {}, {}};
  if (container->runtime.empty()) container->runtime = state->runtime;
  container->name = state->container_name;
  // A container runc runs by itself is named by its runc id.
  if (container->name.empty() && state->runtime == "runc") container->name = state->id;
  bool has_pod =
      !state->pod_uid.empty() || !state->pod_name.empty() || !state->pod_namespace.empty();
  if (has_pod && !container->pod) container->pod = PodInfo{};
  if (container->pod) {
    if (container->pod->uid.empty()) container->pod->uid = state->pod_uid;
    container->pod->name = state->pod_name;
    container->pod->namespace_ = state->pod_namespace;
  }
  entry.info.container = std::move(container);
}

void CgroupResolver::remember_missing(std::uint64_t cgroup_id, CgroupFs::Clock::time_point now) {
  if (missing_.size() >= opts_.capacity) {
    std::erase_if(missing_, [now](const auto& m) { return m.second <= now; });
    // A storm of distinct vanished ids: start over rather than grow.
    if (missing_.size() >= opts_.capacity) missing_.clear();
  }
  missing_[cgroup_id] = now + kNegativeTtl;
}

void CgroupResolver::sweep() {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (fs_->exists(it->id, it->info.path)) {
      ++it;
    } else {
      by_id_.erase(it->id);
      it = lru_.erase(it);
    }
  }
  auto now = fs_->now();
  std::erase_if(missing_, [now](const auto& m) { return m.second <= now; });
}

std::size_t CgroupResolver::size() const {
  return lru_.size();
}

std::size_t CgroupResolver::memory_bytes() const {
  // A list node holds an Entry and two pointers; a hash node the pair and a
  // next pointer (the hash of an integer key is not stored).
  constexpr std::size_t kListNode = sizeof(Entry) + 2 * sizeof(void*) + kAllocOverhead;
  constexpr std::size_t kHashNode =
      sizeof(std::pair<const std::uint64_t, Lru::iterator>) + sizeof(void*) + kAllocOverhead;
  constexpr std::size_t kMissingNode =
      sizeof(std::pair<const std::uint64_t, CgroupFs::Clock::time_point>) + sizeof(void*) +
      kAllocOverhead;
  std::size_t bytes = sizeof(*this);
  for (const auto& entry : lru_) {
    bytes += kListNode + kHashNode + heap_bytes(entry.info.path) + heap_bytes(entry.info.container);
  }
  bytes += by_id_.bucket_count() * sizeof(void*);
  bytes += missing_.size() * kMissingNode + missing_.bucket_count() * sizeof(void*);
  return bytes + states_.memory_bytes();
}

}  // namespace snoopkit
