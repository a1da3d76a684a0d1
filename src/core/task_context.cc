#include "core/task_context.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace snoopkit {
namespace {

constexpr std::size_t kShortId = 12;  // the CONTAINER column's id, as `docker ps` shows it

}  // namespace

TaskContext::TaskContext(std::string want, std::unique_ptr<CgroupResolver> resolver)
    : want_(std::move(want)), resolver_(std::move(resolver)) {}

bool TaskContext::add(Record& r, const sk_task_ctx& c, bool has_tid) noexcept {
  try {
    r.add_uint("cgroup_id", c.cgroup_id);
    r.add_uint("vpid", c.vpid);
    if (has_tid) r.add_uint("vtid", c.vtid);
    r.add_uint("mntns", c.mntns);
    r.add_uint("pidns", c.pidns);
    // Text mode without the column or the filter never needs the container.
    if (want_.empty() && !r.wants_json() && !r.wants_text("CONTAINER")) return true;
    if (!resolver_) resolver_ = std::make_unique<CgroupResolver>(CgroupResolver::Options{});
    const CgroupInfo* info = resolver_->lookup(c.cgroup_id);
    if (!want_.empty() && !wanted(c.cgroup_id, info)) return false;
    const ContainerInfo* ci = info && info->container ? &*info->container : nullptr;
    if (ci && r.wants_json()) add_container(r, *ci);
    r.add_text_only("CONTAINER", [&] {
      if (!ci) return std::string("-");
      return ci->name.empty() ? ci->id.substr(0, kShortId) : ci->name;
    });
  } catch (const std::exception& e) {
    spdlog::debug("task context: {}", e.what());  // out of memory: the record goes without it
  }
  return true;
}

bool TaskContext::wanted(std::uint64_t cgroup_id, const CgroupInfo* info) noexcept {
  // A cgroup gone before it was resolved cannot be told apart: dropped,
  // with no verdict (its id is never used again).
  if (!info) return false;
  const auto& ci = info->container;
  if (ci && ci->matches(want_)) return true;
  // The kernel drops this cgroup's next events itself, but only once the
  // answer cannot change: a host cgroup, or a container whose name is known
  // (one whose runtime state is not written yet may still get its name).
  if (!ci || !ci->name.empty()) {
    std::uint8_t other = SK_CONTAINER_OTHER;
    if (bpf_map_update_elem(verdict_fd_, &cgroup_id, &other, BPF_ANY) != 0)
      spdlog::debug("container verdict for cgroup {}: {}", cgroup_id, std::strerror(errno));
  }
  return false;
}

void TaskContext::add_container(Record& r, const ContainerInfo& c) {
  container_.clear();
  container_.add_bytes("id", c.id);
  container_.add_bytes("runtime", c.runtime);
  if (!c.name.empty()) container_.add_bytes("name", c.name);
  if (c.pod) {
    pod_.clear();
    pod_.add_bytes("uid", c.pod->uid);
    if (!c.pod->name.empty()) pod_.add_bytes("name", c.pod->name);
    if (!c.pod->namespace_.empty()) pod_.add_bytes("namespace", c.pod->namespace_);
    container_.add_object("pod", pod_);
  }
  r.add_object("container", container_);
}

void TaskContext::sweep() {
  if (resolver_) resolver_->sweep();
}

void insert_container_column(std::vector<Column>& columns) {
  auto at = columns.begin();
  while (at != columns.end() && at->key.rfind("TIME", 0) == 0) ++at;
  columns.insert(at, Column{"CONTAINER", "CONTAINER", static_cast<int>(kShortId)});
}

}  // namespace snoopkit
