/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bindsnoop: the event shared by bpf/bindsnoop.bpf.c and tools/bindsnoop.cpp. */
#ifndef BINDSNOOP_H
#define BINDSNOOP_H

#include "snoopkit_common.h"

#define BINDSNOOP_MAX_PORTS 16 /* -P list */

/* bindsnoop_event.opts: socket options set when bind() returned */
#define BINDSNOOP_OPT_FREEBIND (1u << 0)             /* IP_FREEBIND */
#define BINDSNOOP_OPT_TRANSPARENT (1u << 1)          /* IP_TRANSPARENT */
#define BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT (1u << 2) /* IP_BIND_ADDRESS_NO_PORT */
#define BINDSNOOP_OPT_REUSEADDR (1u << 3)            /* SO_REUSEADDR */
#define BINDSNOOP_OPT_REUSEPORT (1u << 4)            /* SO_REUSEPORT */

/* bindsnoop_event.flags */
#define BINDSNOOP_F_SOCK_KNOWN (1u << 0) /* protocol, opts, bound_port, bound_dev_if are valid */

/* One bind() of an IPv4 or IPv6 socket, sent when it returns. */
struct bindsnoop_event {
	__u64 ktime_ns;
	struct sk_task_ctx ctx; /* the task: cgroup, namespaces, pid and tid inside */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret;          /* 0 or -errno */
	__s32 bound_dev_if; /* SO_BINDTODEVICE interface index, 0 if none */
	__u16 family;       /* AF_INET or AF_INET6: how addr and port were read */
	__u16 port;         /* the port asked for, host order (0: any) */
	__u16 bound_port;   /* the socket's local port after the call, host order */
	__u16 protocol;     /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 opts;
	__u8 flags;
	__u16 pad;
	__u8 addr[16];      /* the address asked for; AF_INET: the first 4 bytes */
	char comm[SK_TASK_COMM_LEN];
};

#endif /* BINDSNOOP_H */
