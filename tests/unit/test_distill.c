/*
 * test_distill.c: the config subset, the tree, the results file element
 * and the report of results/distill.h, on matrices small enough that the
 * right answer is worked out by hand in the comments next to each one.
 * Times are written as slowdowns against the shape's best (the best is
 * 1.0) unless a test says otherwise; only ratios matter to distill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/distill.h"
#include "util/json.h"
#include "util/util.h"

#define X INFINITY /* a failed or illegal cell */

/* Fills d with keys "K0,K1" (comma-separated), the shapes and the matrix;
 * config c is {"id": c}, as from_json writes a minimized config. */
static void make(helion_distill_t *d, const char *keys, const int64_t *shapes,
                 size_t nshapes, size_t nconfigs, const double *ms) {
  helion_distill_init(d);
  d->device_name = helion_strdup("Test GPU");
  strcpy(d->cc, "9.0");
  strcpy(d->source_hash, "abc123");
  strcpy(d->tool_version, "0.1.0");
  d->keys = calloc(HELION_DISTILL_MAX_KEYS, sizeof(char *));
  for (const char *p = keys; *p; p += *p == ',') {
    size_t n = strcspn(p, ",");
    d->keys[d->nkeys] = calloc(n + 1, 1);
    memcpy(d->keys[d->nkeys++], p, n);
    p += n;
  }
  d->nshapes = nshapes;
  d->shapes = malloc(nshapes * d->nkeys * sizeof(int64_t));
  memcpy(d->shapes, shapes, nshapes * d->nkeys * sizeof(int64_t));
  d->nconfigs = nconfigs;
  d->configs = calloc(nconfigs, sizeof(char *));
  for (size_t c = 0; c < nconfigs; c++) {
    char buf[32];
    snprintf(buf, sizeof buf, "{\"id\": %zu}", c);
    d->configs[c] = helion_strdup(buf);
  }
  d->ms = malloc(nshapes * nconfigs * sizeof(double));
  memcpy(d->ms, ms, nshapes * nconfigs * sizeof(double));
}

static void select_and_fit(helion_distill_t *d) {
  helion_err_t err = {{0}};
  if (helion_distill_select(d, &err) || helion_distill_fit(d, &err))
    fail_msg("distill failed: %s", err.msg);
}

static void expect_selected(const helion_distill_t *d, const size_t *want,
                            size_t n) {
  assert_int_equal(d->nselected, n);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(d->selected[i], want[i]);
}

static void expect_leaf(const helion_distill_t *d, int node, int config) {
  assert_true(node >= 0 && (size_t)node < d->nnodes);
  assert_int_equal(d->nodes[node].feature, -1);
  assert_int_equal(d->nodes[node].config, config);
}

static char *feature_name(const helion_distill_t *d, int f) {
  helion_buf_t b;
  helion_buf_init(&b, 256);
  assert_int_equal(helion_distill_feature_name((const char *const *)d->keys,
                                               d->nkeys, (size_t)f, &b),
                   HELION_OK);
  return helion_buf_take(&b);
}

/* The tree is one split on `feat` at `t` into two leaves. */
static void expect_one_split(const helion_distill_t *d, const char *feat,
                             double t, int left, int right) {
  assert_int_equal(d->nnodes, 3);
  char *name = feature_name(d, d->nodes[0].feature);
  assert_string_equal(name, feat);
  free(name);
  assert_true(d->nodes[0].threshold == t);
  expect_leaf(d, d->nodes[0].left, left);
  expect_leaf(d, d->nodes[0].right, right);
}

static int predict2(const helion_distill_t *d, int64_t m, int64_t n) {
  int64_t shape[2] = {m, n};
  return helion_distill_predict(d, shape);
}

/* (a) C0 is within 4% on every shape, C1 and C2 each best somewhere but
 * 20% and 50% off elsewhere. Round 1: C0 satisfies 3 shapes, C1 2 (s0,
 * s2), C2 2, so C0 is taken and every shape is satisfied: one config, and
 * a tree of one leaf (the root is already good). */
