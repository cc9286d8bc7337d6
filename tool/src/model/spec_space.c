/* spec_space.c: reads a spec's "space" (the standard parameters of
 * params.h and user tunables) and "defaults" into flat slots. */
#define _POSIX_C_SOURCE 200809L
#include "model/spec_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/params.h"

/* Room for the standard keys when suggesting one for a typo. */
#define MAX_STD_KEYS 64

/* ------------------------------------------------------------ space */

static helion_frag_t frag_scalar(helion_frag_kind kind, int64_t low,
                                 int64_t high, int64_t dflt) {
  helion_frag_t f;
  memset(&f, 0, sizeof(f));
  f.kind = kind;
  f.inner = kind;
  f.low = low;
  f.high = high;
  f.dflt = dflt;
  f.length = 1;
  return f;
}

/*
 * Appends a flat slot; takes ownership of frag's choices even on failure.
 * `name` (NULL for PERM/LIST) and, when given, `reserve` (the key of a
 * nameless user tunable) are registered as taken by `owner`.
 */
static helion_status add_param(helion__spec_ctx_t *c, const char *key,
                               int index, const char *name, const char *reserve,
                               helion_frag_role role, helion_frag_t *frag,
                               const char *owner) {
  helion_spec_t *s = c->spec;
  helion_status rc = HELION_OK;
  if (s->nparams >= MAX_PARAMS) {
    rc = helion__spec_fail(
        c, HELION_ERR_LIMIT,
        "more than %d parameters; a space has at most %d flat slots",
        MAX_PARAMS, MAX_PARAMS);
    goto out;
  }
  if (name || reserve) {
    rc = helion__spec_register_name(c, name ? name : reserve, owner);
    if (rc)
      goto out;
  }
  helion_param_t *p = &s->params[s->nparams];
  memset(p, 0, sizeof(*p));
  s->nparams++;
  p->frag = *frag;
  frag->choices = NULL;
  frag->nchoices = 0;
  p->index = index;
  p->role = role;
  p->key = helion_strdup(key);
  p->name = helion_strdup(name);
  if (!p->key || (name && !p->name))
    rc = helion__spec_nomem(c);
  /* The registry borrows the param's own copy of the name. */
  if (!rc && (name || reserve))
    c->names[c->nnames - 1].name = name ? p->name : p->key;
out:
  helion__spec_free_choices(frag->choices, frag->nchoices);
  frag->choices = NULL;
  return rc;
}

/* How a {min, max, default} object of a standard key or a user tunable is
 * read. */
typedef struct bounds_rule {
  helion_frag_kind kind; /* POW2 or INT */
  bool required;         /* min and max must be given */
  int64_t low, high;     /* used when min/max are absent */
  int64_t dflt;          /* used when default is absent; clamped */
  int64_t floor, ceil;   /* allowed range of every value */
} bounds_rule_t;

static helion_status read_bound(helion__spec_ctx_t *c, const bounds_rule_t *r,
                                const cJSON *it, int64_t *out) {
  int64_t v;
  helion_status rc = helion__spec_get_int(c, it, &v);
  if (rc)
    return rc;
  if (r->kind == HELION_FRAG_POW2) {
    rc = helion__spec_check_pow2(c, v);
    if (rc)
      return rc;
  }
  if (v < r->floor)
    return helion__spec_fail(
        c, HELION_ERR_INVALID, "%lld is below %lld; use at least %lld",
        (long long)v, (long long)r->floor, (long long)r->floor);
  if (v > r->ceil)
    return helion__spec_fail(
        c, HELION_ERR_INVALID, "%lld is above %lld; use at most %lld",
        (long long)v, (long long)r->ceil, (long long)r->ceil);
  *out = v;
  return HELION_OK;
}

