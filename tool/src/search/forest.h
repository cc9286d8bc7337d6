/*
 * forest.h: random forests of CART trees, the surrogates of Helion's
 * searches: the binary classifier of LFBOPatternSearch / LFBOTreeSearch and
 * the regressor of DESurrogateHybrid (reference/helion-autotuner.md §2.4,
 * §2.5, §2.7).
 *
 * The trees are grown the way scikit-learn grows them: bootstrap draws turn
 * into sample-weight multipliers, samples whose weight is zero take no part
 * in a tree, each node draws features without replacement until it has seen
 * `max_features` non-constant ones (features found constant in a node stay
 * constant in its subtree and are not drawn again), split candidates sit at
 * midpoints between distinct consecutive values (values closer than 1e-7
 * count as equal), the split with the best impurity decrease wins and a
 * sample goes left when x[feature] <= threshold. Nodes are numbered in
 * depth-first preorder, left child first, root = 0, in each tree.
 *
 * Classification is binary only (labels 0 and 1): that is all Helion needs.
 * A leaf's value is its weighted fraction of class 1 (classifier) or its
 * weighted mean target (regressor); the forest averages its trees.
 *
 * Deterministic: all randomness comes from a helion_rng_t seeded with
 * params.seed at every fit, so the same seed, data and parameters give the
 * same trees on every machine. The generator is not numpy's, so the trees
 * are not scikit-learn's trees; only their statistics match.
 *
 * Threads: a forest may be read (predict, apply, decision_path, accessors)
 * from several threads at once; fit must not run concurrently with anything
 * else on the same forest.
 */
#ifndef HELION_FOREST_H
#define HELION_FOREST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef enum helion_forest_task {
  HELION_FOREST_CLASSIFY = 0, /* binary: labels 0 and 1 */
  HELION_FOREST_REGRESS = 1,
} helion_forest_task;

typedef enum helion_forest_criterion {
  HELION_FOREST_GINI = 0,
  HELION_FOREST_LOG_LOSS = 1, /* = entropy; what LFBO uses */
  HELION_FOREST_MSE = 2,      /* the only regression criterion */
} helion_forest_criterion;

typedef enum helion_forest_max_features_mode {
  /* max(1, floor(max_features * d)) features per node */
  HELION_FOREST_MAX_FEATURES_FRACTION = 0,
  /* max(1, floor(sqrt(d))) features per node (sklearn "sqrt") */
  HELION_FOREST_MAX_FEATURES_SQRT = 1,
} helion_forest_max_features_mode;

typedef struct helion_forest_params {
  helion_forest_task task;
  size_t n_estimators;      /* >= 1 */
  size_t max_depth;         /* 0 = unlimited; the root has depth 0 */
  size_t min_samples_split; /* >= 2; a node with fewer samples is a leaf */
  size_t min_samples_leaf;  /* >= 1; samples (not weight) per child */
  helion_forest_max_features_mode max_features_mode;
  double max_features; /* in (0, 1]; read in FRACTION mode only */
  bool bootstrap;      /* draw n samples with replacement per tree */
  helion_forest_criterion criterion; /* GINI/LOG_LOSS classify, MSE regress */
  uint64_t seed;
} helion_forest_params_t;

typedef struct helion_forest helion_forest_t;

/*
 * Fills `p` with the classifier of LFBO (§2.4): sklearn's
 * RandomForestClassifier(criterion="log_loss", n_estimators=100) defaults,
 * i.e. max_depth none, min_samples_split 2, min_samples_leaf 1,
 * max_features "sqrt", bootstrap, seed 42.
 */
void helion_forest_params_lfbo(helion_forest_params_t *p);

/*
 * Fills `p` with the regressor of DESurrogateHybrid (§2.7):
 * RandomForestRegressor(n_estimators=50, max_depth=15, min_samples_split=5,
 * min_samples_leaf=2), max_features 1.0, bootstrap, criterion MSE, seed 42.
 */
void helion_forest_params_de_hybrid(helion_forest_params_t *p);

/*
 * Creates an unfitted forest with a copy of `p`. Fails with
 * HELION_ERR_INVALID naming the bad field (n_estimators 0, min_samples_split
 * < 2, min_samples_leaf 0, max_features outside (0, 1], a criterion that does
 * not fit the task). The caller frees *out with helion_forest_destroy().
 */
helion_status helion_forest_create(const helion_forest_params_t *p,
                                   helion_forest_t **out, helion_err_t *err);

/* Frees the forest and its trees. NULL is fine. */
void helion_forest_destroy(helion_forest_t *f);

/*
 * Fits the forest on n rows of d features (X row-major, n * d values) and
 * replaces any trees of an earlier fit. `y` holds labels 0/1 (classifier) or
 * targets (regressor). `sample_weight` (NULL = all 1) multiplies each row's
 * weight, as in sklearn's fit(X, y, sample_weight=w); rows of weight 0 are
 * ignored. Every call reseeds from params.seed, so refitting the same data
 * gives the same forest.
 *
 * Errors: HELION_ERR_INVALID for n or d of 0, a non-finite X or y value, a
 * label other than 0/1, a negative or non-finite weight, or weights summing
 * to 0 (the message names the row and column); HELION_ERR_LIMIT for more
 * than 2^30 - 1 rows (node ids are int32); HELION_ERR_NOMEM. On error the
 * forest keeps its previous trees. Not thread-safe on the same forest.
 *
 * Cost: each feature is sorted once per fit; a tree then costs about
 * d * (sum of node sizes) element moves plus the split scans, e.g. ~40 ms
 * for 2000 x 20 with 100 trees on one core.
 */
