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
#include "llm/llm.h"
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

/* How population searches build their first population (reference §2.2);
 * the value of their initial_population_strategy option. */
typedef enum helion_initial_population {
  HELION_INITIAL_FROM_RANDOM = 0,
  HELION_INITIAL_FROM_BEST_AVAILABLE = 1,
} helion_initial_population;

/* "FROM_RANDOM", "FROM_BEST_AVAILABLE". */
const char *helion_initial_population_name(helion_initial_population p);

typedef enum helion_search_stop {
  HELION_STOP_NONE = 0,
  HELION_STOP_BUDGET = 1,    /* budget_seconds of backend time spent */
  HELION_STOP_MAX_EVALS = 2, /* max_evals configurations measured */
  /* helion_interrupted() (util/interrupt.h): SIGINT or SIGTERM arrived.
   * Like the budget stop, the search benchmarks nothing more (no final
   * rebenchmark either) and returns the best so far. */
  HELION_STOP_INTERRUPT = 3,
} helion_search_stop;

/*
 * Declared options. Every knob of the driver (one table, search_opts.c)
 * and of each algorithm (its registry row's table, next to its code) is one
 * declaration: its name (the --set key and the JSON key), type, default per
 * effort profile, valid range, environment variable and help. One parser
 * reads every option from the environment, from "key=value" and from JSON,
 * and the resolved value of every option of a created search can be written
 * out and read back (helion_search_resolved_options / _opts_from_json), so
 * a recorded run replays exactly.
 */
typedef enum helion_opt_type {
  HELION_OPT_INT,    /* a whole number in [min, max] */
  HELION_OPT_DOUBLE, /* a finite number in [min, max] */
  HELION_OPT_BOOL,   /* true/false (as text also 1/0, yes/no, on/off) */
  HELION_OPT_ENUM,   /* one of choices[] (as text in any case) */
} helion_opt_type;

/* A value: .i for INT, BOOL (0 or 1) and ENUM (index into choices), .d for
 * DOUBLE. */
typedef union helion_opt_value {
  int64_t i;
  double d;
} helion_opt_value_t;

typedef struct helion_opt_decl {
  const char *name; /* "population_size" */
  helion_opt_type type;
  /* Defaults of the effort profiles (effort none uses full's). */
  helion_opt_value_t full, quick;
  double min, max; /* INT and DOUBLE: the valid range, inclusive */
  /* Out-of-range values are clamped into [min, max] (with a warning)
   * instead of refused, where Helion documents a clamp: the final
   * rebenchmark's target time and the neighbour cap. */
  bool clamp;
  const char *const *choices; /* ENUM: the names, NULL-terminated */
  const char *env;            /* environment variable, or NULL */
  const char *help;           /* one line */
  /* Driver options that live in a helion_search_opts_t field (the CLI and
   * the driver read them there): offsetof + 1 of a size_t (INT) or double
   * (DOUBLE); 0 for the rest. */
  size_t field;
} helion_opt_decl_t;

/* Declarations for the tables (C11 designated initializers). */
#define HELION_OPT_INT_DECL(name_, full_, quick_, min_, max_, env_, help_)     \
  {                                                                            \
    .name = (name_), .type = HELION_OPT_INT, .full = {.i = (full_)},           \
    .quick = {.i = (quick_)}, .min = (min_), .max = (max_), .env = (env_),     \
    .help = (help_)                                                            \
  }
#define HELION_OPT_DOUBLE_DECL(name_, full_, quick_, min_, max_, env_, help_)  \
  {                                                                            \
    .name = (name_), .type = HELION_OPT_DOUBLE, .full = {.d = (full_)},        \
    .quick = {.d = (quick_)}, .min = (min_), .max = (max_), .env = (env_),     \
    .help = (help_)                                                            \
  }
#define HELION_OPT_BOOL_DECL(name_, full_, quick_, env_, help_)                \
  {                                                                            \
    .name = (name_), .type = HELION_OPT_BOOL, .full = {.i = (full_)},          \
    .quick = {.i = (quick_)}, .min = 0, .max = 1, .env = (env_),               \
    .help = (help_)                                                            \
  }
