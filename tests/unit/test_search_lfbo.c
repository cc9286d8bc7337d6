/*
 * test_search_lfbo.c: the surrogate searches (LFBOPatternSearch,
 * LFBOTreeSearch, DESurrogateHybrid): LFBO's quantile labels and weights and
 * the greedy similarity-penalised selection on hand-computed examples,
 * seed reproducibility (byte-identical traces), runs to completion within
 * the evaluation cap on the tiny and a real recorded landscape, the clear
 * error when every config fails, and DESurrogateHybrid's switch to
 * SURROGATE generations exactly when it has surrogate_threshold
 * observations.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/backend_sim.h"
#include "model/space.h"
#include "search/search.h"
#include "search/search_lfbo.h"
#include "util/util.h"

/* cmocka of this distribution has no assert_double_equal. */
#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

static const char *ALGOS[3] = {"LFBOPatternSearch", "LFBOTreeSearch",
                               "DESurrogateHybrid"};

/* ------------------------------------------------------- fake backend -- */

/* A grid of `dims` INT [0, side-1] params; every config fails with `fail`
 * unless that is OK, in which case its time is bumpy(). */
typedef struct fake {
  helion_backend_t base;
  helion_result_kind fail;
  double clock;
} fake;

/* A smooth bowl with a ripple, minimum 1.0 at (11, 5, 9). */
static double bumpy(const int64_t *c) {
  double a = (double)c[0] - 11, b = (double)c[1] - 5, d = (double)c[2] - 9;
  return 1.0 + (a * a + b * b + d * d) / 16.0 +
         0.3 * (double)((c[0] * 7 + c[1] * 3 + c[2] * 5) % 4);
}

static helion_status fake_bench(helion_backend_t *b, const int64_t *configs,
                                size_t n, helion_bench_result_t *out,
                                helion_err_t *err) {
  (void)err;
  fake *f = (fake *)b;
  for (size_t i = 0; i < n; i++) {
    const int64_t *c = configs + i * b->space->ncells;
    f->clock += 1.0;
    if (f->fail != HELION_RESULT_OK)
      out[i] = (helion_bench_result_t){f->fail, INFINITY, 0.5};
    else
      out[i] = (helion_bench_result_t){HELION_RESULT_OK, bumpy(c), 0.5};
  }
  return HELION_OK;
}

static helion_status fake_rebench(helion_backend_t *b, const int64_t *configs,
                                  size_t n, double target_ms, double *out_ms,
                                  helion_err_t *err) {
  (void)err;
  (void)target_ms;
  for (size_t i = 0; i < n; i++)
    out_ms[i] = bumpy(configs + i * b->space->ncells);
  return HELION_OK;
}

static double fake_elapsed(helion_backend_t *b) {
  return ((fake *)b)->clock;
}
static void fake_destroy(helion_backend_t *b) {
  (void)b;
}

static const helion_backend_vtable_t fake_vt = {.bench = fake_bench,
                                                .rebench = fake_rebench,
                                                .elapsed = fake_elapsed,
                                                .destroy = fake_destroy};

/* The fake with asynchronous measuring that hands results back newest
 * first (out of submission order), counting every config it measures. */
#define AFAKE_MAX 4096
typedef struct afake {
  fake f;
  int64_t cells[AFAKE_MAX][3];
  uint64_t tags[AFAKE_MAX];
  size_t nq;            /* queued, not collected */
  size_t measured;      /* configs measured, bench and submit together */
  size_t max_in_flight; /* most ever queued at once */
  bool seen[16 * 16 * 16];
  bool duplicate; /* some config was measured twice */
} afake;

static void afake_count(afake *a, const int64_t *c) {
  size_t k = (size_t)(c[0] * 256 + c[1] * 16 + c[2]);
  a->duplicate |= a->seen[k];
  a->seen[k] = true;
  a->measured++;
}

static helion_status afake_bench(helion_backend_t *b, const int64_t *configs,
                                 size_t n, helion_bench_result_t *out,
                                 helion_err_t *err) {
  afake *a = (afake *)b;
  if (a->nq)
    return helion_err_set(err, HELION_ERR_USAGE, "bench while queued");
  for (size_t i = 0; i < n; i++)
    afake_count(a, configs + i * 3);
  return fake_bench(b, configs, n, out, err);
}

