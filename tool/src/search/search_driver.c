/*
 * search_driver.c: the machinery every search algorithm shares (search.h):
 * the registry of algorithms, creating a search (its options resolved),
 * its accessors and running it; the store and benchmarking are in
 * search_store.c, the shared phases in search_phases.c, the options in
 * search_opts.c. The facts are Helion's, reference/helion-
 * autotuner.md §2.1-2.2 and §6.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"
#include "search/search_impl.h"

/* ------------------------------------------------------------ registry -- */

/* Name order; a new algorithm adds one row: its run function, summary,
 * option table (next to its code) and rules. */
static const helion_search_algo_t algos[] = {
    {"DESurrogateHybrid", helion__search_de_surrogate_run,
     "differential evolution that benchmarks the trials a forest predicts "
     "fastest",
     helion__search_de_surrogate_opts, HELION_DES_NOPTS, NULL},
    {"DifferentialEvolutionSearch", helion__search_de_run,
     "differential evolution over a population (batch mode)",
     helion__search_de_opts, HELION_DE_NOPTS, helion__search_de_resolve},
    {"FiniteSearch", helion__search_finite_run,
     "benchmark the given configurations, keep the fastest", NULL, 0, NULL},
    {"LFBOPatternSearch", helion__search_lfbo_pattern_run,
     "pattern search whose neighbours a forest classifier screens",
     helion__search_lfbo_pattern_opts, HELION_LFBO_NOPTS,
     helion__search_lfbo_resolve},
    {"LFBOTreeSearch", helion__search_lfbo_tree_run,
     "LFBO with neighbours from walks along the forest's decision paths",
     helion__search_lfbo_tree_opts, HELION_LFBO_NOPTS,
     helion__search_lfbo_resolve},
    {"LLMGuidedSearch", helion__search_llm_run,
     "rounds of configs an LLM proposes from the kernel and the results so "
     "far",
     helion__search_llm_opts, HELION_LLM_NOPTS, NULL},
    {"LLMSeededLFBOTreeSearch", helion__search_llm_lfbo_run,
     "an LLM stage whose best seeds (and whose results train) LFBOTreeSearch",
     helion__search_llm_lfbo_opts, HELION_LLM_LFBO_NOPTS,
     helion__search_lfbo_resolve},
    {"LLMSeededSearch", helion__search_llm_seeded_run,
     "an LLM stage whose best seeds a second-stage search",
     helion__search_llm_seeded_opts, HELION_LLM_HYBRID_NOPTS, NULL},
    {"PatternSearch", helion__search_pattern_run,
     "hill climbing from the best random configs through their neighbours",
     helion__search_pattern_opts, HELION_PATTERN_NOPTS, NULL},
    {"RandomSearch", helion__search_random_run,
     "benchmark random configurations (the default first)",
     helion__search_random_opts, HELION_RANDOM_NOPTS, NULL},
};

#define NALGOS (sizeof(algos) / sizeof(algos[0]))

size_t helion_search_algo_count(void) {
  return NALGOS;
}

const helion_search_algo_t *helion_search_algo_at(size_t i) {
  return i < NALGOS ? &algos[i] : NULL;
}

const helion_search_algo_t *helion_search_algo_find(const char *name,
                                                    helion_err_t *err) {
  for (size_t i = 0; i < NALGOS; i++)
    if (strcmp(algos[i].name, name) == 0)
      return &algos[i];
  if (err) {
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < NALGOS; i++) {
      int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                       algos[i].name);
      if (w < 0 || (size_t)w >= sizeof(list) - used)
        break;
      used += (size_t)w;
    }
    helion_err_set(err, HELION_ERR_USAGE,
                   "unknown search algorithm '%s'; valid algorithms: %s", name,
                   list);
  }
  return NULL;
}

/* ------------------------------------------------------------ lifecycle -- */

static double log_clock(void *ud) {
  helion_search_t *s = ud;
  return helion_backend_elapsed(s->backend);
}

