/*
 * results_file.c: the committed results file <name>.tuned.json: load and
 * check it, keep its entries sorted, record a shape's tune, write it so that
 * each entry is one line group that depends on that entry alone, and tell
 * stale entries (results_file.h).
 */
#include "results/results_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/arch.h"
#include "model/space.h"
#include "util/json.h"

#define MAX_KEYS 64
/* JSON numbers are doubles: integers beyond 2^53 do not survive. */
#define EXACT_INT_MAX 9007199254740992.0
#define FILE_MAX ((size_t)256 << 20)

void helion_results_init(helion_results_t *r) {
  memset(r, 0, sizeof(*r));
}

void helion_results_cleanup(helion_results_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->nentries; i++)
    cJSON_Delete(r->entries[i]);
  free(r->entries);
  cJSON_Delete(r->root);
  free(r->path);
  helion_results_init(r);
}

char *helion_results_default_path(const helion_spec_t *spec) {
  size_t n = strlen(spec->name) + sizeof(".tuned.json");
  char *file = malloc(n), *path = NULL;
  if (!file)
    return NULL;
  snprintf(file, n, "%s.tuned.json", spec->name);
  path = helion_path_join(spec->dir ? spec->dir : ".", file);
  free(file);
  return path;
}

/* ------------------------------------------------------------ the key */

/* An entry's key, borrowed from its tree. */
typedef struct entry_key {
  const char *name;
  int cc_major, cc_minor;
  const cJSON *shape[MAX_KEYS]; /* members, sorted by key name */
  size_t nkeys;
} entry_key;

static bool parse_cc(const char *s, int *major, int *minor) {
  char extra;
  return s && sscanf(s, "%d.%d%c", major, minor, &extra) == 2 && *major >= 0 &&
         *minor >= 0;
}

/* Fills k from entry `e`; NULL when well formed, else what is wrong. */
static const char *key_of(const cJSON *e, entry_key *k) {
  if (!cJSON_IsObject(e))
    return "expected an object";
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(e, "device");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(dev, "name");
  const cJSON *cc = cJSON_GetObjectItemCaseSensitive(dev, "compute_capability");
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
  if (!cJSON_IsObject(dev))
    return "device: expected an object";
  if (!cJSON_IsString(name) || !*name->valuestring)
    return "device.name: expected a non-empty string";
  if (!cJSON_IsString(cc) ||
      !parse_cc(cc->valuestring, &k->cc_major, &k->cc_minor))
    return "device.compute_capability: expected a string like \"9.0\"";
  if (!cJSON_IsObject(shape))
    return "shape: expected an object of integers";
  k->name = name->valuestring;
  k->nkeys = 0;
  for (const cJSON *m = shape->child; m; m = m->next) {
    int64_t v;
    if (!helion_json_get_int(m, &v))
      return "shape: expected an object of integers";
    if (k->nkeys == MAX_KEYS)
      return "shape: too many keys";
    size_t j = k->nkeys++;
    /* Insertion sort by key name: shapes have a handful of keys. */
    while (j > 0 && strcmp(k->shape[j - 1]->string, m->string) > 0) {
      k->shape[j] = k->shape[j - 1];
      j--;
    }
    k->shape[j] = m;
  }
  return NULL;
}

static int cmp_int(double a, double b) {
  return (a > b) - (a < b);
}

static int key_cmp(const entry_key *a, const entry_key *b) {
  int c = strcmp(a->name, b->name);
  if (c)
    return c;
  if ((c = cmp_int(a->cc_major, b->cc_major)) ||
      (c = cmp_int(a->cc_minor, b->cc_minor)))
    return c;
  for (size_t i = 0; i < a->nkeys && i < b->nkeys; i++) {
    if ((c = strcmp(a->shape[i]->string, b->shape[i]->string)) ||
        (c = cmp_int(a->shape[i]->valuedouble, b->shape[i]->valuedouble)))
      return c;
  }
  return cmp_int((double)a->nkeys, (double)b->nkeys);
}

static int entry_cmp(const void *pa, const void *pb) {
  entry_key a, b;
  key_of(*(cJSON *const *)pa, &a);
  key_of(*(cJSON *const *)pb, &b);
  return key_cmp(&a, &b);
}

int helion_results_entry_cmp(const cJSON *a, const cJSON *b) {
  return entry_cmp(&a, &b);
}

