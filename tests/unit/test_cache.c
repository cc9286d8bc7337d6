/*
 * test_cache.c: the local best-config cache (results/cache.h): every key
 * component changes the key, strict vs loose; a put read back by a get;
 * corrupt files (truncated JSON, wrong types, empty, a directory, another
 * key's fields, the wrong number of cells) are warned misses; FORCE and SKIP;
 * the best-available scan's matching, order, dedup and limits; and two
 * processes writing 100 entries each into one directory with no torn file.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "results/cache.h"
#include "util/json.h"

#define NCELLS 3

static const char *const KEYS[] = {"M", "N"};

/* A key and what it points at, varied one component at a time. */
typedef struct key_parts {
  char kernel[32], fp[65], src[65], tool[32];
  int64_t shape[2];
  helion_device_facts_t dev;
  helion_cache_key_t key;
} key_parts;

static void parts_init(key_parts *p) {
  memset(p, 0, sizeof(*p));
  snprintf(p->kernel, sizeof(p->kernel), "matmul");
  memset(p->fp, 'a', 64);
  memset(p->src, 'b', 64);
  snprintf(p->tool, sizeof(p->tool), "1.0.0");
  p->shape[0] = 4096;
  p->shape[1] = 128;
  snprintf(p->dev.props.name, sizeof(p->dev.props.name), "NVIDIA H100");
  p->dev.props.cc_major = 9;
  p->dev.driver_version = 12080;
  p->dev.nvrtc_major = 12;
  p->dev.nvrtc_minor = 8;
}

/* Points the key at the parts (call after every change of the struct's
 * address, e.g. a copy). */
static const helion_cache_key_t *parts_key(key_parts *p) {
  helion_cache_key_t k = {p->kernel, p->fp,   p->src,  KEYS,  p->shape,
                          2,         &p->dev, p->tool, NCELLS};
  p->key = k;
  return &p->key;
}

static void hash_of(key_parts *p, bool strict, char out[65]) {
  helion_err_t err = {{0}};
  assert_int_equal(helion_cache_key_hash(parts_key(p), strict, out, &err),
                   HELION_OK);
}

static void test_cache_key_components(void **state) {
  (void)state;
  key_parts base, p;
  char h0[65], hs0[65], h[65];
  parts_init(&base);
  hash_of(&base, false, h0);
  hash_of(&base, true, hs0);
  assert_int_equal(strlen(h0), 64);
  assert_string_not_equal(h0, hs0);
  for (int which = 0; which < 9; which++) {
    p = base;
    switch (which) {
    case 0:
      p.kernel[0] = 'M';
      break;
    case 1:
      p.fp[0] = 'c';
      break;
    case 2:
      p.src[63] = 'c';
      break;
    case 3:
      p.shape[0] = 2048;
      break;
    case 4:
      p.shape[1] = 129;
      break;
    case 5:
      p.dev.props.name[7] = 'A';
      break;
    case 6:
      p.dev.driver_version = 12090;
      break;
    case 7:
      p.dev.nvrtc_minor = 9;
      break;
    default:
      p.dev.nvrtc_major = 13;
      break;
    }
    hash_of(&p, false, h);
    assert_string_not_equal(h, h0);
    hash_of(&p, true, h);
    assert_string_not_equal(h, hs0);
  }
  /* The tool version is only in the strict key; facts outside the key (SM
   * count, compute capability) change neither. */
  p = base;
  snprintf(p.tool, sizeof(p.tool), "1.0.1");
  p.dev.props.num_sms = 7;
  hash_of(&p, false, h);
  assert_string_equal(h, h0);
  hash_of(&p, true, h);
  assert_string_not_equal(h, hs0);
  /* Deterministic, and the canonical text is what is hashed. */
  p = base;
  hash_of(&p, false, h);
  assert_string_equal(h, h0);
  cJSON *kj = NULL;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_cache_key_json(parts_key(&p), false, &kj, NULL), 0);
  assert_int_equal(helion_json_write(kj, 0, &b, NULL), 0);
  helion_sha256_hex(helion_buf_str(&b), b.len, h);
  assert_string_equal(h, h0);
  assert_non_null(strstr(helion_buf_str(&b), "\"shape\": \"M=4096,N=128\""));
  assert_non_null(strstr(helion_buf_str(&b), "\"driver_version\": \"12.8\""));
  assert_null(strstr(helion_buf_str(&b), "tool_version"));
  cJSON_Delete(kj);
  helion_buf_cleanup(&b);
}

