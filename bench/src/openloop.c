// openloop: the open()+close() workload of the snoopkit benchmark.
//
//   openloop [-t THREADS] [-r RATE] -n OPS PATH  OPS opens of PATH, split over THREADS
//   openloop --lat -n COUNT [-i MS] DIR          one open of DIR/skb-lat-<i> every MS ms
//
// It gets ready (threads started), then waits for one byte on stdin, so the
// driver can attach a tracer to its PID first; then it runs and prints one
// JSON line on stdout: ns per open as seen by one thread, or (with --lat)
// the CLOCK_MONOTONIC time just before each open, for delivery latency.
//
// With -r RATE (0, the default: flat out), the opens are paced at RATE per
// second over all threads: each thread keeps RATE/THREADS per second against
// absolute deadlines from its start, looks at the clock every PACE_CHECK
// opens and sleeps until the next deadline when it is ahead. A thread that
// cannot keep up runs flat out. The JSON line then also holds "rate".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PACE_CHECK 32 /* opens between two looks at the clock when paced */

struct worker {
	pthread_t thread;
	const char *path;
	long ops;
	double period_ns; /* per open, this thread; 0: flat out */
	pthread_barrier_t *start;
};

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ops opens of path; with period_ns, open i is due period_ns * i after the
 * start (absolute deadlines: a thread that fell behind catches up flat out). */
static void open_close(const char *path, long ops, double period_ns)
{
	uint64_t start = period_ns > 0 ? mono_ns() : 0;

	for (long i = 0; i < ops; i++) {
		int fd;

		if (period_ns > 0 && i % PACE_CHECK == 0) {
			uint64_t due = start + (uint64_t)(period_ns * (double)i);

			if (mono_ns() < due)
				sleep_until(due);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die_errno("open", path);
		close(fd);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	open_close(w->path, w->ops, w->period_ns);
	return NULL;
}

static int run_loop(const char *path, long ops, int threads, long rate)
{
	/* Each thread's share of the rate: RATE/THREADS opens per second. */
	double period_ns = rate > 0 ? 1e9 * threads / (double)rate : 0;
	struct worker *ws = calloc(threads, sizeof(*ws));
	pthread_barrier_t start;
	uint64_t t0, t1, c0, c1;

	if (!ws)
		die_errno("calloc", "workers");
	/* Threads exist before "go", so nothing but the opens runs after it. */
	if (threads > 1) {
		pthread_barrier_init(&start, NULL, threads + 1);
		for (int i = 0; i < threads; i++) {
			ws[i] = (struct worker){ .path = path, .start = &start, .period_ns = period_ns,
						 .ops = ops / threads + (i < ops % threads) };
			if (pthread_create(&ws[i].thread, NULL, work, &ws[i]))
				die_errno("pthread_create", "worker");
		}
	}
	wait_for_go();
	c0 = cpu_ns(RUSAGE_SELF);
	t0 = mono_ns();
	if (threads > 1) {
		pthread_barrier_wait(&start);
		for (int i = 0; i < threads; i++)
			pthread_join(ws[i].thread, NULL);
	} else {
		open_close(path, ops, period_ns);
	}
	t1 = mono_ns();
	c1 = cpu_ns(RUSAGE_SELF);
	/* ns per op as one thread sees it: wall time x threads / ops; and the
	 * process's own CPU time per op (BPF programs run inside its syscalls). */
	printf("{\"mode\":\"open\",\"ops\":%ld,\"threads\":%d,\"elapsed_ns\":%llu,"
	       "\"ns_per_op\":%.1f,\"cpu_ns_per_op\":%.1f",
	       ops, threads, (unsigned long long)(t1 - t0),
	       (double)(t1 - t0) * threads / (double)ops, (double)(c1 - c0) / (double)ops);
	if (rate > 0)
		printf(",\"rate\":%ld", rate);
	printf("}\n");
	free(ws);
	return 0;
}

static int run_latency(const char *dir, long count, long interval_ms)
{
	uint64_t *t = calloc(count, sizeof(*t));
	char path[4096];
	struct timespec next;

	if (!t)
		die_errno("calloc", "timestamps");
	wait_for_go();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; i < count; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/skb-lat-%ld", dir, i);
		t[i] = mono_ns();
		fd = open(path, O_RDONLY | O_CLOEXEC); /* ENOENT is fine: it is traced too */
		if (fd >= 0)
			close(fd);
		next.tv_nsec += interval_ms * 1000000L;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	printf("{\"mode\":\"lat\",\"ops\":%ld,\"t_ns\":[", count);
	for (long i = 0; i < count; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)t[i]);
	printf("]}\n");
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	long ops = 0, interval_ms = 20, rate = 0;
	int threads = 1, lat = 0, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--lat"))
			lat = 1;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			ops = parse_long(argv[++i], "-n");
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			threads = (int)parse_long(argv[++i], "-t");
		else if (!strcmp(argv[i], "-i") && i + 1 < argc)
			interval_ms = parse_long(argv[++i], "-i");
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rate = parse_long(argv[++i], "-r");
		else
			break;
	}
	if (i != argc - 1 || ops <= 0 || threads < 1 || threads > 256 || interval_ms < 0 ||
	    rate < 0 || (rate && lat)) {
		fprintf(stderr, "usage: openloop [-t THREADS] [-r RATE] -n OPS PATH\n"
				"       openloop --lat -n COUNT [-i MS] DIR\n"
				"  -r RATE  opens per second over all threads (default 0: flat out)\n");
		return 2;
	}
	return lat ? run_latency(argv[i], ops, interval_ms) : run_loop(argv[i], ops, threads, rate);
}
