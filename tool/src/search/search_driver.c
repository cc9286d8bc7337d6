/*
 * search_driver.c: the machinery every search algorithm shares (search.h):
 * options and effort profiles, the member store and its config map, batch
 * benchmarking, rebenchmarks, final verification, finishing rounds, budget
 * and evaluation cap, statistics log lines, metrics, the trace, and the
 * registry of algorithms. The facts are Helion's, reference/helion-
 * autotuner.md §2.1-2.2 and §6.
 */
#include "search/search.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"

/* ------------------------------------------------------------ registry -- */

/* Name order; a new algorithm adds one line. */
static const helion_search_algo_t algos[] = {
    {"DESurrogateHybrid", helion__search_de_surrogate_run,
     "differential evolution that benchmarks the trials a forest predicts "
     "fastest"},
    {"DifferentialEvolutionSearch", helion__search_de_run,
     "differential evolution over a population (batch mode)"},
    {"FiniteSearch", helion__search_finite_run,
     "benchmark the given configurations, keep the fastest"},
    {"LFBOPatternSearch", helion__search_lfbo_pattern_run,
     "pattern search whose neighbours a forest classifier screens"},
    {"LFBOTreeSearch", helion__search_lfbo_tree_run,
     "LFBO with neighbours from walks along the forest's decision paths"},
    {"PatternSearch", helion__search_pattern_run,
     "hill climbing from the best random configs through their neighbours"},
    {"RandomSearch", helion__search_random_run,
     "benchmark random configurations (the default first)"},
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

/* ------------------------------------------------------------- options -- */

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
  case HELION_INITIAL_PROFILE:
    return "PROFILE";
  case HELION_INITIAL_FROM_RANDOM:
    return "FROM_RANDOM";
  case HELION_INITIAL_FROM_BEST_AVAILABLE:
    return "FROM_BEST_AVAILABLE";
  }
  return "?";
}

helion_status helion_initial_population_parse(const char *text,
                                              const char *what,
                                              helion_initial_population *out,
                                              helion_err_t *err) {
  if (strcasecmp(text, "from_random") == 0) {
    *out = HELION_INITIAL_FROM_RANDOM;
    return HELION_OK;
  }
  if (strcasecmp(text, "from_best_available") == 0) {
    *out = HELION_INITIAL_FROM_BEST_AVAILABLE;
    return HELION_OK;
  }
  return helion_err_set(err, HELION_ERR_USAGE,
                        "%s: '%s' is not an initial population strategy; use "
                        "from_random or from_best_available",
                        what, text);
}

void helion_search_opts_init(helion_search_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->effort = HELION_EFFORT_FULL;
  o->initial_population_strategy = HELION_INITIAL_PROFILE;
  o->pad_random = -1;
  o->min_improvement_delta = -1.0;
  o->finishing_rounds = -1;
  o->final_top_k = -1;
}

/* Environment numbers: unset leaves *out alone; malformed is an error. */
static helion_status env_u64(const char *name, uint64_t *out, bool *found,
                             helion_err_t *err) {
  const char *v = getenv(name);
  *found = false;
  if (!v || !*v)
    return HELION_OK;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || *end || v[0] == '-')
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: '%s' is not a non-negative integer", name, v);
  *out = (uint64_t)x;
  *found = true;
  return HELION_OK;
}

static helion_status env_i64(const char *name, int64_t *out, bool *found,
                             helion_err_t *err) {
  const char *v = getenv(name);
  *found = false;
  if (!v || !*v)
    return HELION_OK;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || *end)
    return helion_err_set(err, HELION_ERR_USAGE, "%s: '%s' is not an integer",
                          name, v);
  *out = (int64_t)x;
  *found = true;
  return HELION_OK;
}

static helion_status env_double(const char *name, double *out, bool *found,
                                helion_err_t *err) {
  double x;
  bool ok;
  const char *v = helion_env_number(name, &x, &ok);
  *found = false;
  if (!v)
    return HELION_OK;
  if (!ok)
    return helion_err_set(err, HELION_ERR_USAGE, "%s: '%s' is not a number",
                          name, v);
  *out = x;
  *found = true;
  return HELION_OK;
}

helion_status helion_search_opts_from_env(helion_search_opts_t *o,
                                          helion_err_t *err) {
  helion_status rc = HELION_OK;
  bool found;
  uint64_t u;
  int64_t i;
  double d;
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
  v = getenv("HELION_AUTOTUNER_INITIAL_POPULATION");
  if (v && *v &&
      (rc = helion_initial_population_parse(
           v, "HELION_AUTOTUNER_INITIAL_POPULATION",
           &o->initial_population_strategy, err)))
    return rc;
  if ((rc = env_u64("HELION_AUTOTUNE_RANDOM_SEED", &u, &found, err)))
    return rc;
  if (found)
    o->seed = u;
  if ((rc = env_double("HELION_AUTOTUNE_BUDGET_SECONDS", &d, &found, err)))
    return rc;
  if (found) {
    if (d <= 0)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_BUDGET_SECONDS: %g is not a "
                            "positive number of seconds",
                            d);
    o->budget_seconds = d;
  }
  if ((rc = env_u64("HELION_AUTOTUNE_MAX_GENERATIONS", &u, &found, err)))
    return rc;
  if (found)
    o->max_generations = (size_t)u;
  if ((rc = env_u64("HELION_AUTOTUNE_FINISHING_ROUNDS", &u, &found, err)))
    return rc;
  if (found)
    o->finishing_rounds = u > 1000 ? 1000 : (int)u;
  if ((rc = env_double("HELION_REBENCHMARK_THRESHOLD", &d, &found, err)))
    return rc;
  if (found)
    o->rebenchmark_threshold = d;
  if ((rc = env_i64("HELION_CAP_AUTOTUNE_NUM_NEIGHBORS", &i, &found, err)))
    return rc;
  if (found)
    o->num_neighbors_cap = i > 0 ? (size_t)i : 0;
  if ((rc =
           env_i64("HELION_AUTOTUNE_FINAL_REBENCHMARK_TOP_K", &i, &found, err)))
    return rc;
  if (found)
    o->final_top_k = i < 0 ? 0 : (i > 1024 ? 1024 : (int)i);
  if ((rc = env_double("HELION_AUTOTUNE_FINAL_REBENCHMARK_TARGET_MS", &d,
                       &found, err)))
    return rc;
  if (found)
    o->final_target_ms = !isfinite(d) ? 5000.0 : fmin(fmax(d, 200.0), 60000.0);
  if ((rc = env_double("HELION_AUTOTUNE_FINAL_REBENCHMARK_PINNED_TOLERANCE", &d,
                       &found, err)))
    return rc;
  if (found)
    o->pinned_tolerance = d < 0 ? 0 : d;
  return HELION_OK;
}

