// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * execsnoop: execve(2) and execveat(2). A successful exec is reported at
 * sched:sched_process_exec, with the command line read from the new
 * program's memory; a failed one (with -x) at the syscall's return, with
 * argv read through the pointers the syscall was given.
 */
#include "snoopkit.bpf.h"
#include "execsnoop.h"

const volatile bool include_failed = false;
const volatile __u32 targ_ppid = 0;
/* Bytes of the command line kept, NULs included (--max-bytes). */
const volatile __u32 budget = EXECSNOOP_DEFAULT_BUDGET;
/*
 * Where the kernel keeps what these programs read, taken by user space
 * from the kernel's BTF (src/btf_offsets.cc) before load: task_struct's
 * real_parent, tgid and mm, mm_struct's start_stack, arg_start and
 * arg_end. Reading at them with bpf_probe_read_kernel instead of
 * BPF_CORE_READ leaves the object without CO-RE relocations, so libbpf
 * never loads that BTF (it is megabytes). 0: not set, not read.
 */
const volatile __u32 task_real_parent_off = 0;
const volatile __u32 task_tgid_off = 0;
const volatile __u32 task_mm_off = 0;
const volatile __u32 mm_start_stack_off = 0;
const volatile __u32 mm_arg_start_off = 0;
const volatile __u32 mm_arg_end_off = 0;

#define EVENT_HEADER __builtin_offsetof(struct execsnoop_event, args)

/* An exec between its syscall's entry and its end. */
struct exec_start {
	__u64 mm;	  /* current->mm at entry: a failed exec's memory is still it */
	__u64 filename; /* the syscall's arguments (user pointers) */
	__u64 argv;
	__u32 flags;
	__u32 pad;
};

/*
 * In-flight execs by process id, not thread id: when a non-leader thread
 * execs, the kernel (de_thread) gives it the leader's pid, so only the
 * tgid is the same at entry and at the end. No prealloc: an entry lives
 * one syscall.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct exec_start);
} execs SEC(".maps");

/*
 * Where an event is built: one slot per CPU, indexed by CPU number. A
 * per-CPU array cannot hold it (its values stop at 32 KiB). User space
 * sets max_entries to the number of CPUs and cuts the value after budget
 * bytes of args (no BTF type, so it can be resized); the verifier checks
 * every access against that size.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct execsnoop_event));
} scratch SEC(".maps");

/* sched:sched_process_exec, as its format file shows it (Linux 3.4+). */
struct sched_exec_ctx {
	__u64 common;
	__u32 filename_loc; /* __data_loc char[]: offset in the record | length << 16 */
	__s32 pid;
	__s32 old_pid;
};

static __always_inline __u64 read_kernel_ulong(const void *p)
{
	__u64 v = 0;

	if (bpf_probe_read_kernel(&v, sizeof(v), p))
		return 0;
	return v;
}

/* current->real_parent->tgid, or 0 when it cannot be read. */
static __always_inline __u32 parent_tgid(void)
{
	const char *task = (const char *)bpf_get_current_task();
	const char *parent;
	__u32 ppid = 0;

	if (!task_real_parent_off || !task_tgid_off)
		return 0;
	/* The pointer into a local first, then the field it points to. */
	parent = (const char *)read_kernel_ulong(task + task_real_parent_off);
	if (!parent || bpf_probe_read_kernel(&ppid, sizeof(ppid), parent + task_tgid_off))
		return 0;
	return ppid;
}

static __always_inline const char *current_mm(void)
{
	if (!task_mm_off)
		return NULL;
	return (const char *)read_kernel_ulong((const char *)bpf_get_current_task() + task_mm_off);
}

