/*
 * test_forest.c: checks the random forest on datasets small enough to work
 * out by hand (split thresholds, leaf values, the effect of weights, depth
 * and leaf-size limits), the consistency of apply / decision_path / single
 * tree / forest predictions, determinism, degenerate inputs and every error
 * message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/forest.h"
#include "util/util.h"

/* One deterministic tree that sees every row and every feature: the setting
 * in which splits can be computed by hand. */
static helion_forest_params_t one_tree(helion_forest_task task,
                                       helion_forest_criterion crit) {
  helion_forest_params_t p;
  if (task == HELION_FOREST_CLASSIFY)
    helion_forest_params_lfbo(&p);
  else
    helion_forest_params_de_hybrid(&p);
  p.n_estimators = 1;
  p.bootstrap = false;
  p.max_features_mode = HELION_FOREST_MAX_FEATURES_FRACTION;
  p.max_features = 1.0;
  p.max_depth = 0;
  p.min_samples_split = 2;
  p.min_samples_leaf = 1;
  p.criterion = crit;
  return p;
}

static helion_forest_t *fit_or_fail(const helion_forest_params_t *p,
                                    const double *X, size_t n, size_t d,
                                    const double *y, const double *w) {
  helion_forest_t *f = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_forest_create(p, &f, &err), HELION_OK);
  if (helion_forest_fit(f, X, n, d, y, w, &err) != HELION_OK)
    fail_msg("fit failed: %s", err.msg);
  return f;
}

static double proba1(const helion_forest_t *f, double x) {
  double p = NAN;
  assert_int_equal(helion_forest_predict_proba(f, &x, 1, &p, NULL), HELION_OK);
  return p;
}

/* x = 1 2 3 4 | 10 11 12 13 with labels 0 0 0 0 | 1 1 1 1: one split at the
 * midpoint 7, two pure leaves, under both classification criteria. */
static void test_forest_separable_split_midpoint(void **state) {
  (void)state;
  const double X[] = {1, 2, 3, 4, 10, 11, 12, 13};
  const double y[] = {0, 0, 0, 0, 1, 1, 1, 1};
  helion_forest_criterion crits[] = {HELION_FOREST_GINI,
                                     HELION_FOREST_LOG_LOSS};
  for (int c = 0; c < 2; c++) {
    helion_forest_params_t p = one_tree(HELION_FOREST_CLASSIFY, crits[c]);
    helion_forest_t *f = fit_or_fail(&p, X, 8, 1, y, NULL);
    assert_int_equal(helion_forest_n_trees(f), 1);
    assert_int_equal(helion_forest_n_features(f), 1);
    assert_int_equal(helion_forest_tree_n_nodes(f, 0), 3);
    assert_int_equal(helion_forest_tree_depth(f, 0), 1);
    assert_int_equal(helion_forest_node_feature(f, 0, 0), 0);
    assert_true(helion_forest_node_threshold(f, 0, 0) == 7.0);
    /* Preorder: the left child (x <= 7) is node 1, the right one node 2. */
    assert_int_equal(helion_forest_node_left(f, 0, 0), 1);
    assert_int_equal(helion_forest_node_right(f, 0, 0), 2);
    assert_int_equal(helion_forest_node_feature(f, 0, 1), -1);
    assert_int_equal(helion_forest_node_feature(f, 0, 2), -1);
    assert_true(isnan(helion_forest_node_threshold(f, 0, 1)));
    assert_true(helion_forest_node_value(f, 0, 0) == 0.5);
    assert_true(helion_forest_node_value(f, 0, 1) == 0.0);
    assert_true(helion_forest_node_value(f, 0, 2) == 1.0);
    assert_int_equal(helion_forest_node_n_samples(f, 0, 0), 8);
    assert_int_equal(helion_forest_node_n_samples(f, 0, 1), 4);
    assert_int_equal(helion_forest_node_n_samples(f, 0, 2), 4);
    assert_true(helion_forest_node_weight(f, 0, 0) == 8.0);
    /* Ties go left: x <= threshold. */
    assert_true(proba1(f, 6.9) == 0.0);
    assert_true(proba1(f, 7.0) == 0.0);
    assert_true(proba1(f, 7.1) == 1.0);
    assert_true(proba1(f, -100.0) == 0.0);
    assert_true(proba1(f, 100.0) == 1.0);
    helion_forest_destroy(f);
  }
}