/* --------------------------------------------------------------- fixture */

static char g_dir[256];

static int setup(void **state) {
  (void)state;
  snprintf(g_dir, sizeof(g_dir), "/tmp/helion_cache_test_XXXXXX");
  if (!mkdtemp(g_dir))
    return -1;
  unsetenv("HELION_FORCE_AUTOTUNE");
  unsetenv("HELION_SKIP_CACHE");
  unsetenv("HELION_AUTOTUNE_CACHE");
  unsetenv("HELION_BEST_AVAILABLE_MAX_CACHE_SCAN");
  unsetenv("HELION_BEST_AVAILABLE_MAX_CONFIGS");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void cache_open(helion_cache_t *c) {
  helion_err_t err = {{0}};
  assert_int_equal(helion_cache_init(c, g_dir, &err), HELION_OK);
}

/* A finished entry with cells {a, b, c}. */
static void entry_make(helion_tune_entry_t *e, int64_t a, int64_t b, int64_t c,
                       double ms) {
  helion_tune_entry_init(e);
  char cfg[96];
  snprintf(cfg, sizeof(cfg), "{\"a\": %lld, \"b\": %lld, \"c\": %lld}",
           (long long)a, (long long)b, (long long)c);
  e->best_cells = malloc(NCELLS * sizeof(int64_t));
  assert_non_null(e->best_cells);
  e->best_cells[0] = a;
  e->best_cells[1] = b;
  e->best_cells[2] = c;
  e->ncells = NCELLS;
  e->best_config = strdup(cfg);
  e->best_config_minimized = strdup("{\"a\": 1}");
  e->algorithm = strdup("LFBOTreeSearch");
  e->effort = HELION_EFFORT_QUICK;
  e->seed = 7;
  e->best_ms = ms;
  e->default_ms = 2 * ms;
  e->side_by_side = true;
  e->configs_tested = 40;
  e->by_kind[HELION_RESULT_COMPILE] = 3;
  e->by_kind[HELION_RESULT_OK] = 37;
  e->wall_seconds = 5;
  e->backend_seconds = 4;
  snprintf(e->tool_version, sizeof(e->tool_version), "1.0.0");
}

static void put(const helion_cache_t *c, key_parts *p, int64_t a, double ms) {
  helion_tune_entry_t e;
  helion_err_t err = {{0}};
  entry_make(&e, a, 2, 3, ms);
  assert_int_equal(helion_cache_put(c, parts_key(p), &e, &err), HELION_OK);
  helion_tune_entry_cleanup(&e);
}

static bool get(const helion_cache_t *c, key_parts *p,
                helion_tune_entry_t *out) {
  helion_err_t err = {{0}};
  bool hit = true;
  assert_int_equal(helion_cache_get(c, parts_key(p), out, &hit, &err),
                   HELION_OK);
  return hit;
}

static char *path_of(key_parts *p, bool strict) {
  char h[65], *path = malloc(512);
  assert_non_null(path);
  hash_of(p, strict, h);
  snprintf(path, 512, "%s/%s.best_config", g_dir, h);
  return path;
}

static void test_cache_put_get_roundtrip(void **state) {
  (void)state;
  helion_cache_t c;
  cache_open(&c);
  key_parts p;
  parts_init(&p);
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  assert_false(get(&c, &p, &e));
  put(&c, &p, 5, 0.25);
  assert_true(get(&c, &p, &e));
  assert_int_equal(e.ncells, NCELLS);
  assert_int_equal(e.best_cells[0], 5);
  assert_int_equal(e.best_cells[2], 3);
  assert_string_equal(e.best_config, "{\"a\": 5, \"b\": 2, \"c\": 3}");
  assert_string_equal(e.best_config_minimized, "{\"a\": 1}");
  assert_true(e.best_ms == 0.25 && e.default_ms == 0.5 && e.side_by_side);
  assert_string_equal(e.algorithm, "LFBOTreeSearch");
  assert_int_equal(e.effort, HELION_EFFORT_QUICK);
  assert_int_equal(e.seed, 7);
  assert_int_equal(e.configs_tested, 40);
  assert_int_equal(e.by_kind[HELION_RESULT_COMPILE], 3);
  assert_int_equal(e.by_kind[HELION_RESULT_OK], 37);
  assert_int_equal(e.nkeys, 2);
  assert_string_equal(e.shape_keys[1], "N");
  assert_int_equal(e.shape[0], 4096);
  assert_string_equal(e.device.props.name, "NVIDIA H100");
  assert_string_equal(e.source_hash, p.src);
  assert_null(e.error);
  helion_tune_entry_cleanup(&e);

  /* The file: sorted keys, the key's fields readable. */
  char *path = path_of(&p, false), *text = NULL;
  size_t len;
  assert_int_equal(helion_read_file(path, 1 << 20, &text, &len, NULL), 0);
  assert_true(strstr(text, "\"entry\"") < strstr(text, "\"flat_config\"") &&
              strstr(text, "\"flat_config\"") < strstr(text, "\"key\""));
  assert_non_null(strstr(text, "\"hardware\": \"NVIDIA H100\""));
  assert_non_null(strstr(text, "\"type\": \"LooseAutotuneCacheKey\""));
  free(text);
  free(path);

  /* Strict is another file: a loose put is not a strict hit. */
  setenv("HELION_AUTOTUNE_CACHE", "StrictLocalAutotuneCache", 1);
  helion_cache_t s;
  cache_open(&s);
  assert_true(s.strict);
  assert_false(get(&s, &p, &e));
  put(&s, &p, 6, 0.2);
  assert_true(get(&s, &p, &e));
  assert_int_equal(e.best_cells[0], 6);
  helion_tune_entry_cleanup(&e);
  setenv("HELION_AUTOTUNE_CACHE", "RemoteAutotuneCache", 1);
  helion_err_t err = {{0}};
  helion_cache_t bad;
  assert_int_equal(helion_cache_init(&bad, g_dir, &err), HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "HELION_AUTOTUNE_CACHE"));
  unsetenv("HELION_AUTOTUNE_CACHE");

  /* Not cached: errors, interrupted searches, effort none. */
  key_parts q;
  parts_init(&q);
  q.shape[0] = 1;
  for (int i = 0; i < 3; i++) {
    entry_make(&e, 1, 2, 3, 1);
    if (i == 0)
      e.error = strdup("no working config");
    else if (i == 1)
      e.interrupted = 2;
    else
      e.effort = HELION_EFFORT_NONE;
    assert_int_equal(helion_cache_put(&c, parts_key(&q), &e, NULL), 0);
    helion_tune_entry_cleanup(&e);
    assert_false(get(&c, &q, &e));
  }
  helion_cache_cleanup(&s);
  helion_cache_cleanup(&c);
}