helion_status helion_search_create(const helion_space_t *space,
                                   helion_backend_t *backend,
                                   const helion_search_opts_t *opts,
                                   helion_search_t **out, helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_search_t *s = calloc(1, sizeof(*s));
  if (!s)
    return helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
  s->space = space;
  s->backend = backend;
  s->opts = *opts;
  s->ncells = space->ncells;
  s->best = HELION_NO_MEMBER;
  s->best_perf_so_far = INFINITY;
  helion_buf_init(&s->json, 1 << 20);
  helion_search_opts_t *o = &s->opts;

  if (!o->algorithm)
    o->algorithm = HELION_SEARCH_DEFAULT_ALGORITHM;
  s->algo = helion_search_algo_find(o->algorithm, err);
  if (!s->algo) {
    rc = HELION_ERR_USAGE;
    goto out;
  }
  o->algorithm = s->algo->name;
  /* The seed is recorded as a JSON number with the resolved options; above
   * 2^53 it would come back as a different seed, so it is refused. */
  if (o->seed > ((uint64_t)1 << 53)) {
    rc = helion_err_set(err, HELION_ERR_USAGE,
                        "seed %llu is above 2^53, the largest a recorded "
                        "search can replay exactly; use a smaller seed",
                        (unsigned long long)o->seed);
    goto out;
  }

  /* Effort profile (reference §2.1), the given values, the algorithm's
   * rules. */
  if ((rc = helion__search_resolve(s, err)))
    goto out;
  int64_t top_k = s->dval[HELION_DRV_FINAL_TOP_K].i;

  s->history_k = top_k > 0 ? (size_t)top_k : 1;
  s->history = calloc(s->history_k, sizeof(size_t));
  if (!s->history) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
    goto out;
  }

  /* User configs must be valid configurations of the space. */
  if (o->nconfigs) {
    s->user_configs = malloc(o->nconfigs * s->ncells * sizeof(int64_t));
    if (!s->user_configs) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
      goto out;
    }
    memcpy(s->user_configs, o->configs,
           o->nconfigs * s->ncells * sizeof(int64_t));
    for (size_t i = 0; i < o->nconfigs; i++) {
      int64_t *c = s->user_configs + i * s->ncells;
      helion_space_normalize(space, c);
      if (!helion_space_valid(space, c)) {
        rc = helion_err_set(err, HELION_ERR_INVALID,
                            "configs[%zu]: the configuration violates the "
                            "space's restrictions; fix or remove it",
                            i);
        goto out;
      }
    }
    o->configs = s->user_configs;
  }

  helion_rng_seed(&s->rng, o->seed);
  s->metrics.algorithm = s->algo->name;
  s->metrics.seed = o->seed;
  *out = s;
  s = NULL;
out:
  helion_search_destroy(s);
  return rc;
}

void helion_search_destroy(helion_search_t *s) {
  if (!s)
    return;
  free(s->members);
  free(s->cells);
  free(s->map);
  free(s->perf_val);
  free(s->perf_prev);
  free(s->history);
  free(s->pinned);
  free(s->user_configs);
  free(s->batch_cells);
  free(s->batch_new);
  free(s->batch_table);
  free(s->send_cells);
  free(s->results);
  free(s->flight_cells);
  free(s->flight_tag);
  free(s->flight_used);
  free(s->send_tags);
  free(s->rb_ms);
  free(s->rb_ids);
  free(s->stat_scratch);
  helion_buf_cleanup(&s->json);
  free(s);
}

/* ------------------------------------------------------------ accessors -- */

const helion_space_t *helion_search_space(const helion_search_t *s) {
  return s->space;
}
helion_rng_t *helion_search_rng(helion_search_t *s) {
  return &s->rng;
}
const helion_search_opts_t *helion_search_opts(const helion_search_t *s) {
  return &s->opts;
}
const int64_t *helion_search_cells(const helion_search_t *s,
                                   helion_member_id id) {
  return id < s->nmembers ? mcells(s, id) : NULL;
}
double helion_search_perf(const helion_search_t *s, helion_member_id id) {
  return id < s->nmembers ? s->members[id].perf : INFINITY;
}
double helion_search_min_perf(const helion_search_t *s, helion_member_id id) {
  return id < s->nmembers ? s->members[id].min_perf : INFINITY;
}
helion_result_kind helion_search_kind(const helion_search_t *s,
                                      helion_member_id id) {
  return id < s->nmembers ? s->members[id].kind : HELION_RESULT_COMPILE;
}
int helion_search_member_generation(const helion_search_t *s,
                                    helion_member_id id) {
  return id < s->nmembers ? s->members[id].generation : -1;
}
size_t helion_search_perfs(const helion_search_t *s, helion_member_id id,
                           double *out, size_t max) {
  if (id >= s->nmembers)
    return 0;
  const member *m = &s->members[id];
  size_t n = m->nperfs, k = m->perf_last;
  for (size_t i = n; i-- > 0 && k != NO_SLOT; k = s->perf_prev[k])
    if (out && i < max)
      out[i] = s->perf_val[k];
  return n;
}
size_t helion_search_member_count(const helion_search_t *s) {
  return s->nmembers;
}
double helion_search_best_perf_so_far(const helion_search_t *s) {
  return s->best_perf_so_far;
}
void helion_search_set_generation(helion_search_t *s, int generation) {
  s->generation = generation;
  if (generation > s->metrics.generations)
    s->metrics.generations = generation;
}
int helion_search_generation(const helion_search_t *s) {
  return s->generation;
}
const int64_t *helion_search_best(const helion_search_t *s) {
  return s->best < s->nmembers ? mcells(s, s->best) : NULL;
}
double helion_search_best_ms(const helion_search_t *s) {
  return helion_search_perf(s, s->best);
}
helion_member_id helion_search_best_id(const helion_search_t *s) {
  return s->best;
}
const helion_search_metrics_t *helion_search_metrics(const helion_search_t *s) {
  return &s->metrics;
}

/* ---------------------------------------------------- a hybrid's stage -- */

