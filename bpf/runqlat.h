/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* runqlat: the histograms shared by bpf/runqlat.bpf.c and tools/runqlat.cpp. */
#ifndef RUNQLAT_H
#define RUNQLAT_H

#include "snoopkit_common.h"
#include "snoopkit_hist.h"

/* Histograms per interval (one per process, thread or PID namespace); more are counted as lost. */
#define RUNQLAT_MAX_HISTS 10240
/* hists key when there is one histogram for everything. */
#define RUNQLAT_ALL ((__u32)-1)

/* hists: key = process ID (-P), thread ID (-L), PID namespace inode (--pidnss), or RUNQLAT_ALL. */
struct runqlat_hist {
	struct sk_hist hist; /* run-queue latency, in usecs (msecs with -m) */
	char comm[SK_TASK_COMM_LEN]; /* -P, -L: the task's name when first seen */
};

#endif /* RUNQLAT_H */
