/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* killsnoop: the event shared by bpf/killsnoop.bpf.h (killsnoop, sigsnoop -k) and user space. */
#ifndef KILLSNOOP_H
#define KILLSNOOP_H

#include "snoopkit_common.h"

enum killsnoop_syscall {
	KILLSNOOP_SYS_KILL = 0,
	KILLSNOOP_SYS_TKILL = 1,
	KILLSNOOP_SYS_TGKILL = 2,
};

struct killsnoop_event {
	__u64 ktime_ns; /* at syscall return */
	struct sk_task_ctx ctx; /* the task: cgroup, namespaces, pid and tid inside */
	__u32 pid; /* sender */
	__u32 tid;
	__u32 uid;
	__s32 tpid; /* kill(2): its pid argument as passed (0, -1, -pgid too); tgkill(2): tgid; tkill(2): 0 */
	__s32 ttid; /* tkill(2), tgkill(2): the target thread; kill(2): 0 */
	__s32 sig;
	__s32 ret; /* 0 or -errno */
	__u32 syscall; /* enum killsnoop_syscall */
	char comm[SK_TASK_COMM_LEN];
};

#endif /* KILLSNOOP_H */
