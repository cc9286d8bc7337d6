/*
 * backend_sim_landscape.c: reads a recorded landscape (a Kernel Tuner cache
 * or T4 file, plain or gzipped) into the simulator's tables and builds its
 * space; backend_sim.c replays them. Formats and failure mapping:
 * backend_sim.h.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_sim_internal.h"
#include "util/json.h"

/* Kernel Tuner's default number of timed iterations per configuration. */
#define SIM_DEFAULT_RUNS 7

/* What a record parser hands to add_record(). */
typedef struct rec_in {
  bool excluded;
  helion_result_kind kind;
  double ms;
  double compile_ms;
  double bench_ms;   /* < 0: unknown */
  const cJSON *runs; /* array of numbers or NULL */
  size_t nruns;
  double unit; /* ms per unit of the runs (T4 may record seconds) */
} rec_in_t;

/* ------------------------------------------------------------ messages */

/* Appends `key` as a JSON path member: .name for identifiers, ["..."]
 * otherwise. */
static void path_member(helion_buf_t *b, const char *key) {
  bool ident = key[0] != '\0' && !(key[0] >= '0' && key[0] <= '9');
  for (const char *p = key; *p && ident; p++)
    ident = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '_';
  if (ident) {
    if (b->len)
      helion_buf_putc(b, '.');
    helion_buf_puts(b, key);
  } else {
    helion_buf_putc(b, '[');
    helion_buf_put_json_string(b, key);
    helion_buf_putc(b, ']');
  }
}

/* ------------------------------------------------------------ values */

static int value_rank(helion_value_kind k) {
  switch (k) {
  case HELION_VALUE_NULL:
    return 0;
  case HELION_VALUE_BOOL:
    return 1;
  case HELION_VALUE_INT:
  case HELION_VALUE_FLOAT:
    return 2;
  case HELION_VALUE_STR:
    return 3;
  }
  return 4;
}

static double value_num(const helion_value_t *v) {
  return v->kind == HELION_VALUE_FLOAT ? v->f : (double)v->i;
}

static int value_cmp(const helion_value_t *a, const helion_value_t *b) {
  int ra = value_rank(a->kind), rb = value_rank(b->kind);
  if (ra != rb)
    return ra < rb ? -1 : 1;
  switch (ra) {
  case 1:
    return (a->i > b->i) - (a->i < b->i);
  case 2: {
    if (a->kind == HELION_VALUE_INT && b->kind == HELION_VALUE_INT)
      return (a->i > b->i) - (a->i < b->i);
    double x = value_num(a), y = value_num(b);
    return (x > y) - (x < y);
  }
  case 3:
    return strcmp(a->s, b->s);
  default:
    return 0;
  }
}

static int value_qsort_cmp(const void *a, const void *b) {
  return value_cmp(a, b);
}

/* A JSON scalar as a value (strings borrowed, not copied). False for
 * arrays and objects. */
static bool value_of_json(const cJSON *item, helion_value_t *out) {
  memset(out, 0, sizeof(*out));
  int64_t i;
  if (helion_json_get_int(item, &i)) {
    out->kind = HELION_VALUE_INT;
    out->i = i;
  } else if (cJSON_IsNumber(item)) {
    out->kind = HELION_VALUE_FLOAT;
    out->f = item->valuedouble;
  } else if (cJSON_IsString(item)) {
    out->kind = HELION_VALUE_STR;
    out->s = item->valuestring;
  } else if (cJSON_IsBool(item)) {
    out->kind = HELION_VALUE_BOOL;
    out->i = cJSON_IsTrue(item) ? 1 : 0;
  } else if (cJSON_IsNull(item)) {
    out->kind = HELION_VALUE_NULL;
  } else {
    return false;
  }
  return true;
}

