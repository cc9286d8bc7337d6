/*
 * config.c: one configuration as text and numbers: canonical JSON (and its
 * minimized form), strict parsing back, a stable hash and id, the NVRTC
 * options it turns into (DESIGN.md §4), and a hash set of configurations.
 */
#include "model/config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/params.h"
#include "util/json.h"

/* -------------------------------------------------------- key grouping */

/* A JSON key and the slots it covers (one for a scalar key, the sequence's
 * slots in index order otherwise). */
typedef struct key_group {
  const char *key;
  bool is_seq;
  size_t first; /* into the sorted slot array */
  size_t count;
} key_group_t;

typedef struct layout {
  size_t *slots; /* sorted by (key, index) */
  key_group_t *groups;
  size_t ngroups;
} layout_t;

static int cmp_slot(const helion_space_t *s, size_t x, size_t y) {
  const helion_param_t *a = &s->params[x];
  const helion_param_t *b = &s->params[y];
  int c = strcmp(a->key, b->key);
  if (c)
    return c;
  /* (key, index) pairs are unique in a space, so the order is total. */
  return a->index < b->index ? -1 : a->index > b->index;
}

static void layout_cleanup(layout_t *l) {
  free(l->slots);
  free(l->groups);
  memset(l, 0, sizeof(*l));
}

static helion_status layout_build(const helion_space_t *s, layout_t *l) {
  size_t n = s->nparams;
  memset(l, 0, sizeof(*l));
  l->slots = malloc((n ? n : 1) * sizeof(*l->slots));
  l->groups = malloc((n ? n : 1) * sizeof(*l->groups));
  if (!l->slots || !l->groups) {
    layout_cleanup(l);
    return HELION_ERR_NOMEM;
  }
  for (size_t i = 0; i < n; i++)
    l->slots[i] = i;
  /* Insertion sort: no shared state (qsort would need a global for the
   * space), and spaces have tens of slots. */
  for (size_t i = 1; i < n; i++) {
    size_t v = l->slots[i], j = i;
    while (j > 0 && cmp_slot(s, l->slots[j - 1], v) > 0) {
      l->slots[j] = l->slots[j - 1];
      j--;
    }
    l->slots[j] = v;
  }
  for (size_t i = 0; i < n;) {
    const helion_param_t *p = &s->params[l->slots[i]];
    key_group_t *g = &l->groups[l->ngroups++];
    g->key = p->key;
    g->is_seq = p->index >= 0;
    g->first = i;
    g->count = 0;
    while (i < n && strcmp(s->params[l->slots[i]].key, p->key) == 0) {
      g->count++;
      i++;
    }
  }
  return HELION_OK;
}

/* ------------------------------------------------------------ values */

/* Shortest "%.*g" text that reads back as exactly v. */
static void fmt_double(char *buf, size_t n, double v) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

static helion_status put_choice_json(helion_buf_t *b, const helion_value_t *v) {
  char num[40];
  switch (v->kind) {
  case HELION_VALUE_NULL:
    return helion_buf_puts(b, "null");
  case HELION_VALUE_BOOL:
    return helion_buf_puts(b, v->i ? "true" : "false");
  case HELION_VALUE_INT:
    return helion_buf_appendf(b, "%" PRId64, v->i);
  case HELION_VALUE_FLOAT:
    fmt_double(num, sizeof(num), v->f);
    return helion_buf_puts(b, num);
  case HELION_VALUE_STR:
    return helion_buf_put_json_string(b, v->s ? v->s : "");
  }
  return HELION_OK;
}

static helion_status put_elem_json(helion_buf_t *b, const helion_frag_t *f,
                                   helion_frag_kind k, int64_t v) {
  switch (k) {
  case HELION_FRAG_BOOL:
    return helion_buf_puts(b, v ? "true" : "false");
  case HELION_FRAG_ENUM:
    if (v < 0 || (uint64_t)v >= f->nchoices)
      return helion_buf_puts(b, "null");
    return put_choice_json(b, &f->choices[v]);
  default:
    return helion_buf_appendf(b, "%" PRId64, v);
  }
}