static helion_status afake_submit(helion_backend_t *b, const int64_t *configs,
                                  size_t n, const uint64_t *tags,
                                  helion_err_t *err) {
  (void)err;
  afake *a = (afake *)b;
  assert_true(a->nq + n <= AFAKE_MAX);
  for (size_t i = 0; i < n; i++) {
    memcpy(a->cells[a->nq], configs + i * 3, sizeof(a->cells[0]));
    a->tags[a->nq++] = tags[i];
    afake_count(a, configs + i * 3);
  }
  if (a->nq > a->max_in_flight)
    a->max_in_flight = a->nq;
  return HELION_OK;
}

static helion_status afake_collect(helion_backend_t *b, size_t max,
                                   uint64_t *tags, helion_bench_result_t *out,
                                   size_t *got, helion_err_t *err) {
  afake *a = (afake *)b;
  *got = 0;
  if (a->nq == 0 || max == 0)
    return HELION_OK;
  a->nq--;
  tags[0] = a->tags[a->nq];
  *got = 1;
  return fake_bench(b, a->cells[a->nq], 1, out, err);
}

static helion_status afake_rebench(helion_backend_t *b, const int64_t *configs,
                                   size_t n, double target_ms, double *out_ms,
                                   helion_err_t *err) {
  if (((afake *)b)->nq)
    return helion_err_set(err, HELION_ERR_USAGE, "rebench while queued");
  return fake_rebench(b, configs, n, target_ms, out_ms, err);
}

static const helion_backend_vtable_t afake_vt = {.bench = afake_bench,
                                                 .rebench = afake_rebench,
                                                 .submit = afake_submit,
                                                 .collect = afake_collect,
                                                 .elapsed = fake_elapsed,
                                                 .destroy = fake_destroy};

static helion_space_t *grid_space(size_t dims, size_t side) {
  static const char *names[] = {"A", "B", "C"};
  helion_param_t p[3];
  memset(p, 0, sizeof(p));
  for (size_t i = 0; i < dims; i++) {
    p[i].key = (char *)names[i];
    p[i].index = -1;
    p[i].name = (char *)names[i];
    p[i].frag.kind = HELION_FRAG_INT;
    p[i].frag.low = 0;
    p[i].frag.high = (int64_t)side - 1;
    p[i].frag.dflt = 0;
    p[i].frag.length = 1;
  }
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = p;
  o.nparams = dims;
  helion_space_t *s = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_space_create(&o, &s, &err), HELION_OK);
  return s;
}

static void fake_init(fake *f, const helion_space_t *space) {
  memset(f, 0, sizeof(*f));
  f->base.vt = &fake_vt;
  f->base.space = space;
}

static helion_sim_t *load_landscape(const char *file) {
  const char *data = getenv("HELION_TEST_DATA");
  assert_non_null(data);
  char path[1024];
  snprintf(path, sizeof(path), "%s/landscapes/%s", data, file);
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_sim_load(path, NULL, &sim, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.msg);
  assert_int_equal(rc, HELION_OK);
  return sim;
}

static int setup(void **state) {
  (void)state;
  helion_log_level_current = HELION_LOG_QUIET;
  return 0;
}

/* ------------------------------------------------ labels and select -- */

/*
 * y = {4, 1, 3, inf, 2, 5}: the finite values sorted are 1 2 3 4 5.
 * quantile 0.1: position 4 * 0.1 = 0.4, q = 1 + 0.4 * (2 - 1) = 1.4; only
 * y = 1 is positive, weight 0.4 / 0.4 = 1.
 * quantile 0.3: position 1.2, q = 2 + 0.2 * (3 - 2) = 2.2; positives 1 and
 * 2 with q - y = 1.2 and 0.2, mean 0.7: weights 12/7 and 2/7. Negatives
 * (the failure included) weigh 1.
 */
