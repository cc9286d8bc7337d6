/*
 * test_proc.c: child processes with util/proc.h, all real: a child that
 * exits 3, one that kills itself with SIGSEGV, one that hangs until its group
 * is killed, one whose grandchild must die with the group, waits interrupted
 * by a signal handler, exec'd programs with kept descriptors, and function
 * children that inherit nothing they were not given.
 */
#define _GNU_SOURCE /* pipe2, prctl */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/proc.h"

/* Starts a function child; fails the test if it cannot. */
static helion_proc_t start_fn(helion_proc_fn fn, void *arg, bool exit_pipe) {
  helion_proc_opts_t o = {.fn = fn, .arg = arg, .exit_pipe = exit_pipe};
  helion_proc_t p;
  helion_err_t err = {""};
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  assert_true(p.pid > 0);
  return p;
}

/* Reaps p (blocking) and returns how it ended in words. */
static const char *reap_str(helion_proc_t *p, char *buf, size_t n) {
  bool done = false;
  helion_proc_exit_t e;
  helion_err_t err = {""};
  assert_int_equal(helion_proc_wait(p, -1, &done, &e, &err), HELION_OK);
  assert_true(done);
  assert_int_equal(p->pid, 0);
  assert_int_equal(p->exit_fd, -1);
  return helion_proc_exit_str(&e, buf, n);
}

static int exit3(void *arg) {
  (void)arg;
  return 3;
}

static int segv(void *arg) {
  (void)arg;
  raise(SIGSEGV);
  return 0;
}

static int hang(void *arg) {
  (void)arg;
  for (;;)
    pause();
  return 0; /* not reached; some compilers want it */
}

static int sleep_then_5(void *arg) {
  (void)arg;
  usleep(300 * 1000);
  return 5;
}

static void test_proc_exit_status(void **state) {
  (void)state;
  char buf[96];
  helion_proc_t p = start_fn(exit3, NULL, false);
  assert_string_equal(reap_str(&p, buf, sizeof(buf)), "exited with status 3");
}

static void test_proc_crash_is_a_signal(void **state) {
  (void)state;
  char buf[96];
  /* cmocka catches SIGSEGV in this process; the child must not run its
   * handler but die of the signal. */
  helion_proc_t p = start_fn(segv, NULL, false);
  assert_string_equal(reap_str(&p, buf, sizeof(buf)),
                      "killed by signal 11 (Segmentation fault)");
}

static void test_proc_hang_is_killed_by_group(void **state) {
  (void)state;
  char buf[96];
  bool done = true;
  helion_err_t err = {""};
  helion_proc_t p = start_fn(hang, NULL, false);
  /* Looking and a short deadline both leave it running. */
  assert_int_equal(helion_proc_wait(&p, 0, &done, NULL, &err), HELION_OK);
  assert_false(done);
  double t0 = helion_now();
  assert_int_equal(helion_proc_wait(&p, 0.2, &done, NULL, &err), HELION_OK);
  assert_false(done);
  assert_true(helion_now() - t0 >= 0.19);
  assert_true(p.pid > 0);
  helion_proc_kill(&p, SIGKILL);
  assert_string_equal(reap_str(&p, buf, sizeof(buf)),
                      "killed by signal 9 (Killed)");
}

/* Forks a grandchild in the child's group, tells the parent its pid over
 * the descriptor in *arg, and hangs with it. */
static int spawn_grandchild(void *arg) {
  int fd = *(int *)arg;
  pid_t g = fork();
  if (g < 0)
    return 2;
  if (g == 0)
    for (;;)
      pause();
  if (write(fd, &g, sizeof(g)) != (ssize_t)sizeof(g))
    return 2;
  for (;;)
    pause();
  return 0; /* not reached; some compilers want it */
}

static void test_proc_group_kill_takes_the_grandchild(void **state) {
  (void)state;
  char buf[96];
  int fds[2];
  /* Orphans of this process become its children, so the grandchild can be
   * reaped here and its end read. */
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
  helion_proc_opts_t o = {.fn = spawn_grandchild,
                          .arg = &fds[1],
                          .keep_fds = &fds[1],
                          .nkeep_fds = 1,
                          .close_other_fds = true,
                          .exit_pipe = true};
  helion_proc_t p;
  helion_err_t err = {""};
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  close(fds[1]);
  pid_t g = 0;
  assert_int_equal(read(fds[0], &g, sizeof(g)), (ssize_t)sizeof(g));
  close(fds[0]);
  assert_true(g > 0 && g != p.pid);

  /* Both hold the exit pipe: it stays quiet while either lives. */
  struct pollfd pf = {p.exit_fd, POLLIN, 0};
  assert_int_equal(poll(&pf, 1, 100), 0);
  helion_proc_kill(&p, SIGTERM);
  assert_int_equal(poll(&pf, 1, 5000), 1);
  char c;
  assert_int_equal(read(p.exit_fd, &c, 1), 0); /* EOF: both are gone */
  assert_string_equal(reap_str(&p, buf, sizeof(buf)),
                      "killed by signal 15 (Terminated)");

  helion_proc_t gp = {g, -1};
  bool done = false;
  helion_proc_exit_t e;
  assert_int_equal(helion_proc_wait(&gp, 5.0, &done, &e, &err), HELION_OK);
  if (!done)
    helion_proc_kill_reap(&gp, NULL);
  assert_true(done);
  assert_string_equal(helion_proc_exit_str(&e, buf, sizeof(buf)),
                      "killed by signal 15 (Terminated)");
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

/* SIGALRM every 20 ms without SA_RESTART, so waitpid and nanosleep in the
 * wait see EINTR; `old` receives the previous handler. */
static void alarms_on(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGALRM, &sa, old), 0);
  struct itimerval it = {{0, 20000}, {0, 20000}};
  alarms = 0;
  assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void alarms_off(const struct sigaction *old) {
  struct itimerval off;
  memset(&off, 0, sizeof(off));
  setitimer(ITIMER_REAL, &off, NULL);
  sigaction(SIGALRM, old, NULL);
}

