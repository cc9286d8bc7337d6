/*
 * search_pattern.c: Helion's PatternSearch (reference §2.3). The best
 * `copies` configs of a random initial population each start a hill climb
 * through their radius-1 pattern neighbours; the climbs share one visited
 * set and are advanced one step per generation, and every generation's
 * new configs are benchmarked as one batch.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "search/search.h"

const helion_opt_decl_t helion__search_pattern_opts[HELION_PATTERN_NOPTS] = {
    HELION_OPT_PATTERN_DECLS};

/* One search copy: Helion's pattern_search_from generator as a state
 * machine. Between two generations it holds the candidates it yielded. */
typedef struct copy {
  helion_member_id current;
  size_t steps; /* yields so far */
  bool done;
  size_t first, count; /* its new configs in the generation batch */
} copy;

typedef struct pattern {
  helion_search_t *s;
  const helion_space_t *space;
  size_t ncells;
  size_t max_generations;
  double delta;
  size_t cap; /* neighbour cap, 0 = none */
  helion_configset_t visited;
  int64_t *nbrs; /* neighbour buffer */
  size_t nbrs_cap;
  int64_t *gen; /* the generation's new configs */
  size_t ngen, gen_cap;
  helion_member_id *gen_ids;
  size_t gen_ids_cap;
} pattern;

static helion_status reserve_gen(pattern *p, size_t need) {
  if (need <= p->gen_cap)
    return HELION_OK;
  size_t cap = p->gen_cap ? p->gen_cap : 256;
  while (cap < need)
    cap *= 2;
  int64_t *g = realloc(p->gen, cap * p->ncells * sizeof(int64_t));
  if (!g)
    return HELION_ERR_NOMEM;
  p->gen = g;
  p->gen_cap = cap;
  return HELION_OK;
}

/* The neighbours of `base`, truncated to the cap; *out_n of them in nbrs. */
static helion_status neighbors(pattern *p, const int64_t *base, size_t *out_n) {
  size_t n =
      helion_space_pattern_neighbors(p->space, base, 1, p->nbrs, p->nbrs_cap);
  if (n > p->nbrs_cap) {
    size_t cap = p->nbrs_cap ? p->nbrs_cap : 64;
    while (cap < n)
      cap *= 2;
    int64_t *b = realloc(p->nbrs, cap * p->ncells * sizeof(int64_t));
    if (!b)
      return HELION_ERR_NOMEM;
    p->nbrs = b;
    p->nbrs_cap = cap;
    n = helion_space_pattern_neighbors(p->space, base, 1, p->nbrs, cap);
  }
  if (p->cap && n > p->cap)
    n = p->cap;
  *out_n = n;
  return HELION_OK;
}

/*
 * Proposes the next step of copy `c` (pattern_search_from): the unvisited
 * valid neighbours of its current config, marked visited and appended to
 * the generation batch. c->count == 0 means the copy has finished.
 */
static helion_status copy_propose(pattern *p, copy *c, size_t index) {
  helion_status rc;
  c->count = 0;
  if (c->done)
    return HELION_OK;
  if (c->steps >= p->max_generations) {
    c->done = true;
    return HELION_OK;
  }
  size_t n;
  if ((rc = neighbors(p, helion_search_cells(p->s, c->current), &n)))
    return rc;
  if ((rc = reserve_gen(p, p->ngen + n)))
    return rc;
  c->first = p->ngen;
  for (size_t i = 0; i < n; i++) {
    int64_t *nb = p->nbrs + i * p->ncells;
    helion_space_normalize(p->space, nb);
    if (!helion_space_valid(p->space, nb))
      continue;
    bool added;
    if ((rc = helion_configset_add(&p->visited, nb, &added)))
      return rc;
    if (!added)
      continue;
    memcpy(p->gen + p->ngen * p->ncells, nb, p->ncells * sizeof(int64_t));
    p->ngen++;
    c->count++;
  }
  if (c->count == 0) {
    c->done = true;
    HELION_LOG(HELION_LOG_INFO, "Copy %zu finish because of no candidates",
               index);
    return HELION_OK;
  }
  c->steps++;
  return HELION_OK;
}

/* Judges the step just measured: move to the fastest candidate unless it
 * is the current config or improves by less than delta. */
static void copy_judge(pattern *p, copy *c, size_t index) {
  helion_search_t *s = p->s;
  helion_member_id best = c->current;
  double bp = helion_search_perf(s, best);
  for (size_t i = 0; i < c->count; i++) {
    helion_member_id id = p->gen_ids[c->first + i];
    double v = helion_search_perf(s, id);
    if (v < bp) {
      bp = v;
      best = id;
    }
  }
  double cp = helion_search_perf(s, c->current);
  if (best == c->current || (isfinite(bp) && isfinite(cp) && cp != 0 &&
                             fabs(bp / cp - 1.0) < p->delta)) {
    c->done = true;
    HELION_LOG(HELION_LOG_INFO, "Copy %zu finish because of no improvement",
               index);
    return;
  }
  c->current = best;
}

/* Appends id to pop[0..*n) unless present or not a member. */
static void pop_add(helion_member_id *pop, size_t *n, helion_member_id id) {
  if (id == HELION_NO_MEMBER)
    return;
  for (size_t i = *n; i-- > 0;)
    if (pop[i] == id)
      return;
  pop[(*n)++] = id;
}

