/*
 * cache.c: the local best-config cache: keys, reading and writing
 * `<hash>.best_config` files, listing them, and the FROM_BEST_AVAILABLE scan
 * (see cache.h); the remote layer's requests are cache_remote.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include "results/cache.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "results/cache_remote.h"
#include "util/json.h"

#define FORMAT_VERSION 1

/* Helion's truthiness: set to anything but "", "0", "false". */
static bool env_truthy(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0;
}

static helion_status env_limit(const char *name, size_t fallback, size_t *out,
                               helion_err_t *err) {
  double v;
  bool ok;
  const char *text = helion_env_number(name, &v, &ok);
  if (!text) {
    *out = fallback;
    return HELION_OK;
  }
  if (!ok || v < 0 || v > 1e9 || v != floor(v))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s='%s': expected an integer in [0, 1000000000]",
                          name, text);
  *out = (size_t)v;
  return HELION_OK;
}

helion_status helion_cache_init(helion_cache_t *c, const char *dir,
                                helion_err_t *err) {
  helion_cache_t t;
  memset(&t, 0, sizeof(t));
  helion_status rc;
  const char *cls = getenv("HELION_AUTOTUNE_CACHE");
  if (cls && *cls && strcmp(cls, "LocalAutotuneCache") != 0) {
    if (strcmp(cls, "StrictLocalAutotuneCache") != 0)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_CACHE='%s': not supported; use "
                            "LocalAutotuneCache (the default) or "
                            "StrictLocalAutotuneCache",
                            cls);
    t.strict = true;
  }
  if ((rc = env_limit("HELION_BEST_AVAILABLE_MAX_CACHE_SCAN",
                      HELION_CACHE_DEFAULT_MAX_SCAN, &t.max_scan, err)) ||
      (rc = env_limit("HELION_BEST_AVAILABLE_MAX_CONFIGS",
                      HELION_CACHE_DEFAULT_MAX_CONFIGS, &t.max_configs, err)))
    return rc;
  t.skip_write = env_truthy("HELION_SKIP_CACHE");
  t.skip_read = t.skip_write || env_truthy("HELION_FORCE_AUTOTUNE");
  const char *env = getenv("HELION_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (dir && *dir)
    t.dir = helion_strdup(dir);
  else if (env && *env)
    t.dir = helion_strdup(env);
  else if (xdg && *xdg)
    t.dir = helion_path_join(xdg, "helion");
  else if (home && *home)
    t.dir = helion_path_join(home, ".cache/helion");
  else
    return helion_err_set(err, HELION_ERR_USAGE,
                          "no cache directory: set HELION_CACHE_DIR (or "
                          "XDG_CACHE_HOME or HOME)");
  if (!t.dir)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (!t.skip_write && (rc = helion_cache_remote_create(&t.remote, err))) {
    free(t.dir);
    return rc;
  }
  *c = t;
  return HELION_OK;
}

