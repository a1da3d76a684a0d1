#include "app.h"

#include <bpf/btf.h>
#include <linux/capability.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "error.h"
#include "kernel_paths.h"
#include "log.h"
#include "tracefs.h"

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

void check_btf(const std::string& custom_path) {
  const std::string path = custom_path.empty() ? kKernelBtfPath : custom_path;
  if (access(path.c_str(), R_OK) != 0) {
    if (custom_path.empty())
      throw Error(std::string("this kernel exposes no BTF (") + kKernelBtfPath + ")", errno,
                  "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or pass --btf PATH");
    throw Error("--btf " + path, errno, "pass the path of a readable BTF file for this kernel");
  }
  if (custom_path.empty()) return;
  btf* b = btf__parse(path.c_str(), nullptr);
  if (!b) throw Error("--btf " + path + " is not valid BTF", errno,
                      "pass a BTF file made for this kernel, e.g. with pahole --btf_encode_detached");
  btf__free(b);
}

App::App(std::string name, std::string description, const FilterFlags& filters)
    : name_(std::move(name)), cli_(std::move(description), name_) {
  cli_.set_version_flag("-V,--version", name_ + " (snoopkit) " SNOOPKIT_VERSION);
  add_common_options(cli_, opts_, filters);
}

int App::run(int argc, char** argv, const std::function<int(Session&)>& body) {
  // A reader that goes away must come back as EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  // Stop signals are read from a signalfd in the poll loop; until then they
  // wait, so a Ctrl-C during load still ends in a clean exit.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);

  try {
    cli_.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return cli_.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: error: %s\n%s: hint: run '%s --help' for usage\n", name_.c_str(),
                 e.what(), name_.c_str(), name_.c_str());
    return kExitUsage;
  }

  init_logging(name_, opts_.verbosity);
  try {
    Resolved resolved = resolve(opts_);
    for (const auto& check : checks_) check();
    check_privileges();
    check_btf(opts_.btf_path);
    std::string tracefs = ensure_tracefs();
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