/* ------------------------------------------------------------ the store -- */

typedef struct member {
  double perf;     /* latest timing (+inf for a failure) */
  double min_perf; /* lowest timing ever */
  double compile_s;
  size_t perf_last; /* index of the latest timing in the perf log */
  uint32_t nperfs;
  int generation;
  helion_result_kind kind;
  bool pinned;
  uint32_t mark; /* == search's stamp: already collected in this pass */
  uint64_t hash;
} member;

#define NO_SLOT ((size_t)-1)

struct helion_search {
  const helion_space_t *space;
  helion_backend_t *backend;
  helion_search_opts_t opts; /* resolved */
  const helion_search_algo_t *algo;
  size_t ncells;
  helion_rng_t rng;

  member *members;
  int64_t *cells; /* nmembers * ncells */
  size_t nmembers, members_cap;
  size_t *map; /* open addressing: member ids, NO_SLOT = empty */
  size_t map_cap;

  /* Every timing of every member: a linked list per member through prev. */
  double *perf_val;
  size_t *perf_prev;
  size_t nperf, perf_cap;

  double best_perf_so_far;
  helion_member_id *history; /* best final_top_k members by min_perf */
  size_t nhistory, history_k;
  helion_member_id *pinned;
  size_t npinned;

  int64_t *user_configs; /* normalized copies of opts.configs */

  uint32_t stamp; /* see member.mark */
  int generation;
  helion_search_stop stop;
  helion_search_metrics_t metrics;
  helion_member_id best;
  bool ran;

  /* Batch scratch, grown as needed, reused across batches. */
  int64_t *batch_cells; /* the batch, normalized */
  size_t batch_cap;     /* in configs */
  size_t *batch_new;    /* positions of configs to measure */
  size_t *batch_table;  /* in-batch dedup, 2 * batch_cap slots */
  int64_t *send_cells;  /* one chunk, contiguous */
  helion_bench_result_t *results;
  double *rb_ms;
  helion_member_id *rb_ids;
  size_t rb_cap;
  double *stat_scratch;
  size_t stat_cap;
  helion_buf_t json;
};

/* splitmix64-style mixing of the cells: fast, and good enough for a table
 * that also compares the cells themselves. */
static uint64_t cells_hash(const int64_t *c, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint64_t)c[i];
    h += 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
  }
  return h;
}

static const int64_t *mcells(const helion_search_t *s, size_t id) {
  return s->cells + id * s->ncells;
}

static bool cells_eq(const helion_search_t *s, const int64_t *a,
                     const int64_t *b) {
  return memcmp(a, b, s->ncells * sizeof(int64_t)) == 0;
}

static size_t map_find(const helion_search_t *s, const int64_t *cells,
                       uint64_t h) {
  if (!s->map_cap)
    return NO_SLOT;
  size_t mask = s->map_cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    size_t id = s->map[i];
    if (id == NO_SLOT)
      return NO_SLOT;
    if (s->members[id].hash == h && cells_eq(s, mcells(s, id), cells))
      return id;
  }
}

static void map_put(helion_search_t *s, size_t id) {
  size_t mask = s->map_cap - 1;
  size_t i = (size_t)s->members[id].hash & mask;
  while (s->map[i] != NO_SLOT)
    i = (i + 1) & mask;
  s->map[i] = id;
}

static helion_status grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return HELION_OK;
  size_t n = *cap ? *cap : 64;
  while (n < need)
    n *= 2;
  void *q = realloc(*p, n * elem);
  if (!q)
    return HELION_ERR_NOMEM;
  *p = q;
  *cap = n;
  return HELION_OK;
}

/* Appends a member (copying cells) and indexes it; *out_id on success. */
static helion_status member_add(helion_search_t *s, const int64_t *cells,
                                uint64_t h, size_t *out_id) {
  if (s->nmembers == s->members_cap) {
    size_t cap = s->members_cap ? s->members_cap * 2 : 256;
    member *m = realloc(s->members, cap * sizeof(*m));
    if (!m)
      return HELION_ERR_NOMEM;
    s->members = m;
    int64_t *c = realloc(s->cells, cap * s->ncells * sizeof(int64_t));
    if (!c)
      return HELION_ERR_NOMEM;
    s->cells = c;
    s->members_cap = cap;
  }
  if ((s->nmembers + 1) * 2 > s->map_cap) {
    size_t cap = s->map_cap ? s->map_cap * 2 : 512;
    size_t *map = malloc(cap * sizeof(size_t));
    if (!map)
      return HELION_ERR_NOMEM;
    for (size_t i = 0; i < cap; i++)
      map[i] = NO_SLOT;
    free(s->map);
    s->map = map;
    s->map_cap = cap;
    for (size_t id = 0; id < s->nmembers; id++)
      map_put(s, id);
  }
  size_t id = s->nmembers++;
  member *m = &s->members[id];
  memset(m, 0, sizeof(*m));
  m->hash = h;
  m->perf = INFINITY;
  m->min_perf = INFINITY;
  m->perf_last = NO_SLOT;
  m->generation = s->generation;
  memcpy(s->cells + id * s->ncells, cells, s->ncells * sizeof(int64_t));
  map_put(s, id);
  *out_id = id;
  return HELION_OK;
}

