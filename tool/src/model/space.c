/*
 * space.c: the configuration space: validation of the parameters, Helion's
 * per-fragment operations (default, random, pattern neighbours, differential
 * mutation, encoding, cardinality), normalize, restrictions, shrink, exact
 * size, valid-fraction counting and the structural fingerprint.
 *
 * Element-level helpers (elem_*) implement one scalar fragment (POW2, INT,
 * ENUM, BOOL); a LIST applies them to each of its cells, so both share one
 * definition of every rule.
 */
#include "model/space.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/params.h"

#include "model/space_priv.h"

/* ------------------------------------------------------------ arithmetic */

uint64_t helion__space_sat_mul(uint64_t a, uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a)
    return UINT64_MAX;
  return a * b;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static int64_t sub_sat(int64_t v, int64_t r) {
  return v >= INT64_MIN + r ? v - r : INT64_MIN;
}

static int64_t add_sat(int64_t v, int64_t r) {
  return v <= INT64_MAX - r ? v + r : INT64_MAX;
}

/* ------------------------------------------------------- params, values */

static void value_cleanup(helion_value_t *v) {
  free(v->s);
  v->s = NULL;
}

static helion_status value_copy(helion_value_t *dst,
                                const helion_value_t *src) {
  *dst = *src;
  dst->s = NULL;
  if (src->kind == HELION_VALUE_STR && src->s) {
    dst->s = helion_strdup(src->s);
    if (!dst->s)
      return HELION_ERR_NOMEM;
  }
  return HELION_OK;
}

void helion_param_cleanup(helion_param_t *p) {
  if (!p)
    return;
  free(p->key);
  free(p->name);
  if (p->frag.choices) {
    for (size_t i = 0; i < p->frag.nchoices; i++)
      value_cleanup(&p->frag.choices[i]);
    free(p->frag.choices);
  }
  memset(p, 0, sizeof(*p));
}

helion_status helion_param_copy(helion_param_t *dst,
                                const helion_param_t *src) {
  helion_param_t p = *src;
  p.key = NULL;
  p.name = NULL;
  p.frag.choices = NULL;
  p.frag.nchoices = 0;
  if (src->key && !(p.key = helion_strdup(src->key)))
    goto fail;
  if (src->name && !(p.name = helion_strdup(src->name)))
    goto fail;
  if (src->frag.nchoices) {
    p.frag.choices = calloc(src->frag.nchoices, sizeof(*p.frag.choices));
    if (!p.frag.choices)
      goto fail;
    for (size_t i = 0; i < src->frag.nchoices; i++) {
      p.frag.nchoices = i + 1;
      if (value_copy(&p.frag.choices[i], &src->frag.choices[i]))
        goto fail;
    }
  }
  *dst = p;
  return HELION_OK;
fail:
  helion_param_cleanup(&p);
  return HELION_ERR_NOMEM;
}

/* ------------------------------------------------ one element (scalar) */

static int pow2_exp(int64_t v) {
  return v >= 1 ? helion_log2_floor((uint64_t)v) : 0;
}

static uint64_t elem_card(const helion_frag_t *f, helion_frag_kind k) {
  switch (k) {
  case HELION_FRAG_POW2:
    return (uint64_t)(pow2_exp(f->high) - pow2_exp(f->low) + 1);
  case HELION_FRAG_INT: {
    uint64_t span = (uint64_t)f->high - (uint64_t)f->low;
    return span == UINT64_MAX ? UINT64_MAX : span + 1;
  }
  case HELION_FRAG_ENUM:
    return f->nchoices;
  case HELION_FRAG_BOOL:
    return 2;
  default:
    return 1;
  }
}

size_t helion__space_elem_dim(const helion_frag_t *f, helion_frag_kind k) {
  return k == HELION_FRAG_ENUM ? f->nchoices : 1;
}

static int64_t elem_random(const helion_frag_t *f, helion_frag_kind k,
                           helion_rng_t *rng) {
  switch (k) {
  case HELION_FRAG_POW2:
    return (int64_t)1 << helion_rng_range(rng, pow2_exp(f->low),
                                          pow2_exp(f->high));
  case HELION_FRAG_INT:
    return helion_rng_range(rng, f->low, f->high);
  case HELION_FRAG_ENUM:
    return (int64_t)helion_rng_below(rng, f->nchoices);
  case HELION_FRAG_BOOL:
    return (int64_t)helion_rng_below(rng, 2);
  default:
    return 0;
  }
}

/* The k-th value (0-based) in enumeration order. */
static int64_t elem_decode(const helion_frag_t *f, helion_frag_kind k,
                           uint64_t idx) {
  switch (k) {
  case HELION_FRAG_POW2:
    return f->low << idx;
  case HELION_FRAG_INT:
    return (int64_t)((uint64_t)f->low + idx);
  default:
    return (int64_t)idx;
  }
}

