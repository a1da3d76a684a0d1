#include "core/log.h"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "core/escape.h"

namespace snoopkit {
namespace {

int g_verbosity = 0;

// libbpf calls this from C: it must not throw. Messages can be long (a
// verifier log arrives as one message), so nothing is cut.
int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) noexcept {
  if (level == LIBBPF_DEBUG && g_verbosity < 2) return 0;
  if (g_verbosity < 1) return 0;
  try {
    va_list copy;
    va_copy(copy, args);
    char small[512];
    int n = std::vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0) return 0;
    std::string text;
    if (static_cast<std::size_t>(n) < sizeof(small)) {
      text.assign(small, static_cast<std::size_t>(n));
    } else {
      text.resize(static_cast<std::size_t>(n) + 1);
      std::vsnprintf(text.data(), text.size(), fmt, args);
      text.resize(static_cast<std::size_t>(n));
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    // Names from an object file (sections, programs) reach the terminal
    // here: escape control bytes, line by line.
    std::string shown;
    for (std::size_t at = 0; at <= text.size();) {
      std::size_t nl = std::min(text.find('\n', at), text.size());
      if (at) shown += '\n';
      append_text_escaped(shown, std::string_view(text).substr(at, nl - at));
      at = nl + 1;
    }
    text = std::move(shown);
    // libbpf's own messages already start with "libbpf: ".
    if (text.rfind("libbpf: ", 0) != 0) text.insert(0, "libbpf: ");
    auto lvl = level == LIBBPF_WARN ? spdlog::level::warn : spdlog::level::debug;
    spdlog::log(lvl, "{}", text);
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