/* Index of `probe` among pv's sorted values, or -1. */
static long value_find(const pvals_t *pv, const helion_value_t *probe) {
  size_t lo = 0, hi = pv->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = value_cmp(&pv->v[mid], probe);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* Index of a cache-key token: Kernel Tuner joins str(value), so a token is
 * Python's text of a number, a string, True/False or None. */
static long token_find(const pvals_t *pv, char *tok) {
  helion_value_t probe;
  memset(&probe, 0, sizeof(probe));
  if (strcmp(tok, "True") == 0 || strcmp(tok, "False") == 0) {
    probe.kind = HELION_VALUE_BOOL;
    probe.i = tok[0] == 'T';
    long j = value_find(pv, &probe);
    if (j >= 0)
      return j;
  } else if (strcmp(tok, "None") == 0) {
    probe.kind = HELION_VALUE_NULL;
    long j = value_find(pv, &probe);
    if (j >= 0)
      return j;
  }
  char *end = NULL;
  double d = tok[0] ? strtod(tok, &end) : 0.0;
  if (tok[0] && end && *end == '\0') {
    probe.kind = HELION_VALUE_FLOAT;
    probe.f = d;
    long j = value_find(pv, &probe);
    if (j >= 0)
      return j;
  }
  probe.kind = HELION_VALUE_STR;
  probe.s = tok;
  return value_find(pv, &probe);
}

/* Sorts, deduplicates and copies the collected values into pv and decides
 * the slot kind. `vals` holds borrowed strings. */
static helion_status pvals_finish(pvals_t *pv, helion_value_t *vals, size_t n) {
  qsort(vals, n, sizeof(*vals), value_qsort_cmp);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (m == 0 || value_cmp(&vals[m - 1], &vals[i]) != 0)
      vals[m++] = vals[i];
  pv->v = calloc(m, sizeof(*pv->v));
  if (!pv->v)
    return HELION_ERR_NOMEM;
  for (size_t i = 0; i < m; i++) {
    pv->v[i] = vals[i];
    pv->v[i].s = NULL;
    if (vals[i].kind == HELION_VALUE_STR) {
      pv->v[i].s = helion_strdup(vals[i].s);
      if (!pv->v[i].s)
        return HELION_ERR_NOMEM;
    }
    pv->n = i + 1;
  }
  bool all_int = true, pow2 = true, consec = true;
  for (size_t i = 0; i < m; i++) {
    if (pv->v[i].kind != HELION_VALUE_INT) {
      all_int = false;
      break;
    }
    int64_t x = pv->v[i].i;
    if (!helion_is_pow2(x) || (i > 0 && x != 2 * pv->v[i - 1].i))
      pow2 = false;
    if (i > 0 && x != pv->v[i - 1].i + 1)
      consec = false;
  }
  if (all_int && pow2)
    pv->kind = HELION_FRAG_POW2;
  else if (all_int && consec)
    pv->kind = HELION_FRAG_INT;
  else
    pv->kind = HELION_FRAG_ENUM;
  return HELION_OK;
}

static int64_t pvals_cell(const pvals_t *pv, size_t j) {
  return pv->kind == HELION_FRAG_ENUM ? (int64_t)j : pv->v[j].i;
}

static void pvals_cleanup(pvals_t *pv) {
  free(pv->key);
  for (size_t i = 0; i < pv->n; i++)
    free(pv->v[i].s);
  free(pv->v);
}

/* ------------------------------------------------------------ records */

static uint64_t hash_cells(const int64_t *c, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint64_t)c[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h;
}

size_t helion__sim_find_rec(const helion_sim_t *sim, const int64_t *cells) {
  size_t n = sim->nparams;
  for (size_t i = hash_cells(cells, n) & sim->tmask;;
       i = (i + 1) & sim->tmask) {
    size_t r = sim->table[i];
    if (r == HELION__SIM_NO_REC)
      return HELION__SIM_NO_REC;
    if (memcmp(sim->cells + r * n, cells, n * sizeof(int64_t)) == 0)
      return r;
  }
}

static helion_status table_init(helion_sim_t *sim, size_t nrecords) {
  size_t cap = 16;
  while (cap < 2 * nrecords + 1)
    cap *= 2;
  sim->table = malloc(cap * sizeof(*sim->table));
  sim->cells = malloc((nrecords + 1) * (sim->nparams + 1) * sizeof(int64_t));
  sim->recs = malloc((nrecords + 1) * sizeof(*sim->recs));
  if (!sim->table || !sim->cells || !sim->recs)
    return HELION_ERR_NOMEM;
  for (size_t i = 0; i < cap; i++)
    sim->table[i] = HELION__SIM_NO_REC;
  sim->tmask = cap - 1;
  return HELION_OK;
}

/* Stores one record with its cells (already in sim->cells[nrec]). Returns
 * HELION_ERR_INVALID for a duplicate; the caller words the message. */
static helion_status add_record(helion_sim_t *sim, const rec_in_t *in) {
  size_t n = sim->nparams;
  const int64_t *cells = sim->cells + sim->nrec * n;
  size_t i = hash_cells(cells, n) & sim->tmask;
  for (; sim->table[i] != HELION__SIM_NO_REC; i = (i + 1) & sim->tmask)
    if (memcmp(sim->cells + sim->table[i] * n, cells, n * sizeof(int64_t)) == 0)
      return HELION_ERR_INVALID;
  if (in->excluded)
    return HELION_OK; /* known to exist, but never a candidate */
  if (sim->nruns + in->nruns > sim->capruns) {
    size_t ncap = sim->capruns ? sim->capruns : 4096;
    while (ncap < sim->nruns + in->nruns)
      ncap *= 2;
    double *p = realloc(sim->runs, ncap * sizeof(double));
    if (!p)
      return HELION_ERR_NOMEM;
    sim->runs = p;
    sim->capruns = ncap;
  }
  rec_t *r = &sim->recs[sim->nrec];
  r->kind = in->kind;
  r->ms = in->kind == HELION_RESULT_OK ? in->ms : INFINITY;
  r->compile_s = in->compile_ms / 1000.0;
  r->runs_off = sim->nruns;
  r->nruns = in->nruns;
  double sum = 0.0;
  size_t k = 0;
  for (const cJSON *e = in->runs ? in->runs->child : NULL; e; e = e->next) {
    sim->runs[sim->nruns + k++] = e->valuedouble * in->unit;
    sum += e->valuedouble * in->unit;
  }
  sim->nruns += in->nruns;
  double bench_ms = in->bench_ms;
  if (bench_ms < 0) {
    if (in->kind != HELION_RESULT_OK)
      bench_ms = 0.0;
    else if (in->nruns)
      bench_ms = sum;
    else
      bench_ms = in->ms * SIM_DEFAULT_RUNS;
  }
  r->cost_s = (in->compile_ms + bench_ms) / 1000.0;
  sim->table[i] = sim->nrec;
  sim->nrec++;
  return HELION_OK;
}

/* A time in ms within [lo, HELION_SIM_MAX_MS] (backend_sim.h says why);
 * lo is HELION_SIM_MIN_MS for a successful run, 0 for other times. */
static helion_status check_ms(double ms, double lo, const char *path,
                              const char *where, helion_err_t *err) {
  if (ms >= lo && ms <= HELION_SIM_MAX_MS) /* NaN fails both */
    return HELION_OK;
  return helion_err_set(err, HELION_ERR_PARSE,
                        "%s: %s: %g ms is outside [%g, %g] ms (%s)", path,
                        where, ms, lo, HELION_SIM_MAX_MS,
                        lo > 0 ? "a kernel run takes a nanosecond to a day"
                               : "a time is 0 to a day");
}

/* An optional array of times at `item` (in `unit` ms each), each in [lo,
 * HELION_SIM_MAX_MS]. */
static helion_status check_runs(const cJSON *item, const char *path,
                                const char *where, double unit, double lo,
                                size_t *out_n, helion_err_t *err) {
  if (!cJSON_IsArray(item))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s: expected an array of numbers, got %s", path,
                          where, helion_json_type_name(item));
  size_t n = 0;
  char at[256];
  for (const cJSON *e = item->child; e; e = e->next, n++) {
    snprintf(at, sizeof(at), "%s[%zu]", where, n);
    if (!cJSON_IsNumber(e))
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: %s: expected a time in ms (a number >= 0), "
                            "got %s",
                            path, at, helion_json_type_name(e));
    helion_status rc = check_ms(e->valuedouble * unit, lo, path, at, err);
    if (rc)
      return rc;
  }
  *out_n = n;
  return HELION_OK;
}

