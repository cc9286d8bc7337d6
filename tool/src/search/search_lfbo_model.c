/*
 * search_lfbo_model.c: the model side of the LFBO searches (search_lfbo.c
 * runs them): LFBO's labels and weights, the forest classifier grown in
 * parallel parts, the neighbour generators (random and tree-guided),
 * surrogate_select, and the overhead benchmark's step (search_lfbo.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/config.h"
#include "search/forest.h"
#include "search/search.h"
#include "search/search_lfbo.h"

/* ------------------------------------------------- labels and select -- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double helion__lfbo_quantile(const double *v, size_t n, double q,
                             double *scratch) {
  memcpy(scratch, v, n * sizeof(double));
  qsort(scratch, n, sizeof(double), cmp_double);
  double pos = (double)(n - 1) * q;
  size_t lo = (size_t)floor(pos);
  if (lo >= n - 1)
    return scratch[n - 1];
  double frac = pos - (double)lo;
  return scratch[lo] + (scratch[lo + 1] - scratch[lo]) * frac;
}

size_t helion__lfbo_labels(const double *y, size_t n, double quantile,
                           double *labels, double *weights, double *out_q) {
  double *fin = malloc((2 * n + 1) * sizeof(double));
  if (!fin)
    return SIZE_MAX;
  size_t nf = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(y[i]))
      fin[nf++] = y[i];
  for (size_t i = 0; i < n; i++) {
    labels[i] = 0;
    weights[i] = 1;
  }
  if (nf == 0) {
    free(fin);
    *out_q = NAN;
    return 0;
  }
  double q = helion__lfbo_quantile(fin, nf, quantile, fin + n);
  free(fin);
  size_t npos = 0;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(y[i]) && y[i] <= q) {
      labels[i] = 1;
      sum += fmax(1e-5, q - y[i]);
      npos++;
    }
  double mean = sum / (double)npos;
  for (size_t i = 0; i < n; i++)
    if (labels[i] == 1)
      weights[i] = fmax(1e-5, q - y[i]) / mean;
  *out_q = q;
  return npos;
}

size_t helion__lfbo_select(const double *p, const int32_t *leaves, size_t n,
                           size_t ntrees, double penalty, size_t k, size_t *out,
                           double *scratch) {
  if (k > n)
    k = n;
  double *simsum = scratch;    /* sum of similarities to the selected */
  double *taken = scratch + n; /* 1 once selected */
  for (size_t i = 0; i < n; i++)
    simsum[i] = taken[i] = 0;
  for (size_t m = 0; m < k; m++) {
    size_t best = SIZE_MAX;
    double bs = -INFINITY;
    for (size_t i = 0; i < n; i++) {
      if (taken[i] != 0)
        continue;
      double sc = m == 0 ? p[i] : p[i] - penalty * simsum[i] / (double)m;
      if (best == SIZE_MAX || sc > bs) {
        bs = sc;
        best = i;
      }
    }
    out[m] = best;
    taken[best] = 1;
    const int32_t *lb = leaves + best * ntrees;
    for (size_t i = 0; i < n; i++) {
      if (taken[i] != 0)
        continue;
      const int32_t *li = leaves + i * ntrees;
      size_t same = 0;
      for (size_t t = 0; t < ntrees; t++)
        same += li[t] == lb[t];
      simsum[i] += (double)same / (double)ntrees;
    }
  }
  return k;
}

/* ----------------------------------------------------------- surrogate -- */

/* The part holding global tree t, and t's index within it. */
static const helion_forest_t *tree_part(const helion_lfbo_surrogate_t *u,
                                        size_t t, size_t *local) {
  size_t per = u->ntrees / LFBO_PARTS;
  size_t k = t / per;
  *local = t - k * per;
  return u->part[k];
}

helion_status helion__lfbo_sur_create(helion_lfbo_surrogate_t *u,
                                      helion_err_t *err) {
  helion_forest_params_t fp;
  helion_forest_params_lfbo(&fp);
  size_t total = fp.n_estimators;
  fp.n_estimators = total / LFBO_PARTS;
  u->ntrees = fp.n_estimators * LFBO_PARTS;
  for (size_t k = 0; k < LFBO_PARTS; k++) {
    helion_status rc = helion_forest_create(&fp, &u->part[k], err);
    if (rc)
      return rc;
    fp.seed++;
  }
  return HELION_OK;
}

