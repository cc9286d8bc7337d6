/* search_opts.c: setting search options by name ("population_size=20"),
 * and small pieces several algorithms share (early stopping, member sets). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"

typedef enum opt_type { OPT_SIZE, OPT_INT, OPT_DOUBLE } opt_type;

typedef struct opt_entry {
  const char *key;
  opt_type type;
  size_t offset;
} opt_entry;

#define OPT(key, type)                                                         \
  { #key, type, offsetof(helion_search_opts_t, key) }

static const opt_entry opt_table[] = {
    OPT(initial_population, OPT_SIZE),
    OPT(copies, OPT_SIZE),
    OPT(max_generations, OPT_SIZE),
    OPT(population_size, OPT_SIZE),
    OPT(count, OPT_SIZE),
    OPT(num_neighbors_cap, OPT_SIZE),
    OPT(crossover_rate, OPT_DOUBLE),
    OPT(min_improvement_delta, OPT_DOUBLE),
    OPT(patience, OPT_SIZE),
    OPT(rebenchmark_threshold, OPT_DOUBLE),
    OPT(finishing_rounds, OPT_INT),
    OPT(final_top_k, OPT_INT),
    OPT(pad_random, OPT_INT),
    OPT(immediate_update, OPT_INT),
};

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static helion_status unknown_key(const char *key, helion_err_t *err) {
  char list[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < NOPTS && used < sizeof(list); i++)
    used += (size_t)snprintf(list + used, sizeof(list) - used, "%s, ",
                             opt_table[i].key);
  return helion_err_set(err, HELION_ERR_USAGE,
                        "unknown search option '%s'; options are %s"
                        "initial_population_strategy",
                        key, list);
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
    return unknown_key(assignment, err);
  memcpy(key, assignment, klen);
  key[klen] = '\0';
  const char *val = eq + 1;

  if (strcmp(key, "initial_population_strategy") == 0)
    return helion_initial_population_parse(
        val, key, &o->initial_population_strategy, err);
  for (size_t i = 0; i < NOPTS; i++) {
    const opt_entry *e = &opt_table[i];
    if (strcmp(key, e->key) != 0)
      continue;
    char *end;
    errno = 0;
    void *field = (char *)o + e->offset;
    if (e->type == OPT_DOUBLE) {
      double v = strtod(val, &end);
      if (!*val || *end || errno || !isfinite(v))
        return helion_err_set(err, HELION_ERR_USAGE, "%s: '%s' is not a number",
                              key, val);
      *(double *)field = v;
    } else {
      long long v = strtoll(val, &end, 10);
      if (!*val || *end || errno || (e->type == OPT_SIZE && v < 0) ||
          v > 1000000000LL || v < -1000000000LL)
        return helion_err_set(err, HELION_ERR_USAGE,
                              "%s: '%s' is not %s integer", key, val,
                              e->type == OPT_SIZE ? "a non-negative" : "an");
      if (e->type == OPT_SIZE)
        *(size_t *)field = (size_t)v;
      else
        *(int *)field = (int)v;
    }
    return HELION_OK;
  }
  return unknown_key(key, err);
}

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

/* API placeholders until the declared-options tables land (next commits). */
helion_status helion_search_resolved_options(const helion_search_t *s,
                                             cJSON **out, helion_err_t *err) {
  (void)s;
  (void)out;
  return helion_err_set(err, HELION_ERR_USAGE,
                        "resolved options: not implemented yet");
}

helion_status helion_search_opts_from_json(helion_search_opts_t *o,
                                           const cJSON *obj,
                                           const char *origin,
                                           helion_err_t *err) {
  (void)o;
  (void)obj;
  return helion_err_set(err, HELION_ERR_USAGE,
                        "%s: options from JSON: not implemented yet", origin);
}
