// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sigsnoop: every signal generated (signal:signal_generate), or with -k kill(2) calls only. */
#include "killsnoop.bpf.h" /* -k: kill(2) as killsnoop traces it; also failed_only, targ_sig */
#include "sigsnoop.h"

SEC("tracepoint/signal/signal_generate")
int tp_signal_generate(struct trace_event_raw_signal_generate *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sigsnoop_event *e;
	int sig = ctx->sig, result = ctx->result;

	if (filter_sig && sig != targ_sig)
		return 0;
	/* -x: as libbpf-tools, anything but TRACE_SIGNAL_DELIVERED is a failure. */
	if (failed_only && result == TRACE_SIGNAL_DELIVERED)
		return 0;
	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;

	e = sk_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->ktime_ns = bpf_ktime_get_ns();
	sk_task_context(&e->ctx);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->tpid = ctx->pid;
	e->sig = sig;
	e->si_code = ctx->code;
	e->si_errno = ctx->errno;
	e->result = result;
	e->group = ctx->group != 0;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* The tracepoint record's comm is at a 4-byte offset: copy it, not 8-byte loads. */
	bpf_probe_read_kernel(e->tcomm, sizeof(e->tcomm), ctx->comm);
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int tp_enter_kill(struct sk_sys_enter *ctx)
{
	return kill_enter((__s32)ctx->args[0], 0, (__s32)ctx->args[1], KILLSNOOP_SYS_KILL);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int tp_exit_kill(struct sk_sys_exit *ctx)
{
	return kill_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
