// linereader: the "other process" that reads a tracer's stdout pipe.
//
//   linereader [--stamp] MATCH
//
// Reads stdin to EOF as fast as it can. Lines containing MATCH (the
// workload's own events) are counted, or with --stamp printed as
// "<CLOCK_MONOTONIC ns at arrival> <line>" for delivery latency. Every other
// line (headers, loss reports, summaries) is copied to stdout, up to a cap.
// Last line: "linereader: matched N other M bytes B".
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "common.h"

#define CHUNK (1 << 20)
#define OTHER_CAP (16L << 20)

int main(int argc, char **argv)
{
	static char buf[2 * CHUNK];
	int stamp = argc == 3 && !strcmp(argv[1], "--stamp");
	const char *match = argv[argc - 1];
	size_t mlen, have = 0;
	unsigned long long matched = 0, other = 0, bytes = 0;
	long other_bytes = 0;

	if (argc != 2 + stamp) {
		fprintf(stderr, "usage: linereader [--stamp] MATCH\n");
		return 2;
	}
	mlen = strlen(match);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + have, sizeof(buf) - have);
		uint64_t now;
		char *line, *nl, *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read", "stdin");
		now = mono_ns();
		bytes += (unsigned long long)n;
		if (n == 0 && have == 0)
			break;
		have += (size_t)n;
		end = buf + have;
		line = buf;
		/* At EOF a last line without a newline still counts. */
		while ((nl = memchr(line, '\n', (size_t)(end - line))) || (n == 0 && line < end)) {
			size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

			if (memmem(line, len, match, mlen)) {
				matched++;
				if (stamp)
					printf("%llu %.*s\n", (unsigned long long)now, (int)len, line);
			} else {
				other++;
				if (other_bytes < OTHER_CAP) {
					printf("%.*s\n", (int)len, line);
					other_bytes += (long)len + 1;
				}
			}
			line += len + (nl != NULL);
		}
		have = (size_t)(end - line);
		if (have == sizeof(buf)) /* a line longer than the buffer: drop its start */
			have = 0;
		memmove(buf, line, have);
		if (n == 0)
			break;
	}
	printf("linereader: matched %llu other %llu bytes %llu\n", matched, other, bytes);
	return 0;
}