/* The per-CPU slot, its header filled from the current task. */
static __always_inline struct execsnoop_event *start_event(__u32 flags)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct execsnoop_event *e = bpf_map_lookup_elem(&scratch, &cpu);

	/* No slot for this CPU (the map was not sized): the event is lost. */
	if (!e) {
		sk_count_lost();
		return NULL;
	}
	e->ktime_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->ppid = parent_tgid();
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->retval = 0;
	e->flags = flags;
	e->args_count = 0;
	e->args_size = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	sk_task_context(&e->ctx);
	return e;
}

/* Send the header and args_size bytes of args. */
static __always_inline void send(void *ctx, struct execsnoop_event *e)
{
	/*
	 * The compiler clamps size again in sk_output as "if CONST > size", a
	 * comparison Linux 6.1's verifier cannot decide. The mask changes
	 * nothing (size <= budget < 65536) but shows the compiler that no
	 * further clamp is needed.
	 */
	_Static_assert(EXECSNOOP_MAX_BUDGET < 65536, "args mask");
	__u32 size = e->args_size;

	if (size > budget)
		size = budget;
	size &= 65535;
	sk_output_upto(ctx, e, EVENT_HEADER + size, EVENT_HEADER + budget);
}

static __always_inline int on_enter(const char *filename, const char *const *argv, __u32 flags)
{
	struct exec_start st = {};
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!sk_task_wanted())
		return 0;
	if (targ_ppid && parent_tgid() != targ_ppid)
		return 0;
	st.flags = flags;
	/* Only a failed exec is read here, at its end: keep where from. */
	if (include_failed) {
		st.mm = (__u64)current_mm();
		st.filename = (__u64)filename;
		st.argv = (__u64)argv;
	}
	bpf_map_update_elem(&execs, &tgid, &st, BPF_ANY);
	return 0;
}

/*
 * A failed exec: the caller's memory is untouched, and the kernel has read
 * the filename (and usually argv) by now, so pages the caller had not yet
 * faulted in at entry (string literals right after fork) are resident.
 */
static __always_inline void read_failed(struct execsnoop_event *e, const struct exec_start *st)
{
	const char *const *argv = (const char *const *)st->argv;
	const char *filename = (const char *)st->filename;
	const char *arg = NULL;
	long len;
	char c;
	int i;

	/* After the point of no return a failed exec has no old memory left. */
	if ((__u64)current_mm() != st->mm) {
		e->flags |= EXECSNOOP_F_FILENAME_UNREADABLE | EXECSNOOP_F_ARGV_UNREADABLE;
		return;
	}
	len = bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
	if (len < 0) {
		e->filename[0] = '\0';
		e->flags |= EXECSNOOP_F_FILENAME_UNREADABLE;
	} else if (len == sizeof(e->filename) &&
		   (bpf_probe_read_user(&c, 1, filename + sizeof(e->filename) - 1) || c)) {
		/* A full buffer is a cut only if the name goes on. */
		e->flags |= EXECSNOOP_F_FILENAME_TRUNCATED;
	}

	/* argv: each string NUL-terminated, back to back, within the budget. */
	if (!argv)
		return; /* execve(path, NULL, ...): no arguments */
	for (i = 0; i < EXECSNOOP_FAILED_ARGS; i++) {
		/* 64 bits: a bounds check on a 32-bit copy would not bind off. */
		__u64 off = e->args_size;
		__u64 room;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i])) {
			e->flags |= EXECSNOOP_F_ARGV_UNREADABLE;
			return;
		}
		if (!arg)
			return;
		if (off >= budget || off >= EXECSNOOP_MAX_BUDGET)
			break; /* no room left for argv[i] */
		/*
		 * Read up to budget bytes, whatever the room left: the slot has
		 * budget bytes to spare past the args (see the tool), and a size
		 * the verifier knows keeps off + size within it.
		 */
		room = budget - off;
		len = bpf_probe_read_user_str(&e->args[off], budget, arg);
		if (len < 0) {
			e->flags |= EXECSNOOP_F_ARGV_UNREADABLE;
			return;
		}
		/* Some kernels return 0, not 1, for an empty string: keep it as "". */
		if (len == 0) {
			e->args[off] = '\0';
			len = 1;
		}
		if (len >= room) {
			/* Past the budget, or its last byte: the NUL, or a cut? */
			if (bpf_probe_read_user(&c, 1, arg + room - 1))
				c = 1;
			if (c) {
				e->args[budget - 1] = c;
				e->args_size = budget;
				e->flags |= EXECSNOOP_F_ARGS_CUT;
				i++;
				break;
			}
			len = room;
		}
		e->args_size = off + len;
	}
	/* Stopped before the end: is there an argument past those read? */
	if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
		return;
	e->flags |= EXECSNOOP_F_ARGS_CUT;
	e->args_count = i + 1; /* at least */
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct execsnoop_event *e;
	struct exec_start *st;

	st = bpf_map_lookup_elem(&execs, &tgid);
	if (!st)
		return 0;
	/* A success was reported at sched_process_exec. */
	if (ret >= 0 || !include_failed || !sk_comm_wanted())
		goto out;
	e = start_event(st->flags);
	if (!e)
		goto out;
	e->retval = ret;
	e->filename[0] = '\0';
	read_failed(e, st);
	send(ctx, e);
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