/* Keeps history[] = the best history_k distinct members by min_perf. */
static void history_update(helion_search_t *s, size_t id) {
  double v = s->members[id].min_perf;
  if (!isfinite(v) || s->history_k == 0)
    return;
  size_t n = s->nhistory;
  for (size_t i = 0; i < n; i++) {
    if (s->history[i] == id) {
      memmove(s->history + i, s->history + i + 1, (n - i - 1) * sizeof(size_t));
      n--;
      break;
    }
  }
  size_t pos = n;
  while (pos > 0 && s->members[s->history[pos - 1]].min_perf > v)
    pos--;
  if (pos >= s->history_k) {
    s->nhistory = n;
    return;
  }
  if (n == s->history_k)
    n--;
  memmove(s->history + pos + 1, s->history + pos, (n - pos) * sizeof(size_t));
  s->history[pos] = id;
  s->nhistory = n + 1;
}

static helion_status record_perf(helion_search_t *s, size_t id, double ms) {
  if (s->nperf == s->perf_cap) {
    size_t cap = s->perf_cap ? s->perf_cap * 2 : 512;
    double *v = realloc(s->perf_val, cap * sizeof(double));
    if (!v)
      return HELION_ERR_NOMEM;
    s->perf_val = v;
    size_t *p = realloc(s->perf_prev, cap * sizeof(size_t));
    if (!p)
      return HELION_ERR_NOMEM;
    s->perf_prev = p;
    s->perf_cap = cap;
  }
  member *m = &s->members[id];
  size_t k = s->nperf++;
  s->perf_val[k] = ms;
  s->perf_prev[k] = m->perf_last;
  m->perf_last = k;
  m->nperfs++;
  m->perf = ms;
  if (ms < m->min_perf) {
    m->min_perf = ms;
    history_update(s, id);
  }
  if (ms < s->best_perf_so_far)
    s->best_perf_so_far = ms;
  return HELION_OK;
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

  /* Effort profile (reference §2.1): shared settings; each algorithm picks
   * its own sizes from the same profile. */
  bool quick = o->effort == HELION_EFFORT_QUICK;
  if (o->initial_population_strategy == HELION_INITIAL_PROFILE)
    o->initial_population_strategy =
        quick ? HELION_INITIAL_FROM_BEST_AVAILABLE : HELION_INITIAL_FROM_RANDOM;
  if (o->pad_random < 0)
    o->pad_random = quick ? 0 : 1;
  if (o->rebenchmark_threshold <= 0)
    o->rebenchmark_threshold = quick ? 0.9 : 1.5;
  if (o->finishing_rounds < 0)
    o->finishing_rounds = 0;
  if (o->final_top_k < 0)
    o->final_top_k = 8;
  if (o->final_target_ms <= 0)
    o->final_target_ms = 5000.0;
  if (o->rebench_target_ms <= 0)
    o->rebench_target_ms = 200.0;
  if (o->pinned_tolerance < 0)
    o->pinned_tolerance = 0;

  s->history_k = o->final_top_k > 0 ? (size_t)o->final_top_k : 1;
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
helion_member_id helion_search_lookup(const helion_search_t *s,
                                      const int64_t *cells) {
  size_t id = map_find(s, cells, cells_hash(cells, s->ncells));
  return id == NO_SLOT ? HELION_NO_MEMBER : id;
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

/* ------------------------------------------------------------- stopping -- */

static bool budget_spent(helion_search_t *s) {
  if (s->opts.budget_seconds <= 0)
    return false;
  double t = helion_backend_elapsed(s->backend);
  if (t < s->opts.budget_seconds)
    return false;
  if (s->stop == HELION_STOP_NONE) {
    s->stop = HELION_STOP_BUDGET;
    HELION_LOG(HELION_LOG_INFO,
               "Autotune budget %gs exceeded (elapsed %.1fs); returning "
               "best-so-far.",
               s->opts.budget_seconds, t);
  }
  return true;
}

bool helion_search_stopped(helion_search_t *s) {
  if (s->stop != HELION_STOP_NONE)
    return true;
  if (budget_spent(s))
    return true;
  if (s->opts.max_evals && s->metrics.configs_tested >= s->opts.max_evals) {
    s->stop = HELION_STOP_MAX_EVALS;
    HELION_LOG(HELION_LOG_INFO,
               "Evaluation cap of %zu configs reached; returning best-so-far.",
               s->opts.max_evals);
    return true;
  }
  return false;
}

size_t helion_search_evals_left(const helion_search_t *s) {
  if (!s->opts.max_evals)
    return SIZE_MAX;
  return s->metrics.configs_tested >= s->opts.max_evals
             ? 0
             : s->opts.max_evals - s->metrics.configs_tested;
}

/* --------------------------------------------------------------- tracing -- */

static void trace_ms(helion_search_t *s, double ms) {
  if (isfinite(ms))
    fprintf(s->opts.trace, "%.9g", ms);
  else
    fputs("null", s->opts.trace);
}

static helion_status trace_config(helion_search_t *s, const int64_t *cells) {
  helion_buf_reset(&s->json);
  helion_status rc = helion_config_to_json(s->space, cells, false, &s->json);
  if (rc)
    return rc;
  fputs(helion_buf_str(&s->json), s->opts.trace);
  return HELION_OK;
}

static helion_status trace_eval(helion_search_t *s, size_t id, double t) {
  const member *m = &s->members[id];
  fprintf(s->opts.trace,
          "{\"evaluation\": %zu, \"config\": ", s->metrics.configs_tested);
  helion_status rc = trace_config(s, mcells(s, id));
  if (rc)
    return rc;
  fputs(", \"ms\": ", s->opts.trace);
  trace_ms(s, m->perf);
  fprintf(s->opts.trace,
          ", \"status\": \"%s\", \"elapsed\": %.6f, \"generation\": %d}\n",
          helion_result_kind_name(m->kind), t, s->generation);
  return HELION_OK;
}

static helion_status trace_rebench(helion_search_t *s, size_t id, double ms,
                                   double t) {
  fputs("{\"rebench\": true, \"config\": ", s->opts.trace);
  helion_status rc = trace_config(s, mcells(s, id));
  if (rc)
    return rc;
  fputs(", \"ms\": ", s->opts.trace);
  trace_ms(s, ms);
  fprintf(s->opts.trace, ", \"elapsed\": %.6f}\n", t);
  return HELION_OK;
}

/* ----------------------------------------------------------- benchmarks -- */

/* Configs for the next backend call of a batch with `left` to go when
 * opts.bench_chunk is 0: all of them without a budget; with one, as many as
 * the seconds per config measured so far fit in half the remaining budget
 * (at least 16; 16 before the first measurement). Early in a run whole
 * batches go at once, so the backend's compile pipeline never drains
 * between calls; near the end the calls shrink and the budget is overrun
 * by little. */
static size_t budget_chunk(helion_search_t *s, size_t left) {
  if (s->opts.budget_seconds <= 0)
    return left;
  double t = helion_backend_elapsed(s->backend);
  size_t done = s->metrics.configs_tested;
  if (done == 0 || !(t > 0))
    return 16;
  double k = (s->opts.budget_seconds - t) / (t / (double)done) / 2;
  return k < 16 ? 16 : k >= (double)left ? left : (size_t)k;
}

static helion_status ensure_batch(helion_search_t *s, size_t n) {
  if (n <= s->batch_cap)
    return HELION_OK;
  size_t cap = s->batch_cap ? s->batch_cap : 64;
  while (cap < n)
    cap *= 2;
  int64_t *c = realloc(s->batch_cells, cap * s->ncells * sizeof(int64_t));
  if (!c)
    return HELION_ERR_NOMEM;
  s->batch_cells = c;
  int64_t *sc = realloc(s->send_cells, cap * s->ncells * sizeof(int64_t));
  if (!sc)
    return HELION_ERR_NOMEM;
  s->send_cells = sc;
  size_t *bn = realloc(s->batch_new, cap * sizeof(size_t));
  if (!bn)
    return HELION_ERR_NOMEM;
  s->batch_new = bn;
  size_t *bt = realloc(s->batch_table, 2 * cap * sizeof(size_t));
  if (!bt)
    return HELION_ERR_NOMEM;
  s->batch_table = bt;
  helion_bench_result_t *r = realloc(s->results, cap * sizeof(*r));
  if (!r)
    return HELION_ERR_NOMEM;
  s->results = r;
  s->batch_cap = cap;
  return HELION_OK;
}

/* True when batch position `pos` repeats an earlier new config of the
 * batch; otherwise records it. The table has 2 * batch_cap slots, a power
 * of two. */
static bool batch_seen(helion_search_t *s, size_t pos, uint64_t h) {
  size_t mask = 2 * s->batch_cap - 1;
  const int64_t *c = s->batch_cells + pos * s->ncells;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    size_t p = s->batch_table[i];
    if (p == NO_SLOT) {
      s->batch_table[i] = pos;
      return false;
    }
    if (cells_eq(s, s->batch_cells + p * s->ncells, c))
      return true;
  }
}

helion_status helion_search_bench(helion_search_t *s, const int64_t *configs,
                                  size_t n, const char *desc,
                                  helion_member_id *out_ids,
                                  helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t nc = s->ncells;
  if (n == 0)
    return HELION_OK;
  if ((rc = ensure_batch(s, n)))
    return helion_err_set(err, rc, "search: out of memory");
  memcpy(s->batch_cells, configs, n * nc * sizeof(int64_t));
  for (size_t i = 0; i < 2 * s->batch_cap; i++)
    s->batch_table[i] = NO_SLOT;

  /* Normalize, drop invalid ones, find the configs never measured. */
  size_t nnew = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t *c = s->batch_cells + i * nc;
    helion_space_normalize(s->space, c);
    if (!helion_space_valid(s->space, c)) {
      s->metrics.invalid++;
      continue;
    }
    uint64_t h = cells_hash(c, nc);
    if (map_find(s, c, h) != NO_SLOT || batch_seen(s, i, h))
      continue;
    s->batch_new[nnew++] = i;
  }
  size_t left = helion_search_evals_left(s);
  bool capped = nnew > left;
  if (capped)
    nnew = left;

  helion_progress_t prog;
  bool show = nnew > 0 && desc;
  if (show)
    helion_progress_begin(&prog, desc, nnew);
  for (size_t at = 0, k = 0; at < nnew; at += k) {
    if (budget_spent(s))
      break;
    size_t chunk = s->opts.bench_chunk ? s->opts.bench_chunk
                                       : budget_chunk(s, nnew - at);
    k = nnew - at < chunk ? nnew - at : chunk;
    for (size_t j = 0; j < k; j++)
      memcpy(s->send_cells + j * nc, s->batch_cells + s->batch_new[at + j] * nc,
             nc * sizeof(int64_t));
    rc = helion_backend_bench(s->backend, s->send_cells, k, s->results, err);
    if (rc)
      goto out;
    double t = helion_backend_elapsed(s->backend);
    for (size_t j = 0; j < k; j++) {
      const int64_t *c = s->send_cells + j * nc;
      size_t id;
      if ((rc = member_add(s, c, cells_hash(c, nc), &id))) {
        helion_err_set(err, rc, "search: out of memory");
        goto out;
      }
      const helion_bench_result_t *r = &s->results[j];
      member *m = &s->members[id];
      /* A backend that reports OK without a usable time, or a kind this
       * build does not know, measured a failure. */
      helion_result_kind kind = (unsigned)r->kind < HELION_RESULT_KIND_COUNT
                                    ? r->kind
                                    : HELION_RESULT_RUNTIME;
      double ms = kind == HELION_RESULT_OK ? r->ms : INFINITY;
      if (kind == HELION_RESULT_OK && !(ms >= 0 && isfinite(ms))) {
        kind = HELION_RESULT_RUNTIME;
        ms = INFINITY;
      }
      m->kind = kind;
      m->compile_s = r->compile_s;
      if ((rc = record_perf(s, id, ms))) {
        helion_err_set(err, rc, "search: out of memory");
        goto out;
      }
      s->metrics.configs_tested++;
      s->metrics.by_kind[kind]++;
      if (s->opts.trace && (rc = trace_eval(s, id, t))) {
        helion_err_set(err, rc, "search: cannot write the trace");
        goto out;
      }
    }
    if (show)
      helion_progress_step(&prog, k);
  }
  if (capped)
    helion_search_stopped(s); /* records and logs the stop */
  if (out_ids) {
    for (size_t i = 0; i < n; i++) {
      const int64_t *c = s->batch_cells + i * nc;
      out_ids[i] = helion_search_lookup(s, c);
    }
  }
out:
  if (show)
    helion_progress_end(&prog);
  return rc;
}

