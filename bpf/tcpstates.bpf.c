// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tcpstates: every state change of every TCP socket, with the time spent in the old state. */
#include "snoopkit.bpf.h"
#include "tcpstates.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_CLOSE 7

const volatile __u16 targ_family = 0; /* 0: both */
const volatile __u16 lports[TCPSTATES_MAX_PORTS] = {};
const volatile __u32 n_lports = 0; /* 0: every local port */
const volatile __u16 rports[TCPSTATES_MAX_PORTS] = {};
const volatile __u32 n_rports = 0;

/*
 * When each socket last changed state. LRU: sockets that never reach CLOSE
 * while we trace (long-lived ones) must not fill the map for good.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} last_change SEC(".maps");

static __always_inline bool port_listed(const volatile __u16 *list, __u32 n, __u16 port)
{
	for (int i = 0; i < TCPSTATES_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (list[i] == port)
			return true;
	}
	return false;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr, now, *then, delta = 0;
	__u16 family = ctx->family;
	struct tcpstates_event *e;
	bool known = false;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;

	/* Time in the old state: kept for every TCP socket, filtered or not. */
	now = bpf_ktime_get_ns();
	then = bpf_map_lookup_elem(&last_change, &sk);
	if (then) {
		delta = now - *then;
		known = true;
	}
	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&last_change, &sk);
	else
		bpf_map_update_elem(&last_change, &sk, &now, BPF_ANY);

	if (targ_family && family != targ_family)
		return 0;
	if (n_lports && !port_listed(lports, n_lports, ctx->sport))
		return 0;
	if (n_rports && !port_listed(rports, n_rports, ctx->dport))
		return 0;

	e = sk_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->ktime_ns = now;
	e->skaddr = sk;
	e->delta_ns = delta;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	e->family = family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	e->flags = known ? TCPSTATES_F_DELTA_KNOWN : 0;
	/* Addresses: CO-RE moves field addresses, so copy with a helper, not from ctx. */
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
