/*
 * search.h: the search driver shared by every search algorithm, and the
 * registry of algorithms.
 *
 * The driver owns everything an algorithm would otherwise re-invent: the
 * seeded random generator (all randomness of a run flows from opts.seed),
 * the store of benchmarked configurations ("members"), the map that makes
 * sure no configuration is benchmarked twice, batch benchmarking through the
 * backend (normalize and validity check first), rebenchmarking of near-best
 * members, the final verification of the finalists, finishing rounds, the
 * budget and the evaluation cap, log lines, the progress line, metrics and
 * the trace file. An algorithm is one function that drives these primitives
 * (reference/helion-autotuner.md §2.2); its per-copy generators and
 * populations are plain C state kept by that function.
 *
 * Typical use (the CLI):
 *
 *   helion_search_opts_t o;
 *   helion_search_opts_init(&o);
 *   rc = helion_search_opts_from_env(&o, err);   // then apply flags
 *   rc = helion_search_create(space, backend, &o, &s, err);
 *   rc = helion_search_run(s, err);
 *   best = helion_search_best(s); ms = helion_search_best_ms(s);
 *   helion_search_destroy(s);
 *
 * Members are named by a helion_member_id (an index into the store, stable
 * for the life of the search). HELION_NO_MEMBER stands for a configuration
 * that was never measured (invalid, or cut by the budget or the cap); its
 * perf reads as +inf.
 *
 * Not thread-safe: one search is driven from one thread. While a search runs
 * it points the `[Ns]` log clock at the backend's elapsed() (the simulated
 * clock in simulation) and restores wall time when it returns.
 */
#ifndef HELION_SEARCH_H
#define HELION_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"
#include "model/config.h"
#include "model/space.h"
#include "util/json.h"
#include "util/util.h"

/* The algorithm used when neither opts.algorithm nor HELION_AUTOTUNER names
 * one: Helion's default. */
#define HELION_SEARCH_DEFAULT_ALGORITHM "LFBOTreeSearch"

/* ------------------------------------------------------------ options -- */

typedef struct helion_search helion_search_t;

/* Effort profiles (reference §2.1). NONE: the default config only. */
typedef enum helion_effort {
  HELION_EFFORT_NONE = 0,
  HELION_EFFORT_QUICK = 1,
  HELION_EFFORT_FULL = 2,
} helion_effort;

/* "none", "quick", "full". */
const char *helion_effort_name(helion_effort e);
/* Parses "none"/"quick"/"full" (case-insensitive). The message names `what`
 * (a flag or an environment variable). */
helion_status helion_effort_parse(const char *text, const char *what,
                                  helion_effort *out, helion_err_t *err);

/* How population searches build their first population (reference §2.2). */
typedef enum helion_initial_population {
  HELION_INITIAL_PROFILE = -1, /* the effort profile decides */
  HELION_INITIAL_FROM_RANDOM = 0,
  HELION_INITIAL_FROM_BEST_AVAILABLE = 1,
} helion_initial_population;

/* "FROM_RANDOM", "FROM_BEST_AVAILABLE" ("PROFILE" for the sentinel). */
const char *helion_initial_population_name(helion_initial_population p);

typedef enum helion_search_stop {
  HELION_STOP_NONE = 0,
  HELION_STOP_BUDGET = 1,    /* budget_seconds of backend time spent */
  HELION_STOP_MAX_EVALS = 2, /* max_evals configurations measured */
} helion_search_stop;

/*
 * Everything a search can be told. Zero (or a negative number where noted)
 * means "the effort profile's value"; helion_search_opts_init() writes those
 * sentinels. Pointers are borrowed: they must outlive the search.
 */
