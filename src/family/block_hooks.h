#pragma once
// The hooks biosnoop and biolatency share (bpf/block_start.bpf.h): a
// request is timed from issue (or queue insert, with -Q) to completion, and
// named after its submitter, found where the kernel allows.

#include <bpf/libbpf.h>

#include <vector>

#include "core/hooks.h"

namespace snoopkit {

/// The block hook points for a skeleton whose programs are tp_io_start,
/// tp_bio_queue, tp_rq_insert, tp_rq_issue and tp_rq_complete. The
/// submitter: block_io_start (Linux 6.5+) sees each request in its
/// submitter's context even when a worker issues it; older kernels name it
/// from block_bio_queue (the submitter's bio, by device and first sector);
/// without either, the task that issues it. Call between open and load.
template <class Progs>
std::vector<HookPoint> block_hook_points(const Progs& p, bool queued) {
  auto tp = [](const char* name) { return Requirement::tracepoint("block", name); };
  std::vector<HookPoint> points{
      {"block_rq_issue", {{"tracepoint", {tp("block_rq_issue")}, {p.tp_rq_issue}}}},
      {"block_rq_complete", {{"tracepoint", {tp("block_rq_complete")}, {p.tp_rq_complete}}}},
      {"submitter",
       {{"block_io_start", {tp("block_io_start")}, {p.tp_io_start}},
        {"block_bio_queue", {tp("block_bio_queue")}, {p.tp_bio_queue}}},
       false}};
  if (queued) {
    points.push_back(
        {"block_rq_insert", {{"tracepoint", {tp("block_rq_insert")}, {p.tp_rq_insert}}}});
  } else {
    bpf_program__set_autoload(p.tp_rq_insert, false);
  }
  return points;
}

}  // namespace snoopkit