helion_status helion__search_pattern_initial(helion_search_t *s,
                                            const char *name, size_t npop,
                                            helion_member_id *pop,
                                            size_t *n_out,
                                            helion_configset_t *visited,
                                            helion_err_t *err) {
  size_t n = 0;
  helion_status rc = helion_search_initial_population(
      s,
      (helion_initial_population)helion_search_opt_int(
          s, HELION_PATTERN_STRATEGY),
      npop, helion_search_opt_int(s, HELION_PATTERN_PAD_RANDOM) != 0,
      "Initial population", pop, &n, err);
  if (rc)
    return rc;
  /* The initial population is visited: no copy proposes it again. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (pop[i] == HELION_NO_MEMBER)
      continue;
    if (helion_configset_add(visited, helion_search_cells(s, pop[i]), NULL))
      return helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
    pop[k++] = pop[i];
  }
  *n_out = k;
  if ((rc = helion_search_rebench_population(s, pop, k, err)))
    return rc;
  helion_search_sort(s, pop, k);
  return HELION_OK;
}

helion_status helion__search_pattern_run(helion_search_t *s,
                                         helion_err_t *err) {
  size_t npop = (size_t)helion_search_opt_int(s, HELION_PATTERN_INITIAL_POPULATION);
  size_t ncopies = (size_t)helion_search_opt_int(s, HELION_PATTERN_COPIES);
  helion_initial_population strategy =
      (helion_initial_population)helion_search_opt_int(s,
                                                       HELION_PATTERN_STRATEGY);
  pattern p = {0};
  p.s = s;
  p.space = helion_search_space(s);
  p.ncells = p.space->ncells;
  p.max_generations =
      (size_t)helion_search_opt_int(s, HELION_PATTERN_MAX_GENERATIONS);
  p.delta = helion_search_opt_double(s, HELION_PATTERN_MIN_IMPROVEMENT_DELTA);
  p.cap = (size_t)helion_search_opt_int(s, HELION_PATTERN_NUM_NEIGHBORS_CAP);
  helion_configset_init(&p.visited, p.space);
  helion_member_id *pop = NULL, *next = NULL;
  copy *copies = NULL;
  size_t n = 0, ncp = 0;
  helion_status rc = HELION_OK;

  HELION_LOG(HELION_LOG_INFO,
             "Starting PatternSearch with initial_population=%s, copies=%zu, "
             "max_generations=%zu",
             helion_initial_population_name(strategy), ncopies,
             p.max_generations);
  pop = malloc(npop * sizeof(*pop));
  copies = calloc(ncopies, sizeof(*copies));
  if (!pop || !copies)
    goto nomem;
  if ((rc = helion__search_pattern_initial(s, "PatternSearch", npop, pop, &n,
                                           &p.visited, err)))
    goto out;
  for (size_t i = 0; i < n && ncp < ncopies; i++)
    if (isfinite(helion_search_perf(s, pop[i])))
      copies[ncp++].current = pop[i];
  char head[160];
  snprintf(head, sizeof(head),
           "Initial random population of %zu, %zu starting points:", n, ncp);
  if ((rc = helion_search_log_stats(s, head, pop, n, true, err)))
    goto out;

  for (size_t g = 1; g <= p.max_generations; g++) {
    if (helion_search_stopped(s))
      break;
    helion_search_set_generation(s, (int)g);
    p.ngen = 0;
    size_t active = 0;
    for (size_t c = 0; c < ncp; c++) {
      if ((rc = copy_propose(&p, &copies[c], c)))
        goto nomem;
      active += copies[c].count > 0;
    }
    if (active == 0) {
      HELION_LOG(HELION_LOG_INFO,
                 "Autotuning stop at generation %zu because of no active "
                 "search path",
                 g);
      break;
    }
    HELION_LOG(HELION_LOG_INFO,
               "Generation %zu starting: %zu neighbors, %zu active search "
               "path(s)",
               g, p.ngen, active);
    if (p.ngen > p.gen_ids_cap) {
      helion_member_id *ids = realloc(p.gen_ids, p.gen_cap * sizeof(*ids));
      if (!ids)
        goto nomem;
      p.gen_ids = ids;
      p.gen_ids_cap = p.gen_cap;
    }
    char desc[64];
    snprintf(desc, sizeof(desc), "Generation %zu:", g);
    if ((rc = helion_search_bench(s, p.gen, p.ngen, desc, p.gen_ids, err)))
      goto out;
    /* The new population: the prior best, then every copy's candidates. */
    free(next);
    next = malloc((p.ngen + 2 * ncp + 1) * sizeof(*next));
    if (!next)
      goto nomem;
    size_t nn = 0;
    pop_add(next, &nn, helion_search_argmin(s, pop, n));
    for (size_t c = 0; c < ncp; c++) {
      if (copies[c].count == 0)
        continue;
      pop_add(next, &nn, copies[c].current);
      /* New configs are distinct and were never members before. */
      for (size_t i = 0; i < copies[c].count; i++)
        if (p.gen_ids[copies[c].first + i] != HELION_NO_MEMBER)
          next[nn++] = p.gen_ids[copies[c].first + i];
    }
    helion_member_id *t = pop;
    pop = next;
    next = t;
    n = nn;
    if ((rc = helion_search_rebench_population(s, pop, n, err)))
      goto out;
    snprintf(head, sizeof(head), "Generation %zu complete:", g);
    if ((rc = helion_search_log_stats(s, head, pop, n, false, err)))
      goto out;
    for (size_t c = 0; c < ncp; c++)
      if (copies[c].count > 0)
        copy_judge(&p, &copies[c], c);
  }
  rc = helion_search_finalize(s, helion_search_argmin(s, pop, n), err);
  goto out;
nomem:
  rc = helion_err_set(err, HELION_ERR_NOMEM, "PatternSearch: out of memory");
out:
  helion_configset_cleanup(&p.visited);
  free(p.nbrs);
  free(p.gen);
  free(p.gen_ids);
  free(pop);
  free(next);
  free(copies);
  return rc;
}