static void test_search_lfbo_labels_hand_computed(void **state) {
  (void)state;
  const double y[6] = {4, 1, 3, INFINITY, 2, 5};
  double lab[6], w[6], q;
  assert_int_equal(helion__lfbo_labels(y, 6, 0.1, lab, w, &q), 1);
  assert_near(q, 1.4, 1e-12);
  const double lab1[6] = {0, 1, 0, 0, 0, 0};
  for (size_t i = 0; i < 6; i++) {
    assert_true(lab[i] == lab1[i]);
    assert_near(w[i], 1.0, 1e-12);
  }
  assert_int_equal(helion__lfbo_labels(y, 6, 0.3, lab, w, &q), 2);
  assert_near(q, 2.2, 1e-12);
  const double lab3[6] = {0, 1, 0, 0, 1, 0};
  const double w3[6] = {1, 12.0 / 7.0, 1, 1, 2.0 / 7.0, 1};
  for (size_t i = 0; i < 6; i++) {
    assert_true(lab[i] == lab3[i]);
    assert_near(w[i], w3[i], 1e-12);
  }
  /* Ties at the quantile: {1, 1, 2} at 0.1 gives q = 1 (position 0.2
   * between two 1s); both 1s are positive, each max(1e-5, 0) / 1e-5 = 1. */
  const double t[3] = {1, 1, 2};
  assert_int_equal(helion__lfbo_labels(t, 3, 0.1, lab, w, &q), 2);
  assert_near(q, 1.0, 1e-12);
  assert_true(lab[0] == 1 && lab[1] == 1 && lab[2] == 0);
  assert_near(w[0], 1.0, 1e-12);
  assert_near(w[1], 1.0, 1e-12);
  /* No finite time: all negatives of weight 1, q undefined. */
  const double f[2] = {INFINITY, INFINITY};
  assert_int_equal(helion__lfbo_labels(f, 2, 0.1, lab, w, &q), 0);
  assert_true(isnan(q));
  assert_true(lab[0] == 0 && lab[1] == 0 && w[0] == 1 && w[1] == 1);
  /* numpy.quantile([10, 20], 0.75) = 17.5; a single value is itself. */
  double scratch[2];
  const double two[2] = {20, 10};
  assert_near(helion__lfbo_quantile(two, 2, 0.75, scratch), 17.5, 1e-12);
  assert_near(helion__lfbo_quantile(two, 1, 0.5, scratch), 20, 0);
}

/*
 * Four candidates, two trees. p = {0.9, 0.85, 0.5, 0.7}; leaves: c1 shares
 * both leaves with c0 (similarity 1), c2 shares none with anyone, c3
 * shares one of two with c0 (0.5) and one with c1 (0.5).
 * Penalty 1: pick c0 (0.9); then c1: 0.85 - 1 = -0.15, c2: 0.5,
 * c3: 0.7 - 0.5 = 0.2 -> c2; then c1: 0.85 - (1 + 0) / 2 = 0.35,
 * c3: 0.7 - (0.5 + 0) / 2 = 0.45 -> c3; then c1. Order 0 2 3 1.
 * Penalty 0: plain order of p: 0 1 3 2.
 */
static void test_search_lfbo_select_greedy_penalty(void **state) {
  (void)state;
  const double p[4] = {0.9, 0.85, 0.5, 0.7};
  const int32_t leaves[8] = {1, 2, /* c0 */ 1, 2, /* c1 */
                             3, 4, /* c2 */ 1, 5 /* c3 */};
  size_t out[4];
  double scratch[8];
  assert_int_equal(helion__lfbo_select(p, leaves, 4, 2, 1.0, 4, out, scratch),
                   4);
  const size_t want[4] = {0, 2, 3, 1};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(out[i], want[i]);
  assert_int_equal(helion__lfbo_select(p, leaves, 4, 2, 0.0, 4, out, scratch),
                   4);
  const size_t want0[4] = {0, 1, 3, 2};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(out[i], want0[i]);
  /* k = 2 stops after two; k above n is clamped to n. */
  assert_int_equal(helion__lfbo_select(p, leaves, 4, 2, 1.0, 2, out, scratch),
                   2);
  assert_int_equal(out[0], 0);
  assert_int_equal(out[1], 2);
  assert_int_equal(helion__lfbo_select(p, leaves, 2, 2, 1.0, 9, out, scratch),
                   2);
  /* Ties: the first index wins (np.argmax). c0 and c1 tie at 0.5; then c2
   * and c3 tie at 0.5 - 0 = 0.5 after c0 (they share no leaf with it). */
  const double tp[4] = {0.5, 0.5, 0.5, 0.5};
  const int32_t tl[8] = {1, 1, 1, 1, 2, 2, 3, 3};
  assert_int_equal(helion__lfbo_select(tp, tl, 4, 2, 1.0, 3, out, scratch), 3);
  assert_int_equal(out[0], 0);
  assert_int_equal(out[1], 2);
  assert_int_equal(out[2], 3);
}

/* ---------------------------------------------------------- whole runs -- */

typedef struct run_result {
  helion_status rc;
  size_t tested;
  double ratio; /* recorded time of the pick / optimum */
  char *trace;
  size_t trace_len;
} run_result;

