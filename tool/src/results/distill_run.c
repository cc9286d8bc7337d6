/*
 * distill_run.c: `helion-tune distill` as a library call (distill_run.h):
 * tune what is missing, time every winner on every shape, fit, record.
 */
#include "results/distill_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/device_facts.h"
#include "model/config.h"
#include "results/tune.h"
#include "results/tune_run.h"
#include "util/interrupt.h"
#include "util/json.h"

/* Side-by-side re-timing per config of a shape, ms of GPU time. */
#define DISTILL_REBENCH_MS 100.0

/* What one run keeps. */
typedef struct drun {
  const helion_distill_run_opts_t *o;
  helion_device_facts_t dev;
  char cc[16];
  char src[65];
  helion_results_t res;
  /* Per shape of o->shapes: its entry in res (borrowed), or NULL. */
  const cJSON **entry;
  helion_backend_cuda_t *cb;
} drun;

static const int64_t *shape_at(const drun *r, size_t i) {
  return r->o->shapes + i * r->o->spec->nkeys;
}

static void shape_text(const drun *r, size_t i, helion_buf_t *b) {
  helion_buf_reset(b);
  helion_spec_shape_str(r->o->spec, shape_at(r, i), b);
}

/* Reloads the results file and finds each shape's current entry for the
 * device (a stale one counts as missing); *out_missing counts the rest. */
static helion_status find_entries(drun *r, size_t *out_missing,
                                  helion_err_t *err) {
  const helion_spec_t *spec = r->o->spec;
  helion_status rc = helion_results_load(r->o->results_path, &r->res, err);
  size_t missing = 0;
  for (size_t i = 0; i < r->o->nshapes && !rc; i++) {
    const cJSON *e = helion_results_find(&r->res, r->dev.props.name, r->cc,
                                         (const char *const *)spec->keys,
                                         shape_at(r, i), spec->nkeys);
    int flags = 0;
    char why[512];
    if (e && (rc = helion_results_staleness(e, spec, r->src, &flags, why,
                                            sizeof(why), err)))
      break;
    if (flags & (HELION_STALE_SOURCE | HELION_STALE_SPACE))
      e = NULL;
    r->entry[i] = e;
    missing += e == NULL;
  }
  *out_missing = missing;
  return rc;
}

static helion_status on_tuned(void *ud, const helion_tune_entry_t *e,
                              bool cached, const helion_cuda_stats_t *stats,
                              helion_err_t *err) {
  (void)ud, (void)e, (void)cached, (void)stats, (void)err;
  return HELION_OK;
}

/* Tunes the shapes without a current entry and records them. */
static helion_status tune_missing(drun *r, size_t nmissing,
                                  helion_err_t *err) {
  const helion_spec_t *spec = r->o->spec;
  int64_t *shapes = calloc(nmissing * spec->nkeys, sizeof(*shapes));
  if (!shapes)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  size_t n = 0;
  for (size_t i = 0; i < r->o->nshapes; i++)
    if (!r->entry[i])
      memcpy(shapes + n++ * spec->nkeys, shape_at(r, i),
             spec->nkeys * sizeof(*shapes));
  HELION_LOG(HELION_LOG_INFO,
             "distill: %zu of %zu shapes have no current entry for %s; "
             "tuning them first",
             nmissing, r->o->nshapes, r->dev.props.name);
  helion_tune_run_opts_t to = {spec,       shapes, n,    r->o->search,
                               r->o->cuda, NULL,   0,    NULL,
                               r->o->results_path, "--tuned"};
  helion_device_facts_t dev;
  helion_status rc = helion_tune_run(&to, on_tuned, NULL, &dev, err);
  free(shapes);
  return rc;
}

/* The distinct winners of the found entries as columns: full config texts
 * (the identity) sorted bytewise, with their minimized texts. */
