/*
 * forest.c: random forests of CART trees (binary classifier and regressor)
 * grown like scikit-learn's, fast enough to refit every search generation.
 *
 * Speed comes from sorting each feature once per fit. A tree keeps, per
 * feature, the in-bag rows in that feature's order; a node owns the same
 * range [start, end) of every one of these arrays, and a split partitions
 * each array stably, so children stay sorted without sorting again. Split
 * search is one pass with running sums. All memory of a fit is allocated
 * before the first tree; nodes live in flat arrays.
 *
 * For the classifier the pass also skips candidates that cannot win: moving
 * samples of one class from the right child to the left one changes the
 * weighted child impurity (gini or entropy) concavely, so among the cuts
 * inside a run of same-label samples only the first and the last can be
 * best (others can at most tie). Only those are scored, which saves many of
 * the logarithms; an exhaustive scan grew bit-identical forests on the
 * data tried during development. Entropy uses a logarithm built from
 * + - * only, so the trees do not depend on the libm.
 */
#include "search/forest.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* sklearn's FEATURE_THRESHOLD: values closer than this count as equal. */
#define FEATURE_EPS 1e-7

/* Entries of the logarithm table (see det_log). */
#define LOG_TABLE_BITS 7
#define LOG_TABLE_SIZE (1 << LOG_TABLE_BITS)

/* Clang may fuse a * b + c into one rounding where the target has FMA, which
 * would make split scores (and so trees) differ between machines; GCC in
 * ISO C mode does not fuse. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct node {
  double threshold; /* NAN for leaves */
  double value;     /* class-1 fraction or mean target */
  double weight;    /* total weight of the node's in-bag samples */
  int32_t feature;  /* -1 for leaves */
  int32_t left, right;
  int32_t n_samples;
} node_t;

struct helion_forest {
  helion_forest_params_t p;
  size_t n_trees; /* 0 until fitted */
  size_t d;
  node_t *nodes;    /* all trees, tree t at nodes + tree_off[t] */
  size_t *tree_off; /* n_trees + 1 offsets */
  uint32_t *tree_depth;
};

/* One pending node of the depth-first build. */
typedef struct frame {
  int32_t start, end;
  int32_t parent; /* -1 for the root */
  uint32_t depth;
  uint32_t n_const; /* features known constant in this node */
  uint8_t is_left;
  bool leaf;
  double W, S, S2; /* sums of w, w * y, w * y * y over the node's rows */
} frame_t;

/* The best split found in a node. */
typedef struct split {
  int32_t feature; /* -1: none found */
  int32_t pos;     /* left child = [start, pos) */
  double threshold;
  double proxy;
} split_t;

/* A row's weight in the current tree and its weight times y, side by side
 * because the split scan reads both. For the classifier, wy != 0 is the
 * label (in-bag rows weigh > 0). */
typedef struct row {
  double w, wy;
} row_t;

/* Everything one fit needs, allocated once. */
typedef struct work {
  const helion_forest_params_t *p;
  size_t n, d, max_features;
  bool classify;
  double *xc;     /* d * n, column-major copy of X */
  int32_t *order; /* d * n, rows sorted by each feature */
  const double *y;
  row_t *rows;        /* n, this tree's weights per row */
  double *wyy;        /* n, w * y * y (regression) */
  int32_t *idx;       /* d * n, this tree's in-bag rows per feature, sorted */
  int32_t *tmp;       /* n */
  uint8_t *goes_left; /* n */
  int32_t *features;  /* d */
  int32_t *const_features; /* d */
  frame_t *stack;          /* n + 2 */
  node_t *tnodes;          /* 2n, the tree being built */
  size_t tn_len;
  helion_rng_t rng;
  double log_invc[LOG_TABLE_SIZE]; /* see det_log */
  double log_c[LOG_TABLE_SIZE];
  double *xlogx_int; /* n + 1: k ln k for whole k (see xlogx) */
} work_t;

/* ------------------------------------------------------------ params */

void helion_forest_params_lfbo(helion_forest_params_t *p) {
  memset(p, 0, sizeof(*p));
  p->task = HELION_FOREST_CLASSIFY;
  p->n_estimators = 100;
  p->max_depth = 0;
  p->min_samples_split = 2;
  p->min_samples_leaf = 1;
  p->max_features_mode = HELION_FOREST_MAX_FEATURES_SQRT;
  p->max_features = 1.0;
  p->bootstrap = true;
  p->criterion = HELION_FOREST_LOG_LOSS;
  p->seed = 42;
}

void helion_forest_params_de_hybrid(helion_forest_params_t *p) {
  memset(p, 0, sizeof(*p));
  p->task = HELION_FOREST_REGRESS;
  p->n_estimators = 50;
  p->max_depth = 15;
  p->min_samples_split = 5;
  p->min_samples_leaf = 2;
  p->max_features_mode = HELION_FOREST_MAX_FEATURES_FRACTION;
  p->max_features = 1.0;
  p->bootstrap = true;
  p->criterion = HELION_FOREST_MSE;
  p->seed = 42;
}