/* ------------------------------------------------ neighbour generation -- */

void helion__lfbo_gen_cleanup(helion_lfbo_gen_t *g) {
  free(g->lists);
  free(g->loff);
  free(g->lcount);
  free(g->one);
  free(g->other);
  free(g->path_slots);
  free(g->on_path);
  free(g->path);
  free(g->enc);
  free(g->cur);
  free(g->out);
}

helion_status helion__lfbo_gen_init(helion_lfbo_gen_t *g,
                                    const helion_space_t *space,
                                    helion_rng_t *rng) {
  memset(g, 0, sizeof(*g));
  g->space = space;
  g->rng = rng;
  g->ncells = space->ncells;
  g->d = space->enc_dim;
  size_t np = space->nparams;
  g->loff = calloc(np + 1, sizeof(size_t));
  g->lcount = calloc(np + 1, sizeof(size_t));
  g->other = calloc(np + 1, sizeof(size_t));
  g->path_slots = calloc(np + 1, sizeof(size_t));
  g->on_path = calloc(np + 1, sizeof(bool));
  g->enc = calloc(g->d + 1, sizeof(double));
  g->cur = calloc(g->ncells + 1, sizeof(int64_t));
  if (!g->loff || !g->lcount || !g->other || !g->path_slots || !g->on_path ||
      !g->enc || !g->cur)
    return HELION_ERR_NOMEM;
  return HELION_OK;
}

/* Neighbours of slot's value in `cells` into g->one; *out_n of them. */
static helion_status one_slot(helion_lfbo_gen_t *g, size_t slot,
                              const int64_t *cells, int radius, size_t *out_n) {
  size_t w = g->space->width[slot];
  size_t max = g->one_cap / (w ? w : 1);
  size_t n =
      helion_space_slot_neighbors(g->space, slot, cells, radius, g->one, max);
  if (n > max) {
    if (helion__search_grow((void **)&g->one, &g->one_cap, n * w,
                            sizeof(int64_t)))
      return HELION_ERR_NOMEM;
    n = helion_space_slot_neighbors(g->space, slot, cells, radius, g->one, n);
  }
  *out_n = n;
  return HELION_OK;
}

static helion_status out_push(helion_lfbo_gen_t *g, const int64_t *cells) {
  if (helion__search_grow((void **)&g->out, &g->out_cap,
                          (g->nout + 1) * g->ncells, sizeof(int64_t)))
    return HELION_ERR_NOMEM;
  memcpy(g->out + g->nout * g->ncells, cells, g->ncells * sizeof(int64_t));
  g->nout++;
  return HELION_OK;
}

/* Copies neighbour `k` of a list (width w) into slot's cells of x. */
static void set_slot(const helion_space_t *sp, size_t slot, int64_t *x,
                     const int64_t *list, size_t k) {
  size_t w = sp->width[slot];
  memcpy(x + sp->cell_off[slot], list + k * w, w * sizeof(int64_t));
}

/*
 * random_neighbors (reference §2.4): `count` tries; each changes one random
 * block size and num_warps within `radius`, and 0 to 2 random other slots
 * by one step. Tries equal to the base are dropped.
 */
