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

#endif /* SNOOPKIT_COMMON_H */
