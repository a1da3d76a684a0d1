// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* exitsnoop: process exits (every thread's with -T), from sched:sched_process_exit. */
#include "snoopkit.bpf.h"
#include "exitsnoop.h"

#define SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h: exit_group() or a fatal signal */

const volatile bool threads = false; /* -T: every thread, not only a process's last */
const volatile bool failed_only = false; /* -x: non-zero exit status only */

SEC("tracepoint/sched/sched_process_exit")
int tp_sched_process_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct exitsnoop_event *e;
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	char comm[SK_TASK_COMM_LEN] = {};
	bool last;
	__u32 code;

	if (!sk_task_wanted())
		return 0;

	/*
	 * Is this the process's last thread? Recent kernels' tracepoint says so
	 * in its group_dead field (6.18's has it, see vmlinux.h). Where the
	 * field is missing (older kernels), ask the count do_exit() has
	 * already taken this thread off: signal->live is 0 for the last one
	 * (two threads ending at once may then both see 0: a rare duplicate).
	 */
	if (bpf_core_field_exists(ctx->group_dead))
		last = ctx->group_dead;
	else
		last = BPF_CORE_READ(task, signal, live.counter) == 0;
	if (!threads && !last)
		return 0;

	/*
	 * The wait(2) status: a thread's own, stored by do_exit() before the
	 * tracepoint; for a process, what its parent's wait() will get, as
	 * wait_task_zombie() computes it: the group exit code once
	 * SIGNAL_GROUP_EXIT is set (exit_group(), a fatal signal, and, on
	 * kernels whose do_exit() calls synchronize_group_exit(), the last
	 * thread's exit(2)), else the leader's own exit code.
	 */
	if (threads)
		code = BPF_CORE_READ(task, exit_code);
	else if (BPF_CORE_READ(task, signal, flags) & SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(task, signal, group_exit_code);
	else
		code = BPF_CORE_READ(leader, exit_code);
	if (failed_only && code == 0)
		return 0;

	/* The process's name is its leader's; a thread's, its own. */
	if (threads)
		bpf_get_current_comm(comm, sizeof(comm));
	else
		bpf_probe_read_kernel_str(comm, sizeof(comm), &leader->comm);
	if (!sk_comm_matches(comm))
		return 0;

	e = sk_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->ktime_ns = bpf_ktime_get_ns();
	sk_task_context(&e->ctx);
	/* start_time is CLOCK_MONOTONIC ns, like bpf_ktime_get_ns(), since Linux 3.17. */
	e->start_ns = threads ? BPF_CORE_READ(task, start_time) : BPF_CORE_READ(leader, start_time);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->exit_code = code;
	e->flags = last ? EXITSNOOP_F_PROCESS_EXIT : 0;
	__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