static helion_status put_slot_json(helion_buf_t *b, const helion_space_t *s,
                                   size_t slot, const int64_t *cells) {
  const helion_frag_t *f = &s->params[slot].frag;
  const int64_t *c = cells + s->cell_off[slot];
  if (f->kind != HELION_FRAG_PERM && f->kind != HELION_FRAG_LIST)
    return put_elem_json(b, f, f->kind, c[0]);
  helion_frag_kind k = f->kind == HELION_FRAG_PERM ? HELION_FRAG_INT : f->inner;
  helion_status rc = HELION_OK;
  for (size_t i = 0; i < s->width[slot] && !rc; i++) {
    rc = helion_buf_putc(b, i ? ',' : '[');
    if (!rc)
      rc = put_elem_json(b, f, k, c[i]);
  }
  if (!rc)
    rc = helion_buf_putc(b, ']');
  return rc;
}

static bool slot_is_default(const helion_space_t *s, size_t slot,
                            const int64_t *cells) {
  size_t off = s->cell_off[slot];
  return memcmp(cells + off, s->default_cells + off,
                s->width[slot] * sizeof(*cells)) == 0;
}

helion_status helion_config_to_json(const helion_space_t *s,
                                    const int64_t *cells, bool minimize,
                                    helion_buf_t *out) {
  layout_t l;
  helion_status rc = layout_build(s, &l);
  if (rc)
    return rc;
  rc = helion_buf_putc(out, '{');
  bool first = true;
  for (size_t g = 0; g < l.ngroups && !rc; g++) {
    const key_group_t *kg = &l.groups[g];
    const helion_param_def_t *d = helion_params_find(kg->key);
    if (minimize && !(d && d->keep_in_minimized)) {
      bool all_default = true;
      for (size_t i = 0; i < kg->count && all_default; i++)
        all_default = slot_is_default(s, l.slots[kg->first + i], cells);
      if (all_default)
        continue;
    }
    if (!first)
      rc = helion_buf_putc(out, ',');
    first = false;
    if (!rc)
      rc = helion_buf_put_json_string(out, kg->key);
    if (!rc)
      rc = helion_buf_putc(out, ':');
    if (!kg->is_seq) {
      if (!rc)
        rc = put_slot_json(out, s, l.slots[kg->first], cells);
      continue;
    }
    for (size_t i = 0; i < kg->count && !rc; i++) {
      rc = helion_buf_putc(out, i ? ',' : '[');
      if (!rc)
        rc = put_slot_json(out, s, l.slots[kg->first + i], cells);
    }
    if (!rc)
      rc = helion_buf_putc(out, ']');
  }
  if (!rc)
    rc = helion_buf_putc(out, '}');
  layout_cleanup(&l);
  return rc;
}

/* ----------------------------------------------------------- parsing */

/* Short JSON text of an item for messages. */
static void item_text(const cJSON *item, char *buf, size_t n) {
  char *t = cJSON_PrintUnformatted(item);
  if (!t) {
    snprintf(buf, n, "%s", helion_json_type_name(item));
    return;
  }
  if (strlen(t) >= n && n > 4)
    snprintf(buf, n, "%.*s...", (int)(n - 4), t);
  else
    snprintf(buf, n, "%s", t);
  cJSON_free(t);
}

static bool choice_matches(const helion_value_t *c, const cJSON *item) {
  switch (c->kind) {
  case HELION_VALUE_NULL:
    return cJSON_IsNull(item);
  case HELION_VALUE_BOOL:
    return cJSON_IsBool(item) && (cJSON_IsTrue(item) ? 1 : 0) == (c->i != 0);
  case HELION_VALUE_INT: {
    int64_t v;
    return helion_json_get_int(item, &v) && v == c->i;
  }
  case HELION_VALUE_FLOAT:
    return cJSON_IsNumber(item) && item->valuedouble == c->f;
  case HELION_VALUE_STR:
    return cJSON_IsString(item) && strcmp(item->valuestring, c->s) == 0;
  }
  return false;
}