void helion_cache_cleanup(helion_cache_t *c) {
  if (!c)
    return;
  free(c->dir);
  helion_cache_remote_destroy(c->remote);
  memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ keys */

helion_status helion_cache_key_json(const helion_cache_key_t *k, bool strict,
                                    cJSON **out, helion_err_t *err) {
  helion_status rc = HELION_OK;
  cJSON *o = cJSON_CreateObject(), *f = NULL;
  helion_buf_t shape;
  helion_buf_init(&shape, HELION_BUF_DEFAULT_MAX);
  char drv[32], nvrtc[32];
  const helion_device_facts_t *d = k->device;
  snprintf(drv, sizeof(drv), "%d.%d", d->driver_version / 1000,
           d->driver_version % 1000 / 10);
  snprintf(nvrtc, sizeof(nvrtc), "%d.%d", d->nvrtc_major, d->nvrtc_minor);
  for (size_t i = 0; i < k->nkeys; i++)
    if (helion_buf_appendf(&shape, "%s%s=%lld", i ? "," : "", k->shape_keys[i],
                           (long long)k->shape[i]))
      goto nomem;
  const char *const names[] = {
      "kernel",   "space_fingerprint", "source_hash",   "shape",
      "hardware", "driver_version",    "nvrtc_version", "tool_version"};
  const char *vals[] = {
      k->kernel,      k->space_fingerprint,
      k->source_hash, helion_buf_str(&shape),
      d->props.name,  drv,
      nvrtc,          k->tool_version ? k->tool_version : HELION_TOOL_VERSION};
  if (!o ||
      !cJSON_AddStringToObject(o, "type",
                               strict ? "StrictAutotuneCacheKey"
                                      : "LooseAutotuneCacheKey") ||
      !(f = cJSON_AddObjectToObject(o, "fields")))
    goto nomem;
  for (size_t i = 0; i < (strict ? 8u : 7u); i++)
    if (!cJSON_AddStringToObject(f, names[i], vals[i] ? vals[i] : ""))
      goto nomem;
  *out = o;
  o = NULL;
  goto out;
nomem:
  rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
out:
  cJSON_Delete(o);
  helion_buf_cleanup(&shape);
  return rc;
}

/* The canonical text of a key object (one line, sorted keys). */
static helion_status key_text(const cJSON *key, helion_buf_t *b,
                              helion_err_t *err) {
  helion_buf_reset(b);
  return helion_json_write(key, 0, b, err);
}

helion_status helion_cache_key_hash(const helion_cache_key_t *k, bool strict,
                                    char out[65], helion_err_t *err) {
  cJSON *key = NULL;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_cache_key_json(k, strict, &key, err);
  if (!rc && !(rc = key_text(key, &b, err)))
    helion_sha256_hex(helion_buf_str(&b), b.len, out);
  cJSON_Delete(key);
  helion_buf_cleanup(&b);
  return rc;
}

/* `<dir>/<hash>.best_config`; caller frees. NULL on OOM. */
static char *entry_path(const char *dir, const char *hash) {
  size_t n = strlen(dir) + strlen(hash) + sizeof(HELION_CACHE_SUFFIX) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s%s", dir, hash, HELION_CACHE_SUFFIX);
  return p;
}

/* ------------------------------------------------------------ file check */

/* Parses and checks one file's text (a local file's, or a remote reply's).
 * Returns HELION_OK with *out the document, or a non-zero status with `why`
 * saying what is wrong (not an error to the caller: the file is corrupt),
 * or HELION_ERR_NOMEM. */
static helion_status doc_parse(const char *data, size_t len, cJSON **out,
                               char *why, size_t cap) {
  helion_err_t e = {{0}};
  cJSON *doc = NULL;
  helion_status rc = helion_json_parse(data, len, "", &doc, &e);
  if (rc) {
    snprintf(why, cap, "%s", e.msg);
    goto out;
  }
  rc = HELION_ERR_PARSE;
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(doc, "key");
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(key, "fields");
  const cJSON *flat = cJSON_GetObjectItemCaseSensitive(doc, "flat_config");
  const cJSON *entry = cJSON_GetObjectItemCaseSensitive(doc, "entry");
  const cJSON *item;
  int64_t v;
  if (!cJSON_IsObject(doc) || !cJSON_IsObject(fields) ||
      !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(key, "type"))) {
    snprintf(why, cap, "no key {type, fields}");
    goto out;
  }
  cJSON_ArrayForEach(item, fields) if (!cJSON_IsString(item)) {
    snprintf(why, cap, "key field '%s' is not a string", item->string);
    goto out;
  }
  if (!cJSON_IsArray(flat) || cJSON_GetArraySize(flat) == 0) {
    snprintf(why, cap, "no flat_config array");
    goto out;
  }
  cJSON_ArrayForEach(item, flat) if (!helion_json_get_int(item, &v)) {
    snprintf(why, cap, "flat_config holds a %s, not an integer",
             helion_json_type_name(item));
    goto out;
  }
  if (!cJSON_IsObject(entry) ||
      !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(entry, "best_config"))) {
    snprintf(why, cap, "no entry with a best_config object");
    goto out;
  }
  *out = doc;
  doc = NULL;
  rc = HELION_OK;
out:
  if (rc == HELION_ERR_NOMEM)
    snprintf(why, cap, "out of memory");
  cJSON_Delete(doc);
  return rc;
}

/* Reads and checks one file, as doc_parse. */
static helion_status doc_read(const char *path, cJSON **out, char *why,
                              size_t cap) {
  helion_err_t e = {{0}};
  char *data = NULL;
  size_t len = 0;
  struct stat st;
  helion_status rc = HELION_ERR_PARSE;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    snprintf(why, cap, "not a regular file");
  else if ((rc =
                helion_read_file(path, HELION_CACHE_FILE_MAX, &data, &len, &e)))
    snprintf(why, cap, "%s", rc == HELION_ERR_NOMEM ? "out of memory" : e.msg);
  else
    rc = doc_parse(data, len, out, why, cap);
  free(data);
  return rc;
}

