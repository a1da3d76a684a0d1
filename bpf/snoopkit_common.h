/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Plain-C definitions shared by every BPF program and the C++ runtime. */
#ifndef SNOOPKIT_COMMON_H
#define SNOOPKIT_COMMON_H

#define SK_TASK_COMM_LEN 16
/* Largest event any tool hands to the transport (sizes the perf heap). */
#define SK_MAX_EVENT_SIZE 16384

/* Slots of the sk_stats array map, read by user space after every drain. */
enum sk_stat {
	SK_STAT_LOST = 0, /* events dropped because the transport was full */
	SK_STAT_MAX,
};

/*
 * Where a task runs: its cgroup v2 id, its mount and pid namespaces (inode
 * numbers, as /proc/PID/ns/ shows them) and its pid and tid as its own pid
 * namespace numbers them. Filled by sk_task_context(); a field the kernel's
 * layout could not be read for is 0.
 */
struct sk_task_ctx {
	__u64 cgroup_id;
	__u32 mntns;
	__u32 pidns;
	__u32 vpid;
	__u32 vtid;
};

/* Values of the sk_container_verdict map (--container). */
#define SK_CONTAINER_OTHER 1 /* the cgroup is not the wanted container's: drop in the kernel */

#endif /* SNOOPKIT_COMMON_H */
