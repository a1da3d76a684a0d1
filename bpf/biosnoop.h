/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* biosnoop: the event shared by bpf/biosnoop.bpf.c and tools/biosnoop.cpp. */
#ifndef BIOSNOOP_H
#define BIOSNOOP_H

#include "snoopkit_common.h"

#define BIOSNOOP_RWBS_LEN 8 /* "FWFSM" and the like: the tracepoints' rwbs, NUL included */

/* One request, sent when it completes. */
struct biosnoop_event {
	__u64 ktime_ns; /* completion */
	__u64 sector;
	__u64 latency_ns; /* issue to completion */
	__u64 queued_ns; /* -Q: insert to issue; 0 otherwise or when never queued */
	__u32 dev; /* kernel dev_t: major << 20 | minor */
	__u32 bytes; /* size at issue */
	__u32 pid; /* the submitter */
	__s32 error; /* 0 or -errno */
	struct sk_task_ctx ctx; /* the submitter's, where pid is */
	char rwbs[BIOSNOOP_RWBS_LEN];
	char comm[SK_TASK_COMM_LEN];
};

#endif /* BIOSNOOP_H */
