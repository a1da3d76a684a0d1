/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel-side half of the snoopkit runtime: the event transport (ring buffer
 * or perf buffer), exact loss accounting, and the common in-kernel filters.
 * Every tool's .bpf.c includes this once; the C++ runtime configures the
 * globals below between skeleton open and load.
 */
#ifndef SNOOPKIT_BPF_H
#define SNOOPKIT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "snoopkit_common.h"

/*
 * The context of the syscalls:sys_enter_<name> and sys_exit_<name>
 * tracepoints, as their format files show it: the common fields (8 bytes),
 * __syscall_nr at offset 8, then on entry each argument in an 8-byte slot
 * from offset 16, on exit the return value at 16. One kernel template makes
 * every syscall tracepoint, and this layout is what perf and ftrace read on
 * every kernel that has them, so programs read it directly, without CO-RE
 * relocations: an object with none spares libbpf loading and searching the
 * kernel's BTF (megabytes) at start-up. User space checks the layout
 * against the running kernel's format file before it attaches (hooks.cc).
 */
struct sk_sys_enter {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	unsigned long args[6];
};

struct sk_sys_exit {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	long ret;
};

/* Transport: perf buffer instead of ring buffer (old kernels, tests). */
const volatile bool sk_use_perf = false;
/* Ring buffer: wake the reader only once this much data is pending (0: always). */
const volatile __u64 sk_wakeup_bytes = 0;

/* Common filters; zero / all-ones mean "off". */
const volatile __u32 sk_targ_tgid = 0;
const volatile __u32 sk_targ_tid = 0;
const volatile __u32 sk_targ_uid = (__u32)-1;
const volatile bool sk_filter_cgroup = false;
const volatile char sk_targ_comm[SK_TASK_COMM_LEN] = {};
const volatile __u32 sk_targ_comm_len = 0;
/* --container: consult sk_container_verdict (user space decides unknown cgroups). */
const volatile bool sk_filter_container = false;

/*
 * Kernel struct offsets for sk_task_context(), taken by user space from the
 * kernel's BTF before load. Plain offsets rather than CO-RE, so that tools
 * without CO-RE relocations keep sparing libbpf the kernel BTF load. A 0
 * (unknown) leaves the fields that need it 0.
 */
const volatile __u32 sk_off_task_nsproxy = 0; /* task_struct.nsproxy */
const volatile __u32 sk_off_task_thread_pid = 0; /* task_struct.thread_pid */
const volatile __u32 sk_off_task_group_leader = 0; /* task_struct.group_leader */
const volatile __u32 sk_off_nsproxy_mnt_ns = 0; /* nsproxy.mnt_ns */
const volatile __u32 sk_off_mntns_inum = 0; /* mnt_namespace.ns.inum */
const volatile __u32 sk_off_pid_level = 0; /* pid.level */
const volatile __u32 sk_off_pid_numbers = 0; /* pid.numbers */
const volatile __u32 sk_sz_upid = 0; /* sizeof(struct upid) */
const volatile __u32 sk_off_upid_nr = 0; /* upid.nr (0 on every kernel so far) */
const volatile __u32 sk_off_upid_ns = 0; /* upid.ns */
const volatile __u32 sk_off_pidns_inum = 0; /* pid_namespace.ns.inum */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by user space before load */
} sk_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} sk_events_perf SEC(".maps");

/* Scratch space for building an event when the perf buffer is in use. */
struct sk_heap_buf {
	__u8 data[SK_MAX_EVENT_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sk_heap_buf);
} sk_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SK_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sk_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sk_cgroup SEC(".maps");

/* --container verdicts by cgroup id; a miss means "send, user space decides". */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096); /* shrunk to 1 by user space when --container is off */
	__type(key, __u64);
	__type(value, __u8);
} sk_container_verdict SEC(".maps");

