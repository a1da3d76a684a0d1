/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* oomkill: the event shared by bpf/oomkill.bpf.c and tools/oomkill.cpp. */
#ifndef OOMKILL_H
#define OOMKILL_H

#include "snoopkit_common.h"

/* oomkill_event.flags: which optional fields the hook could fill. */
#define OOMKILL_F_PAGES (1u << 0) /* total_pages (fentry, kprobe) */
#define OOMKILL_F_MEM (1u << 1)   /* total_vm_kb .. pgtables_kb, uid, oom_score_adj (tracepoint, kernels of 2024 on) */
#define OOMKILL_F_VICTIM_COMM (1u << 2)

/* One OOM kill, sent when the victim is chosen. */
struct oomkill_event {
	__u64 ktime_ns;
	__u64 total_pages; /* the pages the OOM killer weighed: RAM + swap, or the memcg limit */
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u32 victim_pid; /* tracepoint: the victim's thread that held its memory */
	__u32 victim_uid;
	__u32 trigger_pid; /* the process whose allocation failed */
	__s32 oom_score_adj;
	__u32 flags;
	__u32 pad;
	char victim_comm[SK_TASK_COMM_LEN];
	char trigger_comm[SK_TASK_COMM_LEN];
};

#endif /* OOMKILL_H */