static int64_t elem_normalize(const helion_frag_t *f, helion_frag_kind k,
                              int64_t v) {
  switch (k) {
  case HELION_FRAG_POW2:
    v = clamp64(v, f->low, f->high);
    return (int64_t)1 << helion_log2_floor((uint64_t)v);
  case HELION_FRAG_INT:
    return clamp64(v, f->low, f->high);
  case HELION_FRAG_ENUM:
    return clamp64(v, 0, (int64_t)f->nchoices - 1);
  case HELION_FRAG_BOOL:
    return clamp64(v, 0, 1);
  default:
    return v;
  }
}

/*
 * Pattern neighbours of one element: the range [a, b] of candidates (values
 * for INT, exponents for POW2, indices for ENUM/BOOL) minus `skip` when it
 * lies inside. Returns the count; elem_neighbor_at() gives the k-th.
 */
typedef struct elem_nb {
  helion_frag_kind kind;
  int64_t a, b, skip;
  bool has_skip;
} elem_nb_t;

static uint64_t elem_nb_init(const helion_frag_t *f, helion_frag_kind k,
                             int64_t cur, int radius, elem_nb_t *nb) {
  int64_t r = radius < 0 ? 0 : radius;
  nb->kind = k;
  nb->has_skip = false;
  nb->skip = 0;
  switch (k) {
  case HELION_FRAG_POW2: {
    int64_t lo = pow2_exp(f->low), hi = pow2_exp(f->high);
    int64_t ce = pow2_exp(cur);
    nb->a = ce - r > lo ? ce - r : lo;
    nb->b = ce + r < hi ? ce + r : hi;
    nb->skip = ce;
    nb->has_skip = helion_is_pow2(cur);
    break;
  }
  case HELION_FRAG_INT: {
    int64_t lo = sub_sat(cur, r), hi = add_sat(cur, r);
    nb->a = lo > f->low ? lo : f->low;
    nb->b = hi < f->high ? hi : f->high;
    nb->skip = cur;
    nb->has_skip = true;
    break;
  }
  case HELION_FRAG_ENUM:
    nb->a = 0;
    nb->b = (int64_t)f->nchoices - 1;
    nb->skip = cur;
    nb->has_skip = true;
    break;
  case HELION_FRAG_BOOL:
    nb->a = nb->b = cur ? 0 : 1;
    break;
  default:
    nb->a = 1;
    nb->b = 0;
  }
  if (nb->a > nb->b)
    return 0;
  uint64_t n = (uint64_t)nb->b - (uint64_t)nb->a + 1;
  if (nb->has_skip && nb->skip >= nb->a && nb->skip <= nb->b)
    n--;
  else
    nb->has_skip = false;
  return n;
}

static int64_t elem_neighbor_at(const elem_nb_t *nb, uint64_t k) {
  int64_t v = (int64_t)((uint64_t)nb->a + k);
  if (nb->has_skip && v >= nb->skip)
    v++;
  return nb->kind == HELION_FRAG_POW2 ? (int64_t)1 << v : v;
}

static int64_t elem_mutate(const helion_frag_t *f, helion_frag_kind k,
                           helion_rng_t *rng, int64_t a, int64_t b, int64_t c) {
  switch (k) {
  case HELION_FRAG_POW2:
    if (b < c)
      return clamp64(a / 2, f->low, f->high);
    if (b > c)
      return clamp64(a <= INT64_MAX / 2 ? a * 2 : INT64_MAX, f->low, f->high);
    return a;
  case HELION_FRAG_INT:
    if (b < c)
      return clamp64(sub_sat(a, 1), f->low, f->high);
    if (b > c)
      return clamp64(add_sat(a, 1), f->low, f->high);
    return a;
  case HELION_FRAG_ENUM: {
    bool a_ok = a >= 0 && a < (int64_t)f->nchoices;
    if (b == c)
      return a_ok ? a : elem_random(f, k, rng);
    /* {b, c} minus {a}, picked uniformly; never empty since b != c. */
    if (a == b)
      return c;
    if (a == c)
      return b;
    return helion_rng_below(rng, 2) ? c : b;
  }
  case HELION_FRAG_BOOL:
    return b == c ? a : !a;
  default:
    return a;
  }
}

static void elem_encode(const helion_frag_t *f, helion_frag_kind k, int64_t v,
                        double *out) {
  switch (k) {
  case HELION_FRAG_POW2:
    out[0] = helion_is_pow2(v) ? (double)helion_log2_floor((uint64_t)v)
             : v > 0           ? log2((double)v)
                               : 0.0;
    break;
  case HELION_FRAG_ENUM:
    for (size_t i = 0; i < f->nchoices; i++)
      out[i] = (int64_t)i == v ? 1.0 : 0.0;
    break;
  default:
    out[0] = (double)v;
  }
}

/* ------------------------------------------------------------ one slot */

helion_frag_kind helion__space_elem_kind(const helion_frag_t *f) {
  return f->kind == HELION_FRAG_LIST ? f->inner : f->kind;
}

