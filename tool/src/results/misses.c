/* misses.c: reads the runtime's HELION_RECORD_MISSES file (misses.h). */
#include "results/misses.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* A misses file is appended to for as long as programs run; 256 MiB is far
 * beyond any realistic one and keeps a wrong path from eating memory. */
#define MISSES_MAX_BYTES ((size_t)256 << 20)

/* The rows read so far; kept sorted and distinct. */
typedef struct rows {
  int64_t *v;
  size_t n, cap, nkeys;
} rows;

static int cmp_row(const int64_t *a, const int64_t *b, size_t nkeys) {
  for (size_t k = 0; k < nkeys; k++)
    if (a[k] != b[k])
      return a[k] < b[k] ? -1 : 1;
  return 0;
}

/* Inserts `row` in order; *added false when it was there already. */
static helion_status rows_insert(rows *r, const int64_t *row, bool *added) {
  size_t lo = 0, hi = r->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp_row(r->v + mid * r->nkeys, row, r->nkeys);
    if (c == 0) {
      *added = false;
      return HELION_OK;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    int64_t *v = realloc(r->v, cap * r->nkeys * sizeof(int64_t) + 1);
    if (!v)
      return HELION_ERR_NOMEM;
    r->v = v;
    r->cap = cap;
  }
  memmove(r->v + (lo + 1) * r->nkeys, r->v + lo * r->nkeys,
          (r->n - lo) * r->nkeys * sizeof(int64_t));
  memcpy(r->v + lo * r->nkeys, row, r->nkeys * sizeof(int64_t));
  r->n++;
  *added = true;
  return HELION_OK;
}

/*
 * The line's "shape" object as "M=5,N=7" text, so that the spec's own shape
 * parser (helion_spec_parse_shape) checks it: one rule for what a shape is.
 * False when the member is missing or holds something other than numbers.
 */
static bool shape_text(const cJSON *shape, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  if (!cJSON_IsObject(shape))
    return false;
  for (const cJSON *m = shape->child; m; m = m->next) {
    /* Beyond 2^53 a JSON number is no longer an exact integer: refuse it
     * rather than tune a neighbouring shape. */
    if (!cJSON_IsNumber(m) || fabs(m->valuedouble) > 9007199254740992.0)
      return false;
    /* %.17g keeps a fraction or a huge value visible for the parser to
     * refuse, instead of rounding it into a valid-looking integer. */
    int w = snprintf(out + used, cap - used, "%s%s=%.17g", used ? "," : "",
                     m->string, m->valuedouble);
    if (w < 0 || (size_t)w >= cap - used)
      return false;
    used += (size_t)w;
  }
  return true;
}

/* One line: NULL-kernel lines and foreign kernels are counted, this
 * kernel's shape checked and added. */
static helion_status read_line(const char *path, size_t lineno,
                               const char *line, const helion_spec_t *spec,
                               rows *r, helion_misses_stats_t *st,
                               helion_err_t *err) {
  cJSON *o = cJSON_Parse(line);
  const cJSON *kernel = o ? cJSON_GetObjectItemCaseSensitive(o, "kernel") : 0;
  if (!cJSON_IsObject(o) || !cJSON_IsString(kernel)) {
    cJSON_Delete(o);
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s:%zu: not a miss record (a JSON object with "
                          "\"kernel\" and \"shape\", as HELION_RECORD_MISSES "
                          "writes); is this the right file?",
                          path, lineno);
  }
  if (strcmp(kernel->valuestring, spec->name) != 0) {
    st->other_kernels++;
    cJSON_Delete(o);
    return HELION_OK;
  }
  char text[1024];
  int64_t row[64];
  helion_err_t why = {{0}};
  helion_status rc = HELION_OK;
  if (spec->nkeys > sizeof(row) / sizeof(row[0]))
    rc = helion_err_set(&why, HELION_ERR_LIMIT, "too many keys");
  else if (!shape_text(cJSON_GetObjectItemCaseSensitive(o, "shape"), text,
                       sizeof(text)))
    rc = helion_err_set(&why, HELION_ERR_INVALID,
                        "\"shape\" is not an object of integers up to 2^53");
  else
    rc = helion_spec_parse_shape(spec, text, row, &why);
  cJSON_Delete(o);
  if (rc == HELION_ERR_NOMEM)
    return helion_err_set(err, rc, "out of memory");
  if (rc) {
    st->unusable++;
    HELION_LOG(HELION_LOG_WARN, "%s:%zu: skipped: %s", path, lineno, why.msg);
    return HELION_OK;
  }
  bool added = false;
  if (rows_insert(r, row, &added))
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (!added)
    st->duplicates++;
  return HELION_OK;
}

helion_status helion_misses_load(const char *path, const helion_spec_t *spec,
                                 int64_t **out, size_t *out_n,
                                 helion_misses_stats_t *stats,
                                 helion_err_t *err) {
  char *data = NULL;
  size_t len = 0;
  helion_misses_stats_t st;
  memset(&st, 0, sizeof(st));
  helion_status rc = helion_read_file(path, MISSES_MAX_BYTES, &data, &len, err);
  if (rc)
    return rc;
  rows r = {NULL, 0, 0, spec->nkeys};
  size_t lineno = 0, mine = 0;
  for (char *line = data; line && *line && !rc;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    lineno++;
    if (line[strspn(line, " \t\r")] != '\0') {
      st.lines++;
      size_t before = st.other_kernels;
      rc = read_line(path, lineno, line, spec, &r, &st, err);
      mine += st.other_kernels == before;
    }
    line = nl ? nl + 1 : NULL;
  }
  free(data);
  if (!rc && mine == 0)
    rc = helion_err_set(err, HELION_ERR_NOT_FOUND,
                        "no misses of kernel '%s' in %s (%zu lines, all of "
                        "other kernels); run the program with "
                        "HELION_RECORD_MISSES=%s first",
                        spec->name, path, st.lines, path);
  if (!rc && r.n == 0)
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "%s: none of the %zu misses of kernel '%s' is a shape "
                        "of %s (see the warnings above); has the spec's key "
                        "changed?",
                        path, mine, spec->name, spec->path);
  if (rc) {
    free(r.v);
    return rc;
  }
  *out = r.v;
  *out_n = r.n;
  if (stats)
    *stats = st;
  return HELION_OK;
}
