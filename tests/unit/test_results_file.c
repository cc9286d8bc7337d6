/*
 * test_results_file.c: the committed results file (results/results_file.h)
 * on real files in a temp directory: round trip, a re-tune that leaves every
 * other entry's line group byte-identical, the sort order, staleness after a
 * source edit and a space edit in a temp copy of a spec, malformed files,
 * unknown fields kept, and values JSON cannot hold exactly refused or null.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/arch.h"
#include "model/space.h"
#include "results/results_file.h"
#include "util/json.h"

/* A temp directory, removed (with what is in it) at the end. */
typedef struct tmpdir {
  char dir[64];
  char file[128]; /* <dir>/r.tuned.json */
} tmpdir;

static void tmp_init(tmpdir *t) {
  snprintf(t->dir, sizeof(t->dir), "/tmp/helion_results_XXXXXX");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->file, sizeof(t->file), "%s/r.tuned.json", t->dir);
}

static void tmp_cleanup(tmpdir *t) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
  assert_int_equal(system(cmd), 0);
}

/* A finished tune of (device, cc, n) whose winner is {"BLOCK": block}. */
static void make_entry(helion_tune_entry_t *e, const char *device, int major,
                       int minor, int64_t n, int block, double best_ms) {
  helion_tune_entry_init(e);
  e->nkeys = 1;
  e->shape_keys = malloc(sizeof(char *));
  e->shape = malloc(sizeof(int64_t));
  assert_non_null(e->shape_keys);
  assert_non_null(e->shape);
  e->shape_keys[0] = strdup("n");
  e->shape[0] = n;
  char cfg[128];
  snprintf(cfg, sizeof(cfg), "{\"BLOCK\": %d, \"num_warps\": 1}", block);
  e->best_config = strdup(cfg);
  snprintf(cfg, sizeof(cfg), "{\"BLOCK\": %d}", block);
  e->best_config_minimized = strdup(cfg);
  e->best_ms = best_ms;
  e->default_ms = 2 * best_ms;
  e->side_by_side = true;
  e->algorithm = strdup("LFBOTreeSearch");
  e->effort = HELION_EFFORT_QUICK;
  e->seed = 7;
  assert_int_equal(helion_json_parse("{\"seed\": 7, \"effort\": \"quick\"}", 31,
                                     "opts", &e->options, NULL),
                   HELION_OK);
  e->configs_tested = 40;
  e->by_kind[HELION_RESULT_COMPILE] = 2;
  e->wall_seconds = 3.5;
  e->backend_seconds = 3.25;
  snprintf(e->device.props.name, sizeof(e->device.props.name), "%s", device);
  e->device.props.cc_major = major;
  e->device.props.cc_minor = minor;
  e->device.props.num_sms = 132;
  e->device.props.smem_per_block = 232448;
  e->device.props.regs_per_sm = 65536;
  e->device.driver_version = 12080;
  e->device.nvrtc_major = 12;
  e->device.nvrtc_minor = 8;
  memset(e->source_hash, 'a', 64);
  memset(e->space_fingerprint, 'b', 64);
  snprintf(e->tool_version, sizeof(e->tool_version), "%s", HELION_TOOL_VERSION);
}

static void record(const char *path, helion_tune_entry_t *e,
                   helion_results_outcome want) {
  helion_err_t err = {{0}};
  helion_results_outcome got = (helion_results_outcome)-1;
  char why[256] = "";
  if (helion_results_record(path, e, &got, why, sizeof(why), &err))
    fail_msg("%s", err.msg);
  assert_int_equal(got, want);
  helion_tune_entry_cleanup(e);
}

/* noinline: inlined, gcc 12 -O2 takes the result for a pointer to the local
 * `data` (-Wdangling-pointer false positive). */
static __attribute__((noinline)) char *slurp(const char *path) {
  char *data = NULL;
  size_t len = 0;
  if (helion_read_file(path, 1 << 24, &data, &len, NULL))
    fail_msg("cannot read %s", path);
  return data;
}

/* The line groups of the file's entries: each from its "    {" line to its
 * "    }" line, newline-terminated, the comma after it not included. */