uint64_t helion_space_slot_cardinality(const helion_space_t *s, size_t slot) {
  const helion_frag_t *f = &s->params[slot].frag;
  uint64_t n = 1;
  switch (f->kind) {
  case HELION_FRAG_PERM:
    for (size_t i = 2; i <= f->length; i++)
      n = helion__space_sat_mul(n, i);
    return n;
  case HELION_FRAG_LIST: {
    uint64_t c = elem_card(f, f->inner);
    for (size_t i = 0; i < f->length; i++)
      n = helion__space_sat_mul(n, c);
    return n;
  }
  default:
    return elem_card(f, f->kind);
  }
}

void helion_space_slot_random(const helion_space_t *s, size_t slot,
                              helion_rng_t *rng, int64_t *cells) {
  const helion_frag_t *f = &s->params[slot].frag;
  int64_t *c = cells + s->cell_off[slot];
  if (f->kind == HELION_FRAG_PERM) {
    for (size_t i = 0; i < f->length; i++)
      c[i] = (int64_t)i;
    helion_rng_shuffle(rng, c, f->length, sizeof(*c));
    return;
  }
  for (size_t i = 0; i < s->width[slot]; i++)
    c[i] = elem_random(f, helion__space_elem_kind(f), rng);
}

/* Writes the idx-th value of slot (enumeration order) into cells. */
static void slot_decode(const helion_space_t *s, size_t slot, uint64_t idx,
                        int64_t *cells) {
  const helion_frag_t *f = &s->params[slot].frag;
  int64_t *c = cells + s->cell_off[slot];
  size_t n = s->width[slot];
  if (f->kind == HELION_FRAG_PERM) {
    /* The idx-th permutation in lexicographic order (factorial base). */
    int64_t avail[64];
    uint64_t fact[64];
    fact[0] = 1;
    for (size_t i = 1; i < n && i < 64; i++)
      fact[i] = helion__space_sat_mul(fact[i - 1], i);
    for (size_t i = 0; i < n && i < 64; i++)
      avail[i] = (int64_t)i;
    size_t left = n;
    for (size_t i = 0; i < n && n <= 64; i++) {
      uint64_t f_i = fact[n - 1 - i];
      size_t pick = (size_t)(idx / f_i);
      idx %= f_i;
      c[i] = avail[pick];
      memmove(avail + pick, avail + pick + 1,
              (left - pick - 1) * sizeof(*avail));
      left--;
    }
    return;
  }
  helion_frag_kind k = helion__space_elem_kind(f);
  uint64_t card = elem_card(f, k);
  for (size_t i = n; i-- > 0;) {
    c[i] = elem_decode(f, k, card ? idx % card : 0);
    idx = card ? idx / card : 0;
  }
}

static bool is_permutation(const int64_t *c, size_t n) {
  /* Sum and bitmap-free check: every value in range and no repeats. */
  for (size_t i = 0; i < n; i++) {
    if (c[i] < 0 || (uint64_t)c[i] >= n)
      return false;
    for (size_t j = 0; j < i; j++)
      if (c[j] == c[i])
        return false;
  }
  return true;
}

/*
 * Neighbours of a slot with the k-th one's width cells written at
 * out + k * stride + off, for k < max. Returns the total.
 */
static size_t slot_neighbors_into(const helion_space_t *s, size_t slot,
                                  const int64_t *cells, int radius,
                                  int64_t *out, size_t max, size_t stride,
                                  size_t off) {
  const helion_frag_t *f = &s->params[slot].frag;
  const int64_t *cur = cells + s->cell_off[slot];
  size_t w = s->width[slot];
  size_t count = 0;
  if (f->kind == HELION_FRAG_PERM) {
    for (size_t i = 0; i < w; i++) {
      for (size_t j = i + 1; j < w; j++, count++) {
        if (count >= max)
          continue;
        int64_t *dst = out + count * stride + off;
        memcpy(dst, cur, w * sizeof(*dst));
        dst[i] = cur[j];
        dst[j] = cur[i];
      }
    }
    return count;
  }
  helion_frag_kind k = helion__space_elem_kind(f);
  for (size_t pos = 0; pos < w; pos++) {
    elem_nb_t nb;
    uint64_t n = elem_nb_init(f, k, cur[pos], radius, &nb);
    for (uint64_t j = 0; j < n; j++, count++) {
      if (count >= max)
        continue;
      int64_t *dst = out + count * stride + off;
      memcpy(dst, cur, w * sizeof(*dst));
      dst[pos] = elem_neighbor_at(&nb, j);
    }
  }
  return count;
}

size_t helion_space_slot_neighbors(const helion_space_t *s, size_t slot,
                                   const int64_t *cells, int radius,
                                   int64_t *out, size_t max) {
  return slot_neighbors_into(s, slot, cells, radius, out, max, s->width[slot],
                             0);
}