static void test_distill_one_config_everywhere(void **state) {
  (void)state;
  static const int64_t shapes[] = {64, 128, 256};
  static const double ms[] = {
      1.03, 1.00, 1.00, /* s0 */
      1.00, 1.20, 1.50, /* s1 */
      1.04, 1.00, 1.00, /* s2 */
  };
  helion_distill_t d;
  make(&d, "N", shapes, 3, 3, ms);
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){0}, 1);
  assert_int_equal(d.nnodes, 1);
  expect_leaf(&d, 0, 0);
  assert_true(fabs(d.slowdown[0] - 1.03) < 1e-12);
  assert_true(d.slowdown[1] == 1.0);
  helion_distill_cleanup(&d);
}

/* (b) Two regimes along N (M fixed at 1024): A (C0) is best for N <= 1024
 * and 1.3x off above, B (C1) best for N >= 4096 and 1.4x off below, C (C2)
 * 1.1x everywhere (never within 5%). Times scale with N by powers of two,
 * so every ratio is exact. Round 1: A and B satisfy 3 shapes each, C none;
 * A's log slowdown (3 log 1.3) beats B's (3 log 1.4): A. Round 2: B.
 * The tree: M is constant (no split); N splits 1024 | 4096 with cost 0,
 * as do M*N and the ratios, but N is the earlier feature. The threshold is
 * sqrt(1024 * 4096) = 2048, the midpoint in log space: N = 2300 is nearer
 * 4096 in ratio (1.78x) than 1024 (2.25x) and goes to B, where an
 * arithmetic midpoint (2560) would have sent it to A. */
static const int64_t regimes_shapes[] = {
    1024, 256, 1024, 512, 1024, 1024, 1024, 4096, 1024, 8192, 1024, 16384,
};

static void make_regimes(helion_distill_t *d) {
  double ms[6 * 3];
  for (size_t s = 0; s < 6; s++) {
    double scale = (double)regimes_shapes[2 * s + 1] / 1024.0;
    bool small = s < 3;
    ms[s * 3 + 0] = scale * (small ? 1.0 : 1.3);
    ms[s * 3 + 1] = scale * (small ? 1.4 : 1.0);
    ms[s * 3 + 2] = scale * 1.1;
  }
  make(d, "M,N", regimes_shapes, 6, 3, ms);
}

static void test_distill_two_regimes_split_on_n(void **state) {
  (void)state;
  helion_distill_t d;
  make_regimes(&d);
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){0, 1}, 2);
  expect_one_split(&d, "N", 2048.0, 0, 1);
  for (size_t s = 0; s < 6; s++)
    assert_true(d.slowdown[s] == 1.0);
  /* Between the regimes: nearer in log space wins. */
  assert_int_equal(predict2(&d, 1024, 1500), 0);
  assert_int_equal(predict2(&d, 1024, 2048), 0);
  assert_int_equal(predict2(&d, 1024, 2300), 1);
  assert_int_equal(predict2(&d, 1024, 3000), 1);
  /* Outside the tuned range: the end regimes. */
  assert_int_equal(predict2(&d, 1024, 1), 0);
  assert_int_equal(predict2(&d, 1024, 1 << 20), 1);
  helion_distill_cleanup(&d);
}

/* (c) The winner depends on M*N only: A (C0) for M*N <= 2^18, B (C1) for
 * M*N >= 2^20. Neither M nor N alone separates them (M = 256 holds A, A,
 * B; N likewise), nor does M/N (M/N = 1 holds A and B), so only M*N splits
 * with cost 0, between 2^18 and 2^20: threshold sqrt(2^38) = 2^19. B wins
 * 4 shapes, A 3, so the greedy takes B first: selected [1, 0]. */
