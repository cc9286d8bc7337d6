/* test_search_opts.c: the declared search options and their one parser
 * (search/search_opts.c): every type from text and JSON, ranges, unknown
 * keys, precedence of environment, JSON and --set, the algorithms' rules,
 * and that every declared option round-trips through resolved options. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_sim.h"
#include "search/search.h"
#include "util/json.h"

static helion_sim_t *sim;

static int setup(void **state) {
  (void)state;
  helion_log_level_current = HELION_LOG_QUIET;
  const char *data = getenv("HELION_TEST_DATA");
  assert_non_null(data);
  char path[1024];
  snprintf(path, sizeof(path), "%s/landscapes/tiny_cache.json", data);
  helion_err_t err = {{0}};
  helion_status rc = helion_sim_load(path, NULL, &sim, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.msg);
  return rc == HELION_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  helion_sim_destroy(sim);
  return 0;
}

/* The status of helion_search_opts_set(o, kv); its message in msg. */
static helion_status set(helion_search_opts_t *o, const char *kv, char *msg) {
  helion_err_t err = {{0}};
  helion_status rc = helion_search_opts_set(o, kv, &err);
  if (msg)
    strcpy(msg, rc ? err.msg : "");
  return rc;
}

/* Creates a search of o on the tiny landscape; NULL (message in msg) when
 * create fails. */
static helion_search_t *create(const helion_search_opts_t *o, char *msg) {
  helion_search_t *s = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_search_create(helion_sim_space(sim),
                                          helion_sim_backend(sim), o, &s, &err);
  if (msg)
    strcpy(msg, rc ? err.msg : "");
  return rc ? NULL : s;
}

/* The resolved options of o as JSON text (caller frees). */
static char *resolved_text(const helion_search_opts_t *o) {
  helion_search_t *s = create(o, NULL);
  assert_non_null(s);
  cJSON *obj = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_resolved_options(s, &obj, &err), HELION_OK);
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_json_write(obj, 0, &b, &err), HELION_OK);
  cJSON_Delete(obj);
  helion_search_destroy(s);
  return helion_buf_take(&b);
}

/* One resolved option of o as a number (true = 1) or enum text. */
static double resolved_num(const helion_search_opts_t *o, const char *name,
                           char *text) {
  char *json = resolved_text(o);
  cJSON *obj = NULL;
  assert_int_equal(helion_json_parse(json, strlen(json), "t", &obj, NULL),
                   HELION_OK);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(obj, "options"), name);
  assert_non_null(v);
  double x = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsTrue(v) ? 1 : 0;
  if (text && cJSON_IsString(v))
    strcpy(text, v->valuestring);
  cJSON_Delete(obj);
  free(json);
  return x;
}

/* helion_search_opts_from_json of `text`; its message in msg. */
static helion_status from_json(helion_search_opts_t *o, const char *text,
                               char *msg) {
  cJSON *obj = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_json_parse(text, strlen(text), "t", &obj, &err),
                   HELION_OK);
  helion_status rc = helion_search_opts_from_json(o, obj, "run.json", &err);
  cJSON_Delete(obj);
  if (msg)
    strcpy(msg, rc ? err.msg : "");
  return rc;
}

/* Every type from text, each bad value naming the key, the value and the
 * valid range; clamped options clamp. */