/* An optional time (in `unit` ms) in [0, HELION_SIM_MAX_MS], as ms; absent
 * gives `dflt`. */
static helion_status opt_ms(const cJSON *obj, const char *name,
                            const char *path, const char *where, double unit,
                            double dflt, double *out, helion_err_t *err) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!item) {
    *out = dflt;
    return HELION_OK;
  }
  char at[256];
  snprintf(at, sizeof(at), "%s.%s", where, name);
  if (!cJSON_IsNumber(item))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s: expected a time in ms (a number >= 0), got "
                          "%s",
                          path, at, helion_json_type_name(item));
  helion_status rc = check_ms(item->valuedouble * unit, 0.0, path, at, err);
  if (!rc)
    *out = item->valuedouble * unit;
  return rc;
}

/* Kernel Tuner's failure names. False for an unknown name. */
static bool failure_name(const char *s, rec_in_t *in) {
  if (strcmp(s, "CompilationFailedConfig") == 0) {
    in->kind = HELION_RESULT_COMPILE;
  } else if (strcmp(s, "RuntimeFailedConfig") == 0) {
    in->kind = HELION_RESULT_RUNTIME;
  } else if (strcmp(s, "InvalidConfig") == 0) {
    in->excluded = true;
  } else {
    return false;
  }
  return true;
}

/* ------------------------------------------------------------ cache format */

