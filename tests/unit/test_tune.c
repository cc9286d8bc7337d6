/*
 * test_tune.c: tuning one shape as a library call (results/tune.h) against
 * the landscape simulator: every field of the typed entry, the side-by-side
 * default time, failure counts by kind against the landscape's records of
 * the configs the search met (read back from the trace), a shape with no
 * working config as an entry error, the JSON form, the source hash, and the
 * device facts (backend/device_facts.h) with or without a GPU.
 *
 * Landscapes written here (T4 format, so every failure kind can appear):
 * x in {1, 2, 4, 8} x y in {0, 1, 2}, every one of the 12 recorded; the
 * default (x=1, y=0, the smallest values) works unless the table says not.
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
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend_sim.h"
#include "backend/device_facts.h"
#include "backend/nvrtc_compile.h"
#include "model/config.h"
#include "results/tune.h"
#include "util/json.h"

typedef struct row {
  int x, y;
  const char *invalidity; /* T4: correct, compile, runtime, correctness, ... */
  double ms;
} row;

/* A mix of every outcome; the best is x=8, y=1. */
static const row MIXED[12] = {
    {1, 0, "correct", 5.0},   {1, 1, "compile", 0},     {1, 2, "correct", 4.0},
    {2, 0, "runtime", 0},     {2, 1, "correctness", 0}, {2, 2, "correct", 3.0},
    {4, 0, "timeout", 0},     {4, 1, "correct", 2.5},   {4, 2, "compile", 0},
    {8, 0, "correctness", 0}, {8, 1, "correct", 1.0},   {8, 2, "timeout", 0},
};

/* Only x=8, y=2 works (the simulator refuses a landscape where nothing
 * does); the default fails. */
static const row BROKEN[12] = {
    {1, 0, "compile", 0},     {1, 1, "runtime", 0}, {1, 2, "timeout", 0},
    {2, 0, "correctness", 0}, {2, 1, "compile", 0}, {2, 2, "runtime", 0},
    {4, 0, "timeout", 0},     {4, 1, "compile", 0}, {4, 2, "runtime", 0},
    {8, 0, "compile", 0},     {8, 1, "runtime", 0}, {8, 2, "correct", 1.0},
};

typedef struct fixture {
  char dir[64];
  char landscape[128];
  char trace[128];
  helion_sim_t *sim;
  helion_device_facts_t dev;
  helion_search_opts_t opts;
} fixture;

static void write_t4(const char *path, const row *rows, size_t n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "{\"metadata\": {\"timeunit\": \"milliseconds\"}, "
             "\"schema_version\": \"1.0.0\", \"results\": [");
  for (size_t i = 0; i < n; i++)
    fprintf(f,
            "%s{\"configuration\": {\"x\": %d, \"y\": %d}, \"times\": "
            "{\"compilation\": 10, \"runtimes\": [%g]}, \"invalidity\": "
            "\"%s\"}",
            i ? ", " : "", rows[i].x, rows[i].y, rows[i].ms,
            rows[i].invalidity);
  fprintf(f, "]}\n");
  assert_int_equal(fclose(f), 0);
}

/* Loads `path` (or, with rows, a landscape of them written to the temp
 * dir) and fills facts and options as a GPU run would have them. */