typedef struct helion_search_opts {
  /* Registry name; NULL = HELION_SEARCH_DEFAULT_ALGORITHM. */
  const char *algorithm;
  helion_effort effort; /* default FULL */
  uint64_t seed;        /* seeds the driver's generator; default 0 */

  /* Stops. Both end the search cleanly with the best so far. */
  double budget_seconds; /* backend elapsed() seconds; <= 0 = no budget */
  size_t max_evals; /* distinct configs measured, never exceeded; 0 = none */
  /* Configs per backend call. The budget is checked before each call, so a
   * batch overruns the budget by at most one chunk. 0 = the whole batch in
   * one call without a budget; with one, calls sized by the measured time
   * per config to end in about half the remaining budget (at least 16), so
   * a GPU compile pipeline stays full. The simulator uses 1: the budget cut
   * is exact and every trace line carries its own elapsed time. */
  size_t bench_chunk;

  /* Population searches. */
  helion_initial_population initial_population_strategy;
  int immediate_update;         /* DE: benchmark trials one at a time and
                                   replace at once (Helion's mode when
                                   nothing precompiles); 0 = batch */
  int pad_random;               /* pad FROM_BEST_AVAILABLE with random configs:
                                   -1 = profile (full yes, quick no), 0, 1 */
  size_t initial_population;    /* PatternSearch: 100 full, 30 quick */
  size_t copies;                /* PatternSearch: 5 full, 2 quick */
  size_t max_generations;       /* Pattern 20/5, DE 40/8 */
  size_t population_size;       /* DE: 40 full, 20 quick; must be >= 4 */
  size_t count;                 /* RandomSearch: 1000 full, 100 quick */
  size_t num_neighbors_cap;     /* PatternSearch; 0 = no cap */
  /* DE and DESurrogateHybrid; <= 0 = 0.8 (Helion's), except
   * DifferentialEvolutionSearch under an evaluation cap: 0.5 (see
   * search_de.c) */
  double crossover_rate;
  double min_improvement_delta; /* < 0 = Pattern 0.001, DE: early stop off */
  size_t patience;              /* DE early stop (with min_improvement_delta,
                                   0.001 when unset); 0 = off */

  /* Shared machinery. */
  double rebenchmark_threshold; /* <= 0 = profile: 1.5 full, 0.9 quick */
  int finishing_rounds;         /* < 0 = profile (0) */
  int final_top_k;              /* < 0 = 8; <= 1 skips final verification */
  double final_target_ms;       /* final verification; <= 0 = 5000 */
  double rebench_target_ms;     /* population rebenchmarks; <= 0 = 200 */
  double pinned_tolerance;      /* a pinned finalist wins within (1+tol) */

  /* User configurations (opts.nconfigs of them, space->ncells cells each):
   * FiniteSearch's list; for the other algorithms seeds that start the
   * initial population and are pinned finalists. */
  const int64_t *configs;
  size_t nconfigs;
  /* Best-available configurations from the cache (FROM_BEST_AVAILABLE;
   * not pinned). */
  const int64_t *best_available;
  size_t nbest_available;

  /* When set, every evaluation is written as one JSON line:
   *   {"evaluation": n, "config": {...}, "ms": x|null, "status": "ok",
   *    "elapsed": s, "generation": g}
   * and every rebenchmark of a member as
   *   {"rebench": true, "config": {...}, "ms": x|null, "elapsed": s}
   * (config = canonical JSON; status = helion_result_kind_name). */
  FILE *trace;
} helion_search_opts_t;

/* All fields to their defaults (profile sentinels, effort FULL, seed 0). */
void helion_search_opts_init(helion_search_opts_t *o);