/* Largest whole-number option value any table uses (counts, sizes). */
#define HELION_OPT_BIG 1e9

/* The driver's options (budget_seconds, max_evals, rebenchmark_threshold,
 * final_top_k, ...), shared by every algorithm. */
size_t helion_search_driver_opt_count(void);
const helion_opt_decl_t *helion_search_driver_opt_at(size_t i);

/* Options a search was given by name; see helion_search_opts_t. */
#define HELION_SEARCH_MAX_GIVEN 96
typedef struct helion_opt_given {
  const helion_opt_decl_t *decl; /* static registry data */
  helion_opt_value_t value;      /* parsed and range-checked */
  /* Read from decl->env. The environment sets every algorithm's knobs at
   * once, so a given value of an option the chosen algorithm lacks is
   * ignored; from --set or JSON it is an error. */
  bool from_env;
} helion_opt_given_t;

/*
 * What a search is asked to do. The run-level fields are set directly (the
 * CLI's flags); every other knob is a declared option, given by name through
 * helion_search_opts_from_env / _set / _from_json, later calls overriding
 * earlier ones. helion_search_create() resolves them: profile defaults,
 * the given values, then the algorithm's rules. Pointers are borrowed: they
 * must outlive the search.
 */
typedef struct helion_search_opts {
  /* Registry name; NULL = HELION_SEARCH_DEFAULT_ALGORITHM. */
  const char *algorithm;
  helion_effort effort; /* default FULL */
  uint64_t seed;        /* seeds the driver's generator; default 0 */

  /* Declared driver options kept as fields (see helion_opt_decl_t.field).
   * Both stops end the search cleanly with the best so far. */
  double budget_seconds; /* backend elapsed() seconds; 0 = no budget */
  size_t max_evals; /* distinct configs measured, never exceeded; 0 = none */
  /* Configs per backend call. The budget is checked before each call, so a
   * batch overruns the budget by at most one chunk. 0 = the whole batch in
   * one call without a budget; with one, calls sized by the measured time
   * per config to end in about half the remaining budget (at least 16), so
   * a GPU compile pipeline stays full. The simulator uses 1: the budget cut
   * is exact and every trace line carries its own elapsed time. */
  size_t bench_chunk;
  double rebench_target_ms; /* population rebenchmarks; default 200 */

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
   * (config = canonical JSON; status = helion_result_kind_name). Each line
   * is written whole with one write(2) as soon as it is known (pending
   * stdio output of `trace` is flushed first), so an interrupted or
   * crashed run leaves every record before the last intact. */
  FILE *trace;

  /* What the LLM searches' prompts say about the kernel and the machine
   * (borrowed; NULL: a context naming the space only). tune fills it from
   * the spec and the device, simulate from the landscape. The other
   * searches ignore it. */
  const helion_llm_context_t *llm_context;

  /* The other declared options given a value, in the order given (one
   * entry per option: a later value replaces an earlier one). */
  helion_opt_given_t given[HELION_SEARCH_MAX_GIVEN];
  size_t ngiven;
} helion_search_opts_t;

/* Run-level fields to their defaults (effort FULL, seed 0, no stops, the
 * field options' defaults) and no option given. */
void helion_search_opts_init(helion_search_opts_t *o);

/*
 * Reads Helion's environment variables into `o`: HELION_AUTOTUNER,
 * HELION_AUTOTUNE_EFFORT, HELION_AUTOTUNE_RANDOM_SEED, and the variable of
 * every declared option of the driver and of every algorithm
 * (HELION_AUTOTUNE_BUDGET_SECONDS, HELION_AUTOTUNER_INITIAL_POPULATION,
 * HELION_AUTOTUNE_MAX_GENERATIONS, HELION_REBENCHMARK_THRESHOLD,
 * HELION_LFBO_*, HELION_DES_*, ...; `helion-tune simulate --help` lists
 * them). Unset or empty variables leave `o` alone; a malformed or
 * out-of-range one is HELION_ERR_USAGE naming the variable, the value and
 * the valid range. Flags applied afterwards override. HELION_AUTOTUNER's
 * value is borrowed from the environment.
 */
