// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* killsnoop: kill(2), tkill(2) and tgkill(2), arguments kept on entry, sent on return. */
#include "killsnoop.bpf.h"

SEC("tracepoint/syscalls/sys_enter_kill")
int tp_enter_kill(struct sk_sys_enter *ctx)
{
	return kill_enter((__s32)ctx->args[0], 0, (__s32)ctx->args[1], KILLSNOOP_SYS_KILL);
}

SEC("tracepoint/syscalls/sys_enter_tkill")
int tp_enter_tkill(struct sk_sys_enter *ctx)
{
	return kill_enter(0, (__s32)ctx->args[0], (__s32)ctx->args[1], KILLSNOOP_SYS_TKILL);
}

SEC("tracepoint/syscalls/sys_enter_tgkill")
int tp_enter_tgkill(struct sk_sys_enter *ctx)
{
	return kill_enter((__s32)ctx->args[0], (__s32)ctx->args[1], (__s32)ctx->args[2],
			  KILLSNOOP_SYS_TGKILL);
}

/* One exit program for every syscall traced: the runtime attaches it to
 * each sys_exit_<name> the kernel has, so it is verified and compiled once. */
SEC("tracepoint")
int tp_exit(struct sk_sys_exit *ctx)
{
	return kill_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