/* Runs a get with stderr in a file; returns what it printed (caller
 * frees). */
static char *get_capturing(const helion_cache_t *c, key_parts *p, bool *hit) {
  char log[300];
  snprintf(log, sizeof(log), "%s.log", g_dir);
  fflush(stderr);
  int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(saved >= 0 && fd >= 0);
  dup2(fd, 2);
  close(fd);
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  *hit = get(c, p, &e);
  helion_tune_entry_cleanup(&e);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char *text = NULL;
  size_t len;
  assert_int_equal(helion_read_file(log, 1 << 20, &text, &len, NULL), 0);
  unlink(log);
  return text;
}

/* `text` with the first `old` replaced by `with`; caller frees. */
static char *replace(const char *text, const char *old, const char *with) {
  const char *at = strstr(text, old);
  assert_non_null(at);
  size_t n = strlen(text) - strlen(old) + strlen(with) + 1;
  char *out = malloc(n);
  assert_non_null(out);
  snprintf(out, n, "%.*s%s%s", (int)(at - text), text, with, at + strlen(old));
  return out;
}

static size_t occurrences(const char *text, const char *what) {
  size_t n = 0;
  for (const char *s = text; (s = strstr(s, what)); s++)
    n++;
  return n;
}

static void test_cache_corrupt_files_are_warned_misses(void **state) {
  (void)state;
  helion_cache_t c;
  cache_open(&c);
  key_parts p, other;
  parts_init(&p);
  parts_init(&other);
  other.shape[0] = 1;
  put(&c, &p, 5, 0.25);
  put(&c, &other, 5, 0.25);
  char *path = path_of(&p, false), *good = NULL, *alien = NULL;
  char *other_path = path_of(&other, false);
  size_t len, alen;
  assert_int_equal(helion_read_file(path, 1 << 20, &good, &len, NULL), 0);
  assert_int_equal(helion_read_file(other_path, 1 << 20, &alien, &alen, NULL),
                   0);
  /* Each corruption, then the good file again (a hit). */
  const char *cases[][3] = {
      {"truncated", NULL, NULL},
      {"empty", NULL, NULL},
      {"directory", NULL, NULL},
      {"other key", NULL, NULL},
      {"not an object", NULL, NULL},
      {"flat_config types", "\"flat_config\": [", "\"flat_config\": [\"x\", "},
      {"key field types", "\"hardware\": \"NVIDIA H100\"", "\"hardware\": 100"},
      {"no key", "\"key\"", "\"kex\""},
      {"best_config types", "\"best_config\": {",
       "\"best_config\": 1, \"x\": {"},
      {"seed type", "\"seed\": 7", "\"seed\": \"7\""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *w = cases[i][0];
    char *text = NULL;
    size_t n = len;
    if (cases[i][1]) {
      text = replace(good, cases[i][1], cases[i][2]);
      n = strlen(text);
    } else {
      text = strdup(!strcmp(w, "other key") ? alien : good);
      assert_non_null(text);
      if (!strcmp(w, "truncated"))
        n = len / 2;
      else if (!strcmp(w, "empty"))
        n = 0;
      else if (!strcmp(w, "other key"))
        n = alen;
      else if (!strcmp(w, "not an object"))
        n = (size_t)snprintf(text, len, "[1, 2]");
    }
    unlink(path);
    if (!strcmp(w, "directory"))
      assert_int_equal(mkdir(path, 0700), 0);
    else
      assert_int_equal(helion_write_file_atomic(path, text, n, NULL), 0);
    bool hit = true;
    char *log = get_capturing(&c, &p, &hit);
    if (hit || occurrences(log, "Skipping corrupt cache file") != 1 ||
        !strstr(log, path))
      fail_msg("%s: hit %d, log: %s", w, hit, log);
    free(log);
    free(text);
    if (!strcmp(w, "directory"))
      assert_int_equal(rmdir(path), 0);
  }
  /* A flat_config whose length is not the space's. */
  assert_int_equal(helion_write_file_atomic(path, good, len, NULL), 0);
  helion_cache_key_t k = *parts_key(&p);
  k.ncells = NCELLS + 1;
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  bool hit = true;
  helion_log_level_current = HELION_LOG_QUIET;
  assert_int_equal(helion_cache_get(&c, &k, &e, &hit, NULL), 0);
  helion_log_level_current = HELION_LOG_WARN;
  assert_false(hit);
  /* The intact file is a hit, silently. */
  char *log = get_capturing(&c, &p, &hit);
  assert_true(hit);
  assert_string_equal(log, "");
  free(log);
  /* A listing warns about the corrupt ones once each and keeps the rest. */
  assert_int_equal(helion_write_file_atomic(other_path, "{", 1, NULL), 0);
  helion_cache_item_t *items = NULL;
  size_t nitems = 9;
  helion_log_level_current = HELION_LOG_QUIET;
  assert_int_equal(helion_cache_list(g_dir, 0, &items, &nitems, NULL), 0);
  helion_log_level_current = HELION_LOG_WARN;
  assert_int_equal(nitems, 1);
  assert_string_equal(items[0].path, path);
  helion_cache_items_free(items, nitems);
  free(good);
  free(alien);
  free(path);
  free(other_path);
  helion_cache_cleanup(&c);
}

static void test_cache_force_and_skip(void **state) {
  (void)state;
  key_parts p;
  parts_init(&p);
  helion_cache_t c;
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  cache_open(&c);
  put(&c, &p, 5, 0.25);
  helion_cache_cleanup(&c);
  char *path = path_of(&p, false);
  struct stat st;

  /* FORCE: no read, but a write. */
  const char *truthy[] = {"1", "yes", "true", "off"};
  for (size_t i = 0; i < 4; i++) {
    setenv("HELION_FORCE_AUTOTUNE", truthy[i], 1);
    cache_open(&c);
    assert_true(c.skip_read && !c.skip_write);
    assert_false(get(&c, &p, &e));
    helion_cache_cleanup(&c);
  }
  cache_open(&c);
  unlink(path);
  put(&c, &p, 6, 0.2);
  assert_int_equal(stat(path, &st), 0);
  helion_cache_cleanup(&c);
  const char *falsy[] = {"", "0", "false", "FALSE"};
  for (size_t i = 0; i < 4; i++) {
    setenv("HELION_FORCE_AUTOTUNE", falsy[i], 1);
    cache_open(&c);
    assert_true(get(&c, &p, &e));
    assert_int_equal(e.best_cells[0], 6);
    helion_cache_cleanup(&c);
  }
  unsetenv("HELION_FORCE_AUTOTUNE");

  /* SKIP: neither read nor write. */
  setenv("HELION_SKIP_CACHE", "1", 1);
  cache_open(&c);
  assert_false(get(&c, &p, &e));
  unlink(path);
  put(&c, &p, 7, 0.2);
  assert_int_equal(stat(path, &st), -1);
  int64_t *cells = (int64_t *)1;
  size_t n = 9;
  assert_int_equal(helion_cache_best_available(&c, "NVIDIA H100", p.fp, NCELLS,
                                               &cells, &n, NULL),
                   0);
  assert_null(cells);
  assert_int_equal(n, 0);
  helion_cache_cleanup(&c);
  unsetenv("HELION_SKIP_CACHE");
  helion_tune_entry_cleanup(&e);
  free(path);
}

/* Sets a file's mtime to `t` seconds since the epoch. */
static void set_mtime(key_parts *p, time_t t) {
  char *path = path_of(p, false);
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
  free(path);
}

static void test_cache_best_available_matching(void **state) {
  (void)state;
  helion_cache_t c;
  cache_open(&c);
  key_parts p;
  parts_init(&p);
  /* Entries i = 0..9, entry i written with mtime 1000 + i and cells
   * {10 + i, 2, 3}; all match except: 3 another device, 4 another space,
   * 5 a duplicate of 6's config. Source hashes and kernels differ. */
  for (int i = 0; i < 10; i++) {
    key_parts q = p;
    q.shape[0] = 100 + i;
    q.src[0] = (char)('c' + i);
    if (i == 3)
      q.dev.props.name[0] = 'X';
    if (i == 4)
      q.fp[5] = 'z';
    if (i == 2)
      snprintf(q.kernel, sizeof(q.kernel), "other");
    put(&c, &q, i == 5 ? 16 : 10 + i, 1.0);
    set_mtime(&q, 1000 + i);
  }
  int64_t *cells = NULL;
  size_t n = 0;
  assert_int_equal(helion_cache_best_available(&c, "NVIDIA H100", p.fp, NCELLS,
                                               &cells, &n, NULL),
                   0);
  /* Newest first: 9, 8, 7, 6, (5 dup), (4, 3 no match), 2, 1, 0. */
  const int64_t want[] = {19, 18, 17, 16, 12, 11, 10};
  assert_int_equal(n, 7);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(cells[i * NCELLS], want[i]);
    assert_int_equal(cells[i * NCELLS + 1], 2);
  }
  free(cells);
  helion_cache_cleanup(&c);

  /* At most max_configs, and only the newest max_scan files looked at. */
  setenv("HELION_BEST_AVAILABLE_MAX_CONFIGS", "2", 1);
  cache_open(&c);
  assert_int_equal(helion_cache_best_available(&c, "NVIDIA H100", p.fp, NCELLS,
                                               &cells, &n, NULL),
                   0);
  assert_int_equal(n, 2);
  assert_int_equal(cells[0], 19);
  assert_int_equal(cells[NCELLS], 18);
  free(cells);
  helion_cache_cleanup(&c);
  unsetenv("HELION_BEST_AVAILABLE_MAX_CONFIGS");
  setenv("HELION_BEST_AVAILABLE_MAX_CACHE_SCAN", "5", 1);
  cache_open(&c);
  assert_int_equal(helion_cache_best_available(&c, "NVIDIA H100", p.fp, NCELLS,
                                               &cells, &n, NULL),
                   0);
  /* Files 9..5: 5 is 6's duplicate. */
  assert_int_equal(n, 4);
  assert_int_equal(cells[3 * NCELLS], 16);
  free(cells);
  helion_cache_cleanup(&c);
  setenv("HELION_BEST_AVAILABLE_MAX_CACHE_SCAN", "x", 1);
  assert_int_equal(helion_cache_init(&c, g_dir, NULL), HELION_ERR_USAGE);
  unsetenv("HELION_BEST_AVAILABLE_MAX_CACHE_SCAN");
  /* Other cell counts do not match; a missing directory is empty. */
  cache_open(&c);
  assert_int_equal(helion_cache_best_available(&c, "NVIDIA H100", p.fp,
                                               NCELLS + 1, &cells, &n, NULL),
                   0);
  assert_int_equal(n, 0);
  helion_cache_cleanup(&c);
  char missing[300];
  snprintf(missing, sizeof(missing), "%s/none", g_dir);
  assert_int_equal(helion_cache_init(&c, missing, NULL), 0);
  assert_int_equal(helion_cache_best_available(&c, "NVIDIA H100", p.fp, NCELLS,
                                               &cells, &n, NULL),
                   0);
  assert_int_equal(n, 0);
  helion_cache_cleanup(&c);
}