static size_t groups(const char *text, char **out, size_t max) {
  size_t n = 0;
  const char *p = text;
  while ((p = strstr(p, "\n    {\n")) && n < max) {
    const char *end = strstr(p + 1, "\n    }");
    assert_non_null(end);
    size_t len = (size_t)(end + 6 - (p + 1));
    out[n] = malloc(len + 1);
    memcpy(out[n], p + 1, len);
    out[n][len] = '\0';
    n++;
    p = end;
  }
  return n;
}

static void free_groups(char **g, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(g[i]);
}

/* Re-tuning the middle of three entries changes its group only: the bytes
 * before and after it, neighbours and commas included, stay the same. */
static void test_results_file_retune_leaves_neighbours(void **state) {
  (void)state;
  tmpdir t;
  tmp_init(&t);
  helion_tune_entry_t e;
  make_entry(&e, "NVIDIA H100", 9, 0, 20, 16, 0.5);
  record(t.file, &e, HELION_RESULTS_ADDED);
  make_entry(&e, "NVIDIA H100", 9, 0, 1000, 32, 0.25);
  record(t.file, &e, HELION_RESULTS_ADDED);
  make_entry(&e, "NVIDIA H100", 9, 0, 5000, 64, 0.125);
  record(t.file, &e, HELION_RESULTS_ADDED);
  char *before = slurp(t.file);
  char *g1[4], *g2[4];
  assert_int_equal(groups(before, g1, 4), 3);

  make_entry(&e, "NVIDIA H100", 9, 0, 1000, 64, 0.2);
  e.seed = 9;
  record(t.file, &e, HELION_RESULTS_REPLACED);
  char *after = slurp(t.file);
  assert_int_equal(groups(after, g2, 4), 3);
  assert_string_equal(g1[0], g2[0]);
  assert_string_equal(g1[2], g2[2]);
  assert_string_not_equal(g1[1], g2[1]);
  assert_non_null(strstr(g2[1], "\"BLOCK\": 64"));
  /* Everything outside the middle group, byte for byte. */
  size_t pre = (size_t)(strstr(before, g1[1]) - before);
  assert_int_equal(pre, (size_t)(strstr(after, g2[1]) - after));
  assert_memory_equal(before, after, pre);
  assert_string_equal(strstr(before, g1[1]) + strlen(g1[1]),
                      strstr(after, g2[1]) + strlen(g2[1]));
  /* The diff is small: the lines of the middle group that changed. */
  size_t changed = 0;
  char *l1 = g1[1], *l2 = g2[1];
  while (*l1 && *l2) {
    char *n1 = strchr(l1, '\n'), *n2 = strchr(l2, '\n');
    size_t a = n1 ? (size_t)(n1 - l1) : strlen(l1);
    size_t b = n2 ? (size_t)(n2 - l2) : strlen(l2);
    changed += a != b || memcmp(l1, l2, a) != 0;
    l1 += a + (n1 != NULL);
    l2 += b + (n2 != NULL);
  }
  assert_true(changed >= 4 && changed <= 12);

  /* Adding a fourth entry at the end: the others' groups stay. */
  make_entry(&e, "NVIDIA H100", 9, 0, 9000, 64, 0.1);
  record(t.file, &e, HELION_RESULTS_ADDED);
  char *more = slurp(t.file), *g3[5];
  assert_int_equal(groups(more, g3, 5), 4);
  for (size_t i = 0; i < 3; i++)
    assert_string_equal(g2[i], g3[i]);

  free_groups(g1, 3);
  free_groups(g2, 3);
  free_groups(g3, 4);
  free(before);
  free(after);
  free(more);
  tmp_cleanup(&t);
}