double helion_search_elapsed(const helion_search_t *s) {
  return helion_backend_elapsed(s->backend);
}

const helion_member_id *helion_search_seed_training(const helion_search_t *s,
                                                    size_t *n) {
  *n = s->nseed_train;
  return s->seed_train;
}

helion_status helion__search_run_stage(helion_search_t *s,
                                       const helion_search_algo_t *a,
                                       const helion_opt_value_t *v,
                                       helion_member_id seed,
                                       const helion_member_id *train,
                                       size_t ntrain, helion_err_t *err) {
  const helion_search_algo_t *algo = s->algo;
  helion_opt_value_t aval[HELION_SEARCH_MAX_ALGO_OPTS];
  memcpy(aval, s->aval, sizeof(aval));
  const int64_t *configs = s->opts.configs;
  size_t nconfigs = s->opts.nconfigs;
  int64_t *with_seed = NULL;
  if (seed < s->nmembers) {
    with_seed = malloc((nconfigs + 1) * s->ncells * sizeof(int64_t));
    if (!with_seed)
      return helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
    if (nconfigs)
      memcpy(with_seed, configs, nconfigs * s->ncells * sizeof(int64_t));
    memcpy(with_seed + nconfigs * s->ncells, mcells(s, seed),
           s->ncells * sizeof(int64_t));
    s->opts.configs = with_seed;
    s->opts.nconfigs = nconfigs + 1;
  }
  s->algo = a;
  memcpy(s->aval, v, a->nopts * sizeof(*v));
  s->seed_train = train;
  s->nseed_train = ntrain;
  helion_status rc = a->run(s, err);
  s->seed_train = NULL;
  s->nseed_train = 0;
  s->algo = algo;
  memcpy(s->aval, aval, sizeof(aval));
  s->opts.configs = configs;
  s->opts.nconfigs = nconfigs;
  free(with_seed);
  return rc;
}

/* ------------------------------------------------------------------- run -- */

static helion_status run_default_only(helion_search_t *s, helion_err_t *err) {
  int64_t *c = malloc(s->ncells * sizeof(int64_t));
  if (!c)
    return helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
  helion_space_default(s->space, c);
  helion_member_id id = HELION_NO_MEMBER;
  HELION_LOG(HELION_LOG_INFO, "Effort none: using the default config");
  helion_status rc = helion_search_bench(s, c, 1, NULL, &id, err);
  free(c);
  if (rc)
    return rc;
  if (id == HELION_NO_MEMBER)
    return helion_err_set(err, HELION_ERR_NO_CONFIG,
                          "effort none: the default configuration is not "
                          "valid in this space; set \"defaults\" to a valid "
                          "configuration");
  if (!isfinite(helion_search_perf(s, id)))
    HELION_LOG(HELION_LOG_WARN, "the default config failed (%s)",
               helion_result_kind_name(helion_search_kind(s, id)));
  s->best = id;
  return HELION_OK;
}

static void log_failures(helion_search_t *s) {
  static const struct {
    helion_result_kind kind;
    const char *why;
  } why[] = {{HELION_RESULT_COMPILE, "compile failures"},
             {HELION_RESULT_RUNTIME, "runtime failures"},
             {HELION_RESULT_ACCURACY, "accuracy checks"},
             {HELION_RESULT_TIMEOUT, "timeouts"}};
  for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
    size_t k = s->metrics.by_kind[why[i].kind];
    if (k)
      HELION_LOG(HELION_LOG_INFO, "%zu of %zu configs failed due to %s", k,
                 s->metrics.configs_tested, why[i].why);
  }
}

helion_status helion_search_run(helion_search_t *s, helion_err_t *err) {
  if (s->ran)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "search: helion_search_run called twice");
  s->ran = true;
  helion_log_set_clock(log_clock, s);
  HELION_LOG(HELION_LOG_INFO, "Autotune random seed: %llu",
             (unsigned long long)s->opts.seed);
  helion_status rc;
  if (s->opts.effort == HELION_EFFORT_NONE)
    rc = run_default_only(s, err);
  else
    rc = s->algo->run(s, err);
  s->metrics.elapsed_s = helion_backend_elapsed(s->backend);
  s->metrics.stop = s->stop;
  s->metrics.best_perf_ms =
      isfinite(s->best_perf_so_far) ? s->best_perf_so_far : 0.0;
  if (rc == HELION_OK) {
    if (s->stop == HELION_STOP_INTERRUPT)
      HELION_LOG(HELION_LOG_WARN,
                 "Autotuning interrupted after %.1fs and %zu configs; the best "
                 "so far is not the search's answer.",
                 s->metrics.elapsed_s, s->metrics.configs_tested);
    else
      HELION_LOG(HELION_LOG_INFO,
                 "Autotuning complete in %.1fs after searching %zu configs.",
                 s->metrics.elapsed_s, s->metrics.configs_tested);
    log_failures(s);
  }
  helion_log_set_clock(NULL, NULL);
  return rc;
}
