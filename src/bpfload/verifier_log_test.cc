#include "bpfload/verifier_log.h"

#include <string>

#include <gtest/gtest.h>

namespace snoopkit {
namespace {

// The end of a real rejection (Linux 6.18), register state and all.
constexpr std::string_view kLog =
    "func#0 @0\n"
    "0: R1=ctx() R10=fp0\n"
    "; __u32 key = 0; @ rejected.bpf.c:24\n"
    "0: (b7) r1 = 0                        ; R1_w=0\n"
    "1: (63) *(u32 *)(r10 -4) = r1         ; R1_w=0 R10=fp0 fp-8=0000????\n"
    "2: (bf) r2 = r10                      ; R2_w=fp0 R10=fp0\n"
    "3: (07) r2 += -4                      ; R2_w=fp-4\n"
    "; __u64 *v = bpf_map_lookup_elem(&values, &key); @ rejected.bpf.c:25\n"
    "4: (18) r1 = 0xffff888104e2e000       ; R1_w=map_ptr(map=values,ks=4,vs=8)\n"
    "6: (85) call bpf_map_lookup_elem#1    ; R0_w=map_value_or_null(id=1,map=values,ks=4,vs=8)\n"
    "7: (15) if r0 == 0x0 goto pc+1        ; R0_w=map_value(map=values,ks=4,vs=8)\n"
    "; return *(volatile __u64 *)((char *)v + 64); @ rejected.bpf.c:29\n"
    "8: (79) r0 = *(u64 *)(r0 +64)\n"
    "invalid access to map value, value_size=8 off=64 size=8\n"
    "R0 min value is outside of the allowed memory range\n"
    "processed 8 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
    "mark_read 0\n";

TEST(VerifierLog, Lines) {
  auto lines = log_lines(kLog);
  ASSERT_EQ(lines.size(), 16u);
  EXPECT_EQ(lines.front(), "func#0 @0");
  EXPECT_EQ(lines.back().substr(0, 10), "processed ");
  EXPECT_EQ(log_lines("a\n\nb").size(), 3u);
  EXPECT_EQ(log_lines("").size(), 0u);
  EXPECT_EQ(log_lines("a").size(), 1u);
}

TEST(VerifierLog, LastLines) {
  auto lines = log_lines(kLog);
  auto tail = last_lines(lines, 4);
  ASSERT_EQ(tail.size(), 4u);
  EXPECT_EQ(tail[0], "8: (79) r0 = *(u64 *)(r0 +64)");
  EXPECT_EQ(last_lines(lines, 100).size(), lines.size());
  EXPECT_TRUE(last_lines({}, 3).empty());
}

TEST(VerifierLog, Verdict) {
  VerifierVerdict v = verifier_verdict(log_lines(kLog));
  EXPECT_EQ(v.insn, "8: (79) r0 = *(u64 *)(r0 +64)");
  EXPECT_EQ(v.index, "8");
  EXPECT_EQ(v.code, "r0 = *(u64 *)(r0 +64)");
  EXPECT_EQ(v.complaint, "invalid access to map value, value_size=8 off=64 size=8");
}

TEST(VerifierLog, VerdictStripsRegisterState) {
  std::string log =
      "5: (85) call bpf_probe_read_kernel#113   ; R0=scalar()\n"
      "6: (b7) r2 = 16                        ; R2_w=16\n"
      "7: (85) call unknown#999999\n"
      "invalid func unknown#999999\n";
  VerifierVerdict v = verifier_verdict(log_lines(log));
  EXPECT_EQ(v.insn, "7: (85) call unknown#999999");
  EXPECT_EQ(v.code, "call unknown#999999");
  EXPECT_EQ(v.complaint, "invalid func unknown#999999");
}

TEST(VerifierLog, VerdictSkipsStateAndPathLines) {
  std::string log =
      "from 3 to 5: R0=scalar() R10=fp0\n"
      "5: (95) exit\n"
      "5: R0=scalar()\n"
      "At program exit the register R0 has unknown scalar value should have been in [0, 1]\n"
      "processed 6 insns\n";
  VerifierVerdict v = verifier_verdict(log_lines(log));
  EXPECT_EQ(v.insn, "5: (95) exit");
  EXPECT_EQ(v.complaint,
            "At program exit the register R0 has unknown scalar value should have been in [0, 1]");
}

TEST(VerifierLog, NoInstruction) {
  VerifierVerdict v = verifier_verdict(log_lines("unknown opcode 8d\nprocessed 0 insns\n"));
  EXPECT_EQ(v.insn, "");
  EXPECT_EQ(v.complaint, "unknown opcode 8d");
  v = verifier_verdict(log_lines("processed 0 insns\n"));
  EXPECT_EQ(v.insn, "");
  EXPECT_EQ(v.complaint, "");
  v = verifier_verdict({});
  EXPECT_EQ(v.complaint, "");
}

}  // namespace
}  // namespace snoopkit