static void fixture_init(fixture *fx, const char *path, const row *rows,
                         size_t n) {
  helion_err_t err = {{0}};
  memset(fx, 0, sizeof(*fx));
  snprintf(fx->dir, sizeof(fx->dir), "/tmp/helion_test_tune_XXXXXX");
  assert_non_null(mkdtemp(fx->dir));
  snprintf(fx->trace, sizeof(fx->trace), "%s/trace.jsonl", fx->dir);
  /* Tested on path, not rows: gcc 12 -O2 warned of a NULL path in the
   * rows-only callers' specialisation (-Wformat-truncation). */
  if (path) {
    assert_true(strlen(path) < sizeof(fx->landscape));
    snprintf(fx->landscape, sizeof(fx->landscape), "%s", path);
  } else {
    snprintf(fx->landscape, sizeof(fx->landscape), "%s/land.json", fx->dir);
    write_t4(fx->landscape, rows, n);
  }
  if (helion_sim_load(fx->landscape, NULL, &fx->sim, &err))
    fail_msg("%s", err.msg);
  snprintf(fx->dev.props.name, sizeof(fx->dev.props.name), "Sim GPU");
  fx->dev.props.cc_major = 9;
  fx->dev.props.num_sms = 132;
  fx->dev.driver_version = 12080;
  fx->dev.nvrtc_major = 12;
  fx->dev.nvrtc_minor = 8;
  helion_search_opts_init(&fx->opts);
  fx->opts.bench_chunk = 1; /* the simulator's setting (search.h) */
}

static void fixture_cleanup(fixture *fx) {
  helion_sim_destroy(fx->sim);
  unlink(fx->trace);
  if (fx->landscape[0] && strncmp(fx->landscape, fx->dir, strlen(fx->dir)) == 0)
    unlink(fx->landscape);
  rmdir(fx->dir);
}

static helion_tune_input_t sim_input(fixture *fx) {
  helion_tune_input_t in;
  memset(&in, 0, sizeof(in));
  in.space = helion_sim_space(fx->sim);
  in.backend = helion_sim_backend(fx->sim);
  in.opts = &fx->opts;
  in.device = &fx->dev;
  in.trace_path = fx->trace;
  return in;
}

/*
 * Reads the trace back: every evaluation's status is the landscape's record
 * of that config, and the tally by kind is written to by_kind, the fastest
 * recorded time met to *best_ms (may be NULL). Returns the number of
 * evaluations.
 */
static size_t trace_tally(const fixture *fx, size_t by_kind[],
                          double *best_ms) {
  const helion_space_t *space = helion_sim_space(fx->sim);
  helion_err_t err = {{0}};
  char *text = NULL;
  size_t len = 0, evals = 0;
  int64_t cells[16];
  assert_true(space->ncells <= 16);
  if (helion_read_file(fx->trace, (size_t)1 << 24, &text, &len, &err))
    fail_msg("%s", err.msg);
  memset(by_kind, 0, HELION_RESULT_KIND_COUNT * sizeof(*by_kind));
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *j = NULL;
    if (helion_json_parse(line, strlen(line), "trace", &j, &err))
      fail_msg("%s", err.msg);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(j, "status");
    if (cJSON_GetObjectItemCaseSensitive(j, "evaluation")) {
      char *cfg =
          cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "config"));
      assert_non_null(cfg);
      if (helion_config_from_json(space, cfg, cells, &err))
        fail_msg("%s", err.msg);
      helion_sim_record_t rec;
      assert_true(helion_sim_lookup(fx->sim, cells, &rec));
      assert_string_equal(cJSON_GetStringValue(status),
                          helion_result_kind_name(rec.kind));
      by_kind[rec.kind]++;
      evals++;
      if (best_ms && (evals == 1 || rec.ms < *best_ms))
        *best_ms = rec.ms;
      free(cfg);
    }
    cJSON_Delete(j);
  }
  free(text);
  return evals;
}

