// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* runqlat: time from a task's wake-up (or preemption) until it runs, as log2 histograms. */
#include "snoopkit.bpf.h"
#include "runqlat.h"

#define TASK_RUNNING 0
#define CGROUP_MAX_DEPTH 32

const volatile bool per_process = false;
const volatile bool per_thread = false;
const volatile bool per_pidns = false;
const volatile bool milliseconds = false;
/* -c: the cgroup v2 id (its directory's inode) the task must be in, or below. */
const volatile __u64 targ_cgroup_id = 0;

/* Enqueue time by thread ID. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RUNQLAT_MAX_HISTS);
	__type(key, __u32);
	__type(value, struct runqlat_hist);
} hists SEC(".maps");

/* task_struct::state became __state in Linux 5.14 (2f064a59a11f). */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/* Is t's cgroup v2 targ_cgroup_id or below it? (The task is not current: no helper asks that.) */
static __always_inline bool task_in_cgroup(struct task_struct *t)
{
	struct cgroup *cgrp = BPF_CORE_READ(t, cgroups, dfl_cgrp);

	for (int i = 0; i < CGROUP_MAX_DEPTH && cgrp; i++) {
		if (BPF_CORE_READ(cgrp, kn, id) == targ_cgroup_id)
			return true;
		/* cgroup::self is the first member: a parent css is its cgroup. */
		cgrp = (struct cgroup *)BPF_CORE_READ(cgrp, self.parent);
	}
	return false;
}

/*
 * The inode of t's own PID namespace (task_active_pid_ns()), not nsproxy's
 * pid_ns_for_children: that one is NULL once a task exits, and another
 * namespace after unshare(CLONE_NEWPID).
 */
static __always_inline __u32 task_pidns(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct upid upid;
	unsigned int level;

	if (!pid)
		return 0;
	level = BPF_CORE_READ(pid, level);
	if (bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]))
		return 0;
	return BPF_CORE_READ(upid.ns, ns.inum);
}

/* The common filters, applied to the task whose latency is measured, not to current. */
static __always_inline bool task_wanted(struct task_struct *t)
{
	char comm[SK_TASK_COMM_LEN];

	if (sk_targ_tgid && BPF_CORE_READ(t, tgid) != sk_targ_tgid)
		return false;
	if (sk_targ_tid && BPF_CORE_READ(t, pid) != sk_targ_tid)
		return false;
	if (sk_targ_uid != (__u32)-1 && BPF_CORE_READ(t, cred, uid.val) != sk_targ_uid)
		return false;
	if (sk_targ_comm_len) {
		BPF_CORE_READ_STR_INTO(&comm, t, comm);
		if (!sk_comm_matches(comm))
			return false;
	}
	if (targ_cgroup_id && !task_in_cgroup(t))
		return false;
	return true;
}

static __always_inline int enqueue(struct task_struct *t)
{
	__u32 tid = BPF_CORE_READ(t, pid);
	__u64 ts;

	if (!tid || !task_wanted(t))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
	struct runqlat_hist *h, zero = {};
	__u64 *tsp, delta;
	__u32 tid, key;

	/* Step 1: a preempted task is queued again, from now. */
	if (task_state(prev) == TASK_RUNNING)
		enqueue(prev);

	/* Step 2: the task now running waited since its enqueue. */
	tid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &tid);
	delta /= milliseconds ? 1000000 : 1000;

	/* Step 3: count it in its histogram. */
	if (per_process)
		key = BPF_CORE_READ(next, tgid);
	else if (per_thread)
		key = tid;
	else if (per_pidns) {
		key = task_pidns(next);
		if (!key)
			return 0; /* past release_task(): its pid, and so its namespace, are gone */
	} else
		key = RUNQLAT_ALL;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		if (per_process) /* the process's name: its main thread's */
			BPF_CORE_READ_STR_INTO(&zero.comm, next, group_leader, comm);
		else if (per_thread)
			BPF_CORE_READ_STR_INTO(&zero.comm, next, comm);
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) {
			sk_count_lost(); /* the map is full */
			return 0;
		}
	}
	__sync_fetch_and_add(&h->hist.slots[sk_hist_slot(delta)], 1);
	return 0;
}

/* tp_btf (Linux 5.5, with BTF): typed arguments, no probe reads for the pointers themselves. */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_sched_wakeup, struct task_struct *p)
{
	return enqueue(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(btf_sched_wakeup_new, struct task_struct *p)
{
	return enqueue(p);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev, next);
}

/* Raw tracepoints (Linux 4.17): the same arguments, untyped. */
SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_sched_wakeup, struct task_struct *p)
{
	return enqueue(p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_sched_wakeup_new, struct task_struct *p)
{
	return enqueue(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev, next);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