static helion_status parse_bounds(helion__spec_ctx_t *c, const cJSON *obj,
                                  const bounds_rule_t *r,
                                  const char *const *known, size_t nknown,
                                  helion_frag_t *out) {
  helion_status rc =
      helion__spec_want(c, obj, cJSON_IsObject(obj), "an object");
  if (rc)
    return rc;
  rc = helion__spec_check_keys(c, obj, known, nknown);
  if (rc)
    return rc;
  int64_t lo = r->low, hi = r->high, d = r->dflt;
  const char *names[2] = {"min", "max"};
  int64_t *dst[2] = {&lo, &hi};
  for (int i = 0; i < 2; i++) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, names[i]);
    if (!it) {
      if (r->required)
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "missing required key '%s'", names[i]);
      continue;
    }
    size_t mark = c->plen;
    helion__spec_path_key(c, names[i]);
    rc = read_bound(c, r, it, dst[i]);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  if (lo > hi)
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "min %lld is greater than max %lld; make min <= max", (long long)lo,
        (long long)hi);
  const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
  if (dj) {
    size_t mark = c->plen;
    helion__spec_path_key(c, "default");
    rc = read_bound(c, r, dj, &d);
    if (rc)
      return rc;
    if (d < lo || d > hi)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "%lld is outside [%lld, %lld]; use a value between min and "
          "max",
          (long long)d, (long long)lo, (long long)hi);
    helion__spec_path_reset(c, mark);
  } else {
    /* Helion clamps its fixed defaults into the bounds; powers of two stay
     * powers of two because the bounds are. */
    d = d < lo ? lo : d > hi ? hi : d;
  }
  *out = frag_scalar(r->kind, lo, hi, d);
  return HELION_OK;
}

static const char *const bounds_keys[] = {"min", "max", "default"};

/* Owner text of the slot at the current path. */
static void owner_here(helion__spec_ctx_t *c, char *out, size_t n) {
  helion__spec_copy_str(out, n, c->path);
}

/* The bounds rule of a row whose slots are {min, max, default} objects. */
static bounds_rule_t row_bounds(const helion_param_def_t *d) {
  bounds_rule_t r = {d->kind, false,    d->low, d->high,
                     d->dflt, d->floor, d->ceil};
  return r;
}

/* HELION_FORM_BLOCK_SIZES: [{"name", "min", "max", "default"?}, ...]. */
static helion_status std_block_sizes(helion__spec_ctx_t *c,
                                     const helion_param_def_t *d,
                                     const cJSON *arr) {
  helion_status rc = helion__spec_want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(arr);
  /* Helion's default block size with no reduction loops (§1.4): the row's
   * (32) for up to two block sizes, half that beyond, clamped into the
   * bounds, which the spec must give. */
  bounds_rule_t r = row_bounds(d);
  r.required = true;
  r.dflt = n <= 2 ? d->dflt : d->dflt / 2;
  static const char *const keys[] = {"name", "min", "max", "default"};
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    char owner[96];
    owner_here(c, owner, sizeof(owner));
    rc = helion__spec_want(c, it, cJSON_IsObject(it), "an object");
    if (rc)
      return rc;
    rc = helion__spec_check_keys(c, it, keys, 4);
    if (rc)
      return rc;
    const cJSON *nj = cJSON_GetObjectItemCaseSensitive(it, "name");
    if (!nj)
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "missing required key 'name'");
    helion_frag_t f;
    rc = parse_bounds(c, it, &r, keys, 4, &f);
    if (rc)
      return rc;
    helion__spec_path_key(c, "name");
    const char *name = NULL;
    rc = helion__spec_get_ident(c, nj, &name);
    if (rc)
      return rc;
    rc = add_param(c, d->key, (int)i, name, NULL, d->role, &f, owner);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  return HELION_OK;
}

/* HELION_FORM_BOUNDS_LIST: [{min, max, default}, ...], slots named key_i. */
static helion_status std_bounds_array(helion__spec_ctx_t *c,
                                      const helion_param_def_t *d,
                                      const cJSON *arr) {
  helion_status rc = helion__spec_want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  bounds_rule_t r = row_bounds(d);
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    char owner[96], name[96];
    owner_here(c, owner, sizeof(owner));
    snprintf(name, sizeof(name), "%s_%zu", d->key, i);
    helion_frag_t f;
    rc = parse_bounds(c, it, &r, bounds_keys, 3, &f);
    if (rc)
      return rc;
    rc = add_param(c, d->key, (int)i, name, NULL, d->role, &f, owner);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  return HELION_OK;
}

/* HELION_FORM_BOUNDS: {min, max, default}, one slot named like the key. */
static helion_status std_bounds_scalar(helion__spec_ctx_t *c,
                                       const helion_param_def_t *d,
                                       const cJSON *obj) {
  bounds_rule_t r = row_bounds(d);
  helion_frag_t f;
  helion_status rc = parse_bounds(c, obj, &r, bounds_keys, 3, &f);
  if (rc)
    return rc;
  char owner[96];
  owner_here(c, owner, sizeof(owner));
  return add_param(c, d->key, -1, d->key, NULL, d->role, &f, owner);
}