helion_status helion_search_opts_from_env(helion_search_opts_t *o,
                                          helion_err_t *err);

/*
 * Sets one declared option from "key=value", the way Helion passes keyword
 * arguments to a search class: any option of the driver or of an algorithm
 * (population_size=20, crossover_rate=0.5, num_neighbors=100, ...); that
 * the chosen algorithm has it is checked by helion_search_create().
 * HELION_ERR_USAGE names the key, the value and the valid range, and lists
 * the valid keys when the key is unknown.
 */
helion_status helion_search_opts_set(helion_search_opts_t *o,
                                     const char *assignment, helion_err_t *err);

/* Applies an object of the shape helion_search_resolved_options() writes
 * ("options" may name a subset; every key optional) to o, as given values
 * that later calls may override. Other top-level keys are ignored, so the
 * "meta" object of a trace's first line (which adds "landscape" and
 * "optimum_ms") replays as it is. Unknown option names, wrong types,
 * out-of-range values: HELION_ERR_USAGE naming `origin` and the JSON path
 * ("run.json: options.population_size: -3 is below the minimum 4"), and o
 * unchanged. Strings o borrows point at static registry data, never into
 * obj. */
helion_status helion_search_opts_from_json(helion_search_opts_t *o,
                                           const cJSON *obj, const char *origin,
                                           helion_err_t *err);

/* helion_search_opts_from_json() of the JSON object in the file at `path`
 * (the CLI's --options-json). Errors name the path. */
helion_status helion_search_opts_from_file(helion_search_opts_t *o,
                                           const char *path, helion_err_t *err);

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
  /* The LLM searches (search_llm.c); all zero for the others. */
  size_t llm_requests; /* LLM exchanges made (or replayed) */
  bool hybrid;         /* LLMSeededSearch / LLMSeededLFBOTreeSearch */
  bool used_llm_seed;  /* stage 2 was seeded with the LLM stage's best */
  size_t llm_configs_tested;  /* the LLM stage's distinct configs */
  double llm_seed_ms;         /* its best (+inf: none) */
  const char *second_stage;   /* stage 2's algorithm */
  size_t stage2_configs_tested;
  double stage2_best_ms; /* +inf: none */
} helion_search_metrics_t;

/*
 * Creates a search of `space` against `backend` (both borrowed; the backend
 * must belong to the space). Resolves every option of the driver and of
 * the algorithm (helion_search_resolved_options() shows them) and checks
 * the request: an unknown algorithm, or an option given by --set or JSON
 * that the algorithm lacks, is HELION_ERR_USAGE with the list of valid
 * names; user configs that are invalid are HELION_ERR_INVALID naming their
 * index. FiniteSearch's two configs are checked by helion_search_run()
 * before anything is measured.
 * Free with helion_search_destroy().
 */
helion_status helion_search_create(const helion_space_t *space,
                                   helion_backend_t *backend,
                                   const helion_search_opts_t *opts,
                                   helion_search_t **out, helion_err_t *err);
void helion_search_destroy(helion_search_t *s); /* accepts NULL */

/* The resolved options of a created search as a new cJSON object:
 *   {"algorithm": "LFBOTreeSearch", "effort": "full", "seed": 0,
 *    "options": {"<name>": <value>, ...}}
 * (every option of the driver and of the algorithm with its effective
 * value). Caller frees with cJSON_Delete. */
helion_status helion_search_resolved_options(const helion_search_t *s,
                                             cJSON **out, helion_err_t *err);

/*
 * Runs the algorithm to the end (or to the budget / the cap / an interrupt:
 * once helion_interrupted() (util/interrupt.h) is set it measures and
 * rebenchmarks nothing more and returns, metrics.stop =
 * HELION_STOP_INTERRUPT). On success the best configuration is in
 * helion_search_best(). Failing configurations are
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
/* Writes a "rebench" line for `cells` (normalized, of s's space) timed at
 * `ms` to the trace, if the search has one: for timings taken outside the
 * search (a tune's final side-by-side). */
helion_status helion_search_trace_rebench(helion_search_t *s,
                                          const int64_t *cells, double ms,
                                          helion_err_t *err);
