/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* tcplife: the event shared by bpf/tcplife.bpf.c and tools/tcplife.cpp. */
#ifndef TCPLIFE_H
#define TCPLIFE_H

#include "snoopkit_common.h"

#define TCPLIFE_MAX_PORTS 16 /* per -L / -D list */

/* tcplife_event.flags */
#define TCPLIFE_F_OWNER_KNOWN (1u << 0) /* pid, uid and comm are valid */
#define TCPLIFE_F_ACTIVE (1u << 1)      /* opened here by connect(), not accepted */

/* One TCP session, sent when its socket reaches TCP_CLOSE. */
struct tcplife_event {
	__u64 ktime_ns;    /* when the session closed */
	struct sk_task_ctx ctx; /* the owner's (see TCPLIFE_F_OWNER_KNOWN) */
	__u64 duration_ns; /* from SYN_SENT (or SYN_RECV, when accepted) to CLOSE */
	__u64 tx_bytes;    /* tcp_sock.bytes_acked: bytes sent and acknowledged */
	__u64 rx_bytes;    /* tcp_sock.bytes_received: bytes received in sequence */
	__u32 pid;         /* the owner: see TCPLIFE_F_OWNER_KNOWN */
	__u32 uid;
	__u16 family;      /* AF_INET or AF_INET6 */
	__u16 sport;       /* local port, host order */
	__u16 dport;       /* remote port, host order */
	__u16 flags;
	__u8 saddr[16];    /* AF_INET: the first 4 bytes; network order */
	__u8 daddr[16];
	char comm[SK_TASK_COMM_LEN];
};

#endif /* TCPLIFE_H */