static helion_status load_cache_params(helion_sim_t *sim, const cJSON *root,
                                       const char *path, helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_value_t *vals = NULL;
  helion_buf_t where;
  helion_buf_init(&where, 0);
  const cJSON *keys =
      cJSON_GetObjectItemCaseSensitive(root, "tune_params_keys");
  const cJSON *tp = cJSON_GetObjectItemCaseSensitive(root, "tune_params");
  if (!cJSON_IsArray(keys) || cJSON_GetArraySize(keys) == 0) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: tune_params_keys: expected a non-empty array of "
                        "parameter names, got %s",
                        path,
                        cJSON_IsArray(keys) ? "an empty array"
                                            : helion_json_type_name(keys));
    goto out;
  }
  if (!cJSON_IsObject(tp)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: tune_params: expected an object, got %s", path,
                        helion_json_type_name(tp));
    goto out;
  }
  size_t n = (size_t)cJSON_GetArraySize(keys);
  sim->pv = calloc(n, sizeof(*sim->pv));
  if (!sim->pv) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  size_t k = 0;
  for (const cJSON *key = keys->child; key; key = key->next, k++) {
    if (!cJSON_IsString(key)) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: tune_params_keys[%zu]: expected a string, got "
                          "%s",
                          path, k, helion_json_type_name(key));
      goto out;
    }
    for (size_t j = 0; j < k; j++)
      if (strcmp(sim->pv[j].key, key->valuestring) == 0) {
        rc = helion_err_set(err, HELION_ERR_PARSE,
                            "%s: tune_params_keys[%zu]: \"%s\" appears twice",
                            path, k, key->valuestring);
        goto out;
      }
    helion_buf_reset(&where);
    helion_buf_puts(&where, "tune_params");
    path_member(&where, key->valuestring);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tp, key->valuestring);
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s: expected a non-empty array of values, got "
                          "%s",
                          path, helion_buf_str(&where),
                          cJSON_IsArray(arr) ? "an empty array"
                                             : helion_json_type_name(arr));
      goto out;
    }
    size_t m = (size_t)cJSON_GetArraySize(arr), i = 0;
    free(vals);
    vals = calloc(m, sizeof(*vals));
    sim->pv[k].key = helion_strdup(key->valuestring);
    sim->nparams = k + 1;
    if (!vals || !sim->pv[k].key) {
      rc = HELION_ERR_NOMEM;
      goto out;
    }
    for (const cJSON *e = arr->child; e; e = e->next, i++)
      if (!value_of_json(e, &vals[i])) {
        rc = helion_err_set(err, HELION_ERR_PARSE,
                            "%s: %s[%zu]: expected a number, string or "
                            "boolean, got %s",
                            path, helion_buf_str(&where), i,
                            helion_json_type_name(e));
        goto out;
      }
    rc = pvals_finish(&sim->pv[k], vals, m);
    if (rc)
      goto out;
  }
out:
  free(vals);
  helion_buf_cleanup(&where);
  return rc;
}

/* Parses one cache record (`item` under key `key`) into `in`. */
static helion_status parse_cache_record(const cJSON *item, const char *where,
                                        const char *path, rec_in_t *in,
                                        helion_err_t *err) {
  helion_status rc = HELION_OK;
  memset(in, 0, sizeof(*in));
  in->bench_ms = -1.0;
  in->unit = 1.0;
  if (!cJSON_IsObject(item))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s: expected an object, got %s", path, where,
                          helion_json_type_name(item));
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(item, "__error__");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "time");
  if (cJSON_IsObject(t) && !e)
    e = cJSON_GetObjectItemCaseSensitive(t, "__error__");
  if (e) {
    if (!cJSON_IsString(e))
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: %s.__error__: expected a failure name, got %s",
                            path, where, helion_json_type_name(e));
    /* A failure named only in newer files is still a failure; which kind is
     * unknown, RUNTIME is the closest (it got as far as running). */
    if (!failure_name(e->valuestring, in))
      in->kind = HELION_RESULT_RUNTIME;
  } else if (cJSON_IsNumber(t)) {
    char at[256];
    snprintf(at, sizeof(at), "%s.time", where);
    rc = check_ms(t->valuedouble, HELION_SIM_MIN_MS, path, at, err);
    if (rc)
      return rc;
    in->kind = HELION_RESULT_OK;
    in->ms = t->valuedouble;
  } else if (cJSON_IsString(t)) {
    if (!failure_name(t->valuestring, in))
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: %s.time: unknown failure \"%s\" (expected a "
                            "number in ms, CompilationFailedConfig, "
                            "RuntimeFailedConfig or InvalidConfig)",
                            path, where, t->valuestring);
  } else {
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s.time: expected a number or a failure string, "
                          "got %s",
                          path, where, helion_json_type_name(t));
  }
  if (in->excluded)
    return HELION_OK;
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(item, "times");
  if (runs) {
    helion_buf_t w;
    helion_buf_init(&w, 0);
    helion_buf_appendf(&w, "%s.times", where);
    rc = check_runs(runs, path, helion_buf_str(&w), 1.0,
                    in->kind == HELION_RESULT_OK ? HELION_SIM_MIN_MS : 0.0,
                    &in->nruns, err);
    helion_buf_cleanup(&w);
    if (rc)
      return rc;
    in->runs = runs;
  }
  rc = opt_ms(item, "compile_time", path, where, 1.0, 0.0, &in->compile_ms,
              err);
  if (!rc)
    rc = opt_ms(item, "benchmark_time", path, where, 1.0, -1.0, &in->bench_ms,
                err);
  return rc;
}