const helion_search_metrics_t *helion_search_metrics(const helion_search_t *s);

/* --------------------------------------------------------- registry ---- */

typedef helion_status (*helion_search_algo_fn)(helion_search_t *s,
                                               helion_err_t *err);

/* An algorithm's rules that go beyond per-profile defaults (DE's crossover
 * under an evaluation cap, ...): called by helion_search_create() with the
 * request `o`, which of the algorithm's options were given, and their
 * values (profile defaults or the given ones) to adjust. Must be
 * idempotent: resolving the resolved values as given changes nothing. */
typedef void (*helion_search_resolve_fn)(const helion_search_opts_t *o,
                                         const bool *given,
                                         helion_opt_value_t *v);

typedef struct helion_search_algo {
  const char *name; /* Helion's class name: "PatternSearch" */
  helion_search_algo_fn run;
  const char *summary;           /* one line for --help */
  const helion_opt_decl_t *opts; /* its declared options */
  size_t nopts;
  helion_search_resolve_fn resolve; /* NULL: none */
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
/* The request, resolved: algorithm named, field options resolved. */
const helion_search_opts_t *helion_search_opts(const helion_search_t *s);
/* The resolved value of option i of the algorithm's own table. */
int64_t helion_search_opt_int(const helion_search_t *s, size_t i);
double helion_search_opt_double(const helion_search_t *s, size_t i);

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
/*
 * Asynchronous measurement, for searches that propose while earlier
 * proposals are still compiling or being timed. Only where the backend can
 * (helion_search_can_submit); rebenchmarks wait until nothing is in flight.
 *
 * helion_search_submit queues configs under the caller's `tag`: like
 * helion_search_bench they are normalized and checked, and invalid ones,
 * configs measured or in flight already, repeats within the call and those
 * beyond the evaluation cap (counting what is in flight) are left out;
 * nothing is queued once the search must stop. *queued counts the configs
 * that went to the backend.
 *
 * helion_search_collect waits for the next result and records it like a
 * benchmark (member, metrics, trace line with the time it finished):
 * *got = false when nothing is in flight, else the member and the tag it
 * was submitted under.
 */
bool helion_search_can_submit(const helion_search_t *s);
helion_status helion_search_submit(helion_search_t *s, const int64_t *configs,
                                   size_t n, uint64_t tag, size_t *queued,
                                   helion_err_t *err);
helion_status helion_search_collect(helion_search_t *s, helion_member_id *id,
                                    uint64_t *tag, bool *got,
                                    helion_err_t *err);

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
 * Ids that are no member (HELION_NO_MEMBER: invalid, or cut by the budget,
 * the cap or an interrupt) count as "not measured=N" after ok, not as
 * errors.
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

/* Grows the array *p (*cap elements of `elem` bytes) to hold at least
 * `need`, doubling from 64; HELION_ERR_NOMEM leaves it as it was. */
helion_status helion__search_grow(void **p, size_t *cap, size_t need,
                                  size_t elem);

/*
 * The LLM hybrids' second stage (search_llm.c). helion__search_algo_values
 * resolves algorithm a's options for this search as helion_search_create
 * would (profile defaults, the environment's values, a's rules) into v
 * (room for HELION_SEARCH_MAX_ALGO_OPTS). helion__search_run_stage runs a
 * on this search (its store, budget, cap, trace, metrics) with options v;
 * `seed`, when a member, joins the user configs for the run (so a
 * from_best_available population starts with it, and it is a pinned
 * finalist); the `ntrain` members of `train` are offered to a surrogate
 * as training data (helion_search_seed_training).
 */
void helion__search_algo_values(const helion_search_t *s,
                                const helion_search_algo_t *a,
                                helion_opt_value_t *v);
helion_status helion__search_run_stage(helion_search_t *s,
                                       const helion_search_algo_t *a,
                                       const helion_opt_value_t *v,
                                       helion_member_id seed,
                                       const helion_member_id *train,
                                       size_t ntrain, helion_err_t *err);
/* Backend seconds spent so far (helion_backend_elapsed). */
double helion_search_elapsed(const helion_search_t *s);
/* The members handed over for a surrogate's training data (LFBO adds them
 * before its first fit); NULL and 0 outside a hybrid's second stage. */
const helion_member_id *helion_search_seed_training(const helion_search_t *s,
                                                    size_t *n);
/* The declared index of option `name` in a's table, or SIZE_MAX. */
size_t helion__search_algo_opt_index(const helion_search_algo_t *a,
                                     const char *name);

/* ----- the algorithms (search_*.c), run by the registry ---------------- */

/* Most options one algorithm declares. */
#define HELION_SEARCH_MAX_ALGO_OPTS 32

/* Declarations several algorithms share (same name, type, range and
 * variable everywhere; only the defaults differ). */
extern const char *const helion__search_strategy_choices[];
#define HELION_OPT_STRATEGY_DECL                                               \
  {                                                                            \
    .name = "initial_population_strategy", .type = HELION_OPT_ENUM,            \
    .full = {.i = HELION_INITIAL_FROM_RANDOM},                                 \
    .quick = {.i = HELION_INITIAL_FROM_BEST_AVAILABLE}, .max = 1,              \
    .choices = helion__search_strategy_choices,                                \
    .env = "HELION_AUTOTUNER_INITIAL_POPULATION",                              \
    .help = "how the first population is built"                                \
  }
#define HELION_OPT_PAD_RANDOM_DECL                                             \
  HELION_OPT_BOOL_DECL("pad_random", 1, 0, NULL,                               \
                       "pad a from_best_available population with random "     \
                       "configs")
#define HELION_OPT_MAX_GENERATIONS_DECL(full_, quick_)                         \
  HELION_OPT_INT_DECL("max_generations", full_, quick_, 1, HELION_OPT_BIG,     \
                      "HELION_AUTOTUNE_MAX_GENERATIONS",                       \
                      "generations after the initial population")
#define HELION_OPT_MIN_IMPROVEMENT_DELTA_DECL                                  \
  HELION_OPT_DOUBLE_DECL("min_improvement_delta", 0.001, 0.001, 0,             \
                         HELION_OPT_BIG, NULL,                                 \
                         "relative improvement below which a step stalls")
#define HELION_OPT_POPULATION_SIZE_DECL                                        \
  HELION_OPT_INT_DECL("population_size", 40, 20, 4, HELION_OPT_BIG, NULL,      \
                      "members (at least 4: a trial mixes 3 other members)")
#define HELION_OPT_CROSSOVER_RATE_DECL                                         \
  HELION_OPT_DOUBLE_DECL("crossover_rate", 0.8, 0.8, 0, 1, NULL,               \
                         "chance that a trial takes each gene from the "       \
                         "mutant")
#define HELION_OPT_PATIENCE_DECL(full_, env_, help_)                           \
  HELION_OPT_INT_DECL("patience", full_, full_, 0, HELION_OPT_BIG, env_, help_)
/* PatternSearch's options, the LFBO searches' first seven. */
#define HELION_OPT_PATTERN_DECLS                                               \
  [HELION_PATTERN_INITIAL_POPULATION] =                                        \
      HELION_OPT_INT_DECL("initial_population", 100, 30, 1, HELION_OPT_BIG,    \
                          NULL, "configs measured before the climb"),          \
  [HELION_PATTERN_COPIES] =                                                    \
      HELION_OPT_INT_DECL("copies", 5, 2, 1, HELION_OPT_BIG, NULL,             \
                          "climbs from the best initial configs"),             \
  [HELION_PATTERN_MAX_GENERATIONS] = HELION_OPT_MAX_GENERATIONS_DECL(20, 5),   \
  [HELION_PATTERN_MIN_IMPROVEMENT_DELTA] =                                     \
      HELION_OPT_MIN_IMPROVEMENT_DELTA_DECL,                                   \
  [HELION_PATTERN_NUM_NEIGHBORS_CAP] =                                         \
      {.name = "num_neighbors_cap",                                            \
       .type = HELION_OPT_INT,                                                 \
       .max = HELION_OPT_BIG,                                                  \
       .clamp = true,                                                          \
       .env = "HELION_CAP_AUTOTUNE_NUM_NEIGHBORS",                             \
       .help = "most neighbours a copy proposes per step (0: no cap)"},        \
  [HELION_PATTERN_STRATEGY] = HELION_OPT_STRATEGY_DECL,                        \
  [HELION_PATTERN_PAD_RANDOM] = HELION_OPT_PAD_RANDOM_DECL
/* Their indices, shared by search_pattern.c and search_lfbo.c. */
enum {
  HELION_PATTERN_INITIAL_POPULATION,
  HELION_PATTERN_COPIES,
  HELION_PATTERN_MAX_GENERATIONS,
  HELION_PATTERN_MIN_IMPROVEMENT_DELTA,
  HELION_PATTERN_NUM_NEIGHBORS_CAP,
  HELION_PATTERN_STRATEGY,
  HELION_PATTERN_PAD_RANDOM,
  HELION_PATTERN_NOPTS
};

/* Each algorithm's run function, option table and rules. The tables'
 * sizes are here so the registry's rows can count them; each file checks
 * its enum of indices against its size. */
#define HELION_RANDOM_NOPTS 1
#define HELION_DE_NOPTS 8
#define HELION_DES_NOPTS 11
#define HELION_LFBO_NOPTS 25
/* The LLM stage's options (search_llm.c), at indices off + HELION_LLM_*:
 * LLMGuidedSearch's five; a hybrid's llm_* five, then pad, then (only
 * LLMSeededSearch) the second stage. LLMSeededLFBOTreeSearch's table is
 * LFBOTreeSearch's (same indices), then its LLM stage's six. */
enum {
  HELION_LLM_CONFIGS_PER_ROUND,
  HELION_LLM_MAX_ROUNDS,
  HELION_LLM_INITIAL_RANDOM,
  HELION_LLM_MIN_IMPROVEMENT_DELTA,
  HELION_LLM_CONTEXT_ROUNDS,
  HELION_LLM_PAD_RANDOM,
  HELION_LLM_SECOND_STAGE
};
#define HELION_LLM_NOPTS 5
#define HELION_LLM_HYBRID_NOPTS 7
#define HELION_LLM_LFBO_NOPTS (HELION_LFBO_NOPTS + 6)
#define HELION_OPT_LLM_DECLS(off_, prefix_, rounds_full_, rounds_quick_,       \
                             rounds_min_, rounds_env_)                         \
  [(off_) + HELION_LLM_CONFIGS_PER_ROUND] = HELION_OPT_INT_DECL(               \
      "configs_per_round", 15, 15, 1, 1000,                            \
      "HELION_LLM_CONFIGS_PER_ROUND", "configs asked of the LLM per round"),   \
  [(off_) + HELION_LLM_MAX_ROUNDS] = HELION_OPT_INT_DECL(                      \
      prefix_ "max_rounds", rounds_full_, rounds_quick_, rounds_min_, 1000,    \
      rounds_env_, "LLM rounds, round 0 included"),                            \
  [(off_) + HELION_LLM_INITIAL_RANDOM] = HELION_OPT_INT_DECL(                  \
      "initial_random_configs", 10, 10, 0, HELION_OPT_BIG,             \
      "HELION_LLM_INITIAL_RANDOM_CONFIGS",                                     \
      "random configs measured beside the default in round 0"),               \
  [(off_) + HELION_LLM_MIN_IMPROVEMENT_DELTA] = HELION_OPT_DOUBLE_DECL(        \
      prefix_ "min_improvement_delta", 0.005, 0.005, 0, HELION_OPT_BIG, NULL,  \
      "relative improvement below which a round stalls (2 stop)"),             \
  [(off_) + HELION_LLM_CONTEXT_ROUNDS] = HELION_OPT_INT_DECL(                  \
      prefix_ "context_rounds", 3, 3, 0, 1000, NULL,                           \
      "earlier round trips sent with a refinement prompt")
