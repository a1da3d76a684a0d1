#include "family/kill_record.h"

#include <cstring>

#include <gtest/gtest.h>

#include "core/output.h"
#include "core/sink.h"

namespace snoopkit {
namespace {

static_assert(sizeof(killsnoop_event) == 40 + sizeof(sk_task_ctx) + SK_TASK_COMM_LEN);

killsnoop_event event(std::uint32_t syscall, int tpid, int ttid, int sig, int ret) {
  killsnoop_event e{};
  e.ktime_ns = 5;
  e.pid = 100;
  e.tid = 101;
  e.uid = 1000;
  e.tpid = tpid;
  e.ttid = ttid;
  e.sig = sig;
  e.ret = ret;
  e.syscall = syscall;
  std::memcpy(e.comm, "sender", 7);
  return e;
}

std::string json(const killsnoop_event& e) {
  Record r;
  r.set_type("kill");
  add_kill_fields(r, e, false);
  Sink sink(-1);
  JsonWriter(sink).write(r);
  return sink.buffer();
}

std::string text(const killsnoop_event& e, bool names) {
  Record r;
  add_kill_fields(r, e, names);
  Sink sink(-1);
  TextWriter(sink, {{"SIG", "SIG", 0}, {"TPID", "TPID", 0}, {"RESULT", "RESULT", 0}}).write(r);
  return sink.buffer();
}

TEST(KillRecord, KillToAProcessGroup) {
  auto e = event(KILLSNOOP_SYS_KILL, -42, 0, 15, -3);
  EXPECT_EQ(json(e),
            R"({"type":"kill","pid":100,"tid":101,"uid":1000,"comm":"sender","syscall":"kill",)"
            R"("tpid":-42,"ttid":0,"sig":15,"signal":"SIGTERM","ret":-3})"
            "\n");
  EXPECT_EQ(text(e, false), "15 -42 -3\n");
  EXPECT_EQ(text(e, true), "SIGTERM -42 -3\n");
}

TEST(KillRecord, ThreadTargetsShowTheThread) {
  auto e = event(KILLSNOOP_SYS_TGKILL, 7, 9, 10, 0);
  EXPECT_NE(json(e).find(R"("syscall":"tgkill","tpid":7,"ttid":9,"sig":10,"signal":"SIGUSR1")"),
            std::string::npos);
  EXPECT_EQ(text(e, true), "SIGUSR1 9 0\n");
  e = event(KILLSNOOP_SYS_TKILL, 0, 9, 0, 0);
  EXPECT_NE(json(e).find(R"("syscall":"tkill","tpid":0,"ttid":9,"sig":0,"signal":"")"),
            std::string::npos);
  EXPECT_EQ(text(e, true), "0 9 0\n");
}

TEST(KillRecord, InvalidSignalsKeepTheirNumber) {
  auto e = event(KILLSNOOP_SYS_KILL, 1, 0, 1000, -22);
  EXPECT_NE(json(e).find(R"("sig":1000,"signal":"","ret":-22)"), std::string::npos);
  EXPECT_EQ(text(e, true), "1000 1 -22\n");
  EXPECT_EQ(signal_text(34, true), "SIG34");
  EXPECT_EQ(signal_text(34, false), "34");
}

}  // namespace
}  // namespace snoopkit
