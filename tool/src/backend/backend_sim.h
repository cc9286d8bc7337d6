/*
 * backend_sim.h: the landscape simulator, a backend that replays recorded
 * measurements (DESIGN.md §10) instead of running kernels.
 *
 * It reads Kernel Tuner's cache-file format and its T4 format, plain or
 * gzipped (detected by the magic bytes), builds a space from the landscape's
 * parameters and answers bench()/rebench() from the record while advancing a
 * simulated clock. It also knows the landscape's optimum and the exact
 * distribution of uniform random sampling, the baseline searches are
 * compared against.
 *
 * Formats (tests/data/landscapes/README.md):
 *   cache  `tune_params_keys`, `tune_params`, `cache` keyed by the values
 *          joined with commas in key order. A record's `time` is a number in
 *          ms or a failure string: CompilationFailedConfig -> COMPILE,
 *          RuntimeFailedConfig -> RUNTIME, InvalidConfig -> excluded (as if
 *          absent). A record-level `__error__` string (newer files; also
 *          accepted as `time: {"__error__": ...}`) is mapped the same way, an
 *          unknown name there -> RUNTIME. `times` (runs, ms), `compile_time`
 *          and `benchmark_time` (ms) are optional.
 *   T4     `results[]` with `configuration`, `times.runtimes[]`,
 *          `times.compilation`, `invalidity`: "correct" -> OK, "compile" ->
 *          COMPILE, "runtime" -> RUNTIME, "correctness" -> ACCURACY,
 *          "timeout" -> TIMEOUT, "constraints" -> excluded (T4's name for a
 *          restriction violation), any other string -> RUNTIME (it ran and
 *          failed for a reason we do not know). A record's time is the MEAN of
 *          its runtimes, which is how Kernel Tuner defines a cache record's
 *          `time` (the real files agree to the last bit). The parameters are
 *          the keys of the first configuration, their values every value seen
 *          in any configuration. `metadata.timeunit` may say milliseconds
 *          (also "miliseconds", "ms"), seconds ("s") or microseconds ("us").
 *
 * The space: one slot per parameter in key order, role NONE, default = the
 * smallest value. Sorted values that are consecutive powers of two give POW2
 * [min,max]; otherwise consecutive integers give INT [min,max]; otherwise an
 * ENUM over the sorted values (integers as INT, other numbers as FLOAT,
 * strings as STR, booleans as BOOL). Names are the parameter names made into
 * C identifiers (other characters -> '_', "p_" before a leading digit, '_'
 * after a C keyword, "_2", "_3" on a clash); keys stay the original names.
 * Configurations absent from the record (and excluded ones) fail the space's
 * filter, so searches never propose them.
 *
 * The clock: bench() advances it on a configuration's FIRST visit only, by
 * the recorded compile_time + benchmark_time. Without benchmark_time it uses
 * time x the number of recorded runs (7, Kernel Tuner's default iterations,
 * when there is no `times` list; 0 for a failure). T4 has no benchmark time:
 * its cost is compilation + the sum of the runtimes. Revisits cost nothing.
 * rebench() advances it by S x reps, where S is the sum of the recorded times
 * of the (successful) configs and reps = max(1, ceil(target_ms / S)) is the
 * number of interleaved rounds it takes to spend about target_ms.
 *
 * Noise: with opts.noise, one measurement (a bench() result) is one uniform
 * draw from the record's individual runs; rebench() returns the median of
 * min(reps, 101) draws. A record without runs returns its time. Without
 * noise every measurement is the record's time.
 *
 * Not thread-safe: one search drives one simulator.
 */
#ifndef HELION_BACKEND_SIM_H
#define HELION_BACKEND_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "model/space.h"
#include "util/util.h"

/*
 * The most text a landscape may be (a gzipped one once unpacked): 16 times
 * the largest landscape known (gemm_RTX_3090, 16 MiB of JSON), room for a
 * bigger kernel's space while a gzip bomb is refused before it is unpacked
 * further (and cJSON's tree of it, about 4 times the text, fits in memory).
 */
#define HELION_SIM_MAX_TEXT_BYTES ((size_t)256 << 20)

typedef struct helion_sim_opts {
  bool noise;    /* draw measurements from the recorded runs */
  uint64_t seed; /* seeds the noise draws */
  /* 0: the clock above (one config after another). N > 0: the latencies of
   * a tune (helion-tune's compile pool and one benchmark worker): the first
   * visits of a bench() call compile N at a time in the call's order, each
   * is timed (its benchmark time) as soon as it is compiled and the GPU is
   * free, and the clock advances by the call's makespan. Searches see the
   * batch structure only when the driver hands over whole batches
   * (bench_chunk 0). submit() / collect() follow the same rules with
   * configurations submitted at any time: each compiles in the first free
   * slot from its submission, the GPU times them in the order they are
   * ready, and collect() moves the clock to the end of the timing it
   * returns. Without compile_jobs collect() returns them in submission
   * order, advancing the clock as bench() does. */
  size_t compile_jobs;
} helion_sim_opts_t;

typedef struct helion_sim helion_sim_t;