helion_status helion_forest_create(const helion_forest_params_t *p,
                                   helion_forest_t **out, helion_err_t *err) {
  const char *what = NULL;
  if (p->task != HELION_FOREST_CLASSIFY && p->task != HELION_FOREST_REGRESS)
    what = "task must be HELION_FOREST_CLASSIFY or HELION_FOREST_REGRESS";
  else if (p->n_estimators == 0 || p->n_estimators > INT32_MAX)
    what = "n_estimators must be in [1, 2^31)";
  else if (p->min_samples_split < 2)
    what = "min_samples_split must be at least 2";
  else if (p->min_samples_leaf < 1)
    what = "min_samples_leaf must be at least 1";
  else if (p->max_features_mode != HELION_FOREST_MAX_FEATURES_FRACTION &&
           p->max_features_mode != HELION_FOREST_MAX_FEATURES_SQRT)
    what = "max_features_mode must be FRACTION or SQRT";
  else if (p->max_features_mode == HELION_FOREST_MAX_FEATURES_FRACTION &&
           !(p->max_features > 0.0 && p->max_features <= 1.0))
    what = "max_features must be in (0, 1]";
  else if (p->task == HELION_FOREST_CLASSIFY &&
           p->criterion != HELION_FOREST_GINI &&
           p->criterion != HELION_FOREST_LOG_LOSS)
    what = "a classifier's criterion must be GINI or LOG_LOSS";
  else if (p->task == HELION_FOREST_REGRESS &&
           p->criterion != HELION_FOREST_MSE)
    what = "a regressor's criterion must be MSE";
  if (what)
    return helion_err_set(err, HELION_ERR_INVALID, "forest parameters: %s",
                          what);
  helion_forest_t *f = calloc(1, sizeof(*f));
  if (!f)
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "forest: out of memory creating the forest");
  f->p = *p;
  *out = f;
  return HELION_OK;
}

static void free_trees(helion_forest_t *f) {
  free(f->nodes);
  free(f->tree_off);
  free(f->tree_depth);
  f->nodes = NULL;
  f->tree_off = NULL;
  f->tree_depth = NULL;
  f->n_trees = 0;
  f->d = 0;
}

void helion_forest_destroy(helion_forest_t *f) {
  if (!f)
    return;
  free_trees(f);
  free(f);
}

/* --------------------------------------------------------- presorting */

typedef struct keyed {
  double v;
  int32_t i;
} keyed_t;

/* Orders by value, then by row, so the order is total and the same on every
 * machine whatever qsort does with equal keys. */
static int keyed_cmp(const void *a, const void *b) {
  const keyed_t *ka = a, *kb = b;
  if (ka->v < kb->v)
    return -1;
  if (ka->v > kb->v)
    return 1;
  return (ka->i > kb->i) - (ka->i < kb->i);
}

/* -------------------------------------------------------- split search */

/*
 * Natural logarithm from + - * only, so entropies (and the trees chosen by
 * them) are the same bits under every libm; it is as fast as glibc's
 * log(). x = 2^e * m with m in [1, 2); c = the centre of m's 1/128 bucket;
 * ln x = e ln 2 + ln(1/invc) + ln(m * invc), where invc ~ 1/c is stored
 * rounded together with the exact-to-an-ulp ln(1/invc), and |m * invc - 1|
 * <= 2^-8 needs five series terms for double precision. Subnormals (never a
 * sensible weight) go to log().
 */