/* HELION_FORM_BOOLS: booleans (or {"default": b}), one slot each. */
static helion_status std_bools(helion__spec_ctx_t *c,
                               const helion_param_def_t *d, const cJSON *arr) {
  helion_status rc = helion__spec_want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  static const char *const keys[] = {"default"};
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    char owner[96], name[96];
    owner_here(c, owner, sizeof(owner));
    snprintf(name, sizeof(name), "%s_%zu", d->key, i);
    const cJSON *b = it;
    if (cJSON_IsObject(it)) {
      rc = helion__spec_check_keys(c, it, keys, 1);
      if (rc)
        return rc;
      b = cJSON_GetObjectItemCaseSensitive(it, "default");
      helion__spec_path_key(c, "default");
      if (!b)
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "missing; give true or false");
    }
    rc = helion__spec_want(c, b, cJSON_IsBool(b),
                           "a boolean or {\"default\": boolean}");
    if (rc)
      return rc;
    helion_frag_t f = frag_scalar(HELION_FRAG_BOOL, 0, 1, cJSON_IsTrue(b));
    rc = add_param(c, d->key, (int)i, name, NULL, d->role, &f, owner);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  return HELION_OK;
}

/* HELION_FORM_PERMUTATIONS: [n, ...], one permutation slot of length n
 * each. */
static helion_status std_permutations(helion__spec_ctx_t *c,
                                      const helion_param_def_t *d,
                                      const cJSON *arr) {
  helion_status rc = helion__spec_want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    char owner[96];
    owner_here(c, owner, sizeof(owner));
    int64_t n = 0;
    rc = helion__spec_get_pos_int(c, it, &n);
    if (rc)
      return rc;
    if (n > MAX_PERM_LENGTH)
      return helion__spec_fail(
          c, HELION_ERR_LIMIT,
          "a loop order of %lld loops is too long; at most %d", (long long)n,
          MAX_PERM_LENGTH);
    helion_frag_t f = frag_scalar(HELION_FRAG_PERM, 0, 0, 0);
    f.length = (size_t)n;
    rc = add_param(c, d->key, (int)i, NULL, NULL, d->role, &f, owner);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  return HELION_OK;
}

/*
 * Reads a non-empty array of distinct enum choices. `allow` is a bitmask of
 * the value kinds allowed (1 << HELION_VALUE_*). A string must be one of
 * `codes` when they are given (a standard key's names), else a C identifier
 * (it becomes a -D value).
 */
static helion_status read_choices(helion__spec_ctx_t *c, const cJSON *arr,
                                  unsigned allow, const char *const *codes,
                                  size_t ncodes, const char *allow_words,
                                  helion_value_t **out, size_t *out_n) {
  helion_status rc =
      helion__spec_want(c, arr, cJSON_IsArray(arr), "an array of choices");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(arr);
  if (n < 1)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "no choices; give at least one (%s)", allow_words);
  if (n > MAX_CHOICES)
    return helion__spec_fail(c, HELION_ERR_LIMIT, "%d choices; at most %d", n,
                             MAX_CHOICES);
  helion_value_t *v = calloc((size_t)n, sizeof(*v));
  if (!v)
    return helion__spec_nomem(c);
  size_t count = 0;
  for (const cJSON *it = arr->child; it; it = it->next) {
    size_t mark = c->plen;
    helion__spec_path_index(c, count);
    helion_value_t x;
    rc = helion__spec_get_choice(c, it, &x);
    if (!rc && !(allow & (1u << x.kind)))
      rc = helion__spec_want(c, it, false, allow_words);
    if (!rc && x.kind == HELION_VALUE_STR) {
      char s[64];
      helion__spec_show(s, sizeof(s), x.s);
      if (!codes && helion__spec_ident_problem(x.s)) {
        rc = helion__spec_fail(c, HELION_ERR_INVALID,
                               "'%s' %s (string choices become -D values)", s,
                               helion__spec_ident_problem(x.s));
      } else if (codes) {
        size_t k = 0;
        while (k < ncodes && strcmp(codes[k], x.s) != 0)
          k++;
        if (k == ncodes) {
          const char *near = helion__spec_suggest(x.s, codes, ncodes);
          char nearbuf[64] = "";
          if (near)
            snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
          rc = helion__spec_fail(c, HELION_ERR_INVALID,
                                 "'%s' is not one of %s%s", s, allow_words,
                                 nearbuf);
        }
      }
    }
    for (size_t k = 0; !rc && k < count; k++) {
      if (helion__spec_value_equal(&v[k], &x)) {
        char s[80];
        helion__spec_fmt_value(s, sizeof(s), &x);
        rc = helion__spec_fail(c, HELION_ERR_INVALID,
                               "%s repeats choice [%zu]; give each choice once",
                               s, k);
      }
    }
    if (rc)
      goto out;
    if (x.kind == HELION_VALUE_STR) {
      x.s = helion_strdup(x.s);
      if (!x.s) {
        rc = helion__spec_nomem(c);
        goto out;
      }
    }
    v[count++] = x;
    helion__spec_path_reset(c, mark);
  }