/*
 * The exec succeeded: the new program's memory holds the command line the
 * kernel has just copied there (resident, whatever the caller's pages
 * were), and the event's filename field is the kernel's copy of the name.
 */
SEC("tracepoint/sched/sched_process_exec")
int tp_sched_exec(struct sched_exec_ctx *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 loc = ctx->filename_loc, name_len = loc >> 16;
	struct execsnoop_event *e;
	struct exec_start *st;
	const char *mm;
	__u64 start, end, len;
	long n;

	st = bpf_map_lookup_elem(&execs, &tgid);
	if (!st || !sk_comm_wanted())
		return 0;
	e = start_event(st->flags);
	if (!e)
		return 0;
	e->tid = ctx->old_pid;

	/* The name's length counts its NUL: exact, no need to look past it. */
	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				      (const char *)ctx + (loc & 0xffff));
	if (n < 0) {
		e->filename[0] = '\0';
		e->flags |= EXECSNOOP_F_FILENAME_UNREADABLE;
	} else if (name_len > sizeof(e->filename)) {
		e->flags |= EXECSNOOP_F_FILENAME_TRUNCATED;
	}

	mm = current_mm();
	start = mm && mm_arg_start_off ? read_kernel_ulong(mm + mm_arg_start_off) : 0;
	end = mm && mm_arg_end_off ? read_kernel_ulong(mm + mm_arg_end_off) : 0;
	if (!start || end < start) {
		e->flags |= EXECSNOOP_F_ARGV_UNREADABLE;
		goto send;
	}
	len = end - start;
	if (len > budget) {
		/* argc is the word at start_stack (fs/binfmt_elf.c create_elf_tables). */
		__u64 argc = 0;

		len = budget;
		e->flags |= EXECSNOOP_F_ARGS_CUT;
		if (mm_start_stack_off &&
		    !bpf_probe_read_user(&argc, sizeof(argc),
					 (const void *)read_kernel_ulong(mm + mm_start_stack_off)))
			e->args_count = argc;
	}
	/*
	 * len <= budget, a constant the verifier knows. A clamp to
	 * EXECSNOOP_MAX_BUDGET here compiles to "if CONST > len", which Linux
	 * 6.1's verifier cannot decide: it walks the impossible branch with
	 * len = EXECSNOOP_MAX_BUDGET and rejects the read as past the slot.
	 * The mask changes nothing (len <= budget < 65536) and bounds len for
	 * the compiler without a comparison.
	 */
	len &= 65535;
	if (bpf_probe_read_user(e->args, len, (const void *)start)) {
		e->flags |= EXECSNOOP_F_ARGV_UNREADABLE;
		goto send;
	}
	e->args_size = len;
send:
	send(ctx, e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
