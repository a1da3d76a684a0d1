// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* biolatency: block request latency (issue, or queue with -Q, to completion) as log2 histograms. */
#include "block_start.bpf.h"
#include "biolatency.h"

const volatile bool per_disk = false;
const volatile bool per_flags = false;
const volatile bool milliseconds = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOLATENCY_MAX_HISTS);
	__type(key, struct biolatency_key);
	__type(value, struct sk_hist);
} hists SEC(".maps");

SEC("tracepoint/block/block_io_start")
int tp_io_start(struct trace_event_raw_block_rq *ctx)
{
	return block_on_io_start(ctx->dev, ctx->sector);
}

SEC("tracepoint/block/block_bio_queue")
int tp_bio_queue(struct trace_event_raw_block_bio *ctx)
{
	return block_on_io_start(ctx->dev, ctx->sector);
}

SEC("tracepoint/block/block_rq_insert")
int tp_rq_insert(struct trace_event_raw_block_rq *ctx)
{
	return block_on_insert(ctx->dev, ctx->sector);
}

SEC("tracepoint/block/block_rq_issue")
int tp_rq_issue(struct trace_event_raw_block_rq *ctx)
{
	return block_on_issue(ctx->dev, ctx->sector, ctx->bytes);
}

SEC("tracepoint/block/block_rq_complete")
int tp_rq_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct biolatency_key key = {};
	struct sk_hist *h, zero = {};
	struct block_start s;
	__u64 delta;

	if (!block_on_complete(ctx->dev, ctx->sector, &s))
		return 0;
	/* Step 1: from the queue insert with -Q (when there was one), else from the issue. */
	delta = bpf_ktime_get_ns() - (s.insert_ns && s.insert_ns < s.issue_ns ? s.insert_ns
										: s.issue_ns);
	delta /= milliseconds ? 1000000 : 1000;

	/* Step 2: count it in the histogram of its disk, or of its flags. */
	if (per_disk)
		key.dev = ctx->dev;
	if (per_flags) {
		bool end = false;

		/* Bytes past the NUL are whatever the trace buffer held: zero them, they are key. */
		bpf_probe_read_kernel(key.rwbs, sizeof(key.rwbs) - 1, ctx->rwbs);
#pragma unroll
		for (int i = 0; i < BIOLATENCY_RWBS_LEN - 1; i++) {
			end = end || !key.rwbs[i];
			if (end)
				key.rwbs[i] = 0;
		}
	}
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) {
			sk_count_lost(); /* the map is full */
			return 0;
		}
	}
	__sync_fetch_and_add(&h->slots[sk_hist_slot(delta)], 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