static void warn_corrupt(const char *path, const char *why) {
  HELION_LOG(HELION_LOG_WARN, "Skipping corrupt cache file %s: %s", path, why);
}

static const char *field(const cJSON *doc, const char *name) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(doc, "key"), "fields");
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(f, name);
  return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* --------------------------------------------------------------- get/put */

static double num_or_inf(const cJSON *o, const char *name) {
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(n) ? n->valuedouble : INFINITY;
}

static size_t count(const cJSON *o, const char *name) {
  int64_t v;
  return helion_json_get_int(cJSON_GetObjectItemCaseSensitive(o, name), &v) &&
                 v >= 0
             ? (size_t)v
             : 0;
}

/* Writes `item` (may be NULL) as one-line JSON into *out (caller frees);
 * *out = NULL for a NULL or null item. */
static helion_status json_text(const cJSON *item, char **out,
                               helion_err_t *err) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = HELION_OK;
  *out = NULL;
  if (cJSON_IsObject(item) && !(rc = helion_json_write(item, 0, &b, err)) &&
      !(*out = helion_buf_take(&b)))
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  helion_buf_cleanup(&b);
  return rc;
}

/* Fills `e` (initialised) from a checked document and the key. Returns
 * HELION_ERR_NOMEM, or HELION_ERR_PARSE with `why` for content the check
 * did not cover. */
static helion_status entry_from_doc(const cJSON *doc,
                                    const helion_cache_key_t *k,
                                    helion_tune_entry_t *e, char *why,
                                    size_t cap, helion_err_t *err) {
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "entry");
  const cJSON *flat = cJSON_GetObjectItemCaseSensitive(doc, "flat_config");
  const cJSON *alg = cJSON_GetObjectItemCaseSensitive(en, "algorithm");
  const cJSON *eff = cJSON_GetObjectItemCaseSensitive(en, "effort");
  const cJSON *fail = cJSON_GetObjectItemCaseSensitive(en, "failures");
  const cJSON *tv = cJSON_GetObjectItemCaseSensitive(en, "tool_version");
  const cJSON *opts = cJSON_GetObjectItemCaseSensitive(en, "options");
  size_t n = (size_t)cJSON_GetArraySize(flat), i = 0;
  int64_t seed = 0;
  if (n != k->ncells) {
    snprintf(why, cap, "flat_config has %zu cells, the space %zu", n,
             k->ncells);
    return HELION_ERR_PARSE;
  }
  if (!cJSON_IsString(alg) || !cJSON_IsString(eff) ||
      helion_effort_parse(eff->valuestring, "effort", &e->effort, NULL) ||
      !helion_json_get_int(cJSON_GetObjectItemCaseSensitive(en, "seed"),
                           &seed)) {
    snprintf(why, cap, "entry lacks algorithm, effort or seed");
    return HELION_ERR_PARSE;
  }
  e->seed = (uint64_t)seed;
  e->nkeys = k->nkeys;
  e->ncells = n;
  e->shape_keys = calloc(k->nkeys ? k->nkeys : 1, sizeof(char *));
  e->shape = calloc(k->nkeys ? k->nkeys : 1, sizeof(int64_t));
  e->best_cells = calloc(n, sizeof(int64_t));
  e->algorithm = helion_strdup(alg->valuestring);
  if (!e->shape_keys || !e->shape || !e->best_cells || !e->algorithm ||
      (cJSON_IsObject(opts) && !(e->options = cJSON_Duplicate(opts, 1))))
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t j = 0; j < k->nkeys; j++) {
    e->shape[j] = k->shape[j];
    if (!(e->shape_keys[j] = helion_strdup(k->shape_keys[j])))
      return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  const cJSON *c;
  cJSON_ArrayForEach(c, flat) helion_json_get_int(c, &e->best_cells[i++]);
  helion_status rc =
      json_text(cJSON_GetObjectItemCaseSensitive(en, "best_config"),
                &e->best_config, err);
  if (rc || (rc = json_text(
                 cJSON_GetObjectItemCaseSensitive(en, "best_config_minimized"),
                 &e->best_config_minimized, err)))
    return rc;
  e->best_ms = num_or_inf(en, "best_ms");
  e->default_ms = num_or_inf(en, "default_ms");
  e->side_by_side =
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(en, "side_by_side"));
  e->configs_tested = count(en, "configs_tested");
  e->wall_seconds = num_or_inf(en, "wall_seconds");
  e->backend_seconds = num_or_inf(en, "backend_seconds");
  size_t failed = 0;
  for (int kind = 1; kind < HELION_RESULT_KIND_COUNT; kind++)
    failed += e->by_kind[kind] =
        count(fail, helion_result_kind_name((helion_result_kind)kind));
  e->by_kind[HELION_RESULT_OK] =
      e->configs_tested > failed ? e->configs_tested - failed : 0;
  e->device = *k->device;
  snprintf(e->source_hash, sizeof(e->source_hash), "%s",
           k->source_hash ? k->source_hash : "");
  snprintf(e->space_fingerprint, sizeof(e->space_fingerprint), "%s",
           k->space_fingerprint ? k->space_fingerprint : "");
  snprintf(e->tool_version, sizeof(e->tool_version), "%s",
           cJSON_IsString(tv) ? tv->valuestring : "");
  return HELION_OK;
}