out:
  if (rc) {
    helion__spec_free_choices(v, count);
    return rc;
  }
  *out = v;
  *out_n = count;
  return HELION_OK;
}

/* Index of the choice equal to JSON item `it`; fails at the current path. */
static helion_status find_choice(helion__spec_ctx_t *c, const cJSON *it,
                                 const helion_value_t *choices, size_t n,
                                 size_t *out) {
  helion_value_t x;
  helion_status rc = helion__spec_get_choice(c, it, &x);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++) {
    if (helion__spec_value_equal(&choices[i], &x)) {
      *out = i;
      return HELION_OK;
    }
  }
  char s[80], list[512] = "";
  helion__spec_fmt_value(s, sizeof(s), &x);
  for (size_t i = 0; i < n && strlen(list) + 90 < sizeof(list); i++) {
    char one[80];
    helion__spec_fmt_value(one, sizeof(one), &choices[i]);
    size_t used = strlen(list);
    snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", one);
  }
  return helion__spec_fail(c, HELION_ERR_INVALID,
                           "%s is not one of the choices %s", s, list);
}

/* HELION_FORM_CHOICES: [choice, ...], one enum slot named like the key;
 * integer choices must be at least the row's floor. */
static helion_status std_enum(helion__spec_ctx_t *c,
                              const helion_param_def_t *d, const cJSON *arr) {
  helion_frag_t f = frag_scalar(HELION_FRAG_ENUM, 0, 0, 0);
  helion_status rc = read_choices(c, arr, d->allow, d->codes, d->ncodes,
                                  d->allow_words, &f.choices, &f.nchoices);
  if (rc)
    return rc;
  for (size_t i = 0; i < f.nchoices; i++) {
    if (f.choices[i].kind == HELION_VALUE_INT && f.choices[i].i < d->floor) {
      long long v = (long long)f.choices[i].i;
      helion__spec_free_choices(f.choices, f.nchoices);
      helion__spec_path_index(c, i);
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "%lld is below the least allowed value %lld; use %s", v,
          (long long)d->floor, d->allow_words);
    }
  }
  f.high = (int64_t)f.nchoices - 1;
  char owner[96];
  owner_here(c, owner, sizeof(owner));
  return add_param(c, d->key, -1, d->key, NULL, d->role, &f, owner);
}

/* HELION_FORM_LIST: one LIST of ENUM slot from {"length": n, "choices": [...],
 * "default"?: v}; a row with codes may omit "choices" (then: every code). */
