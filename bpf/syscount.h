/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syscount: the map values shared by bpf/syscount.bpf.c and tools/syscount.cpp. */
#ifndef SYSCOUNT_H
#define SYSCOUNT_H

#include "snoopkit_common.h"

/* Distinct syscalls (or processes, with -P) per interval; more are counted as lost. */
#define SYSCOUNT_MAX_ENTRIES 16384

/* counts: key = syscall number, or the process ID with -P. */
struct syscount_value {
	__u64 count;
	__u64 total_ns; /* summed latency; with -L only */
	char comm[SK_TASK_COMM_LEN]; /* with -P: the process's name when first seen */
};

#endif /* SYSCOUNT_H */
