/*
 * search_opts.c: the search's options (search.h): the driver's table of
 * declared options, the one parser that reads any declared option from the
 * environment, from "key=value" and from JSON, resolving them for a created
 * search, and writing the resolved values out; plus small pieces several
 * algorithms share (early stopping, member sets).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search/search_impl.h"

/* ------------------------------------------------------ names of values -- */

const char *helion_effort_name(helion_effort e) {
  switch (e) {
  case HELION_EFFORT_NONE:
    return "none";
  case HELION_EFFORT_QUICK:
    return "quick";
  case HELION_EFFORT_FULL:
    return "full";
  }
  return "?";
}

helion_status helion_effort_parse(const char *text, const char *what,
                                  helion_effort *out, helion_err_t *err) {
  static const helion_effort all[] = {HELION_EFFORT_NONE, HELION_EFFORT_QUICK,
                                      HELION_EFFORT_FULL};
  for (size_t i = 0; i < 3; i++) {
    if (strcasecmp(text, helion_effort_name(all[i])) == 0) {
      *out = all[i];
      return HELION_OK;
    }
  }
  return helion_err_set(err, HELION_ERR_USAGE,
                        "%s: '%s' is not an effort; use none, quick or full",
                        what, text);
}

const char *helion_initial_population_name(helion_initial_population p) {
  switch (p) {
  case HELION_INITIAL_FROM_RANDOM:
    return "FROM_RANDOM";
  case HELION_INITIAL_FROM_BEST_AVAILABLE:
    return "FROM_BEST_AVAILABLE";
  }
  return "?";
}

const char *const helion__search_strategy_choices[] = {
    "from_random", "from_best_available", NULL};

/* ------------------------------------------------ the driver's options -- */

#define FIELD(f) (offsetof(helion_search_opts_t, f) + 1)

static const helion_opt_decl_t driver_opts[HELION_DRV_NOPTS] = {
    [HELION_DRV_BUDGET_SECONDS] =
        {.name = "budget_seconds",
         .type = HELION_OPT_DOUBLE,
         .max = 1e12,
         .env = "HELION_AUTOTUNE_BUDGET_SECONDS",
         .help = "stop once this many seconds of backend time are spent "
                 "(0: no budget)",
         .field = FIELD(budget_seconds)},
    [HELION_DRV_MAX_EVALS] = {.name = "max_evals",
                              .type = HELION_OPT_INT,
                              .max = 1e12,
                              .help = "stop after this many distinct configs "
                                      "measured (0: no cap)",
                              .field = FIELD(max_evals)},
    [HELION_DRV_BENCH_CHUNK] = {.name = "bench_chunk",
                                .type = HELION_OPT_INT,
                                .max = HELION_OPT_BIG,
                                .help = "configs per backend call (0: the "
                                        "whole batch, or sized by the budget)",
                                .field = FIELD(bench_chunk)},
    [HELION_DRV_REBENCH_TARGET_MS] =
        {.name = "rebench_target_ms",
         .type = HELION_OPT_DOUBLE,
         .full = {.d = 200},
         .quick = {.d = 200},
         .min = 1,
         .max = 60000,
         .help = "time each population rebenchmark aims to spend (ms)",
         .field = FIELD(rebench_target_ms)},
    [HELION_DRV_REBENCHMARK_THRESHOLD] = HELION_OPT_DOUBLE_DECL(
        "rebenchmark_threshold", 1.5, 0.9, 0, HELION_OPT_BIG,
        "HELION_REBENCHMARK_THRESHOLD",
        "rebenchmark members faster than this times the best so far"),
    [HELION_DRV_FINISHING_ROUNDS] =
        {.name = "finishing_rounds",
         .type = HELION_OPT_INT,
         .max = 1000,
         .env = "HELION_AUTOTUNE_FINISHING_ROUNDS",
         .help = "rounds that try resetting each setting of the winner to "
                 "its default"},
    [HELION_DRV_FINAL_TOP_K] =
        {.name = "final_top_k",
         .type = HELION_OPT_INT,
         .full = {.i = 8},
         .quick = {.i = 8},
         .max = 1024,
         .env = "HELION_AUTOTUNE_FINAL_REBENCHMARK_TOP_K",
         .help = "finalists verified at the end (<= 1: no verification)"},
    [HELION_DRV_FINAL_TARGET_MS] =
        {.name = "final_target_ms",
         .type = HELION_OPT_DOUBLE,
         .full = {.d = 5000},
         .quick = {.d = 5000},
         .min = 200,
         .max = 60000,
         .clamp = true,
         .env = "HELION_AUTOTUNE_FINAL_REBENCHMARK_TARGET_MS",
         .help = "time the final verification aims to spend (ms)"},
    [HELION_DRV_PINNED_TOLERANCE] =
        {.name = "pinned_tolerance",
         .type = HELION_OPT_DOUBLE,
         .max = HELION_OPT_BIG,
         .env = "HELION_AUTOTUNE_FINAL_REBENCHMARK_PINNED_TOLERANCE",
         .help = "a user config wins the final verification within "
                 "(1 + this) of the fastest"},
};