static double det_log(const work_t *ws, double x) {
  if (x < DBL_MIN)
    return log(x);
  uint64_t b;
  memcpy(&b, &x, sizeof(b));
  int e = (int)(b >> 52) - 1023;
  unsigned j = (unsigned)(b >> (52 - LOG_TABLE_BITS)) & (LOG_TABLE_SIZE - 1);
  uint64_t mb = (b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m;
  memcpy(&m, &mb, sizeof(m));
  double r = m * ws->log_invc[j] - 1.0;
  double r2 = r * r;
  double p = r - 0.5 * r2 +
             r2 * r * (1.0 / 3.0 - 0.25 * r + 0.2 * r2 - (1.0 / 6.0) * r2 * r);
  return (double)e * 0.69314718055994530942 + ws->log_c[j] + p;
}

/* ln z for z in [0.5, 2] by the atanh series, to build the table. */
static double series_log(double z) {
  double s = (z - 1.0) / (z + 1.0), s2 = s * s, term = s, sum = 0.0;
  for (int k = 0; k < 40; k++) {
    sum += term / (double)(2 * k + 1);
    term *= s2;
  }
  return 2.0 * sum;
}

static void log_table_init(work_t *ws) {
  for (int j = 0; j < LOG_TABLE_SIZE; j++) {
    double c = 1.0 + ((double)j + 0.5) / (double)LOG_TABLE_SIZE;
    ws->log_invc[j] = 1.0 / c;
    ws->log_c[j] = -series_log(ws->log_invc[j]);
  }
}

/* x ln x, 0 at 0. Without sample weights (and for the unit weights of
 * LFBO's negatives) every class weight is a whole number of bootstrap draws
 * up to n, so a table answers most calls. */
static double xlogx(const work_t *ws, double x) {
  if (x <= (double)ws->n) {
    int32_t k = (int32_t)x;
    if ((double)k == x)
      return ws->xlogx_int[k];
  }
  return x > 0.0 ? x * det_log(ws, x) : 0.0;
}

/* Entropy part of one child: sum_k w_k ln(w_k / w) = sum_k w_k ln w_k -
 * w ln w (<= 0). The missing negation and log base do not change which split
 * is best. */
static double ent_term(const work_t *ws, double w1, double w) {
  double w0 = w - w1;
  if (!(w1 > 0.0 && w0 > 0.0))
    return 0.0;
  return xlogx(ws, w1) + xlogx(ws, w0) - xlogx(ws, w);
}

/* Proxy of the impurity decrease (larger is better) of a cut whose left
 * child has weight wl and weighted class-1 / target sum sl, sklearn's
 * proxy_impurity_improvement: the terms every split of the node shares are
 * dropped. */
static double proxy_of(const work_t *ws, double wl, double sl, double W,
                       double S) {
  double wr = W - wl, sr = S - sl;
  switch (ws->p->criterion) {
  case HELION_FOREST_GINI: {
    double l0 = wl - sl, r0 = wr - sr;
    return (sl * sl + l0 * l0) / wl + (sr * sr + r0 * r0) / wr;
  }
  case HELION_FOREST_LOG_LOSS:
    return ent_term(ws, sl, wl) + ent_term(ws, sr, wr);
  case HELION_FOREST_MSE:
  default:
    return sl * sl / wl + sr * sr / wr;
  }
}

/* sklearn's threshold: the midpoint, or the lower value when the midpoint
 * rounds up to the upper one. */
static double midpoint(double a, double b) {
  double t = a / 2.0 + b / 2.0;
  if (t == b || isinf(t))
    t = a;
  return t;
}

static void consider(const work_t *ws, const int32_t *ix, const double *xc,
                     int32_t feat, int32_t pos, double wl, double sl, double W,
                     double S, split_t *best) {
  double proxy = proxy_of(ws, wl, sl, W, S);
  if (proxy > best->proxy || best->feature < 0) {
    best->proxy = proxy;
    best->feature = feat;
    best->pos = pos;
    best->threshold = midpoint(xc[ix[pos - 1]], xc[ix[pos]]);
  }
}

/* Scores the cuts of one feature in [start, end). */
static void scan_feature(const work_t *ws, int32_t feat, int32_t start,
                         int32_t end, double W, double S, split_t *best) {
  const int32_t *ix = ws->idx + (size_t)feat * ws->n;
  const double *xc = ws->xc + (size_t)feat * ws->n;
  const row_t *rows = ws->rows;
  int32_t msl = (int32_t)ws->p->min_samples_leaf;
  int32_t lo = start + msl, hi = end - msl; /* valid cut positions */
  double wl = 0.0, sl = 0.0;

  if (!ws->classify) {
    /* Every cut is scored, so the score is inlined here; a cut at k + 1 is
     * valid for k + 1 in [lo, hi], and hi <= end - 1. */
    double best_proxy = best->proxy;
    int32_t best_pos = -1;
    for (int32_t k = start; k < hi; k++) {
      int32_t i = ix[k];
      wl += rows[i].w;
      sl += rows[i].wy;
      if (k + 1 < lo || xc[ix[k + 1]] <= xc[i] + FEATURE_EPS)
        continue;
      double wr = W - wl, sr = S - sl;
      double proxy = sl * sl / wl + sr * sr / wr;
      if (proxy > best_proxy) {
        best_proxy = proxy;
        best_pos = k + 1;
      }
    }
    if (best_pos >= 0) {
      best->proxy = best_proxy;
      best->feature = feat;
      best->pos = best_pos;
      best->threshold = midpoint(xc[ix[best_pos - 1]], xc[ix[best_pos]]);
    }
    return;
  }

  /* Classifier: score the first and last valid cut of each same-label run
   * (see the file comment); `pend` is the last valid cut not scored yet. */
  bool fresh = true, have_pend = false;
  int32_t pend_pos = 0;
  double pend_wl = 0.0, pend_sl = 0.0;
  for (int32_t k = start; k < end - 1; k++) {
    int32_t i = ix[k], inext = ix[k + 1];
    wl += rows[i].w;
    sl += rows[i].wy;
    int32_t pos = k + 1;
    bool label_change = (rows[i].wy != 0.0) != (rows[inext].wy != 0.0);
    bool cut = pos >= lo && pos <= hi && xc[inext] > xc[i] + FEATURE_EPS;
    if (label_change) {
      if (cut) {
        /* Last cut of this run and first of the next: a pending one lies
         * strictly inside the run and cannot beat both ends. */
        consider(ws, ix, xc, feat, pos, wl, sl, W, S, best);
        fresh = false;
      } else {
        if (have_pend)
          consider(ws, ix, xc, feat, pend_pos, pend_wl, pend_sl, W, S, best);
        fresh = true;
      }
      have_pend = false;
    } else if (cut) {
      if (fresh) {
        consider(ws, ix, xc, feat, pos, wl, sl, W, S, best);
        fresh = false;
      } else {
        have_pend = true;
        pend_pos = pos;
        pend_wl = wl;
        pend_sl = sl;
      }
    }
  }
  if (have_pend)
    consider(ws, ix, xc, feat, pend_pos, pend_wl, pend_sl, W, S, best);
}

static void swap32(int32_t *a, int32_t *b) {
  int32_t t = *a;
  *a = *b;
  *b = t;
}

/*
 * sklearn's BestSplitter feature loop: draw features without replacement
 * until max_features non-constant ones were scored (drawing on past that
 * while only constants turned up). Features known constant from the parent
 * sit at the front of `features` and are skipped; new constants join them
 * and are handed to the children through *n_const.
 */
static void find_split(work_t *ws, int32_t start, int32_t end, double W,
                       double S, uint32_t *n_const, split_t *best) {
  int32_t *features = ws->features, *cf = ws->const_features;
  size_t f_i = ws->d;
  size_t n_known = *n_const, n_total = n_known;
  size_t n_drawn = 0, n_found = 0, n_visited = 0;

  best->feature = -1;
  best->proxy = -INFINITY;
  while (f_i > n_total &&
         (n_visited < ws->max_features || n_visited <= n_found + n_drawn)) {
    n_visited++;
    size_t f_j =
        n_drawn + (size_t)helion_rng_below(&ws->rng, f_i - n_found - n_drawn);
    if (f_j < n_known) {
      swap32(&features[n_drawn], &features[f_j]);
      n_drawn++;
      continue;
    }
    f_j += n_found;
    int32_t feat = features[f_j];
    const int32_t *ix = ws->idx + (size_t)feat * ws->n;
    const double *xc = ws->xc + (size_t)feat * ws->n;
    if (xc[ix[end - 1]] <= xc[ix[start]] + FEATURE_EPS) {
      swap32(&features[f_j], &features[n_total]);
      n_found++;
      n_total++;
      continue;
    }
    f_i--;
    swap32(&features[f_i], &features[f_j]);
    scan_feature(ws, feat, start, end, W, S, best);
  }
  /* Restore the parent's constants at the front and record the new ones
   * after them, for the children (sklearn does the same two copies). */
  memcpy(features, cf, n_known * sizeof(*features));
  memcpy(cf + n_known, features + n_known, n_found * sizeof(*features));
  *n_const = (uint32_t)n_total;
}

/* Partitions every feature's rows in [start, end) stably into those going
 * left (goes_left set) and the rest. */
static void partition(work_t *ws, const split_t *s, int32_t start,
                      int32_t end) {
  const int32_t *bix = ws->idx + (size_t)s->feature * ws->n;
  for (int32_t k = start; k < s->pos; k++)
    ws->goes_left[bix[k]] = 1;
  for (int32_t k = s->pos; k < end; k++)
    ws->goes_left[bix[k]] = 0;
  for (size_t j = 0; j < ws->d; j++) {
    if ((int32_t)j == s->feature)
      continue; /* already in order: the cut is a position in it */
    int32_t *ix = ws->idx + j * ws->n;
    int32_t nl = start, nr = 0;
    /* Branch-free: the direction is a coin flip the predictor cannot learn.
     * Writing ix[nl] in place is safe because nl <= k. */
    for (int32_t k = start; k < end; k++) {
      int32_t i = ix[k];
      int32_t g = ws->goes_left[i];
      ix[nl] = i;
      ws->tmp[nr] = i;
      nl += g;
      nr += g ^ 1;
    }
    memcpy(ix + nl, ws->tmp, (size_t)nr * sizeof(*ix));
  }
}

/* ---------------------------------------------------------- tree build */

/* Sums a node's weights and targets over rows ix[start, end). */
static void sum_range(const work_t *ws, const int32_t *ix, int32_t start,
                      int32_t end, frame_t *fr) {
  double W = 0.0, S = 0.0, S2 = 0.0;
  for (int32_t k = start; k < end; k++) {
    int32_t i = ix[k];
    W += ws->rows[i].w;
    S += ws->rows[i].wy;
    S2 += ws->wyy[i];
  }
  fr->W = W;
  fr->S = S;
  fr->S2 = S2;
}

/* sklearn's stopping rules: depth, sample counts and a pure node. */
static bool is_leaf(const work_t *ws, const frame_t *fr) {
  const helion_forest_params_t *p = ws->p;
  size_t nn = (size_t)(fr->end - fr->start);
  if ((p->max_depth > 0 && fr->depth >= p->max_depth) ||
      nn < p->min_samples_split || nn < 2 * p->min_samples_leaf)
    return true;
  double impurity;
  if (ws->classify) {
    double p1 = fr->S / fr->W, p0 = 1.0 - p1;
    if (p->criterion == HELION_FOREST_GINI)
      impurity = 1.0 - p1 * p1 - p0 * p0;
    else
      impurity = -ent_term(ws, fr->S, fr->W) / fr->W;
  } else {
    double mean = fr->S / fr->W;
    impurity = fr->S2 / fr->W - mean * mean;
  }
  return impurity <= DBL_EPSILON;
}

/* Grows one tree into ws->tnodes; returns its depth. `prior` is the value
 * of the lone leaf when no row is in the bag (all drawn rows weigh 0). */
static uint32_t build_tree(work_t *ws, const double *sw, uint64_t seed,
                           double prior) {
  const helion_forest_params_t *p = ws->p;
  size_t n = ws->n, d = ws->d;
  uint32_t max_depth_seen = 0;

  helion_rng_seed(&ws->rng, seed);
  /* Bootstrap counts become weight multipliers, as in sklearn. */
  row_t *rows = ws->rows;
  if (p->bootstrap) {
    for (size_t i = 0; i < n; i++)
      rows[i].w = 0.0;
    for (size_t k = 0; k < n; k++)
      rows[helion_rng_below(&ws->rng, n)].w += 1.0;
  } else {
    for (size_t i = 0; i < n; i++)
      rows[i].w = 1.0;
  }
  for (size_t i = 0; i < n; i++) {
    if (sw)
      rows[i].w *= sw[i];
    rows[i].wy = rows[i].w * ws->y[i];
    ws->wyy[i] = rows[i].wy * ws->y[i];
  }
  int32_t m = 0;
  for (size_t j = 0; j < d; j++) {
    const int32_t *ord = ws->order + j * n;
    int32_t *ix = ws->idx + j * n;
    m = 0;
    for (size_t k = 0; k < n; k++) {
      ix[m] = ord[k];
      m += rows[ord[k]].w > 0.0;
    }
  }
  for (size_t j = 0; j < d; j++)
    ws->features[j] = ws->const_features[j] = (int32_t)j;

  ws->tn_len = 0;
  if (m == 0) {
    node_t *nd = &ws->tnodes[ws->tn_len++];
    *nd = (node_t){.threshold = NAN,
                   .value = prior,
                   .weight = 0.0,
                   .feature = -1,
                   .left = -1,
                   .right = -1,
                   .n_samples = 0};
    return 0;
  }

  size_t sp = 0;
  frame_t root = {.start = 0, .end = m, .parent = -1};
  sum_range(ws, ws->idx, 0, m, &root);
  root.leaf = is_leaf(ws, &root);
  ws->stack[sp++] = root;
  while (sp > 0) {
    frame_t fr = ws->stack[--sp];
    int32_t id = (int32_t)ws->tn_len++;
    node_t *nd = &ws->tnodes[id];
    *nd = (node_t){.threshold = NAN,
                   .value = fr.S / fr.W,
                   .weight = fr.W,
                   .feature = -1,
                   .left = -1,
                   .right = -1,
                   .n_samples = fr.end - fr.start};
    if (fr.parent >= 0) {
      if (fr.is_left)
        ws->tnodes[fr.parent].left = id;
      else
        ws->tnodes[fr.parent].right = id;
    }
    if (fr.depth > max_depth_seen)
      max_depth_seen = fr.depth;
    if (fr.leaf)
      continue;

    split_t best;
    uint32_t n_const = fr.n_const;
    find_split(ws, fr.start, fr.end, fr.W, fr.S, &n_const, &best);
    if (best.feature < 0)
      continue;
    nd->feature = best.feature;
    nd->threshold = best.threshold;
    frame_t l = {.start = fr.start,
                 .end = best.pos,
                 .parent = id,
                 .depth = fr.depth + 1,
                 .n_const = n_const,
                 .is_left = 1};
    frame_t r = {.start = best.pos,
                 .end = fr.end,
                 .parent = id,
                 .depth = fr.depth + 1,
                 .n_const = n_const,
                 .is_left = 0};
    const int32_t *bix = ws->idx + (size_t)best.feature * n;
    sum_range(ws, bix, l.start, l.end, &l);
    sum_range(ws, bix, r.start, r.end, &r);
    l.leaf = is_leaf(ws, &l);
    r.leaf = is_leaf(ws, &r);
    /* Leaves never read their rows, so two leaf children need no
     * partition. */
    if (!l.leaf || !r.leaf)
      partition(ws, &best, fr.start, fr.end);
    /* Right first, so the left child is popped next: preorder ids. */
    ws->stack[sp++] = r;
    ws->stack[sp++] = l;
  }
  return max_depth_seen;
}

/* ----------------------------------------------------------------- fit */

static helion_status check_inputs(const helion_forest_t *f, const double *X,
                                  size_t n, size_t d, const double *y,
                                  const double *sw, helion_err_t *err) {
  if (n == 0 || d == 0)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "forest fit: %zu rows of %zu features; need at "
                          "least one row and one feature",
                          n, d);
  if (n > (size_t)INT32_MAX / 2 || d > (size_t)INT32_MAX ||
      n > SIZE_MAX / sizeof(double) / d)
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "forest fit: %zu rows of %zu features is too many", n,
                          d);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      if (!isfinite(X[i * d + j]))
        return helion_err_set(err, HELION_ERR_INVALID,
                              "forest fit: X[%zu][%zu] is not finite; "
                              "encode failed or missing values as numbers",
                              i, j);
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (f->p.task == HELION_FOREST_CLASSIFY) {
      if (y[i] != 0.0 && y[i] != 1.0)
        return helion_err_set(err, HELION_ERR_INVALID,
                              "forest fit: label %zu is %g; a classifier "
                              "takes labels 0 and 1 only",
                              i, y[i]);
    } else if (!isfinite(y[i])) {
      return helion_err_set(err, HELION_ERR_INVALID,
                            "forest fit: target %zu is not finite; drop "
                            "rows with infinite or NaN targets",
                            i);
    }
    if (sw) {
      if (!isfinite(sw[i]) || sw[i] < 0.0)
        return helion_err_set(err, HELION_ERR_INVALID,
                              "forest fit: sample_weight[%zu] is %g; "
                              "weights must be finite and >= 0",
                              i, sw[i]);
      total += sw[i];
    }
  }
  if (sw && !(total > 0.0))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "forest fit: the sample weights sum to 0; give at "
                          "least one row a positive weight");
  return HELION_OK;
}