static void test_tune_entry_fields_filled(void **state) {
  (void)state;
  fixture fx;
  helion_err_t err = {{0}};
  fixture_init(&fx, NULL, MIXED, 12);
  fx.opts.algorithm = "DifferentialEvolutionSearch";
  fx.opts.effort = HELION_EFFORT_QUICK;
  fx.opts.seed = 5;
  helion_tune_input_t in = sim_input(&fx);
  const helion_space_t *space = in.space;
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  if (helion_tune_shape(&in, &e, &err))
    fail_msg("%s", err.msg);
  assert_null(e.error);

  /* The winner is the fastest config the search met (the trace says which),
   * its cells, JSON and minimized JSON all naming the same config. */
  int64_t opt[16], def[16], back[16];
  size_t tally[HELION_RESULT_KIND_COUNT];
  double met_ms = INFINITY;
  size_t evals = trace_tally(&fx, tally, &met_ms);
  assert_int_equal(e.ncells, space->ncells);
  helion_sim_record_t rec;
  assert_true(helion_sim_lookup(fx.sim, e.best_cells, &rec));
  assert_true(rec.ms == met_ms);
  assert_true(e.best_ms == met_ms);
  memcpy(opt, e.best_cells, space->ncells * sizeof(*opt));
  assert_non_null(e.best_config);
  assert_non_null(e.best_config_minimized);
  assert_int_equal(helion_config_from_json(space, e.best_config, back, &err),
                   HELION_OK);
  assert_memory_equal(back, opt, space->ncells * sizeof(*opt));
  assert_int_equal(
      helion_config_from_json(space, e.best_config_minimized, back, &err),
      HELION_OK);
  assert_memory_equal(back, opt, space->ncells * sizeof(*opt));

  /* The default config's time, side by side with the winner. */
  helion_space_default(space, def);
  assert_true(helion_sim_lookup(fx.sim, def, &rec));
  assert_int_equal(rec.kind, HELION_RESULT_OK);
  assert_true(e.side_by_side);
  assert_true(e.default_ms == rec.ms);
  assert_true(e.default_ms > e.best_ms);

  /* How it was searched. */
  assert_string_equal(e.algorithm, "DifferentialEvolutionSearch");
  assert_int_equal(e.effort, HELION_EFFORT_QUICK);
  assert_int_equal(e.seed, 5);
  assert_non_null(e.options);
  assert_string_equal(
      cJSON_GetStringValue(cJSON_GetObjectItem(e.options, "algorithm")),
      "DifferentialEvolutionSearch");
  assert_string_equal(
      cJSON_GetStringValue(cJSON_GetObjectItem(e.options, "effort")), "quick");
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(e.options, "seed")) ==
              5);

  /* Counts: what the trace says the search met, kind by kind, as the
   * landscape records them. */
  assert_int_equal(e.configs_tested, evals);
  assert_true(evals >= 2 && evals <= helion_sim_valid_count(fx.sim));
  for (int k = 0; k < HELION_RESULT_KIND_COUNT; k++)
    assert_int_equal(e.by_kind[k], tally[k]);

  /* Seconds and provenance. */
  assert_true(e.backend_seconds > 0);
  assert_true(e.backend_seconds <= helion_sim_elapsed(fx.sim));
  assert_true(e.wall_seconds >= 0);
  assert_string_equal(e.device.props.name, "Sim GPU");
  assert_int_equal(e.device.driver_version, 12080);
  char fp[65];
  helion_space_fingerprint(space, fp);
  assert_string_equal(e.space_fingerprint, fp);
  assert_string_equal(e.tool_version, HELION_VERSION_STRING);
  assert_string_equal(e.source_hash, ""); /* a landscape has no source */
  assert_int_equal(e.nkeys, 0);

  helion_tune_entry_cleanup(&e);
  helion_tune_entry_cleanup(&e); /* twice is fine */
  fixture_cleanup(&fx);
}

/* Replaying an entry's resolved options (from its JSON, in fresh options)
 * reproduces the entry (the default algorithm on a recorded landscape). */