/*
 * Reads Helion's environment variables into `o`: HELION_AUTOTUNER,
 * HELION_AUTOTUNE_EFFORT, HELION_AUTOTUNE_RANDOM_SEED,
 * HELION_AUTOTUNE_BUDGET_SECONDS, HELION_AUTOTUNER_INITIAL_POPULATION,
 * HELION_AUTOTUNE_MAX_GENERATIONS, HELION_AUTOTUNE_FINISHING_ROUNDS,
 * HELION_REBENCHMARK_THRESHOLD, HELION_CAP_AUTOTUNE_NUM_NEIGHBORS,
 * HELION_AUTOTUNE_FINAL_REBENCHMARK_TOP_K, _TARGET_MS (clamped to
 * [200, 60000]) and _PINNED_TOLERANCE. Unset variables leave `o` alone; a
 * malformed one is HELION_ERR_USAGE naming the variable. Flags applied
 * afterwards override. HELION_AUTOTUNER's value is borrowed from the
 * environment.
 */
helion_status helion_search_opts_from_env(helion_search_opts_t *o,
                                          helion_err_t *err);

/*
 * Sets one option from "key=value", the way Helion passes keyword arguments
 * to a search class: initial_population, copies, max_generations,
 * population_size, count, num_neighbors_cap, crossover_rate,
 * min_improvement_delta, patience, rebenchmark_threshold, finishing_rounds,
 * final_top_k, initial_population_strategy (from_random |
 * from_best_available), pad_random (0/1). HELION_ERR_USAGE names the key or
 * the value, listing the keys when the key is unknown.
 */
helion_status helion_search_opts_set(helion_search_opts_t *o,
                                     const char *assignment,
                                     helion_err_t *err);

/* The resolved options of a created search as a new cJSON object:
 *   {"algorithm": "LFBOTreeSearch", "effort": "full", "seed": 0,
 *    "options": {"<name>": <value>, ...}}
 * (every option of the driver and of the algorithm with its effective
 * value). Caller frees with cJSON_Delete. */
helion_status helion_search_resolved_options(const helion_search_t *s,
                                             cJSON **out, helion_err_t *err);
/* Applies an object of that shape ("options" may name a subset; every key
 * optional) to o. Unknown names, wrong types, out-of-range values:
 * HELION_ERR_USAGE naming `origin` and the JSON path ("run.json: options.
 * population_size: -3 is below the minimum 4"). Strings o borrows point at
 * static registry data, never into obj. */
helion_status helion_search_opts_from_json(helion_search_opts_t *o,
                                           const cJSON *obj,
                                           const char *origin,
                                           helion_err_t *err);

/* Parses "from_random"/"from_best_available" (any case). */
helion_status helion_initial_population_parse(const char *text,
                                              const char *what,
                                              helion_initial_population *out,
                                              helion_err_t *err);

/* --------------------------------------------------------- the search -- */

typedef size_t helion_member_id;
#define HELION_NO_MEMBER ((helion_member_id)-1)

typedef struct helion_search_metrics {
  const char *algorithm;
  uint64_t seed;
  size_t configs_tested; /* distinct configs sent to the backend */
  size_t by_kind[HELION_RESULT_KIND_COUNT]; /* their outcomes */
  size_t invalid;      /* generated configs rejected before the backend */
  size_t rebenchmarks; /* member re-timings (population + final) */
  int generations;     /* last generation started (0 = initial) */
  double elapsed_s;    /* backend elapsed() at the end */
  double best_perf_ms; /* lowest time ever observed; 0 if none */
  helion_search_stop stop;
} helion_search_metrics_t;

/*
 * Creates a search of `space` against `backend` (both borrowed; the backend
 * must belong to the space). Resolves the effort profile into the options
 * (helion_search_opts() shows the result) and checks them: an unknown
 * algorithm is HELION_ERR_USAGE with the list of valid names; user configs
 * that are invalid are HELION_ERR_INVALID naming their index. Checks that
 * belong to one algorithm (DE's population_size >= 4, FiniteSearch's two
 * configs) are made by helion_search_run() before anything is measured.
 * Free with helion_search_destroy().
 */
helion_status helion_search_create(const helion_space_t *space,
                                   helion_backend_t *backend,
                                   const helion_search_opts_t *opts,
                                   helion_search_t **out, helion_err_t *err);
