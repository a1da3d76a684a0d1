#include "core/tracefs.h"

#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace snoopkit {
namespace {

constexpr const char* kTracefs = "/sys/kernel/tracing";
constexpr const char* kDebugfsTracing = "/sys/kernel/debug/tracing";
constexpr const char* kHint = "mount it: mount -t tracefs nodev /sys/kernel/tracing";

bool has_events(const std::string& root) {
  return access((root + "/events").c_str(), F_OK) == 0;
}

}  // namespace

std::string ensure_tracefs() {
  // libbpf prefers debugfs's tracing directory whenever that path exists.
  if (access(kDebugfsTracing, F_OK) == 0) {
    if (has_events(kDebugfsTracing)) return kDebugfsTracing;
  } else if (has_events(kTracefs)) {
    return kTracefs;
  }
  spdlog::debug("tracefs is not mounted; mounting it in a private mount namespace");
  // A namespace of our own keeps the mount ours: it vanishes when we exit.
  // Slave, not private: our tracefs mount stays invisible to the host, but
  // the host's later umounts still reach our copy, so a running tool never
  // pins a file system the host has unmounted.
  if (unshare(CLONE_NEWNS) != 0) throw Error("tracefs is not mounted, and unshare failed", errno, kHint);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
    throw Error("tracefs is not mounted, and making / a slave mount failed", errno, kHint);
  if (mount("tracefs", kTracefs, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    throw Error("tracefs is not mounted, and mounting it failed", errno, kHint);
  if (access(kDebugfsTracing, F_OK) == 0) {
    // libbpf would look under debugfs; mount tracefs there too.
    if (mount("tracefs", kDebugfsTracing, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      throw Error("mounting tracefs at /sys/kernel/debug/tracing failed", errno, kHint);
    return kDebugfsTracing;
  }
  return kTracefs;
}

}  // namespace snoopkit
