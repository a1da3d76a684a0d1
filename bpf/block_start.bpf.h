/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Block requests in flight, shared by biosnoop and biolatency: who issued
 * a request and when it was queued and issued, until it completes. The
 * block tracepoints name no request pointer, so a request is known by its
 * device and first sector, which no two requests in flight share.
 */
#ifndef BLOCK_START_BPF_H
#define BLOCK_START_BPF_H

#include "snoopkit.bpf.h"

/* -d DISK: the disk's dev_t as the kernel encodes it (major << 20 | minor); 0: every disk. */
const volatile __u32 targ_dev = 0;
/* -Q: also time the wait in the OS queue, from block_rq_insert. */
const volatile bool track_queued = false;

struct block_key {
	__u32 dev;
	__u32 pad;
	__u64 sector;
};

struct block_start {
	__u64 insert_ns; /* 0: not seen (no -Q, or never queued) */
	__u64 issue_ns;
	__u32 pid;
	__u32 rejected; /* the submitter failed the filters: ignore the request */
	__u32 bytes; /* size at issue (the completion names only the sectors done) */
	__u32 pad;
	struct sk_task_ctx ctx; /* the submitter's (sk_task_context) */
	char comm[SK_TASK_COMM_LEN];
};

/* LRU: a request whose completion is never seen must not fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct block_key);
	__type(value, struct block_start);
} block_starts SEC(".maps");

static __always_inline struct block_start current_start(bool wanted)
{
	struct block_start s = {};

	s.pid = bpf_get_current_pid_tgid() >> 32;
	s.rejected = !wanted;
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	sk_task_context(&s.ctx);
	return s;
}

/*
 * The submitter, in its own context: block_io_start (Linux 6.5) for each
 * request, or on older kernels block_bio_queue for each bio, whose first
 * sector is its request's when the bio starts one (a bio merged behind
 * another leaves an entry no request claims; the LRU map ages it out).
 */
static __always_inline int block_on_io_start(__u32 dev, __u64 sector)
{
	struct block_key key = { .dev = dev, .sector = sector };
	struct block_start s;

	if (targ_dev && dev != targ_dev)
		return 0;
	s = current_start(sk_task_wanted() && sk_comm_wanted());
	bpf_map_update_elem(&block_starts, &key, &s, BPF_ANY);
	return 0;
}

/*
 * The entry of a request being queued or issued, or NULL to ignore it. A
 * request block_io_start did not see is named after the current task.
 */
static __always_inline struct block_start *block_admit(__u32 dev, __u64 sector)
{
	struct block_key key = { .dev = dev, .sector = sector };
	struct block_start *s, fresh;

	if (targ_dev && dev != targ_dev)
		return NULL;
	s = bpf_map_lookup_elem(&block_starts, &key);
	if (!s) {
		if (!sk_task_wanted() || !sk_comm_wanted())
			return NULL;
		fresh = current_start(true);
		bpf_map_update_elem(&block_starts, &key, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&block_starts, &key);
	}
	return s && !s->rejected ? s : NULL;
}

static __always_inline int block_on_insert(__u32 dev, __u64 sector)
{
	struct block_start *s;

	if (!track_queued)
		return 0;
	s = block_admit(dev, sector);
	if (s)
		s->insert_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int block_on_issue(__u32 dev, __u64 sector, __u32 bytes)
{
	struct block_start *s = block_admit(dev, sector);

	if (s) {
		s->issue_ns = bpf_ktime_get_ns();
		s->bytes = bytes;
	}
	return 0;
}

/* At completion: the request's entry, copied into *out and forgotten. False: not ours. */
static __always_inline bool block_on_complete(__u32 dev, __u64 sector, struct block_start *out)
{
	struct block_key key = { .dev = dev, .sector = sector };
	struct block_start *s;

	if (targ_dev && dev != targ_dev)
		return false;
	s = bpf_map_lookup_elem(&block_starts, &key);
	if (!s)
		return false;
	*out = *s;
	bpf_map_delete_elem(&block_starts, &key);
	return !out->rejected && out->issue_ns;
}

#endif /* BLOCK_START_BPF_H */
