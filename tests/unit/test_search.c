/*
 * test_search.c: the search driver and the classic searches against
 * hand-written landscapes whose answers are derived by hand: which configs
 * get rebenchmarked, what final verification picks, where the evaluation
 * cap and the budget stop a run, PatternSearch's exact climb, seed
 * reproducibility (byte-identical traces), the clear errors (all failed,
 * DE's small population, unknown algorithm), RandomSearch against the
 * exact random-sampling expectation on a recorded landscape, and the LLM
 * search's round-0 request in flight while the seeds are measured (a
 * provider on 127.0.0.1 in a thread of the test).
 *
 * The landscapes here are a fake backend over a grid space: params A, B (and
 * C) are INT [0, side-1], default 0, and a config's time is a table entry
 * (bench) or another table entry (rebench), so every number is readable in
 * the table. Each first visit costs `cost` seconds on the fake clock.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/backend_sim.h"
#include "model/space.h"
#include "search/search.h"
#include "util/json.h"
#include "util/util.h"

/* ------------------------------------------------------- fake backend -- */

typedef struct fake fake;
struct fake {
  helion_backend_t base;
  size_t side, dims;
  const double *bench;     /* per grid index; NULL = bumpy() */
  const double *rebench;   /* NULL = same as bench */
  helion_result_kind fail; /* not OK: every config fails this way */
  double cost;
  double clock;
  size_t nbenched, bench_calls, rebench_calls, rebench_configs;
  size_t call_sizes[64];     /* configs per bench() call, the first 64 */
  void (*on_bench)(fake *f); /* called first by each bench() */
};

static size_t grid_index(const fake *f, const int64_t *c) {
  size_t ix = 0;
  for (size_t d = 0; d < f->dims; d++)
    ix = ix * f->side + (size_t)c[d];
  return ix;
}

/* A smooth bowl with a ripple, minimum 1.0 at (11, 5, 9). */
static double bumpy(const int64_t *c) {
  double a = (double)c[0] - 11, b = (double)c[1] - 5, d = (double)c[2] - 9;
  return 1.0 + (a * a + b * b + d * d) / 16.0 +
         0.3 * (double)((c[0] * 7 + c[1] * 3 + c[2] * 5) % 4);
}

static double fake_time(const fake *f, const double *table, const int64_t *c) {
  return table ? table[grid_index(f, c)] : bumpy(c);
}

static helion_status fake_bench(helion_backend_t *b, const int64_t *configs,
                                size_t n, helion_bench_result_t *out,
                                helion_err_t *err) {
  (void)err;
  fake *f = (fake *)b;
  if (f->on_bench)
    f->on_bench(f);
  if (f->bench_calls < 64)
    f->call_sizes[f->bench_calls] = n;
  f->bench_calls++;
  for (size_t i = 0; i < n; i++) {
    const int64_t *c = configs + i * b->space->ncells;
    double ms = fake_time(f, f->bench, c);
    f->clock += f->cost;
    f->nbenched++;
    if (f->fail != HELION_RESULT_OK || !isfinite(ms))
      out[i] = (helion_bench_result_t){
          f->fail != HELION_RESULT_OK ? f->fail : HELION_RESULT_COMPILE,
          INFINITY, 0.5};
    else
      out[i] = (helion_bench_result_t){HELION_RESULT_OK, ms, 0.5};
  }
  return HELION_OK;
}

static helion_status fake_rebench(helion_backend_t *b, const int64_t *configs,
                                  size_t n, double target_ms, double *out_ms,
                                  helion_err_t *err) {
  (void)err;
  (void)target_ms;
  fake *f = (fake *)b;
  f->rebench_calls++;
  f->rebench_configs += n;
  for (size_t i = 0; i < n; i++) {
    const int64_t *c = configs + i * b->space->ncells;
    out_ms[i] = fake_time(f, f->rebench ? f->rebench : f->bench, c);
  }
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

/* A grid space of `dims` INT [0, side-1] params named A, B, C. */
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
  helion_status rc = helion_space_create(&o, &s, &err);
  if (rc)
    fprintf(stderr, "grid_space: %s\n", err.msg);
  assert_int_equal(rc, HELION_OK);
  return s;
}

static void fake_init(fake *f, const helion_space_t *space, size_t dims,
                      size_t side, const double *bench) {
  memset(f, 0, sizeof(*f));
  f->base.vt = &fake_vt;
  f->base.space = space;
  f->dims = dims;
  f->side = side;
  f->bench = bench;
  f->cost = 1.0;
}

/* A hill with a local optimum at (2,2) = 3 and the global one at (3,3). */
static const double HILL[16] = {
    10, 9, 8, 7, /* A = 0, B = 0..3 */
    9,  5, 6, 7, /* A = 1 */
    8,  4, 3, 9, /* A = 2 */
    9,  9, 9, 1, /* A = 3 */
};

static void opts_quiet(helion_search_opts_t *o, const char *algo) {
  helion_search_opts_init(o);
  o->algorithm = algo;
}