static void test_tune_replay_resolved_options(void **state) {
  (void)state;
  char path[512];
  const char *data = getenv("HELION_TEST_DATA");
  assert_non_null(data);
  snprintf(path, sizeof(path), "%s/landscapes/tiny_cache.json", data);
  fixture fx;
  helion_err_t err = {{0}};
  helion_tune_entry_t a, b;
  helion_tune_entry_init(&a);
  helion_tune_entry_init(&b);
  fixture_init(&fx, path, NULL, 0);
  fx.opts.seed = 11;
  fx.opts.effort = HELION_EFFORT_FULL;
  helion_tune_input_t in = sim_input(&fx);
  if (helion_tune_shape(&in, &a, &err))
    fail_msg("%s", err.msg);
  assert_null(a.error);
  assert_string_equal(a.algorithm, HELION_SEARCH_DEFAULT_ALGORITHM);
  assert_true(a.best_ms == helion_sim_optimum(fx.sim, NULL));
  assert_true(a.best_ms < a.default_ms);
  assert_true(a.side_by_side);
  const cJSON *named = cJSON_GetObjectItem(a.options, "options");
  assert_true(cJSON_IsObject(named) && named->child);

  helion_search_opts_t replay;
  helion_search_opts_init(&replay);
  if (helion_search_opts_from_json(&replay, a.options, "entry", &err))
    fail_msg("%s", err.msg);
  in.opts = &replay;
  helion_sim_reset(fx.sim, 0);
  if (helion_tune_shape(&in, &b, &err))
    fail_msg("%s", err.msg);
  assert_string_equal(b.algorithm, a.algorithm);
  assert_int_equal(b.seed, 11);
  assert_int_equal(b.effort, HELION_EFFORT_FULL);
  assert_true(cJSON_Compare(a.options, b.options, 1));
  assert_string_equal(a.best_config, b.best_config);
  assert_true(a.best_ms == b.best_ms && a.default_ms == b.default_ms);
  assert_int_equal(a.configs_tested, b.configs_tested);
  assert_memory_equal(a.by_kind, b.by_kind, sizeof(a.by_kind));
  helion_tune_entry_cleanup(&a);
  helion_tune_entry_cleanup(&b);
  fixture_cleanup(&fx);
}

/* No working config: an entry with the error, the counts of what failed,
 * no winner; not a failed call. */
static void test_tune_no_working_config_is_entry_error(void **state) {
  (void)state;
  fixture fx;
  helion_err_t err = {{0}};
  fixture_init(&fx, NULL, BROKEN, 12);
  fx.opts.algorithm = "FiniteSearch";
  helion_tune_input_t in = sim_input(&fx);
  const char *configs[] = {"{\"x\": 2, \"y\": 1}", "{\"x\": 4, \"y\": 0}",
                           "{\"x\": 8, \"y\": 1}"};
  in.configs = configs;
  in.nconfigs = 3;
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  assert_int_equal(helion_tune_shape(&in, &e, &err), HELION_OK);
  assert_non_null(e.error);
  assert_non_null(strstr(e.error, "failed"));
  assert_null(e.best_config);
  assert_null(e.best_cells);
  assert_true(isinf(e.best_ms) && isinf(e.default_ms));
  assert_false(e.side_by_side);
  size_t tally[HELION_RESULT_KIND_COUNT];
  assert_int_equal(e.configs_tested, trace_tally(&fx, tally, NULL));
  assert_true(e.configs_tested >= 3);
  assert_int_equal(e.by_kind[HELION_RESULT_OK], 0);
  for (int k = 0; k < HELION_RESULT_KIND_COUNT; k++)
    assert_int_equal(e.by_kind[k], tally[k]);
  /* The three configs' kinds: compile, timeout, runtime. */
  assert_true(e.by_kind[HELION_RESULT_COMPILE] >= 1 &&
              e.by_kind[HELION_RESULT_TIMEOUT] >= 1 &&
              e.by_kind[HELION_RESULT_RUNTIME] >= 1);

  /* The JSON form says so too. */
  cJSON *j = NULL;
  assert_int_equal(helion_tune_entry_to_json(&e, &j, &err), HELION_OK);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")),
                      e.error);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "best_config")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "best_ms")));
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_json_write(j, 0, &b, &err), HELION_OK);
  helion_buf_cleanup(&b);
  cJSON_Delete(j);
  helion_tune_entry_cleanup(&e);
  fixture_cleanup(&fx);
}

