/*
 * runner.h: what it takes to run one kernel of a spec: the argument data
 * (generated on the host from the run's seed), the accuracy comparison
 * against the baseline, and (worker side) the run itself.
 *
 * The first parts are plain C with no CUDA (runner_host.c): the parent
 * (backend_cuda) generates the data and, with model/launch.h, turns a config
 * into a helion_launch_t; the unit tests check data, conversions and
 * comparison on any machine. The GPU part at the end (helion_runner_t) runs
 * only inside the benchmark worker process (bench_worker.h): it owns a CUDA
 * context, so the tool's own process never calls it.
 *
 * Stability: everything above the "worker side" section is a contract for
 * backend_cuda and changes only additively; the worker-side section is
 * private to runner.c and bench_worker.c.
 */
#ifndef HELION_RUNNER_H
#define HELION_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "model/expr.h"
#include "model/launch.h"
#include "model/space.h"
#include "model/spec.h"
#include "util/util.h"

/* ---------------------------------------------------------------------------
 * The device as the worker saw it (the parent never initialises CUDA, so it
 * learns these from the worker at start).
 */
typedef struct helion_gpu_info {
  helion_device_props_t props; /* name, cc, SMs, opt-in smem, regs per SM */
  int ordinal;                 /* CUDA device ordinal */
  int device_count;            /* devices visible to the worker */
  int driver_version;          /* cuDriverGetVersion, e.g. 12080 */
  int64_t l2_bytes;            /* L2 cache size */
  int64_t total_mem;           /* device memory, bytes */
  int64_t max_threads_per_block;
  int64_t smem_per_block_default; /* without opt-in (48 KiB) */
} helion_gpu_info_t;

/* ---------------------------------------------------------------------------
 * Half and bfloat16 by hand: round to nearest even, NaN stays NaN (quiet),
 * overflow gives infinity, subnormals are kept.
 */
uint16_t helion_f16_from_double(double v);
double helion_f16_to_double(uint16_t h);
uint16_t helion_bf16_from_double(double v);
double helion_bf16_to_double(uint16_t h);

/* Element i of an array of dtype `t` at `p`, as a double (int64 values
 * beyond 2^53 round). */
double helion_runner_load(helion_dtype t, const void *p, size_t i);
/* Stores v into element i: floats convert (round to nearest even),
 * integers take v rounded to nearest. Nothing narrows: a value out of an
 * integer type's range (or NaN), or a finite value that would overflow a
 * floating type to infinity, is not stored and gives false. */
bool helion_runner_store(helion_dtype t, void *p, size_t i, double v);

/* ---------------------------------------------------------------------------
 * Argument data.
 *
 * The data of pointer argument `arg_index` comes in blocks of
 * HELION_RUNNER_FILL_BLOCK elements, block b from a helion_rng_t seeded with
 * helion_runner_block_seed(helion_runner_arg_seed(seed, arg_index), b)
 * (block 0: the argument's seed itself), so every process (and every
 * restart of the worker) builds the same bytes, and large arguments fill
 * on several threads:
 *   randn          helion_rng_normal() per element, then stored
 *   rand           helion_rng_double() per element ([0, 1))
 *   randint(lo,hi) helion_rng_range(lo, hi) per element (inclusive)
 *   arange         element i = i (numel - 1 must fit the type)
 *   zeros / ones / const   the value
 *   none           0xFF bytes (NaN for floats): the poison
 * Scalars take their "value" expression, which must fit the type exactly
 * (helion_spec_arg_check); floats as float/double.
 */
uint64_t helion_runner_arg_seed(uint64_t seed, size_t arg_index);
#define HELION_RUNNER_FILL_BLOCK ((size_t)1 << 16)
uint64_t helion_runner_block_seed(uint64_t arg_seed, size_t block);

/* Fills `numel` elements of dtype t at `out` as described above; false
 * when some value did not fit (helion_runner_store; the spec parser and
 * helion_spec_arg_check refuse such inits first). */
