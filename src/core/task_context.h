#pragma once
// Where the task of an event runs, in records: the ids sk_task_context()
// read in the kernel (cgroup, namespaces, pid and tid inside), the container
// user space resolves from the cgroup (once per cgroup), the --container
// filter, and the --show-container column.

#include <linux/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/container.h"
#include "core/output.h"
#include "core/record.h"
#include "bpf/snoopkit_common.h"

namespace snoopkit {

class TaskContext {
 public:
  /// want: the --container value ("" = no filter); resolver: nullptr = the
  /// real file system's, made at the first event that needs it.
  explicit TaskContext(std::string want, std::unique_ptr<CgroupResolver> resolver = nullptr);

  /// The fd of the sk_container_verdict map (after load), where cgroups the
  /// filter rejects for good are written, so the kernel drops their events.
  void set_verdict_map(int fd) { verdict_fd_ = fd; }

  /// Adds "cgroup_id", "vpid", "vtid" (when has_tid), "mntns", "pidns",
  /// "container" for a task in a container, and the CONTAINER text cell.
  /// Returns false when --container rejects the task. Never throws.
  bool add(Record& r, const sk_task_ctx& c, bool has_tid) noexcept;

  /// Drops cached cgroups that are gone; the loop calls it every few seconds.
  void sweep();

 private:
  bool wanted(std::uint64_t cgroup_id, const CgroupInfo* info) noexcept;
  void add_container(Record& r, const ContainerInfo& c);

  std::string want_;
  std::unique_ptr<CgroupResolver> resolver_;
  int verdict_fd_ = -1;
  Record container_, pod_;  // the "container" object of the current event
};

/// Adds the CONTAINER column (--show-container) after the leading time
/// columns: the tools' last column is free text.
void insert_container_column(std::vector<Column>& columns);

}  // namespace snoopkit
