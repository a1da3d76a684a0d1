// SPDX-License-Identifier: GPL-2.0
// Test object for bpfload, built like a user's object (no skeleton): a
// tracepoint program that prints and writes a ring buffer record on every
// execve(), a raw tracepoint program that writes to a second ring buffer
// when an exec succeeds, and a hash map that only shows in --list.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define BPFLOAD_TEST_MAGIC 0x74736574 /* the bytes "test" on a little-endian CPU */

// One ring buffer record: 24 bytes, the layout test_bpfload.py decodes.
struct bpfload_test_event {
	__u32 magic;
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} exec_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void emit(void *ring, __u32 pid)
{
	struct bpfload_test_event *e;

	e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e)
		return;
	e->magic = BPFLOAD_TEST_MAGIC;
	e->pid = pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *n;

	// bpf_printk output lands in the trace pipe; the record in "events".
	bpf_printk("bpfload-test execve pid=%d", pid);
	emit(&events, pid);

	n = bpf_map_lookup_elem(&counts, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int on_exec_done(void *ctx)
{
	// After a successful exec: comm is the new program's name.
	emit(&exec_events, bpf_get_current_pid_tgid() >> 32);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
