/*
 * test_compile_pool.c: the NVRTC compile pool with the real NVRTC: parallel
 * compiles return cubins tagged to their inputs, a syntax error returns the
 * log, a compile that runs for minutes is killed at its deadline while the
 * others finish, a crashing child fails only its own compile, a compile
 * process serves compile after compile and is replaced when it dies, the
 * caller's descriptor wakes the wait, and Helion's adaptive timeout rule.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/compile_pool.h"

static const char store_src[] = "extern \"C\" __global__ void store(int *x) {\n"
                                "  x[threadIdx.x] = VAL;\n"
                                "}\n";

static const char syntax_src[] =
    "extern \"C\" __global__ void broken(int *x) {\n"
    "  x[0] = 1\n"
    "}\n";

/* 2^DEPTH distinct instantiations: NVRTC needs about 5 s at depth 14 and
 * over a minute at 16 (measured on this machine), so depth 24 never ends
 * within a test's deadline. */
static const char slow_src[] =
    "template <int N, int M> struct T {\n"
    "  static constexpr long long v = T<N - 1, 2 * M>::v + T<N - 1, 2 * M + "
    "1>::v;\n"
    "};\n"
    "template <int M> struct T<0, M> { static constexpr long long v = M; };\n"
    "extern \"C\" __global__ void slow(long long *o) { o[0] = T<24, 0>::v; "
    "}\n";

static helion_compile_pool_t *make_pool(size_t jobs, double timeout_s) {
  helion_compile_pool_opts_t o = {jobs, timeout_s, 0.5};
  helion_compile_pool_t *p = NULL;
  helion_err_t err;
  assert_int_equal(helion_compile_pool_create(&o, &p, &err), HELION_OK);
  return p;
}

static void submit(helion_compile_pool_t *p, const char *src, const char *entry,
                   const char *options, uint64_t tag) {
  helion_nvrtc_input_t in = {src, "k.cu", "sm_90", options, entry};
  helion_err_t err;
  assert_int_equal(helion_compile_pool_submit(p, &in, tag, &err), HELION_OK);
}

/* Waits until every submitted compile has finished; results by tag. */
static void collect_all(helion_compile_pool_t *p,
                        helion_compile_result_t *by_tag, size_t n) {
  size_t got = 0;
  helion_err_t err;
  while (got < n) {
    assert_int_equal(helion_compile_pool_wait(p, -1, NULL, 0, NULL, &err),
                     HELION_OK);
    helion_compile_result_t r;
    while (helion_compile_pool_take(p, &r)) {
      assert_true(r.tag < n);
      assert_int_equal(by_tag[r.tag].tag, 0); /* each tag once */
      by_tag[r.tag] = r;
      by_tag[r.tag].tag = r.tag + 1000;
      got++;
    }
  }
  assert_int_equal(helion_compile_pool_outstanding(p), 0);
  assert_int_equal(helion_compile_pool_ready(p), 0);
}

static void test_compile_pool_parallel_compiles_return_cubins(void **state) {
  (void)state;
  enum { N = 5 };
  helion_compile_pool_t *p = make_pool(3, 60);
  for (uint64_t i = 0; i < N; i++) {
    char opt[32];
    snprintf(opt, sizeof(opt), "-DVAL=%d\n", (int)(7001 + i));
    submit(p, store_src, "store", opt, i);
  }
  /* Three children at most: the other two wait in the queue. */
  assert_int_equal(helion_compile_pool_outstanding(p), N);
  helion_compile_result_t res[N];
  memset(res, 0, sizeof(res));
  collect_all(p, res, N);
  for (int i = 0; i < N; i++) {
    helion_compile_result_t *r = &res[i];
    assert_int_equal(r->status, HELION_COMPILE_OK);
    assert_string_equal(r->msg, "");
    assert_true(r->out.cubin_size > 64);
    assert_memory_equal(r->out.cubin,
                        "\x7f"
                        "ELF",
                        4);
    assert_non_null(strstr(r->out.ptx, ".entry store("));
    /* The define of this tag, not another's, reached the kernel. */
    char want[16];
    snprintf(want, sizeof(want), "%d", 7001 + i);
    assert_non_null(strstr(r->out.ptx, want));
    for (int k = 0; k < N; k++) {
      char other[16];
      snprintf(other, sizeof(other), "%d", 7001 + k);
      if (k != i)
        assert_null(strstr(r->out.ptx, other));
    }
    assert_true(r->out.usage.known);
    assert_true(r->out.usage.registers > 0);
    assert_true(r->seconds > 0 && r->seconds >= r->out.seconds);
    assert_false(r->sigkill);
    helion_compile_result_cleanup(r);
  }
  helion_compile_pool_destroy(p);
}

