#pragma once
// One error type for setup failures: what failed, the errno, and a hint
// when there is a known fix. The runtime catches it once and exits.

#include <stdexcept>
#include <string>

namespace snoopkit {

/// Exit codes every tool uses.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,  // setup or runtime failure (privileges, BTF, load, I/O)
  kExitUsage = 2,    // bad command line; nothing was loaded
};

/// A setup or runtime failure: printed as one line (+ an optional hint), exit 1.
class Error : public std::runtime_error {
 public:
  /// what: the operation that failed; err: a positive errno or 0.
  Error(const std::string& what, int err = 0, std::string hint = {});
  int err() const { return err_; }
  const std::string& hint() const { return hint_; }

 private:
  int err_;
  std::string hint_;
};

/// A bad command line, detected before anything is loaded: exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The hint for EPERM / EACCES from bpf(2) and perf_event_open(2).
extern const char* const kPrivilegeHint;

}  // namespace snoopkit
