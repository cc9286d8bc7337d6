/*
 * distill_fit.c: the two fits of distill.h. helion_distill_select picks the
 * config subset greedily (Helion's max_slowdown goal); helion_distill_fit
 * grows a cost-sensitive decision tree that maps a shape's features to one
 * of the selected configs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/distill.h"

#define BAD(...) helion_err_set(err, HELION_ERR_INVALID, __VA_ARGS__)

static double cell(const helion_distill_t *d, size_t s, size_t c) {
  return d->ms[s * d->nconfigs + c];
}

/* The matrix fields both fits read. A time must be positive (its log is
 * taken) or +inf (failed); anything else is a measuring bug upstream. */
static helion_status check_matrix(const helion_distill_t *d,
                                  helion_err_t *err) {
  if (!d->nshapes || !d->nconfigs || !d->ms)
    return BAD("distill: the time matrix is empty (%zu shapes x %zu configs)",
               d->nshapes, d->nconfigs);
  if (!(d->threshold >= 1.0))
    return BAD("distill: threshold %g: want a number >= 1 (1.05 = 5%% slower "
               "than the shape's best)",
               d->threshold);
  if (d->max_configs < 1)
    return BAD("distill: max_configs is 0: want at least 1 config");
  for (size_t s = 0; s < d->nshapes; s++)
    for (size_t c = 0; c < d->nconfigs; c++) {
      double v = cell(d, s, c);
      if (!(v > 0.0))
        return BAD("distill: ms[%zu][%zu] = %g: want a positive time or +inf "
                   "(failed)",
                   s, c, v);
    }
  return HELION_OK;
}

/* ------------------------------------------------------------- select -- */

/* What adding column c to the subset would give: the number of coverable
 * shapes within the threshold and the summed log slowdown over them (the
 * geometric mean times a constant, so it orders the same). */
static void score_column(const helion_distill_t *d, const double *best,
                         const double *cur, size_t c, size_t *out_n,
                         double *out_log) {
  size_t n = 0;
  double lg = 0.0;
  for (size_t s = 0; s < d->nshapes; s++) {
    if (!isfinite(best[s]))
      continue;
    double v = fmin(cur[s], cell(d, s, c));
    n += v / best[s] <= d->threshold;
    lg += log(v / best[s]);
  }
  *out_n = n;
  *out_log = lg;
}

/* The next column: the most shapes within the threshold, then the least
 * log slowdown, then the lowest index. Exact comparisons: the sums run
 * over the shapes in the same order for every column, so equal slowdowns
 * give equal sums. SIZE_MAX when every column is taken. */
static size_t pick_column(const helion_distill_t *d, const double *best,
                          const double *cur, const bool *taken) {
  size_t pick = SIZE_MAX, pick_n = 0;
  double pick_log = 0.0;
  for (size_t c = 0; c < d->nconfigs; c++) {
    if (taken[c])
      continue;
    size_t n;
    double lg;
    score_column(d, best, cur, c, &n, &lg);
    if (pick == SIZE_MAX || n > pick_n || (n == pick_n && lg < pick_log)) {
      pick = c;
      pick_n = n;
      pick_log = lg;
    }
  }
  return pick;
}

static bool all_within(const helion_distill_t *d, const double *best,
                       const double *cur) {
  for (size_t s = 0; s < d->nshapes; s++)
    if (isfinite(best[s]) && !(cur[s] / best[s] <= d->threshold))
      return false;
  return true;
}