/* Writes entries with shape[0] in [from, from + 100), twice each. */
static int writer(int from) {
  helion_cache_t c;
  if (helion_cache_init(&c, g_dir, NULL))
    return 1;
  for (int round = 0; round < 2; round++)
    for (int i = from; i < from + 100; i++) {
      key_parts p;
      parts_init(&p);
      p.shape[0] = i;
      helion_tune_entry_t e;
      entry_make(&e, i, from, round, 1.0 + i);
      helion_status rc = helion_cache_put(&c, parts_key(&p), &e, NULL);
      helion_tune_entry_cleanup(&e);
      if (rc)
        return 1;
    }
  helion_cache_cleanup(&c);
  return 0;
}

/* Parses every *.best_config file in `dir` once; returns how many did not
 * parse and adds how many were read to *reads. */
static size_t read_all(const char *dir, size_t *reads) {
  size_t bad = 0;
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  for (struct dirent *de; (de = readdir(d));) {
    if (!strstr(de->d_name, ".best_config") || strstr(de->d_name, ".tmp."))
      continue;
    char path[600], *text = NULL;
    size_t len;
    cJSON *doc = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    if (helion_read_file(path, 1 << 20, &text, &len, NULL))
      continue; /* not there any more is not torn */
    (*reads)++;
    bad += helion_json_parse(text, len, path, &doc, NULL) != HELION_OK;
    cJSON_Delete(doc);
    free(text);
  }
  closedir(d);
  return bad;
}