size_t helion_search_driver_opt_count(void) {
  return HELION_DRV_NOPTS;
}

const helion_opt_decl_t *helion_search_driver_opt_at(size_t i) {
  return i < HELION_DRV_NOPTS ? &driver_opts[i] : NULL;
}

/* ------------------------------------------------------------ the parser -- */

/* "4", "0.5", "1e+12": integral values without a fraction. */
static void fmt_num(char *buf, size_t n, double x) {
  if (x == floor(x) && fabs(x) < 1e15)
    snprintf(buf, n, "%.0f", x);
  else
    snprintf(buf, n, "%.17g", x);
}

/* "a whole number in [4, 1000000000]" and the like, for messages. */
static void expected(const helion_opt_decl_t *d, char *buf, size_t n) {
  char lo[32], hi[32];
  fmt_num(lo, sizeof(lo), d->min);
  fmt_num(hi, sizeof(hi), d->max);
  switch (d->type) {
  case HELION_OPT_INT:
    snprintf(buf, n, "a whole number in [%s, %s]", lo, hi);
    return;
  case HELION_OPT_DOUBLE:
    snprintf(buf, n, "a number in [%s, %s]", lo, hi);
    return;
  case HELION_OPT_BOOL:
    snprintf(buf, n, "true or false");
    return;
  case HELION_OPT_ENUM: {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; d->choices[i] && used < n; i++)
      used += (size_t)snprintf(buf + used, n - used, "%s%s",
                               i ? (d->choices[i + 1] ? ", " : " or ") : "",
                               d->choices[i]);
    return;
  }
  }
}

/*
 * Range check of a parsed INT or DOUBLE value: out of range is refused with
 * the value and the range, except for the options Helion documents as
 * clamped (d->clamp), which are clamped with a WARNING saying so.
 */
static helion_status check_range(const helion_opt_decl_t *d, const char *where,
                                 helion_opt_value_t *v, helion_err_t *err) {
  if (d->type != HELION_OPT_INT && d->type != HELION_OPT_DOUBLE)
    return HELION_OK;
  bool is_int = d->type == HELION_OPT_INT;
  double x = is_int ? (double)v->i : v->d;
  if (x >= d->min && x <= d->max)
    return HELION_OK;
  double to = x < d->min ? d->min : d->max;
  char val[32], lim[32], want[256];
  fmt_num(val, sizeof(val), x);
  fmt_num(lim, sizeof(lim), to);
  expected(d, want, sizeof(want));
  if (d->clamp) {
    if (is_int)
      v->i = (int64_t)to;
    else
      v->d = to;
    char lo[32], hi[32];
    fmt_num(lo, sizeof(lo), d->min);
    fmt_num(hi, sizeof(hi), d->max);
    HELION_LOG(HELION_LOG_WARN,
               "%s: %s is outside [%s, %s]; using %s (Helion clamps this "
               "option into its range)",
               where, val, lo, hi, lim);
    return HELION_OK;
  }
  return helion_err_set(err, HELION_ERR_USAGE,
                        "%s: %s is %s the %s %s (allowed: %s)", where, val,
                        x < d->min ? "below" : "above",
                        x < d->min ? "minimum" : "maximum", lim, want);
}