bool helion_runner_fill(helion_dtype t, helion_init_kind init, double lo,
                        double hi, double c, uint64_t seed, size_t arg_index,
                        void *out, size_t numel);

/* One argument on the host. */
typedef struct helion_host_arg {
  bool is_pointer;
  size_t numel;    /* pointers: element count (may be 0) */
  size_t bytes;    /* pointers: numel * dtype size; scalars: dtype size */
  void *data;      /* pointers: the initial data (malloc'd, `bytes` long, NULL
                      when bytes == 0) */
  uint64_t scalar; /* scalars: the value's bytes, little end first */
} helion_host_arg_t;

typedef struct helion_host_args {
  helion_host_arg_t *args; /* spec->nargs, in parameter order */
  size_t nargs;
  size_t total_bytes; /* sum over pointer args */
} helion_host_args_t;

/* Largest pointer argument allowed (bytes); bigger numels fail the setup. */
#define HELION_RUNNER_MAX_ARG_BYTES ((size_t)64 << 30)

/*
 * Evaluates every numel and scalar value with `scope` (spec->nscope values,
 * see helion_launch_scope) and generates the data. Errors name the argument:
 * "args[2] (C).numel: evaluates to -5; an element count must be >= 0".
 * Release with helion_host_args_cleanup().
 */
helion_status helion_host_args_init(const helion_spec_t *spec,
                                    const helion_num_t *scope, uint64_t seed,
                                    helion_host_args_t *out, helion_err_t *err);
/* Accepts a zeroed struct. */
void helion_host_args_cleanup(helion_host_args_t *a);

/* ---------------------------------------------------------------------------
 * Accuracy: element i passes when |a - e| <= atol + rtol * |e| (a = actual,
 * e = expected, as doubles); NaN never passes (NaN != NaN), equal infinities
 * pass. Integers compare with the same rule.
 */
typedef struct helion_mismatch {
  size_t count;  /* failing elements */
  size_t first;  /* index of the first failing element */
  double actual; /* its values */
  double expected;
} helion_mismatch_t;

/* Returns the number of failing elements (also written to out->count; the
 * other fields are set when count > 0). The rule on the host: the worker
 * compares on the GPU (helion_runner_compare_device), and the GPU tests
 * hold that to this. */
size_t helion_runner_compare(helion_dtype t, const void *actual,
                             const void *expected, size_t numel, double atol,
                             double rtol, helion_mismatch_t *out);

/* Why a timing ended (helion_timed_t.stop). */
typedef enum helion_timing_stop {
  HELION_TIMING_FULL = 0, /* rep_ms (or max_reps) spent */
  HELION_TIMING_SETTLED,  /* median known to the precision */
  HELION_TIMING_SLOWER,   /* clearly slower than the incumbent */
  HELION_TIMING_CUT,      /* over cutoff_ms: the estimate only */
  HELION_TIMING_STOP_COUNT
} helion_timing_stop;

/* "full", "settled", "slower", "cut": the names --json and the logs use. */
const char *helion_timing_stop_name(helion_timing_stop s);

/*
 * True when the median of the n times in v is known to `precision`: its
 * standard error, estimated as 0.93 * IQR / sqrt(n) (the normal-theory
 * value, with the interquartile range standing in for 1.35 sigma), is at
 * most precision * median. tmp (n doubles) is scratch. The rule that ends
 * rebenchmark rounds (helion_timing_t.precision).
 */
bool helion_runner_median_settled(const double *v, size_t n, double precision,
                                  double *tmp);

/*
 * The rule that ends a search's timing of one config after each chunk of
 * repetitions (helion_timing_t.incumbent_ms): SLOWER when n >= 10 and the
 * median minus three standard errors (as above) exceeds incumbent_ms x
 * 1.01; else SETTLED when n >= 20 and the median is known to `precision`
 * (> 0); else FULL, meaning go on. tmp (n doubles) is scratch.
 */