/* Load and write again: the same bytes; every field is there; find. */
static void test_results_file_round_trip(void **state) {
  (void)state;
  tmpdir t;
  tmp_init(&t);
  helion_tune_entry_t e;
  make_entry(&e, "NVIDIA H100", 9, 0, 1000, 32, 0.1234);
  record(t.file, &e, HELION_RESULTS_ADDED);
  make_entry(&e, "NVIDIA A100", 8, 0, 1000, 16, 1.0 / 3.0);
  record(t.file, &e, HELION_RESULTS_ADDED);
  char *text = slurp(t.file);

  helion_results_t r;
  helion_results_init(&r);
  helion_err_t err = {{0}};
  if (helion_results_load(t.file, &r, &err))
    fail_msg("%s", err.msg);
  assert_int_equal(r.nentries, 2);
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_results_write(&r, &b, &err), HELION_OK);
  assert_string_equal(helion_buf_str(&b), text);

  const char *keys[] = {"n"};
  int64_t n = 1000, m = 999;
  const cJSON *h = helion_results_find(&r, "NVIDIA H100", "9.0", keys, &n, 1);
  assert_non_null(h);
  assert_null(helion_results_find(&r, "NVIDIA H100", "8.0", keys, &n, 1));
  assert_null(helion_results_find(&r, "NVIDIA H100", "9.0", keys, &m, 1));
  static const char *const fields[] = {
      "algorithm",      "best_config", "best_config_minimized",
      "best_ms",        "default_ms",  "side_by_side",
      "effort",         "seed",        "options",
      "configs_tested", "failures",    "device",
      "shape",          "source_hash", "space_fingerprint",
      "tool_version"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
    if (!cJSON_GetObjectItemCaseSensitive(h, fields[i]))
      fail_msg("entry lacks %s", fields[i]);
  assert_null(cJSON_GetObjectItemCaseSensitive(h, "error"));
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "best_ms")) ==
              0.1234);
  const cJSON *d = cJSON_GetObjectItem(h, "device");
  static const char *const dev[] = {
      "name",          "compute_capability", "sm_count",   "driver_version",
      "nvrtc_version", "smem_per_block",     "regs_per_sm"};
  for (size_t i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
    if (!cJSON_GetObjectItemCaseSensitive(d, dev[i]))
      fail_msg("device lacks %s", dev[i]);
  const cJSON *a = helion_results_find(&r, "NVIDIA A100", "8.0", keys, &n, 1);
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(a, "best_ms")) ==
              1.0 / 3.0); /* a double survives exactly */
  assert_non_null(strstr(text, "\n  \"format_version\": 1\n}\n"));

  helion_buf_cleanup(&b);
  helion_results_cleanup(&r);
  free(text);
  tmp_cleanup(&t);
}

/* Sorted by device name, then compute capability numerically, then the
 * shape's values numerically, whatever the order of recording. */
static void test_results_file_sorting(void **state) {
  (void)state;
  tmpdir t;
  tmp_init(&t);
  helion_tune_entry_t e;
  make_entry(&e, "NVIDIA X", 10, 0, 20, 16, 1);
  record(t.file, &e, HELION_RESULTS_ADDED);
  make_entry(&e, "NVIDIA X", 9, 0, 1000, 16, 1);
  record(t.file, &e, HELION_RESULTS_ADDED);
  make_entry(&e, "NVIDIA X", 9, 0, 20, 16, 1);
  record(t.file, &e, HELION_RESULTS_ADDED);
  make_entry(&e, "NVIDIA A100", 8, 0, 5000, 16, 1);
  record(t.file, &e, HELION_RESULTS_ADDED);
  helion_results_t r;
  helion_results_init(&r);
  assert_int_equal(helion_results_load(t.file, &r, NULL), HELION_OK);
  static const struct {
    const char *name, *cc;
    int n;
  } want[] = {{"NVIDIA A100", "8.0", 5000},
              {"NVIDIA X", "9.0", 20},
              {"NVIDIA X", "9.0", 1000},
              {"NVIDIA X", "10.0", 20}};
  assert_int_equal(r.nentries, 4);
  for (size_t i = 0; i < 4; i++) {
    const cJSON *d = cJSON_GetObjectItem(r.entries[i], "device");
    const cJSON *s = cJSON_GetObjectItem(r.entries[i], "shape");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "name")),
                        want[i].name);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(d, "compute_capability")),
        want[i].cc);
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(s, "n")) == want[i].n);
  }
  helion_results_cleanup(&r);

  /* A hand-reordered file is read sorted and written sorted. */
  const char *unsorted =
      "{\"format_version\": 1, \"entries\": ["
      "{\"device\": {\"name\": \"B\", \"compute_capability\": \"9.0\"}, "
      "\"shape\": {\"n\": 2}},"
      "{\"device\": {\"name\": \"A\", \"compute_capability\": \"9.0\"}, "
      "\"shape\": {\"n\": 2}}]}";
  helion_results_init(&r);
  assert_int_equal(
      helion_results_parse(unsorted, strlen(unsorted), "x", &r, NULL),
      HELION_OK);
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_results_write(&r, &b, NULL), HELION_OK);
  assert_true(strstr(helion_buf_str(&b), "\"A\"") <
              strstr(helion_buf_str(&b), "\"B\""));
  helion_buf_cleanup(&b);
  helion_results_cleanup(&r);
  tmp_cleanup(&t);
}

