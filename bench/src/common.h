// Helpers shared by the benchmark's C programs (header-only: each program is
// one translation unit).
#pragma once
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time (user + system) of this process, plus its reaped children with
 * RUSAGE_CHILDREN; in ns. The total is exact (scheduler run time). */
static inline uint64_t cpu_ns(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static inline void die_errno(const char *what, const char *arg)
{
	fprintf(stderr, "%s %s: %s\n", what, arg, strerror(errno));
	exit(1);
}

static inline long parse_long(const char *s, const char *opt)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "%s: not a number: %s\n", opt, s);
		exit(2);
	}
	return v;
}

/* The driver's start signal: one byte on stdin (EOF also starts). */
static inline void wait_for_go(void)
{
	char c;

	while (read(STDIN_FILENO, &c, 1) < 0 && errno == EINTR)
		;
}
