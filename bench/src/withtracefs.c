// withtracefs: run a command with tracefs mounted, as snoopkit's tools do
// for themselves: in a private mount namespace (the host's mounts are never
// touched), without forking, so the command keeps this process's PID.
//
//   withtracefs COMMAND [ARGS...]
//
// libbpf-tools and bpftrace need tracefs and do not mount it; this gives them
// the same set-up cost snoopkit pays (one unshare and one mount), no more.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>

#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: withtracefs COMMAND [ARGS...]\n");
		return 2;
	}
	if (access("/sys/kernel/tracing/events", F_OK) != 0) {
		if (unshare(CLONE_NEWNS))
			die_errno("unshare", "CLONE_NEWNS");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			die_errno("mount", "--make-rprivate /");
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL))
			die_errno("mount", "tracefs");
	}
	execvp(argv[1], argv + 1);
	die_errno("exec", argv[1]);
	return 127;
}
