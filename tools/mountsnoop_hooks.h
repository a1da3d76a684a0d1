#pragma once
// mountsnoop's hook points, declared once: the tool loads them, and so does
// its load test (tests/load/), which cannot drift from the tool.

#include <array>
#include <cstddef>
#include <vector>

#include "core/hooks.h"
#include "bpf/mountsnoop.h"
#include "mountsnoop.skel.h"

namespace snoopkit {

/// The syscalls mountsnoop traces, by their tracepoints' names, in
/// MOUNTSNOOP_SYS_* order (bpf/mountsnoop.h).
inline constexpr std::array<const char*, MOUNTSNOOP_SYS_MAX> kMountSyscalls = {
    "mount",  "umount",     "fsopen",    "fsconfig",      "fsmount",
    "fspick", "move_mount", "open_tree", "mount_setattr", "pivot_root",
};

/// Each syscall where the kernel has it; mount(2) and umount2(2) are the
/// least required. One exit program (SEC("tracepoint")) for all of them.
inline std::vector<HookPoint> mountsnoop_hook_points(mountsnoop_bpf* skel) {
  auto& p = skel->progs;
  const std::array<bpf_program*, MOUNTSNOOP_SYS_MAX> enter = {
      p.tp_enter_mount,         p.tp_enter_umount,     p.tp_enter_fsopen,     p.tp_enter_fsconfig,
      p.tp_enter_fsmount,       p.tp_enter_fspick,     p.tp_enter_move_mount, p.tp_enter_open_tree,
      p.tp_enter_mount_setattr, p.tp_enter_pivot_root,
  };
  std::vector<HookPoint> points;
  for (std::size_t i = 0; i < enter.size(); ++i)
    points.push_back(
        syscall_hook_point(kMountSyscalls[i], enter[i], p.tp_exit, i <= MOUNTSNOOP_SYS_UMOUNT));
  return points;
}

}  // namespace snoopkit