static helion_status std_list(helion__spec_ctx_t *c,
                              const helion_param_def_t *d, const cJSON *obj) {
  static const char *const keys[] = {"length", "choices", "default"};
  helion_status rc =
      helion__spec_want(c, obj, cJSON_IsObject(obj), "an object");
  if (rc)
    return rc;
  rc = helion__spec_check_keys(c, obj, keys, 3);
  if (rc)
    return rc;
  const cJSON *lj = cJSON_GetObjectItemCaseSensitive(obj, "length");
  const cJSON *cj = cJSON_GetObjectItemCaseSensitive(obj, "choices");
  const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
  if (!lj)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "missing required key 'length'");
  if (!cj && !d->codes)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "missing required key 'choices'");
  size_t mark = c->plen;
  int64_t length = 0;
  helion__spec_path_key(c, "length");
  rc = helion__spec_get_pos_int(c, lj, &length);
  if (rc)
    return rc;
  if (length > MAX_LIST_LENGTH)
    return helion__spec_fail(c, HELION_ERR_LIMIT,
                             "%lld is too long; at most %d", (long long)length,
                             MAX_LIST_LENGTH);
  helion__spec_path_reset(c, mark);
  helion_frag_t f = frag_scalar(HELION_FRAG_LIST, 0, 0, 0);
  f.inner = HELION_FRAG_ENUM;
  f.length = (size_t)length;
  if (cj) {
    helion__spec_path_key(c, "choices");
    rc = read_choices(c, cj, d->allow, d->codes, d->ncodes, d->allow_words,
                      &f.choices, &f.nchoices);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  } else {
    f.choices = calloc(d->ncodes, sizeof(*f.choices));
    if (!f.choices)
      return helion__spec_nomem(c);
    for (size_t i = 0; i < d->ncodes; i++) {
      f.choices[f.nchoices].kind = HELION_VALUE_STR;
      f.choices[f.nchoices].s = helion_strdup(d->codes[i]);
      if (!f.choices[f.nchoices].s)
        break;
      f.nchoices++;
    }
    if (f.nchoices < d->ncodes) {
      helion__spec_free_choices(f.choices, f.nchoices);
      return helion__spec_nomem(c);
    }
  }
  f.high = (int64_t)f.nchoices - 1;
  if (dj) {
    size_t idx = 0;
    helion__spec_path_key(c, "default");
    rc = find_choice(c, dj, f.choices, f.nchoices, &idx);
    if (rc) {
      helion__spec_free_choices(f.choices, f.nchoices);
      return rc;
    }
    f.dflt = (int64_t)idx;
    helion__spec_path_reset(c, mark);
  }
  char owner[96];
  owner_here(c, owner, sizeof(owner));
  return add_param(c, d->key, -1, NULL, NULL, d->role, &f, owner);
}

static const char *const user_types[] = {"power_of_two", "integer",     "enum",
                                         "boolean",      "permutation", "list"};

/*
 * A user tunable's fragment from {"type": ..., ...}; `inner` forbids the
 * compound types (the element of a list).
 */