static void work_free(work_t *ws) {
  free(ws->xc);
  free(ws->order);
  free(ws->rows);
  free(ws->wyy);
  free(ws->idx);
  free(ws->tmp);
  free(ws->goes_left);
  free(ws->features);
  free(ws->const_features);
  free(ws->stack);
  free(ws->tnodes);
  free(ws->xlogx_int);
}

helion_status helion_forest_fit(helion_forest_t *f, const double *X, size_t n,
                                size_t d, const double *y,
                                const double *sample_weight,
                                helion_err_t *err) {
  helion_status rc = HELION_OK;
  work_t ws = {0};
  keyed_t *keys = NULL;
  node_t *nodes = NULL;
  size_t *tree_off = NULL;
  uint32_t *tree_depth = NULL;
  size_t T = f->p.n_estimators, cap = 0, len = 0;

  rc = check_inputs(f, X, n, d, y, sample_weight, err);
  if (rc)
    goto out;

  ws.p = &f->p;
  log_table_init(&ws);
  ws.n = n;
  ws.d = d;
  ws.y = y;
  ws.classify = f->p.task == HELION_FOREST_CLASSIFY;
  if (f->p.max_features_mode == HELION_FOREST_MAX_FEATURES_SQRT)
    ws.max_features = (size_t)sqrt((double)d);
  else
    ws.max_features = (size_t)(f->p.max_features * (double)d);
  if (ws.max_features < 1)
    ws.max_features = 1;
  if (ws.max_features > d)
    ws.max_features = d;

  ws.xc = malloc(n * d * sizeof(*ws.xc));
  ws.order = malloc(n * d * sizeof(*ws.order));
  ws.idx = malloc(n * d * sizeof(*ws.idx));
  ws.rows = malloc(n * sizeof(*ws.rows));
  ws.wyy = malloc(n * sizeof(*ws.wyy));
  ws.tmp = malloc(n * sizeof(*ws.tmp));
  ws.goes_left = malloc(n);
  ws.features = malloc(d * sizeof(*ws.features));
  ws.const_features = malloc(d * sizeof(*ws.const_features));
  ws.stack = malloc((n + 2) * sizeof(*ws.stack));
  ws.tnodes = malloc(2 * n * sizeof(*ws.tnodes));
  ws.xlogx_int = malloc((n + 1) * sizeof(*ws.xlogx_int));
  keys = malloc(n * sizeof(*keys));
  tree_off = malloc((T + 1) * sizeof(*tree_off));
  tree_depth = malloc(T * sizeof(*tree_depth));
  if (!ws.xc || !ws.order || !ws.idx || !ws.rows || !ws.wyy || !ws.tmp ||
      !ws.goes_left || !ws.features || !ws.const_features || !ws.stack ||
      !ws.tnodes || !ws.xlogx_int || !keys || !tree_off || !tree_depth) {
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "forest fit: out of memory for %zu rows of %zu "
                        "features",
                        n, d);
    goto out;
  }

  ws.xlogx_int[0] = 0.0;
  for (size_t k = 1; k <= n; k++)
    ws.xlogx_int[k] = (double)k * det_log(&ws, (double)k);
  for (size_t j = 0; j < d; j++) {
    for (size_t i = 0; i < n; i++) {
      ws.xc[j * n + i] = X[i * d + j];
      keys[i] = (keyed_t){X[i * d + j], (int32_t)i};
    }
    qsort(keys, n, sizeof(*keys), keyed_cmp);
    for (size_t k = 0; k < n; k++)
      ws.order[j * n + k] = keys[k].i;
  }

  /* The value of a tree with nothing in its bag: the weighted mean of all
   * rows. */
  double pw = 0.0, ps = 0.0;
  for (size_t i = 0; i < n; i++) {
    double wi = sample_weight ? sample_weight[i] : 1.0;
    pw += wi;
    ps += wi * y[i];
  }
  double prior = ps / pw;

  helion_rng_t master;
  helion_rng_seed(&master, f->p.seed);
  tree_off[0] = 0;
  for (size_t t = 0; t < T; t++) {
    uint64_t tree_seed = helion_rng_next(&master);
    tree_depth[t] = build_tree(&ws, sample_weight, tree_seed, prior);
    if (len + ws.tn_len > cap) {
      size_t ncap = cap ? cap : 2 * n + 1;
      while (ncap < len + ws.tn_len)
        ncap *= 2;
      node_t *nn = realloc(nodes, ncap * sizeof(*nodes));
      if (!nn) {
        rc = helion_err_set(err, HELION_ERR_NOMEM,
                            "forest fit: out of memory storing tree %zu", t);
        goto out;
      }
      nodes = nn;
      cap = ncap;
    }
    memcpy(nodes + len, ws.tnodes, ws.tn_len * sizeof(*nodes));
    len += ws.tn_len;
    tree_off[t + 1] = len;
  }

  free_trees(f);
  f->nodes = nodes;
  f->tree_off = tree_off;
  f->tree_depth = tree_depth;
  f->n_trees = T;
  f->d = d;
  nodes = NULL;
  tree_off = NULL;
  tree_depth = NULL;

