#include "core/app.h"

#include <linux/capability.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "core/btf_validate.h"
#include "core/error.h"
#include "core/kernel_paths.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/sink.h"
#include "core/tracefs.h"

namespace snoopkit {
namespace {

constexpr int kCapPerfmon = 38;  // CAP_PERFMON / CAP_BPF: Linux 5.8
constexpr int kCapBpf = 39;

bool has_cap(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

void print_hint(const std::string& tool, const std::string& hint) {
  if (!hint.empty()) std::fprintf(stderr, "%s: hint: %s\n", tool.c_str(), hint.c_str());
}

}  // namespace

void check_privileges() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) throw Error("read capabilities", errno);
  if (has_cap(data, CAP_SYS_ADMIN)) return;
  if (has_cap(data, kCapBpf) && has_cap(data, kCapPerfmon)) return;
  throw Error("this tool needs privileges to load BPF programs", EPERM, kPrivilegeHint);
}

App::App(std::string name, std::string description, const FilterFlags& filters)
    : name_(std::move(name)), cli_(std::move(description), name_) {
  cli_.set_version_flag("-V,--version", name_ + " (snoopkit) " SNOOPKIT_VERSION);
  add_common_options(cli_, opts_, filters);
}

int App::run(int argc, char** argv, const std::function<int(Session&)>& body) {
  // A reader that goes away must come back as EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  // Until loading begins, a stop signal keeps its default action (even if
  // the parent left it blocked): a start-up that stalls (a hung user name
  // lookup, a blocking open) ends at Ctrl-C, and with nothing loaded yet
  // there is nothing to clean up.
  sigprocmask(SIG_UNBLOCK, &stop_signals(), nullptr);

  try {
    cli_.parse(argc, argv);
  } catch (const CLI::Success& e) {
    // --help, --version, a tool's list: stdout must take all of it.
    std::ostringstream out;
    const int code = cli_.exit(e, out);
    try {
      write_stdout(out.str());
    } catch (const Error& err) {
      std::fprintf(stderr, "%s: error: %s\n", name_.c_str(), err.what());
      return kExitFailure;
    }
    return code;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: error: %s\n%s: hint: run '%s --help' for usage\n", name_.c_str(),
                 e.what(), name_.c_str(), name_.c_str());
    return kExitUsage;
  } catch (const Error& e) {  // a list option's output failed
    std::fprintf(stderr, "%s: error: %s\n", name_.c_str(), e.what());
    return kExitFailure;
  }

  init_logging(name_, opts_.verbosity);
  try {
    Resolved resolved = resolve(opts_);
    for (const auto& check : checks_) check();
    check_privileges();
    check_btf(opts_.btf_path);
    std::string tracefs = ensure_tracefs();
    // From here on stop signals wait to be read from the run loop's
    // signalfd: a Ctrl-C during load or attach still ends in a drained run
    // with its summary.
    sigprocmask(SIG_BLOCK, &stop_signals(), nullptr);
    Session session(name_, opts_, std::move(resolved),
                    std::make_unique<KernelFeatures>(tracefs));
    return body(session);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: error: %s\n", name_.c_str(), e.what());
    return kExitUsage;
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    print_hint(name_, e.hint());
    return kExitFailure;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}

}  // namespace snoopkit
