#include "core/interval.h"

#include <CLI/CLI.hpp>
#include <string>

#include "core/options.h"

namespace snoopkit {

void add_interval_args(CLI::App& cli, Interval& interval, const std::string& flag) {
  const CLI::Validator& seconds = seconds_validator();
  CLI::Option* positional =
      cli.add_option("interval", interval.seconds,
                     "Print a report every INTERVAL seconds (default: one report, at the end)")
          ->type_name("INTERVAL")
          ->check(seconds);
  // The interval once: with the flag, a positional one is a usage error,
  // not a value that silently wins.
  if (!flag.empty())
    cli.add_option(flag, interval.seconds, "Print a report every INTERVAL seconds")
        ->type_name("INTERVAL")
        ->check(seconds)
        ->excludes(positional);
  cli.add_option("count", interval.count, "Exit after COUNT reports (default: no limit)")
      ->type_name("COUNT")
      ->transform(whole_number(1, 1'000'000'000));
}

void drop_event_options(CLI::App& cli) {
  for (const char* name : {"--latency", "--buffer-size", "--perf-buffer"})
    if (CLI::Option* opt = cli.get_option_no_throw(name)) cli.remove_option(opt);
}

}  // namespace snoopkit
