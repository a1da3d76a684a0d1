#include "core/hooks.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/feature_probe.h"
#include "core/temp_dir_test_util.h"

namespace snoopkit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A kernel described by sets and flags, counting every question asked.
class FakeProbe : public FeatureProbe {
 public:
  std::set<std::string> tracepoints;  // "category:name"
  bool ringbuf = true, raw_tp = false, fentry_ok = false, kprobe_ok = false, btf = true;
  std::map<std::string, int> tp_calls;
  int fentry_calls = 0;

  bool ring_buffer() override { return ringbuf; }
  bool tracepoint(std::string_view category, std::string_view name) override {
    std::string key = std::string(category) + ":" + std::string(name);
    ++tp_calls[key];
    return tracepoints.count(key) != 0;
  }
  bool raw_tracepoint() override { return raw_tp; }
  bool fentry() override {
    ++fentry_calls;
    return fentry_ok;
  }
  bool kprobes() override { return kprobe_ok; }
  bool kernel_btf() override { return btf; }
  bool syscall_context(std::string_view name) override {
    return bad_layout.count(std::string(name)) == 0;
  }
  std::set<std::string> bad_layout;  // syscall tracepoints whose format differs
};

Requirement tp(const char* name) {
  return Requirement::tracepoint("syscalls", name);
}

// openat: fentry first, then the two syscall tracepoints, then a kprobe.
HookPoint openat_point(bool required = true) {
  return {"openat",
          {{"fentry", {Requirement::fentry()}, {}},
           {"tracepoint", {tp("sys_enter_openat"), tp("sys_exit_openat")}, {}},
           {"kprobe", {Requirement::kprobe()}, {}}},
          required};
}

TEST(ChooseHooks, PrefersFentryWhenAvailable) {
  FakeProbe probe;
  probe.fentry_ok = true;
  probe.tracepoints = {"syscalls:sys_enter_openat", "syscalls:sys_exit_openat"};
  EXPECT_EQ(choose_hooks(probe, {openat_point()}), std::vector<int>{0});
  // The first satisfied alternative wins: later ones are never probed.
  EXPECT_TRUE(probe.tp_calls.empty());
}

TEST(ChooseHooks, FallsBackToTracepoint) {
  FakeProbe probe;
  probe.tracepoints = {"syscalls:sys_enter_openat", "syscalls:sys_exit_openat"};
  probe.kprobe_ok = true;
  EXPECT_EQ(choose_hooks(probe, {openat_point()}), std::vector<int>{1});
  EXPECT_GE(probe.fentry_calls, 1);
  EXPECT_GE(probe.tp_calls["syscalls:sys_enter_openat"], 1);
  EXPECT_GE(probe.tp_calls["syscalls:sys_exit_openat"], 1);
}

TEST(ChooseHooks, FentryNeedsKernelBtf) {
  FakeProbe probe;
  probe.fentry_ok = true;
  probe.btf = false;
  probe.kprobe_ok = true;
  EXPECT_EQ(choose_hooks(probe, {openat_point()}), std::vector<int>{2});
}

TEST(ChooseHooks, EveryTracepointIsAsked) {
  FakeProbe probe;
  probe.tracepoints = {"syscalls:sys_enter_openat", "syscalls:sys_exit_openat",
                       "syscalls:sys_enter_open", "syscalls:sys_exit_open"};
  HookPoint open{"open", {{"tracepoint", {tp("sys_enter_open"), tp("sys_exit_open")}, {}}}};
  EXPECT_EQ(choose_hooks(probe, {openat_point(), open}), (std::vector<int>{1, 0}));
  for (const char* key : {"syscalls:sys_enter_openat", "syscalls:sys_exit_openat",
                          "syscalls:sys_enter_open", "syscalls:sys_exit_open"})
    EXPECT_GE(probe.tp_calls[key], 1) << key;
  EXPECT_EQ(probe.tp_calls.size(), 4u);
}

TEST(ChooseHooks, HalfAPairIsNotEnough) {
  FakeProbe probe;
  probe.tracepoints = {"syscalls:sys_enter_openat"};
  EXPECT_EQ(choose_hooks(probe, {openat_point(false)}), std::vector<int>{-1});
}

TEST(ChooseHooks, OptionalPointWithNothingAvailable) {
  FakeProbe probe;
  std::vector<int> chosen;
  EXPECT_NO_THROW(chosen = choose_hooks(probe, {openat_point(/*required=*/false)}));
  EXPECT_EQ(chosen, std::vector<int>{-1});
}

