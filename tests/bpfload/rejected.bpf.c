// SPDX-License-Identifier: GPL-2.0
// Test object for bpfload that the verifier rejects: the second program
// reads 64 bytes past an 8-byte map value. The first program is fine, so
// the test also checks that bpfload names the program that failed.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int accepted(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int out_of_bounds(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&values, &key);

	if (!v)
		return 0;
	// Out of bounds: the value is 8 bytes long.
	return *(volatile __u64 *)((char *)v + 64);
}

char LICENSE[] SEC("license") = "GPL";
