/*
 * distill.c: the distilled dispatcher's data (distill.h): features, the
 * tree's prediction, and the results file's "distilled" element. The
 * subset and the tree are fitted in distill_fit.c, the report drawn in
 * distill_report.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/distill.h"
#include "util/json.h"

void helion_distill_init(helion_distill_t *d) {
  memset(d, 0, sizeof(*d));
  d->threshold = HELION_DISTILL_THRESHOLD;
  d->max_configs = HELION_DISTILL_MAX_CONFIGS;
  d->max_depth = HELION_DISTILL_MAX_DEPTH;
}

void helion_distill_cleanup(helion_distill_t *d) {
  free(d->device_name);
  for (size_t i = 0; d->keys && i < d->nkeys; i++)
    free(d->keys[i]);
  free(d->keys);
  free(d->shapes);
  for (size_t i = 0; d->configs && i < d->nconfigs; i++)
    free(d->configs[i]);
  free(d->configs);
  free(d->ms);
  free(d->selected);
  free(d->slowdown);
  free(d->nodes);
  helion_distill_init(d);
}

/* ----------------------------------------------------------- features -- */

size_t helion_distill_nfeatures(size_t nkeys) {
  return nkeys + nkeys * (nkeys - (nkeys > 0)) / 2 +
         nkeys * (nkeys - (nkeys > 0));
}

/* Feature f as (kind, i, j): 0 key i; 1 product i*j; 2 ratio i/j. */
static void feature_parts(size_t nkeys, size_t f, int *kind, size_t *i,
                          size_t *j) {
  *i = *j = 0;
  if (f < nkeys) {
    *kind = 0;
    *i = f;
    return;
  }
  f -= nkeys;
  for (size_t a = 0; a < nkeys; a++)
    for (size_t b = a + 1; b < nkeys; b++)
      if (f-- == 0) {
        *kind = 1, *i = a, *j = b;
        return;
      }
  for (size_t a = 0; a < nkeys; a++)
    for (size_t b = a + 1; b < nkeys; b++) {
      if (f-- == 0) {
        *kind = 2, *i = a, *j = b;
        return;
      }
      if (f-- == 0) {
        *kind = 2, *i = b, *j = a;
        return;
      }
    }
  *kind = -1;
}

int helion_distill_feature_parts(size_t nkeys, size_t f, size_t *out_i,
                                 size_t *out_j) {
  int kind;
  feature_parts(nkeys, f, &kind, out_i, out_j);
  return kind;
}

helion_status helion_distill_feature_name(const char *const *keys,
                                          size_t nkeys, size_t f,
                                          helion_buf_t *out) {
  int kind;
  size_t i, j;
  feature_parts(nkeys, f, &kind, &i, &j);
  if (kind == 0)
    return helion_buf_puts(out, keys[i]);
  if (kind < 0)
    return HELION_ERR_INVALID;
  return helion_buf_appendf(out, "%s%c%s", keys[i], kind == 1 ? '*' : '/',
                            keys[j]);
}

double helion_distill_feature(const int64_t *shape, size_t nkeys, size_t f) {
  int kind;
  size_t i, j;
  feature_parts(nkeys, f, &kind, &i, &j);
  double a = (double)shape[i], b = (double)shape[j];
  switch (kind) {
  case 0:
    return a;
  case 1:
    return a * b;
  case 2:
    return b == 0.0 ? 0.0 : a / b;
  default:
    return 0.0;
  }
}

int helion_distill_predict(const helion_distill_t *d, const int64_t *shape) {
  if (!d->nnodes)
    return -1;
  size_t n = 0;
  /* Each step goes to a later node (checked on load), so this ends. */
  while (d->nodes[n].feature >= 0) {
    const helion_distill_node_t *x = &d->nodes[n];
    double v = helion_distill_feature(shape, d->nkeys, (size_t)x->feature);
    n = (size_t)(v <= x->threshold ? x->left : x->right);
  }
  return d->nodes[n].config;
}

/* ------------------------------------------------------------ to JSON -- */

