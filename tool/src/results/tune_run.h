/*
 * tune_run.h: a tune of a spec's shapes on the GPU, as `helion-tune tune`
 * (and later the CMake module) runs it: per shape the best-config cache
 * first (a hit for every shape starts no GPU work), the CUDA backend started
 * once and only when a shape misses, the search (helion_tune_shape), then the
 * cache and the results file updated right after each shape, so an
 * interrupt keeps every finished one.
 *
 *   helion_tune_run_opts_t o = {spec, shapes, nshapes, &search, &cuda, ...};
 *   rc = helion_tune_run(&o, on_shape, ud, &device, err);
 *
 * Not thread-safe: one run per process (the backend forks; the interrupt
 * flag of util/interrupt.h is process-wide).
 */
#ifndef HELION_TUNE_RUN_H
#define HELION_TUNE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend_cuda.h"
#include "backend/device_facts.h"
#include "model/spec.h"
#include "results/tune.h"
#include "search/search.h"
#include "util/util.h"

/* Everything borrowed for the duration of the call. */
typedef struct helion_tune_run_opts {
  const helion_spec_t *spec;
  const int64_t *shapes; /* nshapes * spec->nkeys values */
  size_t nshapes;
  const helion_search_opts_t *search; /* copied per shape */
  const helion_backend_cuda_opts_t *cuda;
  /* User configurations (JSON texts): the search measures them, so the
   * cache is neither read nor written. */
  const char *const *configs;
  size_t nconfigs;
  const char *trace;        /* NULL: none; see helion_tune_trace_name */
  const char *results_path; /* NULL: no results file */
  /* How messages name results_path: "--tuned" when NULL; a sharded tune's
   * fragment says "--fragment-dir". */
  const char *results_flag;
} helion_tune_run_opts_t;

/*
 * Called once per shape, in order, with its entry (borrowed for the call):
 * `cached` for a cache hit, `stats` where the shape's time went on the GPU
 * backend (NULL for a hit). A non-zero return stops the run with that
 * status (its message in err).
 */
typedef helion_status (*helion_tune_run_shape_fn)(
    void *ud, const helion_tune_entry_t *e, bool cached,
    const helion_cuda_stats_t *stats, helion_err_t *err);

/*
 * Tunes every shape (stopping early once helion_interrupted()), logging
 * Helion's lines, and writes the run's device facts to *out_device (zeroed
 * when every shape hit the cache before a device was named). A shape that
 * fails is an entry with an error, not a failure of the run; the run fails
 * for its own faults (the backend cannot start, the cache directory or the
 * results file cannot be used, out of memory).
 */
helion_status helion_tune_run(const helion_tune_run_opts_t *o,
                              helion_tune_run_shape_fn on_shape, void *ud,
                              helion_device_facts_t *out_device,
                              helion_err_t *err);

/*
 * Checks, before any GPU work, every file the run will write: each shape's
 * trace and the results file must be writable and none of the inputs (the
 * spec at `spec_path`, its kernel source, `options_json` when not NULL), and
 * an existing results file must read as one. HELION_ERR_USAGE for an output
 * that is an input; else the failure, with a message naming the flag
 * (--trace, --tuned).
 */
helion_status helion_tune_run_check(const helion_tune_run_opts_t *o,
                                    const char *spec_path,
                                    const char *options_json,
                                    helion_err_t *err);

/* Shape i's trace file: `trace`, or `trace`.<i> with several shapes. */
void helion_tune_trace_name(const char *trace, size_t nshapes, size_t i,
                            char *out, size_t cap);

#endif /* HELION_TUNE_RUN_H */