/* Gives option "key=value" (printf-style), as --set does. */
static void set_opt(helion_search_opts_t *o, const char *fmt, ...) {
  char kv[128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(kv, sizeof(kv), fmt, ap);
  va_end(ap);
  helion_err_t err = {{0}};
  helion_status rc = helion_search_opts_set(o, kv, &err);
  if (rc)
    fprintf(stderr, "set_opt %s: %s\n", kv, err.msg);
  assert_int_equal(rc, HELION_OK);
}

/* set_opt() when o->algorithm declares the option (tests that run several
 * algorithms with the same settings). */
static void set_opt_where_declared(helion_search_opts_t *o, const char *kv) {
  const helion_search_algo_t *a = helion_search_algo_find(o->algorithm, NULL);
  assert_non_null(a);
  for (size_t i = 0; i < a->nopts; i++) {
    size_t n = strlen(a->opts[i].name);
    if (strncmp(kv, a->opts[i].name, n) == 0 && kv[n] == '=') {
      set_opt(o, "%s", kv);
      return;
    }
  }
}

/* The resolved value of option `name` of search s, as a number (booleans
 * as 0/1) or, for enums, through *out_text. */
static double resolved(const helion_search_t *s, const char *name,
                       char *out_text, size_t text_size) {
  cJSON *obj = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_resolved_options(s, &obj, &err), HELION_OK);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(obj, "options"), name);
  assert_non_null(v);
  double x = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsTrue(v) ? 1 : 0;
  if (out_text && cJSON_IsString(v))
    snprintf(out_text, text_size, "%s", v->valuestring);
  cJSON_Delete(obj);
  return x;
}

static helion_search_t *make_search(const helion_space_t *space, fake *f,
                                    const helion_search_opts_t *o) {
  helion_search_t *s = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_search_create(space, &f->base, o, &s, &err);
  if (rc)
    fprintf(stderr, "make_search: %s\n", err.msg);
  assert_int_equal(rc, HELION_OK);
  return s;
}

static helion_member_id bench1(helion_search_t *s, int64_t a, int64_t b) {
  int64_t c[2] = {a, b};
  helion_member_id id = HELION_NO_MEMBER;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_bench(s, c, 1, NULL, &id, &err), HELION_OK);
  assert_true(id != HELION_NO_MEMBER);
  return id;
}

static size_t nperfs(helion_search_t *s, helion_member_id id) {
  return helion_search_perfs(s, id, NULL, 0);
}

static int setup(void **state) {
  (void)state;
  helion_log_level_current = HELION_LOG_QUIET;
  return 0;
}

/* ------------------------------------------------------------ the tests -- */

/* should_rebenchmark: finite and perf < 1.5 * best (1.0): 1.0 and 1.4 are
 * re-timed together; 1.5 (not strictly below), 1.6 and a failure are not. */
static void test_search_rebench_threshold(void **state) {
  (void)state;
  static const double T[16] = {1.0, 1.4, 1.5, 1.6, INFINITY, 10, 10, 10,
                               10,  10,  10,  10,  10,       10, 10, 10};
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, T);
  helion_search_opts_t o;
  opts_quiet(&o, "PatternSearch");
  set_opt(&o, "rebenchmark_threshold=1.5");
  helion_search_t *s = make_search(space, &f, &o);
  helion_member_id ids[5] = {bench1(s, 0, 0), bench1(s, 0, 1), bench1(s, 0, 2),
                             bench1(s, 0, 3), bench1(s, 1, 0)};
  assert_true(helion_search_kind(s, ids[4]) == HELION_RESULT_COMPILE);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_rebench_population(s, ids, 5, &err),
                   HELION_OK);
  assert_int_equal(f.rebench_calls, 1);
  assert_int_equal(f.rebench_configs, 2);
  assert_int_equal(nperfs(s, ids[0]), 2);
  assert_int_equal(nperfs(s, ids[1]), 2);
  assert_int_equal(nperfs(s, ids[2]), 1);
  assert_int_equal(nperfs(s, ids[3]), 1);
  assert_int_equal(nperfs(s, ids[4]), 1);
  helion_search_destroy(s);

  /* Only 1.0 qualifies next to 1.6: rebenchmarking needs two. */
  fake_init(&f, space, 2, 4, T);
  s = make_search(space, &f, &o);
  helion_member_id two[2] = {bench1(s, 0, 0), bench1(s, 0, 3)};
  assert_int_equal(helion_search_rebench_population(s, two, 2, &err),
                   HELION_OK);
  assert_int_equal(f.rebench_calls, 0);
  helion_search_destroy(s);
  helion_space_destroy(space);
}

/* compare(): both near the best, so both are re-timed first; the rebench
 * time (0.9 < 1.0) decides, not the first measurement (1.4 > 1.0). */
static void test_search_compare_rebenchmarks(void **state) {
  (void)state;
  static const double B[16] = {1.0, 1.4, 9, 9, 9, 9, 9, 9,
                               9,   9,   9, 9, 9, 9, 9, 9};
  static const double R[16] = {1.0, 0.9, 9, 9, 9, 9, 9, 9,
                               9,   9,   9, 9, 9, 9, 9, 9};
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, B);
  f.rebench = R;
  helion_search_opts_t o;
  opts_quiet(&o, "DifferentialEvolutionSearch");
  set_opt(&o, "rebenchmark_threshold=1.5");
  helion_search_t *s = make_search(space, &f, &o);
  helion_member_id a = bench1(s, 0, 0), b = bench1(s, 0, 1);
  int cmp = 0;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_compare(s, b, a, &cmp, &err), HELION_OK);
  assert_int_equal(cmp, -1);
  assert_int_equal(f.rebench_calls, 1);
  double perfs[2];
  assert_int_equal(helion_search_perfs(s, b, perfs, 2), 2);
  assert_true(perfs[0] == 1.4 && perfs[1] == 0.9);
  assert_true(helion_search_min_perf(s, b) == 0.9);
  assert_true(helion_search_best_perf_so_far(s) == 0.9);
  helion_search_destroy(s);
  helion_space_destroy(space);
}