/* One run of `algo` on a loaded landscape; effort QUICK when quick. */
static run_result run_sim(helion_sim_t *sim, const char *algo, uint64_t seed,
                          size_t max_evals, bool quick, bool trace) {
  run_result r = {0};
  helion_sim_reset(sim, seed);
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  o.algorithm = algo;
  o.seed = seed;
  o.max_evals = max_evals;
  if (quick)
    o.effort = HELION_EFFORT_QUICK;
  if (trace)
    o.trace = tmpfile();
  helion_search_t *s = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_create(helion_sim_space(sim),
                                        helion_sim_backend(sim), &o, &s, &err),
                   HELION_OK);
  r.rc = helion_search_run(s, &err);
  if (r.rc)
    fprintf(stderr, "%s: %s\n", algo, err.msg);
  r.tested = helion_search_metrics(s)->configs_tested;
  if (r.rc == HELION_OK) {
    helion_sim_record_t rec;
    assert_true(helion_sim_lookup(sim, helion_search_best(s), &rec));
    r.ratio = rec.ms / helion_sim_optimum(sim, NULL);
  }
  if (trace) {
    fflush(o.trace);
    long len = ftell(o.trace);
    rewind(o.trace);
    r.trace = malloc((size_t)len + 1);
    assert_non_null(r.trace);
    r.trace_len = fread(r.trace, 1, (size_t)len, o.trace);
    assert_int_equal(r.trace_len, (size_t)len);
    fclose(o.trace);
  }
  helion_search_destroy(s);
  return r;
}

/* The same seed gives the same run, byte for byte; another seed another. */
static void test_search_lfbo_same_seed_same_trace(void **state) {
  (void)state;
  helion_sim_t *sim = load_landscape("convolution_A4000.json.gz");
  for (size_t k = 0; k < 3; k++) {
    run_result a = run_sim(sim, ALGOS[k], 7, 150, false, true);
    run_result b = run_sim(sim, ALGOS[k], 7, 150, false, true);
    run_result c = run_sim(sim, ALGOS[k], 8, 150, false, true);
    assert_int_equal(a.rc, HELION_OK);
    assert_true(a.trace_len > 0);
    assert_int_equal(a.trace_len, b.trace_len);
    assert_memory_equal(a.trace, b.trace, a.trace_len);
    assert_true(a.trace_len != c.trace_len ||
                memcmp(a.trace, c.trace, a.trace_len) != 0);
    free(a.trace);
    free(b.trace);
    free(c.trace);
  }
  helion_sim_destroy(sim);
}

/* The tiny landscape (a handful of recorded configs): every algorithm ends
 * cleanly, with and without a cap, at both efforts, and never measures more
 * than the cap or than the landscape holds. */
static void test_search_lfbo_runs_on_tiny_landscape(void **state) {
  (void)state;
  helion_sim_t *sim = load_landscape("tiny_cache.json");
  size_t valid = helion_sim_valid_count(sim);
  for (size_t k = 0; k < 3; k++) {
    for (int quick = 0; quick < 2; quick++) {
      run_result r = run_sim(sim, ALGOS[k], 3, 0, quick, false);
      assert_int_equal(r.rc, HELION_OK);
      assert_true(r.tested <= valid);
      assert_true(r.ratio >= 1.0);
    }
    run_result c = run_sim(sim, ALGOS[k], 3, 5, false, false);
    assert_int_equal(c.rc, HELION_OK);
    assert_true(c.tested <= 5);
  }
  helion_sim_destroy(sim);
}

/* A real landscape: each algorithm uses exactly the cap of 150 (the
 * landscape has thousands of configs, so none runs out of work first
 * except by its own stopping rule) and picks a recorded config. */
static void test_search_lfbo_runs_on_real_landscape(void **state) {
  (void)state;
  helion_sim_t *sim = load_landscape("gemm_RTX_3090.json.gz");
  for (size_t k = 0; k < 3; k++) {
    run_result r = run_sim(sim, ALGOS[k], 1, 150, false, false);
    assert_int_equal(r.rc, HELION_OK);
    assert_true(r.tested > 40 && r.tested <= 150);
    assert_true(r.ratio >= 1.0 && isfinite(r.ratio));
    /* Quick effort, no cap: Helion's own stopping point. */
    run_result q = run_sim(sim, ALGOS[k], 1, 0, true, false);
    assert_int_equal(q.rc, HELION_OK);
    assert_true(q.tested > 0);
  }
  helion_sim_destroy(sim);
}