/* The JSON object carries every field, printable by the stable writer and
 * matching the struct. */
static void test_tune_entry_to_json_fields(void **state) {
  (void)state;
  fixture fx;
  helion_err_t err = {{0}};
  fixture_init(&fx, NULL, MIXED, 12);
  fx.opts.algorithm = "RandomSearch";
  fx.opts.effort = HELION_EFFORT_QUICK;
  helion_tune_input_t in = sim_input(&fx);
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  if (helion_tune_shape(&in, &e, &err))
    fail_msg("%s", err.msg);
  cJSON *j = NULL;
  assert_int_equal(helion_tune_entry_to_json(&e, &j, &err), HELION_OK);
  static const char *const keys[] = {
      "algorithm",    "backend_seconds", "best_config", "best_config_minimized",
      "best_ms",      "configs_tested",  "default_ms",  "device",
      "effort",       "failures",        "options",     "seed",
      "shape",        "side_by_side",    "source_hash", "space_fingerprint",
      "tool_version", "wall_seconds"};
  size_t n = 0;
  for (const cJSON *it = j->child; it; it = it->next)
    n++;
  assert_int_equal(n, sizeof(keys) / sizeof(keys[0])); /* no "error" */
  for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
    if (!cJSON_GetObjectItemCaseSensitive(j, keys[k]))
      fail_msg("entry JSON lacks %s", keys[k]);
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "best_ms")) ==
              e.best_ms);
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "default_ms")) ==
              e.default_ms);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "side_by_side")));
  const cJSON *f = cJSON_GetObjectItem(j, "failures");
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(f, "compile")) ==
              (double)e.by_kind[HELION_RESULT_COMPILE]);
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(f, "accuracy")) ==
              (double)e.by_kind[HELION_RESULT_ACCURACY]);
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(f, "timeout")) ==
              (double)e.by_kind[HELION_RESULT_TIMEOUT]);
  const cJSON *d = cJSON_GetObjectItem(j, "device");
  assert_string_equal(
      cJSON_GetStringValue(cJSON_GetObjectItem(d, "driver_version")), "12.8");
  assert_string_equal(
      cJSON_GetStringValue(cJSON_GetObjectItem(d, "compute_capability")),
      "9.0");
  /* Printed twice, the same bytes: the results file diffs cleanly. */
  helion_buf_t b1, b2;
  helion_buf_init(&b1, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&b2, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_json_write(j, 2, &b1, &err), HELION_OK);
  cJSON *again = NULL;
  assert_int_equal(
      helion_json_parse(helion_buf_str(&b1), b1.len, "entry", &again, &err),
      HELION_OK);
  assert_int_equal(helion_json_write(again, 2, &b2, &err), HELION_OK);
  assert_string_equal(helion_buf_str(&b1), helion_buf_str(&b2));
  helion_buf_cleanup(&b1);
  helion_buf_cleanup(&b2);
  cJSON_Delete(again);
  cJSON_Delete(j);
  helion_tune_entry_cleanup(&e);
  fixture_cleanup(&fx);
}

