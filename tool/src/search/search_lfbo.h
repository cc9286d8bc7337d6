/*
 * search_lfbo.h: the pieces of the surrogate searches (search_lfbo.c,
 * search_de_surrogate.c) that are pure functions of their inputs, exposed so
 * the unit tests can check them on hand-computed examples and the overhead
 * benchmark can time them. The searches themselves are run through the
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

#endif /* HELION_SEARCH_LFBO_H */