out:
  work_free(&ws);
  free(keys);
  free(nodes);
  free(tree_off);
  free(tree_depth);
  return rc;
}

/* ------------------------------------------------------------- predict */

size_t helion_forest_n_trees(const helion_forest_t *f) {
  return f->n_trees;
}

size_t helion_forest_n_features(const helion_forest_t *f) {
  return f->d;
}

/* Node id of the leaf `x` lands in within tree t (t in range). */
static int32_t leaf_of(const helion_forest_t *f, size_t t, const double *x) {
  const node_t *nodes = f->nodes + f->tree_off[t];
  int32_t id = 0;
  while (nodes[id].feature >= 0)
    id = x[nodes[id].feature] <= nodes[id].threshold ? nodes[id].left
                                                     : nodes[id].right;
  return id;
}

static helion_status check_fitted(const helion_forest_t *f, const char *fn,
                                  helion_err_t *err) {
  if (f->n_trees == 0)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: the forest is not fitted; call "
                          "helion_forest_fit first",
                          fn);
  return HELION_OK;
}

/* Mean leaf value over trees for each row; shared by both predictions. */
static void mean_leaf_values(const helion_forest_t *f, const double *X,
                             size_t n, double *out) {
  for (size_t i = 0; i < n; i++) {
    const double *x = X + i * f->d;
    double s = 0.0;
    for (size_t t = 0; t < f->n_trees; t++)
      s += f->nodes[f->tree_off[t] + (size_t)leaf_of(f, t, x)].value;
    out[i] = s / (double)f->n_trees;
  }
}