static helion_status user_frag(helion__spec_ctx_t *c, const cJSON *obj,
                               bool inner, helion_frag_t *out) {
  helion_status rc =
      helion__spec_want(c, obj, cJSON_IsObject(obj), "an object");
  if (rc)
    return rc;
  const cJSON *tj = cJSON_GetObjectItemCaseSensitive(obj, "type");
  size_t ntypes = inner ? 4 : 6;
  char typelist[128];
  helion__spec_join_words(typelist, sizeof(typelist), user_types, ntypes);
  if (!tj)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "missing required key 'type' (one of %s)",
                             typelist);
  size_t mark = c->plen;
  helion__spec_path_key(c, "type");
  rc = helion__spec_want(c, tj, cJSON_IsString(tj), "a string");
  if (rc)
    return rc;
  size_t t = 0;
  while (t < ntypes && strcmp(tj->valuestring, user_types[t]) != 0)
    t++;
  if (t == ntypes) {
    char s[64];
    helion__spec_show(s, sizeof(s), tj->valuestring);
    const char *near =
        helion__spec_suggest(tj->valuestring, user_types, ntypes);
    char nearbuf[64] = "";
    if (near)
      snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "'%s' is not a type; use one of %s%s", s, typelist,
                             nearbuf);
  }
  helion__spec_path_reset(c, mark);
  switch (t) {
  case 0:
  case 1: {
    static const char *const keys[] = {"type", "min", "max", "default"};
    bounds_rule_t r = {t == 0 ? HELION_FRAG_POW2 : HELION_FRAG_INT,
                       true,
                       0,
                       0,
                       INT64_MIN,
                       t == 0 ? 1 : -JSON_INT_MAX,
                       t == 0 ? MAX_POW2 : JSON_INT_MAX};
    return parse_bounds(c, obj, &r, keys, 4, out);
  }
  case 2: {
    static const char *const keys[] = {"type", "choices", "default"};
    rc = helion__spec_check_keys(c, obj, keys, 3);
    if (rc)
      return rc;
    const cJSON *cj = cJSON_GetObjectItemCaseSensitive(obj, "choices");
    if (!cj)
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "missing required key 'choices'");
    helion_frag_t f = frag_scalar(HELION_FRAG_ENUM, 0, 0, 0);
    helion__spec_path_key(c, "choices");
    rc = read_choices(c, cj, 0x1f, NULL, 0,
                      "null, a boolean, a number or a string", &f.choices,
                      &f.nchoices);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
    f.high = (int64_t)f.nchoices - 1;
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
    if (dj) {
      size_t idx = 0;
      helion__spec_path_key(c, "default");
      rc = find_choice(c, dj, f.choices, f.nchoices, &idx);
      if (rc) {
        helion__spec_free_choices(f.choices, f.nchoices);
        return rc;
      }
      f.dflt = (int64_t)idx;
      helion__spec_path_reset(c, mark);
    }
    *out = f;
    return HELION_OK;
  }
  case 3: {
    static const char *const keys[] = {"type", "default"};
    rc = helion__spec_check_keys(c, obj, keys, 2);
    if (rc)
      return rc;
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
    if (dj) {
      helion__spec_path_key(c, "default");
      rc = helion__spec_want(c, dj, cJSON_IsBool(dj), "a boolean");
      if (rc)
        return rc;
      helion__spec_path_reset(c, mark);
    }
    *out = frag_scalar(HELION_FRAG_BOOL, 0, 1, cJSON_IsTrue(dj) ? 1 : 0);
    return HELION_OK;
  }
  default: {
    bool perm = t == 4;
    static const char *const pkeys[] = {"type", "length"};
    static const char *const lkeys[] = {"type", "length", "of"};
    rc = helion__spec_check_keys(c, obj, perm ? pkeys : lkeys, perm ? 2 : 3);
    if (rc)
      return rc;
    const cJSON *lj = cJSON_GetObjectItemCaseSensitive(obj, "length");
    if (!lj)
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "missing required key 'length'");
    const cJSON *oj = cJSON_GetObjectItemCaseSensitive(obj, "of");
    if (!perm && !oj)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "missing required key 'of' (the element, e.g. {\"type\": "
          "\"boolean\"})");
    int64_t length = 0;
    helion__spec_path_key(c, "length");
    rc = helion__spec_get_pos_int(c, lj, &length);
    if (rc)
      return rc;
    int64_t max = perm ? MAX_PERM_LENGTH : MAX_LIST_LENGTH;
    if (length > max)
      return helion__spec_fail(c, HELION_ERR_LIMIT,
                               "%lld is too long; at most %lld",
                               (long long)length, (long long)max);
    helion__spec_path_reset(c, mark);
    helion_frag_t f =
        frag_scalar(perm ? HELION_FRAG_PERM : HELION_FRAG_LIST, 0, 0, 0);
    if (!perm) {
      helion__spec_path_key(c, "of");
      rc = user_frag(c, oj, true, &f);
      if (rc)
        return rc;
      helion__spec_path_reset(c, mark);
      f.inner = f.kind;
      f.kind = HELION_FRAG_LIST;
    }
    f.length = (size_t)length;
    *out = f;
    return HELION_OK;
  }
  }
}

/* Reads a standard key's value the way its row says the spec writes it. */
static helion_status std_param(helion__spec_ctx_t *c,
                               const helion_param_def_t *d, const cJSON *it) {
  switch (d->form) {
  case HELION_FORM_BLOCK_SIZES:
    return std_block_sizes(c, d, it);
  case HELION_FORM_PERMUTATIONS:
    return std_permutations(c, d, it);
  case HELION_FORM_BOOLS:
    return std_bools(c, d, it);
  case HELION_FORM_BOUNDS_LIST:
    return std_bounds_array(c, d, it);
  case HELION_FORM_BOUNDS:
    return std_bounds_scalar(c, d, it);
  case HELION_FORM_CHOICES:
    return std_enum(c, d, it);
  case HELION_FORM_LIST:
    return std_list(c, d, it);
  }
  return helion__spec_fail(c, HELION_ERR_INVALID,
                           "parameter table: '%s' has no known form", d->key);
}