static void test_distill_product_feature(void **state) {
  (void)state;
  static const int64_t shapes[] = {
      256,  256,  256, 1024, 1024, 256, /* A: M*N 2^16, 2^18, 2^18 */
      1024, 1024, 256, 4096, 4096, 256, 4096, 4096, /* B: 2^20.. 2^24 */
  };
  static const double ms[] = {
      1.0, 1.5, 1.0, 1.5, 1.0, 1.5,           /* A's shapes */
      1.5, 1.0, 1.5, 1.0, 1.5, 1.0, 1.5, 1.0, /* B's */
  };
  helion_distill_t d;
  make(&d, "M,N", shapes, 7, 2, ms);
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){1, 0}, 2);
  expect_one_split(&d, "M*N", 524288.0, 0, 1);
  /* M = 512, N = 512 (2^18) is A's; M = 2048, N = 512 (2^20) is B's. */
  assert_int_equal(predict2(&d, 512, 512), 0);
  assert_int_equal(predict2(&d, 2048, 512), 1);
  helion_distill_cleanup(&d);
}

/* (d) Failed cells and a shape nothing runs. s2 is uncoverable: out of the
 * counts, slowdown +inf, out of the tree's training set. Round 1: C0 and
 * C1 satisfy 2 shapes each (s0, s3 and s1, s3); both leave a shape with no
 * time (log slowdown +inf), a tie, so the lower column, C0. Round 2: C1.
 * The tree over s0, s1, s3 (N = 128, 512, 2048): every config fails one of
 * them at the root, so it splits; 128 | 512 gives {s0}: C0 and {s1, s3}:
 * C1, both without failures, at sqrt(128 * 512) = 256. */
static void test_distill_failed_and_uncoverable(void **state) {
  (void)state;
  static const int64_t shapes[] = {128, 512, 1024, 2048};
  static const double ms[] = {
      1.0,  X,   /* s0: only C0 runs */
      X,    1.0, /* s1: only C1 */
      X,    X,   /* s2: nothing */
      1.02, 1.0, /* s3 */
  };
  helion_distill_t d;
  make(&d, "N", shapes, 4, 2, ms);
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){0, 1}, 2);
  assert_true(d.slowdown[0] == 1.0 && d.slowdown[1] == 1.0 &&
              d.slowdown[3] == 1.0);
  assert_true(isinf(d.slowdown[2]));
  expect_one_split(&d, "N", 256.0, 0, 1);
  helion_distill_cleanup(&d);

  /* Nothing runs anything: no subset can be chosen. */
  static const double none[] = {X, X, X, X, X, X, X, X};
  helion_err_t err = {{0}};
  make(&d, "N", shapes, 4, 2, none);
  assert_int_equal(helion_distill_select(&d, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "no config runs any"));
  assert_null(d.selected);
  helion_distill_cleanup(&d);
}

/* (e) Three shapes, each with its own best config and 1.5x with the other
 * two; max_configs 2. Round 1: all score 1 with equal log slowdown: C0.
 * Round 2: C1 and C2 both reach 2: C1. Then the cap: s2 stays at 1.5 and
 * the slowdown says so. The tree still sends s0 to C0 and s1 to C1. */
static const int64_t cap_shapes[] = {64, 128, 256};
static const double cap_ms[] = {
    1.0, 1.5, 1.5, /* s0 */
    1.5, 1.0, 1.5, /* s1 */
    1.5, 1.5, 1.0, /* s2 */
};

static void test_distill_max_configs_cap(void **state) {
  (void)state;
  helion_distill_t d;
  make(&d, "N", cap_shapes, 3, 3, cap_ms);
  d.max_configs = 2;
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){0, 1}, 2);
  assert_true(d.slowdown[0] == 1.0 && d.slowdown[1] == 1.0);
  assert_true(d.slowdown[2] == 1.5);
  int64_t s0 = 64, s1 = 128;
  assert_int_equal(helion_distill_predict(&d, &s0), 0);
  assert_int_equal(helion_distill_predict(&d, &s1), 1);
  helion_distill_cleanup(&d);
}

