/*
 * backend_sim.c: the landscape simulator's backend: replays a recorded
 * landscape (read by backend_sim_landscape.c) with a simulated clock, and
 * answers questions about it (optimum, lookups, the random-search baseline).
 * The formats, the mapping of failures and the clock rules are documented in
 * backend_sim.h.
 */
#include "backend/backend_sim_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rebench() draws at most this many runs per config in noise mode. */
#define SIM_MAX_REBENCH_DRAWS 101

/* ------------------------------------------------------------ backend */

static double draw(helion_sim_t *sim, const rec_t *r) {
  if (!sim->noise || r->kind != HELION_RESULT_OK || r->nruns == 0)
    return r->ms;
  return sim->runs[r->runs_off + helion_rng_below(&sim->rng, r->nruns)];
}

static int double_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Finds every config's record; an absent one is the caller's fault. */
static helion_status lookup_all(helion_sim_t *sim, const int64_t *configs,
                                size_t n, size_t *idx, helion_err_t *err) {
  size_t np = sim->nparams;
  for (size_t i = 0; i < n; i++) {
    idx[i] = helion__sim_find_rec(sim, configs + i * np);
    if (idx[i] == HELION__SIM_NO_REC) {
      helion_buf_t b;
      helion_buf_init(&b, 0);
      for (size_t k = 0; k < np; k++)
        helion_buf_appendf(&b, "%s%lld", k ? ", " : "",
                           (long long)configs[i * np + k]);
      helion_status rc = helion_err_set(
          err, HELION_ERR_INVALID,
          "simulator: configuration %zu [%s] is not in the landscape (absent "
          "or excluded); searches must propose only configurations the "
          "space's filter accepts",
          i, helion_buf_str(&b));
      helion_buf_cleanup(&b);
      return rc;
    }
  }
  return HELION_OK;
}

/*
 * The queue of submitted configurations (submit / collect; bench() is a
 * submit of its whole batch and a collect of every result). An entry's
 * result is drawn when it is submitted, so the noise draws come in
 * submission order whatever the clock.
 */
typedef struct sim_entry {
  size_t rec;
  uint64_t tag;
  bool fresh;      /* first visit: it costs time */
  bool returned;   /* collect() has handed it out */
  double ready_at; /* compile_jobs: when its compile ends */
  helion_bench_result_t res;
} sim_entry;

static size_t queued(const helion_sim_t *sim) {
  return sim->nqueue - sim->nreturned;
}

static helion_status sim_submit(helion_backend_t *b, const int64_t *configs,
                                size_t n, const uint64_t *tags,
                                helion_err_t *err) {
  helion_sim_t *sim = (helion_sim_t *)b;
  if (sim->nqueue + n > sim->qcap) {
    size_t cap = sim->qcap ? sim->qcap : 64;
    while (cap < sim->nqueue + n)
      cap *= 2;
    sim_entry *q = realloc(sim->queue, cap * sizeof(*q));
    if (!q)
      return helion_err_set(err, HELION_ERR_NOMEM, "simulator: out of memory");
    sim->queue = q;
    sim->qcap = cap;
  }
  /* Every config is looked up first: a fault charges nothing. */
  size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
  if (!idx)
    return helion_err_set(err, HELION_ERR_NOMEM, "simulator: out of memory");
  helion_status rc = lookup_all(sim, configs, n, idx, err);
  if (rc) {
    free(idx);
    return rc;
  }
  size_t base = sim->nqueue;
  for (size_t i = 0; i < n; i++) {
    size_t rec = idx[i];
    const rec_t *r = &sim->recs[rec];
    sim_entry *e = &sim->queue[base + i];
    e->rec = rec;
    e->tag = tags[i];
    e->fresh = !sim->visited[rec];
    e->returned = false;
    e->ready_at = sim->clock;
    if (e->fresh) {
      sim->visited[rec] = 1;
      sim->nvisited++;
    }
    if (e->fresh && sim->compile_jobs) {
      /* List scheduling: the compile slot that frees first, from now. */
      size_t s = 0;
      for (size_t j = 1; j < sim->compile_jobs; j++)
        if (sim->slot_free[j] < sim->slot_free[s])
          s = j;
      double start =
          sim->slot_free[s] > sim->clock ? sim->slot_free[s] : sim->clock;
      sim->slot_free[s] = start + r->compile_s;
      e->ready_at = sim->slot_free[s];
    }
    e->res.kind = r->kind;
    e->res.ms = draw(sim, r);
    e->res.compile_s = e->fresh ? r->compile_s : 0.0;
  }
  sim->nqueue += n;
  free(idx);
  return HELION_OK;
}