static helion_status bad_value(const helion_opt_decl_t *d, const char *where,
                               const char *text, helion_err_t *err) {
  char want[256];
  expected(d, want, sizeof(want));
  return helion_err_set(err, HELION_ERR_USAGE, "%s: '%s' is not %s", where,
                        text, want);
}

/* The one text parser: environment values and --set values. */
static helion_status parse_text(const helion_opt_decl_t *d, const char *text,
                                const char *where, helion_opt_value_t *out,
                                helion_err_t *err) {
  static const char *const truthy[] = {"1", "true", "yes", "on"};
  static const char *const falsy[] = {"0", "false", "no", "off"};
  helion_opt_value_t v = {0};
  char *end;
  errno = 0;
  switch (d->type) {
  case HELION_OPT_INT: {
    long long x = strtoll(text, &end, 10);
    if (!*text || *end || errno)
      return bad_value(d, where, text, err);
    v.i = x;
    break;
  }
  case HELION_OPT_DOUBLE:
    v.d = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v.d))
      return bad_value(d, where, text, err);
    break;
  case HELION_OPT_BOOL: {
    size_t i = 0;
    for (; i < 4; i++) {
      if (strcasecmp(text, truthy[i]) == 0 || strcasecmp(text, falsy[i]) == 0)
        break;
    }
    if (i == 4)
      return bad_value(d, where, text, err);
    v.i = strcasecmp(text, truthy[i]) == 0;
    break;
  }
  case HELION_OPT_ENUM: {
    size_t i = 0;
    while (d->choices[i] && strcasecmp(text, d->choices[i]) != 0)
      i++;
    if (!d->choices[i])
      return bad_value(d, where, text, err);
    v.i = (int64_t)i;
    break;
  }
  }
  helion_status rc = check_range(d, where, &v, err);
  if (rc == HELION_OK)
    *out = v;
  return rc;
}

/* "a string", "an object", ... for messages (in buf, 32 bytes);
 * `integral` explains a number refused where a whole number is expected. */
static const char *json_kind(const cJSON *item, bool integral, char *buf) {
  if (integral && cJSON_IsNumber(item))
    return "the number with a fraction";
  const char *t = helion_json_type_name(item);
  snprintf(buf, 32, "%s %s", strchr("aeiou", t[0]) ? "an" : "a", t);
  return buf;
}

/* The JSON reader of one value; JSON's types must match the option's. */
static helion_status parse_json(const helion_opt_decl_t *d, const cJSON *item,
                                const char *where, helion_opt_value_t *out,
                                helion_err_t *err) {
  helion_opt_value_t v = {0};
  char want[256], kind[32];
  expected(d, want, sizeof(want));
  switch (d->type) {
  case HELION_OPT_INT:
    if (!helion_json_get_int(item, &v.i))
      goto wrong;
    break;
  case HELION_OPT_DOUBLE:
    if (!cJSON_IsNumber(item))
      goto wrong;
    v.d = item->valuedouble;
    break;
  case HELION_OPT_BOOL:
    if (!cJSON_IsBool(item))
      goto wrong;
    v.i = cJSON_IsTrue(item);
    break;
  case HELION_OPT_ENUM: {
    if (!cJSON_IsString(item))
      goto wrong;
    size_t i = 0;
    while (d->choices[i] && strcasecmp(item->valuestring, d->choices[i]) != 0)
      i++;
    if (!d->choices[i])
      return helion_err_set(err, HELION_ERR_USAGE, "%s: '%s' is not %s", where,
                            item->valuestring, want);
    v.i = (int64_t)i;
    break;
  }
  }
  helion_status rc = check_range(d, where, &v, err);
  if (rc == HELION_OK)
    *out = v;
  return rc;
wrong:
  return helion_err_set(err, HELION_ERR_USAGE, "%s: expected %s, not %s", where,
                        want, json_kind(item, d->type == HELION_OPT_INT, kind));
}