static void copy_file(const char *from, const char *to) {
  char *data = NULL;
  size_t len = 0;
  assert_int_equal(helion_read_file(from, 1 << 20, &data, &len, NULL), 0);
  assert_int_equal(helion_write_file_atomic(to, data, len, NULL), 0);
  free(data);
}

/* Replaces `from` by `to` in the file at `path`. */
static void edit_file(const char *path, const char *from, const char *to) {
  char *data = slurp(path), *at = strstr(data, from);
  assert_non_null(at);
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_buf_append(&b, data, (size_t)(at - data));
  helion_buf_puts(&b, to);
  helion_buf_puts(&b, at + strlen(from));
  assert_int_equal(helion_write_file_atomic(path, b.data, b.len, NULL), 0);
  helion_buf_cleanup(&b);
  free(data);
}

static helion_spec_t *load_spec(const char *path) {
  helion_spec_t *spec = NULL;
  helion_err_t err = {{0}};
  if (helion_spec_load(path, &spec, &err))
    fail_msg("%s", err.msg);
  return spec;
}

/* The staleness of the file's only entry against the spec at `path`. */
static int staleness(const char *results, const char *spec_path, char *why,
                     size_t cap) {
  helion_spec_t *spec = load_spec(spec_path);
  helion_results_t r;
  helion_results_init(&r);
  helion_err_t err = {{0}};
  char hash[65];
  int flags = -1;
  assert_int_equal(helion_results_load(results, &r, &err), HELION_OK);
  assert_int_equal(r.nentries, 1);
  if (helion_tune_source_hash(spec, hash, &err) ||
      helion_results_staleness(r.entries[0], spec, hash, &flags, why, cap,
                               &err))
    fail_msg("%s", err.msg);
  helion_results_cleanup(&r);
  helion_spec_destroy(spec);
  return flags;
}

/* An entry recorded from a temp copy of a spec is fresh; editing the kernel
 * makes it stale (source), editing a restriction too (space), another tool
 * version is marked but informational. */
