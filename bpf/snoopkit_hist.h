/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Log2 histograms, shared by the BPF programs that fill them and the C++
 * runtime that reads them (src/histogram.h, log2_histogram()). Plain C.
 */
#ifndef SNOOPKIT_HIST_H
#define SNOOPKIT_HIST_H

/* Slot 0 holds 0..1, slot i holds 2^i..2^(i+1)-1; larger values land in the last slot. */
#define SK_HIST_SLOTS 27

struct sk_hist {
	__u32 slots[SK_HIST_SLOTS];
};

#ifdef __bpf__
/* floor(log2(v)), 0 for v <= 1; branch-free, so the verifier sees no loop. */
static __always_inline __u32 sk_log2(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 sk_log2l(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? sk_log2(hi) + 32 : sk_log2((__u32)v);
}

/* The slot for value v. */
/*
 * The slot for v, clamped in 64 bits: a 32-bit clamp followed by the
 * compiler's zero-extension loses the bound on older verifiers (seen on
 * Debian's 6.1: "R0 unbounded memory access"), 6.12 and later track it.
 */
static __always_inline __u64 sk_hist_slot(__u64 v)
{
	__u64 slot = sk_log2l(v);

	if (slot >= SK_HIST_SLOTS)
		slot = SK_HIST_SLOTS - 1;
	return slot;
}

#endif /* __bpf__ */

#endif /* SNOOPKIT_HIST_H */
