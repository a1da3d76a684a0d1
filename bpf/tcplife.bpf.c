// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tcplife: TCP sessions, from their first state change to TCP_CLOSE, with bytes and owner. */
#include "snoopkit.bpf.h"
#include "tcplife.h"

#define AF_INET 2
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9
#define TCP_CLOSING 11

const volatile __u16 targ_family = 0; /* 0: both */
const volatile __u16 lports[TCPLIFE_MAX_PORTS] = {};
const volatile __u32 n_lports = 0; /* 0: every local port */
const volatile __u16 rports[TCPLIFE_MAX_PORTS] = {};
const volatile __u32 n_rports = 0;

struct session {
	__u64 start_ns;
	struct sk_task_ctx ctx; /* the owner's, once known */
	__u32 pid;
	__u32 uid;
	char comm[SK_TASK_COMM_LEN];
	__u8 owner_known;
	__u8 wanted; /* the owner passed the common task filters */
	__u8 active;
	__u8 syn_acked; /* active, and the peer answered our SYN */
	__u8 fin_sent;  /* we queued a FIN (FIN_WAIT1, CLOSING or LAST_ACK seen) */
	__u8 pad[3];
};

/* Sessions in progress by socket address; LRU, so long-lived ones cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct session);
} sessions SEC(".maps");

static __always_inline bool port_listed(const volatile __u16 *list, __u32 n, __u16 port)
{
	for (int i = 0; i < TCPLIFE_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (list[i] == port)
			return true;
	}
	return false;
}

/* Any of the common pid / uid / cgroup / comm filters on? */
static __always_inline bool task_filtered(void)
{
	return sk_targ_tgid || sk_targ_tid || sk_targ_uid != (__u32)-1 || sk_filter_cgroup ||
	       sk_targ_comm_len || sk_filter_container;
}

/* Called only where the current task is the socket's user (process context). */
static __always_inline void set_owner(struct session *s)
{
	s->pid = bpf_get_current_pid_tgid() >> 32;
	s->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->wanted = sk_task_wanted() && sk_comm_matches(s->comm);
	sk_task_context(&s->ctx);
	s->owner_known = 1;
}

/*
 * The RFC 4898 counters count sequence space, so SYN and FIN weigh one byte
 * each: take them out to get data bytes. bytes_acked holds our SYN (once the
 * peer answered it; an accepted socket starts past it) and our FIN once
 * acknowledged, which is when snd_una reaches write_seq (the kernel's own
 * LAST_ACK test).
 */
static __always_inline __u64 tx_data_bytes(struct tcp_sock *tp, const struct session *s)
{
	__u64 n = BPF_CORE_READ(tp, bytes_acked);

	if (s->syn_acked && n)
		n--;
	if (s->fin_sent && n && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		n--;
	return n;
}

/* bytes_received holds the peer's FIN once received in order, which sets SOCK_DONE (tcp_fin()). */
static __always_inline __u64 rx_data_bytes(struct tcp_sock *tp)
{
	__u64 n = BPF_CORE_READ(tp, bytes_received);
	unsigned long flags = BPF_CORE_READ(&tp->inet_conn.icsk_inet.sk, __sk_common.skc_flags);

	if (n && (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))))
		n--;
	return n;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	int newstate = ctx->newstate;
	struct tcplife_event *e;
	struct session *s, copy;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;

	/* A session begins: connect() (SYN_SENT, in the caller's context) or a handshake answered. */
	if (newstate == TCP_SYN_SENT || newstate == TCP_SYN_RECV) {
		struct session fresh = { .start_ns = bpf_ktime_get_ns() };

		if (newstate == TCP_SYN_SENT) {
			set_owner(&fresh);
			fresh.active = 1;
		}
		bpf_map_update_elem(&sessions, &sk, &fresh, BPF_NOEXIST);
		return 0;
	}
	s = bpf_map_lookup_elem(&sessions, &sk);
	if (!s)
		return 0; /* began before we started tracing */
	/* Accepted sessions: the owner is whoever close()s or shutdown()s it. */
	if ((newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK) && !s->owner_known)
		set_owner(s);
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSING)
		s->fin_sent = 1;
	if (newstate == TCP_ESTABLISHED && s->active)
		s->syn_acked = 1;
	if (newstate != TCP_CLOSE)
		return 0;
	copy = *s;
	bpf_map_delete_elem(&sessions, &sk);

	if (targ_family && ctx->family != targ_family)
		return 0;
	if (n_lports && !port_listed(lports, n_lports, ctx->sport))
		return 0;
	if (n_rports && !port_listed(rports, n_rports, ctx->dport))
		return 0;
	if (task_filtered() && !(copy.owner_known && copy.wanted))
		return 0;

	e = sk_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->ktime_ns = bpf_ktime_get_ns();
	e->duration_ns = e->ktime_ns - copy.start_ns;
	e->tx_bytes = tx_data_bytes((struct tcp_sock *)sk, &copy);
	e->rx_bytes = rx_data_bytes((struct tcp_sock *)sk);
	e->pid = copy.pid;
	e->ctx = copy.ctx;
	e->uid = copy.uid;
	e->family = ctx->family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	e->flags = (copy.owner_known ? TCPLIFE_F_OWNER_KNOWN : 0) |
		   (copy.active ? TCPLIFE_F_ACTIVE : 0);
	/* Addresses: CO-RE moves field addresses, so copy with a helper, not from ctx. */
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (ctx->family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
	__builtin_memcpy(e->comm, copy.comm, sizeof(e->comm));
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
