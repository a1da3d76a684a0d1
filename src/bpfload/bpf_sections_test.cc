#include "bpfload/bpf_sections.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/feature_probe.h"

namespace snoopkit {
namespace {

using Kind = SectionAttach::Kind;

class FakeKernel : public FeatureProbe {
 public:
  std::set<std::string> tracepoints;  // "category:name"
  bool raw_tp = true, fentry_ok = false, kprobe_ok = false;
  bool ring_buffer() override { return true; }
  bool tracepoint(std::string_view category, std::string_view name) override {
    return tracepoints.count(std::string(category) + ":" + std::string(name)) != 0;
  }
  bool raw_tracepoint() override { return raw_tp; }
  bool fentry() override { return fentry_ok; }
  bool kprobes() override { return kprobe_ok; }
  bool kernel_btf() override { return true; }
};

TEST(BpfSections, Tracepoints) {
  for (const char* sec : {"tracepoint/syscalls/sys_enter_execve", "tp/syscalls/sys_enter_execve"}) {
    SectionAttach a = classify_section(sec);
    EXPECT_EQ(a.kind, Kind::kTracepoint) << sec;
    EXPECT_EQ(a.label, "tracepoint");
    EXPECT_EQ(a.target, "syscalls:sys_enter_execve");
    ASSERT_TRUE(a.needs);
    EXPECT_EQ(a.needs->kind, Requirement::Kind::kTracepoint);
    EXPECT_EQ(a.needs->category, "syscalls");
    EXPECT_EQ(a.needs->name, "sys_enter_execve");
    EXPECT_EQ(describe_attach(a), "tracepoint syscalls:sys_enter_execve");
  }
}

TEST(BpfSections, TracepointWithoutBothPartsIsManual) {
  for (const char* sec :
       {"tracepoint", "tracepoint/", "tracepoint/syscalls", "tp/syscalls/", "tracepoint//x"}) {
    EXPECT_EQ(classify_section(sec).kind, Kind::kManual) << sec;
    EXPECT_EQ(describe_attach(classify_section(sec)), "not auto-attached") << sec;
  }
}

TEST(BpfSections, OtherKinds) {
  struct Case {
    const char* sec;
    Kind kind;
    const char* label;
    const char* target;
  };
  for (const Case& c : {
           Case{"raw_tp/sched_process_exec", Kind::kRawTracepoint, "raw_tp", "sched_process_exec"},
           Case{"raw_tracepoint/sched_switch", Kind::kRawTracepoint, "raw_tp", "sched_switch"},
           Case{"raw_tp.w/bpf_test_finish", Kind::kRawTracepoint, "raw_tp", "bpf_test_finish"},
           Case{"tp_btf/sched_switch", Kind::kBtfTracepoint, "tp_btf", "sched_switch"},
           Case{"kprobe/do_unlinkat", Kind::kKprobe, "kprobe", "do_unlinkat"},
           Case{"kretprobe/do_unlinkat", Kind::kKprobe, "kretprobe", "do_unlinkat"},
           Case{"ksyscall/execve", Kind::kKprobe, "ksyscall", "execve"},
           Case{"kprobe.multi/vfs_*", Kind::kKprobe, "kprobe.multi", "vfs_*"},
           Case{"uprobe//bin/bash:readline", Kind::kUprobe, "uprobe", "/bin/bash:readline"},
           Case{"fentry/do_unlinkat", Kind::kTrampoline, "fentry", "do_unlinkat"},
           Case{"fexit.s/vfs_read", Kind::kTrampoline, "fexit", "vfs_read"},
           Case{"lsm/file_open", Kind::kTrampoline, "lsm", "file_open"},
           Case{"iter/task", Kind::kIterator, "iter", "task"},
       }) {
    SectionAttach a = classify_section(c.sec);
    EXPECT_EQ(a.kind, c.kind) << c.sec;
    EXPECT_EQ(a.label, c.label) << c.sec;
    EXPECT_EQ(a.target, c.target) << c.sec;
  }
}

TEST(BpfSections, ManualKinds) {
  for (const char* sec : {"xdp", "tc", "socket", "cgroup_skb/ingress", "kprobe", "raw_tp",
                          "perf_event", "struct_ops/x", "freplace/f", "", "kprobes/x", "tpx/a/b"})
    EXPECT_EQ(classify_section(sec).kind, Kind::kManual) << sec;
}

TEST(BpfSections, UnsupportedReasons) {
  FakeKernel k;
  k.tracepoints = {"syscalls:sys_enter_execve"};
  EXPECT_EQ(unsupported_reason(k, classify_section("tracepoint/syscalls/sys_enter_execve")), "");
  EXPECT_EQ(unsupported_reason(k, classify_section("tp/syscalls/sys_enter_nope")),
            "this kernel has no tracepoint syscalls:sys_enter_nope");
  EXPECT_NE(unsupported_reason(k, classify_section("kprobe/do_unlinkat")).find("no kprobes"),
            std::string::npos);
  EXPECT_NE(unsupported_reason(k, classify_section("fentry/do_unlinkat")).find("fentry"),
            std::string::npos);
  EXPECT_EQ(unsupported_reason(k, classify_section("raw_tp/sched_switch")), "");
  // Kinds no probe can judge before trying are never "unsupported" here.
  EXPECT_EQ(unsupported_reason(k, classify_section("uprobe//bin/sh:main")), "");
  EXPECT_EQ(unsupported_reason(k, classify_section("socket")), "");
  k.kprobe_ok = k.fentry_ok = true;
  k.raw_tp = false;
  EXPECT_EQ(unsupported_reason(k, classify_section("kprobe/do_unlinkat")), "");
  EXPECT_EQ(unsupported_reason(k, classify_section("lsm/file_open")), "");
  EXPECT_NE(unsupported_reason(k, classify_section("raw_tp/sched_switch")), "");
}

}  // namespace
}  // namespace snoopkit