static helion_status parse_elem(const helion_frag_t *f, helion_frag_kind k,
                                const cJSON *item, const char *label,
                                int64_t *out, helion_err_t *err) {
  int64_t v = 0;
  switch (k) {
  case HELION_FRAG_POW2:
  case HELION_FRAG_INT:
    if (!helion_json_get_int(item, &v))
      return helion_err_set(
          err, HELION_ERR_INVALID, "%s: expected an integer, got %s", label,
          cJSON_IsNumber(item) ? "a fraction" : helion_json_type_name(item));
    if (k == HELION_FRAG_POW2 &&
        (!helion_is_pow2(v) || v < f->low || v > f->high))
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s: %" PRId64 " is not a power of two in [%" PRId64
                            ", %" PRId64 "]",
                            label, v, f->low, f->high);
    if (v < f->low || v > f->high)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s: %" PRId64 " is outside [%" PRId64 ", %" PRId64
                            "]",
                            label, v, f->low, f->high);
    break;
  case HELION_FRAG_BOOL:
    if (!cJSON_IsBool(item))
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s: expected true or false, got %s", label,
                            helion_json_type_name(item));
    v = cJSON_IsTrue(item) ? 1 : 0;
    break;
  case HELION_FRAG_ENUM: {
    size_t i = 0;
    while (i < f->nchoices && !choice_matches(&f->choices[i], item))
      i++;
    if (i == f->nchoices) {
      char got[64];
      helion_buf_t b;
      helion_buf_init(&b, 4096);
      for (size_t j = 0; j < f->nchoices; j++) {
        if (j)
          helion_buf_puts(&b, ", ");
        put_choice_json(&b, &f->choices[j]);
      }
      item_text(item, got, sizeof(got));
      helion_status rc =
          helion_err_set(err, HELION_ERR_INVALID, "%s: %s is not one of %s",
                         label, got, helion_buf_str(&b));
      helion_buf_cleanup(&b);
      return rc;
    }
    v = (int64_t)i;
    break;
  }
  default:
    return helion_err_set(err, HELION_ERR_INVALID, "%s: unsupported kind",
                          label);
  }
  *out = v;
  return HELION_OK;
}

static helion_status parse_slot(const helion_space_t *s, size_t slot,
                                const cJSON *item, const char *label,
                                int64_t *cells, helion_err_t *err) {
  const helion_frag_t *f = &s->params[slot].frag;
  int64_t *c = cells + s->cell_off[slot];
  size_t w = s->width[slot];
  if (f->kind != HELION_FRAG_PERM && f->kind != HELION_FRAG_LIST)
    return parse_elem(f, f->kind, item, label, c, err);
  char sub[200];
  if (f->kind == HELION_FRAG_LIST && !cJSON_IsArray(item)) {
    /* Helion replicates a scalar given for a list key. */
    int64_t v;
    helion_status rc = parse_elem(f, f->inner, item, label, &v, err);
    if (rc)
      return rc;
    for (size_t i = 0; i < w; i++)
      c[i] = v;
    return HELION_OK;
  }
  if (!cJSON_IsArray(item))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: expected an array of %zu integers, got %s",
                          label, w, helion_json_type_name(item));
  size_t n = (size_t)cJSON_GetArraySize(item);
  if (n != w)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: expected %zu value%s, got %zu", label, w,
                          w == 1 ? "" : "s", n);
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, item) {
    snprintf(sub, sizeof(sub), "%s[%zu]", label, i);
    if (f->kind == HELION_FRAG_PERM) {
      if (!helion_json_get_int(e, &c[i]))
        return helion_err_set(err, HELION_ERR_INVALID,
                              "%s: expected an integer, got %s", sub,
                              helion_json_type_name(e));
    } else {
      helion_status rc = parse_elem(f, f->inner, e, sub, &c[i], err);
      if (rc)
        return rc;
    }
    i++;
  }
  if (f->kind == HELION_FRAG_PERM) {
    bool ok = true;
    for (size_t a = 0; a < w && ok; a++) {
      ok = c[a] >= 0 && (uint64_t)c[a] < w;
      for (size_t b = 0; b < a && ok; b++)
        ok = c[b] != c[a];
    }
    if (!ok) {
      char got[64];
      item_text(item, got, sizeof(got));
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s: %s is not a permutation of 0..%zu", label, got,
                            w - 1);
    }
  }
  return HELION_OK;
}