/* A new cJSON item holding v; NULL when out of memory. */
static cJSON *value_json(const helion_opt_decl_t *d, helion_opt_value_t v) {
  switch (d->type) {
  case HELION_OPT_INT:
    return cJSON_CreateNumber((double)v.i);
  case HELION_OPT_DOUBLE:
    return cJSON_CreateNumber(v.d);
  case HELION_OPT_BOOL:
    return cJSON_CreateBool(v.i != 0);
  case HELION_OPT_ENUM:
    return cJSON_CreateString(d->choices[v.i]);
  }
  return NULL;
}

/* ------------------------------------------------- finding declarations -- */

/* Table t of the driver (t = 0) and of each algorithm (t = 1..). */
static const helion_opt_decl_t *table_at(size_t t, size_t *n) {
  if (t == 0) {
    *n = HELION_DRV_NOPTS;
    return driver_opts;
  }
  const helion_search_algo_t *a = helion_search_algo_at(t - 1);
  *n = a ? a->nopts : 0;
  return a ? a->opts : NULL;
}

/* The first declaration named `name` (by_env: whose variable is `name`) in
 * the driver's table and the algorithms' (`only`: that one's alone). */
static const helion_opt_decl_t *decl_find(const char *name, bool by_env,
                                          const helion_search_algo_t *only) {
  for (size_t t = 0; t <= helion_search_algo_count(); t++) {
    size_t n;
    const helion_opt_decl_t *tab = table_at(t, &n);
    if (only && t > 0 && helion_search_algo_at(t - 1) != only)
      continue;
    for (size_t i = 0; i < n; i++) {
      const char *key = by_env ? tab[i].env : tab[i].name;
      if (key && strcmp(key, name) == 0)
        return &tab[i];
    }
  }
  return NULL;
}

/* The chosen algorithm's registry row (the default when none is named or
 * the name is unknown: only used for listing option names). */
static const helion_search_algo_t *chosen_algo(const helion_search_opts_t *o) {
  const helion_search_algo_t *a = helion_search_algo_find(
      o->algorithm ? o->algorithm : HELION_SEARCH_DEFAULT_ALGORITHM, NULL);
  return a ? a : helion_search_algo_find(HELION_SEARCH_DEFAULT_ALGORITHM, NULL);
}

/* "its options are a, b, ...; the driver's are c, d, ..." for messages. */
static void list_names(const helion_search_algo_t *a, char *buf, size_t n) {
  size_t used = (size_t)snprintf(buf, n, "%s's options are ", a->name);
  for (size_t i = 0; i < a->nopts && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "",
                             a->opts[i].name);
  if (a->nopts == 0 && used < n)
    used += (size_t)snprintf(buf + used, n - used, "none");
  if (used < n)
    used += (size_t)snprintf(buf + used, n - used, "; the driver's are ");
  for (size_t i = 0; i < HELION_DRV_NOPTS && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "",
                             driver_opts[i].name);
}

static helion_status unknown_option(const char *where, const char *name,
                                    const helion_search_algo_t *a,
                                    helion_err_t *err) {
  char list[900];
  list_names(a, list, sizeof(list));
  return helion_err_set(err, HELION_ERR_USAGE,
                        "%sunknown search option '%s'; %s", where, name, list);
}

/* ------------------------------------------------------ giving options -- */

static bool same_given(const helion_opt_given_t *g, const helion_opt_decl_t *d,
                       bool from_env) {
  if (g->from_env != from_env)
    return false;
  return from_env ? d->env && strcmp(g->decl->env, d->env) == 0
                  : strcmp(g->decl->name, d->name) == 0;
}

/* Records a parsed value: field options in their field, the rest in
 * o->given (replacing an earlier value of the same option). */
static helion_status give(helion_search_opts_t *o, const helion_opt_decl_t *d,
                          helion_opt_value_t v, bool from_env,
                          helion_err_t *err) {
  if (d->field) {
    void *f = (char *)o + d->field - 1;
    if (d->type == HELION_OPT_DOUBLE)
      *(double *)f = v.d;
    else
      *(size_t *)f = (size_t)v.i;
    return HELION_OK;
  }
  for (size_t i = 0; i < o->ngiven; i++) {
    if (same_given(&o->given[i], d, from_env)) {
      /* Later wins, so the new value moves to the end. */
      memmove(o->given + i, o->given + i + 1,
              (o->ngiven - i - 1) * sizeof(o->given[0]));
      o->ngiven--;
      break;
    }
  }
  if (o->ngiven == HELION_SEARCH_MAX_GIVEN)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: more than %d search options given", d->name,
                          HELION_SEARCH_MAX_GIVEN);
  o->given[o->ngiven++] = (helion_opt_given_t){d, v, from_env};
  return HELION_OK;
}