void helion_space_slot_mutate(const helion_space_t *s, size_t slot,
                              helion_rng_t *rng, const int64_t *a,
                              const int64_t *b, const int64_t *c,
                              int64_t *out) {
  const helion_frag_t *f = &s->params[slot].frag;
  size_t off = s->cell_off[slot], w = s->width[slot];
  if (f->kind == HELION_FRAG_PERM) {
    if (memcmp(b + off, c + off, w * sizeof(*b)) == 0) {
      memmove(out + off, a + off, w * sizeof(*a));
    } else {
      helion_space_slot_random(s, slot, rng, out);
    }
    return;
  }
  helion_frag_kind k = helion__space_elem_kind(f);
  for (size_t i = 0; i < w; i++)
    out[off + i] = elem_mutate(f, k, rng, a[off + i], b[off + i], c[off + i]);
}

helion_num_t helion_space_slot_number(const helion_space_t *s, size_t slot,
                                      const int64_t *cells) {
  const helion_param_t *p = &s->params[slot];
  int64_t v = cells[s->cell_off[slot]];
  if (p->frag.kind != HELION_FRAG_ENUM)
    return helion_num_int(v);
  if (v < 0 || (size_t)v >= p->frag.nchoices)
    return helion_num_int(0);
  const helion_value_t *c = &p->frag.choices[v];
  switch (c->kind) {
  case HELION_VALUE_INT:
  case HELION_VALUE_BOOL:
    return helion_num_int(c->i);
  case HELION_VALUE_FLOAT:
    return helion_num_float(c->f);
  case HELION_VALUE_STR: {
    const struct helion_space_priv *pv = s->priv;
    return helion_num_int(
        pv->str_codes && pv->str_codes[slot] ? pv->str_codes[slot][v] : v);
  }
  default:
    return helion_num_int(0);
  }
}

/* ------------------------------------------------- whole configurations */

void helion_space_default(const helion_space_t *s, int64_t *out) {
  memcpy(out, s->default_cells, s->ncells * sizeof(*out));
}

/* Evaluates restriction r on cells; false on evaluation errors. */
bool helion__space_restriction_holds(const helion_space_t *s, size_t r,
                                     const helion_num_t *vals) {
  helion_num_t res;
  if (helion_expr_eval(s->priv->restr[r], vals, &res, NULL))
    return false;
  return helion_num_truthy(res);
}

void helion__space_fill_scope(const helion_space_t *s, const int64_t *cells,
                              helion_num_t *vals) {
  const struct helion_space_priv *pv = s->priv;
  memcpy(vals, pv->scope_template, pv->nscope * sizeof(*vals));
  for (size_t i = 0; i < s->nparams; i++)
    if (pv->param_scope[i] >= 0)
      vals[pv->param_scope[i]] = helion_space_slot_number(s, i, cells);
}

bool helion_space_valid(const helion_space_t *s, const int64_t *cells) {
  const struct helion_space_priv *pv = s->priv;
  if (pv->nrestr) {
    helion_num_t stack[STACK_SCOPE];
    helion_num_t *vals = pv->nscope <= STACK_SCOPE ? stack : pv->scratch;
    helion__space_fill_scope(s, cells, vals);
    for (size_t r = 0; r < pv->nrestr; r++)
      if (!helion__space_restriction_holds(s, r, vals))
        return false;
  }
  if (pv->filter && !pv->filter(cells, pv->filter_ud))
    return false;
  return true;
}

void helion_space_shrink(const helion_space_t *s, int64_t *cells,
                         int64_t max_elements_per_thread) {
  if (s->num_warps_slot < 0 || s->nblock_slots == 0)
    return;
  int64_t nw = cells[s->cell_off[s->num_warps_slot]];
  uint64_t mept =
      max_elements_per_thread < 1 ? 1 : (uint64_t)max_elements_per_thread;
  uint64_t limit = helion__space_sat_mul(
      helion__space_sat_mul(mept, nw < 1 ? 1 : (uint64_t)nw), 32);
  for (;;) {
    uint64_t prod = 1;
    for (size_t i = 0; i < s->nblock_slots; i++) {
      int64_t v = cells[s->cell_off[s->block_slots[i]]];
      prod = helion__space_sat_mul(prod, v < 1 ? 1 : (uint64_t)v);
    }
    if (prod <= limit)
      return;
    bool changed = false;
    for (size_t i = 0; i < s->nblock_slots; i++) {
      size_t slot = s->block_slots[i];
      int64_t *v = &cells[s->cell_off[slot]];
      if (*v / 2 >= s->params[slot].frag.low && *v / 2 >= 1) {
        *v /= 2;
        changed = true;
      }
    }
    if (!changed)
      return;
  }
}

void helion_space_random_raw(const helion_space_t *s, helion_rng_t *rng,
                             int64_t *out) {
  for (size_t i = 0; i < s->nparams; i++)
    helion_space_slot_random(s, i, rng, out);
  /* Helion: max_elements_per_thread = PowerOfTwo(1, 2048).random(). */
  int64_t mept = (int64_t)1 << helion_rng_range(rng, 0, 11);
  helion_space_shrink(s, out, mept);
}