static helion_status columns(drun *r, helion_distill_t *d, char ***out_full,
                             helion_err_t *err) {
  size_t n = 0;
  char **full = calloc(r->o->nshapes + 1, sizeof(*full));
  char **mini = calloc(r->o->nshapes + 1, sizeof(*mini));
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  helion_status rc = full && mini ? HELION_OK
                                  : helion_err_set(err, HELION_ERR_NOMEM,
                                                   "out of memory");
  for (size_t i = 0; i < r->o->nshapes && !rc; i++) {
    if (!r->entry[i])
      continue;
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(r->entry[i],
                                                      "best_config");
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(
        r->entry[i], "best_config_minimized");
    helion_buf_reset(&b);
    if ((rc = helion_json_write(bc, 0, &b, err)))
      break;
    bool seen = false;
    for (size_t c = 0; c < n && !seen; c++)
      seen = strcmp(full[c], helion_buf_str(&b)) == 0;
    if (seen)
      continue;
    full[n] = helion_buf_take(&b);
    if (!full[n] || (rc = helion_json_write(bm, 0, &b, err)))
      break;
    mini[n++] = helion_buf_take(&b);
  }
  /* Sorted by the full text, minimized texts alongside. */
  for (size_t i = 1; i < n && !rc; i++)
    for (size_t j = i; j > 0 && strcmp(full[j - 1], full[j]) > 0; j--) {
      char *t = full[j];
      full[j] = full[j - 1], full[j - 1] = t;
      t = mini[j];
      mini[j] = mini[j - 1], mini[j - 1] = t;
    }
  helion_buf_cleanup(&b);
  d->configs = mini;
  d->nconfigs = n;
  *out_full = full;
  return rc;
}

/* Times every column on shape i; writes row i of d->ms (+inf for a column
 * this shape's space refuses or that fails). */
static helion_status measure_shape(drun *r, size_t i, char **full,
                                   helion_distill_t *d, size_t row,
                                   helion_err_t *err) {
  const helion_spec_t *spec = r->o->spec;
  helion_space_t *space = NULL;
  helion_status rc = helion_spec_space(spec, shape_at(r, i), &r->dev.props,
                                       &space, err);
  if (rc)
    return rc;
  size_t nc = d->nconfigs, ncells = space->ncells, n = 0;
  int64_t *cells = calloc(nc * ncells + 1, sizeof(*cells));
  size_t *col = calloc(nc + 1, sizeof(*col));
  helion_bench_result_t *res = calloc(nc + 1, sizeof(*res));
  double *ms = calloc(nc + 1, sizeof(*ms));
  if (!cells || !col || !res || !ms) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t c = 0; c < nc; c++) {
    d->ms[row * nc + c] = INFINITY;
    helion_err_t perr = {{0}};
    int64_t *x = cells + n * ncells;
    if (helion_config_from_json(space, full[c], x, &perr)) {
      HELION_LOG(HELION_LOG_DEBUG, "distill: C%zu is not in this shape's "
                                   "space: %s", c, perr.msg);
      continue;
    }
    helion_space_normalize(space, x);
    if (!helion_space_valid(space, x)) {
      HELION_LOG(HELION_LOG_DEBUG,
                 "distill: C%zu breaks a restriction of this shape", c);
      continue;
    }
    col[n++] = c;
  }
  if ((rc = helion_backend_cuda_set_shape(r->cb, space, shape_at(r, i),
                                          r->o->search->seed, err)))
    goto out;
  helion_backend_t *be = helion_backend_cuda_backend(r->cb);
  if (n && (rc = helion_backend_bench(be, cells, n, res, err)))
    goto out;
  /* The ones that work, re-timed side by side (one interleaved run, so a
   * drifting clock moves them all alike). */
  size_t nok = 0;
  for (size_t k = 0; k < n; k++)
    if (res[k].kind == HELION_RESULT_OK) {
      memmove(cells + nok * ncells, cells + k * ncells,
              ncells * sizeof(*cells));
      col[nok++] = col[k];
    }
  if (nok && (rc = helion_backend_rebench(be, cells, nok,
                                          DISTILL_REBENCH_MS * (double)nok, ms,
                                          err)))
    goto out;
  for (size_t k = 0; k < nok; k++)
    d->ms[row * nc + col[k]] = ms[k];
out:
  free(cells);
  free(col);
  free(res);
  free(ms);
  helion_space_destroy(space);
  return rc;
}

