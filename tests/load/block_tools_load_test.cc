// Load tests for the block I/O tools (biosnoop, biolatency): each skeleton
// opens, takes the block hooks as both tools declare them
// (block_hooks.h), loads, attaches and leaves nothing behind, on both
// transports, with and without -Q, and with each submitter hook this kernel
// has (block_io_start, 6.5+; block_bio_queue, every kernel).
#include <vector>

#include <gtest/gtest.h>

#include "biolatency.skel.h"
#include "biosnoop.skel.h"
#include "family/block_hooks.h"
#include "load_support.h"

namespace snoopkit {
namespace {

class BlockToolsLoadTest : public load::ToolLoadTest {};

template <class Skel>
std::vector<HookPoint> block_points(Skel* s) {
  return block_hook_points(s->progs, false);
}
template <class Skel>
std::vector<HookPoint> queued_block_points(Skel* s) {
  return block_hook_points(s->progs, true);  // -Q
}

TEST_F(BlockToolsLoadTest, BiosnoopRingBuffer) {
  round_trip<biosnoop_bpf>(false, block_points<biosnoop_bpf>);
}
TEST_F(BlockToolsLoadTest, BiosnoopQueuedEveryAlternative) {
  every_alternative<biosnoop_bpf>(queued_block_points<biosnoop_bpf>,
                                  [](biosnoop_bpf* s) { s->rodata->track_queued = true; });
}

TEST_F(BlockToolsLoadTest, BiolatencyPerDiskPerfBuffer) {
  round_trip<biolatency_bpf>(true, block_points<biolatency_bpf>,
                             [](biolatency_bpf* s) { s->rodata->per_disk = true; });
}
TEST_F(BlockToolsLoadTest, BiolatencyQueuedEveryAlternative) {
  every_alternative<biolatency_bpf>(queued_block_points<biolatency_bpf>, [](biolatency_bpf* s) {
    s->rodata->per_flags = true;
    s->rodata->track_queued = true;
  });
}

}  // namespace
}  // namespace snoopkit
