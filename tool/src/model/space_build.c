/*
 * space_build.c: building a space (helion_space_create): validation of the
 * parameters, the restrictions parsed against the scope and checked to be
 * satisfiable, the slots the parameter table's rules act on; and
 * helion_space_destroy.
 */
#include "model/space_priv.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/params.h"

/* -------------------------------------------------------- construction */

static void slot_label(const helion_param_t *p, char *buf, size_t n) {
  if (p->index >= 0)
    snprintf(buf, n, "%s[%d]", p->key ? p->key : "?", p->index);
  else
    snprintf(buf, n, "%s", p->key ? p->key : "?");
}

static helion_status pow2_error(helion_err_t *err, const char *label,
                                const char *field, int64_t v) {
  if (v < 1)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s.%s: %" PRId64 " is not a power of two; use 1",
                          label, field, v);
  int64_t lo = (int64_t)1 << helion_log2_floor((uint64_t)v);
  if (lo >= ((int64_t)1 << 62))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s.%s: %" PRId64
                          " is not a power of two; use %" PRId64,
                          label, field, v, lo);
  return helion_err_set(err, HELION_ERR_INVALID,
                        "%s.%s: %" PRId64 " is not a power of two; use %" PRId64
                        " or %" PRId64,
                        label, field, v, lo, lo * 2);
}

static bool values_equal(const helion_value_t *a, const helion_value_t *b) {
  bool an = a->kind == HELION_VALUE_INT || a->kind == HELION_VALUE_FLOAT;
  bool bn = b->kind == HELION_VALUE_INT || b->kind == HELION_VALUE_FLOAT;
  if (an && bn) {
    double x = a->kind == HELION_VALUE_INT ? (double)a->i : a->f;
    double y = b->kind == HELION_VALUE_INT ? (double)b->i : b->f;
    if (a->kind == HELION_VALUE_INT && b->kind == HELION_VALUE_INT)
      return a->i == b->i;
    return x == y;
  }
  if (a->kind != b->kind)
    return false;
  switch (a->kind) {
  case HELION_VALUE_NULL:
    return true;
  case HELION_VALUE_BOOL:
    return (a->i != 0) == (b->i != 0);
  case HELION_VALUE_STR:
    return strcmp(a->s ? a->s : "", b->s ? b->s : "") == 0;
  default:
    return false;
  }
}

static void put_value_plain(char *buf, size_t n, const helion_value_t *v) {
  switch (v->kind) {
  case HELION_VALUE_NULL:
    snprintf(buf, n, "null");
    break;
  case HELION_VALUE_BOOL:
    snprintf(buf, n, "%s", v->i ? "true" : "false");
    break;
  case HELION_VALUE_INT:
    snprintf(buf, n, "%" PRId64, v->i);
    break;
  case HELION_VALUE_FLOAT:
    snprintf(buf, n, "%g", v->f);
    break;
  case HELION_VALUE_STR:
    snprintf(buf, n, "\"%s\"", v->s ? v->s : "");
    break;
  }
}

/* Validates one scalar element description (the slot itself or a LIST's
 * inner kind). */