/* Final verification: (0,0) measured 1.0 first (a lucky run) but re-times
 * at 3.0; (0,1) measured 1.2 re-times at 1.1 and wins. top_k = 2 keeps
 * only the two best by lowest time. */
static void test_search_final_verification_picks_rebench_winner(void **state) {
  (void)state;
  static const double B[16] = {1.0, 1.2, 2.0, 9, 9, 9, 9, 9,
                               9,   9,   9,   9, 9, 9, 9, 9};
  static const double R[16] = {3.0, 1.1, 2.0, 9, 9, 9, 9, 9,
                               9,   9,   9,   9, 9, 9, 9, 9};
  helion_space_t *space = grid_space(2, 4);
  for (int top_k = 8; top_k >= 2; top_k -= 6) {
    fake f;
    fake_init(&f, space, 2, 4, B);
    f.rebench = R;
    helion_search_opts_t o;
    opts_quiet(&o, "PatternSearch");
    set_opt(&o, "final_top_k=%d", top_k);
    helion_search_t *s = make_search(space, &f, &o);
    helion_member_id x = bench1(s, 0, 0), y = bench1(s, 0, 1);
    bench1(s, 0, 2);
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_finalize(s, x, &err), HELION_OK);
    assert_int_equal(helion_search_best_id(s), y);
    assert_true(helion_search_best_ms(s) == 1.1);
    assert_int_equal(f.rebench_calls, 1);
    assert_int_equal(f.rebench_configs, top_k == 8 ? 3 : 2);
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/* Pinned finalists (the user's seed and the default under
 * FROM_BEST_AVAILABLE) win within (1 + tolerance) of the winner: the seed
 * (0,2) re-times 2.0, the winner (0,1) 1.1; 2.0 <= 1.1 * 2 but not 1.1. */
static void test_search_final_verification_pinned_tolerance(void **state) {
  (void)state;
  static const double B[16] = {1.0, 1.2, 2.0, 9, 9, 9, 9, 9,
                               9,   9,   9,   9, 9, 9, 9, 9};
  static const double R[16] = {3.0, 1.1, 2.0, 9, 9, 9, 9, 9,
                               9,   9,   9,   9, 9, 9, 9, 9};
  helion_space_t *space = grid_space(2, 4);
  const int64_t seed[2] = {0, 2};
  for (int tol = 0; tol <= 1; tol++) {
    fake f;
    fake_init(&f, space, 2, 4, B);
    f.rebench = R;
    helion_search_opts_t o;
    opts_quiet(&o, "PatternSearch");
    o.configs = seed;
    o.nconfigs = 1;
    set_opt(&o, "pinned_tolerance=%d", tol);
    helion_search_t *s = make_search(space, &f, &o);
    helion_member_id pop[3];
    size_t n = 0;
    helion_err_t err = {{0}};
    assert_int_equal(
        helion_search_initial_population(s, HELION_INITIAL_FROM_BEST_AVAILABLE,
                                         3, false, NULL, pop, &n, &err),
        HELION_OK);
    /* Seeds first, then the default; no random padding. */
    assert_int_equal(n, 2);
    assert_memory_equal(helion_search_cells(s, pop[0]), seed, sizeof(seed));
    helion_member_id y = bench1(s, 0, 1);
    assert_int_equal(helion_search_finalize(s, pop[1], &err), HELION_OK);
    assert_int_equal(helion_search_best_id(s), tol ? pop[0] : y);
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/* PatternSearch from the default alone (FROM_BEST_AVAILABLE, no padding,
 * one copy) climbs the HILL: (0,0) -> (1,0) -> (1,1) -> (2,1) -> (2,2),
 * where no neighbour is faster (local optimum 3; the global 1 at (3,3) is
 * out of reach). Evaluation order, by hand, with neighbours A-1, A+1, B-1,
 * B+1 and visited configs skipped. */
static void test_search_pattern_climb_path(void **state) {
  (void)state;
  static const int64_t path[11][2] = {
      {0, 0},         /* initial population */
      {1, 0}, {0, 1}, /* gen 1 from (0,0) */
      {2, 0}, {1, 1}, /* gen 2 from (1,0) */
      {2, 1}, {1, 2}, /* gen 3 from (1,1) */
      {3, 1}, {2, 2}, /* gen 4 from (2,1) */
      {3, 2}, {2, 3}, /* gen 5 from (2,2): no improvement */
  };
  static const int gens[11] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, HILL);
  helion_search_opts_t o;
  opts_quiet(&o, "PatternSearch");
  set_opt(&o, "initial_population_strategy=from_best_available");
  set_opt(&o, "pad_random=0");
  set_opt(&o, "copies=1");
  helion_search_t *s = make_search(space, &f, &o);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_run(s, &err), HELION_OK);
  assert_int_equal(helion_search_member_count(s), 11);
  for (size_t i = 0; i < 11; i++) {
    assert_memory_equal(helion_search_cells(s, i), path[i], sizeof(path[i]));
    assert_int_equal(helion_search_member_generation(s, i), gens[i]);
  }
  const int64_t want[2] = {2, 2};
  assert_memory_equal(helion_search_best(s), want, sizeof(want));
  assert_true(helion_search_best_ms(s) == 3.0);
  assert_int_equal(helion_search_metrics(s)->configs_tested, 11);
  assert_int_equal(f.nbenched, 11);
  helion_search_destroy(s);
  helion_space_destroy(space);
}

/* Finishing rounds (reference §2.2) from (2,3) = 5: resetting A gives (0,3)
 * = 5, resetting B gives (2,0) = 4; both are "good" (no slower), so their
 * combination (0,0) is tried. At 6 it is rejected and the FIRST good reset
 * in slot order, (0,3), is taken (not the fastest); round 2 finds nothing.
 * When (0,0) costs 4.5 the combination is accepted. */
static void test_search_finishing_rounds(void **state) {
  (void)state;
  static double T[16] = {6, 9, 9, 5, 9, 9, 9, 9, 4, 9, 9, 5, 9, 9, 9, 9};
  helion_space_t *space = grid_space(2, 4);
  for (int accept = 0; accept <= 1; accept++) {
    T[0] = accept ? 4.5 : 6;
    fake f;
    fake_init(&f, space, 2, 4, T);
    helion_search_opts_t o;
    opts_quiet(&o, "PatternSearch");
    set_opt(&o, "finishing_rounds=2");
    helion_search_t *s = make_search(space, &f, &o);
    helion_member_id x = bench1(s, 2, 3);
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_finalize(s, x, &err), HELION_OK);
    const int64_t want[2][2] = {{0, 3}, {0, 0}};
    assert_memory_equal(helion_search_best(s), want[accept],
                        sizeof(want[accept]));
    assert_int_equal(f.nbenched, 4);
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/* The cap is never exceeded: RandomSearch of 10 stops at 7; PatternSearch
 * with 3 initial configs is cut to 2 of its first generation. */
static void test_search_max_evals_truncates(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  const char *algos[2] = {"RandomSearch", "PatternSearch"};
  for (size_t k = 0; k < 2; k++) {
    fake f;
    fake_init(&f, space, 2, 4, HILL);
    helion_search_opts_t o;
    opts_quiet(&o, algos[k]);
    set_opt_where_declared(&o, "count=10");
    set_opt_where_declared(&o, "initial_population=3");
    o.max_evals = k == 0 ? 7 : 5;
    o.trace = tmpfile();
    assert_non_null(o.trace);
    helion_search_t *s = make_search(space, &f, &o);
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_run(s, &err), HELION_OK);
    const helion_search_metrics_t *m = helion_search_metrics(s);
    assert_int_equal(m->configs_tested, o.max_evals);
    assert_int_equal(f.nbenched, o.max_evals);
    assert_int_equal(m->stop, HELION_STOP_MAX_EVALS);
    assert_true(isfinite(helion_search_best_ms(s)));
    /* One trace line per evaluation, plus rebenchmark lines. */
    rewind(o.trace);
    char line[512];
    size_t evals = 0;
    while (fgets(line, sizeof(line), o.trace))
      evals += strncmp(line, "{\"evaluation\": ", 15) == 0;
    assert_int_equal(evals, o.max_evals);
    fclose(o.trace);
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/* Each first visit costs 1 s. With a budget of 4.5 s checked before every
 * config (chunk 1) the run measures configs at 0,1,2,3,4 s: 5 of them;
 * checked every 2 configs (at 0, 2, 4 s): 6. */
static void test_search_budget_stops_exactly(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  for (size_t chunk = 1; chunk <= 2; chunk++) {
    fake f;
    fake_init(&f, space, 2, 4, HILL);
    helion_search_opts_t o;
    opts_quiet(&o, "RandomSearch");
    set_opt(&o, "count=16");
    o.budget_seconds = 4.5;
    o.bench_chunk = chunk;
    helion_search_t *s = make_search(space, &f, &o);
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_run(s, &err), HELION_OK);
    const helion_search_metrics_t *m = helion_search_metrics(s);
    assert_int_equal(m->configs_tested, chunk == 1 ? 5 : 6);
    assert_int_equal(m->stop, HELION_STOP_BUDGET);
    assert_true(m->elapsed_s == (chunk == 1 ? 5.0 : 6.0));
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/* bench_chunk 0 (the GPU's setting): without a budget a batch goes to the
 * backend in one call; with one, the first call has 16 configs and later
 * calls as many as the measured seconds per config fit in half the
 * remaining budget (never under 16), so the budget is overrun by less than
 * one call of 16. Each config costs 1 s; budget 100 s; 300 random configs
 * asked for: calls of 16, (100 - 16) / 2 = 42, (100 - 58) / 2 = 21, then
 * 16 (10.5 is under 16), and the budget is spent at 95 + ... */
static void test_search_budget_chunks(void **state) {
  (void)state;
  helion_space_t *space = grid_space(3, 16);
  for (int budget = 0; budget < 2; budget++) {
    fake f;
    fake_init(&f, space, 3, 16, NULL);
    helion_search_opts_t o;
    opts_quiet(&o, "RandomSearch");
    set_opt(&o, "count=300");
    o.budget_seconds = budget ? 100 : 0;
    o.bench_chunk = 0;
    helion_search_t *s = make_search(space, &f, &o);
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_run(s, &err), HELION_OK);
    const helion_search_metrics_t *m = helion_search_metrics(s);
    if (!budget) {
      assert_int_equal(f.call_sizes[0], 300);
      assert_int_equal(m->configs_tested, 300);
    } else {
      assert_int_equal(f.call_sizes[0], 16);
      assert_int_equal(f.call_sizes[1], 42);
      assert_int_equal(f.call_sizes[2], 21);
      assert_int_equal(f.call_sizes[3], 16);
      assert_int_equal(m->stop, HELION_STOP_BUDGET);
      assert_true(m->elapsed_s >= 100 && m->elapsed_s < 100 + 16);
    }
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

static char *run_trace(const char *algo, uint64_t seed, size_t *out_len) {
  helion_space_t *space = grid_space(3, 16);
  fake f;
  fake_init(&f, space, 3, 16, NULL);
  helion_search_opts_t o;
  opts_quiet(&o, algo);
  o.seed = seed;
  set_opt_where_declared(&o, "initial_population=20");
  set_opt_where_declared(&o, "copies=3");
  set_opt_where_declared(&o, "population_size=8");
  set_opt_where_declared(&o, "max_generations=6");
  o.trace = tmpfile();
  assert_non_null(o.trace);
  helion_search_t *s = make_search(space, &f, &o);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_run(s, &err), HELION_OK);
  long len = ftell(o.trace);
  assert_true(len > 0);
  char *buf = malloc((size_t)len + 1);
  assert_non_null(buf);
  rewind(o.trace);
  assert_int_equal(fread(buf, 1, (size_t)len, o.trace), (size_t)len);
  buf[len] = '\0';
  fclose(o.trace);
  helion_search_destroy(s);
  helion_space_destroy(space);
  *out_len = (size_t)len;
  return buf;
}

/* The same seed gives the same run, bit for bit; another seed another. */
static void test_search_same_seed_same_trace(void **state) {
  (void)state;
  const char *algos[3] = {"PatternSearch", "DifferentialEvolutionSearch",
                          "RandomSearch"};
  for (size_t k = 0; k < 3; k++) {
    size_t n1, n2, n3;
    char *a = run_trace(algos[k], 7, &n1);
    char *b = run_trace(algos[k], 7, &n2);
    char *c = run_trace(algos[k], 8, &n3);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_true(n1 != n3 || memcmp(a, c, n1) != 0);
    free(a);
    free(b);
    free(c);
  }
}

/* The trace's exact format: one JSON object per line. */
static void test_search_trace_format(void **state) {
  (void)state;
  static const double B[16] = {2.5, INFINITY, 9, 9, 1.25, 9, 9, 9,
                               9,   9,        9, 9, 9,    9, 9, 9};
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, B);
  const int64_t configs[6] = {0, 0, 0, 1, 1, 0};
  helion_search_opts_t o;
  opts_quiet(&o, "FiniteSearch");
  o.configs = configs;
  o.nconfigs = 3;
  o.trace = tmpfile();
  helion_search_t *s = make_search(space, &f, &o);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_run(s, &err), HELION_OK);
  assert_true(helion_search_best_ms(s) == 1.25);
  /* FiniteSearch neither rebenchmarks nor verifies. */
  assert_int_equal(f.rebench_calls, 0);
  rewind(o.trace);
  char text[1024];
  size_t len = fread(text, 1, sizeof(text) - 1, o.trace);
  text[len] = '\0';
  assert_string_equal(
      text,
      "{\"evaluation\": 1, \"config\": {\"A\":0,\"B\":0}, \"ms\": 2.5, "
      "\"status\": \"ok\", \"elapsed\": 3.000000, \"generation\": 0}\n"
      "{\"evaluation\": 2, \"config\": {\"A\":0,\"B\":1}, \"ms\": null, "
      "\"status\": \"compile\", \"elapsed\": 3.000000, \"generation\": 0}\n"
      "{\"evaluation\": 3, \"config\": {\"A\":1,\"B\":0}, \"ms\": 1.25, "
      "\"status\": \"ok\", \"elapsed\": 3.000000, \"generation\": 0}\n");
  fclose(o.trace);
  helion_search_destroy(s);
  helion_space_destroy(space);
}

/* Every config fails: a clear HELION_ERR_NO_CONFIG, never a crash. */
static void test_search_all_failed_gives_clear_error(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  const char *algos[3] = {"PatternSearch", "DifferentialEvolutionSearch",
                          "RandomSearch"};
  const char *want[3] = {
      "Initial random population of 16, 0 starting points: no configuration "
      "worked (16 measured: 16 failed to compile, 0 failed at run time, 0 "
      "gave wrong results, 0 timed out; 0 invalid configs skipped); check "
      "that the default configuration compiles and runs (helion-tune check) "
      "and that the space allows working configurations",
      "Initial population (initial_population=FROM_RANDOM): no "
      "configuration worked (8 measured: 8 failed to compile, 0 failed at "
      "run time, 0 gave wrong results, 0 timed out; 0 invalid configs "
      "skipped); check that the default configuration compiles and runs "
      "(helion-tune check) and that the space allows working configurations",
      "Random search of 16 configs: no configuration worked (16 measured: 16 "
      "failed to compile, 0 failed at run time, 0 gave wrong results, 0 "
      "timed out; 0 invalid configs skipped); check that the default "
      "configuration compiles and runs (helion-tune check) and that the "
      "space allows working configurations",
  };
  for (size_t k = 0; k < 3; k++) {
    fake f;
    fake_init(&f, space, 2, 4, HILL);
    f.fail = HELION_RESULT_COMPILE;
    helion_search_opts_t o;
    opts_quiet(&o, algos[k]);
    /* DE: 2P = 8 initial configs */
    set_opt_where_declared(&o, "population_size=4");
    helion_search_t *s = make_search(space, &f, &o);
    helion_err_t err = {{0}};
    assert_int_equal(helion_search_run(s, &err), HELION_ERR_NO_CONFIG);
    assert_string_equal(err.msg, want[k]);
    helion_search_destroy(s);
  }
  helion_space_destroy(space);
}

/* DE: population_size 3 is refused; a quick run that starts from the
 * default alone is padded to 4; a space of 3 configs is a clear error. */
static void test_search_de_small_population(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, HILL);
  helion_search_opts_t o;
  opts_quiet(&o, "DifferentialEvolutionSearch");
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_opts_set(&o, "population_size=3", &err),
                   HELION_ERR_USAGE);
  assert_string_equal(err.msg, "population_size: 3 is below the minimum 4 "
                               "(allowed: a whole number in [4, 1000000000])");
  helion_search_t *s;

  fake_init(&f, space, 2, 4, HILL);
  opts_quiet(&o, "DifferentialEvolutionSearch");
  o.effort = HELION_EFFORT_QUICK; /* FROM_BEST_AVAILABLE, no padding */
  s = make_search(space, &f, &o);
  assert_int_equal(helion_search_run(s, &err), HELION_OK);
  assert_int_equal(helion_search_member_generation(s, 0), 0);
  assert_true(helion_search_metrics(s)->configs_tested >= 4);
  helion_search_destroy(s);
  helion_space_destroy(space);

  helion_space_t *tiny = grid_space(1, 3);
  static const double T3[3] = {3, 2, 1};
  fake_init(&f, tiny, 1, 3, T3);
  opts_quiet(&o, "DifferentialEvolutionSearch");
  o.effort = HELION_EFFORT_QUICK;
  s = make_search(tiny, &f, &o);
  assert_int_equal(helion_search_run(s, &err), HELION_ERR_NO_CONFIG);
  assert_string_equal(err.msg,
                      "DifferentialEvolutionSearch: the space has only 3 "
                      "valid configurations and the search needs at least 4; "
                      "use FiniteSearch or RandomSearch");
  helion_search_destroy(s);
  helion_space_destroy(tiny);
}

