// execloop: the exec workload of the snoopkit benchmark.
//
//   execloop -n OPS [TOKEN]
//
// OPS times: vfork(), exec /bin/true with a few arguments (TOKEN first, so a
// reader can pick the workload's events out of a tracer's output), and wait.
// Waits for one byte on stdin before starting; prints ns per exec as JSON.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
	char *token = argc > 3 ? argv[3] : "skbench-exec";
	char *args[] = { "true", token, "--alpha", "beta", "gamma", NULL };
	long ops;
	uint64_t t0, t1, c0, c1;

	if (argc < 3 || argc > 4 || strcmp(argv[1], "-n")) {
		fprintf(stderr, "usage: execloop -n OPS [TOKEN]\n");
		return 2;
	}
	ops = parse_long(argv[2], "-n");
	wait_for_go();
	c0 = cpu_ns(RUSAGE_SELF) + cpu_ns(RUSAGE_CHILDREN);
	t0 = mono_ns();
	for (long i = 0; i < ops; i++) {
		int status;
		pid_t pid = vfork();

		if (pid < 0)
			die_errno("vfork", "");
		if (pid == 0) {
			execv("/bin/true", args);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			die_errno("waitpid", "");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "execloop: /bin/true failed (status %d)\n", status);
			return 1;
		}
	}
	t1 = mono_ns();
	c1 = cpu_ns(RUSAGE_SELF) + cpu_ns(RUSAGE_CHILDREN);
	/* CPU: this process and the children it reaped (each exec's own cost). */
	printf("{\"mode\":\"exec\",\"ops\":%ld,\"threads\":1,\"elapsed_ns\":%llu,"
	       "\"ns_per_op\":%.1f,\"cpu_ns_per_op\":%.1f}\n",
	       ops, (unsigned long long)(t1 - t0), (double)(t1 - t0) / (double)ops,
	       (double)(c1 - c0) / (double)ops);
	return 0;
}