static helion_status check_elem(const helion_frag_t *f, helion_frag_kind k,
                                const char *label, helion_err_t *err) {
  switch (k) {
  case HELION_FRAG_POW2:
    if (!helion_is_pow2(f->low))
      return pow2_error(err, label, "min", f->low);
    if (!helion_is_pow2(f->high))
      return pow2_error(err, label, "max", f->high);
    /* fallthrough */
  case HELION_FRAG_INT:
    if (f->low > f->high)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s: min %" PRId64 " is greater than max %" PRId64
                            "; swap them",
                            label, f->low, f->high);
    if (f->dflt < f->low || f->dflt > f->high)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s.default: %" PRId64 " is outside [%" PRId64
                            ", %" PRId64 "]",
                            label, f->dflt, f->low, f->high);
    if (k == HELION_FRAG_POW2 && !helion_is_pow2(f->dflt))
      return pow2_error(err, label, "default", f->dflt);
    return HELION_OK;
  case HELION_FRAG_ENUM:
    if (f->nchoices == 0 || !f->choices)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s.choices: no choices; give at least one", label);
    for (size_t i = 0; i < f->nchoices; i++) {
      const helion_value_t *v = &f->choices[i];
      if (v->kind == HELION_VALUE_STR && !v->s)
        return helion_err_set(err, HELION_ERR_INVALID,
                              "%s.choices[%zu]: string choice without text",
                              label, i);
      if (v->kind == HELION_VALUE_FLOAT && !isfinite(v->f))
        return helion_err_set(err, HELION_ERR_INVALID,
                              "%s.choices[%zu]: not a finite number", label, i);
      for (size_t j = 0; j < i; j++) {
        if (values_equal(v, &f->choices[j])) {
          char txt[96];
          put_value_plain(txt, sizeof(txt), v);
          return helion_err_set(err, HELION_ERR_INVALID,
                                "%s.choices[%zu]: %s repeats choices[%zu]; "
                                "list each choice once",
                                label, i, txt, j);
        }
      }
    }
    if (f->dflt < 0 || (uint64_t)f->dflt >= f->nchoices)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s.default: choice index %" PRId64
                            " is outside [0, %zu]",
                            label, f->dflt, f->nchoices - 1);
    return HELION_OK;
  case HELION_FRAG_BOOL:
    if (f->dflt != 0 && f->dflt != 1)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s.default: %" PRId64 " is not a boolean (0 or 1)",
                            label, f->dflt);
    return HELION_OK;
  default:
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: a list element must be a power of two, integer, "
                          "enum or boolean",
                          label);
  }
}

static helion_status check_param(const helion_param_t *p, const char *label,
                                 helion_err_t *err) {
  const helion_frag_t *f = &p->frag;
  if (p->name && !helion_is_c_identifier(p->name))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s.name: '%s' is not a C identifier", label,
                          p->name);
  if (p->role == HELION_ROLE_BLOCK_SIZE && f->kind != HELION_FRAG_POW2)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: a block size must be a power-of-two parameter",
                          label);
  if (p->role == HELION_ROLE_NUM_WARPS && f->kind != HELION_FRAG_POW2 &&
      f->kind != HELION_FRAG_INT)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: num_warps must be a power-of-two or integer "
                          "parameter",
                          label);
  switch (f->kind) {
  case HELION_FRAG_POW2:
  case HELION_FRAG_INT:
  case HELION_FRAG_ENUM:
  case HELION_FRAG_BOOL:
    return check_elem(f, f->kind, label, err);
  case HELION_FRAG_PERM:
  case HELION_FRAG_LIST:
    if (f->length < 1)
      return helion_err_set(
          err, HELION_ERR_INVALID,
          "%s.length: 0; a %s needs at least one element", label,
          f->kind == HELION_FRAG_PERM ? "permutation" : "list");
    if (f->length > MAX_SLOT_LENGTH)
      return helion_err_set(err, HELION_ERR_LIMIT,
                            "%s.length: %zu is above the limit of %u", label,
                            f->length, MAX_SLOT_LENGTH);
    if (f->kind == HELION_FRAG_LIST)
      return check_elem(f, f->inner, label, err);
    return HELION_OK;
  }
  return helion_err_set(err, HELION_ERR_INVALID,
                        "%s: unknown parameter kind %d", label, (int)f->kind);
}