void helion_search_opts_init(helion_search_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->effort = HELION_EFFORT_FULL;
  for (size_t i = 0; i < HELION_DRV_NOPTS; i++)
    if (driver_opts[i].field)
      give(o, &driver_opts[i], driver_opts[i].full, false, NULL);
}

helion_status helion_search_opts_from_env(helion_search_opts_t *o,
                                          helion_err_t *err) {
  helion_status rc;
  const char *v = getenv("HELION_AUTOTUNER");
  if (v && *v) {
    if (!helion_search_algo_find(v, err)) {
      helion_err_prefix(err, "HELION_AUTOTUNER: ");
      return HELION_ERR_USAGE;
    }
    o->algorithm = v;
  }
  v = getenv("HELION_AUTOTUNE_EFFORT");
  if (v && *v &&
      (rc = helion_effort_parse(v, "HELION_AUTOTUNE_EFFORT", &o->effort, err)))
    return rc;
  v = getenv("HELION_AUTOTUNE_RANDOM_SEED");
  if (v && *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-')
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_RANDOM_SEED: '%s' is not a "
                            "non-negative integer",
                            v);
    o->seed = (uint64_t)x;
  }
  /* Every variable once, read by its first declaration (declarations
   * sharing a variable agree on its type and range; a unit test checks). */
  for (size_t t = 0; t <= helion_search_algo_count(); t++) {
    size_t n;
    const helion_opt_decl_t *tab = table_at(t, &n);
    for (size_t i = 0; i < n; i++) {
      const helion_opt_decl_t *d = &tab[i];
      if (!d->env || decl_find(d->env, true, NULL) != d)
        continue;
      v = getenv(d->env);
      if (!v || !*v)
        continue;
      helion_opt_value_t x;
      if ((rc = parse_text(d, v, d->env, &x, err)) ||
          (rc = give(o, d, x, true, err)))
        return rc;
    }
  }
  return HELION_OK;
}

helion_status helion_search_opts_set(helion_search_opts_t *o,
                                     const char *assignment,
                                     helion_err_t *err) {
  const char *eq = strchr(assignment, '=');
  if (!eq || eq == assignment)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "'%s' is not key=value (e.g. population_size=20)",
                          assignment);
  char key[64];
  size_t klen = (size_t)(eq - assignment);
  if (klen >= sizeof(key))
    return unknown_option("", assignment, chosen_algo(o), err);
  memcpy(key, assignment, klen);
  key[klen] = '\0';
  const helion_opt_decl_t *d = decl_find(key, false, NULL);
  if (!d)
    return unknown_option("", key, chosen_algo(o), err);
  helion_opt_value_t v;
  helion_status rc = parse_text(d, eq + 1, key, &v, err);
  return rc ? rc : give(o, d, v, false, err);
}