#define HELION_OPT_LLM_PAD_DECL(off_)                                          \
  [(off_) + HELION_LLM_PAD_RANDOM] = HELION_OPT_BOOL_DECL(                     \
      "best_available_pad_random", 1, 1, NULL,                                 \
      "pad the seeded second stage's population with random configs "         \
      "(Helion: off)")
helion_status helion__search_llm_run(helion_search_t *s, helion_err_t *err);
helion_status helion__search_llm_seeded_run(helion_search_t *s,
                                            helion_err_t *err);
helion_status helion__search_llm_lfbo_run(helion_search_t *s,
                                          helion_err_t *err);
extern const helion_opt_decl_t helion__search_llm_opts[HELION_LLM_NOPTS];
extern const helion_opt_decl_t
    helion__search_llm_seeded_opts[HELION_LLM_HYBRID_NOPTS];
extern const helion_opt_decl_t
    helion__search_llm_lfbo_opts[HELION_LLM_LFBO_NOPTS];
helion_status helion__search_random_run(helion_search_t *s, helion_err_t *err);
extern const helion_opt_decl_t helion__search_random_opts[HELION_RANDOM_NOPTS];
helion_status helion__search_finite_run(helion_search_t *s, helion_err_t *err);
helion_status helion__search_pattern_run(helion_search_t *s, helion_err_t *err);
extern const helion_opt_decl_t
    helion__search_pattern_opts[HELION_PATTERN_NOPTS];