static helion_status load_cache(helion_sim_t *sim, const cJSON *root,
                                const char *path, helion_err_t *err) {
  helion_status rc = load_cache_params(sim, root, path, err);
  helion_buf_t where;
  helion_buf_init(&where, 0);
  char *tok = NULL;
  if (rc)
    goto out;
  const cJSON *cache = cJSON_GetObjectItemCaseSensitive(root, "cache");
  if (!cJSON_IsObject(cache)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: cache: expected an object, got %s", path,
                        helion_json_type_name(cache));
    goto out;
  }
  rc = table_init(sim, (size_t)cJSON_GetArraySize(cache));
  if (rc)
    goto out;
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device_name");
  const cJSON *ker = cJSON_GetObjectItemCaseSensitive(root, "kernel_name");
  if (cJSON_IsString(dev) &&
      !(sim->device_name = helion_strdup(dev->valuestring)))
    rc = HELION_ERR_NOMEM;
  if (cJSON_IsString(ker) &&
      !(sim->kernel_name = helion_strdup(ker->valuestring)))
    rc = HELION_ERR_NOMEM;
  if (rc)
    goto out;
  size_t np = sim->nparams;
  for (const cJSON *item = cache->child; item; item = item->next) {
    helion_buf_reset(&where);
    helion_buf_puts(&where, "cache");
    path_member(&where, item->string);
    /* The key is the values joined with commas in tune_params_keys order. */
    free(tok);
    tok = helion_strdup(item->string);
    if (!tok) {
      rc = HELION_ERR_NOMEM;
      goto out;
    }
    size_t ntok = 1;
    for (char *p = tok; *p; p++)
      ntok += *p == ',';
    if (ntok != np) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s: the key has %zu values, but "
                          "tune_params_keys names %zu parameters",
                          path, helion_buf_str(&where), ntok, np);
      goto out;
    }
    int64_t *cells = sim->cells + sim->nrec * np;
    char *p = tok;
    for (size_t k = 0; k < np; k++) {
      char *comma = strchr(p, ',');
      if (comma)
        *comma = '\0';
      long j = token_find(&sim->pv[k], p);
      if (j < 0) {
        rc = helion_err_set(err, HELION_ERR_PARSE,
                            "%s: %s: value '%s' of %s is not among its "
                            "tune_params values",
                            path, helion_buf_str(&where), p, sim->pv[k].key);
        goto out;
      }
      cells[k] = pvals_cell(&sim->pv[k], (size_t)j);
      p = comma ? comma + 1 : p;
    }
    rec_in_t in;
    rc = parse_cache_record(item, helion_buf_str(&where), path, &in, err);
    if (rc)
      goto out;
    rc = add_record(sim, &in);
    if (rc == HELION_ERR_INVALID)
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: %s: the same configuration appears twice", path,
                          helion_buf_str(&where));
    if (rc)
      goto out;
  }
out:
  free(tok);
  helion_buf_cleanup(&where);
  return rc;
}

/* ------------------------------------------------------------ T4 format */