/* The index of the first entry whose key is >= k (binary search). */
static size_t lower_bound(const helion_results_t *r, const entry_key *k) {
  size_t lo = 0, hi = r->nentries;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    entry_key m;
    key_of(r->entries[mid], &m);
    if (key_cmp(&m, k) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* ------------------------------------------------------------ loading */

#define FIX_HINT                                                               \
  "; fix it (git checkout restores a committed one) or pass another --tuned "  \
  "FILE"

helion_status helion_results_parse(const char *text, size_t len,
                                   const char *path, helion_results_t *r,
                                   helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_results_t n;
  helion_results_init(&n);
  cJSON *entries = NULL;
  int64_t version;

  if (!(n.path = helion_strdup(path))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  helion_err_t pe = {{0}};
  if ((rc = helion_json_parse(text, len, path, &n.root, &pe))) {
    helion_err_set(err, rc, "%s" FIX_HINT, pe.msg);
    goto out;
  }
  if (!cJSON_IsObject(n.root)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: expected a JSON object with \"format_version\" "
                        "and \"entries\"" FIX_HINT,
                        path);
    goto out;
  }
  cJSON *fv = cJSON_GetObjectItemCaseSensitive(n.root, "format_version");
  if (!helion_json_get_int(fv, &version) || version < 1) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: format_version: expected an integer >= 1 "
                        "(this tool writes %d)" FIX_HINT,
                        path, HELION_RESULTS_FORMAT_VERSION);
    goto out;
  }
  if (version > HELION_RESULTS_FORMAT_VERSION) {
    rc =
        helion_err_set(err, HELION_ERR_UNSUPPORTED,
                       "%s: format_version %lld was written by a newer "
                       "helion-tune (this one reads %d); upgrade helion-tune, "
                       "or pass another --tuned FILE",
                       path, (long long)version, HELION_RESULTS_FORMAT_VERSION);
    goto out;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(n.root, "format_version");
  entries = cJSON_DetachItemFromObjectCaseSensitive(n.root, "entries");
  if (!cJSON_IsArray(entries)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s: entries: expected an array" FIX_HINT, path);
    goto out;
  }
  size_t count = (size_t)cJSON_GetArraySize(entries), i = 0;
  if (count && !(n.entries = malloc(count * sizeof(*n.entries)))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  n.cap = count;
  for (cJSON *e = entries->child; e; e = e->next, i++) {
    entry_key k;
    const char *why = key_of(e, &k);
    if (why) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: entries[%zu]: %s" FIX_HINT, path, i, why);
      goto out;
    }
  }
  while (entries->child)
    n.entries[n.nentries++] =
        cJSON_DetachItemViaPointer(entries, entries->child);
  if (n.nentries) /* entries is NULL when there are none */
    qsort(n.entries, n.nentries, sizeof(*n.entries), entry_cmp);
  for (i = 1; i < n.nentries; i++) {
    if (entry_cmp(&n.entries[i - 1], &n.entries[i]) == 0) {
      helion_buf_t s;
      helion_buf_init(&s, 4096);
      helion_results_shape_str(n.entries[i], &s);
      entry_key k;
      key_of(n.entries[i], &k);
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: two entries for %s, compute capability %d.%d, "
                          "shape %s; keep one" FIX_HINT,
                          path, k.name, k.cc_major, k.cc_minor,
                          helion_buf_str(&s));
      helion_buf_cleanup(&s);
      goto out;
    }
  }
out:
  cJSON_Delete(entries);
  if (rc) {
    helion_results_cleanup(&n);
    return rc;
  }
  helion_results_cleanup(r);
  *r = n;
  return HELION_OK;
}

helion_status helion_results_load(const char *path, helion_results_t *r,
                                  helion_err_t *err) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = fopen(path, "rb");
  if (!f && errno == ENOENT) {
    char *p = helion_strdup(path);
    if (!p)
      return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    helion_results_cleanup(r);
    r->path = p;
    return HELION_OK;
  }
  if (f)
    fclose(f);
  helion_status rc = helion_read_file(path, FILE_MAX, &text, &len, err);
  if (!rc)
    rc = helion_results_parse(text, len, path, r, err);
  free(text);
  return rc;
}

