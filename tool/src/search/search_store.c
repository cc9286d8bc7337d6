/*
 * search_store.c: the search's member store and its config map, batch
 * benchmarking, rebenchmarks and comparisons, the budget and the
 * evaluation cap, and the trace lines (search.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"
#include "search/search_impl.h"
#include "util/interrupt.h"

/* splitmix64-style mixing of the cells: fast, and good enough for a table
 * that also compares the cells themselves. */
uint64_t helion__search_cells_hash(const int64_t *c, size_t n) {
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

bool helion__search_cells_eq(const helion_search_t *s, const int64_t *a,
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
    if (s->members[id].hash == h &&
        helion__search_cells_eq(s, mcells(s, id), cells))
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

helion_status helion__search_grow(void **p, size_t *cap, size_t need,
                                  size_t elem) {
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

helion_member_id helion_search_lookup(const helion_search_t *s,
                                      const int64_t *cells) {
  size_t id = map_find(s, cells, helion__search_cells_hash(cells, s->ncells));
  return id == NO_SLOT ? HELION_NO_MEMBER : id;
}

/* ------------------------------------------------------------- stopping -- */

bool helion__search_must_stop(helion_search_t *s) {
  int sig = helion_interrupted();
  if (sig) {
    if (s->stop != HELION_STOP_INTERRUPT) {
      s->stop = HELION_STOP_INTERRUPT;
      HELION_LOG(HELION_LOG_WARN,
                 "Interrupted by %s after %zu configs; returning best-so-far "
                 "(again to quit at once).",
                 helion_interrupt_name(sig), s->metrics.configs_tested);
    }
    return true;
  }
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
  if (helion__search_must_stop(s))
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

/* Each trace line is built whole in s->json and written with one write
 * (helion_file_write_record), so a reader, a crash or an interrupt never
 * sees half a record, and the lines written so far are on disk. */
static helion_status trace_ms(helion_buf_t *b, double ms) {
  return isfinite(ms) ? helion_buf_appendf(b, "%.9g", ms)
                      : helion_buf_puts(b, "null");
}

/* Ends the line in s->json (rc: how building it went) and writes it. */
static helion_status trace_write(helion_search_t *s, helion_status rc,
                                 helion_err_t *err) {
  helion_buf_t *b = &s->json;
  if (rc == HELION_OK)
    rc = helion_buf_putc(b, '\n');
  if (rc)
    return helion_err_set(err, rc, "search: cannot format a trace line");
  if ((rc = helion_file_write_record(s->opts.trace, helion_buf_str(b), b->len,
                                     err)))
    helion_err_prefix(err, "search: trace: ");
  return rc;
}

static helion_status trace_eval(helion_search_t *s, size_t id, double t,
                                helion_err_t *err) {
  const member *m = &s->members[id];
  helion_buf_t *b = &s->json;
  helion_buf_reset(b);
  helion_status rc = helion_buf_appendf(
      b, "{\"evaluation\": %zu, \"config\": ", s->metrics.configs_tested);
  if (!rc)
    rc = helion_config_to_json(s->space, mcells(s, id), false, b);
  if (!rc)
    rc = helion_buf_puts(b, ", \"ms\": ");
  if (!rc)
    rc = trace_ms(b, m->perf);
  if (!rc)
    rc = helion_buf_appendf(
        b, ", \"status\": \"%s\", \"elapsed\": %.6f, \"generation\": %d}",
        helion_result_kind_name(m->kind), t, s->generation);
  return trace_write(s, rc, err);
}

static helion_status trace_rebench(helion_search_t *s, const int64_t *cells,
                                   double ms, double t, helion_err_t *err) {
  helion_buf_t *b = &s->json;
  helion_buf_reset(b);
  helion_status rc = helion_buf_puts(b, "{\"rebench\": true, \"config\": ");
  if (!rc)
    rc = helion_config_to_json(s->space, cells, false, b);
  if (!rc)
    rc = helion_buf_puts(b, ", \"ms\": ");
  if (!rc)
    rc = trace_ms(b, ms);
  if (!rc)
    rc = helion_buf_appendf(b, ", \"elapsed\": %.6f}", t);
  return trace_write(s, rc, err);
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

helion_status helion__search_ensure_batch(helion_search_t *s, size_t n) {
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
    if (helion__search_cells_eq(s, s->batch_cells + p * s->ncells, c))
      return true;
  }
}

/* Records backend result r for the new member id, measured at time t. */
static helion_status record_result(helion_search_t *s, size_t id,
                                   const helion_bench_result_t *r, double t,
                                   helion_err_t *err) {
  member *m = &s->members[id];
  /* A backend that reports OK without a usable time, or a kind this build
   * does not know, measured a failure. */
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
  helion_status rc = record_perf(s, id, ms);
  if (rc)
    return helion_err_set(err, rc, "search: out of memory");
  s->metrics.configs_tested++;
  s->metrics.by_kind[kind]++;
  if (s->opts.trace)
    return trace_eval(s, id, t, err);
  return HELION_OK;
}

helion_status helion_search_bench(helion_search_t *s, const int64_t *configs,
                                  size_t n, const char *desc,
                                  helion_member_id *out_ids,
                                  helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t nc = s->ncells;
  if (n == 0)
    return HELION_OK;
  if ((rc = helion__search_ensure_batch(s, n)))
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
    uint64_t h = helion__search_cells_hash(c, nc);
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
    if (helion__search_must_stop(s))
      break;
    size_t chunk =
        s->opts.bench_chunk ? s->opts.bench_chunk : budget_chunk(s, nnew - at);
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
      if ((rc = member_add(s, c, helion__search_cells_hash(c, nc), &id))) {
        helion_err_set(err, rc, "search: out of memory");
        goto out;
      }
      if ((rc = record_result(s, id, &s->results[j], t, err)))
        goto out;
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

/* -------------------------------------------------- asynchronous runs -- */

bool helion_search_can_submit(const helion_search_t *s) {
  return helion_backend_can_submit(s->backend);
}

/* Room for `more` slots in flight, and for a submit of `more` configs. */
static helion_status flight_grow(helion_search_t *s, size_t more) {
  size_t need = s->nflight + more;
  if (need <= s->flight_cap)
    return HELION_OK;
  size_t cap = s->flight_cap ? s->flight_cap : 64;
  while (cap < need)
    cap *= 2;
  int64_t *c = realloc(s->flight_cells, cap * s->ncells * sizeof(int64_t));
  if (!c)
    return HELION_ERR_NOMEM;
  s->flight_cells = c;
  uint64_t *t = realloc(s->flight_tag, cap * sizeof(*t));
  if (!t)
    return HELION_ERR_NOMEM;
  s->flight_tag = t;
  uint64_t *st = realloc(s->send_tags, cap * sizeof(*st));
  if (!st)
    return HELION_ERR_NOMEM;
  s->send_tags = st;
  uint8_t *u = realloc(s->flight_used, cap);
  if (!u)
    return HELION_ERR_NOMEM;
  memset(u + s->flight_cap, 0, cap - s->flight_cap);
  s->flight_used = u;
  s->flight_cap = cap;
  return HELION_OK;
}

/* True when c is in flight (a linear scan, like the search for a free slot:
 * at most a few dozen are). */
static bool in_flight(const helion_search_t *s, const int64_t *c) {
  for (size_t k = 0; k < s->flight_cap; k++)
    if (s->flight_used[k] &&
        helion__search_cells_eq(s, s->flight_cells + k * s->ncells, c))
      return true;
  return false;
}

helion_status helion_search_submit(helion_search_t *s, const int64_t *configs,
                                   size_t n, uint64_t tag, size_t *queued,
                                   helion_err_t *err) {
  size_t nc = s->ncells;
  *queued = 0;
  if (n == 0 || helion__search_must_stop(s))
    return HELION_OK;
  helion_status rc = helion__search_ensure_batch(s, n);
  if (!rc)
    rc = flight_grow(s, n);
  if (rc)
    return helion_err_set(err, rc, "search: out of memory");
  size_t left = helion_search_evals_left(s);
  left = left > s->nflight ? left - s->nflight : 0;
  size_t k = 0;
  for (size_t i = 0; i < n && k < left; i++) {
    int64_t *c = s->send_cells + k * nc;
    memcpy(c, configs + i * nc, nc * sizeof(int64_t));
    helion_space_normalize(s->space, c);
    if (!helion_space_valid(s->space, c)) {
      s->metrics.invalid++;
      continue;
    }
    if (helion_search_lookup(s, c) != HELION_NO_MEMBER || in_flight(s, c))
      continue;
    size_t slot = 0; /* the first free one: flight_grow made room */
    while (s->flight_used[slot])
      slot++;
    memcpy(s->flight_cells + slot * nc, c, nc * sizeof(int64_t));
    s->flight_tag[slot] = tag;
    s->flight_used[slot] = 1;
    s->send_tags[k++] = slot;
    s->nflight++;
  }
  if (k == 0)
    return HELION_OK;
  if ((rc = helion_backend_submit(s->backend, s->send_cells, k, s->send_tags,
                                  err)))
    return rc;
  *queued = k;
  return HELION_OK;
}

helion_status helion_search_collect(helion_search_t *s, helion_member_id *id,
                                    uint64_t *tag, bool *got,
                                    helion_err_t *err) {
  *got = false;
  if (s->nflight == 0)
    return HELION_OK;
  uint64_t slot;
  helion_bench_result_t r;
  size_t n;
  helion_status rc = helion_backend_collect(s->backend, 1, &slot, &r, &n, err);
  if (rc)
    return rc;
  if (n != 1 || slot >= s->flight_cap || !s->flight_used[slot])
    return helion_err_set(err, HELION_ERR_INVALID,
                          "search: the backend returned no result or an "
                          "unknown tag (%zu results) with %zu in flight",
                          n, s->nflight);
  const int64_t *c = s->flight_cells + slot * s->ncells;
  size_t mid;
  if ((rc = member_add(s, c, helion__search_cells_hash(c, s->ncells), &mid)))
    return helion_err_set(err, rc, "search: out of memory");
  *tag = s->flight_tag[slot];
  s->flight_used[slot] = 0;
  s->nflight--;
  if ((rc = record_result(s, mid, &r, helion_backend_elapsed(s->backend), err)))
    return rc;
  *id = mid;
  *got = true;
  return HELION_OK;
}

bool helion_search_should_rebench(const helion_search_t *s,
                                  helion_member_id id) {
  if (id >= s->nmembers)
    return false;
  double p = s->members[id].perf;
  return isfinite(p) &&
         p < s->dval[HELION_DRV_REBENCHMARK_THRESHOLD].d * s->best_perf_so_far;
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
  return helion__search_ensure_batch(s, n);
}

/* Re-times rb_ids[0..n) (already distinct). */
static helion_status rebench_ids(helion_search_t *s, size_t n, double target_ms,
                                 helion_err_t *err) {
  size_t nc = s->ncells;
  /* After an interrupt nothing more is timed, not even the rebenchmarks an
   * algorithm asks for directly (which the budget lets run). */
  if (helion_interrupted() && helion__search_must_stop(s))
    return HELION_OK;
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
    if (s->opts.trace &&
        (rc = trace_rebench(s, mcells(s, s->rb_ids[j]), ms, t, err)))
      return rc;
  }
  return HELION_OK;
}

helion_status helion_search_trace_rebench(helion_search_t *s,
                                          const int64_t *cells, double ms,
                                          helion_err_t *err) {
  if (!s->opts.trace)
    return HELION_OK;
  return trace_rebench(s, cells, ms, helion_backend_elapsed(s->backend), err);
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
  if (helion__search_must_stop(s))
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
      helion_search_should_rebench(s, b) && !helion__search_must_stop(s)) {
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
