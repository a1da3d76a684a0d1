/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* execsnoop: the event shared by bpf/execsnoop.bpf.c and tools/execsnoop.cpp. */
#ifndef EXECSNOOP_H
#define EXECSNOOP_H

#include "snoopkit_common.h"

#define EXECSNOOP_DEFAULT_BUDGET 32768 /* --max-bytes default: bytes of argv kept, NULs included */
/*
 * Largest --max-bytes: the whole event must fit one perf buffer sample,
 * whose header counts its size in 16 bits.
 */
#define EXECSNOOP_MAX_BUDGET 61440
/*
 * A failed exec's argv is read pointer by pointer: at most this many. More
 * iterations exceed Linux 6.1's verifier budget (1M instructions at 64).
 */
#define EXECSNOOP_FAILED_ARGS 16
#define EXECSNOOP_FILENAME_SIZE 256

/* execsnoop_event.flags */
#define EXECSNOOP_F_EXECVEAT (1u << 0) /* execveat(2), not execve(2) */
#define EXECSNOOP_F_ARGS_CUT (1u << 1) /* argv went on past args_size bytes */
#define EXECSNOOP_F_FILENAME_TRUNCATED (1u << 3)
#define EXECSNOOP_F_ARGV_UNREADABLE (1u << 4) /* argv (or its rest) could not be read */
#define EXECSNOOP_F_FILENAME_UNREADABLE (1u << 5)

/*
 * Sent with a variable length: offsetof(args) + args_size bytes. args holds
 * the command line as the kernel lays it out, each argument NUL-terminated,
 * back to back (argv[0] first); with EXECSNOOP_F_ARGS_CUT the budget cut it
 * and the last argument may lack its NUL.
 */
struct execsnoop_event {
	__u64 ktime_ns; /* bpf_ktime_get_ns() when the exec was seen to end */
	struct sk_task_ctx ctx; /* where the task runs (sk_task_context) */
	__u32 pid;
	__u32 tid; /* the thread that called exec */
	__u32 ppid;
	__u32 uid;
	__s32 retval; /* 0 or -errno */
	__u32 flags;
	/*
	 * How many arguments the exec was given, when the cut hid some (argc,
	 * or for a failed exec at least one more than those read); 0 otherwise:
	 * then args holds them all.
	 */
	__u32 args_count;
	__u32 args_size;
	char comm[SK_TASK_COMM_LEN];
	char filename[EXECSNOOP_FILENAME_SIZE];
	char args[EXECSNOOP_MAX_BUDGET];
};

#endif /* EXECSNOOP_H */