const cJSON *helion_results_find(const helion_results_t *r,
                                 const char *device_name, const char *cc,
                                 const char *const *keys, const int64_t *shape,
                                 size_t nkeys) {
  const cJSON *found = NULL;
  cJSON *probe = cJSON_CreateObject();
  cJSON *dev = probe ? cJSON_AddObjectToObject(probe, "device") : NULL;
  cJSON *sh = probe ? cJSON_AddObjectToObject(probe, "shape") : NULL;
  entry_key k;
  bool ok = dev && sh && cJSON_AddStringToObject(dev, "name", device_name) &&
            cJSON_AddStringToObject(dev, "compute_capability", cc);
  for (size_t i = 0; ok && i < nkeys; i++)
    ok = cJSON_AddNumberToObject(sh, keys[i], (double)shape[i]) != NULL;
  if (ok && !key_of(probe, &k)) {
    size_t at = lower_bound(r, &k);
    entry_key m;
    if (at < r->nentries && !key_of(r->entries[at], &m) && !key_cmp(&m, &k))
      found = r->entries[at];
  }
  cJSON_Delete(probe);
  return found;
}

/* ------------------------------------------------------------ recording */

/* The entry as the file records it (results_file.h). Caller frees. */
static helion_status entry_json(const helion_tune_entry_t *e, cJSON **out,
                                helion_err_t *err) {
  cJSON *o = NULL;
  for (size_t k = 0; k < e->nkeys; k++)
    if (fabs((double)e->shape[k]) >= EXACT_INT_MAX)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "shape %s=%lld does not fit a JSON number exactly "
                            "(beyond 2^53); it cannot be recorded",
                            e->shape_keys[k], (long long)e->shape[k]);
  helion_status rc = helion_tune_entry_to_json(e, &o, err);
  if (rc)
    return rc;
  cJSON_DeleteItemFromObjectCaseSensitive(o, "error");
  cJSON_DeleteItemFromObjectCaseSensitive(o, "interrupted");
  cJSON *dev = cJSON_GetObjectItemCaseSensitive(o, "device");
  cJSON *opts = cJSON_GetObjectItemCaseSensitive(o, "options");
  bool ok = cJSON_IsObject(dev) &&
            cJSON_AddNumberToObject(dev, "smem_per_block",
                                    (double)e->device.props.smem_per_block) &&
            cJSON_AddNumberToObject(dev, "regs_per_sm",
                                    (double)e->device.props.regs_per_sm);
  /* A seed beyond 2^53 would come back as another seed: null says "not
   * recorded" instead of lying. */
  if (ok && (double)e->seed >= EXACT_INT_MAX) {
    cJSON *null = cJSON_CreateNull();
    ok = null && cJSON_ReplaceItemInObjectCaseSensitive(o, "seed", null);
    if (ok && cJSON_IsObject(opts) &&
        cJSON_GetObjectItemCaseSensitive(opts, "seed")) {
      cJSON *null2 = cJSON_CreateNull();
      ok = null2 && cJSON_ReplaceItemInObjectCaseSensitive(opts, "seed", null2);
    }
  }
  if (!ok) {
    cJSON_Delete(o);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  *out = o;
  return HELION_OK;
}

helion_status helion_results_put(helion_results_t *r,
                                 const helion_tune_entry_t *e,
                                 helion_results_outcome *out_outcome, char *why,
                                 size_t cap, helion_err_t *err) {
  const char *skip = NULL;
  if (e->interrupted)
    skip = "the search was interrupted (the best so far is not a finished "
           "tune)";
  else if (e->error)
    skip = "the shape has no winner";
  else if (!e->best_config)
    skip = "the tune found no winner";
  if (skip) {
    if (why && cap)
      snprintf(why, cap, "%s", skip);
    *out_outcome = HELION_RESULTS_SKIPPED;
    return HELION_OK;
  }
  cJSON *o = NULL;
  entry_key k;
  helion_status rc = entry_json(e, &o, err);
  if (rc)
    return rc;
  const char *bad = key_of(o, &k);
  if (bad) {
    cJSON_Delete(o);
    return helion_err_set(err, HELION_ERR_INVALID, "entry: %s", bad);
  }
  size_t at = lower_bound(r, &k);
  entry_key m;
  if (at < r->nentries && !key_of(r->entries[at], &m) && !key_cmp(&m, &k)) {
    cJSON_Delete(r->entries[at]);
    r->entries[at] = o;
    *out_outcome = HELION_RESULTS_REPLACED;
    return HELION_OK;
  }
  if (r->nentries == r->cap) {
    size_t ncap = r->cap ? 2 * r->cap : 8;
    cJSON **grown = realloc(r->entries, ncap * sizeof(*grown));
    if (!grown) {
      cJSON_Delete(o);
      return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    }
    r->entries = grown;
    r->cap = ncap;
  }
  memmove(r->entries + at + 1, r->entries + at,
          (r->nentries - at) * sizeof(*r->entries));
  r->entries[at] = o;
  r->nentries++;
  *out_outcome = HELION_RESULTS_ADDED;
  return HELION_OK;
}

