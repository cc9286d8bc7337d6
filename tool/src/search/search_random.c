/*
 * search_random.c: RandomSearch and FiniteSearch (reference §2.8): one
 * batch of configurations, the fastest wins. No rebenchmark and no final
 * verification, as in Helion.
 */
#include <stdio.h>
#include <stdlib.h>

#include "search/search.h"

const helion_opt_decl_t helion__search_random_opts[HELION_RANDOM_NOPTS] = {
    HELION_OPT_INT_DECL("count", 1000, 100, 1, HELION_OPT_BIG, NULL,
                        "random configs measured (the default first)"),
};

/* Logs the statistics of the measured ids and records the fastest. */
static helion_status pick_best(helion_search_t *s, const char *what,
                               const helion_member_id *ids, size_t n,
                               helion_err_t *err) {
  char head[128];
  snprintf(head, sizeof(head), "%s of %zu configs:", what, n);
  helion_status rc = helion_search_log_stats(s, head, ids, n, true, err);
  if (rc)
    return rc;
  helion_search_set_result(s, helion_search_argmin(s, ids, n));
  return HELION_OK;
}

helion_status helion__search_random_run(helion_search_t *s, helion_err_t *err) {
  size_t count = (size_t)helion_search_opt_int(s, 0);
  HELION_LOG(HELION_LOG_INFO, "Starting RandomSearch with count=%zu", count);
  helion_member_id *ids = malloc(count * sizeof(*ids));
  if (!ids)
    return helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
  size_t n = 0;
  /* The default first, then the user's configs, then distinct random
   * draws (Helion's random_population). */
  helion_status rc =
      helion_search_initial_population(s, HELION_INITIAL_FROM_RANDOM, count,
                                       true, "Random search", ids, &n, err);
  if (rc == HELION_OK)
    rc = pick_best(s, "Random search", ids, n, err);
  free(ids);
  return rc;
}

helion_status helion__search_finite_run(helion_search_t *s, helion_err_t *err) {
  const helion_search_opts_t *o = helion_search_opts(s);
  if (o->nconfigs < 2)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "FiniteSearch needs at least 2 configurations (got "
                          "%zu); with one, use it directly",
                          o->nconfigs);
  HELION_LOG(HELION_LOG_INFO, "Starting FiniteSearch with %zu configs",
             o->nconfigs);
  helion_member_id *ids = malloc(o->nconfigs * sizeof(*ids));
  if (!ids)
    return helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
  helion_status rc = helion_search_bench(s, o->configs, o->nconfigs,
                                         "Finite search", ids, err);
  if (rc == HELION_OK)
    rc = pick_best(s, "Finite search", ids, o->nconfigs, err);
  free(ids);
  return rc;
}