helion_status helion_distill_select(helion_distill_t *d, helion_err_t *err) {
  helion_status rc = check_matrix(d, err);
  if (rc)
    return rc;
  double *best = malloc(d->nshapes * sizeof(*best));
  double *cur = malloc(d->nshapes * sizeof(*cur));
  bool *taken = calloc(d->nconfigs, sizeof(*taken));
  size_t *sel = malloc(d->nconfigs * sizeof(*sel));
  size_t nsel = 0, ncoverable = 0;
  if (!best || !cur || !taken || !sel) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t s = 0; s < d->nshapes; s++) {
    best[s] = cur[s] = INFINITY;
    for (size_t c = 0; c < d->nconfigs; c++)
      best[s] = fmin(best[s], cell(d, s, c));
    ncoverable += isfinite(best[s]) != 0;
  }
  /* An empty subset could not be written out (a results file's "selected"
   * holds 1 or more columns), and there is nothing to choose for. */
  if (!ncoverable) {
    rc = BAD("distill: no config runs any of the %zu shapes (every time is "
             "failed or illegal)",
             d->nshapes);
    goto out;
  }
  /* Each round adds a column that is some unsatisfied shape's best (that
   * one scores higher than any column that helps nobody), so this ends
   * after at most ncoverable rounds. */
  while (nsel < d->max_configs && !all_within(d, best, cur)) {
    size_t c = pick_column(d, best, cur, taken);
    if (c == SIZE_MAX)
      break;
    taken[c] = true;
    sel[nsel++] = c;
    for (size_t s = 0; s < d->nshapes; s++)
      cur[s] = fmin(cur[s], cell(d, s, c));
  }
  /* cur becomes the slowdown array; +inf stays +inf. */
  for (size_t s = 0; s < d->nshapes; s++)
    cur[s] = isfinite(cur[s]) ? cur[s] / best[s] : INFINITY;
  free(d->selected);
  free(d->slowdown);
  d->selected = sel;
  d->nselected = nsel;
  d->slowdown = cur;
  sel = NULL;
  cur = NULL;
  /* A tree fitted to an earlier subset could name columns no longer in it. */
  free(d->nodes);
  d->nodes = NULL;
  d->nnodes = 0;
out:
  free(best);
  free(cur);
  free(taken);
  free(sel);
  return rc;
}

/* ---------------------------------------------------------------- fit -- */

/*
 * The cost of giving a set of shapes one column: how many of them it fails
 * on, then the summed log slowdown over the rest, compared in that order.
 * A set with a failure costs more than any set without one (the "+inf" of
 * distill.h); counting the failures also orders two such sets, so a node
 * where every column fails somewhere still picks the least bad one.
 */
typedef struct cost {
  size_t nfail;
  double log;
} cost;

static bool cost_less(cost a, cost b) {
  return a.nfail != b.nfail ? a.nfail < b.nfail : a.log < b.log;
}

static cost cost_add(cost a, cost b) {
  return (cost){a.nfail + b.nfail, a.log + b.log};
}

typedef struct keyed {
  double v;
  size_t s;
} keyed;

typedef struct fitter {
  const helion_distill_t *d;
  double *best;    /* nshapes: the best time among the selected columns */
  size_t *idx;     /* training shapes; each node owns a contiguous run */
  size_t *tmp;     /* scratch for partitioning */
  keyed *sorted;   /* one feature's values of a node's shapes */
  cost *pre, *suf; /* (n + 1) * nselected running costs along `sorted` */
  helion_distill_node_t *nodes;
  size_t nnodes;
} fitter;

static cost shape_cost(const fitter *f, size_t s, size_t j) {
  double v = cell(f->d, s, f->d->selected[j]);
  return isfinite(v) ? (cost){0, log(v / f->best[s])} : (cost){1, 0.0};
}

/* The least of a row of nselected costs; ties go to the earlier selected. */
static size_t least(const cost *row, size_t nsel) {
  size_t k = 0;
  for (size_t j = 1; j < nsel; j++)
    if (cost_less(row[j], row[k]))
      k = j;
  return k;
}

/* The leaf for shapes idx[0..n): its position in d->selected. Uses
 * pre[0..nsel) as scratch. */
static size_t leaf_of(fitter *f, const size_t *idx, size_t n) {
  size_t nsel = f->d->nselected;
  for (size_t j = 0; j < nsel; j++) {
    f->pre[j] = (cost){0, 0.0};
    for (size_t i = 0; i < n; i++)
      f->pre[j] = cost_add(f->pre[j], shape_cost(f, idx[i], j));
  }
  return least(f->pre, nsel);
}