/* Copies the shapes that have an entry and the keys into d. */
static helion_status take_shapes(drun *r, helion_distill_t *d,
                                 helion_err_t *err) {
  const helion_spec_t *spec = r->o->spec;
  d->nkeys = spec->nkeys;
  d->keys = calloc(spec->nkeys, sizeof(*d->keys));
  d->shapes = calloc(r->o->nshapes * spec->nkeys + 1, sizeof(*d->shapes));
  d->device_name = helion_strdup(r->dev.props.name);
  if (!d->keys || !d->shapes || !d->device_name)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t k = 0; k < spec->nkeys; k++)
    if (!(d->keys[k] = helion_strdup(spec->keys[k])))
      return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < r->o->nshapes; i++)
    if (r->entry[i])
      memcpy(d->shapes + d->nshapes++ * spec->nkeys, shape_at(r, i),
             spec->nkeys * sizeof(*d->shapes));
  strcpy(d->cc, r->cc);
  memcpy(d->source_hash, r->src, sizeof(d->source_hash));
  snprintf(d->tool_version, sizeof(d->tool_version), "%s",
           HELION_TOOL_VERSION);
  d->threshold = r->o->threshold;
  d->max_configs = r->o->max_configs;
  d->max_depth = r->o->max_depth;
  return HELION_OK;
}

/* The device the run is on: the driver's facts without a context, else the
 * benchmark worker's (started here). */
static helion_status find_device(drun *r, helion_err_t *err) {
  helion_status rc = HELION_OK;
  if (helion_device_facts_query(r->o->cuda->device, &r->dev, NULL) &&
      (!(rc = helion_backend_cuda_create(r->o->spec, r->o->cuda, &r->cb,
                                         err))))
    rc = helion_device_facts_from_gpu(helion_backend_cuda_device(r->cb),
                                      &r->dev, err);
  snprintf(r->cc, sizeof(r->cc), "%d.%d", r->dev.props.cc_major,
           r->dev.props.cc_minor);
  return rc;
}

helion_status helion_distill_run(const helion_distill_run_opts_t *o,
                                 helion_distill_t *out, helion_err_t *err) {
  drun r;
  memset(&r, 0, sizeof(r));
  r.o = o;
  helion_results_init(&r.res);
  helion_distill_cleanup(out);
  char **full = NULL;
  size_t missing = 0;
  helion_buf_t text;
  helion_buf_init(&text, 4096);
  helion_status rc = HELION_OK;
  if (!(r.entry = calloc(o->nshapes + 1, sizeof(*r.entry)))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = helion_tune_source_hash(o->spec, r.src, err)) ||
      (rc = find_device(&r, err)) || (rc = find_entries(&r, &missing, err)))
    goto out;
  if (missing) {
    /* The tunes start their own backend; ours (if any) is let go first:
     * one benchmark worker on the GPU at a time. */
    helion_backend_cuda_destroy(r.cb);
    r.cb = NULL;
    if ((rc = tune_missing(&r, missing, err)) ||
        (rc = find_entries(&r, &missing, err)))
      goto out;
  }
  if (helion_interrupted()) {
    rc = helion_err_set(err, HELION_ERR_INTERRUPTED, "interrupted");
    goto out;
  }
  for (size_t i = 0; i < o->nshapes; i++)
    if (!r.entry[i]) {
      shape_text(&r, i, &text);
      HELION_LOG(HELION_LOG_WARN,
                 "distill: %s has no working config on %s; left out",
                 helion_buf_str(&text), r.dev.props.name);
    }
  if ((rc = take_shapes(&r, out, err)))
    goto out;
  if (out->nshapes < 2) {
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "distill needs at least 2 tuned shapes of %s on %s; "
                        "it has %zu (give more with --shape or in the spec)",
                        o->spec->name, r.dev.props.name, out->nshapes);
    goto out;
  }
  if ((rc = columns(&r, out, &full, err)))
    goto out;
  out->ms = calloc(out->nshapes * out->nconfigs, sizeof(*out->ms));
  if (!out->ms) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (!r.cb && (rc = helion_backend_cuda_create(o->spec, o->cuda, &r.cb, err)))
    goto out;
  HELION_LOG(HELION_LOG_INFO,
             "distill: timing %zu distinct winners on each of %zu shapes "
             "on %s",
             out->nconfigs, out->nshapes, r.dev.props.name);
  for (size_t i = 0, row = 0; i < o->nshapes && !rc; i++) {
    if (!r.entry[i])
      continue;
    if (helion_interrupted()) {
      rc = helion_err_set(err, HELION_ERR_INTERRUPTED, "interrupted");
      break;
    }
    if ((rc = measure_shape(&r, i, full, out, row, err)))
      break;
    shape_text(&r, i, &text);
    size_t best = 0, ok = 0;
    for (size_t c = 0; c < out->nconfigs; c++) {
      double v = out->ms[row * out->nconfigs + c];
      ok += isfinite(v);
      if (v < out->ms[row * out->nconfigs + best])
        best = c;
    }
    HELION_LOG(HELION_LOG_INFO,
               "distill: shape %zu/%zu %s: %zu of %zu configs run, best C%zu "
               "%.4fms",
               row + 1, out->nshapes, helion_buf_str(&text), ok,
               out->nconfigs, best, out->ms[row * out->nconfigs + best]);
    row++;
  }
  if (rc || (rc = helion_distill_select(out, err)) ||
      (rc = helion_distill_fit(out, err)))
    goto out;
  /* Read again: entries written meanwhile by another run are kept. */
  if ((rc = helion_results_load(o->results_path, &r.res, err)) ||
      (rc = helion_results_set_distilled(&r.res, out, err)) ||
      (rc = helion_results_save(&r.res, err)))
    goto out;
  HELION_LOG(HELION_LOG_INFO,
             "distill: %zu of %zu configs keep every shape within %.2fx "
             "(tree of %zu nodes); recorded in %s",
             out->nselected, out->nconfigs, out->threshold, out->nnodes,
             o->results_path);
