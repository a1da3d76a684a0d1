/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* statsnoop: the event shared by bpf/statsnoop.bpf.c and tools/statsnoop.cpp. */
#ifndef STATSNOOP_H
#define STATSNOOP_H

#include "fullpath_abi.h"
#include "snoopkit_common.h"

#define STATSNOOP_PATH_SIZE 4096 /* PATH_MAX, NUL included */

enum statsnoop_syscall {
	STATSNOOP_SYS_STAT = 0, /* stat(2): the kernel's newstat */
	STATSNOOP_SYS_LSTAT = 1, /* lstat(2): newlstat */
	STATSNOOP_SYS_FSTATAT = 2, /* newfstatat(2) */
	STATSNOOP_SYS_STATX = 3,
	STATSNOOP_SYS_STATFS = 4,
};

/* statsnoop_event.path_flags */
#define STATSNOOP_F_PATH_TRUNCATED (1u << 0)
#define STATSNOOP_F_PATH_FAULT (1u << 1) /* the path could not be read */

/* Sent with a variable length: offsetof(path) + path_size bytes, or, with
 * -F and a relative path, offsetof(dir) + dir_size bytes. */
struct statsnoop_event {
	__u64 ktime_ns;
	struct sk_task_ctx ctx; /* where the task runs (sk_task_context) */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret; /* 0 or -errno */
	__s32 dfd; /* fstatat, statx: the directory fd (AT_FDCWD = -100); others: AT_FDCWD */
	__u32 flags; /* fstatat, statx: AT_* flags; others: 0 */
	__u32 mask; /* statx: STATX_* mask; others: 0 */
	__u32 syscall; /* enum statsnoop_syscall */
	__u32 path_flags;
	__u32 path_size; /* bytes in path, NUL included */
	__u32 dir_size; /* -F, relative path: bytes in dir (no NUL); else 0 */
	__u32 dir_flags; /* SK_FULLPATH_F_* */
	char comm[SK_TASK_COMM_LEN];
	char path[STATSNOOP_PATH_SIZE];
	char dir[SK_FULLPATH_DIR_SIZE]; /* -F: the directory path is relative to */
};

#endif /* STATSNOOP_H */