bool helion_search_should_rebench(const helion_search_t *s,
                                  helion_member_id id) {
  if (id >= s->nmembers)
    return false;
  double p = s->members[id].perf;
  return isfinite(p) && p < s->opts.rebenchmark_threshold * s->best_perf_so_far;
}

static helion_status ensure_rb(helion_search_t *s, size_t n) {
  if (n <= s->rb_cap)
    return HELION_OK;
  size_t cap = s->rb_cap ? s->rb_cap : 64;
  while (cap < n)
    cap *= 2;
  double *ms = realloc(s->rb_ms, cap * sizeof(double));
  if (!ms)
    return HELION_ERR_NOMEM;
  s->rb_ms = ms;
  helion_member_id *ids = realloc(s->rb_ids, cap * sizeof(*ids));
  if (!ids)
    return HELION_ERR_NOMEM;
  s->rb_ids = ids;
  s->rb_cap = cap;
  return ensure_batch(s, n);
}

/* Re-times rb_ids[0..n) (already distinct). */
static helion_status rebench_ids(helion_search_t *s, size_t n, double target_ms,
                                 helion_err_t *err) {
  size_t nc = s->ncells;
  for (size_t j = 0; j < n; j++)
    memcpy(s->send_cells + j * nc, mcells(s, s->rb_ids[j]),
           nc * sizeof(int64_t));
  helion_status rc = helion_backend_rebench(s->backend, s->send_cells, n,
                                            target_ms, s->rb_ms, err);
  if (rc)
    return rc;
  double t = helion_backend_elapsed(s->backend);
  for (size_t j = 0; j < n; j++) {
    double ms = s->rb_ms[j];
    if (isnan(ms) || ms < 0)
      ms = INFINITY;
    if ((rc = record_perf(s, s->rb_ids[j], ms)))
      return helion_err_set(err, rc, "search: out of memory");
    s->metrics.rebenchmarks++;
    if (s->opts.trace && (rc = trace_rebench(s, s->rb_ids[j], ms, t)))
      return helion_err_set(err, rc, "search: cannot write the trace");
  }
  return HELION_OK;
}

