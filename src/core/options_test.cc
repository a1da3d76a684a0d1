#include "core/options.h"

#include <pwd.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace snoopkit {
namespace {

using ::testing::HasSubstr;

// Above PID_MAX_LIMIT (4194304), so no task can have it, yet within what
// parse_pid accepts as a number: only the "no such task" check rejects it.
constexpr const char* kDeadPid = "4194305";

TEST(ParsePid, AcceptsOwnPid) {
  EXPECT_EQ(parse_pid(std::to_string(getpid())), static_cast<std::uint32_t>(getpid()));
  EXPECT_EQ(parse_pid("1", "TID"), 1u);
}

TEST(ParsePid, RejectsMalformed) {
  for (const char* bad : {"abc", "12x", "", "-5", "0", "99999999999", " 1", "+1", "0x10"})
    EXPECT_THROW(parse_pid(bad), UsageError) << "'" << bad << "'";
}

TEST(ParsePid, RejectsDeadPid) {
  try {
    parse_pid(kDeadPid, "PPID");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no such PPID"));
    EXPECT_THAT(e.what(), HasSubstr(kDeadPid));
  }
}

TEST(ParseUid, NumbersAndNames) {
  EXPECT_EQ(parse_uid("0"), 0u);
  EXPECT_EQ(parse_uid("root"), 0u);
  const passwd* nobody = getpwnam("nobody");
  if (!nobody) GTEST_SKIP() << "no 'nobody' user in this system's passwd database";
  EXPECT_EQ(parse_uid("nobody"), nobody->pw_uid);
  EXPECT_EQ(parse_uid(std::to_string(nobody->pw_uid)), nobody->pw_uid);
}

// A container's UIDs are rarely in the host's passwd: a number is a UID.
TEST(ParseUid, NumberWithoutPasswdEntry) {
  ASSERT_EQ(getpwuid(4000000), nullptr) << "test assumes uid 4000000 has no passwd entry";
  EXPECT_EQ(parse_uid("4000000"), 4000000u);
  EXPECT_EQ(parse_uid("4294967294"), 4294967294u);
}

TEST(ParseUid, RejectsUnknownAndMalformed) {
  for (const char* bad :
       {"-1", "", "4294967295", "99999999999", "no-such-user-xyz", "0x10", " 5", "+5"})
    EXPECT_THROW(parse_uid(bad), UsageError) << "'" << bad << "'";
}

TEST(ParseBufferSize, RoundsUpToPowerOfTwo) {
  EXPECT_EQ(parse_buffer_size("4096"), 4096u);
  EXPECT_EQ(parse_buffer_size("5000"), 8192u);
  EXPECT_EQ(parse_buffer_size("1"), 4096u);  // never below one page
  EXPECT_EQ(parse_buffer_size("256K"), 256u << 10);
  EXPECT_EQ(parse_buffer_size("3k"), 4096u);
  EXPECT_EQ(parse_buffer_size("1M"), 1u << 20);
  EXPECT_EQ(parse_buffer_size("3MiB"), 4u << 20);
  EXPECT_EQ(parse_buffer_size("1G"), 1u << 30);
  EXPECT_EQ(parse_buffer_size("1073741824"), 1u << 30);
}

TEST(ParseBufferSize, RejectsBadSizes) {
  for (const char* bad : {"0", "0K", "2G", "1025M", "1073741825", "abc", "1X", "", "K", "-1M",
                          "1.5M", "18446744073709551616", "17179869184K"})
    EXPECT_THROW(parse_buffer_size(bad), UsageError) << "'" << bad << "'";
}

TEST(OpenCgroupV2, RejectsWhatIsNotACgroup2Directory) {
  EXPECT_THROW(open_cgroup_v2("/nonexistent/snoopkit-test"), UsageError);
  if (access("/etc/hostname", F_OK) == 0) {
    EXPECT_THROW(open_cgroup_v2("/etc/hostname"), UsageError);
  }
  try {
    open_cgroup_v2("/proc");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not a cgroup v2"));
  }
}

TEST(OpenCgroupV2, OpensACgroup2Directory) {
  std::string dir;
  for (const char* d : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct statfs st {};
    if (statfs(d, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) {
      dir = d;
      break;
    }
  }
  if (dir.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy mounted here";
  int fd = open_cgroup_v2(dir);
  EXPECT_GE(fd, 0);
  if (fd >= 0) close(fd);
}

TEST(Resolve, Defaults) {
  Resolved r = resolve(CommonOptions{});
  EXPECT_EQ(r.pid, 0u);
  EXPECT_EQ(r.tid, 0u);
  EXPECT_FALSE(r.uid.has_value());
  EXPECT_EQ(r.cgroup_fd, -1);
  EXPECT_EQ(r.comm, "");
  EXPECT_EQ(r.buffer_bytes, 1u << 20);
}

TEST(Resolve, ParsesFilters) {
  CommonOptions o;
  o.pid = std::to_string(getpid());
  o.tid = o.pid;
  o.uid = "root";
  o.comm = "123456789012345";  // exactly 15 bytes: the longest comm
  o.buffer_size = "64K";
  Resolved r = resolve(o);
  EXPECT_EQ(r.pid, static_cast<std::uint32_t>(getpid()));
  EXPECT_EQ(r.tid, r.pid);
  EXPECT_EQ(r.uid, 0u);
  EXPECT_EQ(r.comm, o.comm);
  EXPECT_EQ(r.buffer_bytes, 64u << 10);
}

TEST(Resolve, RejectsLongCommAndBadValues) {
  CommonOptions o;
  o.comm = "1234567890123456";
  EXPECT_THROW(resolve(o), UsageError);
  o = {};
  o.buffer_size = "2G";
  EXPECT_THROW(resolve(o), UsageError);
  o = {};
  o.cgroup = "/proc";
  EXPECT_THROW(resolve(o), UsageError);
}

// Parses args (without the program name) with the common options registered.
class Cli : public ::testing::Test {
 protected:
  void parse(std::vector<std::string> args, const FilterFlags& flags = {}) {
    add_common_options(app_, opts_, flags);
    std::vector<char*> argv{const_cast<char*>("tool")};
    for (auto& a : args) argv.push_back(a.data());
    app_.parse(static_cast<int>(argv.size()), argv.data());
  }
  CLI::App app_{"test"};
  CommonOptions opts_;
};

TEST_F(Cli, Defaults) {
  parse({});
  EXPECT_FALSE(opts_.json);
  EXPECT_EQ(opts_.duration_s, 0);
  EXPECT_EQ(opts_.verbosity, 0);
  EXPECT_EQ(opts_.latency_ms, 50u);
  EXPECT_EQ(opts_.buffer_size, "1M");
  EXPECT_FALSE(opts_.perf_buffer);
}

TEST_F(Cli, CommonOptions) {
  parse({"-j", "-d", "5", "--latency", "200", "--buffer-size", "4M", "--perf-buffer", "--btf",
         "/tmp/x.btf"});
  EXPECT_TRUE(opts_.json);
  EXPECT_EQ(opts_.duration_s, 5);
  EXPECT_EQ(opts_.latency_ms, 200u);
  EXPECT_EQ(opts_.buffer_size, "4M");
  EXPECT_TRUE(opts_.perf_buffer);
  EXPECT_EQ(opts_.btf_path, "/tmp/x.btf");
}

TEST_F(Cli, VerbosityCounts) {
  parse({"-vv"});
  EXPECT_EQ(opts_.verbosity, 2);
}

TEST_F(Cli, SeparateVerboseFlagsCount) {
  parse({"-v", "--verbose"});
  EXPECT_EQ(opts_.verbosity, 2);
}

TEST_F(Cli, LatencyOutOfRange) {
  EXPECT_THROW(parse({"--latency", "0"}), CLI::ValidationError);
}

// One rule for every number: decimal digits only, never empty.
TEST_F(Cli, NumbersAreDecimalOnly) {
  for (const char* bad : {"0x10", " 1", "1 ", "+5", "-0", "", "1e3", "\t7"}) {
    for (const char* opt : {"--latency", "-d"}) {
      CLI::App app{"test"};
      CommonOptions o;
      add_common_options(app, o, {});
      std::vector<std::string> args{"tool", opt, bad};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      EXPECT_THROW(app.parse(static_cast<int>(argv.size()), argv.data()), CLI::ParseError)
          << opt << " '" << bad << "'";
    }
  }
}

TEST_F(Cli, LeadingZerosAreDecimal) {
  parse({"--latency", "010", "-d", "0.50"});
  EXPECT_EQ(opts_.latency_ms, 10u);  // CLI11 alone would read octal 8
  EXPECT_EQ(opts_.duration_s, 0.5);
}

TEST(ParseDecimal, Rule) {
  EXPECT_EQ(parse_decimal("0"), 0u);
  EXPECT_EQ(parse_decimal("007"), 7u);
  EXPECT_EQ(parse_decimal("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "0x1", " 1", "1 ", "+1", "-1", "1.0", "18446744073709551616"})
    EXPECT_FALSE(parse_decimal(bad).has_value()) << "'" << bad << "'";
}

TEST(WholeNumber, RangeAndCanonicalForm) {
  CLI::Validator v = whole_number(1, 60);
  std::string s = "060";
  EXPECT_EQ(v(s), "");
  EXPECT_EQ(s, "60");
  for (std::string bad : {"0", "61", "0x3c", "", " 5"}) EXPECT_NE(v(bad), "") << "'" << bad << "'";
}

TEST_F(Cli, LatencyTooLarge) {
  EXPECT_THROW(parse({"--latency", "20000"}), CLI::ValidationError);
}

TEST_F(Cli, DurationMustBePositive) {
  EXPECT_THROW(parse({"-d", "0"}), CLI::ValidationError);
}

TEST_F(Cli, FiltersAbsentUnlessOffered) {
  EXPECT_THROW(parse({"-p", "1"}), CLI::ParseError);
}

TEST_F(Cli, FiltersRegisteredWithToolFlags) {
  parse({"-p", "12", "-t", "13", "-u", "root", "-c", "/sys/fs/cgroup", "-n", "bash"},
        {.pid = "-p,--pid",
         .tid = "-t,--tid",
         .uid = "-u,--uid",
         .cgroup = "-c,--cgroup",
         .comm = "-n,--name"});
  EXPECT_EQ(opts_.pid, "12");
  EXPECT_EQ(opts_.tid, "13");
  EXPECT_EQ(opts_.uid, "root");
  EXPECT_EQ(opts_.cgroup, "/sys/fs/cgroup");
  EXPECT_EQ(opts_.comm, "bash");
}

TEST(ParseContainer, AcceptsIdPrefixesAndNames) {
  EXPECT_EQ(parse_container("3f2a"), "3f2a");
  EXPECT_EQ(parse_container("web-1.prod_x"), "web-1.prod_x");
  EXPECT_EQ(parse_container(std::string(255, 'a')), std::string(255, 'a'));
}

TEST(ParseContainer, RejectsEmptyLongAndControlBytes) {
  for (const std::string& bad : {std::string(), std::string(256, 'a'), std::string("a\nb"),
                                std::string("\x1b[2J"), std::string("a\x7f")})
    EXPECT_THROW(parse_container(bad), UsageError) << bad.size();
}

TEST(Resolve, ChecksContainer) {
  CommonOptions o;
  EXPECT_EQ(resolve(o).container, "");
  o.container = "abc";
  EXPECT_EQ(resolve(o).container, "abc");
  o.container = "a\tb";
  EXPECT_THROW(resolve(o), UsageError);
}

TEST_F(Cli, ContainerOptionsOnlyForTaskTools) {
  EXPECT_THROW(parse({"--container", "abc"}), CLI::ParseError);
}

TEST_F(Cli, ContainerOptionsRegistered) {
  parse({"--container", "abc", "--show-container"}, {.container = true});
  EXPECT_EQ(opts_.container, "abc");
  EXPECT_TRUE(opts_.show_container);
}

TEST_F(Cli, ContainerMustNotBeEmpty) {
  EXPECT_THROW(parse({"--container", ""}, {.container = true}), CLI::ValidationError);
}

TEST_F(Cli, OnlyNamedFiltersRegistered) {
  EXPECT_THROW(parse({"--tid", "1"}, {.pid = "-p,--pid"}), CLI::ParseError);
}

}  // namespace
}  // namespace snoopkit