static void test_compile_pool_syntax_error_returns_log(void **state) {
  (void)state;
  helion_compile_pool_t *p = make_pool(2, 60);
  submit(p, syntax_src, "broken", NULL, 0);
  helion_compile_result_t res[1];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 1);
  assert_int_equal(res[0].status, HELION_COMPILE_FAILED);
  /* The missing ';' is reported on line 2 (NVRTC cites the line after the
   * statement, where the '}' is, on some versions: accept 2 or 3). */
  assert_non_null(strstr(res[0].out.log, "error"));
  assert_true(strstr(res[0].out.log, "k.cu(2): error") ||
              strstr(res[0].out.log, "k.cu(3): error"));
  assert_non_null(strstr(res[0].msg, "NVRTC_ERROR_COMPILATION"));
  assert_non_null(strstr(res[0].msg, "k.cu("));
  assert_null(res[0].out.cubin);
  assert_null(res[0].out.ptx);
  helion_compile_result_cleanup(&res[0]);
  helion_compile_pool_destroy(p);
}

static void
test_compile_pool_slow_compile_times_out_others_finish(void **state) {
  (void)state;
  helion_compile_pool_t *p = make_pool(2, 2.0);
  submit(p, slow_src, "slow", NULL, 0);
  submit(p, store_src, "store", "-DVAL=1", 1);
  submit(p, store_src, "store", "-DVAL=2", 2);
  helion_compile_result_t res[3];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 3);
  assert_int_equal(res[0].status, HELION_COMPILE_TIMEOUT);
  assert_true(res[0].seconds >= 2.0);
  assert_int_equal(strncmp(res[0].msg, "Timeout after ", 14), 0);
  assert_non_null(strstr(res[0].msg, "s compiling"));
  assert_null(res[0].out.cubin);
  assert_int_equal(res[1].status, HELION_COMPILE_OK);
  assert_int_equal(res[2].status, HELION_COMPILE_OK);
  assert_non_null(res[1].out.cubin);
  assert_non_null(res[2].out.cubin);
  for (int i = 0; i < 3; i++)
    helion_compile_result_cleanup(&res[i]);
  helion_compile_pool_destroy(p);
}

static void test_compile_pool_crash_fails_one_config(void **state) {
  (void)state;
  setenv("HELION_COMPILE_POOL_TEST_CRASH", "-DCRASH_ME", 1);
  helion_compile_pool_t *p = make_pool(2, 60);
  submit(p, store_src, "store", "-DVAL=5\n-DCRASH_ME=1\n", 0);
  submit(p, store_src, "store", "-DVAL=6\n", 1);
  helion_compile_result_t res[2];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 2);
  unsetenv("HELION_COMPILE_POOL_TEST_CRASH");
  assert_int_equal(res[0].status, HELION_COMPILE_CRASHED);
  assert_string_equal(res[0].msg,
                      "compile process killed by signal 11 (Segmentation "
                      "fault)");
  assert_int_equal(res[1].status, HELION_COMPILE_OK);
  for (int i = 0; i < 2; i++)
    helion_compile_result_cleanup(&res[i]);
  helion_compile_pool_destroy(p);
}

/* The pids of this process's children (Linux: /proc/self/task/<tid>/
 * children; the test is single-threaded). */
static size_t children(pid_t *out, size_t max) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = 0;
  int pid;
  while (n < max && fscanf(f, "%d", &pid) == 1)
    out[n++] = (pid_t)pid;
  fclose(f);
  return n;
}

/* Waits until child `pid` is dead (a zombie its parent has not reaped). */
static void wait_zombie(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  for (int i = 0; i < 1000; i++) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char state = 0;
    int got = fscanf(f, "%*d (%*[^)]) %c", &state);
    fclose(f);
    if (got == 1 && state == 'Z')
      return;
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  fail_msg("process %d did not die", (int)pid);
}

/* Compiles `n` store kernels with tags from `first` on pool p and checks
 * each result. */
