/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* tcpconnect: the event shared by bpf/tcpconnect.bpf.c and tools/tcpconnect.cpp. */
#ifndef TCPCONNECT_H
#define TCPCONNECT_H

#include "snoopkit_common.h"

#define TCPCONNECT_MAX_PORTS 16 /* -P list */

/* One active TCP open: a connect() that sent a SYN. */
struct tcpconnect_event {
	__u64 ktime_ns; /* when the SYN was queued (the connect() call) */
	struct sk_task_ctx ctx; /* the task: cgroup, namespaces, pid and tid inside */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u16 family;   /* AF_INET or AF_INET6 on the wire (IPv4-mapped: AF_INET) */
	__u16 sport;    /* local port, host order; 0 if none was assigned */
	__u16 dport;    /* remote port, host order */
	__u16 pad;
	__u8 saddr[16]; /* AF_INET: the first 4 bytes; network order */
	__u8 daddr[16];
	char comm[SK_TASK_COMM_LEN];
	__u32 pad2;
};

#endif /* TCPCONNECT_H */