/* ------------------------------------------------------------ writing */

/* Appends `item` with helion_json_write's two-space indent, every line after
 * the first prefixed by `prefix`, so it nests at that depth. */
static helion_status put_nested(helion_buf_t *out, const cJSON *item,
                                const char *prefix, helion_err_t *err) {
  helion_buf_t t;
  helion_buf_init(&t, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_json_write(item, 2, &t, err);
  for (const char *p = helion_buf_str(&t); !rc && *p; p++) {
    rc = helion_buf_putc(out, *p);
    if (!rc && *p == '\n')
      rc = helion_buf_puts(out, prefix);
  }
  helion_buf_cleanup(&t);
  if (rc == HELION_ERR_NOMEM || rc == HELION_ERR_LIMIT)
    helion_err_set(err, rc, "results file text: %s", helion_status_str(rc));
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

helion_status helion_results_write(const helion_results_t *r, helion_buf_t *out,
                                   helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t n = 2;
  for (const cJSON *m = r->root ? r->root->child : NULL; m; m = m->next)
    n++;
  const char **names = malloc(n * sizeof(*names));
  if (!names)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  n = 0;
  names[n++] = "entries";
  names[n++] = "format_version";
  for (const cJSON *m = r->root ? r->root->child : NULL; m; m = m->next)
    names[n++] = m->string;
  qsort(names, n, sizeof(*names), cmp_str);

  rc = helion_buf_puts(out, "{\n");
  for (size_t i = 0; !rc && i < n; i++) {
    if (i && (rc = helion_buf_puts(out, ",\n")))
      break;
    if ((rc = helion_buf_puts(out, "  ")) ||
        (rc = helion_buf_put_json_string(out, names[i])) ||
        (rc = helion_buf_puts(out, ": ")))
      break;
    if (strcmp(names[i], "format_version") == 0) {
      rc = helion_buf_appendf(out, "%d", HELION_RESULTS_FORMAT_VERSION);
    } else if (strcmp(names[i], "entries") == 0) {
      rc = helion_buf_puts(out, r->nentries ? "[\n" : "[]");
      for (size_t j = 0; !rc && j < r->nentries; j++) {
        if ((rc = helion_buf_puts(out, j ? ",\n    " : "    ")) ||
            (rc = put_nested(out, r->entries[j], "    ", err)))
          break;
      }
      if (!rc && r->nentries)
        rc = helion_buf_puts(out, "\n  ]");
    } else {
      rc = put_nested(out, cJSON_GetObjectItemCaseSensitive(r->root, names[i]),
                      "  ", err);
    }
  }
  if (!rc)
    rc = helion_buf_puts(out, "\n}\n");
  free(names);
  if (rc == HELION_ERR_INVALID)
    helion_err_prefix(err, "%s: ", r->path ? r->path : "results file");
  else if (rc == HELION_ERR_NOMEM || rc == HELION_ERR_LIMIT)
    helion_err_set(err, rc, "results file text: %s", helion_status_str(rc));
  return rc;
}

helion_status helion_results_save(const helion_results_t *r,
                                  helion_err_t *err) {
  helion_buf_t t;
  helion_buf_init(&t, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_results_write(r, &t, err);
  if (!rc)
    rc = helion_write_file_atomic(r->path, helion_buf_str(&t), t.len, err);
  helion_buf_cleanup(&t);
  return rc;
}

helion_status helion_results_record(const char *path,
                                    const helion_tune_entry_t *e,
                                    helion_results_outcome *out_outcome,
                                    char *why, size_t cap, helion_err_t *err) {
  helion_results_t r;
  helion_results_init(&r);
  helion_results_outcome outcome;
  helion_status rc = helion_results_load(path, &r, err);
  if (!rc)
    rc = helion_results_put(&r, e, &outcome, why, cap, err);
  if (!rc && outcome != HELION_RESULTS_SKIPPED)
    rc = helion_results_save(&r, err);
  if (!rc)
    *out_outcome = outcome;
  helion_results_cleanup(&r);
  return rc;
}

/* ------------------------------------------------------------ staleness */

helion_status helion_results_shape_str(const cJSON *entry, helion_buf_t *out) {
  helion_status rc = HELION_OK;
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
  for (const cJSON *m = shape ? shape->child : NULL; !rc && m; m = m->next)
    rc = helion_buf_appendf(out, "%s%s=%.0f", m == shape->child ? "" : ",",
                            m->string, m->valuedouble);
  return rc;
}

bool helion_results_entry_shape(const cJSON *entry, const helion_spec_t *spec,
                                int64_t *values) {
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
  if (cJSON_GetArraySize(shape) != (int)spec->nkeys)
    return false;
  for (size_t i = 0; i < spec->nkeys; i++)
    if (!helion_json_get_int(
            cJSON_GetObjectItemCaseSensitive(shape, spec->keys[i]), &values[i]))
      return false;
  return true;
}

void helion_results_entry_device(const cJSON *entry, helion_device_props_t *p) {
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(entry, "device");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(dev, "name");
  const cJSON *cc = cJSON_GetObjectItemCaseSensitive(dev, "compute_capability");
  int major = 0, minor = 0;
  int64_t v;
  char arch[32];
  parse_cc(cJSON_GetStringValue(cc), &major, &minor);
  snprintf(arch, sizeof(arch), "sm_%d%d", major, minor);
  memset(p, 0, sizeof(*p));
  /* An architecture this tool does not know keeps zeros; then the
   * recorded values below are all there is. */
  helion_device_props_for_arch(arch, p, NULL);
  snprintf(p->name, sizeof(p->name), "%s", cJSON_GetStringValue(name));
  p->cc_major = major;
  p->cc_minor = minor;
  if (helion_json_get_int(cJSON_GetObjectItemCaseSensitive(dev, "sm_count"),
                          &v))
    p->num_sms = v;
  if (helion_json_get_int(
          cJSON_GetObjectItemCaseSensitive(dev, "smem_per_block"), &v))
    p->smem_per_block = v;
  if (helion_json_get_int(cJSON_GetObjectItemCaseSensitive(dev, "regs_per_sm"),
                          &v))
    p->regs_per_sm = v;
}

static bool str_differs(const cJSON *entry, const char *key, const char *now) {
  const char *was =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, key));
  return !was || strcmp(was, now) != 0;
}

helion_status helion_results_staleness(const cJSON *entry,
                                       const helion_spec_t *spec,
                                       const char *source_hash, int *out_flags,
                                       char *why, size_t cap,
                                       helion_err_t *err) {
  int flags = 0;
  int64_t values[MAX_KEYS];
  helion_buf_t msg;
  helion_buf_init(&msg, 16384);
  helion_err_t le = {{0}};
  helion_status rc = HELION_OK;

  if (str_differs(entry, "source_hash", source_hash)) {
    flags |= HELION_STALE_SOURCE;
    helion_buf_puts(&msg, "source changed since the entry was tuned (the "
                          "kernel or helion/device.cuh)");
  }
  const char *space_why = NULL;
  helion_space_t *space = NULL;
  if (spec->nkeys > MAX_KEYS || !helion_results_entry_shape(entry, spec, values)) {
    space_why = "its shape's keys are not the spec's any more";
  } else {
    helion_device_props_t props;
    helion_results_entry_device(entry, &props);
    rc = helion_spec_space(spec, values, &props, &space, &le);
    if (rc == HELION_ERR_NOMEM)
      goto out;
    rc = HELION_OK;
    char fp[65];
    if (space)
      helion_space_fingerprint(space, fp);
    if (!space)
      space_why = le.msg;
    else if (str_differs(entry, "space_fingerprint", fp))
      space_why = "the search space changed since the entry was tuned "
                  "(parameters, restrictions or device limits)";
  }
  if (space_why) {
    flags |= HELION_STALE_SPACE;
    helion_buf_appendf(&msg, "%s%s%s", flags & HELION_STALE_SOURCE ? "; " : "",
                       space == NULL && helion_results_entry_shape(entry, spec, values)
                           ? "the shape no longer builds a space: "
                           : "",
                       space_why);
  }
  if (flags) {
    helion_buf_appendf(&msg, ": re-tune with helion-tune tune %s --shape ",
                       spec->path);
    helion_results_shape_str(entry, &msg);
  }
  if (str_differs(entry, "tool_version", HELION_TOOL_VERSION)) {
    const char *was = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(entry, "tool_version"));
    flags |= HELION_STALE_TOOL;
    helion_buf_appendf(&msg,
                       "%stuned by helion-tune %s, this is %s (informational: "
                       "the entry is still used)",
                       flags != HELION_STALE_TOOL ? "; " : "",
                       was ? was : "(unknown)", HELION_TOOL_VERSION);
  }
out:
  helion_space_destroy(space);
  if (!rc) {
    *out_flags = flags;
    if (why && cap)
      snprintf(why, cap, "%s", helion_buf_str(&msg));
  } else if (err) {
    *err = le;
  }
  helion_buf_cleanup(&msg);
  return rc;
}