/* The run's own faults are errors and leave the entry as it was. */
static void test_tune_errors_leave_entry_alone(void **state) {
  (void)state;
  fixture fx;
  helion_err_t err = {{0}};
  fixture_init(&fx, NULL, MIXED, 12);
  helion_tune_input_t in = sim_input(&fx);
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  e.configs_tested = 42; /* a marker */
  fx.opts.algorithm = "NoSuchSearch";
  assert_int_equal(helion_tune_shape(&in, &e, &err), HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "NoSuchSearch"));
  assert_int_equal(e.configs_tested, 42);
  fx.opts.algorithm = NULL;
  in.space = NULL; /* and no spec */
  assert_int_equal(helion_tune_shape(&in, &e, &err), HELION_ERR_INVALID);
  assert_int_equal(e.configs_tested, 42);
  in.space = helion_sim_space(fx.sim);
  snprintf(fx.trace, sizeof(fx.trace), "%s/no/such/dir/t.jsonl", fx.dir);
  assert_int_equal(helion_tune_shape(&in, &e, &err), HELION_ERR_IO);
  assert_non_null(strstr(err.msg, "no/such/dir"));
  assert_int_equal(e.configs_tested, 42);
  /* A user config outside this space is the shape's problem: an entry. */
  snprintf(fx.trace, sizeof(fx.trace), "%s/trace.jsonl", fx.dir);
  const char *bad[] = {"{\"x\": 3}"};
  in.configs = bad;
  in.nconfigs = 1;
  assert_int_equal(helion_tune_shape(&in, &e, &err), HELION_OK);
  assert_non_null(e.error);
  assert_non_null(strstr(e.error, "--config #1"));
  /* It failed before the search, and still says what was asked. */
  assert_int_equal(e.configs_tested, 0);
  assert_string_equal(e.algorithm, HELION_SEARCH_DEFAULT_ALGORITHM);
  assert_int_equal(e.effort, fx.opts.effort);
  assert_null(e.options);
  char fp[65];
  helion_space_fingerprint(in.space, fp);
  assert_string_equal(e.space_fingerprint, fp);
  helion_tune_entry_cleanup(&e);
  fixture_cleanup(&fx);
}

static char *read_all(const char *path, size_t *len) {
  helion_err_t err = {{0}};
  char *data = NULL;
  if (helion_read_file(path, (size_t)1 << 26, &data, len, &err))
    fail_msg("%s", err.msg);
  return data;
}

static void copy_file(const char *from, const char *to, const char *append) {
  size_t len = 0;
  char *data = read_all(from, &len);
  FILE *f = fopen(to, "w");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  if (append)
    fputs(append, f);
  assert_int_equal(fclose(f), 0);
  free(data);
}

/* The source hash is exactly what tune.h documents, and changes with the
 * kernel. */
static void test_tune_source_hash(void **state) {
  (void)state;
  const char *src = getenv("HELION_SOURCE_DIR");
  assert_non_null(src);
  char spec_path[512], cu[512], cuh[512], dir[] = "/tmp/helion_hash_XXXXXX";
  snprintf(spec_path, sizeof(spec_path),
           "%s/samples/vector_add/vector_add.json", src);
  snprintf(cu, sizeof(cu), "%s/samples/vector_add/vector_add.cu", src);
  snprintf(cuh, sizeof(cuh), "%s/helion/device.cuh",
           helion_nvrtc_runtime_include_dir());
  helion_err_t err = {{0}};
  helion_spec_t *spec = NULL;
  if (helion_spec_load(spec_path, &spec, &err))
    fail_msg("%s", err.msg);
  char got[65], want[65];
  assert_int_equal(helion_tune_source_hash(spec, got, &err), HELION_OK);

  /* By hand: name NUL size NUL bytes, kernel then device.cuh. */
  helion_sha256_t h;
  uint8_t d[32];
  helion_sha256_init(&h);
  const char *files[2] = {cu, cuh},
             *names[2] = {"vector_add.cu", "helion/device.cuh"};
  for (int i = 0; i < 2; i++) {
    size_t len = 0;
    char *data = read_all(files[i], &len), size[32];
    snprintf(size, sizeof(size), "%zu", len);
    helion_sha256_update(&h, names[i], strlen(names[i]) + 1);
    helion_sha256_update(&h, size, strlen(size) + 1);
    helion_sha256_update(&h, data, len);
    free(data);
  }
  helion_sha256_final(&h, d);
  for (int i = 0; i < 32; i++)
    snprintf(want + 2 * i, 3, "%02x", d[i]);
  assert_string_equal(got, want);

  /* A copy hashes the same; one changed byte of the kernel does not. */
  assert_non_null(mkdtemp(dir));
  char spec2[600], cu2[600], changed[65];
  snprintf(spec2, sizeof(spec2), "%s/vector_add.json", dir);
  snprintf(cu2, sizeof(cu2), "%s/vector_add.cu", dir);
  copy_file(spec_path, spec2, NULL);
  copy_file(cu, cu2, NULL);
  helion_spec_t *copy = NULL;
  if (helion_spec_load(spec2, &copy, &err))
    fail_msg("%s", err.msg);
  assert_int_equal(helion_tune_source_hash(copy, changed, &err), HELION_OK);
  assert_string_equal(changed, got);
  copy_file(cu, cu2, "// edited\n");
  assert_int_equal(helion_tune_source_hash(copy, changed, &err), HELION_OK);
  assert_string_not_equal(changed, got);
  /* A missing source names the file. */
  unlink(cu2);
  assert_int_equal(helion_tune_source_hash(copy, changed, &err), HELION_ERR_IO);
  assert_non_null(strstr(err.msg, "vector_add.cu"));
  unlink(spec2);
  rmdir(dir);
  helion_spec_destroy(copy);
  helion_spec_destroy(spec);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* The kernel's own headers (quoted includes found beside the including
 * file, recursively, each once) are part of what an entry depends on: the
 * file list, and so the hash. Toolkit headers and missing ones are not. */
