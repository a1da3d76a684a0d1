#include "core/interval.h"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/app.h"

namespace snoopkit {
namespace {

void parse(CLI::App& cli, std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("tool")};
  for (auto& a : args) argv.push_back(a.data());
  cli.parse(static_cast<int>(argv.size()), argv.data());
}

TEST(IntervalArgs, DefaultIsOneReportAtTheEnd) {
  CLI::App cli;
  Interval iv;
  add_interval_args(cli, iv);
  parse(cli, {});
  EXPECT_EQ(iv.seconds, 0);
  EXPECT_EQ(iv.count, 0u);
}

TEST(IntervalArgs, PositionalIntervalAndCount) {
  CLI::App cli;
  Interval iv;
  add_interval_args(cli, iv);
  parse(cli, {"2.5", "3"});
  EXPECT_EQ(iv.seconds, 2.5);
  EXPECT_EQ(iv.count, 3u);
  CLI::App cli2;
  Interval iv2;
  add_interval_args(cli2, iv2);
  parse(cli2, {"0.25", "010"});
  EXPECT_EQ(iv2.seconds, 0.25);
  EXPECT_EQ(iv2.count, 10u);  // decimal, not octal
}

TEST(IntervalArgs, RejectsBadValues) {
  for (std::vector<std::string> args : {std::vector<std::string>{"0"},
                                        {"-1"},
                                        {"nan"},
                                        {"inf"},
                                        {"1e30"},
                                        {"abc"},
                                        {""},
                                        {"1x"},
                                        {"1", "0"},
                                        {"1", "-2"},
                                        {"1", "1.5"},
                                        {"1", "x"},
                                        {"1", "2", "3"},
                                        {"0x10"},
                                        {" 1"},
                                        {"1 "},
                                        {"+1"},
                                        {"1", "0x10"},
                                        {"1", " 2"},
                                        {"1", "010 "},
                                        {"1", ""}}) {
    CLI::App cli;
    Interval iv;
    add_interval_args(cli, iv);
    EXPECT_THROW(parse(cli, args), CLI::ParseError) << testing::PrintToString(args);
  }
}

TEST(IntervalArgs, OptionalFlagSharesTheValue) {
  CLI::App cli;
  Interval iv;
  add_interval_args(cli, iv, "-i,--interval");
  parse(cli, {"-i", "3"});
  EXPECT_EQ(iv.seconds, 3);
  CLI::App cli2;
  Interval iv2;
  add_interval_args(cli2, iv2, "-i,--interval");
  EXPECT_THROW(parse(cli2, {"-i", "inf"}), CLI::ParseError);
}

// `syscount -i 1 2 3`: the interval twice is an error, not "the last wins".
TEST(IntervalArgs, FlagAndPositionalIntervalIsAnError) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-i", "1", "2", "3"}, {"-i", "1", "2"}, {"2", "-i", "1"}}) {
    CLI::App cli;
    Interval iv;
    add_interval_args(cli, iv, "-i,--interval");
    EXPECT_THROW(parse(cli, args), CLI::ParseError) << testing::PrintToString(args);
  }
}

TEST(DropEventOptions, RemovesWhatSummaryToolsDoNotUse) {
  App app("tool", "test");
  drop_event_options(app.cli());
  for (const char* gone : {"--latency", "--buffer-size", "--perf-buffer"})
    EXPECT_EQ(app.cli().get_option_no_throw(gone), nullptr) << gone;
  EXPECT_NE(app.cli().get_option_no_throw("--json"), nullptr);
  bool latency = false;
  ASSERT_NO_THROW(app.cli().add_flag("-L,--latency", latency));
  parse(app.cli(), {"--latency"});
  EXPECT_TRUE(latency);
}

TEST(DurationFlags, ToolCanFreeDashDAndTakeAPositional) {
  App app("tool", "test", {.duration = "--duration", .duration_positional = "duration"});
  std::string disk;
  ASSERT_NO_THROW(app.cli().add_option("-d,--disk", disk));
  parse(app.cli(), {"--duration", "5", "-d", "vda"});
  EXPECT_EQ(app.options().duration_s, 5);
  EXPECT_EQ(disk, "vda");
}

TEST(DurationFlags, PositionalDuration) {
  App app("tool", "test", {.duration = "--duration", .duration_positional = "duration"});
  parse(app.cli(), {"7"});
  EXPECT_EQ(app.options().duration_s, 7);
}

TEST(DurationFlags, DurationMustStillBePositive) {
  App app("tool", "test", {.duration = "--duration"});
  EXPECT_THROW(parse(app.cli(), {"--duration", "0"}), CLI::ValidationError);
}

}  // namespace
}  // namespace snoopkit