/* Every config fails: the driver's clear HELION_ERR_NO_CONFIG. */
static void test_search_lfbo_all_failed_gives_clear_error(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  const char *want_lfbo =
      "Initial random population of 16, 0 starting points: no configuration "
      "worked (16 measured: 0 failed to compile, 16 failed at run time, 0 "
      "gave wrong results, 0 timed out; 0 invalid configs skipped); check "
      "that the default configuration compiles and runs (helion-tune check) "
      "and that the space allows working configurations";
  const char *want_des =
      "Initial population (initial_population=FROM_RANDOM): no "
      "configuration worked (8 measured: 0 failed to compile, 8 failed at "
      "run time, 0 gave wrong results, 0 timed out; 0 invalid configs "
      "skipped); check that the default configuration compiles and runs "
      "(helion-tune check) and that the space allows working configurations";
  for (size_t k = 0; k < 3; k++) {
    fake f;
    fake_init(&f, space);
    f.fail = HELION_RESULT_RUNTIME;
    helion_search_opts_t o;
    helion_search_opts_init(&o);
    o.algorithm = ALGOS[k];
    if (k == 2) /* DESurrogateHybrid: 2P = 8 initial configs */
      assert_int_equal(helion_search_opts_set(&o, "population_size=4", NULL),
                       HELION_OK);
    helion_search_t *s = NULL;
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_create(space, &f.base, &o, &s, &err),
                     HELION_OK);
    assert_int_equal(helion_search_run(s, &err), HELION_ERR_NO_CONFIG);
    assert_string_equal(err.msg, k < 2 ? want_lfbo : want_des);
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/*
 * async=1 on a backend that returns results newest first: both LFBO
 * searches keep several copies' steps in flight, measure no more than the
 * cap, never a config twice, rebenchmark nothing while configs are queued (the
 * fake refuses), and end near the bowl's minimum; async=0 on the same
 * backend submits nothing (whole batches through bench). The same seed
 * gives the same trace.
 */
static void test_search_lfbo_async_out_of_order(void **state) {
  (void)state;
  helion_space_t *space = grid_space(3, 16);
  for (size_t k = 0; k < 2; k++) {
    char *traces[2] = {NULL, NULL};
    size_t lens[2] = {0, 0};
    for (int rep = 0; rep < 3; rep++) {
      bool async = rep < 2;
      afake *a = calloc(1, sizeof(*a));
      assert_non_null(a);
      fake_init(&a->f, space);
      a->f.base.vt = &afake_vt;
      helion_search_opts_t o;
      helion_search_opts_init(&o);
      o.algorithm = ALGOS[k];
      o.seed = 11;
      o.max_evals = 150;
      o.trace = tmpfile();
      assert_int_equal(
          helion_search_opts_set(&o, async ? "async=1" : "async=0", NULL),
          HELION_OK);
      helion_search_t *s = NULL;
      helion_err_t err = {{0}};
      assert_int_equal(helion_search_create(space, &a->f.base, &o, &s, &err),
                       HELION_OK);
      helion_status rc = helion_search_run(s, &err);
      if (rc)
        fprintf(stderr, "%s: %s\n", ALGOS[k], err.msg);
      assert_int_equal(rc, HELION_OK);
      /* The searches may end before the cap when the incumbent's
       * neighbourhood runs dry (LFBOPatternSearch here, both modes). */
      size_t tested = helion_search_metrics(s)->configs_tested;
      assert_true(tested > 100 && tested <= 150);
      assert_int_equal(a->measured, tested);
      assert_false(a->duplicate);
      assert_int_equal(a->nq, 0);
      if (async)
        assert_true(a->max_in_flight >= 8);
      else
        assert_int_equal(a->max_in_flight, 0);
      /* The bowl's minimum is 1.0; its ripple adds up to 0.9. */
      assert_true(helion_search_best_ms(s) <= 1.3);
      if (async) {
        fflush(o.trace);
        lens[rep] = (size_t)ftell(o.trace);
        rewind(o.trace);
        traces[rep] = malloc(lens[rep] + 1);
        assert_non_null(traces[rep]);
        assert_int_equal(fread(traces[rep], 1, lens[rep], o.trace), lens[rep]);
      }
      fclose(o.trace);
      helion_search_destroy(s);
      free(a);
    }
    assert_int_equal(lens[0], lens[1]);
    assert_memory_equal(traces[0], traces[1], lens[0]);
    free(traces[0]);
    free(traces[1]);
  }
  helion_space_destroy(space);
}

/* Runs fn with stderr redirected to a temporary file; returns its text. */
static char *capture_stderr(void (*fn)(void *), void *ud) {
  fflush(stderr);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  int saved = dup(2);
  assert_true(saved >= 0);
  assert_true(dup2(fileno(tmp), 2) >= 0);
  fn(ud);
  fflush(stderr);
  assert_true(dup2(saved, 2) >= 0);
  close(saved);
  fseek(tmp, 0, SEEK_END);
  long len = ftell(tmp);
  assert_true(len >= 0);
  rewind(tmp);
  char *text = malloc((size_t)len + 1);
  assert_non_null(text);
  size_t got = fread(text, 1, (size_t)len, tmp);
  text[got] = '\0';
  fclose(tmp);
  return text;
}

typedef struct des_run {
  helion_space_t *space;
  helion_status rc;
} des_run;

static void run_des(void *ud) {
  des_run *d = ud;
  fake f;
  fake_init(&f, d->space);
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  o.algorithm = "DESurrogateHybrid";
  assert_int_equal(helion_search_opts_set(&o, "population_size=20", NULL),
                   HELION_OK);
  assert_int_equal(helion_search_opts_set(&o, "max_generations=12", NULL),
                   HELION_OK);
  /* No early stop: see every generation. */
  assert_int_equal(helion_search_opts_set(&o, "patience=100", NULL), HELION_OK);
  o.seed = 5;
  helion_search_t *s = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_create(d->space, &f.base, &o, &s, &err),
                   HELION_OK);
  helion_log_level_current = HELION_LOG_INFO;
  d->rc = helion_search_run(s, &err);
  helion_log_level_current = HELION_LOG_QUIET;
  helion_search_destroy(s);
}

