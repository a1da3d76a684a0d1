#include "hooks.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "error.h"
#include "feature_probe.h"

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
class KernelFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/snoopkit-tracefs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
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

TEST_F(KernelFeaturesTest, MissingTracefs) {
  KernelFeatures kf((root_ / "nonexistent").string());
  EXPECT_FALSE(kf.tracepoint("syscalls", "sys_enter_openat"));
}

}  // namespace
}  // namespace snoopkit