/*
 * x = 1 2 3, labels 0 1 0, a stump (max_depth 1), gini. Gini's proxy is
 * sum over children of sum_k w_k^2 / w_child:
 *   weights 1 1 3: cut 1.5 -> 1/1 + (1 + 9)/4 = 3.5; cut 2.5 -> 2/2 + 9/3 = 4
 *   weights 3 1 1: cut 1.5 -> 9/3 + 2/2 = 4;         cut 2.5 -> (9+1)/4 + 1
 * = 3.5 so the weights decide the threshold. Leaf values are weighted
 * fractions: with 1 1 3 the left leaf {0:1, 1:1} has 0.5; with 3 1 1 the right
 * leaf {1:1, 0:1} has 0.5. The same holds for log_loss (the pure side costs 0,
 * the mixed one 2 ln 2 against 1 ln 4 + 3 ln 4/3).
 */
static void test_forest_sample_weights_change_split(void **state) {
  (void)state;
  const double X[] = {1, 2, 3};
  const double y[] = {0, 1, 0};
  const double w_right_heavy[] = {1, 1, 3};
  const double w_left_heavy[] = {3, 1, 1};
  helion_forest_criterion crits[] = {HELION_FOREST_GINI,
                                     HELION_FOREST_LOG_LOSS};
  for (int c = 0; c < 2; c++) {
    helion_forest_params_t p = one_tree(HELION_FOREST_CLASSIFY, crits[c]);
    p.max_depth = 1;
    helion_forest_t *f = fit_or_fail(&p, X, 3, 1, y, w_right_heavy);
    assert_true(helion_forest_node_threshold(f, 0, 0) == 2.5);
    assert_true(helion_forest_node_value(f, 0, 1) == 0.5);
    assert_true(helion_forest_node_value(f, 0, 2) == 0.0);
    assert_true(helion_forest_node_weight(f, 0, 0) == 5.0);
    assert_true(helion_forest_node_value(f, 0, 0) == 0.2);
    helion_forest_destroy(f);

    f = fit_or_fail(&p, X, 3, 1, y, w_left_heavy);
    assert_true(helion_forest_node_threshold(f, 0, 0) == 1.5);
    assert_true(helion_forest_node_value(f, 0, 1) == 0.0);
    assert_true(helion_forest_node_value(f, 0, 2) == 0.5);
    helion_forest_destroy(f);
  }
}

/* Rows of weight 0 take no part: x = 1 2 3 100, labels 0 0 1 0, the last
 * row weighing 0. Without it the root holds 3 rows and the cut at 2.5 leaves
 * two pure leaves; with it the right side would be mixed and split again. */
static void test_forest_zero_weight_rows_ignored(void **state) {
  (void)state;
  const double X[] = {1, 2, 3, 100};
  const double y[] = {0, 0, 1, 0};
  const double w[] = {1, 1, 1, 0};
  helion_forest_params_t p =
      one_tree(HELION_FOREST_CLASSIFY, HELION_FOREST_GINI);
  helion_forest_t *f = fit_or_fail(&p, X, 4, 1, y, w);
  assert_int_equal(helion_forest_node_n_samples(f, 0, 0), 3);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 3);
  assert_true(helion_forest_node_threshold(f, 0, 0) == 2.5);
  assert_true(proba1(f, 100.0) == 1.0); /* the ignored row's label was 0 */
  helion_forest_destroy(f);
}