static void test_search_unknown_algorithm(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, HILL);
  helion_search_opts_t o;
  opts_quiet(&o, "SimulatedAnnealing");
  helion_search_t *s = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_create(space, &f.base, &o, &s, &err),
                   HELION_ERR_USAGE);
  assert_null(s);
  assert_string_equal(err.msg,
                      "unknown search algorithm 'SimulatedAnnealing'; valid "
                      "algorithms: DESurrogateHybrid, "
                      "DifferentialEvolutionSearch, FiniteSearch, "
                      "LFBOPatternSearch, LFBOTreeSearch, LLMGuidedSearch, "
                      "LLMSeededLFBOTreeSearch, LLMSeededSearch, PatternSearch, "
                      "RandomSearch");
  helion_space_destroy(space);
}

/* Effort none measures the default config and nothing else. */
static void test_search_effort_none_default_only(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, HILL);
  helion_search_opts_t o;
  opts_quiet(&o, "PatternSearch");
  o.effort = HELION_EFFORT_NONE;
  helion_search_t *s = make_search(space, &f, &o);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_run(s, &err), HELION_OK);
  const int64_t zero[2] = {0, 0};
  assert_memory_equal(helion_search_best(s), zero, sizeof(zero));
  assert_true(helion_search_best_ms(s) == 10.0);
  assert_int_equal(f.nbenched, 1);
  helion_search_destroy(s);
  helion_space_destroy(space);
}

