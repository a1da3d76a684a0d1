// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* biosnoop: every block request, with its submitter and latency, sent at completion. */
#include "block_start.bpf.h"
#include "biosnoop.h"

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
	struct biosnoop_event *e;
	struct block_start s;
	__u64 now;

	if (!block_on_complete(ctx->dev, ctx->sector, &s))
		return 0;
	now = bpf_ktime_get_ns();
	e = sk_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->ktime_ns = now;
	e->sector = ctx->sector;
	e->latency_ns = now - s.issue_ns;
	e->queued_ns = s.insert_ns && s.insert_ns < s.issue_ns ? s.issue_ns - s.insert_ns : 0;
	e->dev = ctx->dev;
	e->bytes = s.bytes;
	e->pid = s.pid;
	e->ctx = s.ctx;
	e->error = ctx->error;
	bpf_probe_read_kernel(e->rwbs, sizeof(e->rwbs), ctx->rwbs);
	e->rwbs[BIOSNOOP_RWBS_LEN - 1] = '\0';
	__builtin_memcpy(e->comm, s.comm, sizeof(e->comm));
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