void helion_space_normalize(const helion_space_t *s, int64_t *cells) {
  const struct helion_space_priv *pv = s->priv;
  for (size_t i = 0; i < s->nparams; i++) {
    const helion_frag_t *f = &s->params[i].frag;
    int64_t *c = cells + s->cell_off[i];
    size_t w = s->width[i];
    if (f->kind == HELION_FRAG_PERM) {
      if (!is_permutation(c, w))
        for (size_t j = 0; j < w; j++)
          c[j] = (int64_t)j;
      continue;
    }
    for (size_t j = 0; j < w; j++)
      c[j] = elem_normalize(f, helion__space_elem_kind(f), c[j]);
  }
  /* maxnreg register budget (Helion 1.6 rule 10). */
  if (pv->regs_per_sm > 0 && pv->maxnreg_slot >= 0 && s->num_warps_slot >= 0) {
    const helion_param_t *p = &s->params[pv->maxnreg_slot];
    int64_t *c = &cells[s->cell_off[pv->maxnreg_slot]];
    int64_t nw = cells[s->cell_off[s->num_warps_slot]];
    int64_t limit = pv->regs_per_sm / ((nw < 1 ? 1 : nw) * 32);
    const helion_value_t *cur = &p->frag.choices[*c];
    if (cur->kind == HELION_VALUE_INT && cur->i > limit) {
      int64_t best = -1, null_idx = -1;
      for (size_t j = 0; j < p->frag.nchoices; j++) {
        const helion_value_t *v = &p->frag.choices[j];
        if (v->kind == HELION_VALUE_NULL && null_idx < 0)
          null_idx = (int64_t)j;
        if (v->kind == HELION_VALUE_INT && v->i <= limit &&
            (best < 0 || v->i > p->frag.choices[best].i))
          best = (int64_t)j;
      }
      if (best >= 0)
        *c = best;
      else if (null_idx >= 0)
        *c = null_idx;
    }
  }
  /* num_sm_multiplier only matters for a persistent grid (rule 11). */
  if (pv->pid_slot >= 0 && pv->smm_slot >= 0) {
    const helion_param_t *p = &s->params[pv->pid_slot];
    int64_t pid = cells[s->cell_off[pv->pid_slot]];
    if (helion_params_choice_code(p, pid) < pv->persistent_code) {
      size_t off = s->cell_off[pv->smm_slot];
      memcpy(cells + off, s->default_cells + off,
             s->width[pv->smm_slot] * sizeof(*cells));
    }
  }
}

helion_status helion_space_random(const helion_space_t *s, helion_rng_t *rng,
                                  size_t attempts, int64_t *out) {
  if (attempts == 0)
    attempts = 1000;
  int64_t stack[256];
  int64_t *tmp = s->ncells <= 256 ? stack : malloc(s->ncells * sizeof(*tmp));
  if (!tmp)
    return HELION_ERR_NOMEM;
  helion_status rc = HELION_ERR_NO_CONFIG;
  for (size_t a = 0; a < attempts; a++) {
    helion_space_random_raw(s, rng, tmp);
    helion_space_normalize(s, tmp);
    if (helion_space_valid(s, tmp)) {
      memcpy(out, tmp, s->ncells * sizeof(*out));
      rc = HELION_OK;
      break;
    }
  }
  if (tmp != stack)
    free(tmp);
  return rc;
}

size_t helion_space_pattern_neighbors(const helion_space_t *s,
                                      const int64_t *base, int radius,
                                      int64_t *out, size_t max) {
  size_t n = 0;
  size_t nc = s->ncells;
  for (size_t i = 0; i < s->nparams; i++) {
    if (s->frozen[i])
      continue;
    size_t k = helion_space_slot_neighbors(s, i, base, radius, NULL, 0);
    for (size_t j = 0; j < k && n + j < max; j++)
      memcpy(out + (n + j) * nc, base, nc * sizeof(*out));
    if (n < max)
      slot_neighbors_into(s, i, base, radius, out + n * nc, max - n, nc,
                          s->cell_off[i]);
    n += k;
  }
  /* Pairs of block sizes move together (a tile's shape changes at once). */
  for (size_t x = 0; x < s->nblock_slots; x++) {
    size_t si = s->block_slots[x];
    if (s->frozen[si])
      continue;
    int64_t vi[128];
    size_t ni = helion_space_slot_neighbors(s, si, base, radius, vi, 128);
    if (ni > 128)
      ni = 128;
    for (size_t y = x + 1; y < s->nblock_slots; y++) {
      size_t sj = s->block_slots[y];
      if (s->frozen[sj])
        continue;
      int64_t vj[128];
      size_t nj = helion_space_slot_neighbors(s, sj, base, radius, vj, 128);
      if (nj > 128)
        nj = 128;
      for (size_t a = 0; a < ni; a++) {
        for (size_t b = 0; b < nj; b++, n++) {
          if (n >= max)
            continue;
          int64_t *dst = out + n * nc;
          memcpy(dst, base, nc * sizeof(*dst));
          dst[s->cell_off[si]] = vi[a];
          dst[s->cell_off[sj]] = vj[b];
        }
      }
    }
  }
  return n;
}