/*
 * x = 1..10, only x = 1 labelled 1. With min_samples_leaf 1 the cut at 1.5
 * makes two pure children (the best any criterion can do). With 3, valid
 * cuts leave L = 3..7 rows on the left, all inside the run of label-0 rows:
 *   gini proxy sum_k w_k^2 / w_child = (1 + (L-1)^2)/L + (10 - L):
 *     8.667 8.5 8.4 8.333 8.286 for L = 3..7 -> L = 3;
 *   entropy: the left child costs L*H(1/L) = ln L + (L-1) ln(L/(L-1)),
 *     1.91 for L = 3 and growing with L -> L = 3;
 * so the root cuts at 3.5; {1,2,3} has 3 < 2*3 rows and stays a leaf (value
 * 1/3), {4..10} is pure.
 */
static void test_forest_min_samples_leaf_honoured(void **state) {
  (void)state;
  double X[10], y[10];
  for (int i = 0; i < 10; i++) {
    X[i] = i + 1;
    y[i] = i == 0;
  }
  helion_forest_criterion crits[] = {HELION_FOREST_GINI,
                                     HELION_FOREST_LOG_LOSS};
  for (int c = 0; c < 2; c++) {
    helion_forest_params_t p = one_tree(HELION_FOREST_CLASSIFY, crits[c]);
    helion_forest_t *f = fit_or_fail(&p, X, 10, 1, y, NULL);
    assert_int_equal(helion_forest_tree_n_nodes(f, 0), 3);
    assert_true(helion_forest_node_threshold(f, 0, 0) == 1.5);
    assert_int_equal(helion_forest_node_n_samples(f, 0, 1), 1);
    helion_forest_destroy(f);

    p.min_samples_leaf = 3;
    f = fit_or_fail(&p, X, 10, 1, y, NULL);
    assert_int_equal(helion_forest_tree_n_nodes(f, 0), 3);
    assert_true(helion_forest_node_threshold(f, 0, 0) == 3.5);
    assert_int_equal(helion_forest_node_n_samples(f, 0, 1), 3);
    assert_true(helion_forest_node_value(f, 0, 1) == 1.0 / 3.0);
    assert_int_equal(helion_forest_node_n_samples(f, 0, 2), 7);
    assert_true(proba1(f, 1.0) == 1.0 / 3.0);
    helion_forest_destroy(f);
  }

  helion_forest_params_t p =
      one_tree(HELION_FOREST_CLASSIFY, HELION_FOREST_GINI);
  helion_forest_t *f;
  /* min_samples_split 11 > 10 rows: the root stays a leaf. */
  p.min_samples_split = 11;
  f = fit_or_fail(&p, X, 10, 1, y, NULL);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 1);
  assert_true(proba1(f, 1.0) == 0.1);
  helion_forest_destroy(f);
}

/*
 * Regression of y = x on x = 1..8 with max_depth 2. The MSE proxy
 * sl^2/wl + sr^2/wr is 12 + 180 = 192 for L = 3, 25 + 169 = 194 for L = 4
 * and 45 + 147 = 192 for L = 5, so the root cuts at 4.5, its children at 2.5
 * and 6.5, and the four leaves hold the means 1.5 3.5 5.5 7.5.
 */
