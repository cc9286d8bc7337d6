/*
 * proc.c: starting, killing and reaping child processes in their own
 * process groups, and naming how they ended (see proc.h).
 */
#define _GNU_SOURCE /* pipe2, strsignal, dirfd */

#include "util/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* How often a wait with a deadline looks at the child. */
#define POLL_S 0.01

void helion_proc_init(helion_proc_t *p) {
  p->pid = 0;
  p->exit_fd = -1;
}

/* The child is gone (reaped, or beyond reaping): nothing is left to wait
 * for or to poll. */
static void proc_forget(helion_proc_t *p) {
  if (p->exit_fd >= 0)
    close(p->exit_fd);
  helion_proc_init(p);
}

static bool is_kept(const helion_proc_opts_t *o, int fd, int exit_w) {
  if (fd == exit_w)
    return true;
  for (size_t i = 0; i < o->nkeep_fds; i++)
    if (o->keep_fds[i] == fd)
      return true;
  return false;
}

/* Closes every inherited descriptor above stderr that the child does not
 * keep, so it holds nothing of the parent's (the benchmark worker's socket,
 * other children's files and exit pipes). Collects in batches: a descriptor
 * cannot be closed while its directory is being read. */
static void close_other_fds(const helion_proc_opts_t *o, int exit_w) {
  for (;;) {
    DIR *d = opendir("/proc/self/fd");
    if (!d)
      return;
    int fds[256];
    size_t n = 0;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < sizeof(fds) / sizeof(fds[0])) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9')
        continue;
      int fd = atoi(e->d_name);
      if (fd > 2 && fd != self && !is_kept(o, fd, exit_w))
        fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
      close(fds[i]);
    if (n < sizeof(fds) / sizeof(fds[0]))
      return;
  }
}

/* The child after fork. Never returns. Up to exec only async-signal-safe
 * calls, except close_other_fds (opendir), which only function children ask
 * for and which already run arbitrary code. */
static void child_main(const helion_proc_opts_t *o, int exit_r, int exit_w,
                       pid_t parent) {
  /* Own session and process group, so killing the group kills everything
   * the child starts, and a terminal's Ctrl-C is the parent's to handle. */
  if (setsid() < 0)
    setpgid(0, 0);
#ifdef __linux__
  prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
  /* The parent died before the line above: nobody will reap or kill us. */
  if (getppid() != parent)
    _exit(HELION_PROC_EXIT_EXEC);
  if (exit_r >= 0)
    close(exit_r);
  if (o->close_other_fds)
    close_other_fds(o, exit_w);
  if (o->argv)
    for (size_t i = 0; i < o->nkeep_fds; i++) {
      int flags = fcntl(o->keep_fds[i], F_GETFD);
      if (flags >= 0)
        fcntl(o->keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC);
    }
  if (o->stdout_to_stderr)
    dup2(2, 1);
  /* The parent's handlers (a test framework's, a crash reporter's) must not
   * run here: a crash kills this child and nothing else. */
  static const int fatal[] = {SIGTERM, SIGSEGV, SIGBUS, SIGILL,
                              SIGFPE,  SIGABRT, SIGPIPE};
  for (size_t k = 0; k < sizeof(fatal) / sizeof(fatal[0]); k++)
    signal(fatal[k], SIG_DFL);
  /* Nor its blocked signals: a deadline's SIGTERM must end this child. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (o->ignore_sigint)
    signal(SIGINT, SIG_IGN);
  if (o->argv) {
    execv(o->argv[0], o->argv);
    _exit(HELION_PROC_EXIT_EXEC);
  }
  _exit(o->fn(o->arg) & 0xff);
}

helion_status helion_proc_start(const helion_proc_opts_t *o, helion_proc_t *out,
                                helion_err_t *err) {
  int ep[2] = {-1, -1};
  if (!o || (!o->argv && !o->fn) || (o->argv && !o->argv[0]))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "starting a process: neither a program nor a "
                          "function to run");
  /* Close-on-exec, so neither end leaks into another child's exec. */
  if (o->exit_pipe && pipe2(ep, O_CLOEXEC) < 0)
    return helion_err_set(err, HELION_ERR_SUBPROCESS, "pipe: %s",
                          strerror(errno));
  fflush(NULL); /* no stdio buffer is written twice */
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    if (ep[0] >= 0) {
      close(ep[0]);
      close(ep[1]);
    }
    return helion_err_set(err, HELION_ERR_SUBPROCESS, "fork: %s", strerror(e));
  }
  if (pid == 0)
    child_main(o, ep[0], ep[1], parent);
  if (ep[1] >= 0)
    close(ep[1]);
  out->pid = pid;
  out->exit_fd = ep[0];
  return HELION_OK;
}

void helion_proc_kill(const helion_proc_t *p, int sig) {
  if (p->pid <= 0)
    return;
  if (kill(-p->pid, sig) < 0 && errno == ESRCH)
    kill(p->pid, sig);
}

static void decode(int st, helion_proc_exit_t *out) {
  memset(out, 0, sizeof(*out));
  out->signaled = WIFSIGNALED(st);
  out->signal = out->signaled ? WTERMSIG(st) : 0;
  out->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL); /* an interrupted sleep only shortens a poll */
}

helion_status helion_proc_wait(helion_proc_t *p, double timeout_s,
                               bool *out_done, helion_proc_exit_t *out,
                               helion_err_t *err) {
  *out_done = false;
  if (p->pid <= 0) {
    proc_forget(p);
    if (out)
      memset(out, 0, sizeof(*out));
    *out_done = true;
    return HELION_OK;
  }
  double until = timeout_s > 0 ? helion_now() + timeout_s : 0;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(p->pid, &st, timeout_s < 0 ? 0 : WNOHANG);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      proc_forget(p);
      return helion_err_set(err, HELION_ERR_SUBPROCESS, "waitpid: %s",
                            strerror(e));
    }
    if (r == p->pid) {
      if (out)
        decode(st, out);
      proc_forget(p);
      *out_done = true;
      return HELION_OK;
    }
    double left = until - helion_now();
    if (timeout_s == 0 || left <= 0)
      return HELION_OK;
    sleep_s(left < POLL_S ? left : POLL_S);
  }
}

bool helion_proc_kill_reap(helion_proc_t *p, helion_proc_exit_t *out) {
  if (p->pid <= 0)
    return false;
  bool done = false;
  helion_proc_kill(p, SIGKILL);
  return helion_proc_wait(p, -1, &done, out, NULL) == HELION_OK && done;
}

const char *helion_proc_exit_str(const helion_proc_exit_t *e, char *buf,
                                 size_t n) {
  if (!n)
    return buf;
  if (e->signaled) {
    const char *name = strsignal(e->signal);
    snprintf(buf, n, "killed by signal %d (%s)", e->signal,
             name ? name : "unknown");
  } else {
    snprintf(buf, n, "exited with status %d", e->status);
  }
  return buf;
}
