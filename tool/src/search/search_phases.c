/*
 * search_phases.c: the phases every population search shares (search.h):
 * the initial population, the statistics log lines, final verification of
 * the finalists and the finishing rounds. The facts are Helion's,
 * reference/helion-autotuner.md §2.2 and §6.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"
#include "search/search_impl.h"

/* ---------------------------------------------------- initial population -- */

/* Appends c to list (n configs so far) unless present; dedup by scanning a
 * small table keyed on the batch table. Returns true when added. */
static bool list_add(helion_search_t *s, int64_t *list, size_t *n,
                     const int64_t *c) {
  uint64_t h = helion__search_cells_hash(c, s->ncells);
  size_t mask = 2 * s->batch_cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    size_t p = s->batch_table[i];
    if (p == NO_SLOT) {
      memcpy(list + *n * s->ncells, c, s->ncells * sizeof(int64_t));
      s->batch_table[i] = (*n)++;
      return true;
    }
    if (helion__search_cells_eq(s, list + p * s->ncells, c))
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
  if (!tmp || helion__search_ensure_batch(s, n) != HELION_OK) {
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
  if (!list || !tmp || (rc = helion__search_ensure_batch(s, room))) {
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
  /* Ids that name no member were never measured (invalid, or cut by the
   * budget, the cap or an interrupt): counted apart, not as errors. */
  size_t ok = 0, timeout = 0, error = 0, unmeasured = 0;
  helion_status rc = helion__search_grow((void **)&s->stat_scratch,
                                         &s->stat_cap, n + 1, sizeof(double));
  if (rc)
    return helion_err_set(err, rc, "search: out of memory");
  for (size_t i = 0; i < n; i++) {
    double p = helion_search_perf(s, ids[i]);
    if (isfinite(p))
      s->stat_scratch[ok++] = p;
    else if (ids[i] >= s->nmembers)
      unmeasured++;
    else if (s->members[ids[i]].kind == HELION_RESULT_TIMEOUT)
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
  w += snprintf(counts + w, sizeof(counts) - (size_t)w, "ok=%zu", ok);
  if (unmeasured)
    snprintf(counts + w, sizeof(counts) - (size_t)w, " not measured=%zu",
             unmeasured);
  helion_member_id best = helion_search_argmin(s, ids, n);
  helion_buf_reset(&s->json);
  if (best != HELION_NO_MEMBER &&
      (rc = helion_config_to_json(s->space, mcells(s, best), false, &s->json)))
    return helion_err_set(err, rc, "search: cannot format a configuration");
  /* What a long tune's log (CMake's output at configure time) shows as its
   * progress: configs so far and the rate. */
  double sec = helion_log_elapsed();
  char so_far[96];
  snprintf(so_far, sizeof(so_far), "%zu configs so far, %.1f configs/s",
           s->nmembers, sec > 0 ? (double)s->nmembers / sec : 0.0);
  if (ok)
    HELION_LOG(HELION_LOG_INFO,
               "%s\n%s | min=%.4f mid=%.4f max=%.4f\nbest: %s\n%s", headline,
               counts, s->stat_scratch[0], s->stat_scratch[ok / 2],
               s->stat_scratch[ok - 1], helion_buf_str(&s->json), so_far);
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
  if (s->dval[HELION_DRV_FINAL_TOP_K].i <= 1 || helion__search_must_stop(s))
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
  if ((rc = helion_search_rebench(s, f, k,
                                  s->dval[HELION_DRV_FINAL_TARGET_MS].d, err)))
    goto out;
  helion_member_id winner = helion_search_argmin(s, f, k);
  if (winner == HELION_NO_MEMBER)
    winner = best;
  /* A pinned config (a user seed or the default) wins within tolerance. */
  helion_member_id pinned_best = helion_search_argmin(s, s->pinned, s->npinned);
  if (pinned_best != HELION_NO_MEMBER && winner != pinned_best &&
      helion_search_perf(s, pinned_best) <=
          helion_search_perf(s, winner) *
              (1.0 + s->dval[HELION_DRV_PINNED_TOLERANCE].d))
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
  for (int round = 1; round <= s->dval[HELION_DRV_FINISHING_ROUNDS].i;
       round++) {
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
      if (!helion_space_valid(sp, c) || helion__search_cells_eq(s, c, cc))
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
  if (s->dval[HELION_DRV_FINISHING_ROUNDS].i > 0 &&
      (rc = finishing_rounds(s, winner, &winner, err)))
    return rc;
  s->best = winner;
  return HELION_OK;
}