/* What the landscape recorded for one configuration. */
typedef struct helion_sim_record {
  helion_result_kind kind;
  double ms;          /* recorded time (mean of the runs); +inf unless OK */
  double compile_s;   /* recorded compile time in seconds (0 if unknown) */
  double cost_s;      /* simulated seconds a first visit costs */
  const double *runs; /* individual run times in ms (owned by the sim) */
  size_t nruns;
} helion_sim_record_t;

/*
 * Loads the landscape at `path` (opts may be NULL: no noise, seed 0). Errors
 * name the file and where: "<path> (decompressed):1:88213: malformed JSON
 * near '...'" (positions of a gzipped file count in its decompressed text),
 * "<path>: truncated gzip data after N bytes ...", "<path>: cache[\"16,1,1\"]
 * .time: expected a number or a failure string, got array", "<path>:
 * unpacks to more than 256 MiB; ...". *out is freed with
 * helion_sim_destroy().
 */
helion_status helion_sim_load(const char *path, const helion_sim_opts_t *opts,
                              helion_sim_t **out, helion_err_t *err);

/*
 * Recorded times must lie in [HELION_SIM_MIN_MS, HELION_SIM_MAX_MS]: a
 * successful run shorter than a nanosecond is below any GPU timer's
 * resolution (0 would make every ratio to the optimum NaN), and one longer
 * than a day is a unit error or a sentinel, not a measurement (and prints as
 * hundreds of digits). Compile and benchmark times may be 0 and up to
 * HELION_SIM_MAX_MS. A file with a time outside is refused, naming the
 * configuration and the value.
 */
#define HELION_SIM_MIN_MS 1e-6
#define HELION_SIM_MAX_MS 86400000.0

/*
 * helion_sim_load on the bytes of a landscape file in memory (plain or
 * gzipped); `name` stands for the file in messages. The bytes are not kept.
 * More than max_text_bytes of text is refused (0: HELION_SIM_MAX_TEXT_BYTES;
 * the fuzzer asks for less).
 */
helion_status helion_sim_load_buffer(const char *name, const void *data,
                                     size_t len, size_t max_text_bytes,
                                     const helion_sim_opts_t *opts,
                                     helion_sim_t **out, helion_err_t *err);

/* Accepts NULL. Also destroys the backend view (they are one object). */
void helion_sim_destroy(helion_sim_t *sim);

/* The simulator seen as a backend: the same object, owned by the sim;
 * helion_backend_destroy() on it is helion_sim_destroy(). Destroy once. */
/* helion_sim_opts_t.compile_jobs as loaded (0: one config after another). */
size_t helion_sim_compile_jobs(const helion_sim_t *sim);

helion_backend_t *helion_sim_backend(helion_sim_t *sim);

/* Clock to 0, every configuration unvisited, noise reseeded: a fresh run on
 * the same landscape without reloading it. */
void helion_sim_reset(helion_sim_t *sim, uint64_t seed);

/* The space built from the landscape's parameters (owned by the sim). */
const helion_space_t *helion_sim_space(const helion_sim_t *sim);

/* Configurations a search can visit: recorded and not excluded (failures
 * included). */
size_t helion_sim_valid_count(const helion_sim_t *sim);

/* Valid configurations that ended with `kind`. */
size_t helion_sim_kind_count(const helion_sim_t *sim, helion_result_kind kind);

/* Distinct configurations bench() has visited since load or reset. */
size_t helion_sim_evaluations(const helion_sim_t *sim);

/* Simulated seconds since load or reset. */
double helion_sim_elapsed(const helion_sim_t *sim);

/* The smallest recorded time of an OK configuration (ms). Writes that
 * configuration (space->ncells cells) into out_cells unless NULL; the first
 * one in the file wins a tie. */
double helion_sim_optimum(const helion_sim_t *sim, int64_t *out_cells);

/* The record of `cells`; false (and *out untouched) when the configuration
 * is absent or excluded. O(1). */
bool helion_sim_lookup(const helion_sim_t *sim, const int64_t *cells,
                       helion_sim_record_t *out);

/* "cache" or "t4". */
const char *helion_sim_format(const helion_sim_t *sim);
/* The cache file's device_name and kernel_name; NULL when absent (T4). */
const char *helion_sim_device_name(const helion_sim_t *sim);
const char *helion_sim_kernel_name(const helion_sim_t *sim);

/*
 * Uniform random sampling, exactly: n_evals distinct draws from the valid
 * configurations (without replacement, failures = +inf). With t_(1) <= ... <=
 * t_(N) the sorted times, P(best >= t_(k)) = C(N-k+1, n) / C(N, n), computed
 * in log space. Writes t_(k)/optimum for the smallest k with P(best <= t_(k))
 * >= q (the lower q-quantile; q = 0.5 is the median), +inf when that is a
 * failure. n_evals >= N gives 1. HELION_ERR_INVALID for n_evals = 0 or q
 * outside (0, 1].
 */
helion_status helion_sim_random_expectation(const helion_sim_t *sim,
                                            size_t n_evals, double q,
                                            double *out_ratio,
                                            helion_err_t *err);

/* The probability that the best of n_evals uniform draws (as above) is
 * within `factor` of the optimum (time <= factor * optimum): the expected
 * fraction of random-sampling runs that get there. 0 for n_evals = 0. */
double helion_sim_random_within(const helion_sim_t *sim, size_t n_evals,
                                double factor);

#endif /* HELION_BACKEND_SIM_H */