void helion_space_mutate(const helion_space_t *s, helion_rng_t *rng,
                         const int64_t *x, const int64_t *a, const int64_t *b,
                         const int64_t *c, double crossover, int64_t *out) {
  memmove(out, x, s->ncells * sizeof(*out));
  size_t live = 0;
  bool mutated = false;
  for (size_t i = 0; i < s->nparams; i++) {
    if (s->frozen[i])
      continue;
    live++;
    if (helion_rng_double(rng) < crossover) {
      helion_space_slot_mutate(s, i, rng, a, b, c, out);
      mutated = true;
    }
  }
  if (!mutated && live > 0) {
    uint64_t pick = helion_rng_below(rng, live);
    for (size_t i = 0; i < s->nparams; i++) {
      if (s->frozen[i])
        continue;
      if (pick-- == 0) {
        helion_space_slot_mutate(s, i, rng, a, b, c, out);
        break;
      }
    }
  }
  helion_space_shrink(s, out, 8192);
}

void helion_space_encode(const helion_space_t *s, const int64_t *cells,
                         double *out) {
  for (size_t i = 0; i < s->nparams; i++) {
    const helion_frag_t *f = &s->params[i].frag;
    const int64_t *c = cells + s->cell_off[i];
    double *o = out + s->enc_off[i];
    if (f->kind == HELION_FRAG_PERM) {
      for (size_t j = 0; j < f->length; j++)
        o[j] = (double)c[j];
      continue;
    }
    helion_frag_kind k = helion__space_elem_kind(f);
    size_t d = helion__space_elem_dim(f, k);
    for (size_t j = 0; j < s->width[i]; j++)
      elem_encode(f, k, c[j], o + j * d);
  }
}

int helion_space_find(const helion_space_t *s, const char *name) {
  for (size_t i = 0; i < s->nparams; i++) {
    const helion_param_t *p = &s->params[i];
    if (p->name && strcmp(p->name, name) == 0)
      return (int)i;
  }
  for (size_t i = 0; i < s->nparams; i++) {
    const helion_param_t *p = &s->params[i];
    size_t kl = strlen(p->key);
    if (strncmp(name, p->key, kl) != 0)
      continue;
    if (p->index < 0 && name[kl] == '\0')
      return (int)i;
    if (p->index >= 0 && name[kl] == '[') {
      char tail[32];
      snprintf(tail, sizeof(tail), "[%d]", p->index);
      if (strcmp(name + kl, tail) == 0)
        return (int)i;
    }
  }
  return -1;
}

/* ------------------------------------------------------- size, counting */

/* Little-endian base-1e9 bignum. */
typedef struct bignum {
  uint32_t *d;
  size_t n;
} bignum_t;

#define BIG_BASE 1000000000u

static helion_status big_mul(bignum_t *a, uint64_t factor) {
  /* factor as base-1e9 digits (at most 3), then schoolbook. */
  uint32_t fd[3];
  size_t fn = 0;
  do {
    fd[fn++] = (uint32_t)(factor % BIG_BASE);
    factor /= BIG_BASE;
  } while (factor);
  uint32_t *r = calloc(a->n + fn + 1, sizeof(*r));
  if (!r)
    return HELION_ERR_NOMEM;
  for (size_t i = 0; i < a->n; i++) {
    uint64_t carry = 0;
    size_t j = 0;
    for (; j < fn; j++) {
      uint64_t t = r[i + j] + (uint64_t)a->d[i] * fd[j] + carry;
      r[i + j] = (uint32_t)(t % BIG_BASE);
      carry = t / BIG_BASE;
    }
    for (size_t k = i + j; carry; k++) {
      uint64_t t = r[k] + carry;
      r[k] = (uint32_t)(t % BIG_BASE);
      carry = t / BIG_BASE;
    }
  }
  size_t n = a->n + fn + 1;
  while (n > 1 && r[n - 1] == 0)
    n--;
  free(a->d);
  a->d = r;
  a->n = n;
  return HELION_OK;
}

/* Multiplies by the exact cardinality of one element kind. */
static helion_status big_mul_elem(bignum_t *a, const helion_frag_t *f,
                                  helion_frag_kind k) {
  if (k == HELION_FRAG_INT &&
      (uint64_t)f->high - (uint64_t)f->low == UINT64_MAX) {
    helion_status rc = big_mul(a, (uint64_t)1 << 32);
    return rc ? rc : big_mul(a, (uint64_t)1 << 32);
  }
  return big_mul(a, elem_card(f, k));
}