static helion_status t4_config(const cJSON *res, size_t i, const char *path,
                               const helion_sim_t *sim, const cJSON **out,
                               helion_err_t *err) {
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(res, "configuration");
  if (!cJSON_IsObject(res))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: results[%zu]: expected an object, got %s", path,
                          i, helion_json_type_name(res));
  if (!cJSON_IsObject(conf) || !conf->child)
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: results[%zu].configuration: expected a "
                          "non-empty object, got %s",
                          path, i,
                          cJSON_IsObject(conf) ? "an empty object"
                                               : helion_json_type_name(conf));
  if (sim->pv) {
    size_t n = (size_t)cJSON_GetArraySize(conf);
    for (size_t k = 0; k < sim->nparams; k++)
      if (!cJSON_GetObjectItemCaseSensitive(conf, sim->pv[k].key))
        return helion_err_set(err, HELION_ERR_PARSE,
                              "%s: results[%zu].configuration: has no \"%s\" "
                              "(results[0].configuration has it)",
                              path, i, sim->pv[k].key);
    if (n != sim->nparams)
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: results[%zu].configuration: has %zu "
                            "parameters, results[0].configuration has %zu",
                            path, i, n, sim->nparams);
  }
  *out = conf;
  return HELION_OK;
}

static helion_status load_t4_params(helion_sim_t *sim, const cJSON *results,
                                    const char *path, helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t nres = (size_t)cJSON_GetArraySize(results);
  helion_value_t *vals = calloc(nres ? nres : 1, sizeof(*vals));
  const cJSON *conf0 = NULL;
  if (!vals)
    return HELION_ERR_NOMEM;
  if (nres == 0) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: results: no results; nothing to simulate", path);
    goto out;
  }
  rc = t4_config(results->child, 0, path, sim, &conf0, err);
  if (rc)
    goto out;
  size_t np = (size_t)cJSON_GetArraySize(conf0);
  pvals_t *pv = calloc(np, sizeof(*pv));
  if (!pv) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  /* Checks every configuration against the first's keys, before any value
   * is collected by key. */
  size_t k = 0;
  for (const cJSON *c = conf0->child; c; c = c->next, k++) {
    pv[k].key = helion_strdup(c->string);
    if (!pv[k].key) {
      rc = HELION_ERR_NOMEM;
      break;
    }
  }
  sim->pv = pv;
  sim->nparams = np;
  if (rc)
    goto out;
  for (k = 0; k < np; k++)
    for (size_t j = 0; j < k; j++)
      if (strcmp(pv[j].key, pv[k].key) == 0) {
        rc = helion_err_set(err, HELION_ERR_PARSE,
                            "%s: results[0].configuration: \"%s\" appears "
                            "twice",
                            path, pv[k].key);
        goto out;
      }
  size_t i = 0;
  for (const cJSON *res = results->child; res; res = res->next, i++) {
    const cJSON *conf;
    rc = t4_config(res, i, path, sim, &conf, err);
    if (rc)
      goto out;
  }
  for (k = 0; k < np; k++) {
    i = 0;
    for (const cJSON *res = results->child; res; res = res->next, i++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(res, "configuration"), pv[k].key);
      if (!value_of_json(v, &vals[i])) {
        helion_buf_t w;
        helion_buf_init(&w, 0);
        helion_buf_puts(&w, "configuration");
        path_member(&w, pv[k].key);
        rc = helion_err_set(err, HELION_ERR_PARSE,
                            "%s: results[%zu].%s: expected a number, string "
                            "or boolean, got %s",
                            path, i, helion_buf_str(&w),
                            helion_json_type_name(v));
        helion_buf_cleanup(&w);
        goto out;
      }
    }
    rc = pvals_finish(&pv[k], vals, nres);
    if (rc)
      goto out;
  }
out:
  free(vals);
  return rc;
}

