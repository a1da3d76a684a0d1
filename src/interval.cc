#include "interval.h"

#include <CLI/CLI.hpp>
#include <string>

#include "app.h"
#include "options.h"

namespace snoopkit {

void add_interval_args(CLI::App& cli, Interval& interval, const std::string& flag) {
  const CLI::Validator& seconds = seconds_validator();
  if (!flag.empty())
    cli.add_option(flag, interval.seconds, "Print a report every INTERVAL seconds")
        ->type_name("INTERVAL")
        ->check(seconds);
  cli.add_option("interval", interval.seconds,
                 "Print a report every INTERVAL seconds (default: one report, at the end)")
      ->type_name("INTERVAL")
      ->check(seconds);
  cli.add_option("count", interval.count, "Exit after COUNT reports (default: no limit)")
      ->type_name("COUNT")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
}

void long_duration_only(App& app, const std::string& positional) {
  CLI::App& cli = app.cli();
  CLI::Option* old = cli.get_option("--duration");
  const std::string help = old->get_description();
  cli.remove_option(old);
  // App::run copies its options into the Session after parsing, so the new
  // option must write where the old one did. App owns that (non-const)
  // object; options() only hands it out read-only.
  auto& target = const_cast<double&>(app.options().duration_s);
  cli.add_option("--duration", target, help)->type_name("SECONDS")->check(seconds_validator());
  if (!positional.empty())
    cli.add_option(positional, target, help + " (same as --duration)")
        ->type_name("SECONDS")
        ->check(seconds_validator());
}

void drop_event_options(CLI::App& cli) {
  for (const char* name : {"--latency", "--buffer-size", "--perf-buffer"})
    if (CLI::Option* opt = cli.get_option_no_throw(name)) cli.remove_option(opt);
}

}  // namespace snoopkit