helion_status helion_space_size_str(const helion_space_t *s,
                                    helion_buf_t *out) {
  bignum_t b = {calloc(1, sizeof(uint32_t)), 1};
  helion_status rc = HELION_OK;
  if (!b.d)
    return HELION_ERR_NOMEM;
  b.d[0] = 1;
  for (size_t i = 0; i < s->nparams && !rc; i++) {
    const helion_frag_t *f = &s->params[i].frag;
    if (f->kind == HELION_FRAG_PERM) {
      for (size_t j = 2; j <= f->length && !rc; j++)
        rc = big_mul(&b, j);
    } else if (f->kind == HELION_FRAG_LIST) {
      for (size_t j = 0; j < f->length && !rc; j++)
        rc = big_mul_elem(&b, f, f->inner);
    } else {
      rc = big_mul_elem(&b, f, f->kind);
    }
  }
  if (!rc)
    rc = helion_buf_appendf(out, "%" PRIu32, b.d[b.n - 1]);
  for (size_t i = b.n - 1; i-- > 0 && !rc;)
    rc = helion_buf_appendf(out, "%09" PRIu32, b.d[i]);
  free(b.d);
  return rc;
}

/*
 * Calls visit(cells) for every combination of the values of `slots` (the
 * other cells as in `cells`), stopping early when visit returns true.
 * Returns true when a visit did.
 */
bool helion__space_enumerate_slots(
    const helion_space_t *s, const size_t *slots, size_t nslots, int64_t *cells,
    bool (*visit)(const helion_space_t *s, const int64_t *cells, void *ud),
    void *ud) {
  uint64_t stack_idx[64];
  uint64_t *idx = nslots <= 64 ? stack_idx : calloc(nslots, sizeof(*idx));
  if (!idx)
    return false;
  bool stop = false;
  for (size_t i = 0; i < nslots; i++) {
    idx[i] = 0;
    slot_decode(s, slots[i], 0, cells);
  }
  for (;;) {
    if (visit(s, cells, ud)) {
      stop = true;
      break;
    }
    size_t i = nslots;
    while (i-- > 0) {
      if (++idx[i] < helion_space_slot_cardinality(s, slots[i])) {
        slot_decode(s, slots[i], idx[i], cells);
        break;
      }
      idx[i] = 0;
      slot_decode(s, slots[i], 0, cells);
    }
    if (i == (size_t)-1)
      break;
  }
  if (idx != stack_idx)
    free(idx);
  return stop;
}

typedef struct count_ud {
  uint64_t valid;
} count_ud_t;

static bool count_visit(const helion_space_t *s, const int64_t *cells,
                        void *ud) {
  if (helion_space_valid(s, cells))
    ((count_ud_t *)ud)->valid++;
  return false;
}

void helion_space_count_valid(const helion_space_t *s, helion_rng_t *rng,
                              uint64_t max_enumerate, uint64_t samples,
                              double *out_valid_fraction, bool *out_exact) {
  uint64_t total = 1;
  for (size_t i = 0; i < s->nparams; i++)
    total = helion__space_sat_mul(total, helion_space_slot_cardinality(s, i));
  int64_t *cells = malloc((s->ncells ? s->ncells : 1) * sizeof(*cells));
  size_t *slots = malloc((s->nparams ? s->nparams : 1) * sizeof(*slots));
  if (!cells || !slots) {
    free(cells);
    free(slots);
    *out_valid_fraction = 0.0;
    *out_exact = false;
    return;
  }
  helion_space_default(s, cells);
  if (total != UINT64_MAX && total <= max_enumerate) {
    for (size_t i = 0; i < s->nparams; i++)
      slots[i] = i;
    count_ud_t ud = {0};
    helion__space_enumerate_slots(s, slots, s->nparams, cells, count_visit,
                                  &ud);
    *out_valid_fraction = (double)ud.valid / (double)total;
    *out_exact = true;
  } else {
    uint64_t valid = 0;
    for (uint64_t k = 0; k < samples; k++) {
      for (size_t i = 0; i < s->nparams; i++)
        helion_space_slot_random(s, i, rng, cells);
      if (helion_space_valid(s, cells))
        valid++;
    }
    *out_valid_fraction = samples ? (double)valid / (double)samples : 0.0;
    *out_exact = false;
  }
  free(cells);
  free(slots);
}

typedef struct valid_ud {
  helion_space_visit_fn visit;
  void *ud;
} valid_ud_t;

static bool valid_visit(const helion_space_t *s, const int64_t *cells,
                        void *ud) {
  valid_ud_t *v = ud;
  return helion_space_valid(s, cells) && v->visit(s, cells, v->ud);
}