static void compile_ok(helion_compile_pool_t *p, int first, size_t n) {
  helion_compile_result_t res[4];
  assert_true(n <= 4);
  memset(res, 0, sizeof(res));
  for (size_t i = 0; i < n; i++) {
    char opt[32];
    snprintf(opt, sizeof(opt), "-DVAL=%d\n", first + (int)i);
    submit(p, store_src, "store", opt, i);
  }
  collect_all(p, res, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(res[i].status, HELION_COMPILE_OK);
    char want[16];
    snprintf(want, sizeof(want), "%d", first + (int)i);
    assert_non_null(strstr(res[i].out.ptx, want));
    helion_compile_result_cleanup(&res[i]);
  }
}

/* One compile process per slot serves compile after compile; one that
 * crashed, or was killed while idle, is replaced by the next compile. */
static void test_compile_pool_processes_live_on_and_are_replaced(void **state) {
  (void)state;
  pid_t before[8], after[8];
  /* A compile process reads the hook when it starts. */
  setenv("HELION_COMPILE_POOL_TEST_CRASH", "-DCRASH_ME", 1);
  helion_compile_pool_t *p = make_pool(1, 60);
  assert_int_equal(children(before, 8), 0);
  compile_ok(p, 9100, 3);
  assert_int_equal(children(before, 8), 1);
  compile_ok(p, 9200, 2);
  assert_int_equal(children(after, 8), 1);
  assert_int_equal(after[0], before[0]); /* the same process */

  /* A config that does not compile leaves the process serving. */
  submit(p, syntax_src, "broken", NULL, 0);
  helion_compile_result_t bad[1];
  memset(bad, 0, sizeof(bad));
  collect_all(p, bad, 1);
  assert_int_equal(bad[0].status, HELION_COMPILE_FAILED);
  helion_compile_result_cleanup(&bad[0]);
  compile_ok(p, 9250, 1);
  assert_int_equal(children(after, 8), 1);
  assert_int_equal(after[0], before[0]);

  /* Killed while idle: the next compile starts another. (Sent once it is
   * dead: a process killed after it took the job fails that job.) */
  assert_int_equal(kill(before[0], SIGKILL), 0);
  wait_zombie(before[0]);
  compile_ok(p, 9300, 1);
  assert_int_equal(children(after, 8), 1);
  assert_int_not_equal(after[0], before[0]);
  /* The dead one was reaped, not left a zombie. */
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d", (int)before[0]);
  assert_int_not_equal(access(path, F_OK), 0);

  /* A crash fails its config only; the slot's next compile works. */
  submit(p, store_src, "store", "-DVAL=5\n-DCRASH_ME=1\n", 0);
  helion_compile_result_t res[1];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 1);
  assert_int_equal(res[0].status, HELION_COMPILE_CRASHED);
  helion_compile_result_cleanup(&res[0]);
  assert_int_equal(children(before, 8), 0);
  compile_ok(p, 9400, 2);
  assert_int_equal(children(after, 8), 1);

  helion_compile_pool_destroy(p);
  unsetenv("HELION_COMPILE_POOL_TEST_CRASH");
  assert_int_equal(children(after, 8), 0); /* destroy ends it */
}

/* Compiles not started yet can be dropped; the running one still comes. */
static void test_compile_pool_cancel_queued(void **state) {
  (void)state;
  helion_compile_pool_t *p = make_pool(1, 60);
  for (uint64_t i = 0; i < 3; i++) {
    char opt[32];
    snprintf(opt, sizeof(opt), "-DVAL=%d\n", 9500 + (int)i);
    submit(p, store_src, "store", opt, i);
  }
  assert_int_equal(helion_compile_pool_cancel_queued(p), 2);
  assert_int_equal(helion_compile_pool_outstanding(p), 1);
  helion_compile_result_t res[1];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 1); /* tag 0 only: collect_all checks tags < 1 */
  assert_int_equal(res[0].status, HELION_COMPILE_OK);
  assert_non_null(strstr(res[0].out.ptx, "9500"));
  helion_compile_result_cleanup(&res[0]);
  assert_int_equal(helion_compile_pool_cancel_queued(p), 0);
  compile_ok(p, 9600, 2); /* the pool goes on */
  helion_compile_pool_destroy(p);
}

/* A compile that finished before its deadline is OK even when the caller
 * comes to wait after the deadline (it used to be taken for a timeout). */
static void test_compile_pool_answer_before_late_wait(void **state) {
  (void)state;
  helion_compile_pool_t *p = make_pool(1, 1.0);
  submit(p, store_src, "store", "-DVAL=9700\n", 0);
  nanosleep(&(struct timespec){1, 500000000}, NULL);
  helion_compile_result_t res[1];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 1);
  assert_int_equal(res[0].status, HELION_COMPILE_OK);
  assert_true(res[0].seconds < 1.0);
  helion_compile_result_cleanup(&res[0]);
  helion_compile_pool_destroy(p);
}