/*
 * Hands out one result. One config after another: the oldest, the clock
 * advancing by its cost on a first visit. compile_jobs: the GPU times the
 * compiled entry that was ready first (ties in submission order) as soon as
 * it is free; the clock moves to the end of that timing. Nothing submitted
 * later can be ready earlier: the search submits only between collects.
 */
static helion_status sim_collect(helion_backend_t *b, size_t max,
                                 uint64_t *tags, helion_bench_result_t *out,
                                 size_t *got, helion_err_t *err) {
  (void)err;
  helion_sim_t *sim = (helion_sim_t *)b;
  *got = 0;
  if (max == 0 || queued(sim) == 0)
    return HELION_OK;
  sim_entry *next = NULL;
  for (size_t i = 0; i < sim->nqueue; i++) {
    sim_entry *e = &sim->queue[i];
    if (e->returned)
      continue;
    if (!sim->compile_jobs) {
      next = e;
      break;
    }
    if (!next || e->ready_at < next->ready_at)
      next = e;
  }
  const rec_t *r = &sim->recs[next->rec];
  if (!sim->compile_jobs) {
    if (next->fresh)
      sim->clock += r->cost_s;
  } else if (next->fresh) {
    double start =
        next->ready_at > sim->gpu_free ? next->ready_at : sim->gpu_free;
    sim->gpu_free = start + (r->cost_s - r->compile_s);
    if (sim->gpu_free > sim->clock)
      sim->clock = sim->gpu_free;
  }
  next->returned = true;
  sim->nreturned++;
  tags[0] = next->tag;
  out[0] = next->res;
  *got = 1;
  if (queued(sim) == 0)
    sim->nqueue = sim->nreturned = 0;
  return HELION_OK;
}

static helion_status sim_bench(helion_backend_t *b, const int64_t *configs,
                               size_t n, helion_bench_result_t *out,
                               helion_err_t *err) {
  helion_sim_t *sim = (helion_sim_t *)b;
  if (queued(sim))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "simulator: bench while configurations are queued");
  uint64_t *tags = calloc(n ? n : 1, sizeof(*tags));
  if (!tags)
    return helion_err_set(err, HELION_ERR_NOMEM, "simulator: out of memory");
  for (size_t i = 0; i < n; i++)
    tags[i] = i;
  helion_status rc = sim_submit(b, configs, n, tags, err);
  for (size_t left = n; !rc && left > 0; left--) {
    uint64_t tag = 0;
    helion_bench_result_t r;
    size_t got = 0;
    if ((rc = sim_collect(b, 1, &tag, &r, &got, err)))
      break;
    if (got != 1 || tag >= n) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "simulator: %zu results queued but none came", left);
      break;
    }
    out[tag] = r;
  }
  free(tags);
  return rc;
}

static helion_status sim_rebench(helion_backend_t *b, const int64_t *configs,
                                 size_t n, double target_ms, double *out_ms,
                                 helion_err_t *err) {
  helion_sim_t *sim = (helion_sim_t *)b;
  if (queued(sim))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "simulator: rebench while configurations are queued");
  size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
  double draws[SIM_MAX_REBENCH_DRAWS];
  if (!idx)
    return helion_err_set(err, HELION_ERR_NOMEM, "simulator: out of memory");
  helion_status rc = lookup_all(sim, configs, n, idx, err);
  if (rc)
    goto out;
  double round_ms = 0.0;
  for (size_t i = 0; i < n; i++)
    if (sim->recs[idx[i]].kind == HELION_RESULT_OK)
      round_ms += sim->recs[idx[i]].ms;
  double reps = 1.0;
  if (round_ms > 0 && target_ms > round_ms)
    reps = ceil(target_ms / round_ms);
  sim->clock += reps * round_ms / 1000.0;
  size_t ndraws =
      reps < SIM_MAX_REBENCH_DRAWS ? (size_t)reps : SIM_MAX_REBENCH_DRAWS;
  for (size_t i = 0; i < n; i++) {
    const rec_t *r = &sim->recs[idx[i]];
    if (!sim->noise || r->kind != HELION_RESULT_OK || r->nruns == 0) {
      out_ms[i] = r->ms;
      continue;
    }
    for (size_t d = 0; d < ndraws; d++)
      draws[d] = draw(sim, r);
    qsort(draws, ndraws, sizeof(double), double_cmp);
    out_ms[i] = ndraws % 2 ? draws[ndraws / 2]
                           : (draws[ndraws / 2 - 1] + draws[ndraws / 2]) / 2;
  }
