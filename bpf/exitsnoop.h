/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* exitsnoop: the event shared by bpf/exitsnoop.bpf.c and tools/exitsnoop.cpp. */
#ifndef EXITSNOOP_H
#define EXITSNOOP_H

#include "snoopkit_common.h"

/* exitsnoop_event.flags */
#define EXITSNOOP_F_PROCESS_EXIT (1u << 0) /* the last thread of the process: the process ended */

struct exitsnoop_event {
	__u64 ktime_ns; /* bpf_ktime_get_ns() at exit */
	struct sk_task_ctx ctx; /* the task: cgroup, namespaces, pid and tid inside */
	__u64 start_ns; /* CLOCK_MONOTONIC start: the process's (its leader's), or the thread's with -T */
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 exit_code; /* task->exit_code: a wait(2) status (exit status << 8 | core 0x80 | signal) */
	__u32 flags;
	char comm[SK_TASK_COMM_LEN];
};

#endif /* EXITSNOOP_H */