static cJSON *num_or_null(double v) {
  return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *tree_to_json(const helion_distill_t *d, size_t n,
                           helion_buf_t *name) {
  const helion_distill_node_t *x = &d->nodes[n];
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  if (x->feature < 0) {
    if (!cJSON_AddNumberToObject(o, "config", x->config))
      goto fail;
    return o;
  }
  helion_buf_reset(name);
  if (helion_distill_feature_name((const char *const *)d->keys, d->nkeys,
                                  (size_t)x->feature, name) ||
      !cJSON_AddStringToObject(o, "feature", helion_buf_str(name)) ||
      !cJSON_AddNumberToObject(o, "threshold", x->threshold))
    goto fail;
  cJSON *l = tree_to_json(d, (size_t)x->left, name);
  if (!l || !cJSON_AddItemToObject(o, "left", l)) {
    cJSON_Delete(l);
    goto fail;
  }
  cJSON *r = tree_to_json(d, (size_t)x->right, name);
  if (!r || !cJSON_AddItemToObject(o, "right", r)) {
    cJSON_Delete(r);
    goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

helion_status helion_distill_to_json(const helion_distill_t *d, cJSON **out,
                                     helion_err_t *err) {
  /* Every container is added to `o` as soon as it is made, so deleting
   * `o` frees whatever was built when something fails. */
  *out = NULL;
  helion_buf_t name;
  helion_buf_init(&name, 256);
  cJSON *o = cJSON_CreateObject();
  cJSON *dev = o ? cJSON_AddObjectToObject(o, "device") : NULL;
  bool ok = dev &&
            cJSON_AddStringToObject(dev, "compute_capability", d->cc) &&
            cJSON_AddStringToObject(dev, "name", d->device_name);
  cJSON *keys = ok ? cJSON_AddArrayToObject(o, "keys") : NULL;
  ok = keys != NULL;
  for (size_t i = 0; ok && i < d->nkeys; i++)
    ok = cJSON_AddItemToArray(keys, cJSON_CreateString(d->keys[i]));
  cJSON *shapes = ok ? cJSON_AddArrayToObject(o, "shapes") : NULL;
  ok = shapes != NULL;
  for (size_t s = 0; ok && s < d->nshapes; s++) {
    cJSON *row = cJSON_CreateArray();
    ok = cJSON_AddItemToArray(shapes, row);
    for (size_t k = 0; ok && k < d->nkeys; k++)
      ok = cJSON_AddItemToArray(
          row, cJSON_CreateNumber((double)d->shapes[s * d->nkeys + k]));
  }
  cJSON *configs = ok ? cJSON_AddArrayToObject(o, "configs") : NULL;
  ok = configs != NULL;
  for (size_t c = 0; ok && c < d->nconfigs; c++)
    ok = cJSON_AddItemToArray(configs, cJSON_Parse(d->configs[c]));
  cJSON *ms = ok ? cJSON_AddArrayToObject(o, "ms") : NULL;
  ok = ms != NULL;
  for (size_t s = 0; ok && s < d->nshapes; s++) {
    cJSON *row = cJSON_CreateArray();
    ok = cJSON_AddItemToArray(ms, row);
    for (size_t c = 0; ok && c < d->nconfigs; c++)
      ok = cJSON_AddItemToArray(row, num_or_null(d->ms[s * d->nconfigs + c]));
  }
  ok = ok && cJSON_AddNumberToObject(o, "threshold", d->threshold) &&
       cJSON_AddNumberToObject(o, "max_configs", (double)d->max_configs) &&
       cJSON_AddNumberToObject(o, "max_depth", d->max_depth);
  cJSON *sel = ok ? cJSON_AddArrayToObject(o, "selected") : NULL;
  ok = sel != NULL;
  for (size_t i = 0; ok && i < d->nselected; i++)
    ok = cJSON_AddItemToArray(sel, cJSON_CreateNumber((double)d->selected[i]));
  cJSON *slow = ok ? cJSON_AddArrayToObject(o, "slowdown") : NULL;
  ok = slow != NULL;
  for (size_t s = 0; ok && d->slowdown && s < d->nshapes; s++)
    ok = cJSON_AddItemToArray(slow, num_or_null(d->slowdown[s]));
  if (ok && d->nnodes) {
    cJSON *t = tree_to_json(d, 0, &name);
    ok = cJSON_AddItemToObject(o, "tree", t);
    if (!ok)
      cJSON_Delete(t);
  }
  ok = ok && cJSON_AddStringToObject(o, "source_hash", d->source_hash) &&
       cJSON_AddStringToObject(o, "tool_version", d->tool_version);
  helion_buf_cleanup(&name);
  if (!ok) {
    cJSON_Delete(o);
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory writing the distilled dispatcher");
  }
  *out = o;
  return HELION_OK;
}

/* ---------------------------------------------------------- from JSON -- */

#define BAD(...) helion_err_set(err, HELION_ERR_PARSE, __VA_ARGS__)

static const cJSON *member(const cJSON *o, const char *name, int type) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
  return m && (m->type & 0xff) == type ? m : NULL;
}

/* The feature index of a name ("M", "M*N", "M/N"), or -1. */
static int feature_index(const helion_distill_t *d, const char *s) {
  helion_buf_t b;
  helion_buf_init(&b, 256);
  int found = -1;
  size_t nf = helion_distill_nfeatures(d->nkeys);
  for (size_t f = 0; f < nf && found < 0; f++) {
    helion_buf_reset(&b);
    if (helion_distill_feature_name((const char *const *)d->keys, d->nkeys, f,
                                    &b) == HELION_OK &&
        strcmp(helion_buf_str(&b), s) == 0)
      found = (int)f;
  }
  helion_buf_cleanup(&b);
  return found;
}

/* Reads the subtree at `t` into d->nodes (depth-first, parent before
 * children), writing its index to *out. */
static helion_status tree_from_json(const cJSON *t, const char *where,
                                    unsigned depth, helion_distill_t *d,
                                    int *out, helion_err_t *err) {
  if (!cJSON_IsObject(t))
    return BAD("%s: tree: a node is not an object", where);
  if (depth > 64)
    return BAD("%s: tree: deeper than 64 levels", where);
  helion_distill_node_t *nn =
      realloc(d->nodes, (d->nnodes + 1) * sizeof(*d->nodes));
  if (!nn)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  d->nodes = nn;
  size_t n = d->nnodes++;
  d->nodes[n] = (helion_distill_node_t){-1, 0.0, -1, -1, -1};
  *out = (int)n;
  const cJSON *cfg = member(t, "config", cJSON_Number);
  if (cfg) {
    int64_t c;
    if (!helion_json_get_int(cfg, &c) || c < 0 || (size_t)c >= d->nconfigs)
      return BAD("%s: tree: leaf config %g is not a column of \"configs\" "
                 "(0..%zu)",
                 where, cfg->valuedouble, d->nconfigs - 1);
    d->nodes[n].config = (int)c;
    return HELION_OK;
  }
  const cJSON *f = member(t, "feature", cJSON_String);
  const cJSON *th = member(t, "threshold", cJSON_Number);
  if (!f || !th)
    return BAD("%s: tree: a node has neither \"config\" nor \"feature\" and "
               "\"threshold\"",
               where);
  int fi = feature_index(d, f->valuestring);
  if (fi < 0)
    return BAD("%s: tree: feature \"%s\" is not a key, product or ratio of "
               "the keys",
               where, f->valuestring);
  d->nodes[n].feature = fi;
  d->nodes[n].threshold = th->valuedouble;
  int l, r;
  helion_status rc;
  if ((rc = tree_from_json(cJSON_GetObjectItemCaseSensitive(t, "left"), where,
                           depth + 1, d, &l, err)) ||
      (rc = tree_from_json(cJSON_GetObjectItemCaseSensitive(t, "right"), where,
                           depth + 1, d, &r, err)))
    return rc;
  d->nodes[n].left = l;
  d->nodes[n].right = r;
  return HELION_OK;
}

/* A number array of n entries, null allowed as +inf when nullable. */
static helion_status read_numbers(const cJSON *a, size_t n, bool nullable,
                                  double *out, const char *where,
                                  const char *what, helion_err_t *err) {
  if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
    return BAD("%s: \"%s\": want an array of %zu numbers", where, what, n);
  size_t i = 0;
  for (const cJSON *x = a->child; x; x = x->next, i++) {
    if (cJSON_IsNumber(x) && isfinite(x->valuedouble))
      out[i] = x->valuedouble;
    else if (nullable && cJSON_IsNull(x))
      out[i] = INFINITY;
    else
      return BAD("%s: \"%s\"[%zu]: want a number%s", where, what, i,
                 nullable ? " or null" : "");
  }
  return HELION_OK;
}

static helion_status read_size(const cJSON *o, const char *name, size_t lo,
                               size_t hi, size_t *out, const char *where,
                               helion_err_t *err) {
  int64_t v;
  const cJSON *m = member(o, name, cJSON_Number);
  if (!m || !helion_json_get_int(m, &v) || v < (int64_t)lo || v > (int64_t)hi)
    return BAD("%s: \"%s\": want an integer in %zu..%zu", where, name, lo, hi);
  *out = (size_t)v;
  return HELION_OK;
}

helion_status helion_distill_from_json(const cJSON *obj, const char *where,
                                       helion_distill_t *d,
                                       helion_err_t *err) {
  helion_distill_cleanup(d);
  helion_status rc = HELION_OK;
  if (!cJSON_IsObject(obj))
    return BAD("%s: not an object", where);
  const cJSON *dev = member(obj, "device", cJSON_Object);
  const cJSON *name = dev ? member(dev, "name", cJSON_String) : NULL;
  const cJSON *cc = dev ? member(dev, "compute_capability", cJSON_String) : NULL;
  if (!name || !cc || strlen(cc->valuestring) >= sizeof(d->cc))
    return BAD("%s: \"device\": want {\"name\": \"...\", "
               "\"compute_capability\": \"9.0\"}",
               where);
  if (!(d->device_name = helion_strdup(name->valuestring)))
    goto nomem;
  strcpy(d->cc, cc->valuestring);

  const cJSON *keys = member(obj, "keys", cJSON_Array);
  int nk = keys ? cJSON_GetArraySize(keys) : 0;
  if (nk < 1 || nk > HELION_DISTILL_MAX_KEYS)
    return BAD("%s: \"keys\": want 1..%d key names", where,
               HELION_DISTILL_MAX_KEYS);
  if (!(d->keys = calloc((size_t)nk, sizeof(*d->keys))))
    goto nomem;
  d->nkeys = (size_t)nk;
  size_t i = 0;
  for (const cJSON *k = keys->child; k; k = k->next, i++) {
    if (!cJSON_IsString(k) || !helion_is_c_identifier(k->valuestring))
      return BAD("%s: \"keys\"[%zu]: want a C identifier", where, i);
    if (!(d->keys[i] = helion_strdup(k->valuestring)))
      goto nomem;
  }

  const cJSON *shapes = member(obj, "shapes", cJSON_Array);
  const cJSON *configs = member(obj, "configs", cJSON_Array);
  if (!shapes || !cJSON_GetArraySize(shapes))
    return BAD("%s: \"shapes\": want a non-empty array", where);
  if (!configs || !cJSON_GetArraySize(configs))
    return BAD("%s: \"configs\": want a non-empty array", where);
  d->nshapes = (size_t)cJSON_GetArraySize(shapes);
  d->nconfigs = (size_t)cJSON_GetArraySize(configs);
  d->shapes = calloc(d->nshapes * d->nkeys, sizeof(*d->shapes));
  d->configs = calloc(d->nconfigs, sizeof(*d->configs));
  d->ms = calloc(d->nshapes * d->nconfigs, sizeof(*d->ms));
  d->slowdown = calloc(d->nshapes, sizeof(*d->slowdown));
  if (!d->shapes || !d->configs || !d->ms || !d->slowdown)
    goto nomem;
  i = 0;
  for (const cJSON *s = shapes->child; s; s = s->next, i++) {
    size_t k = 0;
    if (!cJSON_IsArray(s) || (size_t)cJSON_GetArraySize(s) != d->nkeys)
      return BAD("%s: \"shapes\"[%zu]: want %zu integers", where, i, d->nkeys);
    for (const cJSON *v = s->child; v; v = v->next, k++)
      if (!helion_json_get_int(v, &d->shapes[i * d->nkeys + k]))
        return BAD("%s: \"shapes\"[%zu][%zu]: want an integer", where, i, k);
  }
  i = 0;
  for (const cJSON *c = configs->child; c; c = c->next, i++) {
    helion_buf_t b;
    helion_buf_init(&b, 1 << 20);
    if (!cJSON_IsObject(c)) {
      helion_buf_cleanup(&b);
      return BAD("%s: \"configs\"[%zu]: want a config object", where, i);
    }
    if ((rc = helion_json_write(c, 0, &b, err))) {
      helion_buf_cleanup(&b);
      return rc;
    }
    d->configs[i] = helion_buf_take(&b);
    if (!d->configs[i])
      goto nomem;
  }
  const cJSON *ms = member(obj, "ms", cJSON_Array);
  if (!ms || (size_t)cJSON_GetArraySize(ms) != d->nshapes)
    return BAD("%s: \"ms\": want one row per shape (%zu)", where, d->nshapes);
  i = 0;
  for (const cJSON *row = ms->child; row; row = row->next, i++)
    if ((rc = read_numbers(row, d->nconfigs, true, d->ms + i * d->nconfigs,
                           where, "ms", err)))
      return rc;
  const cJSON *th = member(obj, "threshold", cJSON_Number);
  if (!th || !(th->valuedouble >= 1.0))
    return BAD("%s: \"threshold\": want a number >= 1", where);
  d->threshold = th->valuedouble;
  size_t depth;
  if ((rc = read_size(obj, "max_configs", 1, 1u << 20,
                      &d->max_configs, where, err)) ||
      (rc = read_size(obj, "max_depth", 0, 32, &depth, where, err)))
    return rc;
  d->max_depth = (unsigned)depth;
  const cJSON *sel = member(obj, "selected", cJSON_Array);
  if (!sel || !cJSON_GetArraySize(sel) ||
      (size_t)cJSON_GetArraySize(sel) > d->nconfigs)
    return BAD("%s: \"selected\": want 1..%zu columns", where, d->nconfigs);
  d->nselected = (size_t)cJSON_GetArraySize(sel);
  if (!(d->selected = calloc(d->nselected, sizeof(*d->selected))))
    goto nomem;
  i = 0;
  for (const cJSON *c = sel->child; c; c = c->next, i++) {
    int64_t v;
    if (!helion_json_get_int(c, &v) || v < 0 || (size_t)v >= d->nconfigs)
      return BAD("%s: \"selected\"[%zu]: want a column 0..%zu", where, i,
                 d->nconfigs - 1);
    d->selected[i] = (size_t)v;
  }
  if ((rc = read_numbers(cJSON_GetObjectItemCaseSensitive(obj, "slowdown"),
                         d->nshapes, true, d->slowdown, where, "slowdown",
                         err)))
    return rc;
  const cJSON *tree = cJSON_GetObjectItemCaseSensitive(obj, "tree");
  if (tree) {
    int root;
    if ((rc = tree_from_json(tree, where, 0, d, &root, err)))
      return rc;
  }
  const cJSON *sh = member(obj, "source_hash", cJSON_String);
  const cJSON *tv = member(obj, "tool_version", cJSON_String);
  if (!sh || strlen(sh->valuestring) >= sizeof(d->source_hash) || !tv ||
      strlen(tv->valuestring) >= sizeof(d->tool_version))
    return BAD("%s: \"source_hash\" and \"tool_version\": want strings", where);
  strcpy(d->source_hash, sh->valuestring);
  strcpy(d->tool_version, tv->valuestring);
  return HELION_OK;
nomem:
  return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
}