static bool leaf_is_good(const fitter *f, const size_t *idx, size_t n,
                         size_t j) {
  for (size_t i = 0; i < n; i++) {
    double v = cell(f->d, idx[i], f->d->selected[j]);
    if (!(v / f->best[idx[i]] <= f->d->threshold))
      return false;
  }
  return true;
}

static int keyed_cmp(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->v != y->v)
    return x->v < y->v ? -1 : 1;
  return x->s < y->s ? -1 : x->s > y->s;
}

/* Halfway between adjacent values a < b in log space when both are
 * positive, else in linear space. The rounding of sqrt could put it
 * outside [a, b); then a itself separates the two just as well. */
static double split_point(double a, double b) {
  double t = a > 0.0 && b > 0.0 ? sqrt(a * b) : (a + b) / 2.0;
  return a <= t && t < b ? t : a;
}

/* Sorts the node's shapes by feature `feat` and fills the prefix and
 * suffix costs of every selected column along that order, so each split's
 * children cost is two lookups. */
static void scan_feature(fitter *f, const size_t *idx, size_t n, size_t feat) {
  const helion_distill_t *d = f->d;
  size_t nsel = d->nselected;
  for (size_t i = 0; i < n; i++)
    f->sorted[i] = (keyed){
        helion_distill_feature(d->shapes + idx[i] * d->nkeys, d->nkeys, feat),
        idx[i]};
  qsort(f->sorted, n, sizeof(*f->sorted), keyed_cmp);
  for (size_t j = 0; j < nsel; j++) {
    f->pre[j] = (cost){0, 0.0};
    f->suf[n * nsel + j] = (cost){0, 0.0};
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < nsel; j++)
      f->pre[(i + 1) * nsel + j] =
          cost_add(f->pre[i * nsel + j], shape_cost(f, f->sorted[i].s, j));
  for (size_t i = n; i-- > 0;)
    for (size_t j = 0; j < nsel; j++)
      f->suf[i * nsel + j] = cost_add(f->suf[(i + 1) * nsel + j],
                                      shape_cost(f, f->sorted[i].s, j));
}

/* The least-cost split of shapes idx[0..n): every feature, every gap
 * between adjacent distinct values; ties go to the earlier feature, then
 * the lower threshold (the order they are tried in). False when all the
 * shapes share every feature value. */
static bool best_split(fitter *f, const size_t *idx, size_t n, int *out_feat,
                       double *out_t) {
  const helion_distill_t *d = f->d;
  size_t nsel = d->nselected, nf = helion_distill_nfeatures(d->nkeys);
  bool found = false;
  cost least_cost = {0, 0.0};
  for (size_t feat = 0; feat < nf; feat++) {
    scan_feature(f, idx, n, feat);
    for (size_t i = 0; i + 1 < n; i++) {
      double a = f->sorted[i].v, b = f->sorted[i + 1].v;
      if (!(a < b))
        continue;
      const cost *l = f->pre + (i + 1) * nsel, *r = f->suf + (i + 1) * nsel;
      cost c = cost_add(l[least(l, nsel)], r[least(r, nsel)]);
      if (!found || cost_less(c, least_cost)) {
        found = true;
        *out_feat = (int)feat;
        *out_t = split_point(a, b);
        least_cost = c;
      }
    }
  }
  return found;
}

/* Moves the shapes going left (feature <= t) to the front, keeping their
 * order; returns how many went left. */
static size_t partition(fitter *f, size_t *idx, size_t n, int feat, double t) {
  const helion_distill_t *d = f->d;
  size_t nl = 0, nr = 0;
  for (size_t i = 0; i < n; i++) {
    double v = helion_distill_feature(d->shapes + idx[i] * d->nkeys, d->nkeys,
                                      (size_t)feat);
    if (v <= t)
      idx[nl++] = idx[i];
    else
      f->tmp[nr++] = idx[i];
  }
  memcpy(idx + nl, f->tmp, nr * sizeof(*idx));
  return nl;
}