/* Keys, indices and names across params. */
static helion_status check_layout(const helion_space_opts_t *o,
                                  helion_err_t *err) {
  char li[160], lj[160];
  for (size_t i = 0; i < o->nparams; i++) {
    const helion_param_t *p = &o->params[i];
    slot_label(p, li, sizeof(li));
    if (!p->key || !*p->key)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "params[%zu]: empty key; every parameter needs one",
                            i);
    if (p->index < -1)
      return helion_err_set(err, HELION_ERR_INVALID, "%s: negative index %d",
                            p->key, p->index);
    size_t seq_len = 0;
    for (size_t j = 0; j < o->nparams; j++) {
      const helion_param_t *q = &o->params[j];
      if (!q->key || strcmp(q->key, p->key) != 0)
        continue;
      if (j < i) {
        slot_label(q, lj, sizeof(lj));
        if ((p->index < 0) != (q->index < 0))
          return helion_err_set(err, HELION_ERR_INVALID,
                                "%s: key '%s' is used both as a single value "
                                "and as a sequence (%s)",
                                li, p->key, lj);
        if (p->index == q->index)
          return helion_err_set(err, HELION_ERR_INVALID,
                                "%s: duplicate slot (params %zu and %zu); each "
                                "key[index] must appear once",
                                li, j, i);
      }
      seq_len++;
    }
    if (p->index >= 0 && (size_t)p->index >= seq_len)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s: index beyond the %zu slots of '%s'; indices "
                            "must run 0..%zu without gaps",
                            li, seq_len, p->key, seq_len - 1);
    if (!p->name)
      continue;
    for (size_t j = 0; j < i; j++) {
      const helion_param_t *q = &o->params[j];
      if (q->name && strcmp(q->name, p->name) == 0) {
        slot_label(q, lj, sizeof(lj));
        return helion_err_set(err, HELION_ERR_INVALID,
                              "duplicate name '%s' (%s and %s); names must be "
                              "unique",
                              p->name, lj, li);
      }
    }
    for (size_t j = 0; j < o->nextra; j++) {
      if (o->extra_names[j] && strcmp(o->extra_names[j], p->name) == 0)
        return helion_err_set(err, HELION_ERR_INVALID,
                              "duplicate name '%s' (%s and a shape variable or "
                              "device property); names must be unique",
                              p->name, li);
    }
  }
  return HELION_OK;
}

typedef struct sat_ud {
  size_t r;
  helion_num_t *vals;
} sat_ud_t;

static bool sat_visit(const helion_space_t *s, const int64_t *cells, void *ud) {
  sat_ud_t *u = ud;
  helion__space_fill_scope(s, cells, u->vals);
  return helion__space_restriction_holds(s, u->r, u->vals);
}

/*
 * Whether any configuration satisfies restriction r: enumerates the slots it
 * reads when they span at most RESTRICTION_CHECK_LIMIT combinations (exact),
 * else samples that many. Writes how many were checked.
 */
static helion_status restriction_satisfiable(const helion_space_t *s, size_t r,
                                             bool *out_sat, uint64_t *out_n,
                                             bool *out_exact) {
  const struct helion_space_priv *pv = s->priv;
  helion_status rc = HELION_OK;
  size_t *slots = malloc((s->nparams ? s->nparams : 1) * sizeof(*slots));
  int64_t *cells = malloc((s->ncells ? s->ncells : 1) * sizeof(*cells));
  helion_num_t *vals = malloc((pv->nscope ? pv->nscope : 1) * sizeof(*vals));
  if (!slots || !cells || !vals) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  size_t n = 0;
  uint64_t total = 1;
  for (size_t i = 0; i < s->nparams; i++) {
    if (pv->param_scope[i] >= 0 &&
        helion_expr_uses(pv->restr[r], (size_t)pv->param_scope[i])) {
      slots[n++] = i;
      total = helion__space_sat_mul(total, helion_space_slot_cardinality(s, i));
    }
  }
  helion_space_default(s, cells);
  sat_ud_t ud = {r, vals};
  if (total <= RESTRICTION_CHECK_LIMIT) {
    *out_sat =
        helion__space_enumerate_slots(s, slots, n, cells, sat_visit, &ud);
    *out_n = total;
    *out_exact = true;
  } else {
    /* A fixed seed keeps the verdict the same on every run. */
    helion_rng_t rng;
    helion_rng_seed(&rng, 0x5eedu);
    *out_sat = false;
    for (uint64_t k = 0; k < RESTRICTION_CHECK_LIMIT && !*out_sat; k++) {
      for (size_t i = 0; i < n; i++)
        helion_space_slot_random(s, slots[i], &rng, cells);
      *out_sat = sat_visit(s, cells, &ud);
    }
    *out_n = RESTRICTION_CHECK_LIMIT;
    *out_exact = false;
  }
out:
  free(slots);
  free(cells);
  free(vals);
  return rc;
}