helion_status helion__lfbo_random_neighbors(helion_lfbo_gen_t *g,
                                            const int64_t *base, size_t count,
                                            int radius) {
  const helion_space_t *sp = g->space;
  size_t np = sp->nparams;
  /* Every slot's neighbour list of the base, once. */
  size_t total = 0;
  for (size_t i = 0; i < np; i++) {
    g->lcount[i] = 0;
    g->loff[i] = total;
    if (sp->frozen[i])
      continue;
    bool wide = sp->params[i].role != HELION_ROLE_NONE;
    size_t n;
    if (one_slot(g, i, base, wide ? radius : 1, &n))
      return HELION_ERR_NOMEM;
    size_t w = sp->width[i];
    if (helion__search_grow((void **)&g->lists, &g->lists_cap, total + n * w,
                            sizeof(int64_t)))
      return HELION_ERR_NOMEM;
    /* A slot with one value has no neighbours, and then no list at all
     * (g->lists may still be NULL): memcpy must not see it. */
    if (n)
      memcpy(g->lists + total, g->one, n * w * sizeof(int64_t));
    g->lcount[i] = n;
    total += n * w;
  }
  size_t nblocks = 0;
  for (size_t b = 0; b < sp->nblock_slots; b++)
    if (!sp->frozen[sp->block_slots[b]])
      g->path_slots[nblocks++] = sp->block_slots[b];
  int w = sp->num_warps_slot;
  bool warps = w >= 0 && !sp->frozen[w];
  size_t nother = 0;
  for (size_t i = 0; i < np; i++)
    if (!sp->frozen[i] && sp->params[i].role == HELION_ROLE_NONE &&
        g->lcount[i] > 0)
      g->other[nother++] = i;
  int64_t *x = g->cur;
  for (size_t t = 0; t < count; t++) {
    memcpy(x, base, g->ncells * sizeof(int64_t));
    if (nblocks) {
      size_t b = g->path_slots[helion_rng_below(g->rng, nblocks)];
      if (g->lcount[b])
        set_slot(sp, b, x, g->lists + g->loff[b],
                 helion_rng_below(g->rng, g->lcount[b]));
    }
    if (warps && g->lcount[w])
      set_slot(sp, (size_t)w, x, g->lists + g->loff[w],
               helion_rng_below(g->rng, g->lcount[w]));
    size_t k =
        (size_t)helion_rng_range(g->rng, 0, (int64_t)(nother < 2 ? nother : 2));
    /* random.sample(R, k): a partial Fisher-Yates over `other`. */
    for (size_t j = 0; j < k; j++) {
      size_t r = j + helion_rng_below(g->rng, nother - j);
      size_t tmp = g->other[j];
      g->other[j] = g->other[r];
      g->other[r] = tmp;
      size_t slot = g->other[j];
      set_slot(sp, slot, x, g->lists + g->loff[slot],
               helion_rng_below(g->rng, g->lcount[slot]));
    }
    if (memcmp(x, base, g->ncells * sizeof(int64_t)) != 0)
      if (out_push(g, x))
        return HELION_ERR_NOMEM;
  }
  return HELION_OK;
}

/*
 * LFBOTreeSearch's neighbours (reference §2.5): `count` walks; each takes a
 * random tree, the slots its decision path for the base tests (plus one
 * random block size and num_warps), and sets each in turn to the value of
 * {current, radius neighbours} that this tree scores highest (ties broken
 * at random).
 */
