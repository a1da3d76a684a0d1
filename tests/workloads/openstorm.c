// A workload for storm and soak tests: opens and closes one path from N
// threads, as fast as it can or at a set rate, for a set time, and reports
// exactly how many opens it made.
//
//   openstorm PATH THREADS SECONDS [OPENS_PER_SECOND_PER_THREAD]
//
// It prints {"pid":N} and waits for a line on stdin before it starts, so a
// tracer can filter on its pid; at the end it prints {"opens":N,"failed":N}.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static double seconds;
static long rate;  // per thread; 0 = as fast as possible
static atomic_long opens, failed;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *arg) {
  (void)arg;
  long mine = 0, bad = 0;
  double start = now(), end = start + seconds;
  for (double t = start; t < end; t = now()) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0)
      close(fd);
    else
      bad++;
    mine++;
    if (rate > 0) {
      // Sleep until this thread's next slot.
      double next = start + (double)mine / (double)rate;
      double wait = next - now();
      if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
  }
  atomic_fetch_add(&opens, mine);
  atomic_fetch_add(&failed, bad);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PATH THREADS SECONDS [RATE]\n", argv[0]);
    return 2;
  }
  path = argv[1];
  int threads = atoi(argv[2]);
  seconds = atof(argv[3]);
  rate = argc > 4 ? atol(argv[4]) : 0;
  if (threads < 1 || threads > 64 || seconds <= 0) return 2;

  printf("{\"pid\":%d}\n", getpid());
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof(line), stdin)) return 1;

  pthread_t tids[64];
  for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, run, NULL);
  for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
  printf("{\"opens\":%ld,\"failed\":%ld}\n", atomic_load(&opens), atomic_load(&failed));
  return 0;
}
