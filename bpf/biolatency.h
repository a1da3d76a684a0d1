/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* biolatency: the histograms shared by bpf/biolatency.bpf.c and tools/biolatency.cpp. */
#ifndef BIOLATENCY_H
#define BIOLATENCY_H

#include "snoopkit_common.h"
#include "snoopkit_hist.h"

#define BIOLATENCY_MAX_HISTS 1024 /* per interval; more are counted as lost */
#define BIOLATENCY_RWBS_LEN 8

/* hists key: zeros, or the disk (-D), or the request's rwbs flags (-F). */
struct biolatency_key {
	__u32 dev; /* kernel dev_t: major << 20 | minor */
	__u32 pad;
	char rwbs[BIOLATENCY_RWBS_LEN];
};

#endif /* BIOLATENCY_H */
