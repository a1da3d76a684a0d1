// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* oomkill: OOM kills, with the victim and the process that triggered them. */
#include "snoopkit.bpf.h"
#include "oomkill.h"

/* A zeroed event naming the current task as the trigger, or NULL (filtered out, or full). */
static __always_inline struct oomkill_event *start_event(void)
{
	struct oomkill_event *e;

	if (!sk_task_wanted() || !sk_comm_wanted())
		return NULL;
	e = sk_reserve(sizeof(*e));
	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->ktime_ns = bpf_ktime_get_ns();
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	return e;
}

/* oom_kill_process(oc, message): oc->chosen is the victim, oc->totalpages the pool. */
static __always_inline int on_kill_process(void *ctx, struct oom_control *oc)
{
	struct oomkill_event *e = start_event();
	struct task_struct *victim;

	if (!e)
		return 0;
	victim = BPF_CORE_READ(oc, chosen);
	e->victim_pid = BPF_CORE_READ(victim, tgid);
	e->victim_uid = BPF_CORE_READ(victim, cred, uid.val);
	BPF_CORE_READ_STR_INTO(&e->victim_comm, victim, comm);
	e->total_pages = BPF_CORE_READ(oc, totalpages);
	e->flags = OOMKILL_F_PAGES | OOMKILL_F_VICTIM_COMM;
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

SEC("fentry/oom_kill_process")
int BPF_PROG(fentry_oom_kill_process, struct oom_control *oc, const char *message)
{
	return on_kill_process(ctx, oc);
}

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(kprobe_oom_kill_process, struct oom_control *oc, const char *message)
{
	return on_kill_process(ctx, oc);
}

SEC("tracepoint/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct oomkill_event *e = start_event();
	__u32 off;

	if (!e)
		return 0;
	e->victim_pid = BPF_CORE_READ(ctx, pid);
	/* Before "mm: update mark_victim tracepoints fields" (Carlos Galo, 2024), only the pid. */
	if (bpf_core_field_exists(ctx->total_vm)) {
		e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
		e->victim_uid = BPF_CORE_READ(ctx, uid);
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
		e->flags |= OOMKILL_F_MEM;
	}
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		/* __data_loc: the low 16 bits are the string's offset in the record. */
		off = BPF_CORE_READ(ctx, __data_loc_comm) & 0xFFFF;
		bpf_probe_read_kernel_str(e->victim_comm, sizeof(e->victim_comm), (void *)ctx + off);
		e->flags |= OOMKILL_F_VICTIM_COMM;
	}
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
