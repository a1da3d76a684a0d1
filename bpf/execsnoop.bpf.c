// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* execsnoop: execve(2) and execveat(2), argv captured on entry, sent on return. */
#include "snoopkit.bpf.h"
#include "execsnoop.h"

const volatile __u32 max_args = EXECSNOOP_DEFAULT_ARGS;
const volatile bool include_failed = false;
const volatile __u32 targ_ppid = 0;
/*
 * Bytes of args kept per exec: room for max_args arguments. User space
 * sizes the execs map's value to offsetof(args) + args_cap before load, so
 * an exec copies (and allocates) only what --max-args can fill, not room
 * for 60 arguments.
 */
const volatile __u32 args_cap = EXECSNOOP_ARGS_SIZE;
/*
 * Where struct task_struct keeps real_parent and tgid: user space reads
 * them from the kernel's BTF (src/btf_offsets.cc) before load. Reading at
 * them with bpf_probe_read_kernel instead of BPF_CORE_READ leaves the
 * object without CO-RE relocations, so libbpf never loads that BTF (it is
 * megabytes). 0: not set, the parent pid reads as 0.
 */
const volatile __u32 task_real_parent_off = 0;
const volatile __u32 task_tgid_off = 0;

/*
 * In-flight execs by process id, not thread id: when a non-leader thread
 * execs, the kernel (de_thread) gives it the leader's pid, so only the
 * tgid is the same at entry and at return. No prealloc: an entry lives one
 * syscall. The value is struct execsnoop_event cut after args_cap bytes of
 * args (bpf_map__set_value_size), which the verifier checks every access
 * against.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct execsnoop_event)); /* resized: no BTF type */
} execs SEC(".maps");

/* current->real_parent->tgid, or 0 when it cannot be read. */
static __always_inline __u32 parent_tgid(void)
{
	const char *task = (const char *)bpf_get_current_task();
	const char *parent = NULL;
	__u32 ppid = 0;

	if (!task_real_parent_off || !task_tgid_off)
		return 0;
	/* The pointer into a local first, then the field it points to. */
	if (bpf_probe_read_kernel(&parent, sizeof(parent), task + task_real_parent_off) || !parent)
		return 0;
	if (bpf_probe_read_kernel(&ppid, sizeof(ppid), parent + task_tgid_off))
		return 0;
	return ppid;
}

static __always_inline int on_enter(const char *filename, const char *const *argv, __u32 flags)
{
	struct execsnoop_event *e;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u32 ppid;
	long len;

	if (!sk_task_wanted())
		return 0;
	ppid = parent_tgid();
	if (targ_ppid && ppid != targ_ppid)
		return 0;

	/* Start from a zeroed per-CPU scratch event, then copy it into the map. */
	e = sk_heap_get();
	if (!e)
		return 0;
	e->ktime_ns = 0;
	e->pid = tgid;
	e->tid = (__u32)id;
	e->ppid = ppid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->retval = 0;
	e->flags = flags;
	e->args_count = 0;
	e->args_size = 0;

	len = bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
	if (len < 0)
		e->filename[0] = '\0';
	else if (len == sizeof(e->filename))
		e->flags |= EXECSNOOP_F_FILENAME_TRUNCATED;

	/* argv: each string NUL-terminated, back to back. */
	for (int i = 0; i < EXECSNOOP_MAX_ARGS; i++) {
		const char *arg = NULL;
		__u32 off;
		char last;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (i >= max_args) {
			e->flags |= EXECSNOOP_F_ARGS_TRUNCATED;
			break;
		}
		off = e->args_size;
		if (off > EXECSNOOP_ARGS_SIZE - EXECSNOOP_ARG_SIZE || off + EXECSNOOP_ARG_SIZE > args_cap)
			break;
		len = bpf_probe_read_user_str(&e->args[off], EXECSNOOP_ARG_SIZE, arg);
		if (len < 0)
			break;
		/* Some kernels return 0, not 1, for an empty string: keep it as "". */
		if (len == 0) {
			e->args[off] = '\0';
			len = 1;
		}
		/* A full buffer is a cut only if the user string goes on. */
		if (len == EXECSNOOP_ARG_SIZE &&
		    !bpf_probe_read_user(&last, 1, arg + EXECSNOOP_ARG_SIZE - 1) && last)
			e->flags |= EXECSNOOP_F_ARG_TRUNCATED;
		e->args_size += len;
		e->args_count++;
	}
	bpf_map_update_elem(&execs, &tgid, e, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct execsnoop_event *e;
	__u32 size;

	e = bpf_map_lookup_elem(&execs, &tgid);
	if (!e)
		return 0;
	if (ret < 0 && !include_failed)
		goto out;
	e->retval = ret;
	e->ktime_ns = bpf_ktime_get_ns();
	/* After a successful exec, comm is the new program's name. */
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (!sk_comm_matches(e->comm))
		goto out;
	/*
	 * The bound is args_cap, a constant the verifier knows. The compiler
	 * does not know it, and clamps size again (here or in sk_output) as
	 * "if CONST > size": a comparison Linux 6.1's verifier cannot decide,
	 * so it walks the impossible branch and rejects the program. The mask
	 * changes nothing (args_cap <= EXECSNOOP_ARGS_SIZE < 8192) but shows
	 * the compiler that no further clamp is needed.
	 */
	_Static_assert(EXECSNOOP_ARGS_SIZE < 8192, "args mask");
	size = e->args_size;
	if (size > args_cap)
		size = args_cap;
	size &= 8191;
	sk_output(ctx, e, __builtin_offsetof(struct execsnoop_event, args) + size);
out:
	bpf_map_delete_elem(&execs, &tgid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_enter_execve(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_enter_execveat(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2],
			EXECSNOOP_F_EXECVEAT);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tp_exit_execve(struct sk_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int tp_exit_execveat(struct sk_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