TEST(ChooseHooks, RequiredPointWithNothingAvailableThrows) {
  FakeProbe probe;
  probe.tracepoints = {"syscalls:sys_exit_openat"};
  try {
    choose_hooks(probe, {openat_point()});
    FAIL() << "no exception";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("openat"));
    EXPECT_THAT(msg, HasSubstr("fentry"));
    EXPECT_THAT(msg, HasSubstr("tracepoint syscalls:sys_enter_openat"));
    EXPECT_THAT(msg, Not(HasSubstr("sys_exit_openat")));  // that one exists
    EXPECT_THAT(msg, HasSubstr("kprobes"));
    EXPECT_EQ(e.err(), 0);
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(ChooseHooks, LaterRequiredPointStillThrows) {
  FakeProbe probe;
  probe.raw_tp = true;
  HookPoint a{"a", {{"raw_tp", {Requirement::raw_tracepoint()}, {}}}};
  HookPoint b{"b", {{"tracepoint", {tp("sys_enter_b")}, {}}}};
  EXPECT_THROW(choose_hooks(probe, {a, b}), Error);
  b.required = false;
  EXPECT_EQ(choose_hooks(probe, {a, b}), (std::vector<int>{0, -1}));
}

// kAtLeastOne: every point optional, but a tool that can hook none of them
// stops with the names of all of them; one supported point is enough.
TEST(ChooseHooks, AtLeastOneOfOptionalPoints) {
  FakeProbe probe;
  HookPoint a{"newstat", {{"tracepoint", {tp("sys_enter_newstat")}, {}}}, false};
  HookPoint b{"statx", {{"tracepoint", {tp("sys_enter_statx")}, {}}}, false};
  EXPECT_EQ(choose_hooks(probe, {a, b}), (std::vector<int>{-1, -1}));
  try {
    choose_hooks(probe, {a, b}, HookNeed::kAtLeastOne);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot trace any of newstat, statx"));
    EXPECT_THAT(e.what(), HasSubstr("tracepoint syscalls:sys_enter_newstat"));
    EXPECT_FALSE(e.hint().empty());
  }
  probe.tracepoints = {"syscalls:sys_enter_statx"};
  EXPECT_EQ(choose_hooks(probe, {a, b}, HookNeed::kAtLeastOne), (std::vector<int>{-1, 0}));
}

// A syscall tracepoint that exists but whose context is not the layout the
// programs read is not a usable hook: the point falls to the next
// alternative, or the tool stops with the reason.
TEST(ChooseHooks, SyscallTracepointWithAnotherLayoutIsNotUsed) {
  FakeProbe probe;
  probe.tracepoints = {"syscalls:sys_enter_openat", "syscalls:sys_exit_openat"};
  probe.bad_layout = {"sys_exit_openat"};
  HookPoint point{"openat", {{"tracepoint", {tp("sys_enter_openat"), tp("sys_exit_openat")}, {}}}};
  try {
    choose_hooks(probe, {point});
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                ::testing::HasSubstr("sys_exit_openat (in the standard syscall context layout)"));
  }
  probe.bad_layout.clear();
  EXPECT_EQ(choose_hooks(probe, {point}), std::vector<int>{0});
  // Only syscall tracepoints are held to that layout.
  probe.tracepoints.insert("sched:sched_process_exec");
  probe.bad_layout = {"sched_process_exec"};
  HookPoint sched{"exec",
                  {{"tracepoint", {Requirement::tracepoint("sched", "sched_process_exec")}, {}}}};
  EXPECT_EQ(choose_hooks(probe, {sched}), std::vector<int>{0});
}

TEST(SyscallContext, MatchesTheKernelsFormatFiles) {
  // As 6.18 prints them (tabs between the parts of a field line).
  const char* enter =
      "name: sys_enter_openat\nID: 782\nformat:\n"
      "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
      "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
      "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
      "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
      "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
      "\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
      "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
      "\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
      "\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n\n"
      "print fmt: \"dfd: 0x%08lx\", ((unsigned long)(REC->dfd))\n";
  const char* exit =
      "name: sys_exit_openat\nID: 781\nformat:\n"
      "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
      "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
      "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
      "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n"
      "print fmt: \"0x%lx\", REC->ret\n";
  const char* no_args =
      "name: sys_enter_sync\nformat:\n"
      "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n";
  EXPECT_TRUE(syscall_context_matches("sys_enter_openat", enter));
  EXPECT_TRUE(syscall_context_matches("sys_exit_openat", exit));
  EXPECT_TRUE(syscall_context_matches("sys_enter_sync", no_args));
  // The name says which layout applies.
  EXPECT_FALSE(syscall_context_matches("sys_exit_openat", enter));
  EXPECT_FALSE(syscall_context_matches("sched_process_exec", exit));
  auto edit = [](std::string s, const std::string& from, const std::string& to) {
    return s.replace(s.find(from), from.size(), to);
  };
  // Anything moved, resized or missing is a mismatch.
  EXPECT_FALSE(syscall_context_matches("sys_enter_openat", edit(enter, "offset:24", "offset:20")));
  EXPECT_FALSE(syscall_context_matches("sys_enter_openat",
                                       edit(enter, "offset:32;\tsize:8", "offset:32;\tsize:4")));
  EXPECT_FALSE(syscall_context_matches("sys_exit_openat", edit(exit, "offset:16", "offset:24")));
  EXPECT_FALSE(syscall_context_matches("sys_exit_openat",
                                       edit(exit, "field:long ret", "field:long retval")));
  EXPECT_FALSE(syscall_context_matches(
      "sys_exit_openat", edit(exit, "__syscall_nr;\toffset:8", "__syscall_nr;\toffset:12")));
  EXPECT_FALSE(syscall_context_matches("sys_exit_openat", ""));
  EXPECT_FALSE(syscall_context_matches("sys_enter_openat", "garbage\nfield:\n"));
}