helion_status helion_forest_predict_proba(const helion_forest_t *f,
                                          const double *X, size_t n,
                                          double *out_p1, helion_err_t *err) {
  helion_status rc = check_fitted(f, "helion_forest_predict_proba", err);
  if (rc)
    return rc;
  if (f->p.task != HELION_FOREST_CLASSIFY)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_forest_predict_proba: the forest is a "
                          "regressor; use helion_forest_predict");
  mean_leaf_values(f, X, n, out_p1);
  return HELION_OK;
}

helion_status helion_forest_predict(const helion_forest_t *f, const double *X,
                                    size_t n, double *out, helion_err_t *err) {
  helion_status rc = check_fitted(f, "helion_forest_predict", err);
  if (rc)
    return rc;
  if (f->p.task != HELION_FOREST_REGRESS)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_forest_predict: the forest is a "
                          "classifier; use helion_forest_predict_proba");
  mean_leaf_values(f, X, n, out);
  return HELION_OK;
}

helion_status helion_forest_apply(const helion_forest_t *f, const double *X,
                                  size_t n, int32_t *out_leaf,
                                  helion_err_t *err) {
  helion_status rc = check_fitted(f, "helion_forest_apply", err);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < f->n_trees; t++)
      out_leaf[i * f->n_trees + t] = leaf_of(f, t, X + i * f->d);
  return HELION_OK;
}

