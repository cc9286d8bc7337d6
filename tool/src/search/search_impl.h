/*
 * search_impl.h: the search's state and the helpers the driver's files
 * (search_driver.c, search_store.c, search_phases.c, search_opts.c) share;
 * algorithms see only search.h.
 */
#ifndef HELION_SEARCH_IMPL_H
#define HELION_SEARCH_IMPL_H

#include "search/search.h"

/* The driver's options, indices into its table (search_opts.c). */
enum {
  HELION_DRV_BUDGET_SECONDS,
  HELION_DRV_MAX_EVALS,
  HELION_DRV_BENCH_CHUNK,
  HELION_DRV_REBENCH_TARGET_MS,
  HELION_DRV_REBENCHMARK_THRESHOLD,
  HELION_DRV_FINISHING_ROUNDS,
  HELION_DRV_FINAL_TOP_K,
  HELION_DRV_FINAL_TARGET_MS,
  HELION_DRV_PINNED_TOLERANCE,
  HELION_DRV_NOPTS
};

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
  helion_search_opts_t opts; /* the request; field options resolved */
  const helion_search_algo_t *algo;
  helion_opt_value_t dval[HELION_DRV_NOPTS];            /* driver options */
  helion_opt_value_t aval[HELION_SEARCH_MAX_ALGO_OPTS]; /* algo->opts[] */
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

  /* Asynchronous measurement: configs submitted and not collected, by
   * slot (the backend's tag); a slot is free again once collected. */
  int64_t *flight_cells; /* flight_cap * ncells */
  uint64_t *flight_tag;  /* the caller's tag, by slot */
  uint8_t *flight_used;  /* by slot: in flight */
  size_t nflight, flight_cap;
  uint64_t *send_tags; /* one submit call's backend tags */

  /* A hybrid's second stage (helion__search_run_stage). */
  const helion_member_id *seed_train;
  size_t nseed_train;
};

/* The cells of member id. */
static inline const int64_t *mcells(const helion_search_t *s, size_t id) {
  return s->cells + id * s->ncells;
}

/* The store's helpers (search_store.c) the other driver files use. */
uint64_t helion__search_cells_hash(const int64_t *c, size_t n);
bool helion__search_cells_eq(const helion_search_t *s, const int64_t *a,
                             const int64_t *b);
/* Grows the batch scratch to n configs. */
helion_status helion__search_ensure_batch(helion_search_t *s, size_t n);
/* True once the budget is spent or the run was interrupted (records the
 * stop and logs it once). */
bool helion__search_must_stop(helion_search_t *s);

/* Resolves s->opts for s->algo into dval[] and aval[] (search_opts.c):
 * profile defaults, given values, the algorithm's rules; HELION_ERR_USAGE
 * for an option given by --set or JSON that neither table has. */
helion_status helion__search_resolve(helion_search_t *s, helion_err_t *err);

#endif /* HELION_SEARCH_IMPL_H */
