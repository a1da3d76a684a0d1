/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sigsnoop: the event shared by bpf/sigsnoop.bpf.c and tools/sigsnoop.cpp (-k uses killsnoop.h). */
#ifndef SIGSNOOP_H
#define SIGSNOOP_H

#include "snoopkit_common.h"

/* From the signal:signal_generate tracepoint, in the sender's context. */
struct sigsnoop_event {
	__u64 ktime_ns;
	struct sk_task_ctx ctx; /* the task: cgroup, namespaces, pid and tid inside */
	__u32 pid; /* sender (current task) */
	__u32 tid;
	__u32 uid;
	__s32 tpid; /* the target task's pid (a thread id: the leader's for a process-wide signal) */
	__s32 sig;
	__s32 si_code; /* siginfo si_code: SI_USER 0, SI_KERNEL 0x80, SI_TKILL -6, CLD_EXITED 1, ... */
	__s32 si_errno;
	__s32 result; /* TRACE_SIGNAL_*: 0 delivered, 1 ignored, 2 already pending, 3 overflow, 4 info lost */
	__u32 group; /* 1: sent to the whole thread group (shared pending) */
	__u32 pad;
	char comm[SK_TASK_COMM_LEN]; /* sender */
	char tcomm[SK_TASK_COMM_LEN]; /* target */
};

#endif /* SIGSNOOP_H */