helion_status helion_forest_decision_path(const helion_forest_t *f, size_t tree,
                                          const double *x, int32_t *out_nodes,
                                          size_t max, size_t *out_len,
                                          helion_err_t *err) {
  helion_status rc = check_fitted(f, "helion_forest_decision_path", err);
  if (rc)
    return rc;
  if (tree >= f->n_trees)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_forest_decision_path: tree %zu is out of "
                          "range; the forest has %zu trees",
                          tree, f->n_trees);
  const node_t *nodes = f->nodes + f->tree_off[tree];
  size_t len = 1;
  for (int32_t id = 0; nodes[id].feature >= 0; len++)
    id = x[nodes[id].feature] <= nodes[id].threshold ? nodes[id].left
                                                     : nodes[id].right;
  if (len > max)
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "helion_forest_decision_path: the path has %zu "
                          "nodes but there is room for %zu; size the buffer "
                          "with helion_forest_tree_depth() + 1",
                          len, max);
  int32_t id = 0;
  size_t k = 0;
  out_nodes[k++] = 0;
  while (nodes[id].feature >= 0) {
    id = x[nodes[id].feature] <= nodes[id].threshold ? nodes[id].left
                                                     : nodes[id].right;
    out_nodes[k++] = id;
  }
  *out_len = len;
  return HELION_OK;
}