static void test_opts_types_from_text(void **state) {
  (void)state;
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  o.algorithm = "LFBOTreeSearch";
  char msg[1024];
  /* INT */
  assert_int_equal(set(&o, "copies=3", msg), HELION_OK);
  assert_true(resolved_num(&o, "copies", NULL) == 3);
  assert_int_equal(set(&o, "copies=3.5", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "copies: '3.5' is not a whole number in [1, "
                           "1000000000]");
  assert_int_equal(set(&o, "copies=0", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "copies: 0 is below the minimum 1 (allowed: a whole "
                           "number in [1, 1000000000])");
  /* DOUBLE */
  assert_int_equal(set(&o, "quantile=0.25", msg), HELION_OK);
  assert_true(resolved_num(&o, "quantile", NULL) == 0.25);
  assert_int_equal(set(&o, "quantile=1.5", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "quantile: 1.5 is above the maximum 1 (allowed: a "
                           "number in [0, 1])");
  assert_int_equal(set(&o, "quantile=nan", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "quantile: 'nan' is not a number in [0, 1]");
  /* BOOL */
  assert_int_equal(set(&o, "keep_current=OFF", msg), HELION_OK);
  assert_true(resolved_num(&o, "keep_current", NULL) == 0);
  assert_int_equal(set(&o, "keep_current=yes", msg), HELION_OK);
  assert_true(resolved_num(&o, "keep_current", NULL) == 1);
  assert_int_equal(set(&o, "keep_current=maybe", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "keep_current: 'maybe' is not true or false");
  /* ENUM */
  char text[64];
  assert_int_equal(
      set(&o, "initial_population_strategy=FROM_BEST_AVAILABLE", msg),
      HELION_OK);
  resolved_num(&o, "initial_population_strategy", text);
  assert_string_equal(text, "from_best_available");
  assert_int_equal(set(&o, "initial_population_strategy=best", msg),
                   HELION_ERR_USAGE);
  assert_string_equal(msg, "initial_population_strategy: 'best' is not "
                           "from_random or from_best_available");
  /* Clamped: only what Helion documents as clamped (final_target_ms);
   * final_top_k out of range is refused like any other option. */
  assert_int_equal(set(&o, "final_target_ms=90000", msg), HELION_OK);
  assert_true(resolved_num(&o, "final_target_ms", NULL) == 60000);
  assert_int_equal(set(&o, "final_top_k=5000", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "final_top_k: 5000 is above the maximum 1024 "
                           "(allowed: a whole number in [0, 1024])");
  /* Field options land in their field. */
  assert_int_equal(set(&o, "max_evals=77", msg), HELION_OK);
  assert_int_equal(o.max_evals, 77);
  assert_int_equal(set(&o, "budget_seconds=-1", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "budget_seconds: -1 is below the minimum 0 (allowed: "
                           "a number in [0, 1000000000000])");
  assert_int_equal(set(&o, "copies", msg), HELION_ERR_USAGE);
  assert_string_equal(msg, "'copies' is not key=value (e.g. "
                           "population_size=20)");
}

/* An unknown key lists the chosen algorithm's options and the driver's; an
 * option of another algorithm is refused when the search is created. */
static void test_opts_unknown_keys(void **state) {
  (void)state;
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  o.algorithm = "RandomSearch";
  char msg[1024];
  assert_int_equal(set(&o, "nope=1", msg), HELION_ERR_USAGE);
  assert_string_equal(
      msg, "unknown search option 'nope'; RandomSearch's options are count; "
           "the driver's are budget_seconds, max_evals, bench_chunk, "
           "rebench_target_ms, rebenchmark_threshold, finishing_rounds, "
           "final_top_k, final_target_ms, pinned_tolerance");
  assert_int_equal(set(&o, "population_size=8", msg), HELION_OK);
  assert_null(create(&o, msg));
  assert_non_null(strstr(msg, "unknown search option 'population_size'; "
                              "RandomSearch's options are count;"));
  o.algorithm = "DifferentialEvolutionSearch";
  helion_search_t *s = create(&o, msg);
  assert_non_null(s);
  helion_search_destroy(s);
}

/* Environment < JSON < --set, each later one overriding; an environment
 * variable of another algorithm's option is ignored. */
static void test_opts_precedence(void **state) {
  (void)state;
  char msg[1024];
  setenv("HELION_LFBO_RADIUS", "3", 1);
  setenv("HELION_AUTOTUNE_MAX_GENERATIONS", "7", 1);
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  assert_int_equal(helion_search_opts_from_env(&o, NULL), HELION_OK);
  assert_true(resolved_num(&o, "radius", NULL) == 3); /* LFBOTreeSearch */
  assert_true(resolved_num(&o, "max_generations", NULL) == 7);
  assert_int_equal(from_json(&o, "{\"options\": {\"radius\": 4}}", msg),
                   HELION_OK);
  assert_true(resolved_num(&o, "radius", NULL) == 4);
  assert_int_equal(set(&o, "radius=5", msg), HELION_OK);
  assert_true(resolved_num(&o, "radius", NULL) == 5);
  /* The environment's HELION_LFBO_RADIUS means nothing to DE; its
   * max_generations does. */
  helion_search_opts_init(&o);
  o.algorithm = "DifferentialEvolutionSearch";
  assert_int_equal(helion_search_opts_from_env(&o, NULL), HELION_OK);
  assert_true(resolved_num(&o, "max_generations", NULL) == 7);
  setenv("HELION_LFBO_QUANTILE", "2", 1);
  helion_err_t err = {{0}};
  assert_int_equal(helion_search_opts_from_env(&o, &err), HELION_ERR_USAGE);
  assert_string_equal(err.msg,
                      "HELION_LFBO_QUANTILE: 2 is above the maximum 1 "
                      "(allowed: a number in [0, 1])");
  unsetenv("HELION_LFBO_QUANTILE");
  /* Clamped, as Helion clamps it. */
  setenv("HELION_AUTOTUNE_FINAL_REBENCHMARK_TARGET_MS", "10", 1);
  helion_search_opts_init(&o);
  assert_int_equal(helion_search_opts_from_env(&o, NULL), HELION_OK);
  assert_true(resolved_num(&o, "final_target_ms", NULL) == 200);
  unsetenv("HELION_AUTOTUNE_FINAL_REBENCHMARK_TARGET_MS");
  unsetenv("HELION_LFBO_RADIUS");
  unsetenv("HELION_AUTOTUNE_MAX_GENERATIONS");
}

/* JSON: types must match, errors name the origin and the path. */
static void test_opts_from_json_errors(void **state) {
  (void)state;
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  char msg[1024];
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"{\"algorithm\": \"DifferentialEvolutionSearch\", \"options\": "
       "{\"population_size\": -3}}",
       "run.json: options.population_size: -3 is below the minimum 4 "
       "(allowed: a whole number in [4, 1000000000])"},
      {"{\"algorithm\": \"PatternSearch\", \"options\": {\"copies\": \"3\"}}",
       "run.json: options.copies: expected a whole number in [1, "
       "1000000000], not a string"},
      {"{\"algorithm\": \"PatternSearch\", \"options\": {\"copies\": 2.5}}",
       "run.json: options.copies: expected a whole number in [1, "
       "1000000000], not the number with a fraction"},
      {"{\"algorithm\": \"LFBOTreeSearch\", \"options\": {\"helion\": 1}}",
       "run.json: options.helion: expected true or false, not a number"},
      {"{\"algorithm\": \"RandomSearch\", \"options\": {\"copies\": 2}}",
       "run.json: options: unknown search option 'copies'; RandomSearch's "
       "options are count; the driver's are budget_seconds, max_evals, "
       "bench_chunk, rebench_target_ms, rebenchmark_threshold, "
       "finishing_rounds, final_top_k, final_target_ms, pinned_tolerance"},
      {"{\"algorithm\": \"Nope\"}",
       "run.json: algorithm: unknown search algorithm 'Nope'; valid "
       "algorithms: DESurrogateHybrid, DifferentialEvolutionSearch, "
       "FiniteSearch, LFBOPatternSearch, LFBOTreeSearch, LLMGuidedSearch, "
       "LLMSeededLFBOTreeSearch, LLMSeededSearch, PatternSearch, "
       "RandomSearch"},
      {"{\"effort\": \"most\"}",
       "run.json: effort: 'most' is not an effort; use none, quick or full"},
      {"{\"seed\": -1}",
       "run.json: seed: expected a non-negative whole number"},
      {"{\"options\": []}",
       "run.json: options: expected an object, not an array"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(from_json(&o, cases[i].json, msg), HELION_ERR_USAGE);
    assert_string_equal(msg, cases[i].want);
  }
  /* A failed call leaves o as it was. */
  assert_null(o.algorithm);
  assert_int_equal(o.ngiven, 0);
  /* Algorithm names point at the registry, not into the JSON. */
  assert_int_equal(from_json(&o,
                             "{\"algorithm\": \"PatternSearch\", \"effort\": "
                             "\"quick\", \"seed\": 9, \"landscape\": \"x\"}",
                             msg),
                   HELION_OK);
  assert_ptr_equal(o.algorithm,
                   helion_search_algo_find("PatternSearch", NULL)->name);
  assert_int_equal(o.effort, HELION_EFFORT_QUICK);
  assert_int_equal(o.seed, 9);
}

/* The algorithms' rules: DE's crossover and population under a cap (unless
 * given), LFBO's helion switch and its initial population under a cap. */
static void test_opts_algorithm_rules(void **state) {
  (void)state;
  helion_search_opts_t o;
  helion_search_opts_init(&o);
  o.algorithm = "DifferentialEvolutionSearch";
  assert_true(resolved_num(&o, "crossover_rate", NULL) == 0.8);
  assert_true(resolved_num(&o, "population_size", NULL) == 40);
  o.max_evals = 220;
  assert_true(resolved_num(&o, "crossover_rate", NULL) == 0.5);
  assert_true(resolved_num(&o, "population_size", NULL) == 20);
  assert_int_equal(set(&o, "crossover_rate=0.7", NULL), HELION_OK);
  assert_true(resolved_num(&o, "crossover_rate", NULL) == 0.7);

  helion_search_opts_init(&o);
  o.algorithm = "LFBOPatternSearch";
  o.max_evals = 220;
  assert_true(resolved_num(&o, "initial_population", NULL) == 77);
  assert_true(resolved_num(&o, "extend", NULL) == 1);
  assert_true(resolved_num(&o, "num_neighbors", NULL) == 300);
  assert_int_equal(set(&o, "helion=true", NULL), HELION_OK);
  assert_true(resolved_num(&o, "initial_population", NULL) == 100);
  assert_true(resolved_num(&o, "extend", NULL) == 0);
  assert_true(resolved_num(&o, "keep_current", NULL) == 0);
  assert_true(resolved_num(&o, "global_draws", NULL) == 0);
  assert_int_equal(set(&o, "keep_current=1", NULL), HELION_OK);
  assert_true(resolved_num(&o, "keep_current", NULL) == 1);
  /* An explicit max_generations is the stopping point. */
  helion_search_opts_init(&o);
  o.algorithm = "LFBOTreeSearch";
  o.max_evals = 220;
  assert_int_equal(set(&o, "max_generations=3", NULL), HELION_OK);
  assert_true(resolved_num(&o, "extend", NULL) == 0);
}

/* Declarations that share a name or a variable agree on what a value is;
 * every default is valid. */
static void test_opts_declarations_consistent(void **state) {
  (void)state;
  size_t nalgo = helion_search_algo_count();
  const helion_opt_decl_t *all[256];
  size_t n = 0;
  for (size_t i = 0; i < helion_search_driver_opt_count(); i++)
    all[n++] = helion_search_driver_opt_at(i);
  for (size_t a = 0; a < nalgo; a++) {
    const helion_search_algo_t *al = helion_search_algo_at(a);
    assert_true(al->nopts <= HELION_SEARCH_MAX_ALGO_OPTS);
    for (size_t i = 0; i < al->nopts; i++)
      all[n++] = &al->opts[i];
  }
  for (size_t i = 0; i < n; i++) {
    const helion_opt_decl_t *d = all[i];
    assert_non_null(d->name);
    assert_non_null(d->help);
    if (d->type == HELION_OPT_INT || d->type == HELION_OPT_DOUBLE) {
      double f = d->type == HELION_OPT_INT ? (double)d->full.i : d->full.d;
      double q = d->type == HELION_OPT_INT ? (double)d->quick.i : d->quick.d;
      assert_true(d->min <= f && f <= d->max);
      assert_true(d->min <= q && q <= d->max);
    }
    if (d->type == HELION_OPT_ENUM)
      assert_non_null(d->choices);
    for (size_t j = 0; j < i; j++) {
      const helion_opt_decl_t *e = all[j];
      bool same_env = d->env && e->env && strcmp(d->env, e->env) == 0;
      if (same_env)
        assert_string_equal(d->name, e->name);
      if (strcmp(d->name, e->name) == 0) {
        assert_int_equal(d->type, e->type);
        assert_true(d->min == e->min && d->max == e->max);
        assert_int_equal(d->clamp, e->clamp);
        assert_int_equal(d->field, e->field);
      }
    }
  }
}

/* For every algorithm, both efforts, with and without a cap: resolved ->
 * from_json -> resolved is the same text, every option named. */
static void test_opts_round_trip(void **state) {
  (void)state;
  static const helion_effort efforts[] = {HELION_EFFORT_FULL,
                                          HELION_EFFORT_QUICK};
  for (size_t a = 0; a < helion_search_algo_count(); a++) {
    const helion_search_algo_t *al = helion_search_algo_at(a);
    for (size_t e = 0; e < 2; e++) {
      for (size_t cap = 0; cap < 2; cap++) {
        helion_search_opts_t o;
        helion_search_opts_init(&o);
        o.algorithm = al->name;
        o.effort = efforts[e];
        o.seed = 1234;
        o.max_evals = cap ? 150 : 0;
        char *first = resolved_text(&o);
        cJSON *obj = NULL;
        assert_int_equal(
            helion_json_parse(first, strlen(first), "t", &obj, NULL),
            HELION_OK);
        assert_int_equal(cJSON_GetArraySize(
                             cJSON_GetObjectItemCaseSensitive(obj, "options")),
                         (int)(al->nopts + helion_search_driver_opt_count()));
        helion_search_opts_t r;
        helion_search_opts_init(&r);
        helion_err_t err = {{0}};
        assert_int_equal(helion_search_opts_from_json(&r, obj, "t", &err),
                         HELION_OK);
        cJSON_Delete(obj);
        char *second = resolved_text(&r);
        assert_string_equal(first, second);
        free(first);
        free(second);
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_opts_types_from_text),
      cmocka_unit_test(test_opts_unknown_keys),
      cmocka_unit_test(test_opts_precedence),
      cmocka_unit_test(test_opts_from_json_errors),
      cmocka_unit_test(test_opts_algorithm_rules),
      cmocka_unit_test(test_opts_declarations_consistent),
      cmocka_unit_test(test_opts_round_trip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
