/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A per-thread stash: what a syscall's entry program keeps for its exit
 * program (its arguments). Two stores, one chosen at load time:
 *
 *  - task local storage (for tracing programs, Linux 5.13+): a slot
 *    that lives with the thread, found through the task itself; no hash
 *    to compute, nothing allocated or freed per call after the thread's
 *    first. The cheapest for the traced program.
 *  - a hash keyed by thread id, everywhere else.
 *
 * User space (src/stash.h) sets sk_stash_task_storage and makes the unused
 * store a tiny array; the verifier drops the branch of the other store, as
 * the flag is a constant it knows.
 *
 *     SK_STASH(start, struct args);           // maps start_task, start_tid
 *     start_put(&args);  p = start_get();  start_context(&ctx, p);  start_drop(p);
 */
#ifndef SNOOPKIT_STASH_BPF_H
#define SNOOPKIT_STASH_BPF_H

#include "snoopkit.bpf.h"

const volatile bool sk_stash_task_storage = false;

#define SK_STASH_MAX_THREADS 10240

#define SK_STASH(name, vtype)                                                       \
	struct name##_slot {                                                        \
		vtype v;                                                            \
		__u32 live;                                                         \
		struct sk_ctx_cache ctx_cache;                                      \
	};                                                                          \
	struct {                                                                    \
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);                            \
		__uint(map_flags, BPF_F_NO_PREALLOC);                               \
		__type(key, int);                                                   \
		__type(value, struct name##_slot);                                  \
	} name##_task SEC(".maps");                                                 \
	struct {                                                                    \
		__uint(type, BPF_MAP_TYPE_HASH);                                    \
		__uint(max_entries, SK_STASH_MAX_THREADS);                          \
		__type(key, __u32);                                                 \
		__type(value, vtype);                                               \
	} name##_tid SEC(".maps");                                                  \
                                                                                    \
	/* Keeps *val for the current thread (replacing what it had). */            \
	static __always_inline void name##_put(const vtype *val)                    \
	{                                                                           \
		struct name##_slot *slot;                                           \
		__u32 tid;                                                          \
                                                                                    \
		if (sk_stash_task_storage) {                                        \
			slot = bpf_task_storage_get(&name##_task,                   \
						    bpf_get_current_task_btf(), 0,  \
						    BPF_LOCAL_STORAGE_GET_F_CREATE); \
			if (slot) {                                                 \
				slot->v = *val;                                     \
				slot->live = 1;                                     \
			}                                                           \
			return;                                                     \
		}                                                                   \
		tid = (__u32)bpf_get_current_pid_tgid();                            \
		bpf_map_update_elem(&name##_tid, &tid, val, BPF_ANY);               \
	}                                                                           \
                                                                                    \
	/* The current thread's value, or NULL. */                                  \
	static __always_inline vtype *name##_get(void)                              \
	{                                                                           \
		struct name##_slot *slot;                                           \
		__u32 tid;                                                          \
                                                                                    \
		if (sk_stash_task_storage) {                                        \
			slot = bpf_task_storage_get(&name##_task,                   \
						    bpf_get_current_task_btf(), 0, 0); \
			return slot && slot->live ? &slot->v : NULL;                \
		}                                                                   \
		tid = (__u32)bpf_get_current_pid_tgid();                            \
		return bpf_map_lookup_elem(&name##_tid, &tid);                      \
	}                                                                           \
                                                                                    \
	/* Forgets the current thread's value (p: what name##_get returned). */     \
	static __always_inline void name##_drop(vtype *p)                           \
	{                                                                           \
		__u32 tid;                                                          \
                                                                                    \
		if (sk_stash_task_storage) {                                        \
			((struct name##_slot *)p)->live = 0;                        \
			return;                                                     \
		}                                                                   \
		tid = (__u32)bpf_get_current_pid_tgid();                            \
		bpf_map_delete_elem(&name##_tid, &tid);                             \
	}                                                                           \
                                                                                    \
	/* sk_task_context() for the thread p (what name##_get returned) is of: \
	 * with task storage, its pid half comes from the slot's cache. */       \
	static __always_inline void name##_context(struct sk_task_ctx *c, vtype *p) \
	{                                                                           \
		if (sk_stash_task_storage) {                                        \
			sk_task_context_cached(c, &((struct name##_slot *)p)->ctx_cache); \
			return;                                                     \
		}                                                                   \
		sk_task_context(c);                                                 \
	}

#endif /* SNOOPKIT_STASH_BPF_H */