static helion_status check_restrictions(helion_space_t *s, helion_err_t *err) {
  struct helion_space_priv *pv = s->priv;
  helion_status rc = HELION_OK;
  helion_num_t *vals = malloc((pv->nscope ? pv->nscope : 1) * sizeof(*vals));
  bool *dflt_ok = calloc(pv->nrestr ? pv->nrestr : 1, sizeof(*dflt_ok));
  if (!vals || !dflt_ok) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  helion__space_fill_scope(s, s->default_cells, vals);
  for (size_t r = 0; r < pv->nrestr; r++)
    dflt_ok[r] = helion__space_restriction_holds(s, r, vals);
  /* An unsatisfiable restriction is the deeper fault: report it first. */
  for (size_t r = 0; r < pv->nrestr; r++) {
    if (dflt_ok[r])
      continue;
    bool sat = false, exact = false;
    uint64_t n = 0;
    rc = restriction_satisfiable(s, r, &sat, &n, &exact);
    if (rc)
      goto out;
    if (!sat) {
      const char *text = helion_expr_text(pv->restr[r]);
      if (exact)
        rc =
            helion_err_set(err, HELION_ERR_INVALID,
                           "restrictions[%zu] '%s': no configuration satisfies "
                           "it (checked all %" PRIu64 " configurations)",
                           r, text, n);
      else
        rc =
            helion_err_set(err, HELION_ERR_INVALID,
                           "restrictions[%zu] '%s': no configuration satisfies "
                           "it (none of %" PRIu64 " sampled)",
                           r, text, n);
      goto out;
    }
  }
  for (size_t r = 0; r < pv->nrestr; r++) {
    if (dflt_ok[r])
      continue;
    helion_num_t res;
    helion_err_t eerr;
    const char *text = helion_expr_text(pv->restr[r]);
    if (helion_expr_eval(pv->restr[r], vals, &res, &eerr))
      rc =
          helion_err_set(err, HELION_ERR_INVALID,
                         "defaults: the default configuration violates "
                         "restrictions[%zu] '%s' (%s); set \"defaults\" to one "
                         "that satisfies it",
                         r, text, eerr.msg);
    else
      rc =
          helion_err_set(err, HELION_ERR_INVALID,
                         "defaults: the default configuration violates "
                         "restrictions[%zu] '%s'; set \"defaults\" to one that "
                         "satisfies it",
                         r, text);
    goto out;
  }
out:
  free(vals);
  free(dflt_ok);
  return rc;
}

/* The scalar slot of the standard key `d` (NULL: none), or -1. */
static int find_row(const helion_space_t *s, const helion_param_def_t *d) {
  for (size_t i = 0; d && i < s->nparams; i++)
    if (s->params[i].index < 0 && strcmp(s->params[i].key, d->key) == 0)
      return (int)i;
  return -1;
}

/* Fills pv->str_codes for every slot with string choices. */
static helion_status string_codes(helion_space_t *s) {
  struct helion_space_priv *pv = s->priv;
  pv->str_codes = calloc(s->nparams ? s->nparams : 1, sizeof(int64_t *));
  if (!pv->str_codes)
    return HELION_ERR_NOMEM;
  for (size_t i = 0; i < s->nparams; i++) {
    const helion_param_t *p = &s->params[i];
    bool strings = false;
    for (size_t j = 0; j < p->frag.nchoices; j++)
      strings |= p->frag.choices[j].kind == HELION_VALUE_STR;
    if (!strings)
      continue;
    pv->str_codes[i] = malloc(p->frag.nchoices * sizeof(int64_t));
    if (!pv->str_codes[i])
      return HELION_ERR_NOMEM;
    for (size_t j = 0; j < p->frag.nchoices; j++)
      pv->str_codes[i][j] = helion_params_choice_code(p, (int64_t)j);
  }
  return HELION_OK;
}

