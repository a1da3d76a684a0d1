/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* opensnoop: the event shared by bpf/opensnoop.bpf.c and tools/opensnoop.cpp. */
#ifndef OPENSNOOP_H
#define OPENSNOOP_H

#include "fullpath_abi.h"
#include "snoopkit_common.h"

#define OPENSNOOP_PATH_SIZE 4096 /* PATH_MAX, NUL included */

enum opensnoop_syscall {
	OPENSNOOP_SYS_OPEN = 0,
	OPENSNOOP_SYS_OPENAT = 1,
	OPENSNOOP_SYS_OPENAT2 = 2,
};

/* opensnoop_event.path_flags */
#define OPENSNOOP_F_PATH_TRUNCATED (1u << 0)
#define OPENSNOOP_F_PATH_FAULT (1u << 1) /* the path could not be read */

/* Sent with a variable length: offsetof(path) + path_size bytes, or, with
 * -F and a relative path, offsetof(dir) + dir_size bytes. */
struct opensnoop_event {
	__u64 ktime_ns;
	struct sk_task_ctx ctx; /* where the task runs (sk_task_context) */
	__u64 flags; /* open flags (openat2: how.flags) */
	__u64 mode;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret; /* fd or -errno */
	__s32 dfd; /* directory fd (AT_FDCWD = -100); open(2): AT_FDCWD */
	__u32 syscall; /* enum opensnoop_syscall */
	__u32 path_flags;
	__u32 path_size; /* bytes in path, NUL included */
	__u32 dir_size; /* -F, relative path: bytes in dir (no NUL); else 0 */
	__u32 dir_flags; /* SK_FULLPATH_F_* */
	char comm[SK_TASK_COMM_LEN];
	char path[OPENSNOOP_PATH_SIZE];
	char dir[SK_FULLPATH_DIR_SIZE]; /* -F: the directory path is relative to */
};

#endif /* OPENSNOOP_H */