/* Copies the distinct valid ids (keeping first occurrences) into rb_ids,
 * filtered by should_rebench when `filter`. Duplicates are found with a
 * per-pass stamp on the members, so a pass is linear in n. */
static helion_status collect_rb(helion_search_t *s, const helion_member_id *ids,
                                size_t n, bool filter, size_t *out_n) {
  helion_status rc = ensure_rb(s, n);
  if (rc)
    return rc;
  if (++s->stamp == 0) {
    for (size_t i = 0; i < s->nmembers; i++)
      s->members[i].mark = 0;
    s->stamp = 1;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    helion_member_id id = ids[i];
    if (id >= s->nmembers || s->members[id].mark == s->stamp ||
        (filter && !helion_search_should_rebench(s, id)))
      continue;
    s->members[id].mark = s->stamp;
    s->rb_ids[k++] = id;
  }
  *out_n = k;
  return HELION_OK;
}

helion_status helion_search_rebench_population(helion_search_t *s,
                                               const helion_member_id *ids,
                                               size_t n, helion_err_t *err) {
  size_t k;
  if (budget_spent(s))
    return HELION_OK;
  helion_status rc = collect_rb(s, ids, n, true, &k);
  if (rc)
    return helion_err_set(err, rc, "search: out of memory");
  if (k < 2)
    return HELION_OK;
  return rebench_ids(s, k, s->opts.rebench_target_ms, err);
}

