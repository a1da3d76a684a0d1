/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* execsnoop: the event shared by bpf/execsnoop.bpf.c and tools/execsnoop.cpp. */
#ifndef EXECSNOOP_H
#define EXECSNOOP_H

#include "snoopkit_common.h"

#define EXECSNOOP_MAX_ARGS 60 /* hard cap of --max-args */
#define EXECSNOOP_DEFAULT_ARGS 20 /* --max-args default, as libbpf-tools */
#define EXECSNOOP_ARG_SIZE 128 /* one argument, NUL included */
#define EXECSNOOP_ARGS_SIZE (EXECSNOOP_MAX_ARGS * EXECSNOOP_ARG_SIZE)
#define EXECSNOOP_FILENAME_SIZE 256

/* execsnoop_event.flags */
#define EXECSNOOP_F_EXECVEAT (1u << 0) /* execveat(2), not execve(2) */
#define EXECSNOOP_F_ARGS_TRUNCATED (1u << 1) /* more arguments than --max-args */
#define EXECSNOOP_F_ARG_TRUNCATED (1u << 2) /* an argument was cut at ARG_SIZE-1 bytes */
#define EXECSNOOP_F_FILENAME_TRUNCATED (1u << 3)

/*
 * Sent with a variable length: offsetof(args) + args_size bytes. args holds
 * args_count NUL-terminated strings back to back (argv[0] first).
 */
struct execsnoop_event {
	__u64 ktime_ns; /* bpf_ktime_get_ns() at exec return */
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__s32 retval; /* 0 or -errno */
	__u32 flags;
	__u32 args_count;
	__u32 args_size;
	char comm[SK_TASK_COMM_LEN];
	char filename[EXECSNOOP_FILENAME_SIZE];
	char args[EXECSNOOP_ARGS_SIZE];
};

#endif /* EXECSNOOP_H */