/* (f) Helion breaks score ties by the lowest index; we break them by the
 * lower geometric-mean slowdown first. Every column is best on one shape
 * (score 1 in round 1), but C1 is 1.2x elsewhere where C0 and C2 are 2x:
 * geomean C1 = 1.2^(2/3), C0 = C2 = 2^(2/3). With max_configs 1 Helion
 * keeps C0 (worst shape 2x), we keep C1 (worst 1.2x). With 2, round 2
 * ties C0 and C2 on score (2) and on geomean (one shape at 1.2 either
 * way), so the lower column: [1, 0], where Helion has [0, 1]. */
static void test_distill_tie_rule_vs_helion(void **state) {
  (void)state;
  static const int64_t shapes[] = {1, 2, 3, 4};
  static const double ms[] = {
      1.0, 1.2, 2.0, /* s0 */
      2.0, 1.0, 2.0, /* s1 */
      2.0, 1.2, 1.0, /* s2 */
      X,   X,   X,   /* s3: uncoverable, must not spoil the geomean */
  };
  helion_distill_t d;
  make(&d, "N", shapes, 4, 3, ms);
  d.max_configs = 1;
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){1}, 1);
  assert_true(d.slowdown[0] == 1.2 && d.slowdown[2] == 1.2);
  d.max_configs = 2;
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){1, 0}, 2);
  helion_distill_cleanup(&d);
}

/* A A B B A A along N (1..6), A 1.3x off in B's regime and B 1.3x off
 * in A's; L = log 1.3. At the root A costs 2L (B 4L) and every split
 * costs 2L too: {A} | {A B B A A} is 0 + 2L, {A A} | {B B A A} 0 + 2L,
 * {A A B} | {B A A} L + L, {A A B B} | {A A} 2L + 0, {A A B B A} | {A}
 * 2L + 0 (the sums are exact: only 0 and L are added). A tree that splits
 * only on a strict improvement stops here with B's shapes 1.3x off. Ours
 * splits anyway (the lowest threshold, 1 | 2); in {A B B A A} the split
 * {A B B} | {A A} costs L < 2L, and {A} | {B B} below it 0, so depth 3
 * gives every shape its own best. */
static void test_distill_middle_regime(void **state) {
  (void)state;
  static const int64_t shapes[] = {1, 2, 3, 4, 5, 6};
  static const double ms[] = {
      1.0, 1.3, /* A */
      1.0, 1.3, /* A */
      1.3, 1.0, /* B */
      1.3, 1.0, /* B */
      1.0, 1.3, /* A */
      1.0, 1.3, /* A */
  };
  helion_distill_t d;
  make(&d, "N", shapes, 6, 2, ms);
  select_and_fit(&d);
  expect_selected(&d, (const size_t[]){0, 1}, 2);
  static const int want[] = {0, 0, 1, 1, 0, 0};
  for (int64_t n = 1; n <= 6; n++)
    assert_int_equal(helion_distill_predict(&d, &n), want[n - 1]);
  assert_true(d.nodes[0].threshold == sqrt(2.0));
  /* At depth 2 the middle is not reached yet: N = 2 (in {A B B}) goes
   * to B, 1.3x off. */
  d.max_depth = 2;
  select_and_fit(&d);
  int64_t two = 2;
  assert_int_equal(helion_distill_predict(&d, &two), 1);
  /* With depth 0 the tree is one leaf: A (2L against B's 4L). */
  d.max_depth = 0;
  select_and_fit(&d);
  assert_int_equal(d.nnodes, 1);
  expect_leaf(&d, 0, 0);
  helion_distill_cleanup(&d);
}

/* Two adjacent integers near 2^52.6, each its own config's: sqrt(a * b)
 * rounds up to b itself (a = 6755399441052744, b = a + 1; found by
 * search), which would send b left with a. The split then falls back to
 * a, and each shape keeps its config. */
static void test_distill_threshold_rounding(void **state) {
  (void)state;
  static const int64_t shapes[] = {6755399441052744, 6755399441052745};
  static const double ms[] = {1.0, 1.5, 1.5, 1.0};
  helion_distill_t d;
  make(&d, "N", shapes, 2, 2, ms);
  select_and_fit(&d);
  assert_true(sqrt((double)shapes[0] * (double)shapes[1]) == (double)shapes[1]);
  assert_true(d.nodes[0].threshold == (double)shapes[0]);
  assert_int_equal(helion_distill_predict(&d, &shapes[0]), 0);
  assert_int_equal(helion_distill_predict(&d, &shapes[1]), 1);
  helion_distill_cleanup(&d);
}