helion_status helion_search_rebench(helion_search_t *s,
                                    const helion_member_id *ids, size_t n,
                                    double target_ms, helion_err_t *err) {
  size_t k;
  helion_status rc = collect_rb(s, ids, n, false, &k);
  if (rc)
    return helion_err_set(err, rc, "search: out of memory");
  if (k == 0)
    return HELION_OK;
  return rebench_ids(s, k, target_ms, err);
}

static int cmp_perf(double a, double b) {
  return (a > b) - (a < b);
}

helion_status helion_search_compare(helion_search_t *s, helion_member_id a,
                                    helion_member_id b, int *out_cmp,
                                    helion_err_t *err) {
  if (a != b && helion_search_should_rebench(s, a) &&
      helion_search_should_rebench(s, b) && !budget_spent(s)) {
    helion_member_id pair[2] = {a, b};
    helion_status rc =
        helion_search_rebench(s, pair, 2, s->opts.rebench_target_ms, err);
    if (rc)
      return rc;
  }
  *out_cmp = cmp_perf(helion_search_perf(s, a), helion_search_perf(s, b));
  return HELION_OK;
}

helion_member_id helion_search_argmin(const helion_search_t *s,
                                      const helion_member_id *ids, size_t n) {
  helion_member_id best = HELION_NO_MEMBER;
  double bp = INFINITY;
  for (size_t i = 0; i < n; i++) {
    double p = helion_search_perf(s, ids[i]);
    if (p < bp) {
      bp = p;
      best = ids[i];
    }
  }
  return best;
}

void helion_search_sort(const helion_search_t *s, helion_member_id *ids,
                        size_t n) {
  /* Insertion sort: stable, and populations are small. */
  for (size_t i = 1; i < n; i++) {
    helion_member_id x = ids[i];
    double p = helion_search_perf(s, x);
    size_t j = i;
    while (j > 0 && helion_search_perf(s, ids[j - 1]) > p) {
      ids[j] = ids[j - 1];
      j--;
    }
    ids[j] = x;
  }
}

/* ---------------------------------------------------- initial population -- */

/* Appends c to list (n configs so far) unless present; dedup by scanning a
 * small table keyed on the batch table. Returns true when added. */
static bool list_add(helion_search_t *s, int64_t *list, size_t *n,
                     const int64_t *c) {
  uint64_t h = cells_hash(c, s->ncells);
  size_t mask = 2 * s->batch_cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    size_t p = s->batch_table[i];
    if (p == NO_SLOT) {
      memcpy(list + *n * s->ncells, c, s->ncells * sizeof(int64_t));
      s->batch_table[i] = (*n)++;
      return true;
    }
    if (cells_eq(s, list + p * s->ncells, c))
      return false;
  }
}

/* Draws random valid configs that are neither members nor in list[0..n)
 * until list holds `want` or the attempts run out. */
static void add_random(helion_search_t *s, int64_t *list, size_t *n,
                       size_t want, int64_t *tmp) {
  size_t attempts = 20 * want + 100;
  while (*n < want && attempts-- > 0) {
    if (helion_space_random(s->space, &s->rng, 0, tmp))
      break; /* the space has (almost) no valid configuration left */
    if (helion_search_lookup(s, tmp) != HELION_NO_MEMBER)
      continue;
    list_add(s, list, n, tmp);
  }
}

size_t helion_search_random_configs(helion_search_t *s, size_t n,
                                    int64_t *out) {
  size_t got = 0;
  int64_t *tmp = malloc(s->ncells * sizeof(int64_t));
  if (!tmp || ensure_batch(s, n) != HELION_OK) {
    free(tmp);
    return 0;
  }
  for (size_t i = 0; i < 2 * s->batch_cap; i++)
    s->batch_table[i] = NO_SLOT;
  add_random(s, out, &got, n, tmp);
  free(tmp);
  return got;
}

static helion_status pin(helion_search_t *s, helion_member_id id) {
  if (id >= s->nmembers || s->members[id].pinned)
    return HELION_OK;
  helion_member_id *p = realloc(s->pinned, (s->npinned + 1) * sizeof(*p));
  if (!p)
    return HELION_ERR_NOMEM;
  s->pinned = p;
  s->pinned[s->npinned++] = id;
  s->members[id].pinned = true;
  return HELION_OK;
}