/*
 * The first phase of PatternSearch and the LFBO searches: the initial
 * population of `npop` configs by the search's initial_population_strategy
 * and pad_random (HELION_PATTERN_* options), failures dropped (*n_out
 * members left in pop), each added to `visited` so no copy proposes it
 * again, then rebenchmarked and sorted fastest first. `name` prefixes an
 * out-of-memory error.
 */
helion_status helion__search_pattern_initial(
    helion_search_t *s, const char *name, size_t npop, helion_member_id *pop,
    size_t *n_out, helion_configset_t *visited, helion_err_t *err);
helion_status helion__search_de_run(helion_search_t *s, helion_err_t *err);
extern const helion_opt_decl_t helion__search_de_opts[HELION_DE_NOPTS];
void helion__search_de_resolve(const helion_search_opts_t *o, const bool *given,
                               helion_opt_value_t *v);
/* k distinct indices of 0..n-1 other than `skip` (SIZE_MAX: none), in
 * draw order: DE's parents of member `skip` (k = 3, Helion's
 * random.sample(range(n), 4) with the member removed) and
 * DESurrogateHybrid's random.sample(range(n), 4). */
void helion__search_de_pick(helion_rng_t *rng, size_t n, size_t skip, size_t k,
                            size_t *out);
/*
 * The first phase of both DE searches (reference §2.6): an initial
 * population of 2P configs by `strategy` (padded with random ones when
 * `pad`), failures dropped, padded with random configs up to the 4 members
 * DE needs (Helion crashes there), in the order they were measured. Writes
 * all of them to pop (room for 2P) and the count to *n; callers sort and
 * keep the best P. `scratch` holds 4 configs.
 * HELION_ERR_NO_CONFIG (naming `algo`) when the space has fewer than 4 valid
 * configurations.
 */
helion_status helion__search_de_initial(helion_search_t *s, const char *algo,
                                        helion_initial_population strategy,
                                        bool pad, size_t P,
                                        helion_member_id *pop, size_t *n,
                                        int64_t *scratch, helion_err_t *err);
helion_status helion__search_lfbo_pattern_run(helion_search_t *s,
                                              helion_err_t *err);
helion_status helion__search_lfbo_tree_run(helion_search_t *s,
                                           helion_err_t *err);
extern const helion_opt_decl_t
    helion__search_lfbo_pattern_opts[HELION_LFBO_NOPTS];
extern const helion_opt_decl_t helion__search_lfbo_tree_opts[HELION_LFBO_NOPTS];
void helion__search_lfbo_resolve(const helion_search_opts_t *o,
                                 const bool *given, helion_opt_value_t *v);
helion_status helion__search_de_surrogate_run(helion_search_t *s,
                                              helion_err_t *err);
extern const helion_opt_decl_t
    helion__search_de_surrogate_opts[HELION_DES_NOPTS];

#endif /* HELION_SEARCH_H */