static void test_cache_two_writers_no_torn_file(void **state) {
  (void)state;
  /* Overlapping ranges: keys 50..99 are written by both at once. */
  char nested[300];
  snprintf(nested, sizeof(nested), "%s/a/b", g_dir);
  snprintf(g_dir + strlen(g_dir), sizeof(g_dir) - strlen(g_dir), "/a/b");
  pid_t pids[2];
  for (int w = 0; w < 2; w++) {
    pids[w] = fork();
    assert_true(pids[w] >= 0);
    if (pids[w] == 0)
      _exit(writer(w * 50));
  }
  /* Read every file while they write: each must parse whole. */
  size_t torn = 0, reads = 0;
  int status[2] = {0, 0}, running = 2;
  while (running) {
    torn += read_all(nested, &reads);
    for (int w = 0; w < 2; w++)
      if (pids[w] && waitpid(pids[w], &status[w], WNOHANG) == pids[w]) {
        pids[w] = 0;
        running--;
      }
  }
  for (int w = 0; w < 2; w++)
    assert_true(WIFEXITED(status[w]) && WEXITSTATUS(status[w]) == 0);
  assert_true(reads > 0);
  assert_int_equal(torn, 0);
  helion_cache_item_t *items = NULL;
  size_t n = 0;
  helion_log_level_current = HELION_LOG_WARN;
  assert_int_equal(helion_cache_list(nested, 0, &items, &n, NULL), 0);
  assert_int_equal(n, 150);
  helion_cache_items_free(items, n);
  helion_cache_t c;
  cache_open(&c);
  for (int i = 0; i < 150; i++) {
    key_parts p;
    parts_init(&p);
    p.shape[0] = i;
    helion_tune_entry_t e;
    helion_tune_entry_init(&e);
    assert_true(get(&c, &p, &e));
    assert_int_equal(e.best_cells[0], i);
    assert_true(e.best_ms == 1.0 + i);
    helion_tune_entry_cleanup(&e);
  }
  helion_cache_cleanup(&c);
  /* No temporary file left behind. */
  char cmd[400];
  snprintf(cmd, sizeof(cmd),
           "test \"$(ls -A '%s' | grep -vc best_config$)\" "
           "= 0",
           nested);
  assert_int_equal(system(cmd), 0);
  g_dir[strlen(g_dir) - 4] = '\0';
}

int main(void) {
  helion_log_level_current = HELION_LOG_WARN;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cache_key_components),
      cmocka_unit_test_setup_teardown(test_cache_put_get_roundtrip, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_cache_corrupt_files_are_warned_misses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_force_and_skip, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cache_best_available_matching, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cache_two_writers_no_torn_file,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