static void test_distill_rejects_bad_input(void **state) {
  (void)state;
  helion_distill_t d;
  helion_err_t err = {{0}};
  make(&d, "N", cap_shapes, 3, 3, cap_ms);
  d.threshold = 0.9;
  assert_int_equal(helion_distill_select(&d, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "threshold 0.9"));
  d.threshold = 1.05;
  d.max_configs = 0;
  assert_int_equal(helion_distill_select(&d, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "max_configs"));
  d.max_configs = 2;
  /* Fitting before selecting: no subset to fit over. */
  assert_int_equal(helion_distill_fit(&d, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "helion_distill_select"));
  d.ms[4] = -1.0;
  assert_int_equal(helion_distill_select(&d, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "ms[1][1]"));
  d.ms[4] = 1.0;
  d.nshapes = 0;
  assert_int_equal(helion_distill_select(&d, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "empty"));
  d.nshapes = 3;
  helion_distill_cleanup(&d);
}

/* ------------------------------------------------------------- JSON -- */

static cJSON *round_trip_json(const helion_distill_t *d) {
  cJSON *o = NULL, *back = NULL;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  assert_int_equal(helion_distill_to_json(d, &o, &err), HELION_OK);
  assert_int_equal(helion_json_write(o, 2, &b, &err), HELION_OK);
  cJSON_Delete(o);
  if (helion_json_parse(helion_buf_str(&b), b.len, "t.json", &back, &err))
    fail_msg("%s", err.msg);
  helion_buf_cleanup(&b);
  return back;
}

static void expect_same(const helion_distill_t *a, const helion_distill_t *b) {
  assert_string_equal(a->device_name, b->device_name);
  assert_string_equal(a->cc, b->cc);
  assert_int_equal(a->nkeys, b->nkeys);
  for (size_t k = 0; k < a->nkeys; k++)
    assert_string_equal(a->keys[k], b->keys[k]);
  assert_int_equal(a->nshapes, b->nshapes);
  assert_memory_equal(a->shapes, b->shapes,
                      a->nshapes * a->nkeys * sizeof(int64_t));
  assert_int_equal(a->nconfigs, b->nconfigs);
  for (size_t c = 0; c < a->nconfigs; c++)
    assert_string_equal(a->configs[c], b->configs[c]);
  for (size_t i = 0; i < a->nshapes * a->nconfigs; i++)
    assert_true(a->ms[i] == b->ms[i]); /* +inf == +inf too */
  assert_true(a->threshold == b->threshold);
  assert_int_equal(a->max_configs, b->max_configs);
  assert_int_equal(a->max_depth, b->max_depth);
  assert_int_equal(a->nselected, b->nselected);
  assert_memory_equal(a->selected, b->selected, a->nselected * sizeof(size_t));
  for (size_t s = 0; s < a->nshapes; s++)
    assert_true(a->slowdown[s] == b->slowdown[s]);
  assert_int_equal(a->nnodes, b->nnodes);
  for (size_t n = 0; n < a->nnodes; n++) {
    assert_int_equal(a->nodes[n].feature, b->nodes[n].feature);
    assert_true(a->nodes[n].threshold == b->nodes[n].threshold);
    assert_int_equal(a->nodes[n].left, b->nodes[n].left);
    assert_int_equal(a->nodes[n].right, b->nodes[n].right);
    assert_int_equal(a->nodes[n].config, b->nodes[n].config);
  }
  assert_string_equal(a->source_hash, b->source_hash);
  assert_string_equal(a->tool_version, b->tool_version);
}