helion_status helion__spec_parse_space(helion__spec_ctx_t *c,
                                       const cJSON *root) {
  const cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "space");
  if (!sp)
    return HELION_OK;
  helion__spec_path_key(c, "space");
  helion_status rc = helion__spec_want(c, sp, cJSON_IsObject(sp), "an object");
  if (rc)
    return rc;
  if (cJSON_GetArraySize(sp) > MAX_PARAMS)
    return helion__spec_fail(c, HELION_ERR_LIMIT,
                             "more than %d keys; at most %d", MAX_PARAMS,
                             MAX_PARAMS);
  for (const cJSON *a = sp->child; a; a = a->next) {
    for (const cJSON *b = sp->child; b != a; b = b->next) {
      if (a->string && b->string && strcmp(a->string, b->string) == 0) {
        helion__spec_path_key(c, a->string);
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "duplicate key; give it once");
      }
    }
  }
  /* Standard keys first, in the table's (Helion's flat) order; then user
   * tunables in the order written. */
  size_t nstd = 0;
  const helion_param_def_t *table = helion_params_table(&nstd);
  const char *std_keys[MAX_STD_KEYS];
  if (nstd > MAX_STD_KEYS)
    return helion__spec_fail(c, HELION_ERR_LIMIT,
                             "parameter table: %zu rows; at most %d", nstd,
                             MAX_STD_KEYS);
  for (size_t k = 0; k < nstd; k++) {
    std_keys[k] = table[k].key;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(sp, table[k].key);
    if (!it)
      continue;
    size_t mark = c->plen;
    helion__spec_path_key(c, table[k].key);
    rc = std_param(c, &table[k], it);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  for (const cJSON *it = sp->child; it; it = it->next) {
    if (helion_params_find(it->string))
      continue;
    size_t mark = c->plen;
    helion__spec_path_key(c, it->string);
    const char *why = helion__spec_ident_problem(it->string);
    bool typed = cJSON_IsObject(it) &&
                 cJSON_GetObjectItemCaseSensitive(it, "type") != NULL;
    const char *near = helion__spec_suggest(it->string, std_keys, nstd);
    /* A near miss of a standard key without "type" is a typo, not a user
     * tunable. */
    if (!typed && near)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "unknown key; did you mean '%s'? (a user tunable needs "
          "\"type\")",
          near);
    if (why) {
      char s[64];
      helion__spec_show(s, sizeof(s), it->string);
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "'%s' %s (a user tunable's key is its -D macro name)", s, why);
    }
    why = helion__spec_reserved_problem(it->string);
    if (why) {
      char s[64];
      helion__spec_show(s, sizeof(s), it->string);
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "'%s' is a reserved name: %s; choose another "
                               "name (a user tunable's key is its -D macro "
                               "name)",
                               s, why);
    }
    char owner[96];
    owner_here(c, owner, sizeof(owner));
    helion_frag_t f;
    rc = user_frag(c, it, false, &f);
    if (rc)
      return rc;
    bool scalar = f.kind != HELION_FRAG_PERM && f.kind != HELION_FRAG_LIST;
    rc = add_param(c, it->string, -1, scalar ? it->string : NULL,
                   scalar ? NULL : it->string, HELION_ROLE_NONE, &f, owner);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

/* ---------------------------------------------------------- defaults */

/* Reads one element value of slot `p` (for a LIST: one element). */
static helion_status default_elem(helion__spec_ctx_t *c,
                                  const helion_param_t *p, const char *where,
                                  const cJSON *it, int64_t *out) {
  const helion_frag_t *f = &p->frag;
  helion_frag_kind k = f->kind == HELION_FRAG_LIST ? f->inner : f->kind;
  helion_status rc;
  switch (k) {
  case HELION_FRAG_POW2:
  case HELION_FRAG_INT: {
    int64_t v;
    rc = helion__spec_get_int(c, it, &v);
    if (!rc && k == HELION_FRAG_POW2)
      rc = helion__spec_check_pow2(c, v);
    if (rc)
      return rc;
    if (v < f->low || v > f->high)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "%lld is outside [%lld, %lld] of %s; use a value within "
          "those bounds",
          (long long)v, (long long)f->low, (long long)f->high, where);
    *out = v;
    return HELION_OK;
  }
  case HELION_FRAG_BOOL:
    rc = helion__spec_want(c, it, cJSON_IsBool(it), "a boolean");
    if (rc)
      return rc;
    *out = cJSON_IsTrue(it) ? 1 : 0;
    return HELION_OK;
  case HELION_FRAG_ENUM: {
    size_t idx = 0;
    rc = find_choice(c, it, f->choices, f->nchoices, &idx);
    if (rc)
      return rc;
    *out = (int64_t)idx;
    return HELION_OK;
  }
  default:
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "cannot set a default here");
  }
}

