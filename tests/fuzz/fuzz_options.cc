// Fuzz target: option parsing and checking. Invariant: any command line
// either parses or fails with CLI11's parse error or a UsageError, never a
// crash, another exception, or a leaked descriptor.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"

using namespace snoopkit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Arguments are NUL-separated in the input.
  std::vector<std::string> args{"tool"};
  std::string cur;
  for (std::size_t k = 0; k < size && args.size() < 32; ++k) {
    if (data[k] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[k]);
    }
  }
  if (!cur.empty()) args.push_back(cur);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());

  CLI::App app("fuzz", "tool");
  CommonOptions opts;
  FilterFlags flags{"-p,--pid", "-t,--tid", "-u,--uid", "-c,--cgroup", "-n,--name"};
  add_common_options(app, opts, flags);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return 0;
  }
  try {
    Resolved r = resolve(opts);
    if (r.cgroup_fd >= 0) close(r.cgroup_fd);
    if (r.buffer_bytes < 4096 || (r.buffer_bytes & (r.buffer_bytes - 1))) __builtin_trap();
    if (r.comm.size() > 15) __builtin_trap();
  } catch (const UsageError&) {
  }
  return 0;
}