static void test_tune_source_files_follow_includes(void **state) {
  (void)state;
  const char *src = getenv("HELION_SOURCE_DIR");
  assert_non_null(src);
  char dir[] = "/tmp/helion_inc_XXXXXX", path[700], spec_path[700];
  assert_non_null(mkdtemp(dir));
  snprintf(spec_path, sizeof(spec_path), "%s/vector_add.json", dir);
  snprintf(path, sizeof(path), "%s/samples/vector_add/vector_add.json", src);
  copy_file(path, spec_path, NULL);
  snprintf(path, sizeof(path), "%s/samples/vector_add/vector_add.cu", src);
  char cu[700], inc[700], a[700], b[700];
  snprintf(cu, sizeof(cu), "%s/vector_add.cu", dir);
  copy_file(path, cu, "#include \"inc/a.cuh\"\n");
  snprintf(inc, sizeof(inc), "%s/inc", dir);
  assert_int_equal(mkdir(inc, 0755), 0);
  snprintf(a, sizeof(a), "%s/inc/a.cuh", dir);
  snprintf(b, sizeof(b), "%s/inc/b.cuh", dir);
  write_text(a, "#pragma once\n  #  include \"b.cuh\"\n#include \"a.cuh\"\n"
                "#include <cuda_fp16.h>\n#include \"not_there.cuh\"\n");
  write_text(b, "#pragma once\n#define B 1\n");

  helion_err_t err = {{0}};
  helion_spec_t *spec = NULL;
  if (helion_spec_load(spec_path, &spec, &err))
    fail_msg("%s", err.msg);
  helion_source_file_t *files = NULL;
  size_t n = 0;
  assert_int_equal(helion_tune_source_files(spec, &files, &n, &err), HELION_OK);
  assert_int_equal(n, 4);
  assert_string_equal(files[0].name, "vector_add.cu");
  assert_string_equal(files[1].name, "helion/device.cuh");
  assert_string_equal(files[2].name, "inc/a.cuh");
  assert_string_equal(files[3].name, "b.cuh");
  assert_non_null(strstr(files[3].path, "/inc/b.cuh"));
  helion_source_files_free(files, n);

  char before[65], after[65];
  assert_int_equal(helion_tune_source_hash(spec, before, &err), HELION_OK);
  write_text(b, "#pragma once\n#define B 2\n");
  assert_int_equal(helion_tune_source_hash(spec, after, &err), HELION_OK);
  assert_string_not_equal(before, after);

  unlink(a);
  unlink(b);
  rmdir(inc);
  unlink(cu);
  unlink(spec_path);
  rmdir(dir);
  helion_spec_destroy(spec);
}