TEST(Satisfied, EmptyNeedsAlwaysHold) {
  FakeProbe probe;
  EXPECT_TRUE(satisfied(probe, {}));
  EXPECT_FALSE(satisfied(probe, {Requirement::kprobe()}));
  probe.kprobe_ok = true;
  EXPECT_TRUE(satisfied(probe, {Requirement::kprobe()}));
}

TEST(DescribeChoice, NamesEachPointAndLabel) {
  HookPoint open{"open", {{"tracepoint", {}, {}}}, false};
  EXPECT_EQ(describe_choice({openat_point(), open}, {1, -1}), "openat=tracepoint open=none");
  EXPECT_EQ(describe_choice({openat_point()}, {0}), "openat=fentry");
  EXPECT_EQ(describe_choice({}, {}), "");
}

TEST(ApplyHookChoice, IgnoresNullPrograms) {
  // Real programs need an opened object: see tests/load/load_test.cc.
  EXPECT_NO_THROW(apply_hook_choice({openat_point()}, {1}));
}

// A fake tracefs: <tmp>/events/<category>/<name>/id.
class KernelFeaturesTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    root_ = dir_;
  }
  std::filesystem::path add_event(const std::string& cat, const std::string& name) {
    auto dir = root_ / "events" / cat / name;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "id") << "123\n";
    return dir / "id";
  }
  std::filesystem::path root_;
};

TEST_F(KernelFeaturesTest, TracepointFromTracefs) {
  add_event("syscalls", "sys_enter_openat");
  KernelFeatures kf(root_.string());
  EXPECT_TRUE(kf.tracepoint("syscalls", "sys_enter_openat"));
  EXPECT_FALSE(kf.tracepoint("syscalls", "sys_enter_open"));
  EXPECT_FALSE(kf.tracepoint("sched", "sys_enter_openat"));
}

TEST_F(KernelFeaturesTest, AnswersAreCached) {
  auto id = add_event("syscalls", "sys_enter_openat");
  KernelFeatures kf(root_.string());
  EXPECT_TRUE(kf.tracepoint("syscalls", "sys_enter_openat"));
  EXPECT_FALSE(kf.tracepoint("syscalls", "sys_enter_open"));
  std::filesystem::remove(id);
  add_event("syscalls", "sys_enter_open");
  EXPECT_TRUE(kf.tracepoint("syscalls", "sys_enter_openat"));
  EXPECT_FALSE(kf.tracepoint("syscalls", "sys_enter_open"));
  // A fresh object sees the new state.
  KernelFeatures fresh(root_.string());
  EXPECT_FALSE(fresh.tracepoint("syscalls", "sys_enter_openat"));
  EXPECT_TRUE(fresh.tracepoint("syscalls", "sys_enter_open"));
}

TEST_F(KernelFeaturesTest, SyscallContextReadFromTheFormatFileOncePerKind) {
  auto id = add_event("syscalls", "sys_exit_openat");
  std::ofstream(id.parent_path() / "format")
      << "format:\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
         "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n";
  auto bad = add_event("syscalls", "sys_enter_openat");
  std::ofstream(bad.parent_path() / "format")
      << "format:\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
         "\tfield:int dfd;\toffset:12;\tsize:4;\tsigned:0;\n";
  KernelFeatures kf(root_.string());
  EXPECT_TRUE(kf.syscall_context("sys_exit_openat"));
  EXPECT_FALSE(kf.syscall_context("sys_enter_openat"));
  // One template makes every syscall tracepoint: the first answer of each
  // kind stands (no file read per syscall).
  EXPECT_TRUE(kf.syscall_context("sys_exit_close"));
  EXPECT_FALSE(kf.syscall_context("sys_enter_close"));
  // No format file: not the layout.
  KernelFeatures empty((root_ / "nonexistent").string());
  EXPECT_FALSE(empty.syscall_context("sys_exit_openat"));
}

TEST_F(KernelFeaturesTest, MissingTracefs) {
  KernelFeatures kf((root_ / "nonexistent").string());
  EXPECT_FALSE(kf.tracepoint("syscalls", "sys_enter_openat"));
}

}  // namespace
}  // namespace snoopkit