/* from_json on `o` fails naming `what`. */
static void expect_parse_error(const cJSON *o, const char *what) {
  helion_distill_t d;
  helion_err_t err = {{0}};
  helion_distill_init(&d);
  assert_int_equal(helion_distill_from_json(o, "f.tuned.json", &d, &err),
                   HELION_ERR_PARSE);
  assert_true(strncmp(err.msg, "f.tuned.json: ", 14) == 0);
  if (!strstr(err.msg, what))
    fail_msg("\"%s\" not in: %s", what, err.msg);
  helion_distill_cleanup(&d);
}

static void test_distill_json_round_trip(void **state) {
  (void)state;
  helion_distill_t a, b;
  make_regimes(&a);
  a.ms[2] = X; /* a failed cell travels as null */
  select_and_fit(&a);
  cJSON *o = round_trip_json(&a);
  helion_err_t err = {{0}};
  helion_distill_init(&b);
  if (helion_distill_from_json(o, "f.tuned.json", &b, &err))
    fail_msg("%s", err.msg);
  expect_same(&a, &b);
  for (int64_t n = 1; n < 40000; n = n * 3 / 2 + 1)
    for (int64_t m = 1; m < 40000; m = m * 5 / 2 + 1)
      assert_int_equal(predict2(&a, m, n), predict2(&b, m, n));
  helion_distill_cleanup(&b);

  cJSON *tree = cJSON_GetObjectItemCaseSensitive(o, "tree");
  cJSON *left = cJSON_DetachItemFromObjectCaseSensitive(tree, "left");
  cJSON_AddItemToObject(tree, "left", cJSON_Parse("{\"config\": 7}"));
  expect_parse_error(o, "leaf config 7 is not a column of \"configs\"");
  cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(tree, "left"));
  cJSON_AddItemToObject(tree, "left", left);

  cJSON *feat = cJSON_DetachItemFromObjectCaseSensitive(tree, "feature");
  cJSON_AddStringToObject(tree, "feature", "M*Q");
  expect_parse_error(o, "feature \"M*Q\"");
  cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(tree, "feature"));
  cJSON_AddItemToObject(tree, "feature", feat);

  cJSON *ms0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ms"), 0);
  cJSON_DeleteItemFromArray(ms0, 0);
  expect_parse_error(o, "\"ms\": want an array of 3 numbers");
  cJSON_Delete(o);
  helion_distill_cleanup(&a);
}

/* ----------------------------------------------------------- report -- */

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* The matrix of (e) with its row for s2 worked out: C0 and C1 at 1.50,
 * C2 the best (1.00*), the subset (C0, C1) 1.50. The shape column is 5
 * wide ("shape", "N=256"), each cell 7. */
static void test_distill_report_text(void **state) {
  (void)state;
  helion_distill_t d;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  make(&d, "N", cap_shapes, 3, 3, cap_ms);
  d.max_configs = 2;
  select_and_fit(&d);
  assert_int_equal(helion_distill_report_text(&d, &b, &err), HELION_OK);
  const char *t = helion_buf_str(&b);
  assert_non_null(strstr(t, "Test GPU (cc 9.0), threshold 1.050: 2 of 3 "
                            "configs selected; 1 of 3 shapes beyond"));
  assert_non_null(strstr(t, "shape     C0*     C1*      C2  subset\n"));
  assert_non_null(strstr(t, "N=256   1.50    1.50    1.00*    1.50\n"));
  assert_non_null(strstr(t, "selected, in the order chosen: C0 C1\n"));
  assert_non_null(strstr(t, "  C2  {\"id\": 2}\n"));
  helion_distill_cleanup(&d);

  /* Failed cells and an uncoverable shape print '-'. */
  static const int64_t shapes[] = {128, 512};
  static const double ms[] = {1.0, X, X, X};
  helion_buf_reset(&b);
  make(&d, "N", shapes, 2, 2, ms);
  select_and_fit(&d);
  assert_int_equal(helion_distill_report_text(&d, &b, &err), HELION_OK);
  t = helion_buf_str(&b);
  assert_non_null(strstr(t, "N=128   1.00*      -     1.00\n"));
  assert_non_null(strstr(t, "N=512      -       -        -\n"));
  helion_distill_cleanup(&d);
  helion_buf_cleanup(&b);
}

