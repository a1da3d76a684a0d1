#pragma once
// What every load test needs: the skip-or-fail rule, the BPF preconditions,
// checks that the kernel let go of an object's programs, maps and links,
// and the one round trip every tool's skeleton takes (ToolLoadTest).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/feature_probe.h"
#include "core/hooks.h"
#include "core/skeleton.h"
#include "core/tracefs.h"

namespace snoopkit::load {

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Under CI, where the machine allows BPF, a skipped BPF test is a failure.
#define SKIP_OR_FAIL(why)                                                                      \
  do {                                                                                         \
    if (::snoopkit::load::in_ci()) FAIL() << (why) << " (CI=true: skipping a BPF test fails)"; \
    GTEST_SKIP() << (why);                                                                     \
  } while (0)

/// Why BPF load tests cannot run here ("" when they can); on success,
/// tracefs is mounted (privately if need be) and its root is in *tracefs.
inline std::string bpf_unavailable(std::string* tracefs = nullptr) {
  if (geteuid() != 0) return "load tests need root (CAP_BPF + CAP_PERFMON)";
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) != 1)
    return "this machine does not allow loading BPF tracepoint programs";
  try {
    std::string root = ensure_tracefs();
    if (tracefs) *tracefs = root;
  } catch (const Error& e) {
    return std::string("tracefs unavailable: ") + e.what();
  }
  return {};
}

using Ids = std::set<__u32>;

/// The kernel ids of the object's loaded programs (autoload off: none).
inline Ids prog_ids(bpf_object* obj) {
  Ids ids;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    int fd = bpf_program__fd(prog);
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.insert(info.id);
  }
  return ids;
}

/// The kernel ids of the object's created maps.
inline Ids map_ids(bpf_object* obj) {
  Ids ids;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    bpf_map_info info{};
    __u32 len = sizeof(info);
    int fd = bpf_map__fd(map);
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.insert(info.id);
  }
  return ids;
}

/// Which of these program ids the kernel still lists.
inline Ids live_progs(const Ids& progs) {
  Ids found;
  for (__u32 id = 0; bpf_prog_get_next_id(id, &id) == 0;)
    if (progs.count(id)) found.insert(id);
  return found;
}

/// Which of these map ids the kernel still lists.
inline Ids live_maps(const Ids& maps) {
  Ids found;
  for (__u32 id = 0; bpf_map_get_next_id(id, &id) == 0;)
    if (maps.count(id)) found.insert(id);
  return found;
}

/// Ids of the links that still hold one of these programs.
inline Ids live_links(const Ids& progs) {
  Ids found;
  for (__u32 id = 0; bpf_link_get_next_id(id, &id) == 0;) {
    int fd = bpf_link_get_fd_by_id(id);
    if (fd < 0) continue;  // released since listed
    bpf_link_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && progs.count(info.prog_id)) found.insert(id);
    close(fd);
  }
  return found;
}

/// Expects no program, map or link of these ids to be left. The last
/// reference may be dropped from deferred kernel work: it waits up to 2 s.
inline void expect_released(const Ids& progs, const Ids& maps = {}) {
  auto gone = [&] {
    return live_progs(progs).empty() && live_maps(maps).empty() && live_links(progs).empty();
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline && !gone())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(live_progs(progs), Ids{}) << "programs still loaded";
  EXPECT_EQ(live_maps(maps), Ids{}) << "maps still alive";
  EXPECT_EQ(live_links(progs), Ids{}) << "links still attached";
}

/// The links a tool's runtime attaches itself (hooks.h's TracepointLink,
/// from attach_links), destroyed on scope exit as the Session destroys them.
struct RuntimeLinks {
  std::vector<bpf_link*> links;
  RuntimeLinks() = default;
  RuntimeLinks(const RuntimeLinks&) = delete;
  RuntimeLinks& operator=(const RuntimeLinks&) = delete;
  ~RuntimeLinks() {
    for (bpf_link* l : links) bpf_link__destroy(l);
  }
};

inline __u32 prog_id_of_fd(int fd) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/// Checks that every loaded program is attached: by its skeleton (one link
/// in skel->links) or, for a program the runtime attaches itself, by at
/// least one of rt's links; that programs not loaded have no link; and that
/// every runtime link holds a program of this skeleton. Returns the number
/// of attachments (skeleton links + runtime links). Kernels before 5.15
/// attach perf events without a BPF link, whose program cannot be asked:
/// there only the skeleton's links are checked.
inline std::size_t expect_attached(const bpf_object_skeleton* s, const RuntimeLinks& rt) {
  std::multiset<__u32> runtime_progs;
  bool known = true;
  for (bpf_link* l : rt.links) {
    EXPECT_GE(bpf_link__fd(l), 0);
    bpf_link_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len) == 0)
      runtime_progs.insert(info.prog_id);
    else
      known = false;
  }
  std::size_t attached = rt.links.size(), matched = 0;
  for (int i = 0; i < s->prog_cnt; ++i) {
    bpf_program* prog = *s->progs[i].prog;
    bool loaded = bpf_program__autoload(prog);
    bool by_skeleton = loaded && bpf_program__autoattach(prog);
    std::size_t by_runtime = runtime_progs.count(prog_id_of_fd(bpf_program__fd(prog)));
    matched += loaded ? by_runtime : 0;
    EXPECT_EQ(*s->progs[i].link != nullptr, by_skeleton) << s->progs[i].name << ": skeleton link";
    if (known && loaded && !by_skeleton) {
      EXPECT_GT(by_runtime, 0u) << s->progs[i].name << ": loaded, attached by no one";
    }
    attached += *s->progs[i].link != nullptr;
  }
  if (known) {
    EXPECT_EQ(matched, rt.links.size()) << "runtime links to programs of another object";
  }
  return attached;
}