static void test_forest_max_depth_honoured(void **state) {
  (void)state;
  double X[8], y[8];
  for (int i = 0; i < 8; i++)
    X[i] = y[i] = i + 1;
  helion_forest_params_t p = one_tree(HELION_FOREST_REGRESS, HELION_FOREST_MSE);
  p.max_depth = 2;
  helion_forest_t *f = fit_or_fail(&p, X, 8, 1, y, NULL);
  assert_int_equal(helion_forest_tree_depth(f, 0), 2);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 7);
  assert_true(helion_forest_node_threshold(f, 0, 0) == 4.5);
  assert_true(helion_forest_node_threshold(f, 0, 1) == 2.5);
  assert_true(helion_forest_node_threshold(f, 0, 4) == 6.5);
  const int32_t leaves[] = {2, 3, 5, 6};
  const double means[] = {1.5, 3.5, 5.5, 7.5};
  for (int k = 0; k < 4; k++) {
    assert_int_equal(helion_forest_node_feature(f, 0, leaves[k]), -1);
    assert_true(helion_forest_node_value(f, 0, leaves[k]) == means[k]);
  }
  double q[] = {1, 3, 4.5, 4.6, 8, 100}, out[6];
  const double want[] = {1.5, 3.5, 3.5, 5.5, 7.5, 7.5};
  assert_int_equal(helion_forest_predict(f, q, 6, out, NULL), HELION_OK);
  for (int k = 0; k < 6; k++) {
    assert_true(out[k] == want[k]);
    assert_true(helion_forest_tree_predict(f, 0, &q[k]) == want[k]);
  }
  helion_forest_destroy(f);

  /* Without the limit the tree grows to one row per leaf: depth 3. */
  p.max_depth = 0;
  f = fit_or_fail(&p, X, 8, 1, y, NULL);
  assert_int_equal(helion_forest_tree_depth(f, 0), 3);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 15);
  helion_forest_destroy(f);
}

/* A noisy dataset with several informative features for the forest-level
 * checks: label = sign of a linear score plus noise. */
static void make_data(size_t n, size_t d, uint64_t seed, double *X, double *y) {
  helion_rng_t r;
  helion_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
      /* Some features discrete, as configuration encodings are. */
      double v =
          j % 3 == 0 ? (double)helion_rng_below(&r, 5) : helion_rng_normal(&r);
      X[i * d + j] = v;
      if (j < 4)
        s += v * (double)(j + 1);
    }
    y[i] = s + helion_rng_normal(&r) > 3.0 ? 1.0 : 0.0;
  }
}

/* apply, decision_path, single-tree and forest predictions agree. */
static void test_forest_apply_path_predict_consistent(void **state) {
  (void)state;
  enum { N = 300, D = 7, Q = 50 };
  static double X[N * D], y[N], Xq[Q * D], yq[Q], p1[Q];
  static int32_t leaves[Q * 20];
  make_data(N, D, 1, X, y);
  make_data(Q, D, 2, Xq, yq);
  helion_forest_params_t p;
  helion_forest_params_lfbo(&p);
  p.n_estimators = 20;
  helion_forest_t *f = fit_or_fail(&p, X, N, D, y, NULL);
  size_t T = helion_forest_n_trees(f);
  assert_int_equal(T, 20);
  assert_int_equal(helion_forest_apply(f, Xq, Q, leaves, NULL), HELION_OK);
  assert_int_equal(helion_forest_predict_proba(f, Xq, Q, p1, NULL), HELION_OK);
  for (size_t i = 0; i < Q; i++) {
    const double *x = Xq + i * D;
    double sum = 0.0;
    for (size_t t = 0; t < T; t++) {
      int32_t path[64];
      size_t len = 0;
      size_t depth = helion_forest_tree_depth(f, t);
      assert_int_equal(
          helion_forest_decision_path(f, t, x, path, depth + 1, &len, NULL),
          HELION_OK);
      assert_true(len >= 1 && len <= depth + 1);
      assert_int_equal(path[0], 0);
      for (size_t k = 0; k + 1 < len; k++) {
        int32_t nd = path[k];
        int32_t feat = helion_forest_node_feature(f, t, nd);
        assert_true(feat >= 0 && feat < D);
        int32_t next = x[feat] <= helion_forest_node_threshold(f, t, nd)
                           ? helion_forest_node_left(f, t, nd)
                           : helion_forest_node_right(f, t, nd);
        assert_int_equal(path[k + 1], next);
      }
      int32_t leaf = path[len - 1];
      assert_int_equal(helion_forest_node_feature(f, t, leaf), -1);
      assert_int_equal(leaves[i * T + t], leaf);
      double pt = helion_forest_tree_predict_proba(f, t, x);
      assert_true(pt == helion_forest_node_value(f, t, leaf));
      sum += pt;
    }
    assert_true(fabs(p1[i] - sum / (double)T) < 1e-15);
  }
  /* Bootstrap: the root weighs exactly n draws; fewer distinct rows. */
  for (size_t t = 0; t < T; t++) {
    assert_true(helion_forest_node_weight(f, t, 0) == (double)N);
    assert_true(helion_forest_node_n_samples(f, t, 0) < N);
  }
  /* A forest learns the rule: far better than the 1-in-2 guess. */
  int right = 0;
  for (size_t i = 0; i < Q; i++)
    right += (p1[i] > 0.5) == (yq[i] == 1.0);
  assert_true(right >= 35);
  helion_forest_destroy(f);
}

