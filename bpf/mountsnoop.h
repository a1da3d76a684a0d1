/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mountsnoop: the event shared by bpf/mountsnoop.bpf.c and tools/mountsnoop.cpp. */
#ifndef MOUNTSNOOP_H
#define MOUNTSNOOP_H

#include "snoopkit_common.h"

#define MOUNTSNOOP_STR_SIZE 4096 /* a long string slot: PATH_MAX, or a page of mount data */
#define MOUNTSNOOP_KEY_SIZE 256 /* the short slot: a file system type or an fsconfig key */
#define MOUNTSNOOP_NSTR 4 /* slots 0-2 long, 3 short */

enum mountsnoop_syscall {
	MOUNTSNOOP_SYS_MOUNT = 0,
	MOUNTSNOOP_SYS_UMOUNT = 1, /* umount2(2); the kernel's syscall is "umount" */
	MOUNTSNOOP_SYS_FSOPEN = 2,
	MOUNTSNOOP_SYS_FSCONFIG = 3,
	MOUNTSNOOP_SYS_FSMOUNT = 4,
	MOUNTSNOOP_SYS_FSPICK = 5,
	MOUNTSNOOP_SYS_MOVE_MOUNT = 6,
	MOUNTSNOOP_SYS_OPEN_TREE = 7,
	MOUNTSNOOP_SYS_MOUNT_SETATTR = 8,
	MOUNTSNOOP_SYS_PIVOT_ROOT = 9,
	MOUNTSNOOP_SYS_MAX,
};

/*
 * What each slot holds, by syscall (unused: empty):
 *   mount          str0 source, str1 target, str2 data, str3 fstype; flags
 *   umount         str1 target; flags
 *   fsopen         str3 fstype; flags
 *   fsconfig       fd0 fs_fd, cmd, str3 key, str2 value, num0 aux
 *   fsmount        fd0 fs_fd; flags, num0 attr_flags
 *   fspick         fd0 dfd, str0 path; flags
 *   move_mount     fd0 from_dfd, str0 from_path, fd1 to_dfd, str1 to_path; flags
 *   open_tree      fd0 dfd, str0 path; flags
 *   mount_setattr  fd0 dfd, str0 path; flags, num0-3 struct mount_attr
 *                  (attr_set, attr_clr, propagation, userns_fd)
 *   pivot_root     str0 new_root, str1 put_old
 * fsconfig's value is bytes, not a string, for FSCONFIG_SET_BINARY (aux of them).
 */
struct mountsnoop_event {
	__u64 ktime_ns; /* at syscall return */
	struct sk_task_ctx ctx; /* the task: cgroup, namespaces, pid and tid inside */
	__u64 latency_ns; /* syscall duration */
	__u64 flags;
	__u64 num[4];
	__s64 ret; /* fd, 0 or -errno */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 mnt_ns; /* inode number of the caller's mount namespace */
	__s32 fd[2];
	__u32 cmd;
	__u32 syscall; /* enum mountsnoop_syscall */
	__u32 str_len[MOUNTSNOOP_NSTR]; /* bytes captured, NUL excluded */
	__u32 truncated; /* bit i: slot i was longer than it and was cut */
	__u32 pad;
	char comm[SK_TASK_COMM_LEN];
	char str[MOUNTSNOOP_NSTR - 1][MOUNTSNOOP_STR_SIZE];
	char key[MOUNTSNOOP_KEY_SIZE]; /* slot 3 */
};

#endif /* MOUNTSNOOP_H */
