#include "error.h"

#include <cstring>

namespace snoopkit {

const char* const kPrivilegeHint = "run as root, or grant CAP_BPF and CAP_PERFMON";

namespace {
std::string describe(const std::string& what, int err) {
  if (err == 0) return what;
  return what + ": " + std::strerror(err);
}
}  // namespace

Error::Error(const std::string& what, int err, std::string hint)
    : std::runtime_error(describe(what, err)), err_(err), hint_(std::move(hint)) {}

}  // namespace snoopkit