void helion_search_destroy(helion_search_t *s); /* accepts NULL */

/*
 * Runs the algorithm to the end (or to the budget / the cap). On success the
 * best configuration is in helion_search_best(). Failing configurations are
 * data, not errors; errors are a broken backend, out of memory, and
 * HELION_ERR_NO_CONFIG when no configuration worked. Call once.
 */
helion_status helion_search_run(helion_search_t *s, helion_err_t *err);

/* After a successful run: the chosen configuration (space->ncells cells,
 * owned by the search) and its latest measured time (+inf with effort
 * "none" when the default config failed). */
const int64_t *helion_search_best(const helion_search_t *s);
double helion_search_best_ms(const helion_search_t *s);
helion_member_id helion_search_best_id(const helion_search_t *s);
const helion_search_metrics_t *helion_search_metrics(const helion_search_t *s);

/* --------------------------------------------------------- registry ---- */

typedef helion_status (*helion_search_algo_fn)(helion_search_t *s,
                                               helion_err_t *err);

typedef struct helion_search_algo {
  const char *name; /* Helion's class name: "PatternSearch" */
  helion_search_algo_fn run;
  const char *summary; /* one line for --help */
} helion_search_algo_t;

/* The registered algorithms, in name order. */
size_t helion_search_algo_count(void);
const helion_search_algo_t *helion_search_algo_at(size_t i);
/* NULL (and a message listing the valid names) when `name` is unknown. */
const helion_search_algo_t *helion_search_algo_find(const char *name,
                                                    helion_err_t *err);

/* ------------------------------------------- for algorithm authors ----- */

/* A set of member ids (dense, so one byte per id up to the largest). */
typedef struct helion_member_set {
  uint8_t *has;
  size_t cap;
} helion_member_set_t;

/* Adds id; *out_added says whether it was new. HELION_ERR_NOMEM on failure
 * (the set is unchanged). Start from a zeroed set. */
helion_status helion_member_set_add(helion_member_set_t *set,
                                    helion_member_id id, bool *out_added);
void helion_member_set_cleanup(helion_member_set_t *set);

/*
 * Early stopping of the DE searches (reference §2.7): fed the best time of
 * each generation (the initial population's first), it says stop once
 * `patience` generations in a row each improved by less than `delta` on the
 * best of `patience` generations earlier. `hist` holds one entry per call
 * (caller-allocated, `cap` entries); further calls past `cap` never stop.
 */
typedef struct helion_early_stop {
  double *hist;
  size_t cap, n, stall, patience;
  double delta;
} helion_early_stop_t;

/* True when the search should stop after this generation. */
bool helion_early_stop_update(helion_early_stop_t *es, double best);

/*
 * The primitives an algorithm (search_*.c) drives. Every member id comes
 * from helion_search_bench() or helion_search_initial_population().
 */

const helion_space_t *helion_search_space(const helion_search_t *s);
helion_rng_t *helion_search_rng(helion_search_t *s);
/* The resolved options: profile values filled in, algorithm named. */
const helion_search_opts_t *helion_search_opts(const helion_search_t *s);

/* Member accessors; perf of HELION_NO_MEMBER is +inf. */
const int64_t *helion_search_cells(const helion_search_t *s,
                                   helion_member_id id);
double helion_search_perf(const helion_search_t *s, helion_member_id id);
double helion_search_min_perf(const helion_search_t *s, helion_member_id id);
helion_result_kind helion_search_kind(const helion_search_t *s,
                                      helion_member_id id);
int helion_search_member_generation(const helion_search_t *s,
                                    helion_member_id id);
/* Number of timings of a member (1 + rebenchmarks); writes up to `max` of
 * them, oldest first, into out (may be NULL). */
size_t helion_search_perfs(const helion_search_t *s, helion_member_id id,
                           double *out, size_t max);