helion_status helion_config_from_json(const helion_space_t *s, const char *json,
                                      int64_t *out_cells, helion_err_t *err) {
  cJSON *root = NULL;
  layout_t l = {0};
  int64_t *cells = NULL;
  helion_buf_t known;
  helion_buf_init(&known, 1 << 16);
  helion_status rc =
      helion_json_parse(json, strlen(json), "config", &root, err);
  if (rc)
    goto out;
  if (!cJSON_IsObject(root)) {
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "config: expected an object, got %s",
                        helion_json_type_name(root));
    goto out;
  }
  rc = layout_build(s, &l);
  cells = malloc((s->ncells ? s->ncells : 1) * sizeof(*cells));
  if (rc || !cells) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  helion_space_default(s, cells);
  const cJSON *item;
  cJSON_ArrayForEach(item, root) {
    const char *key = item->string;
    for (const cJSON *prev = root->child; prev != item; prev = prev->next) {
      if (strcmp(prev->string, key) == 0) {
        rc = helion_err_set(err, HELION_ERR_INVALID,
                            "%s: duplicate key; give each key once", key);
        goto out;
      }
    }
    const key_group_t *g = NULL;
    for (size_t i = 0; i < l.ngroups && !g; i++)
      if (strcmp(l.groups[i].key, key) == 0)
        g = &l.groups[i];
    if (!g) {
      for (size_t i = 0; i < l.ngroups; i++)
        helion_buf_appendf(&known, "%s%s", i ? ", " : "", l.groups[i].key);
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "%s: unknown key; known keys: %s", key,
                          helion_buf_str(&known));
      goto out;
    }
    if (!g->is_seq) {
      rc = parse_slot(s, l.slots[g->first], item, key, cells, err);
      if (rc)
        goto out;
      continue;
    }
    if (!cJSON_IsArray(item)) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "%s: expected an array of %zu values, got %s", key,
                          g->count, helion_json_type_name(item));
      goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(item);
    if (n != g->count) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "%s: expected %zu value%s, got %zu", key, g->count,
                          g->count == 1 ? "" : "s", n);
      goto out;
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, item) {
      char label[200];
      snprintf(label, sizeof(label), "%s[%zu]", key, i);
      rc = parse_slot(s, l.slots[g->first + i], e, label, cells, err);
      if (rc)
        goto out;
      i++;
    }
  }
  memcpy(out_cells, cells, s->ncells * sizeof(*cells));
out:
  helion_buf_cleanup(&known);
  layout_cleanup(&l);
  free(cells);
  cJSON_Delete(root);
  return rc;
}

/* -------------------------------------------------------- hash and id */