#define HELION_TIMING_STOP_CHUNK 10 /* repetitions per chunk */
helion_timing_stop helion_runner_stop_rule(const double *v, size_t n,
                                           double incumbent_ms,
                                           double precision, double *tmp);

/* ---------------------------------------------------------------------------
 * Worker side (private to runner.c and bench_worker.c; not a contract).
 * Everything below needs a CUDA device and runs in the worker process only.
 */
typedef struct helion_runner helion_runner_t;

/* A loaded kernel. */
typedef struct helion_runner_kernel helion_runner_kernel_t;

/* What one failed CUDA step means for the config and the worker. */
typedef struct helion_run_fail {
  helion_result_kind kind; /* RUNTIME or ACCURACY (OK when nothing failed) */
  bool sticky;             /* the context is poisoned: the worker must exit */
  char msg[512];
} helion_run_fail_t;

/* Timing parameters (0 fields take the defaults in brackets). */
typedef struct helion_timing {
  double warmup_ms;  /* [1]  warm-up budget */
  double rep_ms;     /* [50] timed budget (Helion's do_bench rep) */
  double graph_us;   /* [10] kernels under this are timed as CUDA graphs */
  uint32_t min_reps; /* [5] */
  uint32_t max_reps; /* [10000] */
  /* [0.005] interleaved timing (rebenchmarks): a kernel leaves the rounds
   * once its median is known to this relative standard error (estimated
   * from the spread of its times: 0.93 * IQR / sqrt(rounds) / median,
   * checked every 10 rounds); the call ends when every kernel has left or
   * after `repeat` rounds. < 0: every kernel runs all `repeat` rounds, as
   * Helion does. */
  double precision;
  /* [0 = none] a kernel whose estimate (median of 5 flushed launches,
   * or the mean of the first 2 when both are over this)
   * exceeds this many ms gets the estimate as its time, with no warm-up or
   * timed repetitions: knowing that it is slow is enough. Not applied to
   * kernels timed as graphs (their single launches are not accurate). */
  double cutoff_ms;
  /* [0 = none] the fastest time of the search so far: the timed
   * repetitions run in chunks of 10, and after each chunk the timing stops
   * once the config is clearly slower than this (its median minus three
   * standard errors over incumbent_ms x 1.01: it cannot be the winner, and
   * its median is already known to a few tenths of a percent) or its
   * median is known to `precision` (20 repetitions at least); rep_ms
   * stays the cap. Helion times every config for the full rep_ms. */
  double incumbent_ms;
  /* [0.5] the share of the timing the GPU works, in (0, 1]: timed work
   * runs in bursts of at most about 5 ms (chunks of repetitions, rounds or
   * parts of rounds of interleaved timing, the estimate, the clock
   * settle), and each burst owes a rest of its length x (1 - duty) / duty,
   * which the next burst (or checked run) waits out unless that time has
   * passed already. An H100 running a GEMM back to back reaches its 700 W
   * cap within 20-40 ms, and its power capping then swings the SM clock
   * between about 1200 and 1900 MHz: times drift by up to 10% from one
   * 100 ms to the next and depend on what ran before. At half duty the
   * matmul sample's default config read within 0.15-0.34% across
   * processes (3.5% back to back) and the GEMM winners within 1% in the
   * search and in a fresh process (tests/bench/RESULTS.md, issue 19).
   * 1: back to back, no rests. */
  double duty;
} helion_timing_t;

/* helion_timing_t.duty when 0. */
#define HELION_TIMING_DEFAULT_DUTY 0.5