out:
  free(idx);
  return rc;
}

static double sim_elapsed_vt(helion_backend_t *b) {
  return ((helion_sim_t *)b)->clock;
}

static void sim_destroy_vt(helion_backend_t *b) {
  helion_sim_destroy((helion_sim_t *)b);
}

static const helion_backend_vtable_t sim_vtable = {.bench = sim_bench,
                                                   .rebench = sim_rebench,
                                                   .submit = sim_submit,
                                                   .collect = sim_collect,
                                                   .elapsed = sim_elapsed_vt,
                                                   .destroy = sim_destroy_vt};

/* ------------------------------------------------------------ load */

static helion_status finish(helion_sim_t *sim, const char *path,
                            helion_err_t *err) {
  sim->sorted = malloc((sim->nrec ? sim->nrec : 1) * sizeof(double));
  sim->visited = calloc(sim->nrec ? sim->nrec : 1, 1);
  if (!sim->sorted || !sim->visited)
    return HELION_ERR_NOMEM;
  sim->opt_rec = HELION__SIM_NO_REC;
  for (size_t i = 0; i < sim->nrec; i++) {
    const rec_t *r = &sim->recs[i];
    sim->kind_count[r->kind]++;
    sim->sorted[i] = r->ms;
    if (r->kind == HELION_RESULT_OK && (sim->opt_rec == HELION__SIM_NO_REC ||
                                        r->ms < sim->recs[sim->opt_rec].ms))
      sim->opt_rec = i;
  }
  if (sim->opt_rec == HELION__SIM_NO_REC)
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: no configuration ran successfully (%zu valid "
                          "records, none OK); nothing to simulate",
                          path, sim->nrec);
  qsort(sim->sorted, sim->nrec, sizeof(double), double_cmp);
  return HELION_OK;
}

