/*
 * bench_surrogate.c: measures the surrogate overhead of one LFBO generation
 * (classifier fit + 5 copies x (neighbour generation + selection of
 * 10%)) and of one
 * DESurrogateHybrid refit + prediction, at N observations drawn from a
 * recorded landscape (N distinct random recorded configs and their
 * recorded times; failures stay in as +inf, as LFBO keeps them).
 *
 *   bench_surrogate LANDSCAPE [N=2000] [REPS=5]
 *
 * Prints one line per phase with the median and the maximum over REPS
 * repetitions (different seeds) in milliseconds of wall time.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend_sim.h"
#include "model/config.h"
#include "search/forest.h"
#include "search/search_lfbo.h"
#include "model/space.h"
#include "util/util.h"

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(const char *what, double *ms, size_t reps) {
  qsort(ms, reps, sizeof(double), cmp_d);
  printf("  %-34s median %7.2f ms   max %7.2f ms\n", what, ms[reps / 2],
         ms[reps - 1]);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: bench_surrogate LANDSCAPE [N=2000] [REPS=5]\n");
    return 2;
  }
  size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 2000;
  size_t reps = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 5;
  if (n < 10 || reps < 1 || reps > 100) {
    fprintf(stderr, "bench_surrogate: N must be >= 10, REPS in 1..100\n");
    return 2;
  }
  helion_log_level_current = HELION_LOG_QUIET;
  helion_err_t err = {{0}};
  helion_sim_t *sim = NULL;
  if (helion_sim_load(argv[1], NULL, &sim, &err)) {
    fprintf(stderr, "bench_surrogate: %s\n", err.msg);
    return 1;
  }
  const helion_space_t *space = helion_sim_space(sim);
  size_t nc = space->ncells, d = space->enc_dim;
  if (n > helion_sim_valid_count(sim))
    n = helion_sim_valid_count(sim);
  int64_t *cells = malloc(n * nc * sizeof(int64_t));
  double *X = malloc(n * d * sizeof(double));
  double *y = malloc(n * sizeof(double));
  double *ms[6];
  for (size_t k = 0; k < 6; k++)
    ms[k] = malloc(reps * sizeof(double));
  helion_configset_t seen;
  helion_configset_init(&seen, space);
  helion_rng_t rng;
  helion_rng_seed(&rng, 1);
  helion_forest_t *forest[2] = {NULL, NULL};
  int rc = 1;
  size_t have = 0, best = 0;
  for (size_t tries = 0; have < n && tries < 100 * n; tries++) {
    int64_t *c = cells + have * nc;
    if (helion_space_random(space, &rng, 0, c))
      break;
    bool added;
    if (helion_configset_add(&seen, c, &added))
      goto out;
    if (!added)
      continue;
    helion_sim_record_t rec;
    y[have] = helion_sim_lookup(sim, c, &rec) ? rec.ms : INFINITY;
    helion_space_encode(space, c, X + have * d);
    if (y[have] < y[best])
      best = have;
    have++;
  }
  n = have;
  printf("%s: %zu observations, %zu features, %zu repetitions\n", argv[1], n, d,
         reps);

  for (int tree = 0; tree < 2; tree++) {
    size_t nb = tree ? 200 : 300;
    for (size_t r = 0; r < reps; r++) {
      double t[3];
      if (helion__lfbo_overhead_step(space, X, y, n, cells + best * nc, nb, 5,
                                     tree, r + 1, t, &err))
        goto fail;
      ms[0][r] = 1e3 * t[0];
      ms[1][r] = 1e3 * t[1];
      ms[2][r] = 1e3 * t[2];
      ms[3][r] = 1e3 * (t[0] + t[1] + t[2]);
    }
    printf("%s, one generation of 5 copies (%zu neighbours each, "
           "select 10%%):\n",
           tree ? "LFBOTreeSearch" : "LFBOPatternSearch", nb);
    report("fit (100 trees, log_loss)", ms[0], reps);
    report(tree ? "neighbours (tree walks x5, global)"
                : "neighbours (random x5, global)",
           ms[1], reps);
    report("select (apply + greedy, x6)", ms[2], reps);
    report("total per generation", ms[3], reps);
  }

  /* DESurrogateHybrid: regressor on the finite observations, then one
   * prediction of 3 x 40 candidates. */
  helion_forest_params_t fp;
  helion_forest_params_de_hybrid(&fp);
  /* As the search grows it: two 25-tree halves fitted in parallel. */
  fp.n_estimators /= 2;
  for (size_t i = 0; i < 2; i++) {
    if (helion_forest_create(&fp, &forest[i], &err))
      goto fail;
    fp.seed++;
  }
  size_t nf = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(y[i])) {
      memmove(X + nf * d, X + i * d, d * sizeof(double));
      y[nf++] = y[i];
    }
  double pred[120];
  for (size_t r = 0; r < reps; r++) {
    double t0 = now_s();
    if (helion__forest_fit_parts(forest, 2, X, nf, d, y, NULL, &err))
      goto fail;
    double t1 = now_s();
    for (size_t i = 0; i < 2; i++)
      if (helion_forest_predict(forest[i], X, nf < 120 ? nf : 120, pred, &err))
        goto fail;
    double t2 = now_s();
    ms[4][r] = 1e3 * (t1 - t0);
    ms[5][r] = 1e3 * (t2 - t1);
  }
  printf("DESurrogateHybrid (%zu finite observations):\n", nf);
  report("fit (2 x 25 trees, depth 15)", ms[4], reps);
  report("predict 120 candidates", ms[5], reps);
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "bench_surrogate: %s\n", err.msg);
out:
  helion_forest_destroy(forest[0]);
  helion_forest_destroy(forest[1]);
  helion_configset_cleanup(&seen);
  helion_sim_destroy(sim);
  free(cells);
  free(X);
  free(y);
  for (size_t k = 0; k < 6; k++)
    free(ms[k]);
  return rc;
}