/* Device facts straight from the driver: sane values on a GPU machine, a
 * clear message without one (CI). No context is needed either way. */
static void test_tune_device_facts_query(void **state) {
  (void)state;
  helion_err_t err = {{0}};
  helion_device_facts_t f;
  memset(&f, 0x5a, sizeof(f));
  helion_status rc = helion_device_facts_query(0, &f, &err);
  if (rc == HELION_OK) {
    printf("device facts: %s cc %d.%d, %lld SMs, driver %d, NVRTC %d.%d\n",
           f.props.name, f.props.cc_major, f.props.cc_minor,
           (long long)f.props.num_sms, f.driver_version, f.nvrtc_major,
           f.nvrtc_minor);
    assert_true(strlen(f.props.name) > 0);
    assert_true(f.props.cc_major >= 5 && f.props.cc_minor >= 0);
    assert_true(f.props.num_sms > 0 && f.props.smem_per_block > 0 &&
                f.props.regs_per_sm > 0);
    assert_true(f.driver_version >= 12000);
    assert_true(f.nvrtc_major >= 12);
    assert_int_equal(f.ordinal, 0);
    /* An ordinal past the last device is refused by name. */
    assert_int_equal(helion_device_facts_query(4096, &f, &err),
                     HELION_ERR_INVALID);
    assert_non_null(strstr(err.msg, "CUDA device 4096 does not exist"));
  } else {
    printf("no GPU: %s\n", err.msg);
    assert_true(rc == HELION_ERR_NO_DRIVER || rc == HELION_ERR_CUDA);
    assert_non_null(strstr(err.msg, "CUDA"));
    /* Written only on success. */
    assert_int_equal((unsigned char)f.props.name[0], 0x5a);
  }
}

/* The facts from a worker's report, and their JSON. */
static void test_tune_device_facts_json(void **state) {
  (void)state;
  helion_gpu_info_t gpu;
  memset(&gpu, 0, sizeof(gpu));
  snprintf(gpu.props.name, sizeof(gpu.props.name), "NVIDIA H100 80GB HBM3");
  gpu.props.cc_major = 9;
  gpu.props.num_sms = 132;
  gpu.driver_version = 12080;
  gpu.ordinal = 1;
  helion_err_t err = {{0}};
  helion_device_facts_t f;
  assert_int_equal(helion_device_facts_from_gpu(&gpu, &f, &err), HELION_OK);
  int major = 0, minor = 0;
  assert_int_equal(helion_nvrtc_version(&major, &minor, &err), HELION_OK);
  assert_int_equal(f.nvrtc_major, major);
  assert_int_equal(f.nvrtc_minor, minor);
  assert_int_equal(f.ordinal, 1);
  f.nvrtc_major = 13;
  f.nvrtc_minor = 0;
  cJSON *j = helion_device_facts_to_json(&f);
  assert_non_null(j);
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_json_write(j, 0, &b, &err), HELION_OK);
  assert_string_equal(helion_buf_str(&b),
                      "{\"compute_capability\": \"9.0\", \"driver_version\": "
                      "\"12.8\", \"name\": \"NVIDIA H100 80GB HBM3\", "
                      "\"nvrtc_version\": \"13.0\", \"sm_count\": 132}");
  helion_buf_cleanup(&b);
  cJSON_Delete(j);
}

int main(void) {
  helion_log_level_current = HELION_LOG_ERROR;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tune_entry_fields_filled),
      cmocka_unit_test(test_tune_replay_resolved_options),
      cmocka_unit_test(test_tune_no_working_config_is_entry_error),
      cmocka_unit_test(test_tune_entry_to_json_fields),
      cmocka_unit_test(test_tune_errors_leave_entry_alone),
      cmocka_unit_test(test_tune_source_hash),
      cmocka_unit_test(test_tune_source_files_follow_includes),
      cmocka_unit_test(test_tune_device_facts_query),
      cmocka_unit_test(test_tune_device_facts_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