/* Count one event the transport had no room for. */
static __always_inline void sk_count_lost(void)
{
	__u32 key = SK_STAT_LOST;
	__u64 *n = bpf_map_lookup_elem(&sk_stats, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Does comm contain sk_targ_comm as a substring? */
static __always_inline bool sk_comm_matches(const char *comm)
{
	__u32 n = sk_targ_comm_len;

	if (n == 0)
		return true;
	for (int start = 0; start < SK_TASK_COMM_LEN; start++) {
		bool ok = true;

		if (start + n > SK_TASK_COMM_LEN - 1)
			return false;
		for (int i = 0; i < SK_TASK_COMM_LEN - 1; i++) {
			if (i >= n)
				break;
			if (comm[(start + i) & (SK_TASK_COMM_LEN - 1)] != sk_targ_comm[i]) {
				ok = false;
				break;
			}
		}
		if (ok)
			return true;
	}
	return false;
}

/* The filters that need only the current task: pid, tid, uid, cgroup. */
static __always_inline bool sk_task_wanted(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (sk_targ_tgid && (__u32)(id >> 32) != sk_targ_tgid)
		return false;
	if (sk_targ_tid && (__u32)id != sk_targ_tid)
		return false;
	if (sk_targ_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != sk_targ_uid)
		return false;
	if (sk_filter_cgroup && !bpf_current_task_under_cgroup(&sk_cgroup, 0))
		return false;
	if (sk_filter_container) {
		__u64 cg = bpf_get_current_cgroup_id();
		__u8 *v = bpf_map_lookup_elem(&sk_container_verdict, &cg);

		if (v && *v == SK_CONTAINER_OTHER)
			return false;
	}
	return true;
}

/* Read a kernel pointer at base + off; NULL when either is unknown. */
static __always_inline void *sk_read_ptr(void *base, __u32 off)
{
	void *p = NULL;

	if (base && off)
		bpf_probe_read_kernel(&p, sizeof(p), base + off);
	return p;
}

/* The number and the namespace inode of a struct pid in its own (deepest) namespace. */
static __always_inline void sk_pid_in_ns(void *pid, __u32 *nr, __u32 *ns_inum)
{
	__u32 level = 0;
	void *upid, *ns;

	if (!pid || !sk_off_pid_numbers || !sk_sz_upid)
		return;
	bpf_probe_read_kernel(&level, sizeof(level), pid + sk_off_pid_level);
	upid = pid + sk_off_pid_numbers + (__u64)level * sk_sz_upid;
	bpf_probe_read_kernel(nr, sizeof(*nr), upid + sk_off_upid_nr);
	ns = sk_read_ptr(upid, sk_off_upid_ns);
	if (ns && ns_inum && sk_off_pidns_inum)
		bpf_probe_read_kernel(ns_inum, sizeof(*ns_inum), ns + sk_off_pidns_inum);
}

/* The mount namespace inode of task: task->nsproxy->mnt_ns->ns.inum
 * (0 once the task is exiting, when nsproxy is NULL). */
static __always_inline __u32 sk_task_mntns(void *task)
{
	void *mnt_ns = sk_read_ptr(sk_read_ptr(task, sk_off_task_nsproxy), sk_off_nsproxy_mnt_ns);
	__u32 inum = 0;

	if (mnt_ns && sk_off_mntns_inum)
		bpf_probe_read_kernel(&inum, sizeof(inum), mnt_ns + sk_off_mntns_inum);
	return inum;
}

/* The pid, the tid and the pid namespace of task as its own namespace sees them:
 * task->thread_pid for the tid and the namespace, the group leader's for the pid. */
static __always_inline void sk_task_pids(void *task, struct sk_task_ctx *c)
{
	void *leader;

	sk_pid_in_ns(sk_read_ptr(task, sk_off_task_thread_pid), &c->vtid, &c->pidns);
	leader = sk_read_ptr(task, sk_off_task_group_leader);
	sk_pid_in_ns(sk_read_ptr(leader, sk_off_task_thread_pid), &c->vpid, NULL);
}

/* Fill c with the current task's context (cgroup, namespaces, pid and tid inside). */
static __always_inline void sk_task_context(struct sk_task_ctx *c)
{
	void *task = (void *)bpf_get_current_task();

	c->cgroup_id = bpf_get_current_cgroup_id();
	c->vpid = 0;
	c->vtid = 0;
	c->pidns = 0;
	c->mntns = sk_task_mntns(task);
	sk_task_pids(task, c);
}

/*
 * The pid half of a task's context, kept per thread (in its stash slot) so
 * that a thread's later events skip its ten kernel reads. Exact, not a
 * guess: a task's pid namespace never changes, and its pid and tid change
 * only when a non-leader thread execs and takes over the leader's pid, which
 * changes its host tid too, the key. The cgroup and the mount namespace,
 * which a task can change at any time, are read on every event.
 */
struct sk_ctx_cache {
	__u64 pid_tgid; /* whose (0: empty) */
	__u32 vpid;
	__u32 vtid;
	__u32 pidns;
	__u32 _pad;
};

static __always_inline void sk_task_context_cached(struct sk_task_ctx *c, struct sk_ctx_cache *cache)
{
	void *task = (void *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	c->cgroup_id = bpf_get_current_cgroup_id();
	c->mntns = sk_task_mntns(task);
	if (cache->pid_tgid != id) {
		c->vpid = 0;
		c->vtid = 0;
		c->pidns = 0;
		sk_task_pids(task, c);
		cache->vpid = c->vpid;
		cache->vtid = c->vtid;
		cache->pidns = c->pidns;
		cache->pid_tgid = id;
		return;
	}
	c->vpid = cache->vpid;
	c->vtid = cache->vtid;
	c->pidns = cache->pidns;
}

/* The comm filter, for hooks where current->comm is the name to match. */
static __always_inline bool sk_comm_wanted(void)
{
	char comm[SK_TASK_COMM_LEN];

	if (sk_targ_comm_len == 0)
		return true;
	bpf_get_current_comm(comm, sizeof(comm));
	return sk_comm_matches(comm);
}

static __always_inline void *sk_heap_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sk_heap, &zero);
}

/*
 * Reserve room for one fixed-size event. Returns NULL (and counts a loss) when
 * the transport is full. Pair with sk_submit() or sk_discard().
 */
#define sk_reserve(size)                                                      \
	({                                                                    \
		void *__e = sk_use_perf ? sk_heap_get()                       \
					: bpf_ringbuf_reserve(&sk_events, size, 0); \
		if (!__e)                                                     \
			sk_count_lost();                                      \
		__e;                                                          \
	})

/*
 * Ring buffer wake-up policy. The reader sleeps until sk_wakeup_bytes are
 * pending (or its --latency timer fires). Only the record whose bytes carry
 * the pending total across a multiple of sk_wakeup_bytes forces a wake-up;
 * every other record is submitted silently. A forced wake-up queues an
 * irq_work on the traced CPU, so one per record above the threshold (what a
 * plain "pending >= threshold" test gives) costs the traced program dearly
 * in a storm. Checking every multiple, not only the first, means a crossing
 * that two CPUs race past unseen is caught by the next one.
 *
 * `pending` is BPF_RB_AVAIL_DATA; `before` says whether it was read before
 * this record was reserved (bpf_ringbuf_output) or after (submit).
 */
#define SK_RINGBUF_HDR_SZ 8

static __always_inline __u64 sk_wakeup_flags(__u64 size, bool before)
{
	__u64 rec, pending, lo, hi;

	if (!sk_wakeup_bytes)
		return 0;
	rec = (size + SK_RINGBUF_HDR_SZ + 7) & ~7ULL;
	pending = bpf_ringbuf_query(&sk_events, BPF_RB_AVAIL_DATA);
	if (before) {
		lo = pending;
		hi = pending + rec;
	} else {
		lo = pending > rec ? pending - rec : 0;
		hi = pending;
	}
	return lo / sk_wakeup_bytes != hi / sk_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
							      : BPF_RB_NO_WAKEUP;
}

/* Hand a reserved event of `size` bytes to user space. */
static __always_inline void sk_submit(void *ctx, void *event, __u64 size)
{
	if (sk_use_perf) {
		if (bpf_perf_event_output(ctx, &sk_events_perf, BPF_F_CURRENT_CPU, event, size))
			sk_count_lost();
		return;
	}
	bpf_ringbuf_submit(event, sk_wakeup_flags(size, false));
}

/* Give back a reserved event that a late filter rejected. */
static __always_inline void sk_discard(void *event)
{
	if (!sk_use_perf)
		bpf_ringbuf_discard(event, BPF_RB_NO_WAKEUP);
}

/*
 * Copy a variable-size event of at most max bytes (the size of the memory
 * it is built in, which the verifier checks the copy against) to user space.
 */
static __always_inline void sk_output_upto(void *ctx, void *data, __u64 size, __u64 max)
{
	long err;

	if (size > max)
		size = max;
	if (sk_use_perf)
		err = bpf_perf_event_output(ctx, &sk_events_perf, BPF_F_CURRENT_CPU, data, size);
	else
		err = bpf_ringbuf_output(&sk_events, data, size, sk_wakeup_flags(size, true));
	if (err)
		sk_count_lost();
}

/* Copy a variable-size event (size <= SK_MAX_EVENT_SIZE) to user space. */
static __always_inline void sk_output(void *ctx, void *data, __u64 size)
{
	sk_output_upto(ctx, data, size, SK_MAX_EVENT_SIZE);
}

#endif /* SNOOPKIT_BPF_H */