helion_status helion_search_opts_from_json(helion_search_opts_t *o,
                                           const cJSON *obj, const char *origin,
                                           helion_err_t *err) {
  helion_search_opts_t t = *o;
  helion_status rc = HELION_OK;
  char where[160], kind[32];
  if (!cJSON_IsObject(obj))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: expected an object of search options, not %s",
                          origin, json_kind(obj, false, kind));
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "algorithm");
  if (it) {
    const helion_search_algo_t *a =
        cJSON_IsString(it) ? helion_search_algo_find(it->valuestring, err)
                           : NULL;
    if (!a) {
      if (!cJSON_IsString(it))
        helion_err_set(err, HELION_ERR_USAGE, "expected a string, not %s",
                       json_kind(it, false, kind));
      helion_err_prefix(err, "%s: algorithm: ", origin);
      return HELION_ERR_USAGE;
    }
    t.algorithm = a->name; /* static, not the JSON's string */
  }
  it = cJSON_GetObjectItemCaseSensitive(obj, "effort");
  if (it) {
    snprintf(where, sizeof(where), "%s: effort", origin);
    if (!cJSON_IsString(it))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s: expected a string, not %s", where,
                            json_kind(it, false, kind));
    if ((rc = helion_effort_parse(it->valuestring, where, &t.effort, err)))
      return rc;
  }
  it = cJSON_GetObjectItemCaseSensitive(obj, "seed");
  if (it) {
    int64_t seed;
    if (!helion_json_get_int(it, &seed) || seed < 0)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s: seed: expected a non-negative whole number",
                            origin);
    t.seed = (uint64_t)seed;
  }
  const cJSON *opts = cJSON_GetObjectItemCaseSensitive(obj, "options");
  if (opts && !cJSON_IsObject(opts))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: options: expected an object, not %s", origin,
                          json_kind(opts, false, kind));
  const helion_search_algo_t *a = chosen_algo(&t);
  const cJSON *item;
  cJSON_ArrayForEach(item, opts) {
    snprintf(where, sizeof(where), "%s: options.%s", origin, item->string);
    const helion_opt_decl_t *d = decl_find(item->string, false, a);
    if (!d) {
      char prefix[200];
      snprintf(prefix, sizeof(prefix), "%s: options: ", origin);
      return unknown_option(prefix, item->string, a, err);
    }
    helion_opt_value_t v;
    if ((rc = parse_json(d, item, where, &v, err)) ||
        (rc = give(&t, d, v, false, err)))
      return rc;
  }
  *o = t;
  return HELION_OK;
}

helion_status helion_search_opts_from_file(helion_search_opts_t *o,
                                           const char *path,
                                           helion_err_t *err) {
  char *text = NULL;
  size_t len = 0;
  cJSON *obj = NULL;
  helion_status rc = helion_read_file(path, 1 << 20, &text, &len, err);
  if (rc == HELION_OK && (rc = helion_json_parse(text, len, path, &obj, err)))
    rc = HELION_ERR_USAGE;
  if (rc == HELION_OK)
    rc = helion_search_opts_from_json(o, obj, path, err);
  cJSON_Delete(obj);
  free(text);
  return rc;
}

/* ----------------------------------------------------------- resolving -- */

/* The values of table tab (n options): profile defaults, then the given
 * values that name one of its options; given[i] says which. A value given
 * by --set or JSON for an option no table has is the caller's error. */
static void resolve_table(const helion_search_opts_t *o,
                          const helion_opt_decl_t *tab, size_t n,
                          helion_opt_value_t *v, bool *given, bool *used) {
  bool quick = o->effort == HELION_EFFORT_QUICK;
  for (size_t i = 0; i < n; i++) {
    v[i] = quick ? tab[i].quick : tab[i].full;
    given[i] = false;
    if (tab[i].field) {
      const void *f = (const char *)o + tab[i].field - 1;
      if (tab[i].type == HELION_OPT_DOUBLE)
        v[i].d = *(const double *)f;
      else
        v[i].i = (int64_t) * (const size_t *)f;
    }
  }
  for (size_t g = 0; g < o->ngiven; g++) {
    const helion_opt_given_t *gv = &o->given[g];
    for (size_t i = 0; i < n; i++) {
      if (!tab[i].field && same_given(gv, &tab[i], gv->from_env)) {
        v[i] = gv->value;
        given[i] = true;
        used[g] = true;
      }
    }
  }
}

helion_status helion__search_resolve(helion_search_t *s, helion_err_t *err) {
  helion_search_opts_t *o = &s->opts;
  const helion_search_algo_t *a = s->algo;
  bool dgiven[HELION_DRV_NOPTS], agiven[HELION_SEARCH_MAX_ALGO_OPTS];
  bool used[HELION_SEARCH_MAX_GIVEN] = {0};
  resolve_table(o, driver_opts, HELION_DRV_NOPTS, s->dval, dgiven, used);
  resolve_table(o, a->opts, a->nopts, s->aval, agiven, used);
  for (size_t g = 0; g < o->ngiven; g++)
    if (!used[g] && !o->given[g].from_env)
      return unknown_option("", o->given[g].decl->name, a, err);
  if (a->resolve)
    a->resolve(o, agiven, s->aval);
  o->budget_seconds = s->dval[HELION_DRV_BUDGET_SECONDS].d;
  o->max_evals = (size_t)s->dval[HELION_DRV_MAX_EVALS].i;
  o->bench_chunk = (size_t)s->dval[HELION_DRV_BENCH_CHUNK].i;
  o->rebench_target_ms = s->dval[HELION_DRV_REBENCH_TARGET_MS].d;
  return HELION_OK;
}