/* A process is replaced after its share of compiles (the test hook sets 2
 * for the 256). */
static void test_compile_pool_recycles_processes(void **state) {
  (void)state;
  pid_t first[8], later[8];
  setenv("HELION_COMPILE_POOL_TEST_MAX_JOBS", "2", 1);
  helion_compile_pool_t *p = make_pool(1, 60);
  unsetenv("HELION_COMPILE_POOL_TEST_MAX_JOBS");
  compile_ok(p, 9800, 1);
  assert_int_equal(children(first, 8), 1);
  compile_ok(p, 9810, 1); /* its second: it ends after answering */
  assert_int_equal(children(later, 8), 0);
  compile_ok(p, 9820, 2); /* a new one serves two */
  assert_int_equal(children(later, 8), 0);
  compile_ok(p, 9830, 1);
  assert_int_equal(children(later, 8), 1);
  assert_int_not_equal(later[0], first[0]);
  helion_compile_pool_destroy(p);
}

static void test_compile_pool_extra_fd_wakes_wait(void **state) {
  (void)state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  helion_compile_pool_t *p = make_pool(1, 60);
  submit(p, slow_src, "slow", NULL, 0);
  assert_int_equal(write(fds[1], "x", 1), 1);
  bool ready = false;
  helion_err_t err;
  assert_int_equal(helion_compile_pool_wait(p, -1, fds, 1, &ready, &err),
                   HELION_OK);
  assert_true(ready);
  /* The slow compile is still running: nothing to take. */
  helion_compile_result_t r;
  assert_false(helion_compile_pool_take(p, &r));
  assert_int_equal(helion_compile_pool_outstanding(p), 1);
  /* A bounded wait with nothing readable returns with nothing. */
  char c;
  assert_int_equal(read(fds[0], &c, 1), 1);
  ready = true;
  assert_int_equal(helion_compile_pool_wait(p, 0.05, fds, 1, &ready, &err),
                   HELION_OK);
  assert_false(ready);
  assert_int_equal(helion_compile_pool_ready(p), 0);
  /* Destroy kills the running child. */
  helion_compile_pool_destroy(p);
  close(fds[0]);
  close(fds[1]);
}

/* Several workers' descriptors (one per GPU): any of them wakes the wait,
 * and a -1 among them (a worker restarting) is skipped. */
static void test_compile_pool_extra_fds_any_wakes_wait(void **state) {
  (void)state;
  int a[2], c[2];
  assert_int_equal(pipe(a), 0);
  assert_int_equal(pipe(c), 0);
  helion_compile_pool_t *p = make_pool(1, 60);
  submit(p, slow_src, "slow", NULL, 0);
  int fds[3] = {a[0], -1, c[0]};
  bool ready = true;
  helion_err_t err;
  assert_int_equal(helion_compile_pool_wait(p, 0.05, fds, 3, &ready, &err),
                   HELION_OK);
  assert_false(ready);
  assert_int_equal(write(c[1], "x", 1), 1);
  assert_int_equal(helion_compile_pool_wait(p, -1, fds, 3, &ready, &err),
                   HELION_OK);
  assert_true(ready);
  assert_int_equal(helion_compile_pool_outstanding(p), 1);
  /* Only -1s and nothing running: returns at once, nothing ready. */
  helion_compile_pool_destroy(p);
  p = make_pool(1, 60);
  int none[2] = {-1, -1};
  ready = true;
  assert_int_equal(helion_compile_pool_wait(p, -1, none, 2, &ready, &err),
                   HELION_OK);
  assert_false(ready);
  helion_compile_pool_destroy(p);
  close(a[0]);
  close(a[1]);
  close(c[0]);
  close(c[1]);
}