double helion_forest_tree_predict_proba(const helion_forest_t *f, size_t tree,
                                        const double *x) {
  if (f->p.task != HELION_FOREST_CLASSIFY || tree >= f->n_trees)
    return NAN;
  return f->nodes[f->tree_off[tree] + (size_t)leaf_of(f, tree, x)].value;
}

double helion_forest_tree_predict(const helion_forest_t *f, size_t tree,
                                  const double *x) {
  if (f->p.task != HELION_FOREST_REGRESS || tree >= f->n_trees)
    return NAN;
  return f->nodes[f->tree_off[tree] + (size_t)leaf_of(f, tree, x)].value;
}

/* ------------------------------------------------------------ structure */

static const node_t *node_at(const helion_forest_t *f, size_t tree,
                             int32_t node) {
  if (tree >= f->n_trees || node < 0 ||
      (size_t)node >= f->tree_off[tree + 1] - f->tree_off[tree])
    return NULL;
  return f->nodes + f->tree_off[tree] + (size_t)node;
}

size_t helion_forest_tree_n_nodes(const helion_forest_t *f, size_t tree) {
  if (tree >= f->n_trees)
    return 0;
  return f->tree_off[tree + 1] - f->tree_off[tree];
}

size_t helion_forest_tree_depth(const helion_forest_t *f, size_t tree) {
  if (tree >= f->n_trees)
    return 0;
  return f->tree_depth[tree];
}

int32_t helion_forest_node_feature(const helion_forest_t *f, size_t tree,
                                   int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? nd->feature : -1;
}

double helion_forest_node_threshold(const helion_forest_t *f, size_t tree,
                                    int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? nd->threshold : NAN;
}

int32_t helion_forest_node_left(const helion_forest_t *f, size_t tree,
                                int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? nd->left : -1;
}

int32_t helion_forest_node_right(const helion_forest_t *f, size_t tree,
                                 int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? nd->right : -1;
}

double helion_forest_node_value(const helion_forest_t *f, size_t tree,
                                int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? nd->value : NAN;
}

size_t helion_forest_node_n_samples(const helion_forest_t *f, size_t tree,
                                    int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? (size_t)nd->n_samples : 0;
}

double helion_forest_node_weight(const helion_forest_t *f, size_t tree,
                                 int32_t node) {
  const node_t *nd = node_at(f, tree, node);
  return nd ? nd->weight : NAN;
}