helion_status helion_search_initial_population(
    helion_search_t *s, helion_initial_population strategy, size_t n, bool pad,
    const char *desc, helion_member_id *out_ids, size_t *out_n,
    helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t nc = s->ncells, got = 0, npin = 0;
  int64_t *list = NULL, *tmp = NULL;
  if (n == 0) {
    *out_n = 0;
    return HELION_OK;
  }
  size_t room = n + s->opts.nconfigs + s->opts.nbest_available + 1;
  list = malloc(room * nc * sizeof(int64_t));
  tmp = malloc(nc * sizeof(int64_t));
  if (!list || !tmp || (rc = ensure_batch(s, room))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
    goto out;
  }
  for (size_t i = 0; i < 2 * s->batch_cap; i++)
    s->batch_table[i] = NO_SLOT;

  helion_space_default(s->space, tmp);
  helion_space_normalize(s->space, tmp);
  bool default_ok = helion_space_valid(s->space, tmp);
  if (!default_ok)
    HELION_LOG(HELION_LOG_WARN,
               "the default configuration is not valid in this space; the "
               "initial population starts without it");
  if (strategy == HELION_INITIAL_FROM_BEST_AVAILABLE) {
    /* Seeds, then the default: all of them are pinned finalists. */
    for (size_t i = 0; i < s->opts.nconfigs; i++)
      list_add(s, list, &got, s->opts.configs + i * nc);
    if (default_ok)
      list_add(s, list, &got, tmp);
    npin = got;
    for (size_t i = 0; i < s->opts.nbest_available; i++) {
      int64_t *c = tmp;
      memcpy(c, s->opts.best_available + i * nc, nc * sizeof(int64_t));
      helion_space_normalize(s->space, c);
      if (helion_space_valid(s->space, c))
        list_add(s, list, &got, c);
      else
        HELION_LOG(HELION_LOG_INFO, "Failed to transfer cached config %zu", i);
    }
    if (pad)
      add_random(s, list, &got, n, tmp);
  } else {
    if (default_ok)
      list_add(s, list, &got, tmp);
    for (size_t i = 0; i < s->opts.nconfigs; i++)
      list_add(s, list, &got, s->opts.configs + i * nc);
    add_random(s, list, &got, n, tmp);
  }
  if (got > n)
    got = n;
  if (npin > got)
    npin = got;
  if ((rc = helion_search_bench(s, list, got, desc, out_ids, err)))
    goto out;
  for (size_t i = 0; i < npin; i++)
    if ((rc = pin(s, out_ids[i]))) {
      helion_err_set(err, rc, "search: out of memory");
      goto out;
    }
  *out_n = got;
out:
  free(list);
  free(tmp);
  return rc;
}

/* ------------------------------------------------------------ statistics -- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

helion_status helion_search_no_config(helion_search_t *s, const char *what,
                                      helion_err_t *err) {
  const size_t *k = s->metrics.by_kind;
  return helion_err_set(
      err, HELION_ERR_NO_CONFIG,
      "%s: no configuration worked (%zu measured: %zu failed to compile, %zu "
      "failed at run time, %zu gave wrong results, %zu timed out; %zu "
      "invalid configs skipped); check that the default configuration "
      "compiles and runs (helion-tune check) and that the space allows "
      "working configurations",
      what, s->metrics.configs_tested, k[HELION_RESULT_COMPILE],
      k[HELION_RESULT_RUNTIME], k[HELION_RESULT_ACCURACY],
      k[HELION_RESULT_TIMEOUT], s->metrics.invalid);
}

helion_status helion_search_log_stats(helion_search_t *s, const char *headline,
                                      const helion_member_id *ids, size_t n,
                                      bool require_finite, helion_err_t *err) {
  size_t ok = 0, timeout = 0, error = 0;
  helion_status rc =
      grow((void **)&s->stat_scratch, &s->stat_cap, n + 1, sizeof(double));
  if (rc)
    return helion_err_set(err, rc, "search: out of memory");
  for (size_t i = 0; i < n; i++) {
    double p = helion_search_perf(s, ids[i]);
    if (isfinite(p))
      s->stat_scratch[ok++] = p;
    else if (ids[i] < s->nmembers &&
             s->members[ids[i]].kind == HELION_RESULT_TIMEOUT)
      timeout++;
    else
      error++;
  }
  if (ok == 0 && require_finite) {
    /* The headline ends with ':' before its statistics; not in a message. */
    char what[160];
    snprintf(what, sizeof(what), "%s", headline);
    size_t len = strlen(what);
    if (len && what[len - 1] == ':')
      what[len - 1] = '\0';
    return helion_search_no_config(s, what, err);
  }
  if (helion_log_level_current < HELION_LOG_INFO)
    return HELION_OK;
  qsort(s->stat_scratch, ok, sizeof(double), cmp_double);
  char counts[128];
  int w = 0;
  counts[0] = '\0';
  if (error)
    w += snprintf(counts + w, sizeof(counts) - (size_t)w, "error=%zu ", error);
  if (timeout)
    w += snprintf(counts + w, sizeof(counts) - (size_t)w, "timeout=%zu ",
                  timeout);
  snprintf(counts + w, sizeof(counts) - (size_t)w, "ok=%zu", ok);
  helion_member_id best = helion_search_argmin(s, ids, n);
  helion_buf_reset(&s->json);
  if (best != HELION_NO_MEMBER &&
      (rc = helion_config_to_json(s->space, mcells(s, best), false, &s->json)))
    return helion_err_set(err, rc, "search: cannot format a configuration");
  if (ok)
    HELION_LOG(HELION_LOG_INFO, "%s\n%s | min=%.4f mid=%.4f max=%.4f\nbest: %s",
               headline, counts, s->stat_scratch[0], s->stat_scratch[ok / 2],
               s->stat_scratch[ok - 1], helion_buf_str(&s->json));
  else
    HELION_LOG(HELION_LOG_INFO, "%s\n%s", headline, counts);
  return HELION_OK;
}

/* -------------------------------------------------------------- finalize -- */