helion_status helion__lfbo_tree_neighbors(helion_lfbo_gen_t *g,
                                          const int64_t *base, size_t count,
                                          int radius) {
  const helion_space_t *sp = g->space;
  size_t ntrees = g->sur->ntrees;
  helion_err_t e;
  double *enc = g->enc;
  int64_t *cur = g->cur;
  size_t nblocks = 0;
  for (size_t b = 0; b < sp->nblock_slots; b++)
    if (!sp->frozen[sp->block_slots[b]])
      nblocks++;
  int w = sp->num_warps_slot;
  bool warps = w >= 0 && !sp->frozen[w];
  for (size_t t = 0; t < count; t++) {
    size_t tree;
    const helion_forest_t *f =
        tree_part(g->sur, helion_rng_below(g->rng, ntrees), &tree);
    size_t need = helion_forest_tree_depth(f, tree) + 1;
    if (helion__search_grow((void **)&g->path, &g->path_cap, need,
                            sizeof(int32_t)))
      return HELION_ERR_NOMEM;
    helion_space_encode(sp, base, enc);
    size_t plen;
    if (helion_forest_decision_path(f, tree, enc, g->path, g->path_cap, &plen,
                                    &e))
      return HELION_ERR_NOMEM;
    size_t ns = 0;
    for (size_t k = 0; k < plen; k++) {
      int32_t feat = helion_forest_node_feature(f, tree, g->path[k]);
      if (feat < 0)
        continue;
      size_t slot = sp->enc_slot[feat];
      if (sp->frozen[slot] || g->on_path[slot])
        continue;
      g->on_path[slot] = true;
      g->path_slots[ns++] = slot;
    }
    if (nblocks) {
      size_t pick = helion_rng_below(g->rng, nblocks), seen = 0;
      for (size_t b = 0; b < sp->nblock_slots; b++) {
        size_t slot = sp->block_slots[b];
        if (sp->frozen[slot])
          continue;
        if (seen++ == pick) {
          if (!g->on_path[slot]) {
            g->on_path[slot] = true;
            g->path_slots[ns++] = slot;
          }
          break;
        }
      }
    }
    if (warps && !g->on_path[w]) {
      g->on_path[w] = true;
      g->path_slots[ns++] = (size_t)w;
    }
    memcpy(cur, base, g->ncells * sizeof(int64_t));
    for (size_t k = 0; k < ns; k++) {
      size_t slot = g->path_slots[k];
      g->on_path[slot] = false;
      size_t nn;
      if (one_slot(g, slot, cur, radius, &nn))
        return HELION_ERR_NOMEM;
      if (nn == 0)
        continue;
      size_t wd = sp->width[slot], off = sp->cell_off[slot];
      /* Candidate 0 is the current value; the list follows. */
      int64_t keep[64];
      int64_t *kept = wd <= 64 ? keep : malloc(wd * sizeof(int64_t));
      if (!kept)
        return HELION_ERR_NOMEM;
      memcpy(kept, cur + off, wd * sizeof(int64_t));
      double best = helion_forest_tree_predict_proba(f, tree, enc);
      /* enc holds cur's encoding here: the walk keeps them in step. */
      size_t nbest = 1, pick = 0;
      for (size_t v = 0; v < nn; v++) {
        memcpy(cur + off, g->one + v * wd, wd * sizeof(int64_t));
        helion_space_encode(sp, cur, enc);
        double pv = helion_forest_tree_predict_proba(f, tree, enc);
        if (pv > best) {
          best = pv;
          nbest = 1;
          pick = v + 1;
        } else if (pv == best) {
          /* Reservoir choice: uniform over the tied values. */
          nbest++;
          if (helion_rng_below(g->rng, nbest) == 0)
            pick = v + 1;
        }
      }
      if (pick == 0)
        memcpy(cur + off, kept, wd * sizeof(int64_t));
      else
        memcpy(cur + off, g->one + (pick - 1) * wd, wd * sizeof(int64_t));
      if (kept != keep)
        free(kept);
      helion_space_encode(sp, cur, enc);
    }
    if (memcmp(cur, base, g->ncells * sizeof(int64_t)) != 0)
      if (out_push(g, cur))
        return HELION_ERR_NOMEM;
  }
  return HELION_OK;
}

/* ----------------------------------------------------------- surrogate -- */

helion_status helion__lfbo_sur_add(helion_lfbo_surrogate_t *u,
                                   const helion_space_t *sp,
                                   const int64_t *cells, double perf) {
  if (u->n == u->cap) {
    size_t c = u->cap ? 2 * u->cap : 256;
    double *X = realloc(u->X, c * u->d * sizeof(double));
    if (!X)
      return HELION_ERR_NOMEM;
    u->X = X;
    double *y = realloc(u->y, c * sizeof(double));
    if (!y)
      return HELION_ERR_NOMEM;
    u->y = y;
    double *l = realloc(u->labels, c * sizeof(double));
    if (!l)
      return HELION_ERR_NOMEM;
    u->labels = l;
    double *w = realloc(u->weights, c * sizeof(double));
    if (!w)
      return HELION_ERR_NOMEM;
    u->weights = w;
    u->cap = c;
  }
  helion_space_encode(sp, cells, u->X + u->n * u->d);
  u->y[u->n++] = perf;
  return HELION_OK;
}

typedef struct fit_job {
  helion_forest_t *f;
  const double *X, *y, *w;
  size_t n, d;
  helion_status rc;
  helion_err_t err;
} fit_job;

static void *fit_thread(void *arg) {
  fit_job *j = arg;
  j->rc = helion_forest_fit(j->f, j->X, j->n, j->d, j->y, j->w, &j->err);
  return NULL;
}

#define FIT_MAX_PARTS 8

helion_status helion__forest_fit_parts(helion_forest_t *const *parts, size_t k,
                                       const double *X, size_t n, size_t d,
                                       const double *y, const double *w,
                                       helion_err_t *err) {
  if (k == 0 || k > FIT_MAX_PARTS)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "forest parts: %zu parts (1 to %d allowed)", k,
                          FIT_MAX_PARTS);
  fit_job jobs[FIT_MAX_PARTS];
  pthread_t th[FIT_MAX_PARTS];
  bool started[FIT_MAX_PARTS] = {false};
  for (size_t i = 0; i < k; i++) {
    jobs[i] = (fit_job){parts[i], X, y, w, n, d, HELION_OK, {{0}}};
    if (i > 0)
      started[i] = pthread_create(&th[i], NULL, fit_thread, &jobs[i]) == 0;
  }
  /* Part 0 here; a part whose thread did not start runs here too. */
  for (size_t i = 0; i < k; i++)
    if (!started[i])
      fit_thread(&jobs[i]);
  helion_status rc = HELION_OK;
  for (size_t i = 0; i < k; i++) {
    if (started[i])
      pthread_join(th[i], NULL);
    if (jobs[i].rc && !rc) {
      rc = jobs[i].rc;
      if (err)
        *err = jobs[i].err;
    }
  }
  return rc;
}

