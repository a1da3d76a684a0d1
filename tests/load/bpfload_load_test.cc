// Load tests for bpfload's object loader (src/bpfload/object_file.h) on the test
// objects in tests/bpfload: open, load (verifier), attach by section name,
// a rejection that names the program and the instruction, and nothing left
// in the kernel once the ObjectFile is gone.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "load_support.h"
#include "bpfload/object_file.h"
#include "core/tracefs.h"
#include "bpfload/verifier_log.h"

namespace snoopkit {
namespace {

using load::Ids;

std::string object(const char* name) {
  return std::string(SNOOPKIT_BPFLOAD_TEST_DIR) + "/" + name + ".bpf.o";
}

Ids prog_ids(const ObjectFile& obj) {
  Ids ids;
  for (const ProgramInfo& p : obj.programs()) {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    int fd = bpf_program__fd(p.prog);
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.insert(info.id);
  }
  return ids;
}

const ProgramInfo& program(const std::vector<ProgramInfo>& progs, const std::string& name) {
  for (const ProgramInfo& p : progs)
    if (p.name == name) return p;
  throw std::runtime_error("no program " + name);
}

class BpfloadLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) SKIP_OR_FAIL("load tests need root (CAP_BPF + CAP_PERFMON)");
    if (access(object("bpfload_test").c_str(), R_OK) != 0)
      SKIP_OR_FAIL("no test objects in " SNOOPKIT_BPFLOAD_TEST_DIR
                   " (target bpfload_test_objects)");
    try {
      ensure_tracefs();
    } catch (const Error& e) {
      SKIP_OR_FAIL(std::string("tracefs unavailable: ") + e.what());
    }
  }
};

TEST_F(BpfloadLoadTest, LoadsAttachesAndReleases) {
  Ids ids;
  {
    ObjectFile obj = ObjectFile::open(object("bpfload_test"), "");
    auto before = obj.programs();
    ASSERT_EQ(before.size(), 2u);
    EXPECT_FALSE(obj.load());
    ids = prog_ids(obj);
    EXPECT_EQ(ids.size(), 2u);
    auto progs = obj.programs();
    EXPECT_TRUE(calls_printk(program(progs, "on_execve").prog));
    EXPECT_FALSE(calls_printk(program(progs, "on_exec_done").prog));
    for (const ProgramInfo& p : progs) EXPECT_EQ(obj.attach(p.prog), 0) << p.name;
    EXPECT_EQ(obj.links(), 2u);
    EXPECT_GE(load::live_progs(ids).size() + load::live_links(ids).size(),
              2u);  // two programs (and their links, from Linux 5.15)
  }
  load::expect_released(ids);
}

TEST_F(BpfloadLoadTest, RejectionNamesProgramAndInstruction) {
  ObjectFile obj = ObjectFile::open(object("rejected"), "");
  auto failure = obj.load();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->err, EACCES);
  EXPECT_EQ(failure->program, "out_of_bounds");
  EXPECT_EQ(failure->section, "tracepoint/syscalls/sys_enter_execve");
  VerifierVerdict v = verifier_verdict(log_lines(failure->log));
  EXPECT_NE(v.code.find("(r0 +64)"), std::string_view::npos) << failure->log;
  EXPECT_NE(v.complaint.find("invalid access to map value"), std::string_view::npos)
      << failure->log;
  // libbpf unloads everything on failure.
  for (const ProgramInfo& p : obj.programs()) EXPECT_LT(bpf_program__fd(p.prog), 0) << p.name;
}

TEST_F(BpfloadLoadTest, SectionsLibbpfCannotAttach) {
  Ids ids;
  {
    ObjectFile obj = ObjectFile::open(object("mixed"), "");
    bpf_program__set_autoload(program(obj.programs(), "kp_unlinkat").prog, false);
    ASSERT_FALSE(obj.load());
    ids = prog_ids(obj);
    auto progs = obj.programs();
    EXPECT_EQ(obj.attach(program(progs, "sock_filter").prog), -EOPNOTSUPP);
    EXPECT_LT(obj.attach(program(progs, "missing_tp").prog), 0);
    EXPECT_EQ(obj.attach(program(progs, "good_tp").prog), 0);
    EXPECT_EQ(obj.links(), 1u);
  }
  load::expect_released(ids);
}

}  // namespace
}  // namespace snoopkit