/* FiniteSearch needs two configs; the effort profiles fill the options. */
static void test_search_finite_and_profiles(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, HILL);
  const int64_t one[2] = {1, 1};
  helion_search_opts_t o;
  opts_quiet(&o, "FiniteSearch");
  o.configs = one;
  o.nconfigs = 1;
  helion_search_t *s = make_search(space, &f, &o);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_run(s, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg, "FiniteSearch needs at least 2 configurations "
                               "(got 1); with one, use it directly");
  helion_search_destroy(s);

  opts_quiet(&o, NULL);
  o.effort = HELION_EFFORT_QUICK;
  s = make_search(space, &f, &o);
  const helion_search_opts_t *r = helion_search_opts(s);
  assert_string_equal(r->algorithm, HELION_SEARCH_DEFAULT_ALGORITHM);
  char text[64] = "";
  resolved(s, "initial_population_strategy", text, sizeof(text));
  assert_string_equal(text, "from_best_available");
  assert_true(resolved(s, "pad_random", NULL, 0) == 0);
  assert_true(resolved(s, "rebenchmark_threshold", NULL, 0) == 0.9);
  assert_true(resolved(s, "final_top_k", NULL, 0) == 8);
  assert_true(resolved(s, "copies", NULL, 0) == 2);
  helion_search_destroy(s);
  opts_quiet(&o, NULL);
  s = make_search(space, &f, &o);
  resolved(s, "initial_population_strategy", text, sizeof(text));
  assert_string_equal(text, "from_random");
  assert_true(resolved(s, "rebenchmark_threshold", NULL, 0) == 1.5);
  assert_true(resolved(s, "copies", NULL, 0) == 5);
  helion_search_destroy(s);
  helion_space_destroy(space);
}

