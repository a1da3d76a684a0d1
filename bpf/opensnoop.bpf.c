// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* opensnoop: open(2), openat(2) and openat2(2), arguments kept on entry, sent on return. */
#include "fullpath.bpf.h"
#include "stash.bpf.h"
#include "opensnoop.h"

const volatile bool failed_only = false;

/* The head of openat2's struct open_how (include/uapi/linux/openat2.h): a
 * user-space ABI, only ever extended at its end, so read without CO-RE. */
struct sk_open_how {
	__u64 flags;
	__u64 mode;
};

struct args_t {
	const char *path;
	__u64 flags;
	__u64 mode;
	__s32 dfd;
	__u32 syscall;
};

/* In-flight calls of each thread, from entry to exit. */
SK_STASH(start, struct args_t);

static __always_inline int on_enter(const char *path, __s32 dfd, __u64 flags, __u64 mode,
				    __u32 syscall)
{
	struct args_t args = {
		.path = path, .flags = flags, .mode = mode, .dfd = dfd, .syscall = syscall,
	};

	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;
	start_put(&args);
	return 0;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct opensnoop_event *e;
	struct args_t *args;
	__u64 size;
	__u32 dir_size;
	long len;
	char next;

	args = start_get();
	if (!args)
		return 0;
	if (failed_only && ret >= 0)
		goto out;

	/* Build the event in per-CPU scratch, then send only the bytes used. */
	e = sk_heap_get();
	if (!e)
		goto out;
	e->ktime_ns = bpf_ktime_get_ns();
	e->flags = args->flags;
	e->mode = args->mode;
	e->pid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->dfd = args->dfd;
	e->syscall = args->syscall;
	e->path_flags = 0;
	e->dir_size = 0;
	e->dir_flags = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	start_context(&e->ctx, args);
	len = bpf_probe_read_user_str(e->path, sizeof(e->path), args->path);
	/* Some kernels return 0, not 1, for an empty string: that is "", not a fault. */
	if (len == 0) {
		e->path[0] = '\0';
		len = 1;
	} else if (len < 0) {
		e->path[0] = '\0';
		len = 1;
		e->path_flags |= OPENSNOOP_F_PATH_FAULT;
	} else if (len == sizeof(e->path) &&
		   !bpf_probe_read_user(&next, 1, args->path + sizeof(e->path) - 1) && next) {
		/* A full buffer is a cut only if the user string goes on. */
		e->path_flags |= OPENSNOOP_F_PATH_TRUNCATED;
	}
	e->path_size = len;
	size = __builtin_offsetof(struct opensnoop_event, path) + (len & (OPENSNOOP_PATH_SIZE * 2 - 1));
	/* -F: a relative path also carries the directory it is relative to. */
	if (sk_fp_enabled && !(e->path_flags & OPENSNOOP_F_PATH_FAULT) && e->path[0] != '/') {
		dir_size = sk_fullpath_dir(e->dir, args->dfd, &e->dir_flags);
		e->dir_size = dir_size;
		if (dir_size)
			size = __builtin_offsetof(struct opensnoop_event, dir) + dir_size;
	}
	sk_output(ctx, e, size);
out:
	start_drop(args);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int tp_enter_open(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], -100 /* AT_FDCWD */, ctx->args[1],
			ctx->args[2], OPENSNOOP_SYS_OPEN);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_enter_openat(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[1], (__s32)ctx->args[0], ctx->args[2],
			ctx->args[3], OPENSNOOP_SYS_OPENAT);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int tp_enter_openat2(struct sk_sys_enter *ctx)
{
	struct sk_open_how how = {};

	/* openat2(dfd, path, how, size): flags and mode live in user memory. */
	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return on_enter((const char *)ctx->args[1], (__s32)ctx->args[0], how.flags, how.mode,
			OPENSNOOP_SYS_OPENAT2);
}

/* One exit program for all three: the runtime attaches it to sys_exit_open,
 * sys_exit_openat and sys_exit_openat2 (whichever the kernel has), so the
 * kernel verifies and compiles it once. */
SEC("tracepoint")
int tp_exit(struct sk_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
