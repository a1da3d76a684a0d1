// format_bench: what snoopkit's user space spends per event to turn a
// kernel record into a line, without the kernel: an opensnoop-shaped record
// filled through the Record API and rendered as JSON and as text into a
// sink over /dev/null, the way the run loop does it. Prints ns per record.
//
//   build/bench/format_bench [records [json|text]]
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/output.h"
#include "core/record.h"
#include "core/sink.h"

using namespace snoopkit;

namespace {

struct Event {
  std::uint64_t ktime_ns;
  std::uint32_t pid, tid, uid;
  std::uint64_t cgroup_id;
  std::uint32_t vpid, vtid;
  std::uint64_t mntns, pidns;
  std::int32_t ret, dfd;
  std::uint64_t flags, mode;
  std::string_view comm, path;
};

void fill(Record& r, const Clock& clock, const Event& e) {
  r.set_type("open");
  clock.stamp(r, e.ktime_ns);
  r.add_uint("pid", e.pid);
  r.add_uint("tid", e.tid);
  r.add_uint("cgroup_id", e.cgroup_id);
  r.add_uint("vpid", e.vpid);
  r.add_uint("vtid", e.vtid);
  r.add_uint("mntns", e.mntns);
  r.add_uint("pidns", e.pidns);
  r.add_uint("uid", e.uid);
  r.add_bytes("comm", e.comm);
  r.add_raw("syscall", "openat");
  r.add_int("ret", e.ret);
  r.add_int("dfd", e.dfd);
  r.add_bytes("path", e.path);
  r.add_bool("path_truncated", false);
  r.add_uint("flags", e.flags);
  r.add_uint("mode", e.mode);
  r.add_text_only("FD", [&] { return std::to_string(e.ret); });
  r.add_text_only("ERR", [&] { return std::string("0"); });
}

double run(bool json, long n) {
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror("/dev/null");
    std::exit(1);
  }
  Sink sink(fd);
  Clock clock;
  std::vector<Column> cols = {{"PID", "pid", 6},        {"COMM", "comm", 16},
                              {"FD", "FD", 3, false},   {"ERR", "ERR", 3, false},
                              {"PATH", "path", 0}};
  std::vector<std::string_view> keys;
  for (const Column& c : cols) keys.push_back(c.key);
  std::unique_ptr<Writer> w;
  if (json)
    w = std::make_unique<JsonWriter>(sink);
  else
    w = std::make_unique<TextWriter>(sink, cols);
  Record r;
  r.render_only(json, keys);
  Event e{Clock::mono_now(), 48213, 48213, 0, 4242, 17, 17, 4026531832, 4026531836, 3, -100,
          0x80000, 0, "openloop", "/var/lib/snoopkit/bench/skb-open-target.txt"};
  const auto t0 = std::chrono::steady_clock::now();
  for (long k = 0; k < n; ++k) {
    e.ktime_ns += 1733;
    r.clear();
    fill(r, clock, e);
    w->write(r);
    sink.maybe_flush();
  }
  sink.flush();
  const auto t1 = std::chrono::steady_clock::now();
  close(fd);
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 2'000'000;
  if (n <= 0) {
    std::fprintf(stderr, "format_bench: records must be a positive number\n");
    return 2;
  }
  const std::string only = argc > 2 ? argv[2] : "";
  if (!only.empty() && only != "json" && only != "text") {
    std::fprintf(stderr, "format_bench: the output is json or text, not %s\n", only.c_str());
    return 2;
  }
  run(true, n / 10);  // warm up
  if (only != "text") std::printf("json %.1f ns/record\n", run(true, n));
  if (only != "json") std::printf("text %.1f ns/record\n", run(false, n));
  return 0;
}
