// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* syscount: count system calls (and sum their latency) by syscall or by process. */
#include "snoopkit.bpf.h"
#include "syscount.h"

const volatile bool by_process = false;
const volatile bool measure_latency = false;
const volatile bool failures_only = false;
const volatile __s32 only_errno = 0; /* > 0: only calls that failed with this errno */

/* Entry time by thread, for -L; LRU: threads that exit inside a syscall never return. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYSCOUNT_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct syscount_value);
} counts SEC(".maps");

static __always_inline int on_enter(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts;

	if (!measure_latency || !sk_task_wanted() || !sk_comm_wanted())
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(long id, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, key;
	struct syscount_value *val, zero = {};
	__u64 delta = 0, *tsp;

	/* Step 1: the latency, and forget the entry time whatever the filters say. */
	if (measure_latency) {
		tsp = bpf_map_lookup_elem(&start, &tid);
		if (!tsp)
			return 0; /* entered before we attached, or filtered out at entry */
		delta = bpf_ktime_get_ns() - *tsp;
		bpf_map_delete_elem(&start, &tid);
	}
	if (id < 0 || !sk_task_wanted() || !sk_comm_wanted())
		return 0;
	if (failures_only && ret >= 0)
		return 0;
	if (only_errno && ret != -only_errno)
		return 0;

	/* Step 2: count under the syscall number, or the process. */
	key = by_process ? (__u32)(pid_tgid >> 32) : (__u32)id;
	val = bpf_map_lookup_elem(&counts, &key);
	if (!val) {
		if (by_process)
			bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&counts, &key);
		if (!val) {
			sk_count_lost(); /* the map is full */
			return 0;
		}
	}
	__sync_fetch_and_add(&val->count, 1);
	if (measure_latency)
		__sync_fetch_and_add(&val->total_ns, delta);
	return 0;
}

/* Raw tracepoints: no trace record is built, the cheaper hook for every syscall. */
SEC("raw_tracepoint/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return on_enter();
}

SEC("raw_tracepoint/sys_exit")
int raw_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	/* sys_exit(struct pt_regs *regs, long ret): the number is in regs. */
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long id;

#if defined(__TARGET_ARCH_arm64)
	id = BPF_CORE_READ(regs, syscallno);
#else
	id = BPF_CORE_READ(regs, orig_ax);
#endif
	return on_exit(id, (long)ctx->args[1]);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int tp_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter();
}

SEC("tracepoint/raw_syscalls/sys_exit")
int tp_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->id, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
