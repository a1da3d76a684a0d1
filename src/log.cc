#include "log.h"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

namespace snoopkit {
namespace {

int g_verbosity = 0;

// libbpf calls this from C: it must not throw.
int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) noexcept {
  if (level == LIBBPF_DEBUG && g_verbosity < 2) return 0;
  if (g_verbosity < 1) return 0;
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  if (n < 0) return 0;
  std::size_t len = std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1);
  while (len > 0 && buf[len - 1] == '\n') --len;
  try {
    auto lvl = level == LIBBPF_WARN ? spdlog::level::warn : spdlog::level::debug;
    spdlog::log(lvl, "libbpf: {}", std::string_view(buf, len));
  } catch (...) {
  }
  return 0;
}

}  // namespace

void init_logging(const std::string& tool, int verbosity) {
  g_verbosity = verbosity;
  auto logger = spdlog::stderr_color_st(tool);
  logger->set_pattern("%n: %^%l%$: %v");
  logger->set_level(verbosity > 0 ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  libbpf_set_print(libbpf_print);
}

}  // namespace snoopkit