helion_status helion_space_create(const helion_space_opts_t *opts,
                                  helion_space_t **out, helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_space_t *s = calloc(1, sizeof(*s));
  char label[160];
  if (!s)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  s->num_warps_slot = -1;
  rc = check_layout(opts, err);
  if (rc)
    goto out;
  for (size_t i = 0; i < opts->nparams; i++) {
    slot_label(&opts->params[i], label, sizeof(label));
    rc = check_param(&opts->params[i], label, err);
    if (rc)
      goto out;
  }
  size_t np = opts->nparams;
  s->priv = calloc(1, sizeof(*s->priv));
  s->params = calloc(np ? np : 1, sizeof(*s->params));
  s->cell_off = calloc(np ? np : 1, sizeof(*s->cell_off));
  s->width = calloc(np ? np : 1, sizeof(*s->width));
  s->enc_off = calloc(np ? np : 1, sizeof(*s->enc_off));
  s->block_slots = calloc(np ? np : 1, sizeof(*s->block_slots));
  s->frozen = calloc(np ? np : 1, sizeof(*s->frozen));
  if (!s->priv || !s->params || !s->cell_off || !s->width || !s->enc_off ||
      !s->block_slots || !s->frozen) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  struct helion_space_priv *pv = s->priv;
  pv->pid_slot = pv->smm_slot = pv->maxnreg_slot = -1;
  for (size_t i = 0; i < np; i++) {
    if (helion_param_copy(&s->params[i], &opts->params[i])) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
    s->nparams = i + 1;
    helion_param_t *p = &s->params[i];
    if (p->frag.kind != HELION_FRAG_PERM && p->frag.kind != HELION_FRAG_LIST)
      p->frag.length = 1;
    s->cell_off[i] = s->ncells;
    s->width[i] = p->frag.length;
    s->ncells += p->frag.length;
    s->enc_off[i] = s->enc_dim;
    if (p->frag.kind == HELION_FRAG_PERM)
      s->enc_dim += p->frag.length;
    else
      s->enc_dim +=
          p->frag.length *
          helion__space_elem_dim(&p->frag, helion__space_elem_kind(&p->frag));
    if (p->role == HELION_ROLE_BLOCK_SIZE)
      s->block_slots[s->nblock_slots++] = i;
    if (p->role == HELION_ROLE_NUM_WARPS && s->num_warps_slot < 0)
      s->num_warps_slot = (int)i;
  }
  const helion_param_def_t *pid_row =
      helion_params_with_launch(HELION_LAUNCH_PID);
  int pid = find_row(s, pid_row);
  int smm = find_row(s, helion_params_with_rule(HELION_RULE_PERSISTENT_ONLY));
  int mnr = find_row(s, helion_params_with_rule(HELION_RULE_REGISTER_BUDGET));
  if (pid >= 0 && s->params[pid].frag.kind == HELION_FRAG_ENUM) {
    pv->pid_slot = pid;
    pv->persistent_code = pid_row->persistent_code;
  }
  if (smm >= 0 && s->params[smm].frag.kind != HELION_FRAG_PERM &&
      s->params[smm].frag.kind != HELION_FRAG_LIST)
    pv->smm_slot = smm;
  if (mnr >= 0 && s->params[mnr].frag.kind == HELION_FRAG_ENUM)
    pv->maxnreg_slot = mnr;
  if (string_codes(s)) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  pv->regs_per_sm = opts->regs_per_sm;
  pv->filter = opts->filter;
  pv->filter_ud = opts->filter_ud;

  s->enc_slot = calloc(s->enc_dim ? s->enc_dim : 1, sizeof(*s->enc_slot));
  s->default_cells =
      calloc(s->ncells ? s->ncells : 1, sizeof(*s->default_cells));
  pv->param_scope = calloc(np ? np : 1, sizeof(*pv->param_scope));
  size_t nscope_max = np + opts->nextra;
  pv->scope_names =
      calloc(nscope_max ? nscope_max : 1, sizeof(*pv->scope_names));
  pv->extra_names = calloc(opts->nextra ? opts->nextra : 1, sizeof(char *));
  pv->nextra = opts->nextra;
  pv->scope_template =
      calloc(nscope_max ? nscope_max : 1, sizeof(helion_num_t));
  pv->scratch = calloc(nscope_max ? nscope_max : 1, sizeof(helion_num_t));
  pv->restr =
      calloc(opts->nrestrictions ? opts->nrestrictions : 1, sizeof(*pv->restr));
  if (!s->enc_slot || !s->default_cells || !pv->param_scope ||
      !pv->scope_names || !pv->extra_names || !pv->scope_template ||
      !pv->scratch || !pv->restr) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < np; i++) {
    size_t d = (i + 1 < np ? s->enc_off[i + 1] : s->enc_dim) - s->enc_off[i];
    for (size_t j = 0; j < d; j++)
      s->enc_slot[s->enc_off[i] + j] = i;
    const helion_frag_t *f = &s->params[i].frag;
    int64_t *c = s->default_cells + s->cell_off[i];
    for (size_t j = 0; j < s->width[i]; j++)
      c[j] = f->kind == HELION_FRAG_PERM ? (int64_t)j : f->dflt;
    if (s->params[i].name) {
      pv->param_scope[i] = (int)pv->nscope;
      pv->scope_names[pv->nscope++] = s->params[i].name;
    } else {
      pv->param_scope[i] = -1;
    }
  }
  for (size_t j = 0; j < opts->nextra; j++) {
    if (!(pv->extra_names[j] = helion_strdup(opts->extra_names[j]))) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
    pv->scope_template[pv->nscope] = opts->extra_values[j];
    pv->scope_names[pv->nscope++] = pv->extra_names[j];
  }
  helion_expr_scope_t scope = {pv->scope_names, pv->nscope};
  for (size_t r = 0; r < opts->nrestrictions; r++) {
    rc = helion_expr_parse(opts->restrictions[r], &scope, &pv->restr[r], err);
    if (rc) {
      helion_err_prefix(err, "restrictions[%zu]: ", r);
      goto out;
    }
    pv->nrestr = r + 1;
  }
  helion_space_normalize(s, s->default_cells);
  rc = check_restrictions(s, err);
out:
  if (rc) {
    helion_space_destroy(s);
    return rc;
  }
  *out = s;
  return HELION_OK;
}

void helion_space_destroy(helion_space_t *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nparams; i++)
    helion_param_cleanup(&s->params[i]);
  free(s->params);
  free(s->cell_off);
  free(s->width);
  free(s->enc_off);
  free(s->enc_slot);
  free(s->block_slots);
  free(s->frozen);
  free(s->default_cells);
  struct helion_space_priv *pv = s->priv;
  if (pv) {
    for (size_t r = 0; r < pv->nrestr; r++)
      helion_expr_destroy(pv->restr[r]);
    free(pv->restr);
    for (size_t j = 0; pv->extra_names && j < pv->nextra; j++)
      free(pv->extra_names[j]);
    free(pv->extra_names);
    free(pv->scope_names);
    free(pv->scope_template);
    free(pv->scratch);
    free(pv->param_scope);
    for (size_t i = 0; pv->str_codes && i < s->nparams; i++)
      free(pv->str_codes[i]);
    free(pv->str_codes);
    free(pv);
  }
  free(s);
}