out:
  helion_backend_cuda_destroy(r.cb);
  for (size_t c = 0; full && c < out->nconfigs; c++)
    free(full[c]);
  free(full);
  free(r.entry);
  helion_results_cleanup(&r.res);
  helion_buf_cleanup(&text);
  return rc;
}

/* --------------------------------------------- the results file element -- */

/* The "distilled" array of r->root, created when `create`. */
static cJSON *distilled(const helion_results_t *r, bool create) {
  cJSON *a = cJSON_GetObjectItemCaseSensitive(r->root, "distilled");
  if (!a && create)
    a = cJSON_AddArrayToObject(r->root, "distilled");
  return cJSON_IsArray(a) ? a : NULL;
}

/* The device of element x: name and cc, or NULL. */
static const char *device_of(const cJSON *x, const char **cc) {
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(x, "device");
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(dev, "name");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(dev, "compute_capability");
  *cc = cJSON_IsString(c) ? c->valuestring : "";
  return cJSON_IsString(n) ? n->valuestring : NULL;
}

helion_status helion_results_get_distilled(const helion_results_t *r,
                                           const char *device, const char *cc,
                                           helion_distill_t *out, bool *found,
                                           helion_err_t *err) {
  *found = false;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(r->root, "distilled");
  if (!a)
    return HELION_OK;
  if (!cJSON_IsArray(a))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: \"distilled\": want an array", r->path);
  int i = 0, at = -1;
  const cJSON *pick = NULL;
  for (const cJSON *x = a->child; x; x = x->next, i++) {
    const char *xcc, *name = device_of(x, &xcc);
    if (!name || (device && strcmp(name, device)) || (cc && strcmp(xcc, cc)))
      continue;
    if (pick)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s holds the distilled matrices of several "
                            "devices%s",
                            r->path, device ? " of that name" : "");
    pick = x, at = i;
  }
  if (!pick)
    return HELION_OK;
  char where[1024];
  snprintf(where, sizeof(where), "%s: distilled[%d]", r->path, at);
  *found = true;
  return helion_distill_from_json(pick, where, out, err);
}

helion_status helion_results_set_distilled(helion_results_t *r,
                                           const helion_distill_t *d,
                                           helion_err_t *err) {
  cJSON *a = distilled(r, true), *obj = NULL;
  if (!a)
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: \"distilled\": want an array", r->path);
  helion_status rc = helion_distill_to_json(d, &obj, err);
  if (rc)
    return rc;
  /* Sorted by (name, cc): insert before the first greater, replace an
   * equal one. */
  int i = 0;
  for (cJSON *x = a->child; x; x = x->next, i++) {
    const char *xcc, *name = device_of(x, &xcc);
    int c = name ? strcmp(name, d->device_name) : -1;
    if (c == 0)
      c = strcmp(xcc, d->cc);
    if (c == 0)
      return cJSON_ReplaceItemInArray(a, i, obj)
                 ? HELION_OK
                 : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    if (c > 0)
      return cJSON_InsertItemInArray(a, i, obj)
                 ? HELION_OK
                 : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  if (!cJSON_AddItemToArray(a, obj)) {
    cJSON_Delete(obj);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  return HELION_OK;
}
