// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* mountsnoop: mount(2), umount2(2) and the new mount API; arguments kept on entry, sent on return. */
#include "snoopkit.bpf.h"
#include "mountsnoop.h"

/* The event is built in the per-CPU scratch buffer of snoopkit.bpf.h. */
_Static_assert(sizeof(struct mountsnoop_event) <= SK_MAX_EVENT_SIZE, "event too big for sk_heap");

#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_BINARY 2
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4

struct mount_args {
	__u64 ts;
	__u64 flags;
	__u64 num[4];
	const char *str[MOUNTSNOOP_NSTR];
	__s32 fd[2];
	__u32 cmd;
	__u32 syscall;
	__u32 binary; /* str[2] points to num[0] bytes, not to a string */
	__u32 pad;
};

/* In-flight calls by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mount_args);
} start SEC(".maps");

static __always_inline int on_enter(struct mount_args *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;
	a->ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, a, BPF_ANY);
	return 0;
}

/* Copies a user string into dst; returns its length and flags a cut in *cut. */
static __always_inline __u32 read_str(char *dst, __u32 size, const char *src, __u32 *cut, __u32 bit)
{
	long n;
	char next;

	dst[0] = '\0';
	if (!src)
		return 0;
	n = bpf_probe_read_user_str(dst, size, src);
	if (n <= 0) {
		dst[0] = '\0';
		return 0;
	}
	/* A full buffer is a cut only if the user string goes on. */
	if (n == size && !bpf_probe_read_user(&next, 1, src + size - 1) && next)
		*cut |= bit;
	return n - 1;
}

/* Copies len bytes (FSCONFIG_SET_BINARY's blob) into a long slot. */
static __always_inline __u32 read_bytes(char *dst, const char *src, __u64 len, __u32 *cut, __u32 bit)
{
	__u32 n = len;

	if (len > MOUNTSNOOP_STR_SIZE) {
		n = MOUNTSNOOP_STR_SIZE;
		*cut |= bit;
	}
	if (!src || bpf_probe_read_user(dst, n, src))
		return 0;
	return n;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id;
	struct mountsnoop_event *e;
	struct mount_args *a;

	a = bpf_map_lookup_elem(&start, &tid);
	if (!a)
		return 0;
	/* Mount calls are rare: build the whole event in per-CPU scratch and send it. */
	e = sk_heap_get();
	if (!e)
		goto out;
	e->ktime_ns = now;
	sk_task_context(&e->ctx);
	e->latency_ns = now - a->ts;
	e->flags = a->flags;
	__builtin_memcpy(e->num, a->num, sizeof(e->num));
	e->ret = ret;
	e->pid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->fd[0] = a->fd[0];
	e->fd[1] = a->fd[1];
	e->cmd = a->cmd;
	e->syscall = a->syscall;
	e->truncated = 0;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->str_len[0] = read_str(e->str[0], MOUNTSNOOP_STR_SIZE, a->str[0], &e->truncated, 1);
	e->str_len[1] = read_str(e->str[1], MOUNTSNOOP_STR_SIZE, a->str[1], &e->truncated, 2);
	if (a->binary)
		e->str_len[2] = read_bytes(e->str[2], a->str[2], a->num[0], &e->truncated, 4);
	else
		e->str_len[2] = read_str(e->str[2], MOUNTSNOOP_STR_SIZE, a->str[2], &e->truncated, 4);
	e->str_len[3] = read_str(e->key, MOUNTSNOOP_KEY_SIZE, a->str[3], &e->truncated, 8);
	sk_output(ctx, e, sizeof(*e));
out:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

#define ARG(n) (ctx->args[n])
#define STR(n) ((const char *)ctx->args[n])
#define ENTER_PROG(name, SYS, ...)                                              \
	SEC("tracepoint/syscalls/sys_enter_" #name)                             \
	int tp_enter_##name(struct sk_sys_enter *ctx)              \
	{                                                                       \
		struct mount_args a = { .syscall = MOUNTSNOOP_SYS_##SYS };      \
		__VA_ARGS__;                                                    \
		return on_enter(&a);                                            \
	}

/* mount(source, target, fstype, flags, data) */
ENTER_PROG(mount, MOUNT, a.str[0] = STR(0); a.str[1] = STR(1); a.str[3] = STR(2);
	   a.flags = ARG(3); a.str[2] = STR(4))
/* umount2(target, flags): the kernel names it umount */
ENTER_PROG(umount, UMOUNT, a.str[1] = STR(0); a.flags = ARG(1))
/* fsopen(fs_name, flags) */
ENTER_PROG(fsopen, FSOPEN, a.str[3] = STR(0); a.flags = ARG(1))
/* fsconfig(fs_fd, cmd, key, value, aux): value is a string, a path, or aux bytes */
ENTER_PROG(fsconfig, FSCONFIG, a.fd[0] = ARG(0); a.cmd = ARG(1); a.str[3] = STR(2);
	   a.num[0] = (__s32)ARG(4);
	   if (a.cmd == FSCONFIG_SET_STRING || a.cmd == FSCONFIG_SET_PATH ||
	       a.cmd == FSCONFIG_SET_PATH_EMPTY || a.cmd == FSCONFIG_SET_BINARY) a.str[2] = STR(3);
	   a.binary = a.cmd == FSCONFIG_SET_BINARY)
/* fsmount(fs_fd, flags, attr_flags) */
ENTER_PROG(fsmount, FSMOUNT, a.fd[0] = ARG(0); a.flags = ARG(1); a.num[0] = ARG(2))
/* fspick(dfd, path, flags) */
ENTER_PROG(fspick, FSPICK, a.fd[0] = ARG(0); a.str[0] = STR(1); a.flags = ARG(2))
/* move_mount(from_dfd, from_path, to_dfd, to_path, flags) */
ENTER_PROG(move_mount, MOVE_MOUNT, a.fd[0] = ARG(0); a.str[0] = STR(1); a.fd[1] = ARG(2);
	   a.str[1] = STR(3); a.flags = ARG(4))
/* open_tree(dfd, path, flags) */
ENTER_PROG(open_tree, OPEN_TREE, a.fd[0] = ARG(0); a.str[0] = STR(1); a.flags = ARG(2))
/* mount_setattr(dfd, path, flags, uattr, usize): struct mount_attr is read on entry */
ENTER_PROG(mount_setattr, MOUNT_SETATTR, a.fd[0] = ARG(0); a.str[0] = STR(1); a.flags = ARG(2);
	   if (ARG(4) >= sizeof(a.num)) bpf_probe_read_user(a.num, sizeof(a.num), (void *)ARG(3)))
/* pivot_root(new_root, put_old) */
ENTER_PROG(pivot_root, PIVOT_ROOT, a.str[0] = STR(0); a.str[1] = STR(1))

/* One exit program for every syscall traced: the runtime attaches it to
 * each sys_exit_<name> the kernel has, so it is verified and compiled once. */
SEC("tracepoint")
int tp_exit(struct sk_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
