/*
 * compile_pool.h: NVRTC compiles in child processes, many at once, each
 * under a deadline (DESIGN.md §6, reference/helion-autotuner.md §3.2).
 *
 * Each of the `jobs` slots has a compile process: a forked child that
 * calls setsid() (its own process group), dies with the parent
 * (PR_SET_PDEATHSIG), never initialises CUDA (NVRTC only) and compiles one
 * job after another: the parent writes the job into an unlinked file and
 * sends a byte over a socket pair, the child runs helion_nvrtc_compile(),
 * writes the result over the job and answers with a byte. Its end of the socket
 * is the only one, so the parent's end reads end-of-file exactly when it is
 * gone; that is what helion_compile_pool_wait() polls, next to descriptors
 * of the caller's (the benchmark workers), so finished cubins reach the GPU
 * while other compiles still run. A process that lives on compiles the
 * samples 5-43% faster than a fresh fork per compile did, and whole
 * compile-bound tunes ran 8-19% more configs/s (tests/bench/RESULTS.md); it
 * is replaced after 256 compiles, and whenever it dies or is killed.
 *
 * A compile past its deadline gets SIGTERM on its process group, then after
 * a short grace SIGKILL, and is reported as TIMEOUT. A process that dies by
 * a signal (NVRTC crashed) fails that one config as CRASHED. Neither is an
 * error of the pool: failed configs are data; the slot's next compile
 * starts a new process.
 *
 * Settings (read by helion_compile_pool_opts_init):
 *   HELION_AUTOTUNE_PRECOMPILE_JOBS  concurrent compiles (default: online CPUs)
 *   HELION_AUTOTUNE_COMPILE_TIMEOUT  seconds per compile (default 60)
 *
 * Test-only hooks, so these paths can be tested with the real pool
 * (nothing else reads them): when HELION_COMPILE_POOL_TEST_CRASH is set to
 * a non-empty string when a compile process starts, the process raises
 * SIGSEGV instead of compiling any job whose options contain that string;
 * HELION_COMPILE_POOL_TEST_MAX_JOBS=N, read when a pool is created,
 * replaces its processes after N compiles instead of 256.
 *
 * Threads: a pool is used from one thread. It forks (a slot's process when
 * its first compile starts, and each replacement), so the caller should be
 * single-threaded then; the child only runs NVRTC and reads and writes its
 * file. (The LLM searches' HTTP thread may run at that moment: glibc keeps
 * malloc and stdio usable in a child forked from several threads.)
 *
 * A compile whose answer is waiting when its deadline passes (the caller
 * came late to helion_compile_pool_wait) is a result, not a TIMEOUT.
 */
#ifndef HELION_COMPILE_POOL_H
#define HELION_COMPILE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/nvrtc_compile.h"
#include "util/util.h"

/* Helion's adaptive timeout rule: lower bound and quantile (§2.2). */
#define HELION_COMPILE_ADAPTIVE_LOWER_S 30.0
#define HELION_COMPILE_ADAPTIVE_QUANTILE 0.9

typedef struct helion_compile_pool_opts {
  size_t jobs;      /* concurrent compile children; 0 = online CPUs */
  double timeout_s; /* per compile; <= 0 = 60 */
  double grace_s;   /* SIGTERM -> SIGKILL; <= 0 = 1 */
} helion_compile_pool_opts_t;

/*
 * Defaults, then the environment: HELION_AUTOTUNE_PRECOMPILE_JOBS (a
 * positive integer) and HELION_AUTOTUNE_COMPILE_TIMEOUT (positive seconds,
 * may be fractional). A malformed value is HELION_ERR_USAGE naming the
 * variable.
 */
helion_status helion_compile_pool_opts_init(helion_compile_pool_opts_t *o,
                                            helion_err_t *err);

typedef enum helion_compile_status {
  HELION_COMPILE_OK = 0,
  HELION_COMPILE_FAILED = 1,  /* NVRTC said no; msg and out.log say why */
  HELION_COMPILE_CRASHED = 2, /* the child died by a signal or without a
                                 result */
  HELION_COMPILE_TIMEOUT = 3, /* killed at the deadline */
} helion_compile_status;

/* "ok", "failed", "crashed", "timeout". */
const char *helion_compile_status_name(helion_compile_status s);