static void test_compile_pool_adaptive_rule(void **state) {
  (void)state;
  double q = 0;
  /* Helion: int(min(max(q90, 30), initial)). 1..10 plus a zero (ignored):
   * n = 10, index int(10 * 0.9) = 9 -> q = 10 -> max(10, 30) = 30. */
  double a[] = {3, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10};
  assert_true(helion_compile_adaptive_timeout(a, 11, 30, 0.9, 60, &q) == 30);
  assert_true(q == 10);
  /* Twenty times 1..20 scaled by 2.5: index 18 -> 47.5 -> floor 47. */
  double b[20];
  for (int i = 0; i < 20; i++)
    b[i] = 2.5 * (20 - i);
  assert_true(helion_compile_adaptive_timeout(b, 20, 30, 0.9, 60, &q) == 47);
  assert_true(q == 47.5);
  /* Above the initial timeout: capped there. */
  double c[] = {75, 80};
  assert_true(helion_compile_adaptive_timeout(c, 2, 30, 0.9, 60, &q) == 60);
  /* Initial timeout below the lower bound wins (tests use 2 s). */
  assert_true(helion_compile_adaptive_timeout(a, 11, 30, 0.9, 2.5, &q) == 2);
  /* No positive time: the initial timeout, q untouched. */
  double z[] = {0, 0};
  q = -1;
  assert_true(helion_compile_adaptive_timeout(z, 2, 30, 0.9, 60, &q) == 60);
  assert_true(q == -1);
}

static void test_compile_pool_adapts_after_compiles(void **state) {
  (void)state;
  helion_compile_pool_t *p = make_pool(2, 60);
  /* Nothing compiled yet: nothing to adapt. */
  assert_false(helion_compile_pool_adapt_timeout(p));
  assert_true(helion_compile_pool_timeout(p) == 60);
  submit(p, store_src, "store", "-DVAL=1", 0);
  submit(p, store_src, "store", "-DVAL=2", 1);
  helion_compile_result_t res[2];
  memset(res, 0, sizeof(res));
  collect_all(p, res, 2);
  /* Tiny kernels compile in well under 30 s: the lower bound applies. */
  assert_true(helion_compile_pool_adapt_timeout(p));
  assert_true(helion_compile_pool_timeout(p) == 30);
  assert_true(helion_compile_pool_initial_timeout(p) == 60);
  for (int i = 0; i < 2; i++)
    helion_compile_result_cleanup(&res[i]);
  helion_compile_pool_destroy(p);
}

static void test_compile_pool_opts_from_env(void **state) {
  (void)state;
  helion_compile_pool_opts_t o;
  helion_err_t err;
  unsetenv("HELION_AUTOTUNE_PRECOMPILE_JOBS");
  unsetenv("HELION_AUTOTUNE_COMPILE_TIMEOUT");
  assert_int_equal(helion_compile_pool_opts_init(&o, &err), HELION_OK);
  assert_int_equal(o.jobs, (size_t)sysconf(_SC_NPROCESSORS_ONLN));
  assert_true(o.timeout_s == 60);

  setenv("HELION_AUTOTUNE_PRECOMPILE_JOBS", "3", 1);
  setenv("HELION_AUTOTUNE_COMPILE_TIMEOUT", "1.5", 1);
  assert_int_equal(helion_compile_pool_opts_init(&o, &err), HELION_OK);
  assert_int_equal(o.jobs, 3);
  assert_true(o.timeout_s == 1.5);

  setenv("HELION_AUTOTUNE_PRECOMPILE_JOBS", "two", 1);
  assert_int_equal(helion_compile_pool_opts_init(&o, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg,
                      "HELION_AUTOTUNE_PRECOMPILE_JOBS='two': expected a whole "
                      "number of compile processes in [1, 4096]");
  unsetenv("HELION_AUTOTUNE_PRECOMPILE_JOBS");
  setenv("HELION_AUTOTUNE_COMPILE_TIMEOUT", "-4", 1);
  assert_int_equal(helion_compile_pool_opts_init(&o, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg, "HELION_AUTOTUNE_COMPILE_TIMEOUT='-4': "
                               "expected positive seconds, e.g. 60");
  unsetenv("HELION_AUTOTUNE_COMPILE_TIMEOUT");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compile_pool_parallel_compiles_return_cubins),
      cmocka_unit_test(test_compile_pool_syntax_error_returns_log),
      cmocka_unit_test(test_compile_pool_slow_compile_times_out_others_finish),
      cmocka_unit_test(test_compile_pool_crash_fails_one_config),
      cmocka_unit_test(test_compile_pool_processes_live_on_and_are_replaced),
      cmocka_unit_test(test_compile_pool_cancel_queued),
      cmocka_unit_test(test_compile_pool_answer_before_late_wait),
      cmocka_unit_test(test_compile_pool_recycles_processes),
      cmocka_unit_test(test_compile_pool_extra_fd_wakes_wait),
      cmocka_unit_test(test_compile_pool_extra_fds_any_wakes_wait),
      cmocka_unit_test(test_compile_pool_adaptive_rule),
      cmocka_unit_test(test_compile_pool_adapts_after_compiles),
      cmocka_unit_test(test_compile_pool_opts_from_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
