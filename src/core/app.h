#pragma once
// The entry point every tool goes through: options, logging, privilege and
// BTF checks, tracefs, signals, and the single place errors become exit codes.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/options.h"
#include "core/session.h"

namespace snoopkit {

class App {
 public:
  /// name: the tool's name; description: one line for --help.
  App(std::string name, std::string description, const FilterFlags& filters = {});
  /// The CLI11 app, for the tool's own options.
  CLI::App& cli() { return cli_; }
  const CommonOptions& options() const { return opts_; }

  /// Registers a check of the tool's own options, run after parsing and
  /// before anything touches the kernel; it throws UsageError (exit 2).
  void add_check(std::function<void()> check) { checks_.push_back(std::move(check)); }

  /// Parses argv, checks the environment, and runs body with a session.
  /// Returns the process exit code: 0, 1 (failure), 2 (usage). Never throws.
  int run(int argc, char** argv, const std::function<int(Session&)>& body);

 private:
  std::string name_;
  CLI::App cli_;
  CommonOptions opts_;
  std::vector<std::function<void()>> checks_;
};

/// Checks that this process may load and attach BPF programs; throws Error
/// with the fix otherwise.
void check_privileges();

}  // namespace snoopkit
