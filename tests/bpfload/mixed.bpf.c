// SPDX-License-Identifier: GPL-2.0
// Test object for bpfload with programs a kernel may not be able to attach:
// a tracepoint that exists nowhere, a kprobe (this needs kprobes: the test
// machine has none, the kernel-matrix VMs do), a socket filter (libbpf
// cannot attach that kind by itself), and one ordinary tracepoint program.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_execve")
int good_tp(void *ctx)
{
	bpf_printk("bpfload-mixed execve pid=%d", bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_snoopkit_no_such_call")
int missing_tp(void *ctx)
{
	return 0;
}

SEC("kprobe/do_unlinkat")
int kp_unlinkat(void *ctx)
{
	return 0;
}

SEC("socket")
int sock_filter(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