static helion_status parse_t4_record(const cJSON *res, size_t i,
                                     const char *path, double unit,
                                     rec_in_t *in, helion_err_t *err) {
  memset(in, 0, sizeof(*in));
  in->unit = unit;
  const cJSON *inv = cJSON_GetObjectItemCaseSensitive(res, "invalidity");
  const cJSON *times = cJSON_GetObjectItemCaseSensitive(res, "times");
  if (!cJSON_IsString(inv))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: results[%zu].invalidity: expected a string, got "
                          "%s",
                          path, i, helion_json_type_name(inv));
  const char *s = inv->valuestring;
  if (strcmp(s, "correct") == 0)
    in->kind = HELION_RESULT_OK;
  else if (strcmp(s, "compile") == 0)
    in->kind = HELION_RESULT_COMPILE;
  else if (strcmp(s, "runtime") == 0)
    in->kind = HELION_RESULT_RUNTIME;
  else if (strcmp(s, "correctness") == 0)
    in->kind = HELION_RESULT_ACCURACY;
  else if (strcmp(s, "timeout") == 0)
    in->kind = HELION_RESULT_TIMEOUT;
  else if (strcmp(s, "constraints") == 0)
    in->excluded = true;
  else
    in->kind = HELION_RESULT_RUNTIME; /* documented in backend_sim.h */
  if (in->excluded)
    return HELION_OK;
  if (times && !cJSON_IsObject(times))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: results[%zu].times: expected an object, got %s",
                          path, i, helion_json_type_name(times));
  char where[64];
  snprintf(where, sizeof(where), "results[%zu].times", i);
  helion_status rc =
      opt_ms(times, "compilation", path, where, unit, 0.0, &in->compile_ms, err);
  if (rc)
    return rc;
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(times, "runtimes");
  snprintf(where, sizeof(where), "results[%zu].times.runtimes", i);
  if (runs) {
    rc = check_runs(runs, path, where, unit,
                    in->kind == HELION_RESULT_OK ? HELION_SIM_MIN_MS : 0.0,
                    &in->nruns, err);
    if (rc)
      return rc;
    in->runs = runs;
  }
  if (in->kind == HELION_RESULT_OK) {
    if (in->nruns == 0)
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: %s: a \"correct\" result needs at least one "
                            "runtime",
                            path, where);
    double sum = 0.0;
    for (const cJSON *e = runs->child; e; e = e->next)
      sum += e->valuedouble;
    in->ms = sum / (double)in->nruns * unit;
    /* The mean of times in range may round just outside it. */
    snprintf(where, sizeof(where), "results[%zu] (mean of the runtimes)", i);
    rc = check_ms(in->ms, HELION_SIM_MIN_MS, path, where, err);
    if (rc)
      return rc;
  }
  /* Compile plus the runs themselves: T4 records no benchmark total. */
  in->bench_ms = -1.0;
  return HELION_OK;
}

static helion_status load_t4(helion_sim_t *sim, const cJSON *root,
                             const char *path, helion_err_t *err) {
  helion_status rc = HELION_OK;
  const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "results");
  double unit = 1.0;
  const cJSON *tu = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(root, "metadata"), "timeunit");
  if (tu) {
    const char *u = cJSON_IsString(tu) ? tu->valuestring : "";
    if (!strcmp(u, "miliseconds") || !strcmp(u, "milliseconds") ||
        !strcmp(u, "ms"))
      unit = 1.0;
    else if (!strcmp(u, "seconds") || !strcmp(u, "s"))
      unit = 1000.0;
    else if (!strcmp(u, "microseconds") || !strcmp(u, "us"))
      unit = 0.001;
    else
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: metadata.timeunit: unknown unit (expected "
                            "\"milliseconds\", \"seconds\" or "
                            "\"microseconds\")",
                            path);
  }
  if (!cJSON_IsArray(results))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: results: expected an array, got %s", path,
                          helion_json_type_name(results));
  rc = load_t4_params(sim, results, path, err);
  if (!rc)
    rc = table_init(sim, (size_t)cJSON_GetArraySize(results));
  if (rc)
    return rc;
  size_t np = sim->nparams, i = 0;
  for (const cJSON *res = results->child; res; res = res->next, i++) {
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(res, "configuration");
    int64_t *cells = sim->cells + sim->nrec * np;
    for (size_t k = 0; k < np; k++) {
      helion_value_t probe;
      value_of_json(cJSON_GetObjectItemCaseSensitive(conf, sim->pv[k].key),
                    &probe);
      cells[k] =
          pvals_cell(&sim->pv[k], (size_t)value_find(&sim->pv[k], &probe));
    }
    rec_in_t in;
    rc = parse_t4_record(res, i, path, unit, &in, err);
    if (rc)
      return rc;
    rc = add_record(sim, &in);
    if (rc == HELION_ERR_INVALID)
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s: results[%zu]: the same configuration appears "
                            "twice",
                            path, i);
    if (rc)
      return rc;
  }
  return HELION_OK;
}

/* ------------------------------------------------------------ space */

static bool sim_filter(const int64_t *cells, void *ud) {
  return helion__sim_find_rec(ud, cells) != HELION__SIM_NO_REC;
}

/* The parameter name as a C identifier, distinct from names[0..n). */
static char *c_name(const char *key, char **names, size_t n) {
  helion_buf_t b;
  helion_buf_init(&b, 0);
  if (key[0] >= '0' && key[0] <= '9')
    helion_buf_puts(&b, "p_");
  for (const char *p = key; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_';
    helion_buf_putc(&b, ok ? c : '_');
  }
  if (b.len == 0)
    helion_buf_puts(&b, "p_");
  if (!helion_is_c_identifier(helion_buf_str(&b)))
    helion_buf_putc(&b, '_'); /* a C keyword */
  size_t base = b.len;
  for (int suffix = 2;; suffix++) {
    bool clash = false;
    for (size_t i = 0; i < n && !clash; i++)
      clash = strcmp(names[i], helion_buf_str(&b)) == 0;
    if (!clash)
      break;
    b.len = base;
    b.data[base] = '\0';
    helion_buf_appendf(&b, "_%d", suffix);
  }
  char *s = helion_buf_take(&b);
  helion_buf_cleanup(&b);
  return s;
}

