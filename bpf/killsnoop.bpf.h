/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kill(2), tkill(2) and tgkill(2) half of killsnoop, shared with
 * sigsnoop -k: arguments kept on entry by thread id, one event on return.
 */
#ifndef KILLSNOOP_BPF_H
#define KILLSNOOP_BPF_H

#include "snoopkit.bpf.h"
#include "killsnoop.h"

const volatile bool failed_only = false; /* -x */
const volatile bool filter_sig = false; /* -s */
const volatile __s32 targ_sig = 0;

struct kill_args {
	__s32 tpid;
	__s32 ttid;
	__s32 sig;
	__u32 syscall;
};

/* In-flight kill calls by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct kill_args);
} kill_start SEC(".maps");

static __always_inline int kill_enter(__s32 tpid, __s32 ttid, __s32 sig, __u32 syscall)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kill_args args = { .tpid = tpid, .ttid = ttid, .sig = sig, .syscall = syscall };

	if (filter_sig && sig != targ_sig)
		return 0;
	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;
	bpf_map_update_elem(&kill_start, &tid, &args, BPF_ANY);
	return 0;
}

static __always_inline int kill_exit(void *ctx, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct killsnoop_event *e;
	struct kill_args *args;

	args = bpf_map_lookup_elem(&kill_start, &tid);
	if (!args)
		return 0;
	if (failed_only && ret >= 0)
		goto out;
	e = sk_reserve(sizeof(*e));
	if (!e)
		goto out;
	e->ktime_ns = bpf_ktime_get_ns();
	sk_task_context(&e->ctx);
	e->pid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->tpid = args->tpid;
	e->ttid = args->ttid;
	e->sig = args->sig;
	e->ret = ret;
	e->syscall = args->syscall;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	sk_submit(ctx, e, sizeof(*e));
out:
	bpf_map_delete_elem(&kill_start, &tid);
	return 0;
}

#endif /* KILLSNOOP_BPF_H */
