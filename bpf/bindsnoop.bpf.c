// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bindsnoop: bind() on IPv4 and IPv6 sockets: address, port, protocol, options, result. */
#include "snoopkit.bpf.h"
#include <bpf/bpf_endian.h>
#include "bindsnoop.h"

#define AF_INET 2
#define AF_INET6 10
#define SA_SIZE 28 /* sizeof(struct sockaddr_in6) */

const volatile bool include_failed = false;
const volatile __u16 ports[BINDSNOOP_MAX_PORTS] = {};
const volatile __u32 n_ports = 0; /* 0: every port */

/* A bind() in flight: the socket (kprobes) or its fd (tracepoints), and the sockaddr. */
struct pending_bind {
	__u64 sock; /* struct socket *, 0 when only the fd is known */
	__s32 fd;
	__u32 pad;
	__u8 sa[SA_SIZE + 4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending_bind);
} pending SEC(".maps");

/* Linux < 6.6 kept these options in bitfields; 6.6 moved them into inet_flags bits. */
struct inet_sock___pre66 {
	__u8 freebind : 1;
	__u8 transparent : 1;
	__u8 bind_address_no_port : 1;
} __attribute__((preserve_access_index));

/* Bit numbers in inet_flags (an anonymous enum in include/net/inet_sock.h, 6.6+). */
#define INET_FLAGS_FREEBIND_BIT 11
#define INET_FLAGS_TRANSPARENT_BIT 15
#define INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT 18

static __always_inline bool port_listed(__u16 port)
{
	for (int i = 0; i < BINDSNOOP_MAX_PORTS; i++) {
		if (i >= n_ports)
			break;
		if (ports[i] == port)
			return true;
	}
	return false;
}

static __always_inline __u8 sock_opts(struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;
	__u8 opts = 0;

	/* Linux 6.6, "inet: move inet->freebind to inet->inet_flags" and its siblings. */
	if (bpf_core_field_exists(inet->inet_flags)) {
		unsigned long f = BPF_CORE_READ(inet, inet_flags);

		opts |= (f >> INET_FLAGS_FREEBIND_BIT & 1) ? BINDSNOOP_OPT_FREEBIND : 0;
		opts |= (f >> INET_FLAGS_TRANSPARENT_BIT & 1) ? BINDSNOOP_OPT_TRANSPARENT : 0;
		opts |= (f >> INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT & 1) ?
				BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT : 0;
	} else {
		struct inet_sock___pre66 *old = (void *)sk;

		opts |= BPF_CORE_READ_BITFIELD_PROBED(old, freebind) ? BINDSNOOP_OPT_FREEBIND : 0;
		opts |= BPF_CORE_READ_BITFIELD_PROBED(old, transparent) ? BINDSNOOP_OPT_TRANSPARENT : 0;
		opts |= BPF_CORE_READ_BITFIELD_PROBED(old, bind_address_no_port) ?
				BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT : 0;
	}
	opts |= BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuse) ? BINDSNOOP_OPT_REUSEADDR : 0;
	opts |= BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuseport) ? BINDSNOOP_OPT_REUSEPORT : 0;
	return opts;
}

/*
 * The socket behind a file descriptor of the current task, by CO-RE reads of
 * task->files->fdt->fd[fd]->private_data, bounded by fdt->max_fds. Only a
 * socket's file is pointed back at by its struct socket: anything else is not
 * a socket.
 */
static __always_inline struct socket *socket_of_fd(__s32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *file = NULL, **fds;
	struct socket *sock;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	return sock;
}

static __always_inline int on_exit(void *ctx, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct bindsnoop_event e = {};
	struct pending_bind *p, in;
	struct socket *sock;
	struct sock *sk = NULL;
	__u16 sa_family;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	in = *p;
	bpf_map_delete_elem(&pending, &tid);
	if (ret && !include_failed)
		return 0;

	sock = in.sock ? (struct socket *)in.sock : socket_of_fd(in.fd);
	if (sock)
		sk = BPF_CORE_READ(sock, sk);
	/* Read the address as its sockaddr says (AF_UNSPEC: as the socket's family). */
	sa_family = *(__u16 *)in.sa;
	e.family = sa_family;
	if (sk) {
		__u16 sk_family = BPF_CORE_READ(sk, __sk_common.skc_family);

		if (sk_family != AF_INET && sk_family != AF_INET6)
			return 0; /* not an IP socket: AF_UNIX, AF_PACKET, ... */
		if (sa_family != AF_INET && sa_family != AF_INET6)
			e.family = sk_family;
		e.bound_port = BPF_CORE_READ(sk, __sk_common.skc_num);
		/* Linux 5.6, "sock: Make sk_protocol a 16-bit value": no longer a bitfield. */
		e.protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
		e.bound_dev_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
		e.opts = sock_opts(sk);
		e.flags = BINDSNOOP_F_SOCK_KNOWN;
	} else if (sa_family != AF_INET && sa_family != AF_INET6) {
		return 0;
	}
	e.port = bpf_ntohs(*(__u16 *)(in.sa + 2));
	if (n_ports && !port_listed(e.port) && !(sk && port_listed(e.bound_port)))
		return 0;
	if (e.family == AF_INET)
		__builtin_memcpy(e.addr, in.sa + 4, 4);
	else
		__builtin_memcpy(e.addr, in.sa + 8, 16);

	e.ktime_ns = bpf_ktime_get_ns();
	sk_task_context(&e.ctx);
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.tid = tid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.ret = ret;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	sk_output(ctx, &e, sizeof(e));
	return 0;
}

/* --- kprobes: inet_bind() / inet6_bind(), every bind of an IP socket, in-kernel ones too --- */

static __always_inline int kp_enter(struct socket *sock, struct sockaddr *uaddr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_bind p = { .sock = (__u64)sock, .fd = -1 };

	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;
	/* The kernel has copied the sockaddr into a sockaddr_storage: SA_SIZE bytes are there. */
	bpf_probe_read_kernel(p.sa, SA_SIZE, uaddr);
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

SEC("kprobe/inet_bind")
int BPF_KPROBE(kp_inet_bind, struct socket *sock, struct sockaddr *uaddr)
{
	return kp_enter(sock, uaddr);
}

SEC("kretprobe/inet_bind")
int BPF_KRETPROBE(kr_inet_bind, int ret)
{
	return on_exit(ctx, ret);
}

SEC("kprobe/inet6_bind")
int BPF_KPROBE(kp_inet6_bind, struct socket *sock, struct sockaddr *uaddr)
{
	return kp_enter(sock, uaddr);
}

SEC("kretprobe/inet6_bind")
int BPF_KRETPROBE(kr_inet6_bind, int ret)
{
	return on_exit(ctx, ret);
}

/* --- tracepoints: bind(2); the socket is found from the fd when bind() returns --- */

SEC("tracepoint/syscalls/sys_enter_bind")
int tp_enter_bind(struct sk_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_bind p = { .fd = (__s32)ctx->args[0] };
	__u64 len = ctx->args[2];

	if (!sk_task_wanted() || !sk_comm_wanted())
		return 0;
	/* Copy what the kernel will copy (addrlen bytes), now: user memory may change. */
	if (len > SA_SIZE)
		len = SA_SIZE;
	if (bpf_probe_read_user(p.sa, len, (void *)ctx->args[1]))
		return 0;
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int tp_exit_bind(struct sk_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