/* mkdir -p; HELION_ERR_IO naming the directory. */
static helion_status make_dirs(const char *dir, helion_err_t *err) {
  char *p = helion_strdup(dir);
  helion_status rc = HELION_OK;
  if (!p)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0')
      continue;
    char save = *s;
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      rc = helion_err_set(err, HELION_ERR_IO,
                          "cache directory %s: cannot create %s: %s", dir, p,
                          strerror(errno));
      break;
    }
    *s = save;
    if (!save)
      break;
  }
  free(p);
  return rc;
}

/* A checked document as the entry of key `k` (whose canonical text is
 * `want`) into `e`: HELION_ERR_PARSE with `why` when it is another key's or
 * its content does not fit, HELION_ERR_NOMEM. */
static helion_status doc_use(const cJSON *doc, const helion_buf_t *want,
                             const helion_cache_key_t *k,
                             helion_tune_entry_t *e, char *why, size_t cap,
                             helion_err_t *err) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  /* The stored key must be ours: a file copied or edited by hand, or
   * written by another key scheme, is not trusted. */
  helion_status rc =
      key_text(cJSON_GetObjectItemCaseSensitive(doc, "key"), &b, err);
  if (!rc && strcmp(helion_buf_str(want), helion_buf_str(&b)) != 0) {
    snprintf(why, cap, "its key fields are not this key's");
    rc = HELION_ERR_PARSE;
  } else if (!rc) {
    rc = entry_from_doc(doc, k, e, why, cap, err);
  }
  helion_buf_cleanup(&b);
  return rc;
}

/* The remote's answer for a local miss: a body that passes the local checks
 * is stored at `path` (atomically) and is a hit; one that does not is the
 * remote's one warning. Errors: HELION_ERR_NOMEM. */
static helion_status remote_read(const helion_cache_t *c,
                                 const helion_cache_key_t *k,
                                 const helion_buf_t *want, const char *hash,
                                 const char *path, helion_tune_entry_t *e,
                                 bool *hit, helion_err_t *err) {
  char why[HELION_ERR_MSG_MAX] = "", note[HELION_ERR_MSG_MAX + 32];
  char *body = NULL;
  size_t len = 0;
  cJSON *doc = NULL;
  helion_status rc = helion_cache_remote_get(c->remote, hash, &body, &len, err);
  if (rc || !body)
    goto out;
  rc = doc_parse(body, len, &doc, why, sizeof(why));
  if (!rc)
    rc = doc_use(doc, want, k, e, why, sizeof(why), err);
  if (rc == HELION_ERR_NOMEM)
    goto out;
  if (rc) {
    snprintf(note, sizeof(note), "not a best_config (%s)", why);
    helion_cache_remote_fail(c->remote, hash, note);
    rc = HELION_OK;
    goto out;
  }
  *hit = true;
  helion_err_t werr = {{0}};
  if (make_dirs(c->dir, &werr) ||
      helion_write_file_atomic(path, body, len, &werr))
    HELION_LOG(HELION_LOG_WARN, "Could not write the cache: %s", werr.msg);
  HELION_LOG(HELION_LOG_INFO, "Found %s%s in the remote cache", hash,
             HELION_CACHE_SUFFIX);
out:
  cJSON_Delete(doc);
  free(body);
  return rc;
}

