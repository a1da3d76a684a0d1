// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tcpconnect: active TCP opens (connect()), IPv4 and IPv6. */
#include "snoopkit.bpf.h"
#include <bpf/bpf_endian.h>
#include "tcpconnect.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2

const volatile __u16 dports[TCPCONNECT_MAX_PORTS] = {};
const volatile __u32 n_dports = 0; /* 0: every destination port */

/* kprobes: the socket of the tcp_v[46]_connect() in flight, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} sockets SEC(".maps");

/* Tracepoints: events built at SYN_SENT, waiting for their source port, by socket... */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct tcpconnect_event);
} pending SEC(".maps");

/* ...and the socket each thread last moved to SYN_SENT, for sys_exit_connect. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} connecting SEC(".maps");

static __always_inline bool port_wanted(__u16 port)
{
	if (!n_dports)
		return true;
	for (int i = 0; i < TCPCONNECT_MAX_PORTS; i++) {
		if (i >= n_dports)
			break;
		if (dports[i] == port)
			return true;
	}
	return false;
}

/* Caller fields of an event, from the current task (connect() is process context). */
static __always_inline void fill_task(struct tcpconnect_event *e)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->ktime_ns = bpf_ktime_get_ns();
	sk_task_context(&e->ctx);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->pad = 0;
	e->pad2 = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* An IPv6 address of the form ::ffff:a.b.c.d? */
static __always_inline bool v4_mapped(const __u8 *a)
{
	__u64 lo = 0;
	__u32 mid = 0;

	__builtin_memcpy(&lo, a, 8);
	__builtin_memcpy(&mid, a + 8, 4);
	return lo == 0 && mid == bpf_htonl(0xffff);
}

/* --- kprobes: tcp_v4_connect() / tcp_v6_connect(), reported when they return 0 --- */

static __always_inline int kp_enter(struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 skaddr = (__u64)sk;

	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;
	/* tcp_v6_connect() calls tcp_v4_connect() for IPv4-mapped peers: the inner one reports. */
	bpf_map_update_elem(&sockets, &tid, &skaddr, BPF_ANY);
	return 0;
}

static __always_inline int kp_exit(void *ctx, int ret, __u16 family)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tcpconnect_event *e;
	struct sock *sk;
	__u64 *skp;
	__u16 dport;

	skp = bpf_map_lookup_elem(&sockets, &tid);
	if (!skp)
		return 0;
	sk = (struct sock *)*skp;
	bpf_map_delete_elem(&sockets, &tid);
	if (ret)
		return 0;
	dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!port_wanted(dport))
		return 0;
	e = sk_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_task(e);
	e->family = family;
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = dport;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	sk_submit(ctx, e, sizeof(*e));
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kp_v4_connect, struct sock *sk)
{
	return kp_enter(sk);
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(kr_v4_connect, int ret)
{
	return kp_exit(ctx, ret, AF_INET);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kp_v6_connect, struct sock *sk)
{
	return kp_enter(sk);
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(kr_v6_connect, int ret)
{
	return kp_exit(ctx, ret, AF_INET6);
}

/*
 * --- tracepoints: CLOSE -> SYN_SENT happens inside connect(), but before the
 * source port is chosen. The event is built then and sent at whichever comes
 * first: connect() returning (sys_exit_connect: the port is in the socket) or
 * the socket leaving SYN_SENT (the tracepoint carries the port).
 */

/* Both ends may race (softirq on another CPU): only the one whose delete succeeds sends. */
static __always_inline void send_once(void *ctx, __u64 sk, struct tcpconnect_event *e)
{
	if (bpf_map_delete_elem(&pending, &sk) == 0)
		sk_output(ctx, e, sizeof(*e));
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	/* Each ctx field read once, into a register: the verifier allows no ctx pointer arithmetic. */
	__u64 sk = (__u64)ctx->skaddr;
	__u16 family = ctx->family, dport = ctx->dport;
	struct tcpconnect_event *p, e;
	__u32 tid;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->oldstate == TCP_SYN_SENT) {
		p = bpf_map_lookup_elem(&pending, &sk);
		if (!p)
			return 0;
		e = *p;
		e.sport = ctx->sport;
		send_once(ctx, sk, &e);
		return 0;
	}
	if (ctx->newstate != TCP_SYN_SENT || !port_wanted(dport))
		return 0;
	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;

	fill_task(&e);
	e.family = family;
	e.sport = 0;
	e.dport = dport;
	__builtin_memset(e.saddr, 0, sizeof(e.saddr));
	__builtin_memset(e.daddr, 0, sizeof(e.daddr));
	/* Arrays: CO-RE moves field addresses, so copy with a helper. */
	if (family == AF_INET6)
		bpf_probe_read_kernel(e.daddr, 16, ctx->daddr_v6);
	/* An IPv4-mapped peer is IPv4 on the wire, and its v6 source is not set yet. */
	if (family == AF_INET || v4_mapped(e.daddr)) {
		e.family = AF_INET;
		__builtin_memset(e.daddr, 0, sizeof(e.daddr));
		bpf_probe_read_kernel(e.saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e.daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e.saddr, 16, ctx->saddr_v6);
	}
	bpf_map_update_elem(&pending, &sk, &e, BPF_ANY);
	tid = e.tid;
	bpf_map_update_elem(&connecting, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tp_exit_connect(struct sk_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tcpconnect_event *p, e;
	__u64 *skp, sk;

	skp = bpf_map_lookup_elem(&connecting, &tid);
	if (!skp)
		return 0;
	sk = *skp;
	bpf_map_delete_elem(&connecting, &tid);
	p = bpf_map_lookup_elem(&pending, &sk);
	if (!p)
		return 0; /* already sent: the handshake ended first */
	e = *p;
	e.sport = BPF_CORE_READ((struct sock *)sk, __sk_common.skc_num);
	send_once(ctx, sk, &e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