size_t helion_search_member_count(const helion_search_t *s);
/* The member of a normalized configuration, or HELION_NO_MEMBER. */
helion_member_id helion_search_lookup(const helion_search_t *s,
                                      const int64_t *cells);
/* Lowest time ever observed (benchmarks and rebenchmarks); +inf if none. */
double helion_search_best_perf_so_far(const helion_search_t *s);

/* The generation later evaluations are recorded under (0 = initial). */
void helion_search_set_generation(helion_search_t *s, int generation);
int helion_search_generation(const helion_search_t *s);

/*
 * True once the budget is spent or the cap reached (logs the reason once).
 * Algorithms check it before each generation.
 */
bool helion_search_stopped(helion_search_t *s);
/* Configurations the cap still allows (SIZE_MAX without a cap). */
size_t helion_search_evals_left(const helion_search_t *s);

/*
 * Measures a batch. Each of the n configs is copied, normalized and checked:
 * invalid ones never reach the backend (out_ids[i] = HELION_NO_MEMBER);
 * configs already measured reuse their member (no second benchmark; a
 * config repeated within the batch is measured once); the rest go to the
 * backend in one call (in chunks while a budget is set), truncated at the
 * evaluation cap and cut at the budget (HELION_NO_MEMBER for those left
 * out). `desc` labels the progress line. out_ids may be NULL.
 */
helion_status helion_search_bench(helion_search_t *s, const int64_t *configs,
                                  size_t n, const char *desc,
                                  helion_member_id *out_ids, helion_err_t *err);

/* should_rebenchmark(m): finite perf below threshold * best_perf_so_far. */
bool helion_search_should_rebench(const helion_search_t *s,
                                  helion_member_id id);

/*
 * Helion's rebenchmark_population: re-times, in one backend call, the
 * distinct members of ids[] that should_rebench, when there are at least
 * two; their new times are appended. Skipped once the budget is spent.
 */
helion_status helion_search_rebench_population(helion_search_t *s,
                                               const helion_member_id *ids,
                                               size_t n, helion_err_t *err);

/* Re-times exactly these distinct members in one backend call (n >= 1). */
helion_status helion_search_rebench(helion_search_t *s,
                                    const helion_member_id *ids, size_t n,
                                    double target_ms, helion_err_t *err);

/* DE's compare(a, b): rebenchmarks both when both should_rebench, then
 * writes -1, 0 or 1 as perf(a) is below, equal to or above perf(b). */
helion_status helion_search_compare(helion_search_t *s, helion_member_id a,
                                    helion_member_id b, int *out_cmp,
                                    helion_err_t *err);

/* The member of ids[] with the lowest latest perf (the first on ties);
 * HELION_NO_MEMBER when none is finite. */
helion_member_id helion_search_argmin(const helion_search_t *s,
                                      const helion_member_id *ids, size_t n);

/* Sorts ids[] by latest perf, ascending, stable (ties keep their order;
 * HELION_NO_MEMBER and failed members last). */
void helion_search_sort(const helion_search_t *s, helion_member_id *ids,
                        size_t n);

/*
 * Builds and measures the initial population (reference §2.2) of up to `n`
 * distinct valid configurations. FROM_RANDOM: the default, the user configs,
 * then random draws. FROM_BEST_AVAILABLE: the user configs, the default,
 * the best-available configs, then random draws only when `pad`.
 * Writes the member ids (HELION_NO_MEMBER where the budget or cap cut the
 * batch) to out_ids (room for n) and their number to *out_n.
 */
helion_status helion_search_initial_population(
    helion_search_t *s, helion_initial_population strategy, size_t n, bool pad,
    const char *desc, helion_member_id *out_ids, size_t *out_n,
    helion_err_t *err);

/* Draws up to `n` distinct valid random configurations not measured yet
 * into out (n * ncells); returns how many it found. */
size_t helion_search_random_configs(helion_search_t *s, size_t n, int64_t *out);