/* Every leaf of a bootstrapped, feature-sampled forest honours
 * min_samples_leaf and max_depth. */
static void test_forest_limits_hold_in_random_forest(void **state) {
  (void)state;
  enum { N = 400, D = 9 };
  static double X[N * D], y[N];
  make_data(N, D, 3, X, y);
  for (size_t i = 0; i < N; i++)
    y[i] = X[i * D + 1] * 3.0 + X[i * D + 2]; /* regression target */
  helion_forest_params_t p;
  helion_forest_params_de_hybrid(&p);
  p.n_estimators = 10;
  p.max_depth = 4;
  p.min_samples_leaf = 5;
  p.max_features = 0.5;
  helion_forest_t *f = fit_or_fail(&p, X, N, D, y, NULL);
  for (size_t t = 0; t < helion_forest_n_trees(f); t++) {
    assert_true(helion_forest_tree_depth(f, t) <= 4);
    size_t nn = helion_forest_tree_n_nodes(f, t);
    assert_true(nn > 1);
    for (int32_t nd = 0; nd < (int32_t)nn; nd++) {
      assert_true(helion_forest_node_n_samples(f, t, nd) >= 5);
      int32_t l = helion_forest_node_left(f, t, nd);
      if (l >= 0) {
        int32_t r = helion_forest_node_right(f, t, nd);
        /* Children partition the parent's rows and weight. */
        assert_int_equal(helion_forest_node_n_samples(f, t, l) +
                             helion_forest_node_n_samples(f, t, r),
                         helion_forest_node_n_samples(f, t, nd));
        assert_int_equal(l, nd + 1); /* preorder, left first */
      }
    }
  }
  helion_forest_destroy(f);
}

/* Same seed -> the same forest, also from a fresh object and after refits;
 * another seed -> another forest. */
static void test_forest_deterministic_by_seed(void **state) {
  (void)state;
  enum { N = 300, D = 6, Q = 40 };
  static double X[N * D], y[N], Xq[Q * D], yq[Q], a[Q], b[Q], c[Q];
  static int32_t la[Q * 30], lb[Q * 30];
  make_data(N, D, 4, X, y);
  make_data(Q, D, 5, Xq, yq);
  helion_forest_params_t p;
  helion_forest_params_lfbo(&p);
  p.n_estimators = 30;
  helion_forest_t *f1 = fit_or_fail(&p, X, N, D, y, NULL);
  helion_forest_t *f2 = fit_or_fail(&p, X, N, D, y, NULL);
  assert_int_equal(helion_forest_predict_proba(f1, Xq, Q, a, NULL), 0);
  assert_int_equal(helion_forest_predict_proba(f2, Xq, Q, b, NULL), 0);
  assert_memory_equal(a, b, sizeof(a));
  assert_int_equal(helion_forest_apply(f1, Xq, Q, la, NULL), 0);
  assert_int_equal(helion_forest_apply(f2, Xq, Q, lb, NULL), 0);
  assert_memory_equal(la, lb, sizeof(la));
  /* Refitting the same object gives the same forest again. */
  assert_int_equal(helion_forest_fit(f1, X, N, D, y, NULL, NULL), 0);
  assert_int_equal(helion_forest_predict_proba(f1, Xq, Q, c, NULL), 0);
  assert_memory_equal(a, c, sizeof(a));
  helion_forest_destroy(f2);

  p.seed = 43;
  f2 = fit_or_fail(&p, X, N, D, y, NULL);
  assert_int_equal(helion_forest_predict_proba(f2, Xq, Q, b, NULL), 0);
  assert_true(memcmp(a, b, sizeof(a)) != 0);
  int same_trees = 0;
  for (size_t t = 0; t < 30; t++)
    same_trees +=
        helion_forest_tree_n_nodes(f1, t) == helion_forest_tree_n_nodes(f2, t);
  assert_true(same_trees < 30);
  helion_forest_destroy(f1);
  helion_forest_destroy(f2);
}