helion_status helion_cache_get(const helion_cache_t *c,
                               const helion_cache_key_t *k,
                               helion_tune_entry_t *out, bool *out_hit,
                               helion_err_t *err) {
  char hash[65], why[HELION_ERR_MSG_MAX] = "";
  char *path = NULL;
  cJSON *doc = NULL, *want = NULL;
  helion_buf_t a;
  helion_buf_init(&a, HELION_BUF_DEFAULT_MAX);
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  bool hit = false;
  struct stat st;
  helion_status rc = HELION_OK;
  if (c->skip_read)
    goto done;
  if ((rc = helion_cache_key_json(k, c->strict, &want, err)) ||
      (rc = key_text(want, &a, err)))
    goto out;
  helion_sha256_hex(helion_buf_str(&a), a.len, hash);
  if (!(path = entry_path(c->dir, hash))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (lstat(path, &st) == 0 || errno != ENOENT) {
    rc = doc_read(path, &doc, why, sizeof(why));
    if (!rc)
      rc = doc_use(doc, &a, k, &e, why, sizeof(why), err);
    if (rc == HELION_ERR_NOMEM) {
      rc = helion_err_set(err, rc, "out of memory");
      goto out;
    }
    if (rc) {
      warn_corrupt(path, why);
      /* What the corrupt file held is not used. */
      helion_tune_entry_cleanup(&e);
      helion_tune_entry_init(&e);
    }
    hit = rc == HELION_OK;
    rc = HELION_OK;
  }
  if (!hit && c->remote &&
      (rc = remote_read(c, k, &a, hash, path, &e, &hit, err)))
    goto out;
  if (!hit)
    goto done;
  helion_tune_entry_cleanup(out);
  *out = e;
  helion_tune_entry_init(&e);
done:
  *out_hit = hit;
out:
  helion_tune_entry_cleanup(&e);
  cJSON_Delete(doc);
  cJSON_Delete(want);
  helion_buf_cleanup(&a);
  free(path);
  return rc;
}

helion_status helion_cache_put(const helion_cache_t *c,
                               const helion_cache_key_t *k,
                               const helion_tune_entry_t *e,
                               helion_err_t *err) {
  if (c->skip_write || e->error || e->interrupted || !e->best_cells ||
      e->effort == HELION_EFFORT_NONE)
    return HELION_OK;
  char hash[65];
  char *path = NULL;
  cJSON *doc = cJSON_CreateObject(), *key = NULL, *entry = NULL, *flat;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_cache_key_json(k, c->strict, &key, err);
  if (rc || (rc = key_text(key, &b, err)) ||
      (rc = helion_tune_entry_to_json(e, &entry, err)))
    goto out;
  helion_sha256_hex(helion_buf_str(&b), b.len, hash);
  if (!doc || !cJSON_AddNumberToObject(doc, "format", FORMAT_VERSION) ||
      !(flat = cJSON_AddArrayToObject(doc, "flat_config")) ||
      !(path = entry_path(c->dir, hash))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  cJSON_AddItemToObject(doc, "key", key);
  cJSON_AddItemToObject(doc, "entry", entry);
  key = entry = NULL;
  for (size_t i = 0; i < e->ncells; i++) {
    cJSON *n = cJSON_CreateNumber((double)e->best_cells[i]);
    if (!n) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
    cJSON_AddItemToArray(flat, n);
  }
  helion_buf_reset(&b);
  if ((rc = helion_json_write(doc, 2, &b, err)) ||
      (rc = helion_buf_putc(&b, '\n')) || (rc = make_dirs(c->dir, err)) ||
      (rc = helion_write_file_atomic(path, helion_buf_str(&b), b.len, err)))
    goto out;
  HELION_LOG(HELION_LOG_DEBUG, "Cached the config in %s", path);
  if (c->remote && (rc = helion_cache_remote_put(
                        c->remote, hash, helion_buf_str(&b), b.len, err)))
    goto out;
out:
  if (rc == HELION_ERR_LIMIT)
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  cJSON_Delete(doc);
  cJSON_Delete(key);
  cJSON_Delete(entry);
  helion_buf_cleanup(&b);
  free(path);
  return rc;
}

/* ------------------------------------------------------------ listing */

static int item_newest_first(const void *pa, const void *pb) {
  const helion_cache_item_t *a = pa, *b = pb;
  if (a->mtime != b->mtime)
    return a->mtime > b->mtime ? -1 : 1;
  return strcmp(a->path, b->path);
}

/* Frees what n items own, not the array. */
static void items_clear(helion_cache_item_t *items, size_t n) {
  for (size_t i = 0; items && i < n; i++) {
    free(items[i].path);
    cJSON_Delete(items[i].doc);
  }
}

void helion_cache_items_free(helion_cache_item_t *items, size_t n) {
  items_clear(items, n);
  free(items);
}

helion_status helion_cache_list(const char *dir, size_t max,
                                helion_cache_item_t **out, size_t *out_n,
                                helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_cache_item_t *items = NULL;
  size_t n = 0, cap = 0, kept = 0;
  const size_t slen = strlen(HELION_CACHE_SUFFIX);
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT)
      goto done;
    return helion_err_set(err, HELION_ERR_IO, "cache directory %s: %s", dir,
                          strerror(errno));
  }
  for (struct dirent *de; (de = readdir(d));) {
    size_t len = strlen(de->d_name);
    if (len <= slen || strcmp(de->d_name + len - slen, HELION_CACHE_SUFFIX))
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      helion_cache_item_t *p = realloc(items, ncap * sizeof(*p));
      if (!p)
        goto nomem;
      items = p;
      cap = ncap;
    }
    helion_cache_item_t *it = &items[n];
    memset(it, 0, sizeof(*it));
    if (!(it->path = helion_path_join(dir, de->d_name)))
      goto nomem;
    n++;
    snprintf(it->hash, sizeof(it->hash), "%.*s", (int)(len - slen), de->d_name);
    struct stat st;
    if (stat(it->path, &st) == 0)
      it->mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9;
  }
  if (n)
    qsort(items, n, sizeof(*items), item_newest_first);
  for (size_t i = 0; i < n; i++) {
    char why[HELION_ERR_MSG_MAX] = "";
    helion_status r = HELION_ERR_PARSE;
    if (!max || i < max)
      r = doc_read(items[i].path, &items[i].doc, why, sizeof(why));
    if (r == HELION_ERR_NOMEM) {
      items_clear(items + i, n - i);
      n = kept;
      goto nomem;
    }
    if (r) {
      if (!max || i < max)
        warn_corrupt(items[i].path, why);
      free(items[i].path);
      continue;
    }
    items[kept++] = items[i];
  }
  n = kept;
  goto done;
