/*
 * search_lfbo.h: the pieces of the surrogate searches (search_lfbo.c,
 * search_lfbo_model.c, search_de_surrogate.c) that are pure functions of
 * their inputs, exposed so the unit tests can check them on hand-computed
 * examples and the overhead benchmark can time them, and (at the end) what
 * the two LFBO files share. The searches themselves are run through the
 * registry (search.h).
 */
#ifndef HELION_SEARCH_LFBO_H
#define HELION_SEARCH_LFBO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search/forest.h"
#include "search/search.h"
#include "model/space.h"

/*
 * numpy.quantile(v, q) with linear interpolation over the n values of v
 * (which must be finite; n >= 1): position (n-1)*q in sorted order, the two
 * neighbours mixed by its fraction. `scratch` has room for n doubles.
 */
double helion__lfbo_quantile(const double *v, size_t n, double q,
                             double *scratch);

/*
 * LFBO's labels and sample weights (reference §2.4): q = the `quantile` of
 * the finite perfs; label 1 where y <= q, else 0 (+inf is a negative); a
 * positive weighs max(1e-5, q - y) divided by the mean of that over all
 * positives, a negative weighs 1. With no finite perf every label is 0 and
 * every weight 1. Writes n labels and n weights, and *out_q (NAN when no
 * perf is finite). Returns the number of positives. Allocates nothing
 * beyond an n-double scratch it frees; returns SIZE_MAX when that fails.
 */
size_t helion__lfbo_labels(const double *y, size_t n, double quantile,
                           double *labels, double *weights, double *out_q);

/*
 * surrogate_select (reference §2.4): picks k of n candidates greedily: first
 * the highest p; then each time the remaining candidate with the highest
 * p_i - penalty * (sum over selected s of sim(i, s)) / |selected|, where
 * sim(i, s) is the fraction of the ntrees trees in which i and s share a
 * leaf (leaves: n rows of ntrees leaf ids). The first index wins ties.
 * Writes the picked indices in selection order to out (room for k) and
 * returns min(k, n). `scratch` has room for 2n doubles.
 */
size_t helion__lfbo_select(const double *p, const int32_t *leaves, size_t n,
                           size_t ntrees, double penalty, size_t k, size_t *out,
                           double *scratch);

/*
 * Fits the k forests parts[0..k) (1 <= k <= 8) on the same data, as
 * helion_forest_fit() would one after the other, but each in its own
 * thread (part 0 in the caller's). Forests of different seeds fitted this
 * way make up one larger forest: the searches grow their forests as two
 * halves to use two cores. Returns the first part's error, if any.
 */
helion_status helion__forest_fit_parts(helion_forest_t *const *parts, size_t k,
                                       const double *X, size_t n, size_t d,
                                       const double *y, const double *w,
                                       helion_err_t *err);

/*
 * One generation's surrogate work of LFBOPatternSearch/LFBOTreeSearch on
 * given data, for the overhead benchmark: fits the classifier on the n
 * observations (rows of space->enc_dim features, perfs y), then `copies`
 * times generates `num_neighbors` neighbours of `base` (tree-guided when
 * `tree`, else random) and selects 10% of them, then screens 200 random
 * configs and selects 1 (the global proposals). Writes the seconds spent
 * fitting, generating neighbours and selecting (summed over the copies).
 */
helion_status helion__lfbo_overhead_step(
    const helion_space_t *space, const double *X, const double *y, size_t n,
    const int64_t *base, size_t num_neighbors, size_t copies, bool tree,
    uint64_t seed, double out_seconds[3], helion_err_t *err);


/* ------------------------------------------------------------------------
 * Shared by the two files of the LFBO searches only: search_lfbo.c (the
 * options and the search loop) and search_lfbo_model.c (the classifier,
 * neighbour generation and selection).
 */