/*
 * DESurrogateHybrid on a 16^3 grid where every config works, so its
 * observations are exactly the distinct configs measured. A generation is
 * SURROGATE exactly when the configs measured before it (total_evals of the
 * previous "Gen" line; 40 = 2P initial before generation 2) reach the
 * threshold of 100, and the first one is preceded by a fit.
 */
static void test_search_lfbo_de_hybrid_switches_to_surrogate(void **state) {
  (void)state;
  des_run d = {grid_space(3, 16), HELION_OK};
  char *log = capture_stderr(run_des, &d);
  assert_int_equal(d.rc, HELION_OK);
  size_t before = 40, gens = 0, surrogate = 0;
  const char *p = log;
  const char *first_sur = NULL;
  while ((p = strstr(p, "Gen ")) != NULL) {
    unsigned g;
    char mode[16];
    double best;
    unsigned repl, pop;
    size_t total;
    int got = sscanf(p,
                     "Gen %u: %15s | best=%lfms | replaced=%u/%u | "
                     "total_evals=%zu",
                     &g, mode, &best, &repl, &pop, &total);
    assert_int_equal(got, 6);
    assert_int_equal(g, gens + 2);
    bool sur = strcmp(mode, "SURROGATE") == 0;
    assert_true(sur || strcmp(mode, "STANDARD") == 0);
    assert_true(sur == (before >= 100));
    if (sur && !first_sur)
      first_sur = p;
    surrogate += sur;
    before = total;
    gens++;
    p++;
  }
  assert_int_equal(gens, 11); /* generations 2..12 */
  assert_true(surrogate >= 5);
  assert_non_null(first_sur);
  const char *fit = strstr(log, "Fitted surrogate on ");
  assert_non_null(fit);
  assert_true(fit < first_sur);
  free(log);
  helion_space_destroy(d.space);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_search_lfbo_labels_hand_computed),
      cmocka_unit_test(test_search_lfbo_select_greedy_penalty),
      cmocka_unit_test(test_search_lfbo_same_seed_same_trace),
      cmocka_unit_test(test_search_lfbo_runs_on_tiny_landscape),
      cmocka_unit_test(test_search_lfbo_runs_on_real_landscape),
      cmocka_unit_test(test_search_lfbo_async_out_of_order),
      cmocka_unit_test(test_search_lfbo_all_failed_gives_clear_error),
      cmocka_unit_test(test_search_lfbo_de_hybrid_switches_to_surrogate),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