/* All labels equal, one row, constant features: single leaves, no crash. */
static void test_forest_degenerate_inputs(void **state) {
  (void)state;
  helion_forest_params_t p;
  helion_forest_params_lfbo(&p);
  p.n_estimators = 5;
  const double X[] = {1, 2, 3, 4, 5, 6, 7, 8};
  const double ones[] = {1, 1, 1, 1};
  helion_forest_t *f = fit_or_fail(&p, X, 4, 2, ones, NULL);
  for (size_t t = 0; t < 5; t++)
    assert_int_equal(helion_forest_tree_n_nodes(f, t), 1);
  double q[] = {0, 0}, p1 = 0;
  assert_int_equal(helion_forest_predict_proba(f, q, 1, &p1, NULL), 0);
  assert_true(p1 == 1.0);
  int32_t path[4];
  size_t len = 9;
  assert_int_equal(helion_forest_decision_path(f, 4, q, path, 1, &len, NULL),
                   HELION_OK);
  assert_int_equal(len, 1);
  assert_int_equal(path[0], 0);
  helion_forest_destroy(f);

  /* One row: every bootstrap draws it. */
  const double one_x[] = {3.0}, one_y[] = {0.0};
  f = fit_or_fail(&p, one_x, 1, 1, one_y, NULL);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 1);
  assert_true(helion_forest_node_weight(f, 0, 0) == 1.0);
  assert_true(proba1(f, 3.0) == 0.0);
  helion_forest_destroy(f);

  /* Constant features with mixed labels: nothing to split on. */
  const double cx[] = {2, 5, 2, 5, 2, 5, 2, 5};
  const double cy[] = {0, 1, 1, 1};
  p = one_tree(HELION_FOREST_CLASSIFY, HELION_FOREST_LOG_LOSS);
  f = fit_or_fail(&p, cx, 4, 2, cy, NULL);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 1);
  assert_true(helion_forest_node_value(f, 0, 0) == 0.75);
  helion_forest_destroy(f);

  /* Constant regression targets. */
  const double ry[] = {2.5, 2.5, 2.5, 2.5};
  helion_forest_params_de_hybrid(&p);
  p.n_estimators = 3;
  p.min_samples_split = 2;
  p.min_samples_leaf = 1;
  f = fit_or_fail(&p, X, 4, 2, ry, NULL);
  double out = 0;
  assert_int_equal(helion_forest_predict(f, q, 1, &out, NULL), 0);
  assert_true(out == 2.5);
  helion_forest_destroy(f);

  /* Values closer than 1e-7 count as one value: no split between them. */
  const double nx[] = {1.0, 1.0 + 5e-8, 1.0 + 9e-8};
  const double ny[] = {0, 1, 0};
  p = one_tree(HELION_FOREST_CLASSIFY, HELION_FOREST_GINI);
  f = fit_or_fail(&p, nx, 3, 1, ny, NULL);
  assert_int_equal(helion_forest_tree_n_nodes(f, 0), 1);
  helion_forest_destroy(f);
}

static void expect_fit_error(helion_forest_t *f, const double *X, size_t n,
                             size_t d, const double *y, const double *w,
                             helion_status want, const char *msg) {
  helion_err_t err = {{0}};
  assert_int_equal(helion_forest_fit(f, X, n, d, y, w, &err), want);
  assert_string_equal(err.msg, msg);
}