/*
 * Grows the subtree of shapes idx[0..n) at `depth`, appending its nodes
 * depth-first (parent first) and returning the root's index. A node that
 * is not yet good splits even when no split lowers the cost: a split never
 * raises it (each child can keep the parent's config), and an equal-cost
 * split is how a middle regime (A, then B, then A again along one feature)
 * is reached at the next level.
 */
static int grow(fitter *f, size_t *idx, size_t n, unsigned depth) {
  int at = (int)f->nnodes++;
  size_t j = leaf_of(f, idx, n);
  int feat = -1;
  double t = 0.0;
  if (n < 2 || depth >= f->d->max_depth || leaf_is_good(f, idx, n, j) ||
      !best_split(f, idx, n, &feat, &t)) {
    f->nodes[at] =
        (helion_distill_node_t){-1, 0.0, -1, -1, (int)f->d->selected[j]};
    return at;
  }
  size_t nl = partition(f, idx, n, feat, t);
  int l = grow(f, idx, nl, depth + 1);
  int r = grow(f, idx + nl, n - nl, depth + 1);
  f->nodes[at] = (helion_distill_node_t){feat, t, l, r, -1};
  return at;
}

static helion_status check_for_fit(const helion_distill_t *d,
                                   helion_err_t *err) {
  helion_status rc = check_matrix(d, err);
  if (rc)
    return rc;
  if (d->nkeys < 1 || d->nkeys > HELION_DISTILL_MAX_KEYS || !d->keys ||
      !d->shapes)
    return BAD("distill: want 1..%d shape keys and the shapes' values",
               HELION_DISTILL_MAX_KEYS);
  if (!d->nselected || !d->selected)
    return BAD("distill: no configs selected (run helion_distill_select "
               "first)");
  for (size_t j = 0; j < d->nselected; j++)
    if (d->selected[j] >= d->nconfigs)
      return BAD("distill: selected[%zu] = %zu is not a column (0..%zu)", j,
                 d->selected[j], d->nconfigs - 1);
  return HELION_OK;
}

/* Fills f->best and the training set f->idx; returns its size. Shapes no
 * selected column runs have nothing to learn from and stay out. */
static size_t training_set(fitter *f) {
  const helion_distill_t *d = f->d;
  size_t n = 0;
  for (size_t s = 0; s < d->nshapes; s++) {
    f->best[s] = INFINITY;
    for (size_t j = 0; j < d->nselected; j++)
      f->best[s] = fmin(f->best[s], cell(d, s, d->selected[j]));
    if (isfinite(f->best[s]))
      f->idx[n++] = s;
  }
  return n;
}

static void fitter_cleanup(fitter *f) {
  free(f->best);
  free(f->idx);
  free(f->tmp);
  free(f->sorted);
  free(f->pre);
  free(f->suf);
  free(f->nodes);
}

helion_status helion_distill_fit(helion_distill_t *d, helion_err_t *err) {
  helion_status rc = check_for_fit(d, err);
  if (rc)
    return rc;
  size_t ns = d->nshapes, nsel = d->nselected;
  /* A split leaves both sides non-empty, so n shapes make at most 2n - 1
   * nodes; an empty training set makes one leaf. */
  fitter f = {
      .d = d,
      .best = malloc(ns * sizeof(double)),
      .idx = malloc(ns * sizeof(size_t)),
      .tmp = malloc(ns * sizeof(size_t)),
      .sorted = malloc(ns * sizeof(keyed)),
      .pre = malloc((ns + 1) * nsel * sizeof(cost)),
      .suf = malloc((ns + 1) * nsel * sizeof(cost)),
      .nodes = malloc(2 * ns * sizeof(helion_distill_node_t)),
  };
  if (!f.best || !f.idx || !f.tmp || !f.sorted || !f.pre || !f.suf ||
      !f.nodes) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  grow(&f, f.idx, training_set(&f), 0);
  free(d->nodes);
  d->nodes = f.nodes;
  d->nnodes = f.nnodes;
  f.nodes = NULL;
out:
  fitter_cleanup(&f);
  return rc;
}
