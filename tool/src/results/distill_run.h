/*
 * distill_run.h: `helion-tune distill` as a library call (distill.h has the
 * pure part): for a spec's shapes on one GPU, the tuned winner of each
 * (shapes without a current entry are tuned first, through tune_run.h, and
 * recorded), every distinct winner timed on every shape (compiled and
 * checked like any config, then re-timed side by side per shape), the
 * subset and the tree fitted, and the results file's "distilled" element
 * for that device replaced.
 *
 * Not thread-safe: one run per process (the backend forks).
 */
#ifndef HELION_DISTILL_RUN_H
#define HELION_DISTILL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend_cuda.h"
#include "model/spec.h"
#include "results/distill.h"
#include "results/results_file.h"
#include "search/search.h"
#include "util/util.h"

/* Everything borrowed for the duration of the call. */
typedef struct helion_distill_run_opts {
  const helion_spec_t *spec;
  const int64_t *shapes; /* nshapes * spec->nkeys values; at least 2 */
  size_t nshapes;
  const helion_search_opts_t *search; /* for the shapes tuned first */
  const helion_backend_cuda_opts_t *cuda;
  const char *results_path; /* read, and written with the tunes and the
                               distilled element */
  double threshold;
  size_t max_configs;
  unsigned max_depth;
} helion_distill_run_opts_t;

/*
 * Runs it and leaves the result in *out (initialised; cleaned first).
 * A shape that cannot be tuned (no working config) is left out with a
 * warning; fewer than 2 shapes left is HELION_ERR_INVALID. Interrupted
 * (helion_interrupted()): HELION_ERR_INTERRUPTED before anything is
 * written but the tunes already recorded.
 */
helion_status helion_distill_run(const helion_distill_run_opts_t *o,
                                 helion_distill_t *out, helion_err_t *err);

/*
 * The results file's distilled element of (device name, compute
 * capability): *found false when there is none. `cc` NULL: any compute
 * capability of that name; `device` NULL too: the file's only element
 * (HELION_ERR_USAGE when it holds several). Errors name the file.
 */
helion_status helion_results_get_distilled(const helion_results_t *r,
                                           const char *device, const char *cc,
                                           helion_distill_t *out, bool *found,
                                           helion_err_t *err);

/* Adds d's element, or replaces the one of the same device (the array
 * stays sorted by device name, then compute capability). */
helion_status helion_results_set_distilled(helion_results_t *r,
                                           const helion_distill_t *d,
                                           helion_err_t *err);

#endif /* HELION_DISTILL_RUN_H */
