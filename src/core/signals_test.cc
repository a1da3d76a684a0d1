#include "core/signals.h"

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

TEST(SignalName, StandardSignals) {
  EXPECT_EQ(signal_name(1), "SIGHUP");
  EXPECT_EQ(signal_name(9), "SIGKILL");
  EXPECT_EQ(signal_name(15), "SIGTERM");
  EXPECT_EQ(signal_name(16), "SIGSTKFLT");
  EXPECT_EQ(signal_name(17), "SIGCHLD");
  EXPECT_EQ(signal_name(29), "SIGIO");
  EXPECT_EQ(signal_name(31), "SIGSYS");
}

TEST(SignalName, RealTimeSignalsAreNumbered) {
  EXPECT_EQ(signal_name(32), "SIG32");
  EXPECT_EQ(signal_name(34), "SIG34");
  EXPECT_EQ(signal_name(64), "SIG64");
}

TEST(SignalName, NoNameForZeroOrNonSignals) {
  EXPECT_EQ(signal_name(0), "");
  EXPECT_EQ(signal_name(65), "");
  EXPECT_EQ(signal_name(-1), "");
  EXPECT_EQ(signal_name(1 << 30), "");
}

TEST(SignalName, EveryNameParsesBack) {
  for (int s = 1; s <= kMaxSignal; ++s) {
    EXPECT_EQ(parse_signal(signal_name(s)), s) << s;
    EXPECT_EQ(parse_signal(std::to_string(s)), s) << s;
  }
}

TEST(ParseSignal, AcceptsTheForms) {
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_EQ(parse_signal("0"), 0);
  EXPECT_EQ(parse_signal("KILL"), 9);
  EXPECT_EQ(parse_signal("SIGKILL"), 9);
  EXPECT_EQ(parse_signal("sigterm"), 15);
  EXPECT_EQ(parse_signal("term"), 15);
  EXPECT_EQ(parse_signal("IOT"), 6);
  EXPECT_EQ(parse_signal("SIGCLD"), 17);
  EXPECT_EQ(parse_signal("POLL"), 29);
  EXPECT_EQ(parse_signal("SIG40"), 40);
}

TEST(ParseSignal, RejectsTheRest) {
  for (const char* bad : {"", "-1", "65", "1000", "99999999999999999999", "9x", " 9", "+9", "0x9",
                          "SIG", "SIGFOO", "KILLS", "SIG0", "SIG65", "RTMIN", "SIGRTMIN+1"})
    EXPECT_EQ(parse_signal(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace snoopkit
