/*
 * proc.h: child processes that can be killed whole: start one in its own
 * process group (a function after fork, or a program by exec), signal its
 * group, reap it with or without a deadline, and say in words how it ended.
 *
 * The compile pool (NVRTC in forked children) and the benchmark worker
 * client (an exec'd worker) both start, kill and reap their children here,
 * so the rules below hold for both: the child is the leader of a new session
 * and process group, dies with its parent (PR_SET_PDEATHSIG on Linux), runs
 * with the default action for fatal signals, and inherits no descriptor the
 * caller did not name.
 *
 * Threads: a helion_proc_t belongs to one thread at a time. Starting a child
 * is safe from a multi-threaded process for exec children (the child only
 * calls async-signal-safe functions before exec); a function child runs in a
 * copy of the process that has only the forking thread, so it must not rely
 * on locks other threads may have held.
 *
 * Signals: reaping never installs handlers and retries waitpid() on EINTR, so
 * a caller's own handlers (SIGALRM, SIGCHLD with SA_RESTART or not) may run
 * while it waits. A caller that sets SIGCHLD to SIG_IGN loses its children's
 * exit statuses; reaping then fails with ECHILD.
 */
#ifndef HELION_PROC_H
#define HELION_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit status of a child whose exec failed or whose parent was already gone
 * when it started (the shell's "command not found" status). */
#define HELION_PROC_EXIT_EXEC 127

/* What the child runs when it does not exec. Its return value is the exit
 * status (0-255); it may also call _exit() itself. */
typedef int (*helion_proc_fn)(void *arg);

typedef struct helion_proc_opts {
  /* Exec `argv[0]` with `argv` (NULL-terminated; no PATH search). NULL:
   * call `fn(arg)` in the forked child instead. */
  char *const *argv;
  helion_proc_fn fn;
  void *arg;
  /* Descriptors the child keeps (at the same numbers). For an exec child
   * their close-on-exec flag is cleared in the child only. */
  const int *keep_fds;
  size_t nkeep_fds;
  /* Close every other descriptor above stderr in the child. A function
   * child needs this (nothing exec's); an exec child relies on the caller
   * having made its descriptors close-on-exec. */
  bool close_other_fds;
  /* Make the child's stdout its stderr (stdout of helion-tune is for
   * machines: a child must not write there). */
  bool stdout_to_stderr;
  /* Ignore SIGINT in the child: the parent decides what Ctrl-C stops. */
  bool ignore_sigint;
  /* Give the parent a descriptor (helion_proc_t.exit_fd) that polls
   * readable with EOF once the child and everything it started that still
   * holds the pipe is gone: poll() on it instead of on SIGCHLD. The pipe's
   * write end is held by the child only (closed at exec). */
  bool exit_pipe;
} helion_proc_opts_t;

typedef struct helion_proc {
  pid_t pid;   /* > 0 from start until reaped; also the process group id */
  int exit_fd; /* read end of the exit pipe, -1 without one */
} helion_proc_t;

/* How a child ended. */
typedef struct helion_proc_exit {
  bool signaled; /* killed by a signal (then `signal`), else exited */
  int status;    /* exit status, 0-255, when !signaled; -1 otherwise */
  int signal;    /* terminating signal when signaled; 0 otherwise */
} helion_proc_exit_t;

/* A helion_proc_t with no child (pid 0, exit_fd -1), for cleanup paths. */
void helion_proc_init(helion_proc_t *p);

/*
 * Starts a child as described by `o` (an exec child or a function child;
 * fflush(NULL) first, so no stdio buffer is written twice). On success
 * writes *out; the caller must reap it (helion_proc_wait) or it stays a
 * zombie until the caller exits. HELION_ERR_SUBPROCESS if a pipe or fork
 * fails; HELION_ERR_USAGE if `o` names neither argv nor fn. A failed exec
 * is not an error here: the child exits HELION_PROC_EXIT_EXEC.
 */
helion_status helion_proc_start(const helion_proc_opts_t *o, helion_proc_t *out,
                                helion_err_t *err);

/*
 * Sends `sig` to the child's process group, which holds whatever the child
 * started that did not leave it; to the child alone if the group does not
 * exist yet (the child has not reached setsid()). Does nothing without a
 * child. The child stays to be reaped.
 */
void helion_proc_kill(const helion_proc_t *p, int sig);

/*
 * Reaps the child. timeout_s < 0 blocks until it ends; 0 only looks;
 * > 0 waits at most that long (polling every 10 ms). *out_done says whether
 * it was reaped; if so, *out (may be NULL) says how it ended, p->pid becomes
 * 0 and the exit pipe is closed. EINTR is retried (a deadline still holds).
 * HELION_ERR_SUBPROCESS with "waitpid: <reason>" when the child cannot be
 * reaped (ECHILD: someone else reaped it); the helion_proc_t is then left
 * without a child, as if reaped. Without a child: done at once, *out zeroed.
 */
helion_status helion_proc_wait(helion_proc_t *p, double timeout_s,
                               bool *out_done, helion_proc_exit_t *out,
                               helion_err_t *err);

/* Kills the group with SIGKILL and reaps the child (blocking); how it ended
 * goes to *out (may be NULL). For cleanup paths: a child that cannot be
 * reaped is forgotten. Without a child, returns false. */
bool helion_proc_kill_reap(helion_proc_t *p, helion_proc_exit_t *out);

/*
 * Writes how the child ended into buf (n bytes, truncated to fit):
 * "exited with status 3" or "killed by signal 9 (Killed)". Returns buf.
 */
const char *helion_proc_exit_str(const helion_proc_exit_t *e, char *buf,
                                 size_t n);

#ifdef __cplusplus
}
#endif

#endif /* HELION_PROC_H */
