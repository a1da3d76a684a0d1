#include "core/error.h"

#include <bpf/libbpf.h>

#include <cstring>

namespace snoopkit {

const char* const kPrivilegeHint = "run as root, or grant CAP_BPF and CAP_PERFMON";

namespace {
std::string describe(const std::string& what, int err) {
  if (err == 0) return what;
  // libbpf_strerror knows libbpf's own codes (LIBBPF_ERRNO__*, >= 4000) too.
  char buf[256];
  if (libbpf_strerror(err, buf, sizeof(buf)) != 0) return what + ": " + std::strerror(err);
  return what + ": " + buf;
}
}  // namespace

Error::Error(const std::string& what, int err, std::string hint)
    : std::runtime_error(describe(what, err)), err_(err), hint_(std::move(hint)) {}

}  // namespace snoopkit
