// SPDX-License-Identifier: GPL-2.0
// Test object for bpfload with what an attacker controls: a section name
// holding terminal escapes (a kprobe, so that it cannot attach where there
// are no kprobes, and fails to attach where there are: the function does
// not exist), and a bpf_printk() of a path the user chose, which may hold
// a newline and a line that imitates the trace pipe.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("kprobe/x\x1b]0;owned\x07\x1b[2J")
int kp_hostile(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int on_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	char path[96];

	if (bpf_probe_read_user_str(path, sizeof(path), (const void *)ctx->args[1]) < 0)
		return 0;
	bpf_printk("bpfload-hostile unlink %s", path);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