static void test_results_file_stale_after_source_edit(void **state) {
  (void)state;
  const char *data = getenv("HELION_TEST_DATA");
  assert_non_null(data);
  tmpdir t;
  tmp_init(&t);
  char from[512], spec_path[128], cu[128], why[2048];
  snprintf(spec_path, sizeof(spec_path), "%s/tiny.json", t.dir);
  snprintf(cu, sizeof(cu), "%s/tiny.cu", t.dir);
  snprintf(from, sizeof(from), "%s/space/tiny.json", data);
  copy_file(from, spec_path);
  snprintf(from, sizeof(from), "%s/space/tiny.cu", data);
  copy_file(from, cu);

  /* The entry a tune of n=1000 on an sm_90 part records. */
  helion_spec_t *spec = load_spec(spec_path);
  helion_tune_entry_t e;
  make_entry(&e, "NVIDIA H100", 9, 0, 1000, 32, 0.25);
  assert_int_equal(helion_device_props_for_arch("sm_90", &e.device.props, NULL),
                   0);
  snprintf(e.device.props.name, sizeof(e.device.props.name), "NVIDIA H100");
  helion_space_t *space = NULL;
  assert_int_equal(
      helion_spec_space(spec, e.shape, &e.device.props, &space, NULL), 0);
  helion_space_fingerprint(space, e.space_fingerprint);
  helion_space_destroy(space);
  assert_int_equal(helion_tune_source_hash(spec, e.source_hash, NULL), 0);
  helion_spec_destroy(spec);
  record(t.file, &e, HELION_RESULTS_ADDED);
  assert_int_equal(staleness(t.file, spec_path, why, sizeof(why)), 0);
  assert_string_equal(why, "");

  /* A comment added to the kernel. */
  FILE *f = fopen(cu, "a");
  assert_non_null(f);
  fputs("// tweaked\n", f);
  fclose(f);
  assert_int_equal(staleness(t.file, spec_path, why, sizeof(why)),
                   HELION_STALE_SOURCE);
  assert_non_null(strstr(why, "source changed since the entry was tuned"));
  char want[256];
  snprintf(want, sizeof(want),
           "re-tune with helion-tune tune %s --shape n=1000", spec_path);
  assert_non_null(strstr(why, want));

  /* A restriction changed: the space too. */
  edit_file(spec_path, "BLOCK <= 2 * n", "BLOCK <= 3 * n");
  assert_int_equal(staleness(t.file, spec_path, why, sizeof(why)),
                   HELION_STALE_SOURCE | HELION_STALE_SPACE);
  assert_non_null(strstr(why, "search space changed"));

  /* Another tool version alone: marked, informational. */
  edit_file(t.file, "\"tool_version\": \"" HELION_TOOL_VERSION "\"",
            "\"tool_version\": \"0.0.1\"");
  edit_file(spec_path, "BLOCK <= 3 * n", "BLOCK <= 2 * n");
  edit_file(cu, "// tweaked\n", "");
  assert_int_equal(staleness(t.file, spec_path, why, sizeof(why)),
                   HELION_STALE_TOOL);
  assert_non_null(strstr(why, "tuned by helion-tune 0.0.1"));
  assert_null(strstr(why, "re-tune with"));
  tmp_cleanup(&t);
}

static void expect_parse_error(const char *text, helion_status want,
                               const char *msg) {
  helion_results_t r;
  helion_results_init(&r);
  helion_err_t err = {{0}};
  assert_int_equal(
      helion_results_parse(text, strlen(text), "x.tuned.json", &r, &err), want);
  if (!strstr(err.msg, msg))
    fail_msg("message '%s' lacks '%s'", err.msg, msg);
  assert_int_equal(r.nentries, 0);
  helion_results_cleanup(&r);
}

static void test_results_file_malformed(void **state) {
  (void)state;
  expect_parse_error("{\"format_version\": 1,\n \"entries\": [}",
                     HELION_ERR_PARSE, "x.tuned.json:2:");
  expect_parse_error("{\"format_version\": 1,\n \"entries\": [}",
                     HELION_ERR_PARSE, "fix it (git checkout restores");
  expect_parse_error("[]", HELION_ERR_PARSE, "x.tuned.json: expected a JSON");
  expect_parse_error("{\"entries\": []}", HELION_ERR_PARSE, "format_version");
  expect_parse_error("{\"format_version\": 2, \"entries\": []}",
                     HELION_ERR_UNSUPPORTED, "newer helion-tune");
  expect_parse_error("{\"format_version\": 1, \"entries\": {}}",
                     HELION_ERR_PARSE, "entries: expected an array");
  expect_parse_error("{\"format_version\": 1, \"entries\": [{\"device\": "
                     "{\"compute_capability\": \"9.0\"}, \"shape\": {}}]}",
                     HELION_ERR_PARSE, "entries[0]: device.name");
  expect_parse_error("{\"format_version\": 1, \"entries\": [{\"device\": "
                     "{\"name\": \"A\", \"compute_capability\": \"9\"}, "
                     "\"shape\": {}}]}",
                     HELION_ERR_PARSE, "compute_capability");
  expect_parse_error("{\"format_version\": 1, \"entries\": [{\"device\": "
                     "{\"name\": \"A\", \"compute_capability\": \"9.0\"}, "
                     "\"shape\": {\"n\": 1.5}}]}",
                     HELION_ERR_PARSE, "shape: expected an object of integers");
  const char *dup = "{\"device\": {\"name\": \"A\", \"compute_capability\": "
                    "\"9.0\"}, \"shape\": {\"n\": 4}}";
  char two[512];
  snprintf(two, sizeof(two), "{\"format_version\": 1, \"entries\": [%s, %s]}",
           dup, dup);
  expect_parse_error(two, HELION_ERR_PARSE,
                     "two entries for A, compute "
                     "capability 9.0, shape n=4");

  /* A missing file is an empty one; an unreadable path is an error. */
  helion_results_t r;
  helion_results_init(&r);
  helion_err_t err = {{0}};
  assert_int_equal(helion_results_load("/nonexistent/x.tuned.json", &r, &err),
                   HELION_OK);
  assert_int_equal(r.nentries, 0);
  assert_int_equal(helion_results_load("/", &r, &err), HELION_ERR_IO);
  helion_results_cleanup(&r);
}

