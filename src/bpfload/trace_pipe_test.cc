#include "bpfload/trace_pipe.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

TEST(TracePipe, ParsesBpfPrintkLine) {
  auto t = parse_trace_line(
      "            bash-1234    [003] d..31  5678.123456: bpf_trace_printk: hello world");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "bash");
  EXPECT_EQ(t->pid, 1234u);
  EXPECT_EQ(t->cpu, 3u);
  EXPECT_EQ(t->flags, "d..31");
  EXPECT_EQ(t->ts, "5678.123456");
  EXPECT_EQ(t->event, "bpf_trace_printk");
  EXPECT_EQ(t->message, "hello world");
}

TEST(TracePipe, CommWithDashesSpacesAndFakeFields) {
  // The comm is right-aligned in 16 columns: what it holds cannot move the pid.
  auto t =
      parse_trace_line(" x-1 [001] 9.9: -4242    [000] .....    12.000001: bpf_trace_printk: m");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "x-1 [001] 9.9: ");
  EXPECT_EQ(t->pid, 4242u);
  EXPECT_EQ(t->cpu, 0u);
  EXPECT_EQ(t->message, "m");

  t = parse_trace_line(" kworker/u8:2-ev-99      [001] ..... 1.5: bpf_trace_printk: a: b");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "kworker/u8:2-ev");
  EXPECT_EQ(t->pid, 99u);
  EXPECT_EQ(t->message, "a: b");
}

TEST(TracePipe, UnknownCommTgidAndNoIrqInfo) {
  auto t = parse_trace_line("           <...>-77      (     70) [012] 100.000000: sched_switch: x");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "<...>");
  EXPECT_EQ(t->pid, 77u);
  EXPECT_EQ(t->cpu, 12u);
  EXPECT_EQ(t->flags, "");
  EXPECT_EQ(t->event, "sched_switch");
  EXPECT_EQ(t->message, "x");

  t = parse_trace_line("            sh-5     (-------) [000] d.... 1.000000: bpf_trace_printk: ");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->pid, 5u);
  EXPECT_EQ(t->message, "");
}

TEST(TracePipe, OlderPidWidthAndCounterClock) {
  // Before Linux 5.14 the pid was %-5d; the comm column is the same.
  auto t = parse_trace_line("            bash-1234  [000] .... 123456789: bpf_trace_printk: x");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ts, "123456789");
  EXPECT_EQ(t->message, "x");
  // A comm column of another width still parses.
  t = parse_trace_line("cat-9 [001] d... 3.25: bpf_trace_printk: y");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->comm, "cat");
  EXPECT_EQ(t->pid, 9u);
}

TEST(TracePipe, MessageKeepsItsBytes) {
  std::string line =
      "            bash-1     [000] ..... 1.000000: bpf_trace_printk: \xff\x1b[31m  ";
  auto t = parse_trace_line(line);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->message, "\xff\x1b[31m  ");
}

TEST(TracePipe, RejectsOtherLines) {
  for (const char* l : {"", "hello", "second line of a message", "            bash-1234",
                        "            bash-1234    [003] d..31  notastamp: x",
                        "            bash-1234    [003] d..31  5678.1: ",
                        "            bash-x    [003] 5678.1: bpf_trace_printk: x",
                        "            bash-1234    [3 d..31 1.0: bpf_trace_printk: x",
                        "            bash-1234 [003]   1.: bpf_trace_printk: x",
                        "a-much-longer-name-than-15-1 [000] 1.0: bpf_trace_printk: x"})
    EXPECT_FALSE(parse_trace_line(l)) << l;
}

// What a joiner handed out: records as "pid comm event|message", stray lines.
struct Joined {
  std::vector<std::string> records, stray;
  TraceRecordJoiner joiner{
      [this](const TraceLine& t) {
        records.push_back(std::to_string(t.pid) + " " + std::string(t.comm) + " " +
                          std::string(t.event) + "|" + std::string(t.message));
      },
      [this](std::string_view l) { stray.emplace_back(l); }};
};

TEST(TraceRecordJoiner, LinesAfterAnEmbeddedNewlineStayInTheMessage) {
  Joined j;
  j.joiner.line("   cat-7  [001] d..31  5.000001: bpf_trace_printk: open /tmp/a");
  j.joiner.line("b: still the same path");  // no record header: the rest of the message
  j.joiner.line("");
  j.joiner.line("  sshd-1 ");  // not a header either
  j.joiner.line("   cat-7  [001] d..31  5.000002: bpf_trace_printk: next");
  j.joiner.flush();
  ASSERT_EQ(j.records.size(), 2u);
  EXPECT_EQ(j.records[0],
            "7 cat bpf_trace_printk|open /tmp/a\nb: still the same path\n\n  sshd-1 ");
  EXPECT_EQ(j.records[1], "7 cat bpf_trace_printk|next");
  EXPECT_TRUE(j.stray.empty());
}

TEST(TraceRecordJoiner, FlushEndsARecordAndStrayLinesComeFirst) {
  Joined j;
  j.joiner.line("no header yet");
  j.joiner.line("   cat-7  [001] d..31  5.000001: bpf_trace_printk: one");
  EXPECT_TRUE(j.records.empty());  // it may still continue
  j.joiner.flush();
  j.joiner.flush();
  EXPECT_EQ(j.records, std::vector<std::string>{"7 cat bpf_trace_printk|one"});
  EXPECT_EQ(j.stray, std::vector<std::string>{"no header yet"});
  // An event line without ": message".
  j.joiner.line("   cat-7  [001] d..31  5.000003: sched_switch");
  j.joiner.line("more");
  j.joiner.flush();
  EXPECT_EQ(j.records.back(), "7 cat sched_switch|\nmore");
}

}  // namespace
}  // namespace snoopkit