static void test_search_env(void **state) {
  (void)state;
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  helion_err_t err = {{0}};
  setenv("HELION_AUTOTUNER", "RandomSearch", 1);
  setenv("HELION_AUTOTUNE_EFFORT", "Quick", 1);
  setenv("HELION_AUTOTUNE_RANDOM_SEED", "42", 1);
  setenv("HELION_AUTOTUNER_INITIAL_POPULATION", "from_random", 1);
  setenv("HELION_CAP_AUTOTUNE_NUM_NEIGHBORS", "12", 1);
  assert_int_equal(helion_search_opts_from_env(&o, &err), HELION_OK);
  assert_string_equal(o.algorithm, "RandomSearch");
  assert_int_equal(o.effort, HELION_EFFORT_QUICK);
  assert_int_equal(o.seed, 42);
  /* Declared options are given by name and resolved at create. */
  assert_int_equal(o.ngiven, 2);
  assert_string_equal(o.given[0].decl->name, "initial_population_strategy");
  assert_int_equal(o.given[0].value.i, HELION_INITIAL_FROM_RANDOM);
  assert_string_equal(o.given[1].decl->name, "num_neighbors_cap");
  assert_int_equal(o.given[1].value.i, 12);
  setenv("HELION_AUTOTUNE_RANDOM_SEED", "12x", 1);
  assert_int_equal(helion_search_opts_from_env(&o, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg, "HELION_AUTOTUNE_RANDOM_SEED: '12x' is not a "
                               "non-negative integer");
  unsetenv("HELION_AUTOTUNE_RANDOM_SEED");
  setenv("HELION_AUTOTUNER", "Nope", 1);
  assert_int_equal(helion_search_opts_from_env(&o, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg,
                      "HELION_AUTOTUNER: unknown search algorithm 'Nope'; "
                      "valid algorithms: DESurrogateHybrid, "
                      "DifferentialEvolutionSearch, FiniteSearch, "
                      "LFBOPatternSearch, LFBOTreeSearch, LLMGuidedSearch, "
                      "LLMSeededLFBOTreeSearch, LLMSeededSearch, PatternSearch, "
                      "RandomSearch");
  unsetenv("HELION_AUTOTUNER");
  unsetenv("HELION_AUTOTUNE_EFFORT");
  unsetenv("HELION_AUTOTUNER_INITIAL_POPULATION");
  unsetenv("HELION_CAP_AUTOTUNE_NUM_NEIGHBORS");
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* RandomSearch with 100 evaluations on the recorded convolution landscape:
 * the median ratio (recorded time of the pick / optimum) over 50 fixed
 * seeds is within 3% of the exact expectation of uniform sampling. */
static void test_search_random_matches_expectation(void **state) {
  (void)state;
  const char *data = getenv("HELION_TEST_DATA");
  assert_non_null(data);
  char path[1024];
  snprintf(path, sizeof(path), "%s/landscapes/convolution_A4000.json.gz", data);
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_sim_load(path, NULL, &sim, &err), HELION_OK);
  const helion_space_t *space = helion_sim_space(sim);
  double opt = helion_sim_optimum(sim, NULL);
  double ratios[50];
  for (uint64_t seed = 0; seed < 50; seed++) {
    helion_sim_reset(sim, seed);
    helion_search_opts_t o;
    opts_quiet(&o, "RandomSearch");
    set_opt(&o, "count=100");
    o.seed = seed;
    helion_search_t *s = NULL;
    assert_int_equal(
        helion_search_create(space, helion_sim_backend(sim), &o, &s, &err),
        HELION_OK);
    assert_int_equal(helion_search_run(s, &err), HELION_OK);
    assert_int_equal(helion_search_metrics(s)->configs_tested, 100);
    helion_sim_record_t rec;
    assert_true(helion_sim_lookup(sim, helion_search_best(s), &rec));
    ratios[seed] = rec.ms / opt;
    helion_search_destroy(s);
  }
  qsort(ratios, 50, sizeof(double), cmp_d);
  double median = (ratios[24] + ratios[25]) / 2;
  double expect;
  assert_int_equal(helion_sim_random_expectation(sim, 100, 0.5, &expect, &err),
                   HELION_OK);
  if (fabs(median / expect - 1.0) > 0.03)
    fprintf(stderr, "median %.4f vs expected %.4f\n", median, expect);
  assert_true(fabs(median / expect - 1.0) <= 0.03);
  helion_sim_destroy(sim);
}

/* ------------------------------------------- LLM round 0 in flight -- */

/* A provider on 127.0.0.1 (OpenAI-compatible chat completions) for one
 * request: it notes the request's arrival (signalling `cv`) and answers
 * with one config, A=3 B=3 (the optimum of HILL). */
typedef struct provider {
  int fd, port;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool received; /* under mu */
} provider;

static provider *the_provider; /* for the fake's on_bench hook */

static void *provider_serve(void *arg) {
  provider *p = arg;
  struct pollfd pf = {p->fd, POLLIN, 0};
  if (poll(&pf, 1, 20000) != 1)
    return NULL; /* no request in 20 s: the test's assertions fail */
  int c = accept(p->fd, NULL, NULL);
  if (c < 0)
    return NULL;
  char req[1 << 16];
  size_t n = 0, want = SIZE_MAX;
  while (n < sizeof(req) - 1 && n < want) {
    ssize_t k = read(c, req + n, sizeof(req) - 1 - n);
    if (k <= 0)
      break;
    n += (size_t)k;
    req[n] = '\0';
    const char *end = strstr(req, "\r\n\r\n");
    const char *cl = strstr(req, "Content-Length: ");
    if (end && cl && want == SIZE_MAX) {
      want = (size_t)(end + 4 - req) + (size_t)strtoul(cl + 16, NULL, 10);
      pthread_mutex_lock(&p->mu);
      p->received = true;
      pthread_cond_broadcast(&p->cv);
      pthread_mutex_unlock(&p->mu);
    }
  }
  static const char body[] =
      "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
      "\"content\":\"{\\\"configs\\\":[{\\\"A\\\":3,\\\"B\\\":3}]}\"}}]}";
  char out[512];
  int len = snprintf(out, sizeof(out),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     sizeof(body) - 1, body);
  if (write(c, out, (size_t)len) != len)
    fprintf(stderr, "provider: short write\n");
  close(c);
  return NULL;
}

static void provider_start(provider *p) {
  memset(p, 0, sizeof(*p));
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(p->fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof(a);
  assert_int_equal(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(p->fd, 4), 0);
  assert_int_equal(getsockname(p->fd, (struct sockaddr *)&a, &al), 0);
  p->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&p->th, NULL, provider_serve, p), 0);
}

static void provider_stop(provider *p) {
  pthread_join(p->th, NULL);
  close(p->fd);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
}

/* The fake's first bench() (the round-0 seeds) waits up to 5 s for the
 * provider to receive the request; it counts the bench() calls during
 * which the request had arrived. */
static size_t benches_with_request;

static void wait_for_request(fake *f) {
  provider *p = the_provider;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  pthread_mutex_lock(&p->mu);
  while (f->bench_calls == 0 && !p->received &&
         pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0)
    ;
  benches_with_request += p->received;
  pthread_mutex_unlock(&p->mu);
}

/* Round 0's request is in flight while the seeds are measured (reference
 * A2): the seeds' bench() call sees the request arrive at the provider.
 * With the request sent after the seeds, that call waits 5 s in vain. */
static void test_search_llm_round0_overlaps_seeds(void **state) {
  (void)state;
  helion_space_t *space = grid_space(2, 4);
  fake f;
  fake_init(&f, space, 2, 4, HILL);
  f.on_bench = wait_for_request;
  provider p;
  provider_start(&p);
  the_provider = &p;
  benches_with_request = 0;
  char base[64];
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", p.port);
  unsetenv("HELION_LLM_REPLAY");
  setenv("HELION_LLM_PROVIDER", "openai-chat", 1);
  setenv("HELION_LLM_MODEL", "test-model", 1);
  setenv("HELION_LLM_API_KEY", "sk-unit", 1);
  setenv("HELION_LLM_API_BASE", base, 1);
  helion_search_opts_t o;
  opts_quiet(&o, "LLMGuidedSearch");
  set_opt(&o, "max_rounds=1");
  set_opt(&o, "initial_random_configs=2");
  helion_search_t *s = make_search(space, &f, &o);
  helion_err_t err = {{0}};
  helion_status rc = helion_search_run(s, &err);
  if (rc)
    fprintf(stderr, "LLMGuidedSearch: %s\n", err.msg);
  assert_int_equal(rc, HELION_OK);
  provider_stop(&p);
  /* bench() calls: the 3 seeds, then the LLM's config. */
  assert_true(f.call_sizes[0] == 3 && f.call_sizes[1] == 1);
  assert_int_equal(benches_with_request, 2);
  assert_true(helion_search_best_ms(s) == 1.0);
  helion_search_destroy(s);
  helion_space_destroy(space);
  unsetenv("HELION_LLM_PROVIDER");
  unsetenv("HELION_LLM_MODEL");
  unsetenv("HELION_LLM_API_KEY");
  unsetenv("HELION_LLM_API_BASE");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_search_rebench_threshold),
      cmocka_unit_test(test_search_compare_rebenchmarks),
      cmocka_unit_test(test_search_final_verification_picks_rebench_winner),
      cmocka_unit_test(test_search_final_verification_pinned_tolerance),
      cmocka_unit_test(test_search_pattern_climb_path),
      cmocka_unit_test(test_search_finishing_rounds),
      cmocka_unit_test(test_search_max_evals_truncates),
      cmocka_unit_test(test_search_budget_stops_exactly),
      cmocka_unit_test(test_search_budget_chunks),
      cmocka_unit_test(test_search_same_seed_same_trace),
      cmocka_unit_test(test_search_trace_format),
      cmocka_unit_test(test_search_all_failed_gives_clear_error),
      cmocka_unit_test(test_search_de_small_population),
      cmocka_unit_test(test_search_unknown_algorithm),
      cmocka_unit_test(test_search_effort_none_default_only),
      cmocka_unit_test(test_search_finite_and_profiles),
      cmocka_unit_test(test_search_env),
      cmocka_unit_test(test_search_random_matches_expectation),
      cmocka_unit_test(test_search_llm_round0_overlaps_seeds),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