static void test_forest_errors(void **state) {
  (void)state;
  helion_forest_params_t p;
  helion_forest_t *f = NULL;
  helion_err_t err = {{0}};

  helion_forest_params_lfbo(&p);
  p.n_estimators = 0;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_ERR_INVALID);
  assert_string_equal(err.msg,
                      "forest parameters: n_estimators must be in [1, 2^31)");
  assert_null(f);
  helion_forest_params_lfbo(&p);
  p.min_samples_split = 1;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_ERR_INVALID);
  assert_string_equal(err.msg, "forest parameters: min_samples_split must be "
                               "at least 2");
  helion_forest_params_lfbo(&p);
  p.min_samples_leaf = 0;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_ERR_INVALID);
  assert_string_equal(err.msg,
                      "forest parameters: min_samples_leaf must be at least 1");
  helion_forest_params_de_hybrid(&p);
  p.max_features = 1.5;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_ERR_INVALID);
  assert_string_equal(err.msg,
                      "forest parameters: max_features must be in (0, 1]");
  p.max_features = 1.0;
  p.criterion = HELION_FOREST_GINI;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_ERR_INVALID);
  assert_string_equal(err.msg,
                      "forest parameters: a regressor's criterion must be MSE");
  helion_forest_params_lfbo(&p);
  p.criterion = HELION_FOREST_MSE;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_ERR_INVALID);
  assert_string_equal(err.msg, "forest parameters: a classifier's criterion "
                               "must be GINI or LOG_LOSS");
  assert_null(f);

  helion_forest_params_lfbo(&p);
  p.n_estimators = 2;
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_OK);
  double x = 1.0, out = 0;
  int32_t leaf[2];
  size_t len = 0;
  /* Unfitted. */
  assert_int_equal(helion_forest_predict_proba(f, &x, 1, &out, &err),
                   HELION_ERR_USAGE);
  assert_string_equal(err.msg, "helion_forest_predict_proba: the forest is "
                               "not fitted; call helion_forest_fit first");
  assert_int_equal(helion_forest_apply(f, &x, 1, leaf, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg, "helion_forest_apply: the forest is not "
                               "fitted; call helion_forest_fit first");
  assert_true(isnan(helion_forest_tree_predict_proba(f, 0, &x)));
  assert_int_equal(helion_forest_n_trees(f), 0);
  assert_int_equal(helion_forest_node_feature(f, 0, 0), -1);

  const double X[] = {1, 2, 3, 4};
  const double y[] = {0, 1, 0, 1};
  const double bad_y[] = {0, 1, 2, 1};
  const double nan_X[] = {1, 2, NAN, 4};
  const double neg_w[] = {1, 1, -1, 1};
  const double zero_w[] = {0, 0, 0, 0};
  expect_fit_error(f, X, 0, 1, y, NULL, HELION_ERR_INVALID,
                   "forest fit: 0 rows of 1 features; need at least one row "
                   "and one feature");
  expect_fit_error(f, X, 4, 1, bad_y, NULL, HELION_ERR_INVALID,
                   "forest fit: label 2 is 2; a classifier takes labels 0 "
                   "and 1 only");
  expect_fit_error(f, nan_X, 2, 2, y, NULL, HELION_ERR_INVALID,
                   "forest fit: X[1][0] is not finite; encode failed or "
                   "missing values as numbers");
  expect_fit_error(f, X, 4, 1, y, neg_w, HELION_ERR_INVALID,
                   "forest fit: sample_weight[2] is -1; weights must be "
                   "finite and >= 0");
  expect_fit_error(f, X, 4, 1, y, zero_w, HELION_ERR_INVALID,
                   "forest fit: the sample weights sum to 0; give at least "
                   "one row a positive weight");
  assert_int_equal(helion_forest_n_trees(f), 0);

  /* A failed fit keeps the previous trees. */
  assert_int_equal(helion_forest_fit(f, X, 4, 1, y, NULL, &err), HELION_OK);
  expect_fit_error(f, X, 4, 1, bad_y, NULL, HELION_ERR_INVALID,
                   "forest fit: label 2 is 2; a classifier takes labels 0 "
                   "and 1 only");
  assert_int_equal(helion_forest_n_trees(f), 2);

  assert_int_equal(helion_forest_predict(f, &x, 1, &out, &err),
                   HELION_ERR_USAGE);
  assert_string_equal(err.msg, "helion_forest_predict: the forest is a "
                               "classifier; use helion_forest_predict_proba");
  assert_true(isnan(helion_forest_tree_predict(f, 0, &x)));
  assert_true(isnan(helion_forest_tree_predict_proba(f, 2, &x)));
  assert_int_equal(helion_forest_decision_path(f, 2, &x, leaf, 2, &len, &err),
                   HELION_ERR_USAGE);
  assert_string_equal(err.msg, "helion_forest_decision_path: tree 2 is out "
                               "of range; the forest has 2 trees");
  helion_forest_destroy(f);

  helion_forest_params_de_hybrid(&p);
  assert_int_equal(helion_forest_create(&p, &f, &err), HELION_OK);
  const double ry[] = {1.0, 2.0, INFINITY, 3.0};
  expect_fit_error(f, X, 4, 1, ry, NULL, HELION_ERR_INVALID,
                   "forest fit: target 2 is not finite; drop rows with "
                   "infinite or NaN targets");
  assert_int_equal(helion_forest_fit(f, X, 4, 1, y, NULL, &err), HELION_OK);
  assert_int_equal(helion_forest_predict_proba(f, &x, 1, &out, &err),
                   HELION_ERR_USAGE);
  assert_string_equal(err.msg, "helion_forest_predict_proba: the forest is a "
                               "regressor; use helion_forest_predict");
  helion_forest_destroy(f);
  helion_forest_destroy(NULL);
}