helion_status helion_sim_load_buffer(const char *name, const void *data,
                                     size_t len, size_t max_text_bytes,
                                     const helion_sim_opts_t *opts,
                                     helion_sim_t **out, helion_err_t *err) {
  helion_status rc;
  size_t max = max_text_bytes ? max_text_bytes : HELION_SIM_MAX_TEXT_BYTES;
  helion_sim_t *sim = calloc(1, sizeof(*sim));
  if (!sim)
    return helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
  sim->base.vt = &sim_vtable;
  sim->noise = opts && opts->noise;
  sim->compile_jobs = opts ? opts->compile_jobs : 0;
  if (sim->compile_jobs &&
      !(sim->slot_free = calloc(sim->compile_jobs, sizeof(double)))) {
    free(sim);
    return helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
  }
  helion_rng_seed(&sim->rng, opts ? opts->seed : 0);
  if (err)
    err->msg[0] = '\0';
  rc = helion__sim_read(sim, name, data, len, max, err);
  if (rc)
    goto out;
  rc = finish(sim, name, err);
  if (!rc)
    rc = helion__sim_build_space(sim, name, err);
  if (rc)
    goto out;
  sim->base.space = sim->space;
  *out = sim;
  sim = NULL;
out:
  /* Allocation failures deep in the reader come without a message. */
  if (rc == HELION_ERR_NOMEM && err && !err->msg[0])
    helion_err_set(err, rc, "%s: out of memory", name);
  /* Messages quote names and values from the file, which may hold control
   * characters; a message stays one printable line. */
  for (char *c = err && rc ? err->msg : NULL; c && *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      *c = '?';
  helion_sim_destroy(sim);
  return rc;
}

helion_status helion_sim_load(const char *path, const helion_sim_opts_t *opts,
                              helion_sim_t **out, helion_err_t *err) {
  char *data = NULL;
  size_t len = 0;
  size_t max = HELION_SIM_MAX_TEXT_BYTES;
  /* A gzipped landscape is smaller than its text: one cap serves both. */
  helion_status rc = helion_read_file(path, max, &data, &len, err);
  if (rc == HELION_ERR_LIMIT)
    rc = helion_err_set(err, rc,
                        "%s: larger than %zu MiB; the largest known landscape "
                        "is 16 MiB of text, so this is not a landscape",
                        path, max >> 20);
  if (!rc)
    rc = helion_sim_load_buffer(path, data, len, max, opts, out, err);
  free(data);
  return rc;
}

void helion_sim_destroy(helion_sim_t *sim) {
  if (!sim)
    return;
  helion__sim_landscape_cleanup(sim);
  free(sim->sorted);
  free(sim->visited);
  free(sim->slot_free);
  free(sim->queue);
  free(sim);
}

/* ------------------------------------------------------------ accessors */

helion_backend_t *helion_sim_backend(helion_sim_t *sim) {
  return &sim->base;
}

size_t helion_sim_compile_jobs(const helion_sim_t *sim) {
  return sim->compile_jobs;
}

void helion_sim_reset(helion_sim_t *sim, uint64_t seed) {
  memset(sim->visited, 0, sim->nrec ? sim->nrec : 1);
  sim->nvisited = 0;
  sim->clock = 0.0;
  sim->gpu_free = 0.0;
  for (size_t j = 0; j < sim->compile_jobs; j++)
    sim->slot_free[j] = 0.0;
  sim->nqueue = sim->nreturned = 0;
  helion_rng_seed(&sim->rng, seed);
}

const helion_space_t *helion_sim_space(const helion_sim_t *sim) {
  return sim->space;
}

size_t helion_sim_valid_count(const helion_sim_t *sim) {
  return sim->nrec;
}

size_t helion_sim_kind_count(const helion_sim_t *sim, helion_result_kind kind) {
  return (unsigned)kind < HELION_RESULT_KIND_COUNT ? sim->kind_count[kind] : 0;
}

size_t helion_sim_evaluations(const helion_sim_t *sim) {
  return sim->nvisited;
}

double helion_sim_elapsed(const helion_sim_t *sim) {
  return sim->clock;
}

double helion_sim_optimum(const helion_sim_t *sim, int64_t *out_cells) {
  if (out_cells)
    memcpy(out_cells, sim->cells + sim->opt_rec * sim->nparams,
           sim->nparams * sizeof(int64_t));
  return sim->recs[sim->opt_rec].ms;
}

bool helion_sim_lookup(const helion_sim_t *sim, const int64_t *cells,
                       helion_sim_record_t *out) {
  size_t i = helion__sim_find_rec(sim, cells);
  if (i == HELION__SIM_NO_REC)
    return false;
  const rec_t *r = &sim->recs[i];
  out->kind = r->kind;
  out->ms = r->ms;
  out->compile_s = r->compile_s;
  out->cost_s = r->cost_s;
  out->runs = r->nruns ? sim->runs + r->runs_off : NULL;
  out->nruns = r->nruns;
  return true;
}

const char *helion_sim_format(const helion_sim_t *sim) {
  return sim->format;
}

const char *helion_sim_device_name(const helion_sim_t *sim) {
  return sim->device_name;
}

const char *helion_sim_kernel_name(const helion_sim_t *sim) {
  return sim->kernel_name;
}

/* ------------------------------------------------------------ random baseline
 */

static double log_choose(double a, double b) {
  return lgamma(a + 1) - lgamma(b + 1) - lgamma(a - b + 1);
}

/* P(best of n draws is among the first k sorted configs). */
static double p_best_within(size_t N, size_t n, size_t k) {
  if (n == 0)
    return 0.0;
  if (N - k < n)
    return 1.0;
  return 1.0 - exp(log_choose((double)(N - k), (double)n) -
                   log_choose((double)N, (double)n));
}

helion_status helion_sim_random_expectation(const helion_sim_t *sim,
                                            size_t n_evals, double q,
                                            double *out_ratio,
                                            helion_err_t *err) {
  if (n_evals == 0 || !(q > 0.0 && q <= 1.0))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "random expectation: need n_evals >= 1 and 0 < q <= "
                          "1 (got %zu and %g)",
                          n_evals, q);
  size_t N = sim->nrec;
  double opt = sim->recs[sim->opt_rec].ms;
  /* The tolerance absorbs lgamma's rounding where P hits q exactly. */
  for (size_t k = 1; k <= N; k++)
    if (p_best_within(N, n_evals, k) >= q - 1e-9) {
      *out_ratio = sim->sorted[k - 1] / opt;
      return HELION_OK;
    }
  *out_ratio = sim->sorted[N - 1] / opt;
  return HELION_OK;
}

double helion_sim_random_within(const helion_sim_t *sim, size_t n_evals,
                                double factor) {
  double limit = factor * sim->recs[sim->opt_rec].ms;
  size_t m = 0;
  while (m < sim->nrec && sim->sorted[m] <= limit)
    m++;
  return p_best_within(sim->nrec, n_evals, m);
}
