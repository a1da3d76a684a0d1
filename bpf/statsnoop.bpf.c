// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* statsnoop: stat(2), lstat(2), fstatat(2), statx(2), statfs(2); kept on entry, sent on return. */
#include "fullpath.bpf.h"
#include "stash.bpf.h"
#include "statsnoop.h"

#define AT_FDCWD -100

const volatile bool failed_only = false;

struct stat_args {
	const char *path;
	__s32 dfd;
	__u32 flags;
	__u32 mask;
	__u32 syscall;
};

/* In-flight calls of each thread, from entry to exit. */
SK_STASH(start, struct stat_args);

static __always_inline int on_enter(const char *path, __s32 dfd, __u32 flags, __u32 mask,
				    __u32 syscall)
{
	struct stat_args args = {
		.path = path, .dfd = dfd, .flags = flags, .mask = mask, .syscall = syscall,
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
	struct statsnoop_event *e;
	struct stat_args *args;
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
	e->pid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->dfd = args->dfd;
	e->flags = args->flags;
	e->mask = args->mask;
	e->syscall = args->syscall;
	e->path_flags = 0;
	e->dir_size = 0;
	e->dir_flags = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	start_context(&e->ctx, args);
	len = bpf_probe_read_user_str(e->path, sizeof(e->path), args->path);
	if (len <= 0) {
		e->path[0] = '\0';
		len = 1;
		e->path_flags |= STATSNOOP_F_PATH_FAULT;
	} else if (len == sizeof(e->path) &&
		   !bpf_probe_read_user(&next, 1, args->path + sizeof(e->path) - 1) && next) {
		/* A full buffer is a cut only if the user string goes on. */
		e->path_flags |= STATSNOOP_F_PATH_TRUNCATED;
	}
	e->path_size = len;
	size = __builtin_offsetof(struct statsnoop_event, path) + (len & (STATSNOOP_PATH_SIZE * 2 - 1));
	/* -F: a relative path (or fstatat's empty one) also carries its directory. */
	if (sk_fp_enabled && !(e->path_flags & STATSNOOP_F_PATH_FAULT) && e->path[0] != '/') {
		dir_size = sk_fullpath_dir(e->dir, args->dfd, &e->dir_flags);
		e->dir_size = dir_size;
		if (dir_size)
			size = __builtin_offsetof(struct statsnoop_event, dir) + dir_size;
	}
	sk_output(ctx, e, size);
out:
	start_drop(args);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_newstat")
int tp_enter_newstat(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], AT_FDCWD, 0, 0, STATSNOOP_SYS_STAT);
}

SEC("tracepoint/syscalls/sys_enter_newlstat")
int tp_enter_newlstat(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], AT_FDCWD, 0, 0, STATSNOOP_SYS_LSTAT);
}

/* newfstatat(dfd, path, statbuf, flags); glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH). */
SEC("tracepoint/syscalls/sys_enter_newfstatat")
int tp_enter_newfstatat(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[1], (__s32)ctx->args[0], (__u32)ctx->args[3], 0,
			STATSNOOP_SYS_FSTATAT);
}

/* statx(dfd, path, flags, mask, statxbuf) */
SEC("tracepoint/syscalls/sys_enter_statx")
int tp_enter_statx(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[1], (__s32)ctx->args[0], (__u32)ctx->args[2],
			(__u32)ctx->args[3], STATSNOOP_SYS_STATX);
}

SEC("tracepoint/syscalls/sys_enter_statfs")
int tp_enter_statfs(struct sk_sys_enter *ctx)
{
	return on_enter((const char *)ctx->args[0], AT_FDCWD, 0, 0, STATSNOOP_SYS_STATFS);
}

/* One exit program for every syscall traced: the runtime attaches it to
 * each sys_exit_<name> the kernel has, so it is verified and compiled once. */
SEC("tracepoint")
int tp_exit(struct sk_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