/* Applies one config value to slot `p` (its frag.dflt). */
static helion_status default_slot(helion__spec_ctx_t *c, helion_param_t *p,
                                  const cJSON *it) {
  char where[96];
  if (p->index >= 0)
    snprintf(where, sizeof(where), "space.%s[%d]", p->key, p->index);
  else
    snprintf(where, sizeof(where), "space.%s", p->key);
  helion_frag_t *f = &p->frag;
  helion_status rc;
  if (f->kind == HELION_FRAG_PERM) {
    /* A permutation slot's default is always the identity (space.h has no
     * other), so only the identity is accepted here. */
    bool ok = cJSON_IsArray(it) && (size_t)cJSON_GetArraySize(it) == f->length;
    size_t i = 0;
    for (const cJSON *e = ok ? it->child : NULL; e; e = e->next, i++) {
      int64_t v;
      if (!helion_json_get_int(e, &v) || v != (int64_t)i)
        ok = false;
    }
    if (!ok)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "a permutation's default is the identity [0, 1, ...] of "
          "length %zu; remove it or write the identity",
          f->length);
    return HELION_OK;
  }
  if (f->kind == HELION_FRAG_LIST && cJSON_IsArray(it)) {
    /* One default for every element: the elements must agree. */
    if ((size_t)cJSON_GetArraySize(it) != f->length)
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "%d values for a list of length %zu; give %zu",
                               cJSON_GetArraySize(it), f->length, f->length);
    int64_t first = 0;
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
      size_t mark = c->plen;
      helion__spec_path_index(c, i);
      int64_t v;
      rc = default_elem(c, p, where, e, &v);
      if (rc)
        return rc;
      if (i == 0)
        first = v;
      else if (v != first)
        return helion__spec_fail(
            c, HELION_ERR_INVALID,
            "differs from element [0]; a list's default repeats one "
            "value (give a single value)");
      helion__spec_path_reset(c, mark);
    }
    f->dflt = first;
    return HELION_OK;
  }
  int64_t v;
  rc = default_elem(c, p, where, it, &v);
  if (rc)
    return rc;
  f->dflt = v;
  return HELION_OK;
}

helion_status helion__spec_parse_defaults(helion__spec_ctx_t *c,
                                          const cJSON *root) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
  if (!d)
    return HELION_OK;
  helion_spec_t *s = c->spec;
  helion__spec_path_key(c, "defaults");
  helion_status rc = helion__spec_want(c, d, cJSON_IsObject(d), "an object");
  if (rc)
    return rc;
  /* The distinct config keys, in flat order. */
  const char *keys[MAX_PARAMS];
  size_t nkeys = 0;
  for (size_t i = 0; i < s->nparams; i++)
    if (i == 0 || strcmp(s->params[i].key, s->params[i - 1].key) != 0)
      keys[nkeys++] = s->params[i].key;
  for (const cJSON *it = d->child; it; it = it->next) {
    size_t mark = c->plen;
    helion__spec_path_key(c, it->string);
    size_t first = 0;
    while (first < s->nparams && strcmp(s->params[first].key, it->string) != 0)
      first++;
    if (first == s->nparams) {
      char list[512];
      helion__spec_join_words(list, sizeof(list), keys, nkeys);
      const char *near = helion__spec_suggest(it->string, keys, nkeys);
      char nearbuf[128] = "";
      if (near)
        snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
      if (!nkeys)
        return helion__spec_fail(
            c, HELION_ERR_INVALID,
            "not a parameter of the space (the space is empty)");
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "not a parameter of the space; known keys are: %s%s", list, nearbuf);
    }
    for (const cJSON *b = d->child; b != it; b = b->next)
      if (strcmp(b->string, it->string) == 0)
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "duplicate key; give it once");
    helion_param_t *p = &s->params[first];
    if (p->index < 0) {
      rc = default_slot(c, p, it);
      if (rc)
        return rc;
    } else {
      size_t n = 0;
      while (first + n < s->nparams &&
             strcmp(s->params[first + n].key, it->string) == 0)
        n++;
      rc = helion__spec_want(c, it, cJSON_IsArray(it), "an array");
      if (rc)
        return rc;
      if ((size_t)cJSON_GetArraySize(it) != n)
        return helion__spec_fail(
            c, HELION_ERR_INVALID,
            "%d values for %zu entries of space.%s; give one per "
            "entry",
            cJSON_GetArraySize(it), n, it->string);
      size_t i = 0;
      for (const cJSON *e = it->child; e; e = e->next, i++) {
        size_t m2 = c->plen;
        helion__spec_path_index(c, i);
        rc = default_slot(c, &s->params[first + i], e);
        if (rc)
          return rc;
        helion__spec_path_reset(c, m2);
      }
    }
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}