/*
 * Logs `headline` followed by Helion's statistics block over ids[]:
 *   error=8 timeout=1 ok=91 | min=0.0231 mid=0.0815 max=1.9034
 *   best: {"block_sizes": [64, 128, 32], ...}
 * HELION_ERR_NO_CONFIG (with a message saying how the configs failed) when
 * no member is finite and `require_finite`.
 */
helion_status helion_search_log_stats(helion_search_t *s, const char *headline,
                                      const helion_member_id *ids, size_t n,
                                      bool require_finite, helion_err_t *err);

/* HELION_ERR_NO_CONFIG with a message that counts the failures by kind. */
helion_status helion_search_no_config(helion_search_t *s, const char *what,
                                      helion_err_t *err);

/*
 * Ends a population search: final verification of the finalists (pinned
 * members + the best final_top_k distinct members by lowest time, one
 * rebench call, min latest time wins; skipped once the budget is spent),
 * then the finishing rounds. `best` is the algorithm's pick. Records the
 * result.
 */
helion_status helion_search_finalize(helion_search_t *s, helion_member_id best,
                                     helion_err_t *err);

/* Records `best` as the result without verification (Finite/Random). */
void helion_search_set_result(helion_search_t *s, helion_member_id best);

/* ----- the algorithms (search_*.c), run by the registry ---------------- */
helion_status helion__search_random_run(helion_search_t *s, helion_err_t *err);
helion_status helion__search_finite_run(helion_search_t *s, helion_err_t *err);
helion_status helion__search_pattern_run(helion_search_t *s, helion_err_t *err);
/*
 * The first phase of PatternSearch and the LFBO searches: the initial
 * population of `npop` configs by the options' strategy, failures dropped
 * (*n_out members left in pop), each added to `visited` so no copy proposes
 * it again, then rebenchmarked and sorted fastest first. `name` prefixes an
 * out-of-memory error.
 */
helion_status helion__search_pattern_initial(helion_search_t *s,
                                            const char *name, size_t npop,
                                            helion_member_id *pop,
                                            size_t *n_out,
                                            helion_configset_t *visited,
                                            helion_err_t *err);
helion_status helion__search_de_run(helion_search_t *s, helion_err_t *err);
/* The DE population size for these options: population_size, else the
 * profile's (40 full, 20 quick) shrunk to fit an evaluation cap. */
size_t helion__search_de_population(const helion_search_opts_t *o);
double helion__search_de_crossover(const helion_search_opts_t *o);
/* k distinct indices of 0..n-1 other than `skip` (SIZE_MAX: none), in
 * draw order: DE's parents of member `skip` (k = 3, Helion's
 * random.sample(range(n), 4) with the member removed) and
 * DESurrogateHybrid's random.sample(range(n), 4). */
void helion__search_de_pick(helion_rng_t *rng, size_t n, size_t skip,
                            size_t k, size_t *out);
/*
 * The first phase of both DE searches (reference §2.6): an initial
 * population of 2P configs by the options' strategy, failures dropped,
 * padded with random configs up to the 4 members DE needs (Helion crashes
 * there), in the order they were measured. Writes all of them to pop (room
 * for 2P) and the count to *n; callers sort and keep the best P. `scratch`
 * holds 4 configs.
 * HELION_ERR_NO_CONFIG (naming `algo`) when the space has fewer than 4 valid
 * configurations.
 */
helion_status helion__search_de_initial(helion_search_t *s, const char *algo,
                                        size_t P, helion_member_id *pop,
                                        size_t *n, int64_t *scratch,
                                        helion_err_t *err);
helion_status helion__search_lfbo_pattern_run(helion_search_t *s,
                                              helion_err_t *err);
helion_status helion__search_lfbo_tree_run(helion_search_t *s,
                                           helion_err_t *err);
helion_status helion__search_de_surrogate_run(helion_search_t *s,
                                              helion_err_t *err);

#endif /* HELION_SEARCH_H */