/* Final verification (reference §2.2): pinned + history, one rebench call. */
static helion_status final_verification(helion_search_t *s,
                                        helion_member_id best,
                                        helion_member_id *out_winner,
                                        helion_err_t *err) {
  *out_winner = best;
  if (s->opts.final_top_k <= 1 || budget_spent(s))
    return HELION_OK;
  size_t n = s->npinned + s->nhistory + 1;
  helion_member_id *f = malloc(n * sizeof(*f));
  if (!f)
    return helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
  size_t k = 0;
  for (size_t i = 0; i < s->npinned; i++)
    if (isfinite(s->members[s->pinned[i]].min_perf))
      f[k++] = s->pinned[i];
  for (size_t i = 0; i < s->nhistory; i++) {
    bool dup = false;
    for (size_t j = 0; j < k && !dup; j++)
      dup = f[j] == s->history[i];
    if (!dup)
      f[k++] = s->history[i];
  }
  helion_status rc = HELION_OK;
  if (k < 2)
    goto out;
  double before = helion_search_perf(s, best);
  if ((rc = helion_search_rebench(s, f, k, s->opts.final_target_ms, err)))
    goto out;
  helion_member_id winner = helion_search_argmin(s, f, k);
  if (winner == HELION_NO_MEMBER)
    winner = best;
  /* A pinned config (a user seed or the default) wins within tolerance. */
  helion_member_id pinned_best = helion_search_argmin(s, s->pinned, s->npinned);
  if (pinned_best != HELION_NO_MEMBER && winner != pinned_best &&
      helion_search_perf(s, pinned_best) <=
          helion_search_perf(s, winner) * (1.0 + s->opts.pinned_tolerance))
    winner = pinned_best;
  if (winner != best)
    HELION_LOG(HELION_LOG_INFO,
               "Final verification selected a different config: %.4fms -> "
               "%.4fms",
               before, helion_search_perf(s, winner));
  *out_winner = winner;
out:
  free(f);
  return rc;
}

/* Helion's run_finishing_phase: reset slots to their defaults while that
 * is no slower (reference §2.2). */
static helion_status finishing_rounds(helion_search_t *s, helion_member_id best,
                                      helion_member_id *out_best,
                                      helion_err_t *err) {
  helion_status rc = HELION_OK;
  const helion_space_t *sp = s->space;
  size_t nc = s->ncells, np = sp->nparams;
  helion_member_id cur = best;
  int64_t *cands = malloc((np + 2) * nc * sizeof(int64_t));
  helion_member_id *ids = malloc((np + 2) * sizeof(*ids));
  size_t *slot_of = malloc((np + 1) * sizeof(size_t));
  if (!cands || !ids || !slot_of) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "search: out of memory");
    goto out;
  }
  int base_gen = s->generation;
  for (int round = 1; round <= s->opts.finishing_rounds; round++) {
    if (helion_search_stopped(s) || cur == HELION_NO_MEMBER)
      break;
    helion_search_set_generation(s, base_gen + round);
    const int64_t *cc = mcells(s, cur);
    size_t k = 0;
    for (size_t i = 0; i < np; i++) {
      size_t off = sp->cell_off[i], w = sp->width[i];
      if (memcmp(cc + off, sp->default_cells + off, w * sizeof(int64_t)) == 0)
        continue;
      int64_t *c = cands + k * nc;
      memcpy(c, cc, nc * sizeof(int64_t));
      memcpy(c + off, sp->default_cells + off, w * sizeof(int64_t));
      helion_space_normalize(sp, c);
      if (!helion_space_valid(sp, c) || cells_eq(s, c, cc))
        continue;
      slot_of[k++] = i;
    }
    if (k == 0)
      break;
    char desc[64];
    snprintf(desc, sizeof(desc), "Finishing round %d", round);
    if ((rc = helion_search_bench(s, cands, k, desc, ids + 1, err)))
      goto out;
    ids[0] = cur;
    if ((rc = helion_search_rebench(s, ids, k + 1, s->opts.rebench_target_ms,
                                    err)))
      goto out;
    double cp = helion_search_perf(s, cur);
    size_t ngood = 0, first_good = 0;
    int64_t *combined = cands + (np + 1) * nc;
    memcpy(combined, cc, nc * sizeof(int64_t));
    for (size_t j = 0; j < k; j++) {
      double p = helion_search_perf(s, ids[j + 1]);
      if (!isfinite(p) || p > cp)
        continue;
      if (ngood++ == 0)
        first_good = j;
      size_t off = sp->cell_off[slot_of[j]];
      memcpy(combined + off, sp->default_cells + off,
             sp->width[slot_of[j]] * sizeof(int64_t));
    }
    if (ngood == 0) {
      HELION_LOG(HELION_LOG_INFO,
                 "Finishing round %d: no slot can return to its default",
                 round);
      break;
    }
    helion_member_id next = ids[first_good + 1];
    if (ngood >= 2) {
      helion_member_id comb;
      if ((rc = helion_search_bench(s, combined, 1, NULL, &comb, err)))
        goto out;
      if (comb != HELION_NO_MEMBER && comb != cur) {
        helion_member_id pair[2] = {cur, comb};
        if ((rc = helion_search_rebench(s, pair, 2, s->opts.rebench_target_ms,
                                        err)))
          goto out;
        if (helion_search_perf(s, comb) <= helion_search_perf(s, cur))
          next = comb;
      }
    }
    HELION_LOG(HELION_LOG_INFO,
               "Finishing round %d: %zu of %zu slots returned to default "
               "(%.4fms)",
               round, next == ids[first_good + 1] ? (size_t)1 : ngood, k,
               helion_search_perf(s, next));
    cur = next;
  }
  *out_best = cur;
out:
  free(cands);
  free(ids);
  free(slot_of);
  return rc;
}

void helion_search_set_result(helion_search_t *s, helion_member_id best) {
  s->best = best;
}

helion_status helion_search_finalize(helion_search_t *s, helion_member_id best,
                                     helion_err_t *err) {
  helion_member_id winner;
  helion_status rc = final_verification(s, best, &winner, err);
  if (rc)
    return rc;
  if (s->opts.finishing_rounds > 0 &&
      (rc = finishing_rounds(s, winner, &winner, err)))
    return rc;
  s->best = winner;
  return HELION_OK;
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
    HELION_LOG(HELION_LOG_INFO,
               "Autotuning complete in %.1fs after searching %zu configs.",
               s->metrics.elapsed_s, s->metrics.configs_tested);
    log_failures(s);
  }
  helion_log_set_clock(NULL, NULL);
  return rc;
}