helion_status helion_space_enumerate_valid(const helion_space_t *s,
                                           uint64_t max_enumerate,
                                           helion_space_visit_fn visit,
                                           void *ud) {
  uint64_t total = 1;
  for (size_t i = 0; i < s->nparams; i++)
    total = helion__space_sat_mul(total, helion_space_slot_cardinality(s, i));
  if (total == UINT64_MAX || total > max_enumerate)
    return HELION_ERR_LIMIT;
  helion_status rc = HELION_OK;
  int64_t *cells = malloc((s->ncells ? s->ncells : 1) * sizeof(*cells));
  size_t *slots = malloc((s->nparams ? s->nparams : 1) * sizeof(*slots));
  if (!cells || !slots) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  helion_space_default(s, cells);
  for (size_t i = 0; i < s->nparams; i++)
    slots[i] = i;
  valid_ud_t v = {visit, ud};
  helion__space_enumerate_slots(s, slots, s->nparams, cells, valid_visit, &v);
out:
  free(cells);
  free(slots);
  return rc;
}

/* ---------------------------------------------------------- fingerprint */

static const char *kind_name(helion_frag_kind k) {
  static const char *const names[] = {"pow2", "int",  "enum",
                                      "bool", "perm", "list"};
  return (unsigned)k < 6 ? names[k] : "?";
}

static helion_status put_value(helion_buf_t *b, const helion_value_t *v) {
  switch (v->kind) {
  case HELION_VALUE_NULL:
    return helion_buf_puts(b, "null");
  case HELION_VALUE_BOOL:
    return helion_buf_puts(b, v->i ? "true" : "false");
  case HELION_VALUE_INT:
    return helion_buf_appendf(b, "%" PRId64, v->i);
  case HELION_VALUE_FLOAT:
    return helion_buf_appendf(b, "f%.17g", v->f);
  case HELION_VALUE_STR:
    return helion_buf_put_json_string(b, v->s ? v->s : "");
  }
  return HELION_OK;
}

void helion_space_fingerprint(const helion_space_t *s, char out[65]) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_buf_puts(&b, "helion-space-v1\n");
  for (size_t i = 0; i < s->nparams && !rc; i++) {
    const helion_param_t *p = &s->params[i];
    const helion_frag_t *f = &p->frag;
    rc = helion_buf_appendf(&b, "param %s %d %s role=%d kind=%s", p->key,
                            p->index, p->name ? p->name : "-", (int)p->role,
                            kind_name(f->kind));
    if (!rc && f->kind == HELION_FRAG_LIST)
      rc = helion_buf_appendf(&b, " inner=%s", kind_name(f->inner));
    if (!rc && (f->kind == HELION_FRAG_PERM || f->kind == HELION_FRAG_LIST))
      rc = helion_buf_appendf(&b, " length=%zu", f->length);
    helion_frag_kind k = helion__space_elem_kind(f);
    if (!rc && (k == HELION_FRAG_POW2 || k == HELION_FRAG_INT) &&
        f->kind != HELION_FRAG_PERM)
      rc = helion_buf_appendf(&b, " low=%" PRId64 " high=%" PRId64, f->low,
                              f->high);
    if (!rc && k == HELION_FRAG_ENUM && f->kind != HELION_FRAG_PERM) {
      rc = helion_buf_puts(&b, " choices=");
      for (size_t j = 0; j < f->nchoices && !rc; j++) {
        rc = helion_buf_putc(&b, j ? ',' : '[');
        if (!rc)
          rc = put_value(&b, &f->choices[j]);
      }
      if (!rc)
        rc = helion_buf_putc(&b, ']');
    }
    if (!rc)
      rc = helion_buf_putc(&b, '\n');
  }
  for (size_t r = 0; r < s->priv->nrestr && !rc; r++)
    rc = helion_buf_appendf(&b, "restriction %s\n",
                            helion_expr_text(s->priv->restr[r]));
  /* On allocation failure the digest covers what was built; a fingerprint
   * never fails, and such a space is unusable anyway. */
  helion_sha256_hex(helion_buf_str(&b), b.len, out);
  helion_buf_cleanup(&b);
}

/* ------------------------------------------------ restrictions as text */

size_t helion_space_restriction_count(const helion_space_t *s) {
  return s->priv->nrestr;
}

const char *helion_space_restriction_text(const helion_space_t *s, size_t r) {
  return r < s->priv->nrestr ? helion_expr_text(s->priv->restr[r]) : "";
}

ptrdiff_t helion_space_first_violation(const helion_space_t *s,
                                       const int64_t *cells) {
  const struct helion_space_priv *pv = s->priv;
  if (pv->nrestr) {
    helion_num_t stack[STACK_SCOPE];
    helion_num_t *vals = pv->nscope <= STACK_SCOPE ? stack : pv->scratch;
    helion__space_fill_scope(s, cells, vals);
    for (size_t r = 0; r < pv->nrestr; r++)
      if (!helion__space_restriction_holds(s, r, vals))
        return (ptrdiff_t)r;
  }
  if (pv->filter && !pv->filter(cells, pv->filter_ud))
    return (ptrdiff_t)pv->nrestr;
  return -1;
}