/* One finished compile. Release with helion_compile_result_cleanup(). */
typedef struct helion_compile_result {
  uint64_t tag; /* the caller's, from submit */
  helion_compile_status status;
  /* OK: cubin, PTX, log, usage, NVRTC seconds. FAILED: log (NVRTC's full
   * log when the compile step failed) and nothing else. */
  helion_nvrtc_result_t out;
  /* One line, "" when OK: the NVRTC error ("k.cu: NVRTC compile for sm_90
   * failed (NVRTC_ERROR_COMPILATION): k.cu(12): error: ..."), "compile
   * process killed by signal 11 (Segmentation fault)" or "Timeout after
   * 61.0s compiling (SIGKILL required)". */
  char msg[HELION_ERR_MSG_MAX];
  double seconds; /* wall seconds of the child: the compile time */
  bool sigkill;   /* a timeout needed SIGKILL after SIGTERM */
} helion_compile_result_t;

void helion_compile_result_cleanup(helion_compile_result_t *r);

typedef struct helion_compile_pool helion_compile_pool_t;

/* Creates an idle pool (no process starts until a submit). Free with
 * helion_compile_pool_destroy(). */
helion_status helion_compile_pool_create(const helion_compile_pool_opts_t *o,
                                         helion_compile_pool_t **out,
                                         helion_err_t *err);

/* Kills every compile process (SIGKILL to its group), reaps it and frees
 * everything, finished results not taken included. Accepts NULL. */
void helion_compile_pool_destroy(helion_compile_pool_t *p);

/*
 * Queues a compile (the strings of `in` are copied) and starts it at once
 * when fewer than `jobs` children run. `tag` comes back in the result.
 * Errors are faults of the run: out of memory, fork/pipe/tmpfile failure
 * (HELION_ERR_SUBPROCESS, with strerror).
 */
helion_status helion_compile_pool_submit(helion_compile_pool_t *p,
                                         const helion_nvrtc_input_t *in,
                                         uint64_t tag, helion_err_t *err);

/*
 * Drives the pool: starts queued compiles, reaps finished children, kills
 * children past their deadline. Returns when a result is ready to take, when
 * one of the caller's `nextra` descriptors `extra_fds` (the benchmark
 * workers'; entries < 0 are skipped, the array may be NULL when nextra is 0)
 * is readable or hung up (*out_extra_ready, may be NULL), or after
 * `timeout_s` (< 0: no limit; it still returns at once when there is nothing
 * to wait for). Errors are faults of the run.
 */
helion_status helion_compile_pool_wait(helion_compile_pool_t *p,
                                       double timeout_s, const int *extra_fds,
                                       size_t nextra, bool *out_extra_ready,
                                       helion_err_t *err);

/* Moves the oldest finished result into *out (which the caller then owns
 * and cleans up). False when none is ready. Never blocks. */
bool helion_compile_pool_take(helion_compile_pool_t *p,
                              helion_compile_result_t *out);

/* Drops every compile submitted and not started yet; the running ones
 * finish and their results come as before. Returns how many it dropped. */
size_t helion_compile_pool_cancel_queued(helion_compile_pool_t *p);

/* Compiles submitted and not yet finished (queued or running). */
size_t helion_compile_pool_outstanding(const helion_compile_pool_t *p);
/* Finished results not yet taken. */
size_t helion_compile_pool_ready(const helion_compile_pool_t *p);
size_t helion_compile_pool_jobs(const helion_compile_pool_t *p);

/* The deadline of later compiles, and the one the pool started with. */
double helion_compile_pool_timeout(const helion_compile_pool_t *p);
double helion_compile_pool_initial_timeout(const helion_compile_pool_t *p);
void helion_compile_pool_set_timeout(helion_compile_pool_t *p,
                                     double timeout_s);

/*
 * Helion's adaptive rule over a set of compile times: the times > 0,
 * sorted, q = times[min(floor(n * quantile), n - 1)], timeout =
 * floor(min(max(q, lower), initial)). Writes q to *out_q (may be NULL).
 * Returns `initial` when no time is > 0.
 */
double helion_compile_adaptive_timeout(const double *times, size_t n,
                                       double lower, double quantile,
                                       double initial, double *out_q);

/*
 * Applies the rule to the compile times of every successful compile so far
 * and logs "Adaptive compile timeout: 30s (90% percentile=4.2s,
 * bounds=[30.0s, 60s])" at INFO. Does nothing (and returns false) when no
 * compile has succeeded yet.
 */
bool helion_compile_pool_adapt_timeout(helion_compile_pool_t *p);

#endif /* HELION_COMPILE_POOL_H */