/* One timing. */
typedef struct helion_timed {
  double ms;        /* median per launch */
  double min_ms;    /* fastest repetition */
  double spread;    /* (p75 - p25) / median of the repetitions */
  uint32_t reps;    /* repetitions timed */
  uint32_t graph_k; /* launches per graph replay; 0 = one launch per event
                       pair */
  uint32_t copies;  /* input sets rotated (1 = none) */
  bool cut;         /* over cutoff_ms: ms is the estimate */
  helion_timing_stop stop;
  /* Where the worker's time went, host wall milliseconds: module load,
   * the checked run (poison, run, compare), the warm-up (first launch,
   * estimate, graph capture, warm-up launches) and the timed
   * repetitions. */
  double load_ms, check_ms, warm_ms, timed_ms;
} helion_timed_t;

/* Creates the context on device `ordinal` and reads its properties. */
helion_status helion_runner_create(int ordinal, helion_runner_t **out,
                                   helion_gpu_info_t *out_info,
                                   helion_err_t *err);
void helion_runner_destroy(helion_runner_t *r);

/* Allocates and uploads the arguments (taking ownership of nothing; the host
 * data is copied) and the L2 flush buffer. */
helion_status helion_runner_set_args(helion_runner_t *r,
                                     const helion_spec_t *spec,
                                     const helion_host_args_t *args,
                                     helion_err_t *err);

/* Loads `image` (cubin or NUL-terminated PTX) and finds `entry`. Failures
 * are config failures in *fail (returns HELION_OK with fail->kind set). */
helion_status helion_runner_load_kernel(helion_runner_t *r, const void *image,
                                        size_t len, const char *entry,
                                        const helion_launch_t *launch,
                                        helion_runner_kernel_t **out,
                                        helion_run_fail_t *fail,
                                        helion_err_t *err);
void helion_runner_unload_kernel(helion_runner_t *r, helion_runner_kernel_t *k);

/* Restores non-const inputs, poisons init-less outputs, runs once, waits.
 * On success, when `keep_as_baseline`, copies every output to a device
 * buffer that becomes the baseline; otherwise compares them with it on the
 * GPU (helion_runner_compare_device; an accuracy failure fills *fail). */
helion_status helion_runner_run_checked(helion_runner_t *r,
                                        helion_runner_kernel_t *k,
                                        bool keep_as_baseline,
                                        helion_run_fail_t *fail,
                                        helion_err_t *err);

/*
 * Compares `numel` elements of dtype t at device addresses `actual` and
 * `expected` (CUdeviceptr values) by the rule of helion_runner_compare, on
 * the GPU: a kernel compiled with NVRTC on first use counts the failing
 * elements and finds the first; only that element is read back. Fills *out
 * like helion_runner_compare. A CUDA failure fills *fail (RUNTIME, sticky
 * when the context is gone); a compile failure of the compare kernel is an
 * error of the run (HELION_ERR_NVRTC).
 */
helion_status helion_runner_compare_device(
    helion_runner_t *r, helion_dtype t, unsigned long long actual,
    unsigned long long expected, size_t numel, double atol, double rtol,
    helion_mismatch_t *out, helion_run_fail_t *fail, helion_err_t *err);

/* Times one kernel (see bench_worker.h for the method). */
helion_status helion_runner_time(helion_runner_t *r, helion_runner_kernel_t *k,
                                 const helion_timing_t *t, helion_timed_t *out,
                                 helion_run_fail_t *fail, helion_err_t *err);

/* Interleaved timing: up to `repeat` rounds (fewer with t->precision),
 * each runs every kernel still in play once after an L2 flush
 * (graph-replayed if the kernel is under graph_us); writes the per-kernel
 * median to out_ms and the rounds run to *out_rounds (may be NULL). */
helion_status helion_runner_time_interleaved(
    helion_runner_t *r, helion_runner_kernel_t **ks, size_t n, uint32_t repeat,
    const helion_timing_t *t, double *out_ms, uint32_t *out_rounds,
    helion_run_fail_t *fail, helion_err_t *err);

/* The CUDA source of the runner's own kernel, helion_compare
 * (runner_kernels.c). */
extern const char helion__runner_kernels_src[];

#endif /* HELION_RUNNER_H */