static void test_proc_wait_survives_eintr(void **state) {
  (void)state;
  char buf[96];
  struct sigaction old;
  helion_proc_t p = start_fn(sleep_then_5, NULL, false);
  alarms_on(&old);
  const char *got = reap_str(&p, buf, sizeof(buf));
  sig_atomic_t seen = alarms;
  alarms_off(&old);
  assert_string_equal(got, "exited with status 5");
  assert_true(seen >= 3); /* the wait was interrupted, and went on */

  /* A deadline holds through interruptions, neither cut short nor
   * stretched. */
  bool done = true;
  helion_err_t err = {""};
  p = start_fn(hang, NULL, false);
  alarms_on(&old);
  double t0 = helion_now();
  helion_status rc = helion_proc_wait(&p, 0.3, &done, NULL, &err);
  double took = helion_now() - t0;
  seen = alarms;
  alarms_off(&old);
  assert_int_equal(rc, HELION_OK);
  assert_false(done);
  assert_true(seen >= 3);
  assert_true(took >= 0.29 && took < 2.0);
  assert_true(helion_proc_kill_reap(&p, NULL));
  assert_int_equal(p.pid, 0);
}

static void test_proc_exec_keeps_named_fds(void **state) {
  (void)state;
  char buf[96], cmd[96];
  int fds[2];
  assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
  snprintf(cmd, sizeof(cmd), "echo hello >&%d; exit 7", fds[1]);
  char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  helion_proc_opts_t o = {.argv = argv, .keep_fds = &fds[1], .nkeep_fds = 1};
  helion_proc_t p;
  helion_err_t err = {""};
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  close(fds[1]);
  char line[16] = {0};
  assert_int_equal(read(fds[0], line, sizeof(line) - 1), 6);
  close(fds[0]);
  assert_string_equal(line, "hello\n");
  assert_string_equal(reap_str(&p, buf, sizeof(buf)), "exited with status 7");

  /* The close-on-exec flag was cleared in the child only. */
  assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
  o.keep_fds = &fds[1];
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  assert_true(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
  (void)reap_str(&p, buf, sizeof(buf));
  close(fds[0]);
  close(fds[1]);

  char *missing[] = {"/nonexistent/helion-proc-test", NULL};
  o.argv = missing;
  o.nkeep_fds = 0;
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  assert_string_equal(reap_str(&p, buf, sizeof(buf)), "exited with status 127");
}

/* Exits 0 when descriptor arg[0] is closed and arg[1] open, else 1. */
static int check_fds(void *arg) {
  const int *fd = arg;
  bool closed = fcntl(fd[0], F_GETFD) < 0 && errno == EBADF;
  bool open_ = fcntl(fd[1], F_GETFD) >= 0;
  return closed && open_ ? 0 : 1;
}

static void test_proc_function_child_inherits_only_what_it_keeps(void **state) {
  (void)state;
  char buf[96];
  int a[2], b[2];
  assert_int_equal(pipe(a), 0); /* not close-on-exec: fork would pass it */
  assert_int_equal(pipe(b), 0);
  int fd[2] = {a[1], b[1]};
  helion_proc_opts_t o = {.fn = check_fds,
                          .arg = fd,
                          .keep_fds = &b[1],
                          .nkeep_fds = 1,
                          .close_other_fds = true};
  helion_proc_t p;
  helion_err_t err = {""};
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  assert_string_equal(reap_str(&p, buf, sizeof(buf)), "exited with status 0");
  /* Without closing, the child holds a[1]: the check itself can fail. */
  o.close_other_fds = false;
  assert_int_equal(helion_proc_start(&o, &p, &err), HELION_OK);
  assert_string_equal(reap_str(&p, buf, sizeof(buf)), "exited with status 1");
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
}

static void test_proc_without_a_child(void **state) {
  (void)state;
  helion_proc_t p;
  helion_proc_init(&p);
  bool done = false;
  helion_proc_exit_t e = {true, 9, 9};
  helion_err_t err = {""};
  assert_int_equal(helion_proc_wait(&p, -1, &done, &e, &err), HELION_OK);
  assert_true(done);
  assert_false(e.signaled);
  assert_false(helion_proc_kill_reap(&p, NULL));
  helion_proc_kill(&p, SIGKILL); /* nothing to signal: must not kill us */

  helion_proc_opts_t none = {0};
  assert_int_equal(helion_proc_start(&none, &p, &err), HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "neither a program nor a function"));

  /* A child reaped behind the helper's back is an error, then forgotten. */
  p = start_fn(exit3, NULL, true);
  int st;
  assert_int_equal(waitpid(p.pid, &st, 0), p.pid);
  assert_int_equal(helion_proc_wait(&p, -1, &done, &e, &err),
                   HELION_ERR_SUBPROCESS);
  assert_non_null(strstr(err.msg, "waitpid: "));
  assert_int_equal(p.pid, 0);
  assert_int_equal(p.exit_fd, -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_proc_exit_status),
      cmocka_unit_test(test_proc_crash_is_a_signal),
      cmocka_unit_test(test_proc_hang_is_killed_by_group),
      cmocka_unit_test(test_proc_group_kill_takes_the_grandchild),
      cmocka_unit_test(test_proc_wait_survives_eintr),
      cmocka_unit_test(test_proc_exec_keeps_named_fds),
      cmocka_unit_test(test_proc_function_child_inherits_only_what_it_keeps),
      cmocka_unit_test(test_proc_without_a_child),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