static void expect_svg(const helion_distill_t *d, helion_buf_t *b) {
  helion_err_t err = {{0}};
  helion_buf_reset(b);
  assert_int_equal(helion_distill_report_svg(d, b, &err), HELION_OK);
  const char *s = helion_buf_str(b);
  assert_true(strncmp(s, "<svg", 4) == 0);
  assert_true(b->len > 7 && strcmp(s + b->len - 7, "</svg>\n") == 0);
  assert_int_equal(count(s, "class=\"cell\""), d->nshapes * d->nconfigs);
  assert_int_equal(count(s, "class=\"subset\""), d->nshapes);
  assert_int_equal(count(s, "class=\"selected\""), d->nselected);
  assert_int_equal(count(s, "<text"), count(s, "</text>"));
}

static void test_distill_report_svg(void **state) {
  (void)state;
  helion_distill_t d;
  helion_buf_t b;
  helion_buf_init(&b, 1 << 24);

  make(&d, "N", cap_shapes, 3, 3, cap_ms);
  free(d.configs[2]);
  d.configs[2] = helion_strdup("{\"note\": \"<&>'\\\"\"}");
  select_and_fit(&d);
  expect_svg(&d, &b);
  const char *svg = helion_buf_str(&b);
  assert_non_null(strstr(svg, "&lt;&amp;&gt;&apos;\\&quot;"));
  assert_null(strstr(svg, "<&>"));
  /* The best cell is the scale's dark green. */
  assert_non_null(strstr(svg, "fill=\"#1a7f37\"><title>1.00 (best)"));
  helion_distill_cleanup(&d);

  /* 1 x 1, failed. */
  static const int64_t one[] = {7};
  static const double inf1[] = {X};
  make(&d, "N", one, 1, 1, inf1);
  expect_svg(&d, &b);
  assert_non_null(strstr(helion_buf_str(&b), "fill=\"#bdbdbd\""));
  helion_distill_cleanup(&d);

  /* 40 x 24 with holes: sizes and counts hold, and it is deterministic. */
  enum { NS = 40, NC = 24 };
  int64_t shapes[NS * 2];
  double *ms = malloc(NS * NC * sizeof(double));
  for (size_t s = 0; s < NS; s++) {
    shapes[2 * s] = (int64_t)(s + 1) * 64;
    shapes[2 * s + 1] = (int64_t)(NS - s) * 128;
    for (size_t c = 0; c < NC; c++)
      ms[s * NC + c] = (s * 7 + c * 3) % 11 == 0
                           ? X
                           : 1.0 + (double)((s * 13 + c * 5) % 17) / 8.0;
  }
  make(&d, "M,N", shapes, NS, NC, ms);
  free(ms);
  select_and_fit(&d);
  expect_svg(&d, &b);
  char *first = helion_buf_take(&b);
  expect_svg(&d, &b);
  assert_string_equal(first, helion_buf_str(&b));
  free(first);
  helion_buf_reset(&b);
  helion_err_t err = {{0}};
  assert_int_equal(helion_distill_report_text(&d, &b, &err), HELION_OK);
  helion_distill_cleanup(&d);
  helion_buf_cleanup(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_distill_one_config_everywhere),
      cmocka_unit_test(test_distill_two_regimes_split_on_n),
      cmocka_unit_test(test_distill_product_feature),
      cmocka_unit_test(test_distill_failed_and_uncoverable),
      cmocka_unit_test(test_distill_max_configs_cap),
      cmocka_unit_test(test_distill_tie_rule_vs_helion),
      cmocka_unit_test(test_distill_middle_regime),
      cmocka_unit_test(test_distill_threshold_rounding),
      cmocka_unit_test(test_distill_rejects_bad_input),
      cmocka_unit_test(test_distill_json_round_trip),
      cmocka_unit_test(test_distill_report_text),
      cmocka_unit_test(test_distill_report_svg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