nomem:
  rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
done:
  if (d)
    closedir(d);
  if (rc) {
    helion_cache_items_free(items, n);
    return rc;
  }
  *out = items;
  *out_n = n;
  return HELION_OK;
}

helion_status helion_cache_best_available(const helion_cache_t *c,
                                          const char *device_name,
                                          const char *space_fingerprint,
                                          size_t ncells, int64_t **out_cells,
                                          size_t *out_n, helion_err_t *err) {
  helion_cache_item_t *items = NULL;
  size_t n = 0, got = 0;
  int64_t *cells = NULL;
  helion_status rc = HELION_OK;
  if (c->skip_read || !c->max_configs || !c->max_scan || !ncells)
    goto done;
  if ((rc = helion_cache_list(c->dir, c->max_scan, &items, &n, err)))
    return rc;
  if (n && !(cells = malloc(c->max_configs * ncells * sizeof(int64_t)))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n && got < c->max_configs; i++) {
    const cJSON *flat =
        cJSON_GetObjectItemCaseSensitive(items[i].doc, "flat_config");
    const char *hw = field(items[i].doc, "hardware");
    const char *fp = field(items[i].doc, "space_fingerprint");
    if (!hw || !fp || strcmp(hw, device_name) != 0 ||
        strcmp(fp, space_fingerprint) != 0 ||
        (size_t)cJSON_GetArraySize(flat) != ncells)
      continue;
    int64_t *row = cells + got * ncells;
    size_t j = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, flat) helion_json_get_int(v, &row[j++]);
    bool dup = false;
    for (size_t r = 0; r < got && !dup; r++)
      dup = memcmp(cells + r * ncells, row, ncells * sizeof(int64_t)) == 0;
    got += !dup;
  }
done:
  helion_cache_items_free(items, n);
  if (rc) {
    free(cells);
    return rc;
  }
  if (!got) {
    free(cells);
    cells = NULL;
  }
  *out_cells = cells;
  *out_n = got;
  return HELION_OK;
}