/*
 * The classifier: Helion's 100-tree forest, grown as LFBO_PARTS forests of
 * 100 / LFBO_PARTS trees (seeds 42, 43, ...) fitted in parallel threads.
 * Trees of a random forest are independent draws, so the union is a
 * 100-tree forest like any other; the split keeps the fit within the
 * overhead target on a 2-core machine. The result does not depend on the
 * number of threads: the parts are the same whether fitted in parallel or
 * one after the other.
 */
#define LFBO_PARTS 2

typedef struct helion_lfbo_surrogate {
  helion_forest_t *part[LFBO_PARTS];
  size_t ntrees; /* over all parts */
  double quantile;
  bool fitted; /* false: the labels were all equal (or no data) */
  size_t d;
  double *X, *y, *labels, *weights;
  size_t n, cap;
} helion_lfbo_surrogate_t;

/* Scratch of the neighbour generators; needs no search, so the overhead
 * benchmark can drive it too. */
typedef struct helion_lfbo_gen {
  const helion_space_t *space;
  const helion_lfbo_surrogate_t *sur; /* fitted, or NULL */
  helion_rng_t *rng;
  size_t ncells, d;
  /* Per-slot neighbour lists of the base (random_neighbors). */
  int64_t *lists;
  size_t lists_cap;
  size_t *loff, *lcount;
  /* One slot's neighbours (tree walk). */
  int64_t *one;
  size_t one_cap;
  size_t *other; /* non-block, non-warps slots with neighbours */
  size_t *path_slots;
  bool *on_path;
  int32_t *path;
  size_t path_cap;
  double *enc;
  int64_t *cur;
  /* Output: the raw neighbours. */
  int64_t *out;
  size_t nout, out_cap;
} helion_lfbo_gen_t;

/* Scratch of surrogate_select over candidate configs. */
typedef struct helion_lfbo_selector {
  double *X, *p, *scratch;
  int32_t *leaves, *part_leaves;
  size_t *order;
  size_t cap;
} helion_lfbo_selector_t;

/* Creates the classifier's parts (u zeroed by the caller). */
helion_status helion__lfbo_sur_create(helion_lfbo_surrogate_t *u,
                                      helion_err_t *err);
/* Appends one measured config to the training data. */
helion_status helion__lfbo_sur_add(helion_lfbo_surrogate_t *u,
                                   const helion_space_t *sp,
                                   const int64_t *cells, double perf);
/* Labels the training data and refits; u->fitted says whether it could. */
helion_status helion__lfbo_sur_fit(helion_lfbo_surrogate_t *u, bool log,
                                   helion_err_t *err);
void helion__lfbo_sur_cleanup(helion_lfbo_surrogate_t *u);
helion_status helion__lfbo_gen_init(helion_lfbo_gen_t *g,
                                    const helion_space_t *space,
                                    helion_rng_t *rng);
void helion__lfbo_gen_cleanup(helion_lfbo_gen_t *g);
/* Neighbours of base into g->out: random_neighbors (reference §2.4) and
 * LFBOTreeSearch's walks along g->sur's decision paths (§2.5). */
helion_status helion__lfbo_random_neighbors(helion_lfbo_gen_t *g,
                                            const int64_t *base, size_t count,
                                            int radius);
helion_status helion__lfbo_tree_neighbors(helion_lfbo_gen_t *g,
                                          const int64_t *base, size_t count,
                                          int radius);
void helion__lfbo_sel_cleanup(helion_lfbo_selector_t *s);
/* surrogate_select: the indices (into cands) of the k picked, in order,
 * into sel->order, and their number in *out_k. Without a fitted surrogate a
 * uniform random subset of k. */
helion_status helion__lfbo_select_cands(helion_lfbo_selector_t *sel,
                                        const helion_space_t *sp,
                                        const helion_lfbo_surrogate_t *u,
                                        helion_rng_t *rng,
                                        const int64_t *cands, size_t n,
                                        size_t k, double penalty,
                                        size_t *out_k, helion_err_t *err);

#endif /* HELION_SEARCH_LFBO_H */