/* fit_surrogate (reference §2.4): quantile labels, weights, full refit. */
helion_status helion__lfbo_sur_fit(helion_lfbo_surrogate_t *u, bool log,
                                   helion_err_t *err) {
  double q;
  size_t npos =
      helion__lfbo_labels(u->y, u->n, u->quantile, u->labels, u->weights, &q);
  if (npos == SIZE_MAX)
    return helion_err_set(err, HELION_ERR_NOMEM, "LFBO: out of memory");
  u->fitted = false;
  if (npos == 0 || npos == u->n) {
    if (log)
      HELION_LOG(HELION_LOG_INFO,
                 "All labels are identical, skip training surrogate.");
    return HELION_OK;
  }
  if (log)
    HELION_LOG(HELION_LOG_INFO, "Fitting surrogate: %zu points, %zu targets",
               u->n, u->n);
  helion_status rc = helion__forest_fit_parts(u->part, LFBO_PARTS, u->X, u->n,
                                              u->d, u->labels, u->weights, err);
  if (rc)
    return rc;
  u->fitted = true;
  return HELION_OK;
}

void helion__lfbo_sur_cleanup(helion_lfbo_surrogate_t *u) {
  for (size_t k = 0; k < LFBO_PARTS; k++)
    helion_forest_destroy(u->part[k]);
  free(u->X);
  free(u->y);
  free(u->labels);
  free(u->weights);
}

void helion__lfbo_sel_cleanup(helion_lfbo_selector_t *s) {
  free(s->X);
  free(s->p);
  free(s->scratch);
  free(s->leaves);
  free(s->part_leaves);
  free(s->order);
}

/*
 * surrogate_select: the indices (into cands) of the k picked, in order,
 * into sel->order; returns how many. Without a fitted surrogate a uniform
 * random subset of k.
 */
helion_status helion__lfbo_select_cands(helion_lfbo_selector_t *sel,
                                        const helion_space_t *sp,
                                        const helion_lfbo_surrogate_t *u,
                                        helion_rng_t *rng, const int64_t *cands,
                                        size_t n, size_t k, double penalty,
                                        size_t *out_k, helion_err_t *err) {
  if (k > n)
    k = n;
  size_t ntrees = u->ntrees;
  if (n > sel->cap) {
    size_t c = sel->cap ? sel->cap : 64;
    while (c < n)
      c *= 2;
    free(sel->X);
    free(sel->p);
    free(sel->scratch);
    free(sel->leaves);
    free(sel->order);
    sel->X = malloc(c * sp->enc_dim * sizeof(double));
    sel->p = malloc(c * sizeof(double));
    sel->scratch = malloc(2 * c * sizeof(double));
    sel->leaves = malloc(c * ntrees * sizeof(int32_t));
    free(sel->part_leaves);
    sel->part_leaves = malloc(c * ntrees * sizeof(int32_t));
    sel->order = malloc(c * sizeof(size_t));
    sel->cap = c;
    if (!sel->X || !sel->p || !sel->scratch || !sel->leaves || !sel->order ||
        !sel->part_leaves) {
      sel->cap = 0;
      return helion_err_set(err, HELION_ERR_NOMEM, "LFBO: out of memory");
    }
  }
  if (k == 0) {
    *out_k = 0;
    return HELION_OK;
  }
  if (!u->fitted) {
    for (size_t i = 0; i < n; i++)
      sel->order[i] = i;
    for (size_t j = 0; j < k; j++) {
      size_t r = j + helion_rng_below(rng, n - j);
      size_t t = sel->order[j];
      sel->order[j] = sel->order[r];
      sel->order[r] = t;
    }
    *out_k = k;
    return HELION_OK;
  }
  for (size_t i = 0; i < n; i++)
    helion_space_encode(sp, cands + i * sp->ncells, sel->X + i * sp->enc_dim);
  /* One pass down every tree: the leaves, and predict_proba as the mean
   * of the leaves' class-1 fractions. */
  size_t per = ntrees / LFBO_PARTS;
  for (size_t pk = 0; pk < LFBO_PARTS; pk++) {
    helion_status rc =
        helion_forest_apply(u->part[pk], sel->X, n, sel->part_leaves, err);
    if (rc)
      return rc;
    for (size_t i = 0; i < n; i++)
      memcpy(sel->leaves + i * ntrees + pk * per, sel->part_leaves + i * per,
             per * sizeof(int32_t));
  }
  for (size_t i = 0; i < n; i++) {
    double sum = 0;
    for (size_t t = 0; t < ntrees; t++) {
      size_t local;
      const helion_forest_t *f = tree_part(u, t, &local);
      sum += helion_forest_node_value(f, local, sel->leaves[i * ntrees + t]);
    }
    sel->p[i] = sum / (double)ntrees;
  }
  *out_k = helion__lfbo_select(sel->p, sel->leaves, n, ntrees, penalty, k,
                               sel->order, sel->scratch);
  return HELION_OK;
}