/// The k-th alternative of every point (its last where it has fewer).
inline std::vector<int> kth_alternative(const std::vector<HookPoint>& points, std::size_t k) {
  std::vector<int> chosen;
  for (const HookPoint& p : points)
    chosen.push_back(
        p.alternatives.empty() ? -1 : static_cast<int>(std::min(k, p.alternatives.size() - 1)));
  return chosen;
}

/// The programs the chosen alternatives name, each once.
inline std::set<bpf_program*> chosen_programs(const std::vector<HookPoint>& points,
                                              const std::vector<int>& chosen) {
  std::set<bpf_program*> progs;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (chosen[i] >= 0)
      for (bpf_program* p : points[i].alternatives[chosen[i]].programs) progs.insert(p);
  return progs;
}

/// A tool's hook points as the tool declares them (tools/<tool>_hooks.h,
/// or a family helper such as block_hook_points), and the rodata its
/// options set. Both run between open and load, as in the tool.
template <class Skel>
using Points = std::function<std::vector<HookPoint>(Skel*)>;
template <class Skel>
using Configure = std::function<void(Skel*)>;

/// Every alternative: round_trip's `alternative` for the runtime's choice.
inline constexpr int kRuntimeChoice = -1;

/// A fixture for BPF load tests: skips (fails under CI) where BPF cannot
/// load, and gives every skeleton the same round trip.
class ToolLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = bpf_unavailable(&tracefs_); !why.empty()) SKIP_OR_FAIL(why);
    features_ = std::make_unique<KernelFeatures>(tracefs_);
  }

  /// Opens Skel, sets the transport (perf: the perf buffer) and the
  /// rodata (configure), takes the tool's hook points and chooses among
  /// them as the runtime does, or takes the `alternative`-th of every point
  /// (see kth_alternative). Loads (verifier), checks that exactly the chosen
  /// programs loaded, attaches them (the skeleton's links and the runtime's)
  /// and checks each is attached, destroys the skeleton, and checks the
  /// kernel let go of every program, map and link. A forced alternative the
  /// kernel lacks is only verified, not attached; one that needs fentry,
  /// which does not even load without it, is left to the kernel-matrix VMs
  /// (a NOTE line says so). Without points, every program loads and attaches
  /// as the skeleton declares it. Returns how many programs loaded.
  template <class Skel>
  std::size_t round_trip(bool perf, const Points<Skel>& points = {},
                         const Configure<Skel>& configure = {}, int alternative = kRuntimeChoice) {
    Ids progs, maps;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      skel->rodata->sk_use_perf = perf;  // rodata: only between open and load
      if (configure) configure(skel.get());
      std::vector<HookPoint> pts = points ? points(skel.get()) : std::vector<HookPoint>{};
      std::vector<int> chosen;
      if (alternative == kRuntimeChoice) {
        chosen = choose_hooks(*features_, pts);
      } else {
        chosen = kth_alternative(pts, static_cast<std::size_t>(alternative));
      }
      bool attach = true;
      std::string what;
      for (std::size_t i = 0; i < pts.size(); ++i) {
        if (chosen[i] < 0) continue;
        const Alternative& alt = pts[i].alternatives[chosen[i]];
        what += (what.empty() ? "" : " ") + pts[i].name + "=" + alt.label;
        if (satisfied(*features_, alt.needs)) continue;
        attach = false;
        for (const Requirement& r : alt.needs) {
          if (r.kind == Requirement::Kind::kFentry) {
            std::cout << "[   NOTE   ] " << what
                      << ": this kernel lacks fentry; left to the kernel-matrix VMs\n";
            return 0;
          }
        }
      }
      SCOPED_TRACE(what + (attach ? "" : " (verifier only)") + (perf ? ", perf buffer" : ""));
      apply_hook_choice(pts, chosen);
      EXPECT_NO_THROW(skel.load());
      if (::testing::Test::HasFailure()) return 0;
      progs = prog_ids(skel.obj());
      maps = map_ids(skel.obj());
      EXPECT_FALSE(progs.empty());
      if (!pts.empty()) {
        EXPECT_EQ(progs.size(), chosen_programs(pts, chosen).size()) << "programs loaded";
      }
      if (attach) {
        EXPECT_NO_THROW(skel.attach());
        RuntimeLinks rt;
        EXPECT_NO_THROW(rt.links = attach_links(pts, chosen));
        std::size_t attached = expect_attached(skel->skeleton, rt);
        EXPECT_GE(attached, progs.size());
        // Kernels before 5.15 attach perf events without a BPF link id.
        std::size_t links = live_links(progs).size();
        if (links) {
          EXPECT_EQ(links, attached);
        }
      }
    }
    expect_released(progs, maps);
    return progs.size();
  }

  /// round_trip with the k-th alternative of every point, for each k, on
  /// both transports: every way the tool may hook passes the verifier here,
  /// and attaches where this kernel has it.
  template <class Skel>
  void every_alternative(const Points<Skel>& points, const Configure<Skel>& configure = {}) {
    std::size_t n = 0;
    {
      auto skel = Skeleton<Skel>::open(nullptr);
      if (configure) configure(skel.get());
      for (const HookPoint& p : points(skel.get())) n = std::max(n, p.alternatives.size());
    }
    for (std::size_t k = 0; k < n; ++k)
      for (bool perf : {false, true})
        round_trip<Skel>(perf, points, configure, static_cast<int>(k));
  }

  std::string tracefs_;
  std::unique_ptr<KernelFeatures> features_;
};

}  // namespace snoopkit::load
