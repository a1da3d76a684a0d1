/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* tcpstates: the event shared by bpf/tcpstates.bpf.c and tools/tcpstates.cpp. */
#ifndef TCPSTATES_H
#define TCPSTATES_H

#include "snoopkit_common.h"

#define TCPSTATES_MAX_PORTS 16 /* per -L / -D list */

/* tcpstates_event.flags */
#define TCPSTATES_F_DELTA_KNOWN (1u << 0) /* the previous change of this socket was seen */

/* One state change of one TCP socket. */
struct tcpstates_event {
	__u64 ktime_ns;
	__u64 skaddr;   /* kernel address of the struct sock: identifies the socket */
	__u64 delta_ns; /* time spent in oldstate (valid with TCPSTATES_F_DELTA_KNOWN) */
	__u32 pid;      /* the task running when the state changed */
	__u32 tid;
	__s32 oldstate; /* TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12 */
	__s32 newstate;
	__u16 family;   /* AF_INET or AF_INET6 */
	__u16 sport;    /* local port, host order */
	__u16 dport;    /* remote port, host order */
	__u16 flags;
	__u8 saddr[16]; /* AF_INET: the first 4 bytes; network order */
	__u8 daddr[16];
	char comm[SK_TASK_COMM_LEN];
};

#endif /* TCPSTATES_H */