void helion__search_algo_values(const helion_search_t *s,
                                const helion_search_algo_t *a,
                                helion_opt_value_t *v) {
  bool given[HELION_SEARCH_MAX_ALGO_OPTS];
  bool used[HELION_SEARCH_MAX_GIVEN] = {0};
  resolve_table(&s->opts, a->opts, a->nopts, v, given, used);
  if (a->resolve)
    a->resolve(&s->opts, given, v);
}

size_t helion__search_algo_opt_index(const helion_search_algo_t *a,
                                     const char *name) {
  for (size_t i = 0; i < a->nopts; i++)
    if (strcmp(a->opts[i].name, name) == 0)
      return i;
  return SIZE_MAX;
}

static helion_status add_values(cJSON *obj, const helion_opt_decl_t *tab,
                                size_t n, const helion_opt_value_t *v) {
  for (size_t i = 0; i < n; i++) {
    cJSON *item = value_json(&tab[i], v[i]);
    if (!item)
      return HELION_ERR_NOMEM;
    cJSON_AddItemToObject(obj, tab[i].name, item);
  }
  return HELION_OK;
}

helion_status helion_search_resolved_options(const helion_search_t *s,
                                             cJSON **out, helion_err_t *err) {
  cJSON *root = cJSON_CreateObject();
  cJSON *opts = cJSON_CreateObject();
  if (!root || !opts || !cJSON_AddItemToObject(root, "options", opts)) {
    cJSON_Delete(opts);
    goto nomem;
  }
  if (!cJSON_AddStringToObject(root, "algorithm", s->algo->name) ||
      !cJSON_AddStringToObject(root, "effort",
                               helion_effort_name(s->opts.effort)) ||
      !cJSON_AddNumberToObject(root, "seed", (double)s->opts.seed) ||
      add_values(opts, driver_opts, HELION_DRV_NOPTS, s->dval) ||
      add_values(opts, s->algo->opts, s->algo->nopts, s->aval))
    goto nomem;
  *out = root;
  return HELION_OK;
nomem:
  cJSON_Delete(root);
  return helion_err_set(err, HELION_ERR_NOMEM, "search options: out of memory");
}

int64_t helion_search_opt_int(const helion_search_t *s, size_t i) {
  return s->aval[i].i;
}

double helion_search_opt_double(const helion_search_t *s, size_t i) {
  return s->aval[i].d;
}

/* ------------------------------------------------- shared small pieces -- */

bool helion_early_stop_update(helion_early_stop_t *es, double best) {
  if (es->n >= es->cap)
    return false;
  es->hist[es->n++] = best;
  if (es->patience == 0 || es->n <= es->patience)
    return false;
  double old = es->hist[es->n - es->patience - 1];
  double rel = fabs(best / old - 1.0);
  if (isfinite(rel) && rel < es->delta)
    return ++es->stall >= es->patience;
  es->stall = 0;
  return false;
}

helion_status helion_member_set_add(helion_member_set_t *set,
                                    helion_member_id id, bool *out_added) {
  if (id >= set->cap) {
    size_t c = set->cap ? set->cap : 256;
    while (c <= id)
      c *= 2;
    uint8_t *t = realloc(set->has, c);
    if (!t)
      return HELION_ERR_NOMEM;
    memset(t + set->cap, 0, c - set->cap);
    set->has = t;
    set->cap = c;
  }
  *out_added = !set->has[id];
  set->has[id] = 1;
  return HELION_OK;
}

void helion_member_set_cleanup(helion_member_set_t *set) {
  free(set->has);
  set->has = NULL;
  set->cap = 0;
}