/* Members this tool does not know are written back as they were. */
static void test_results_file_unknown_fields_kept(void **state) {
  (void)state;
  tmpdir t;
  tmp_init(&t);
  const char *text =
      "{\"format_version\": 1, \"note\": \"kept\", \"entries\": ["
      "{\"device\": {\"name\": \"A\", \"compute_capability\": \"9.0\"}, "
      "\"shape\": {\"n\": 2}, \"comment\": [1, 2]}]}";
  assert_int_equal(helion_write_file_atomic(t.file, text, strlen(text), NULL),
                   0);
  helion_tune_entry_t e;
  make_entry(&e, "B", 9, 0, 2, 16, 1);
  record(t.file, &e, HELION_RESULTS_ADDED);
  char *out = slurp(t.file);
  assert_non_null(strstr(out, "\n  \"note\": \"kept\"\n"));
  assert_non_null(strstr(out, "\"comment\": [\n        1,\n        2\n"));
  free(out);
  tmp_cleanup(&t);
}

/* A seed JSON cannot hold exactly is null, never rounded; a time that is
 * not finite is null; a shape value beyond 2^53 is refused; an interrupted
 * or failed shape leaves the file (and a good entry) as it was. */
static void test_results_file_inexact_and_skipped(void **state) {
  (void)state;
  tmpdir t;
  tmp_init(&t);
  helion_tune_entry_t e;
  make_entry(&e, "A", 9, 0, 2, 16, 1);
  e.seed = (UINT64_C(1) << 53) + 1;
  e.default_ms = INFINITY;
  record(t.file, &e, HELION_RESULTS_ADDED);
  char *text = slurp(t.file);
  assert_non_null(strstr(text, "\n      \"seed\": null,\n"));
  assert_non_null(strstr(text, "\"options\": {\n        \"effort\": "
                               "\"quick\",\n        \"seed\": null\n"));
  assert_non_null(strstr(text, "\"default_ms\": null,"));
  assert_null(strstr(text, "9007199254740992"));

  make_entry(&e, "A", 9, 0, INT64_C(1) << 60, 16, 1);
  helion_results_outcome got;
  helion_err_t err = {{0}};
  assert_int_equal(helion_results_record(t.file, &e, &got, NULL, 0, &err),
                   HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "beyond 2^53"));
  helion_tune_entry_cleanup(&e);

  char why[256];
  make_entry(&e, "A", 9, 0, 2, 64, 0.1);
  e.interrupted = 2;
  assert_int_equal(
      helion_results_record(t.file, &e, &got, why, sizeof(why), &err), 0);
  assert_int_equal(got, HELION_RESULTS_SKIPPED);
  assert_non_null(strstr(why, "interrupted"));
  helion_tune_entry_cleanup(&e);
  make_entry(&e, "A", 9, 0, 2, 64, 0.1);
  e.error = strdup("no working configuration");
  assert_int_equal(
      helion_results_record(t.file, &e, &got, why, sizeof(why), &err), 0);
  assert_int_equal(got, HELION_RESULTS_SKIPPED);
  helion_tune_entry_cleanup(&e);
  char *after = slurp(t.file);
  assert_string_equal(text, after);
  free(text);
  free(after);
  tmp_cleanup(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_results_file_retune_leaves_neighbours),
      cmocka_unit_test(test_results_file_round_trip),
      cmocka_unit_test(test_results_file_sorting),
      cmocka_unit_test(test_results_file_stale_after_source_edit),
      cmocka_unit_test(test_results_file_malformed),
      cmocka_unit_test(test_results_file_unknown_fields_kept),
      cmocka_unit_test(test_results_file_inexact_and_skipped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