helion_status helion__sim_build_space(helion_sim_t *sim, const char *path,
                                      helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t n = sim->nparams;
  helion_param_t *params = calloc(n, sizeof(*params));
  char **names = calloc(n, sizeof(*names));
  if (!params || !names) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  for (size_t k = 0; k < n; k++) {
    const pvals_t *pv = &sim->pv[k];
    helion_param_t *p = &params[k];
    names[k] = c_name(pv->key, names, k);
    p->key = helion_strdup(pv->key);
    p->name = helion_strdup(names[k]);
    if (!names[k] || !p->key || !p->name) {
      rc = HELION_ERR_NOMEM;
      goto out;
    }
    p->index = -1;
    p->role = HELION_ROLE_NONE;
    p->frag.kind = pv->kind;
    p->frag.inner = pv->kind;
    p->frag.length = 1;
    if (pv->kind == HELION_FRAG_ENUM) {
      p->frag.choices = calloc(pv->n, sizeof(helion_value_t));
      if (!p->frag.choices) {
        rc = HELION_ERR_NOMEM;
        goto out;
      }
      p->frag.nchoices = pv->n;
      for (size_t j = 0; j < pv->n; j++) {
        p->frag.choices[j] = pv->v[j];
        p->frag.choices[j].s = NULL;
        if (pv->v[j].kind == HELION_VALUE_STR &&
            !(p->frag.choices[j].s = helion_strdup(pv->v[j].s))) {
          rc = HELION_ERR_NOMEM;
          goto out;
        }
      }
      p->frag.dflt = 0;
    } else {
      p->frag.low = pv->v[0].i;
      p->frag.high = pv->v[pv->n - 1].i;
      p->frag.dflt = p->frag.low;
    }
  }
  helion_space_opts_t so;
  memset(&so, 0, sizeof(so));
  so.params = params;
  so.nparams = n;
  so.filter = sim_filter;
  so.filter_ud = sim;
  rc = helion_space_create(&so, &sim->space, err);
  if (rc) {
    helion_err_prefix(err, "%s: ", path);
    goto out;
  }
  /* Records were keyed by slot order, one cell each; the space must agree. */
  if (sim->space->ncells != n) {
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "%s: the space has %zu cells for %zu scalar "
                        "parameters",
                        path, sim->space->ncells, n);
    goto out;
  }
  for (size_t k = 0; k < n; k++)
    if (sim->space->cell_off[k] != k) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "%s: the space put parameter %zu at cell %zu", path,
                          k, sim->space->cell_off[k]);
      goto out;
    }
out:
  for (size_t k = 0; params && k < n; k++)
    helion_param_cleanup(&params[k]);
  for (size_t k = 0; names && k < n; k++)
    free(names[k]);
  free(params);
  free(names);
  return rc;
}

/* ------------------------------------------------------------ read */

helion_status helion__sim_read(helion_sim_t *sim, const char *path,
                               const char *data, size_t len, size_t max,
                               helion_err_t *err) {
  cJSON *root = NULL;
  helion_status rc = helion__sim_parse(path, data, len, max, &root, err);
  if (rc)
    goto out;
  if (!cJSON_IsObject(root)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: expected a JSON object (a Kernel Tuner cache or "
                        "T4 file), got %s",
                        path, helion_json_type_name(root));
    goto out;
  }
  if (cJSON_GetObjectItemCaseSensitive(root, "results")) {
    sim->format = "t4";
    rc = load_t4(sim, root, path, err);
  } else if (cJSON_GetObjectItemCaseSensitive(root, "cache")) {
    sim->format = "cache";
    rc = load_cache(sim, root, path, err);
  } else {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: neither a Kernel Tuner cache file (no \"cache\") "
                        "nor a T4 file (no \"results\")",
                        path);
  }
out:
  cJSON_Delete(root);
  return rc;
}

void helion__sim_landscape_cleanup(helion_sim_t *sim) {
  helion_space_destroy(sim->space);
  for (size_t k = 0; sim->pv && k < sim->nparams; k++)
    pvals_cleanup(&sim->pv[k]);
  free(sim->pv);
  free(sim->cells);
  free(sim->recs);
  free(sim->runs);
  free(sim->table);
  free(sim->device_name);
  free(sim->kernel_name);
}