/* ------------------------------------------------------------ overhead -- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

helion_status helion__lfbo_overhead_step(
    const helion_space_t *space, const double *X, const double *y, size_t n,
    const int64_t *base, size_t num_neighbors, size_t copies, bool tree,
    uint64_t seed, double out_seconds[3], helion_err_t *err) {
  helion_rng_t rng;
  helion_rng_seed(&rng, seed);
  helion_lfbo_surrogate_t u;
  memset(&u, 0, sizeof(u));
  helion_lfbo_selector_t sel;
  memset(&sel, 0, sizeof(sel));
  helion_lfbo_gen_t g;
  memset(&g, 0, sizeof(g));
  helion_status rc = HELION_OK;
  u.d = space->enc_dim;
  u.quantile = 0.1;
  for (size_t i = 0; i < n; i++)
    if (helion__lfbo_sur_add(&u, space, base, 0)) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
  /* The observations are the caller's; only the buffers came from sur_add. */
  memcpy(u.X, X, n * u.d * sizeof(double));
  memcpy(u.y, y, n * sizeof(double));
  if ((rc = helion__lfbo_sur_create(&u, err)))
    goto out;
  if (helion__lfbo_gen_init(&g, space, &rng)) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  double t0 = now_s();
  if ((rc = helion__lfbo_sur_fit(&u, false, err)))
    goto out;
  double t1 = now_s(), tn = 0, ts = 0;
  g.sur = &u;
  for (size_t c = 0; c < copies; c++) {
    double a = now_s();
    g.nout = 0;
    if (tree && u.fitted)
      rc = helion__lfbo_tree_neighbors(&g, base, num_neighbors, 2);
    else
      rc = helion__lfbo_random_neighbors(&g, base, num_neighbors, 2);
    if (rc) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
    for (size_t i = 0; i < g.nout; i++)
      helion_space_normalize(space, g.out + i * space->ncells);
    double b = now_s();
    size_t nsel;
    if ((rc = helion__lfbo_select_cands(&sel, space, &u, &rng, g.out, g.nout,
                                        (size_t)((double)(g.nout + 1) * 0.10),
                                        1.0, &nsel, err)))
      goto out;
    tn += b - a;
    ts += now_s() - b;
  }
  /* The generation's global proposals: 200 random configs, 1 selected. */
  {
    double a = now_s();
    g.nout = 0;
    int64_t *x = g.cur;
    for (size_t i = 0; i < 200; i++)
      if (helion_space_random(space, &rng, 0, x) == HELION_OK &&
          out_push(&g, x)) {
        rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
        goto out;
      }
    double b = now_s();
    size_t nsel;
    if ((rc = helion__lfbo_select_cands(&sel, space, &u, &rng, g.out, g.nout, 1,
                                        1.0, &nsel, err)))
      goto out;
    tn += b - a;
    ts += now_s() - b;
  }
  out_seconds[0] = t1 - t0;
  out_seconds[1] = tn;
  out_seconds[2] = ts;
out:
  helion__lfbo_sur_cleanup(&u);
  helion__lfbo_sel_cleanup(&sel);
  helion__lfbo_gen_cleanup(&g);
  return rc;
}
