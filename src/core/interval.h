#pragma once
// Summary tools report every INTERVAL seconds, COUNT times, like
// libbpf-tools' `runqlat [interval] [count]`.

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace snoopkit {

/// When a summary tool reports.
struct Interval {
  double seconds = 0;       // 0: once, at the end (Ctrl-C or --duration)
  std::uint64_t count = 0;  // reports before exiting; 0: no limit
};

/// Registers the positional arguments [interval] [count] on cli, and the
/// interval also as the option `flag` when given (e.g. "-i,--interval").
void add_interval_args(CLI::App& cli, Interval& interval, const std::string& flag = {});

/// Removes the common options only event tools use (--latency,
/// --buffer-size, --perf-buffer): a summary tool prints no events.
void drop_event_options(CLI::App& cli);

}  // namespace snoopkit