uint64_t helion_config_hash(const helion_space_t *s, const int64_t *cells) {
  /* FNV-1a over the cells' little-endian bytes (independent of the host's
   * byte order), then splitmix64's finalizer so low bits mix well for
   * power-of-two tables. */
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < s->ncells; i++) {
    uint64_t v = (uint64_t)cells[i];
    for (int b = 0; b < 8; b++) {
      h ^= (v >> (8 * b)) & 0xffu;
      h *= 0x100000001b3ull;
    }
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

helion_status helion_config_id(const helion_space_t *s, const int64_t *cells,
                               char out[17]) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_config_to_json(s, cells, false, &b);
  if (!rc) {
    char hex[65];
    helion_sha256_hex(helion_buf_str(&b), b.len, hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
  }
  helion_buf_cleanup(&b);
  return rc;
}

/* ------------------------------------------------------------ defines */

/* The macro value of one element: numbers, bools 0/1, null 0, strings
 * as-is. */
static helion_status put_elem_macro(helion_buf_t *b, const helion_frag_t *f,
                                    helion_frag_kind k, int64_t v) {
  if (k != HELION_FRAG_ENUM)
    return helion_buf_appendf(b, "%" PRId64, v);
  if (v < 0 || (uint64_t)v >= f->nchoices)
    return helion_buf_puts(b, "0");
  const helion_value_t *c = &f->choices[v];
  char num[40];
  switch (c->kind) {
  case HELION_VALUE_NULL:
    return helion_buf_puts(b, "0");
  case HELION_VALUE_BOOL:
    return helion_buf_puts(b, c->i ? "1" : "0");
  case HELION_VALUE_INT:
    return helion_buf_appendf(b, "%" PRId64, c->i);
  case HELION_VALUE_FLOAT:
    fmt_double(num, sizeof(num), c->f);
    return helion_buf_puts(b, num);
  case HELION_VALUE_STR:
    return helion_buf_puts(b, c->s ? c->s : "");
  }
  return HELION_OK;
}

/* `-D<macro>=<value>` for every element of a slot: one macro for a scalar,
 * <macro>_<j> per element of a list or permutation. */
static helion_status put_slot_macros(helion_buf_t *b, const helion_space_t *s,
                                     size_t slot, const int64_t *cells,
                                     const char *macro) {
  const helion_frag_t *f = &s->params[slot].frag;
  const int64_t *c = cells + s->cell_off[slot];
  helion_status rc = HELION_OK;
  if (f->kind != HELION_FRAG_PERM && f->kind != HELION_FRAG_LIST) {
    rc = helion_buf_appendf(b, "-D%s=", macro);
    if (!rc)
      rc = put_elem_macro(b, f, f->kind, c[0]);
    return rc ? rc : helion_buf_putc(b, '\n');
  }
  helion_frag_kind k = f->kind == HELION_FRAG_PERM ? HELION_FRAG_INT : f->inner;
  for (size_t j = 0; j < s->width[slot] && !rc; j++) {
    rc = helion_buf_appendf(b, "-D%s_%zu=", macro, j);
    if (!rc)
      rc = put_elem_macro(b, f, k, c[j]);
    if (!rc)
      rc = helion_buf_putc(b, '\n');
  }
  return rc;
}

/* -D<macro>_<j>=<code> per element j of a list, or -D<macro>=<code> for a
 * scalar (helion_params_choice_code: eviction policies, indexing,
 * pid_type). */
static helion_status put_coded(helion_buf_t *b, const helion_space_t *s,
                               size_t slot, const int64_t *cells,
                               const char *macro) {
  const helion_param_t *p = &s->params[slot];
  const int64_t *c = cells + s->cell_off[slot];
  helion_status rc = HELION_OK;
  bool list = p->frag.kind == HELION_FRAG_LIST;
  bool coded = (list ? p->frag.inner : p->frag.kind) == HELION_FRAG_ENUM;
  for (size_t j = 0; j < s->width[slot] && !rc; j++) {
    int64_t code = coded ? helion_params_choice_code(p, c[j]) : c[j];
    if (list)
      rc = helion_buf_appendf(b, "-D%s_%zu=%" PRId64 "\n", macro, j, code);
    else
      rc = helion_buf_appendf(b, "-D%s=%" PRId64 "\n", macro, code);
  }
  return rc;
}

/* The macro a slot's value is defined as: the slot's own name for rows that
 * emit names (block sizes) and for named user tunables; the row's macro for
 * a standard key (<macro>_<i> for its entry i); a nameless user tunable's
 * key (<key>_<i>). */
static void slot_macro(const helion_param_t *p, const helion_param_def_t *d,
                       char *out, size_t n) {
  const char *base = p->key;
  if (d && d->emit == HELION_EMIT_NAME && p->name)
    base = p->name;
  else if (d && d->macro)
    base = d->macro;
  else if (!d && p->name)
    base = p->name;
  bool own_name = base == p->name;
  if (p->index >= 0 && !own_name)
    snprintf(out, n, "%s_%d", base, p->index);
  else
    snprintf(out, n, "%s", base);
}

helion_status helion_config_defines(const helion_space_t *s,
                                    const int64_t *cells, helion_buf_t *out) {
  helion_status rc = HELION_OK;
  char macro[256];
  for (size_t i = 0; i < s->nparams && !rc; i++) {
    const helion_param_t *p = &s->params[i];
    const helion_param_def_t *d = helion_params_find(p->key);
    slot_macro(p, d, macro, sizeof(macro));
    switch (d ? d->emit : HELION_EMIT_MACRO) {
    case HELION_EMIT_NAME:
    case HELION_EMIT_MACRO:
      rc = put_slot_macros(out, s, i, cells, macro);
      if (!rc && d && d->also_macro) {
        helion_num_t n = helion_space_slot_number(s, i, cells);
        rc = helion_buf_appendf(out, "-D%s=%" PRId64 "\n", d->also_macro,
                                (n.is_float ? (int64_t)n.f : n.i) *
                                    d->also_scale);
      }
      break;
    case HELION_EMIT_CODE:
      rc = put_coded(out, s, i, cells, macro);
      break;
    case HELION_EMIT_MAXRREGCOUNT: {
      int64_t v = cells[s->cell_off[i]];
      bool is_null = p->frag.kind == HELION_FRAG_ENUM && v >= 0 &&
                     (uint64_t)v < p->frag.nchoices &&
                     p->frag.choices[v].kind == HELION_VALUE_NULL;
      helion_num_t n = helion_space_slot_number(s, i, cells);
      if (!is_null)
        rc = helion_buf_appendf(out, "--maxrregcount=%" PRId64 "\n",
                                n.is_float ? (int64_t)n.f : n.i);
      break;
    }
    }
  }
  return rc;
}

/* ---------------------------------------------------------- config set */

void helion_configset_init(helion_configset_t *set, const helion_space_t *s) {
  memset(set, 0, sizeof(*set));
  set->space = s;
}

void helion_configset_cleanup(helion_configset_t *set) {
  if (!set)
    return;
  free(set->cells);
  free(set->used);
  const helion_space_t *s = set->space;
  memset(set, 0, sizeof(*set));
  set->space = s;
}

/* Slot where cells is or would go (capacity > 0). */
static size_t probe(const helion_configset_t *set, const int64_t *cells,
                    bool *out_found) {
  size_t nc = set->space->ncells;
  size_t mask = set->capacity - 1;
  size_t i = (size_t)helion_config_hash(set->space, cells) & mask;
  while (set->used[i]) {
    if (memcmp(set->cells + i * nc, cells, nc * sizeof(*cells)) == 0) {
      *out_found = true;
      return i;
    }
    i = (i + 1) & mask;
  }
  *out_found = false;
  return i;
}

bool helion_configset_contains(const helion_configset_t *set,
                               const int64_t *cells) {
  if (set->capacity == 0)
    return false;
  bool found;
  probe(set, cells, &found);
  return found;
}

static helion_status grow(helion_configset_t *set) {
  size_t nc = set->space->ncells;
  size_t cap = set->capacity ? set->capacity * 2 : 16;
  int64_t *cells = malloc(cap * (nc ? nc : 1) * sizeof(*cells));
  uint8_t *used = calloc(cap, 1);
  if (!cells || !used) {
    free(cells);
    free(used);
    return HELION_ERR_NOMEM;
  }
  helion_configset_t next = {set->space, cells, used, cap, 0};
  for (size_t i = 0; i < set->capacity; i++) {
    if (!set->used[i])
      continue;
    bool found;
    size_t j = probe(&next, set->cells + i * nc, &found);
    memcpy(next.cells + j * nc, set->cells + i * nc, nc * sizeof(*cells));
    next.used[j] = 1;
    next.count++;
  }
  free(set->cells);
  free(set->used);
  *set = next;
  return HELION_OK;
}

helion_status helion_configset_add(helion_configset_t *set,
                                   const int64_t *cells, bool *out_added) {
  /* Keep the load at or below one half so probe runs stay short. */
  if ((set->count + 1) * 2 > set->capacity) {
    helion_status rc = grow(set);
    if (rc)
      return rc;
  }
  size_t nc = set->space->ncells;
  bool found;
  size_t i = probe(set, cells, &found);
  if (!found) {
    memcpy(set->cells + i * nc, cells, nc * sizeof(*cells));
    set->used[i] = 1;
    set->count++;
  }
  if (out_added)
    *out_added = !found;
  return HELION_OK;
}
