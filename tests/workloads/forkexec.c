// A workload for execsnoop's tests: fork, then exec string literals in the
// child. A child does not inherit its parent's page table entries for the
// program's own file-backed pages, so the literals' pages are not resident
// in it when exec(2) is entered.
//
//   forkexec MODE...
//
// For each MODE, one child; the parent prints "MODE PID STATUS" (STATUS:
// the child's exit code, or -errno of its failed exec) and waits for it.
//   ok       execl("/bin/sh", "sh", "-c", "exit 0", NULL)
//   missing  the same, of a program that does not exist (ENOENT)
//   badargv  execve of a missing program with an argv pointer that cannot
//            be read (ENOENT: the kernel opens the file first)
//   badname  execve with a filename pointer that cannot be read (EFAULT)
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// An address no process maps: page 0.
#define UNREADABLE ((void *)16)

// Each mode's exec. The child calls one through a pointer the parent chose,
// so that it reads none of the program's constant pages before exec(2).
static void run_ok(void) { execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL); }

static void run_missing(void) {
  execl("/nonexistent/forkexec-target", "forkexec-target", "-c", "exit 0", (char *)NULL);
}

static void run_badargv(void) { syscall(SYS_execve, "/nonexistent/forkexec-badargv", UNREADABLE, NULL); }

static void run_badname(void) {
  char *const argv[] = {"forkexec-badname", NULL};
  syscall(SYS_execve, UNREADABLE, argv, NULL);
}

static const struct {
  const char *name;
  void (*run)(void);
} kModes[] = {{"ok", run_ok}, {"missing", run_missing}, {"badargv", run_badargv}, {"badname", run_badname}};

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    void (*run)(void) = NULL;
    for (size_t m = 0; m < sizeof(kModes) / sizeof(kModes[0]); m++)
      if (strcmp(argv[i], kModes[m].name) == 0) run = kModes[m].run;
    if (!run) {
      fprintf(stderr, "forkexec: unknown mode %s\n", argv[i]);
      return 2;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      run();
      _exit(100 + errno);  // the exec failed: 100 + errno (errno < 100 here)
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 1;
    int code = WEXITSTATUS(status);
    printf("%s %d %d\n", argv[i], (int)pid, code >= 100 ? -(code - 100) : code);
  }
  return 0;
}