/* The LIMIT message of decision_path, on a tree whose shape is known: the
 * separable dataset's stump has paths of 2 nodes. */
static void test_forest_decision_path_limit(void **state) {
  (void)state;
  const double X[] = {1, 2, 10, 11};
  const double y[] = {0, 0, 1, 1};
  helion_forest_params_t p =
      one_tree(HELION_FOREST_CLASSIFY, HELION_FOREST_GINI);
  helion_forest_t *f = fit_or_fail(&p, X, 4, 1, y, NULL);
  double x = 10.5;
  int32_t path[2];
  size_t len = 5;
  helion_err_t err = {{0}};
  assert_int_equal(helion_forest_decision_path(f, 0, &x, path, 1, &len, &err),
                   HELION_ERR_LIMIT);
  assert_string_equal(err.msg,
                      "helion_forest_decision_path: the path has 2 nodes but "
                      "there is room for 1; size the buffer with "
                      "helion_forest_tree_depth() + 1");
  assert_int_equal(len, 5);
  assert_int_equal(helion_forest_decision_path(f, 0, &x, path, 2, &len, &err),
                   HELION_OK);
  assert_int_equal(len, 2);
  assert_int_equal(path[0], 0);
  assert_int_equal(path[1], 2);
  helion_forest_destroy(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forest_separable_split_midpoint),
      cmocka_unit_test(test_forest_sample_weights_change_split),
      cmocka_unit_test(test_forest_zero_weight_rows_ignored),
      cmocka_unit_test(test_forest_min_samples_leaf_honoured),
      cmocka_unit_test(test_forest_max_depth_honoured),
      cmocka_unit_test(test_forest_apply_path_predict_consistent),
      cmocka_unit_test(test_forest_limits_hold_in_random_forest),
      cmocka_unit_test(test_forest_deterministic_by_seed),
      cmocka_unit_test(test_forest_degenerate_inputs),
      cmocka_unit_test(test_forest_errors),
      cmocka_unit_test(test_forest_decision_path_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