helion_status helion_forest_fit(helion_forest_t *f, const double *X, size_t n,
                                size_t d, const double *y,
                                const double *sample_weight, helion_err_t *err);

/* Number of fitted trees: params.n_estimators after a fit, 0 before. */
size_t helion_forest_n_trees(const helion_forest_t *f);

/* Number of features of the last fit (0 before). */
size_t helion_forest_n_features(const helion_forest_t *f);

/*
 * Classifier: out_p1[i] = probability of class 1 for row i of X (n rows of
 * n_features each): the mean over trees of the weighted class-1 fraction of
 * the leaf the row lands in (sklearn's predict_proba(X)[:, 1]).
 * HELION_ERR_USAGE on a regressor or an unfitted forest.
 */
helion_status helion_forest_predict_proba(const helion_forest_t *f,
                                          const double *X, size_t n,
                                          double *out_p1, helion_err_t *err);

/*
 * Regressor: out[i] = mean over trees of the leaf mean for row i.
 * HELION_ERR_USAGE on a classifier or an unfitted forest.
 */
helion_status helion_forest_predict(const helion_forest_t *f, const double *X,
                                    size_t n, double *out, helion_err_t *err);

/*
 * Leaf ids: out_leaf[i * n_trees + t] = node id (within tree t) of the leaf
 * row i lands in, like sklearn's apply(X). HELION_ERR_USAGE when unfitted.
 */
helion_status helion_forest_apply(const helion_forest_t *f, const double *X,
                                  size_t n, int32_t *out_leaf,
                                  helion_err_t *err);

/*
 * The node ids from the root to the leaf (both included) that the row `x`
 * visits in tree `tree`, like one row of sklearn's
 * estimators_[tree].decision_path(x). Writes *out_len ids into out_nodes.
 * HELION_ERR_LIMIT when the path is longer than `max` (the message says how
 * long; helion_forest_tree_depth() + 1 is always enough); HELION_ERR_USAGE
 * when unfitted or `tree` is out of range.
 */
helion_status helion_forest_decision_path(const helion_forest_t *f, size_t tree,
                                          const double *x, int32_t *out_nodes,
                                          size_t max, size_t *out_len,
                                          helion_err_t *err);

/*
 * Class-1 probability of the single tree `tree` for one row (sklearn's
 * estimators_[tree].predict_proba(x)[0, 1]). Meant for hot loops, so it
 * checks nothing an error would report: it returns NAN for a regressor, an
 * unfitted forest or an out-of-range tree.
 */
double helion_forest_tree_predict_proba(const helion_forest_t *f, size_t tree,
                                        const double *x);

/* Regressor counterpart: the leaf mean of tree `tree` for one row; NAN for a
 * classifier, an unfitted forest or an out-of-range tree. */
double helion_forest_tree_predict(const helion_forest_t *f, size_t tree,
                                  const double *x);

/*
 * Tree structure, for search heuristics and tests. Node ids are in
 * [0, helion_forest_tree_n_nodes()); out-of-range trees or nodes give the
 * "nothing" answer named per function.
 */
/* Node count of a tree (0 if out of range). */
size_t helion_forest_tree_n_nodes(const helion_forest_t *f, size_t tree);
/* Depth of the deepest leaf (root alone = 0; 0 if out of range). */
size_t helion_forest_tree_depth(const helion_forest_t *f, size_t tree);
/* Feature a node splits on; -1 for leaves (and out of range). */
int32_t helion_forest_node_feature(const helion_forest_t *f, size_t tree,
                                   int32_t node);
/* Split threshold (go left when x <= it); NAN for leaves. */
double helion_forest_node_threshold(const helion_forest_t *f, size_t tree,
                                    int32_t node);
/* Children ids; -1 for leaves. */
int32_t helion_forest_node_left(const helion_forest_t *f, size_t tree,
                                int32_t node);
int32_t helion_forest_node_right(const helion_forest_t *f, size_t tree,
                                 int32_t node);
/* Class-1 fraction or mean target of the node's samples (NAN if out of
 * range). Internal nodes have one too. */
double helion_forest_node_value(const helion_forest_t *f, size_t tree,
                                int32_t node);
/* Distinct in-bag rows that reached the node (sklearn's n_node_samples). */
size_t helion_forest_node_n_samples(const helion_forest_t *f, size_t tree,
                                    int32_t node);
/* Their total weight, bootstrap counts included
 * (sklearn's weighted_n_node_samples). */
double helion_forest_node_weight(const helion_forest_t *f, size_t tree,
                                 int32_t node);

#endif /* HELION_FOREST_H */
