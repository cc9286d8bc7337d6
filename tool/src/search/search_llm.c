/*
 * search_llm.c: the LLM-guided searches (reference/helion-llm-and-aot.md
 * part A): LLMGuidedSearch (A2: rounds of configs an LLM proposes, seeded
 * by the default and a few random configs, refined from the results so
 * far), and the hybrids LLMSeededSearch and LLMSeededLFBOTreeSearch (A9:
 * a short LLM stage whose best config seeds a second-stage search and,
 * for LFBO, whose every result trains its surrogate).
 *
 * The LLM (llm/llm.h) is asked through one function, ask(), which either
 * sends the request (helion_llm_request) or, with HELION_LLM_REPLAY=TRACE,
 * answers it from the LLM exchanges recorded in a trace, in order, with no
 * network: a replayed `simulate` writes the identical trace. Every exchange
 * is one trace line:
 *   {"llm": {"round": r, "messages": m, "prompt": "...",
 *            "response": "..." | null, "error": "..." (on failure),
 *            "rejected": k, "duplicates": d,
 *            "configs": [{"config": {...}, "ms": x|null,
 *                         "status": "ok"}, ...]}}
 * (prompt = the user message of the request; configs = the new unique
 * ones parsed from the response, with their measured times). Texts pass
 * through helion_llm_redact: the API key never reaches a trace or a log.
 *
 * As in Helion, round 0's request is in flight (on a thread of its own,
 * joined before its answer is used) while the default and random seeds are
 * measured; the initial prompt reports no results, so it needs none. The
 * trace is written on the main thread after the join, in the order the
 * sequential code wrote it. When measuring the seeds fails, the request
 * is still waited for (up to its timeout) before the error returns.
 *
 * Deviations from Helion: the hybrids' LLM stage skips its own final
 * verification (stage 2's covers its members, which stay in the same
 * store); an LLM failure in a hybrid is one warning, after which stage 2
 * runs unseeded (Helion fails the tune), while in LLMGuidedSearch a failure
 * is an error carrying the provider's message; and a seeded stage 2 pads
 * its from_best_available population with random configs
 * (best_available_pad_random, default on; Helion's is off) up to its
 * initial_population less the configs stage 1 measured. Unpadded, a
 * stage 1 whose proposals were all invalid leaves stage 2 only the default
 * and the best seed, and its tail suffers: pnpoly_RTX_3090, 20 runs of 220
 * evaluations, p90 ratio 1.1515 against LFBOTreeSearch alone's 1.0002
 * (tests/bench/RESULTS.md, "LLM-seeded LFBO vs LFBOTreeSearch"); padded,
 * 1.0002. It is a trade: padded, gemm_RTX_3090's p90 with invalid
 * proposals is 1.0491 (unpadded 1.0000), convolution_A4000's 1.0176
 * (1.0036), against LFBOTreeSearch alone's 1.0000 and 1.0109.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "search/search.h"
#include "util/json.h"

/* ------------------------------------------------------------ options -- */

const helion_opt_decl_t helion__search_llm_opts[HELION_LLM_NOPTS] = {
    HELION_OPT_LLM_DECLS(0, "", 4, 1, 1, "HELION_LLM_MAX_ROUNDS")};

/* The second stages LLMSeededSearch may run (not an LLM search). */
static const char *const stage2_choices[] = {
    "LFBOTreeSearch", "LFBOPatternSearch", "PatternSearch",
    "DifferentialEvolutionSearch", "DESurrogateHybrid", "RandomSearch", NULL};

const helion_opt_decl_t
    helion__search_llm_seeded_opts[HELION_LLM_HYBRID_NOPTS] = {
        HELION_OPT_LLM_DECLS(0, "llm_", 1, 1, 0,
                             "HELION_HYBRID_LLM_MAX_ROUNDS"),
        HELION_OPT_LLM_PAD_DECL(0),
        [HELION_LLM_SECOND_STAGE] = {
            .name = "second_stage_algorithm",
            .type = HELION_OPT_ENUM,
            .max = 5,
            .choices = stage2_choices,
            .env = "HELION_HYBRID_SECOND_STAGE_ALGORITHM",
            .help = "the search the LLM stage's best config seeds"}};

/* ------------------------------------------------------------- replay -- */

/* HELION_LLM_REPLAY: the recorded exchanges of a trace, answered in order. */
typedef struct replay {
  cJSON **items; /* each trace line's "llm" object (owned by roots) */
  cJSON **roots;
  size_t n, next;
  char *path;
} replay_t;

static void replay_free(replay_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++)
    cJSON_Delete(r->roots[i]);
  free(r->items);
  free(r->roots);
  free(r->path);
  free(r);
}

static helion_status replay_load(const char *path, replay_t **out,
                                 helion_err_t *err) {
  char *text = NULL;
  size_t len = 0;
  helion_status rc = helion_read_file(path, (size_t)1 << 30, &text, &len, err);
  if (rc) {
    helion_err_prefix(err, "HELION_LLM_REPLAY: ");
    return rc;
  }
  replay_t *r = calloc(1, sizeof(*r));
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  if (r) {
    r->items = calloc(lines, sizeof(*r->items));
    r->roots = calloc(lines, sizeof(*r->roots));
    r->path = helion_strdup(path);
  }
  if (!r || !r->items || !r->roots || !r->path) {
    free(text);
    replay_free(r);
    return helion_err_set(err, HELION_ERR_NOMEM, "HELION_LLM_REPLAY: out of "
                                                 "memory");
  }
  char *line = text;
  while (line < text + len) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    size_t l = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
    if (nl)
      *nl = '\0';
    if (l > 8 && strstr(line, "{\"llm\": ")) {
      cJSON *root = cJSON_ParseWithLength(line, l);
      cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "llm");
      if (cJSON_IsObject(item)) {
        r->roots[r->n] = root;
        r->items[r->n++] = item;
      } else {
        cJSON_Delete(root);
      }
    }
    line += l + 1;
  }
  free(text);
  HELION_LOG(HELION_LOG_INFO,
             "LLM replay: %zu recorded exchanges from %s (no network)", r->n,
             path);
  *out = r;
  return HELION_OK;
}

/* The next recorded answer: its response text (a copy) or its error. */
static helion_status replay_next(replay_t *r, size_t round, char **out_text,
                                 helion_err_t *err) {
  if (r->next >= r->n)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "HELION_LLM_REPLAY: %s holds %zu LLM exchanges; "
                          "this run asks for more (round %zu)",
                          r->path, r->n, round);
  const cJSON *it = r->items[r->next++];
  const cJSON *resp = cJSON_GetObjectItemCaseSensitive(it, "response");
  if (cJSON_IsString(resp)) {
    *out_text = helion_strdup(resp->valuestring);
    return *out_text ? HELION_OK
                     : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(it, "error");
  return helion_err_set(err, HELION_ERR_IO, "%s",
                        cJSON_IsString(e) ? e->valuestring
                                          : "recorded LLM failure");
}

/* --------------------------------------------------------- the search -- */

typedef struct llm_opts {
  size_t per_round, max_rounds, nrandom, context_rounds;
  double delta;
} llm_opts;

typedef struct llm {
  helion_search_t *s;
  const helion_space_t *space;
  size_t nc;
  llm_opts o;
  helion_llm_context_t ctx;
  helion_llm_settings_t settings;
  bool have_settings;
  replay_t *rp;
  /* The conversation: roles and owned texts; [0] system, [1] initial. */
  const char **roles;
  char **texts;
  size_t nmsg, msg_cap;
  /* Every unique config measured (latest_result_by_key), in order. */
  helion_member_id *res;
  size_t nres, res_cap;
  helion_configset_t seen; /* every config proposed so far */
  helion_llm_result_t *lr; /* scratch for the refinement state */
  size_t lr_cap;
  helion_buf_t buf;
  helion_member_id default_id;
  size_t requests;
  bool llm_failed; /* the error came from the LLM (settings, request) */
} llm_t;

static helion_status nomem(helion_err_t *err) {
  return helion_err_set(err, HELION_ERR_NOMEM, "LLM search: out of memory");
}

static helion_status push_msg(llm_t *L, const char *role, const char *text) {
  if (helion__search_grow((void **)&L->texts, &L->msg_cap, L->nmsg + 1,
                          sizeof(char *)))
    return HELION_ERR_NOMEM;
  const char **r = realloc(L->roles, L->msg_cap * sizeof(char *));
  if (!r)
    return HELION_ERR_NOMEM;
  L->roles = r;
  char *t = helion_strdup(text);
  if (!t)
    return HELION_ERR_NOMEM;
  L->roles[L->nmsg] = role;
  L->texts[L->nmsg++] = t;
  return HELION_OK;
}

/* Adds measured members to the results (each once). */
static helion_status ingest(llm_t *L, const helion_member_id *ids, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (ids[i] == HELION_NO_MEMBER)
      continue;
    bool dup = false;
    for (size_t j = 0; j < L->nres && !dup; j++)
      dup = L->res[j] == ids[i];
    if (dup)
      continue;
    if (helion__search_grow((void **)&L->res, &L->res_cap, L->nres + 1,
                            sizeof(*L->res)))
      return HELION_ERR_NOMEM;
    L->res[L->nres++] = ids[i];
  }
  return HELION_OK;
}

/* Rebenchmarks the population (the best 2 * per_round results). */
static helion_status finish_round(llm_t *L, size_t round, helion_err_t *err) {
  size_t n = L->nres;
  helion_member_id *pop = malloc((n + 1) * sizeof(*pop));
  if (!pop)
    return nomem(err);
  memcpy(pop, L->res, n * sizeof(*pop));
  helion_search_sort(L->s, pop, n);
  if (n > 2 * L->o.per_round)
    n = 2 * L->o.per_round;
  helion_status rc = helion_search_rebench_population(L->s, pop, n, err);
  char head[64];
  snprintf(head, sizeof(head), "Round %zu complete:", round);
  if (!rc)
    rc = helion_search_log_stats(L->s, head, pop, n, false, err);
  free(pop);
  return rc;
}

static double best_ms(const llm_t *L) {
  double b = INFINITY;
  for (size_t i = 0; i < L->nres; i++) {
    double v = helion_search_perf(L->s, L->res[i]);
    if (v < b)
      b = v;
  }
  return b;
}

static const char *failure_name(helion_result_kind k) {
  return k == HELION_RESULT_OK ? NULL : helion_result_kind_name(k);
}

/* The search state the refinement prompt reports. */
static helion_status make_state(llm_t *L, size_t round,
                                helion_llm_state_t *st) {
  if (helion__search_grow((void **)&L->lr, &L->lr_cap, L->nres + 1,
                          sizeof(*L->lr)))
    return HELION_ERR_NOMEM;
  for (size_t i = 0; i < L->nres; i++) {
    helion_member_id id = L->res[i];
    L->lr[i].cells = helion_search_cells(L->s, id);
    L->lr[i].ms = helion_search_perf(L->s, id);
    L->lr[i].failure = failure_name(helion_search_kind(L->s, id));
  }
  memset(st, 0, sizeof(*st));
  st->round = round;
  st->max_rounds = L->o.max_rounds;
  st->configs_tested = L->nres;
  st->best_ms = best_ms(L);
  st->default_ms = helion_search_perf(L->s, L->default_id);
  st->results = L->lr;
  st->nresults = L->nres;
  st->configs_per_round = L->o.per_round;
  return HELION_OK;
}

/* One request: the system and initial messages, the last context_rounds
 * round trips, then `prompt` (round >= 1) ; or the replayed answer. */
static helion_status ask(llm_t *L, size_t round, const char *prompt,
                         char **out_text, size_t *out_nmsg,
                         helion_err_t *err) {
  size_t keep = 2 * L->o.context_rounds, from = 2;
  if (L->nmsg - 2 > keep)
    from = L->nmsg - keep;
  size_t n = 2 + (L->nmsg - from) + (prompt ? 1 : 0);
  *out_nmsg = n;
  L->requests++;
  if (L->rp)
    return replay_next(L->rp, round, out_text, err);
  helion_llm_message_t *m = malloc(n * sizeof(*m));
  if (!m)
    return nomem(err);
  size_t k = 0;
  for (size_t i = 0; i < L->nmsg; i++)
    if (i < 2 || i >= from)
      m[k++] = (helion_llm_message_t){L->roles[i], L->texts[i]};
  if (prompt)
    m[k++] = (helion_llm_message_t){"user", prompt};
  helion_status rc = helion_llm_request(&L->settings, m, k, out_text, err);
  free(m);
  if (rc)
    helion_llm_redact(&L->settings, err->msg);
  return rc;
}

/*
 * Round 0's request runs on a thread of its own while the main thread
 * measures the seeds (reference A2, round 0 steps 2-4). The thread only
 * calls ask(), which reads the conversation (L->nmsg, roles, texts), the
 * options, the settings or the replay, and counts L->requests; the main
 * thread changes none of these until pthread_join, the one point where the
 * two meet. The answer waits in this struct; logging and the trace line
 * stay on the main thread, after the join, so the trace is the one the
 * sequential order wrote.
 */
typedef struct answer {
  llm_t *L;
  helion_status rc;
  char *text; /* owned; NULL after a failure */
  size_t nmsg;
  helion_err_t err;
} answer_t;

static void *ask_thread(void *arg) {
  answer_t *a = arg;
  a->rc = ask(a->L, 0, NULL, &a->text, &a->nmsg, &a->err);
  return NULL;
}

/* Writes a text to the trace line, key redacted. */
static helion_status put_text(llm_t *L, helion_buf_t *b, const char *text) {
  if (!text)
    return helion_buf_puts(b, "null");
  if (!L->have_settings)
    return helion_buf_put_json_string(b, text);
  char *t = helion_strdup(text);
  if (!t)
    return HELION_ERR_NOMEM;
  helion_llm_redact(&L->settings, t);
  helion_status rc = helion_buf_put_json_string(b, t);
  free(t);
  return rc;
}

/* The exchange's trace line (see the file comment). */
static helion_status trace_exchange(llm_t *L, size_t round, size_t nmsg,
                                    const char *prompt, const char *response,
                                    const char *error,
                                    const helion_llm_parsed_t *p,
                                    const helion_member_id *ids, size_t nids,
                                    helion_err_t *err) {
  FILE *f = helion_search_opts(L->s)->trace;
  if (!f)
    return HELION_OK;
  helion_buf_t *b = &L->buf;
  helion_buf_reset(b);
  helion_status rc = helion_buf_appendf(
      b, "{\"llm\": {\"round\": %zu, \"messages\": %zu, \"prompt\": ", round,
      nmsg);
  if (!rc)
    rc = put_text(L, b, prompt);
  if (!rc)
    rc = helion_buf_puts(b, ", \"response\": ");
  if (!rc)
    rc = put_text(L, b, response);
  if (!rc && error) {
    rc = helion_buf_puts(b, ", \"error\": ");
    if (!rc)
      rc = put_text(L, b, error);
  }
  if (!rc && p)
    rc = helion_buf_appendf(b, ", \"rejected\": %zu, \"duplicates\": %zu",
                            p->rejected, p->duplicates);
  if (!rc)
    rc = helion_buf_puts(b, ", \"configs\": [");
  for (size_t i = 0; !rc && p && i < nids; i++) {
    helion_member_id id = ids[i];
    double ms = helion_search_perf(L->s, id);
    rc = helion_buf_appendf(b, "%s{\"config\": ", i ? ", " : "");
    if (!rc)
      rc = helion_config_to_json(L->space, p->cells + i * L->nc, false, b);
    if (!rc && isfinite(ms))
      rc = helion_buf_appendf(b, ", \"ms\": %.9g", ms);
    else if (!rc)
      rc = helion_buf_puts(b, ", \"ms\": null");
    if (!rc)
      rc = helion_buf_appendf(
          b, ", \"status\": \"%s\"}",
          id == HELION_NO_MEMBER
              ? "not measured"
              : helion_result_kind_name(helion_search_kind(L->s, id)));
  }
  if (!rc)
    rc = helion_buf_puts(b, "]}}\n");
  if (rc)
    return helion_err_set(err, rc, "LLM search: cannot format a trace line");
  if ((rc = helion_file_write_record(f, helion_buf_str(b), b->len, err)))
    helion_err_prefix(err, "search: trace: ");
  return rc;
}

/*
 * Asks (or takes the answer `got` that round 0's thread received; the
 * text's ownership passes here), parses, drops configs already seen,
 * measures the new ones and ingests them; writes the exchange's trace
 * line. *out_new: how many new unique configs the answer brought.
 */
static helion_status llm_round(llm_t *L, size_t round, const char *prompt,
                               answer_t *got, size_t *out_new,
                               helion_err_t *err) {
  char *text = NULL;
  size_t nmsg = 0;
  helion_llm_parsed_t p;
  memset(&p, 0, sizeof(p));
  helion_member_id *ids = NULL;
  *out_new = 0;
  helion_status rc;
  if (got) {
    rc = got->rc;
    text = got->text;
    nmsg = got->nmsg;
    got->text = NULL;
    if (rc)
      *err = got->err;
  } else {
    rc = ask(L, round, prompt, &text, &nmsg, err);
  }
  if (rc) {
    L->llm_failed = rc != HELION_ERR_NOMEM;
    helion_err_t terr;
    if (trace_exchange(L, round, nmsg, prompt, NULL, err->msg, NULL, NULL, 0,
                       &terr))
      HELION_LOG(HELION_LOG_WARN, "%s", terr.msg);
    return rc;
  }
  if (prompt && (rc = push_msg(L, "user", prompt)))
    goto nomem;
  if ((rc = push_msg(L, "assistant", text)))
    goto nomem;
  if ((rc = helion_llm_parse(L->space, text, L->o.per_round, &p, err)))
    goto out;
  /* Keep the configs not seen before, in order (p.cells compacted). */
  size_t k = 0;
  for (size_t i = 0; i < p.nconfigs; i++) {
    int64_t *c = p.cells + i * L->nc;
    helion_space_normalize(L->space, c);
    bool added = false;
    if ((rc = helion_configset_add(&L->seen, c, &added)))
      goto nomem;
    if (!added)
      continue;
    if (k != i)
      memmove(p.cells + k * L->nc, c, L->nc * sizeof(int64_t));
    k++;
  }
  HELION_LOG(HELION_LOG_INFO,
             "Round %zu: the LLM proposed %zu valid configs (%zu rejected%s%s), "
             "%zu new",
             round, p.nconfigs, p.rejected, p.why[0] ? ": " : "", p.why, k);
  p.nconfigs = k;
  ids = malloc((k + 1) * sizeof(*ids));
  if (!ids)
    goto nomem;
  if (k) {
    char desc[32];
    if (round)
      snprintf(desc, sizeof(desc), "Round %zu", round);
    else
      snprintf(desc, sizeof(desc), "Round 0 LLM");
    helion_search_set_generation(L->s, (int)round);
    if ((rc = helion_search_bench(L->s, p.cells, k, desc, ids, err)))
      goto out;
    if ((rc = ingest(L, ids, k)))
      goto nomem;
  }
  *out_new = k;
  rc = trace_exchange(L, round, nmsg, prompt, text, NULL, &p, ids, k, err);
  goto out;
nomem:
  rc = nomem(err);
out:
  helion_llm_parsed_cleanup(&p);
  free(ids);
  free(text);
  return rc;
}

static llm_opts read_opts(const helion_search_t *s, size_t base) {
  llm_opts o;
  o.per_round = (size_t)helion_search_opt_int(s, base + HELION_LLM_CONFIGS_PER_ROUND);
  o.max_rounds = (size_t)helion_search_opt_int(s, base + HELION_LLM_MAX_ROUNDS);
  o.nrandom = (size_t)helion_search_opt_int(s, base + HELION_LLM_INITIAL_RANDOM);
  o.delta = helion_search_opt_double(s, base + HELION_LLM_MIN_IMPROVEMENT_DELTA);
  o.context_rounds =
      (size_t)helion_search_opt_int(s, base + HELION_LLM_CONTEXT_ROUNDS);
  return o;
}

static void llm_cleanup(llm_t *L) {
  for (size_t i = 0; i < L->nmsg; i++)
    free(L->texts[i]);
  free(L->texts);
  free(L->roles);
  free(L->res);
  free(L->lr);
  helion_configset_cleanup(&L->seen);
  helion_buf_cleanup(&L->buf);
  if (L->have_settings)
    helion_llm_settings_cleanup(&L->settings);
  replay_free(L->rp);
}

/* Provider settings, or the replay source (HELION_LLM_REPLAY). */
static helion_status llm_connect(llm_t *L, helion_err_t *err) {
  const char *rp = getenv("HELION_LLM_REPLAY");
  if (rp && *rp)
    return replay_load(rp, &L->rp, err);
  helion_status rc = helion_llm_settings_from_env(&L->settings, err);
  if (rc == HELION_OK)
    L->have_settings = true;
  return rc;
}

/*
 * Round 0 (reference A2): the system and initial messages (the initial
 * prompt reports no results, so it does not wait for the seeds), the
 * request sent on a thread, the default and random seeds measured
 * meanwhile, then, after the join, the answer's configs measured as in
 * every round. A request that fails is reported after the seeds are
 * measured, as before; a thread that cannot start is an error.
 */
static helion_status round0(llm_t *L, size_t *out_new, helion_err_t *err) {
  helion_search_t *s = L->s;
  helion_llm_state_t st;
  memset(&st, 0, sizeof(st));
  st.max_rounds = L->o.max_rounds;
  st.configs_per_round = L->o.per_round;
  if (push_msg(L, "system", helion_llm_system_prompt()))
    return nomem(err);
  helion_buf_reset(&L->buf);
  helion_status rc = helion_llm_prompt_initial(&L->ctx, &st, &L->buf, err);
  if (rc)
    return rc;
  if (push_msg(L, "user", helion_buf_str(&L->buf)))
    return nomem(err);

  size_t nseed = 1 + L->o.nrandom;
  int64_t *seeds = malloc(nseed * L->nc * sizeof(int64_t));
  helion_member_id *ids = malloc(nseed * sizeof(*ids));
  answer_t got;
  memset(&got, 0, sizeof(got));
  got.L = L;
  pthread_t th;
  int e = 0;
  if (!seeds || !ids) {
    rc = nomem(err);
    goto out;
  }
  helion_space_default(L->space, seeds);
  size_t n = 1 + helion_search_random_configs(s, L->o.nrandom, seeds + L->nc);
  for (size_t i = 0; i < n && !rc; i++) {
    helion_space_normalize(L->space, seeds + i * L->nc);
    rc = helion_configset_add(&L->seen, seeds + i * L->nc, NULL);
  }
  if (rc) {
    rc = nomem(err);
    goto out;
  }
  if ((e = pthread_create(&th, NULL, ask_thread, &got)) != 0) {
    rc = helion_err_set(err, HELION_ERR_IO,
                        "LLM search: cannot start the thread of round 0's "
                        "request: %s",
                        strerror(e));
    goto out;
  }
  HELION_LOG(HELION_LOG_INFO,
             "Round 0: the LLM request is in flight while %zu seed configs "
             "are measured",
             n);
  helion_search_set_generation(s, 0);
  rc = helion_search_bench(s, seeds, n, "Round 0 seed", ids, err);
  if (!rc) {
    L->default_id = ids[0];
    if ((rc = ingest(L, ids, n)))
      rc = nomem(err);
  }
  /* The answer is read only after this join. */
  if ((e = pthread_join(th, NULL)) != 0 && !rc)
    rc = helion_err_set(err, HELION_ERR_IO,
                        "LLM search: cannot join the thread of round 0's "
                        "request: %s",
                        strerror(e));
  if (!rc)
    rc = llm_round(L, 0, NULL, &got, out_new, err);
out:
  free(got.text);
  free(seeds);
  free(ids);
  return rc;
}

/*
 * The LLM search's rounds (reference A2) on s; after an error L->llm_failed
 * says whether it came from the LLM (settings or request) rather than from
 * measuring.
 */
static helion_status llm_search(llm_t *L, helion_err_t *err) {
  helion_search_t *s = L->s;
  helion_status rc;
  size_t nnew;
  const helion_search_opts_t *so = helion_search_opts(s);
  if (so->llm_context)
    L->ctx = *so->llm_context;
  if (!L->ctx.kernel_name)
    L->ctx.kernel_name = "kernel";
  L->ctx.space = L->space;
  helion_configset_init(&L->seen, L->space);
  helion_buf_init(&L->buf, (size_t)64 << 20);
  HELION_LOG(HELION_LOG_INFO,
             "Starting LLMGuidedSearch with configs_per_round=%zu, "
             "max_rounds=%zu, initial_random_configs=%zu",
             L->o.per_round, L->o.max_rounds, L->o.nrandom);
  if ((rc = llm_connect(L, err))) {
    L->llm_failed = L->rp == NULL;
    return rc;
  }

  /* Round 0: the LLM's first request is in flight while the default and
   * random seeds are measured; then its batch. */
  if ((rc = round0(L, &nnew, err)))
    return rc;
  if (nnew == 0)
    HELION_LOG(HELION_LOG_INFO, "Round 0: no new unique configs from the LLM");
  if ((rc = finish_round(L, 0, err)))
    return rc;

  double prev = best_ms(L);
  size_t stagnant = 0;
  helion_llm_state_t st;
  for (size_t round = 1; round < L->o.max_rounds; round++) {
    if (helion_search_stopped(s))
      break;
    if ((rc = make_state(L, round, &st)))
      return nomem(err);
    helion_buf_t prompt;
    helion_buf_init(&prompt, (size_t)1 << 20);
    rc = helion_llm_prompt_refine(&L->ctx, &st, &prompt, err);
    if (!rc)
      rc = llm_round(L, round, helion_buf_str(&prompt), NULL, &nnew, err);
    helion_buf_cleanup(&prompt);
    if (rc)
      return rc;
    if (nnew == 0) {
      HELION_LOG(HELION_LOG_INFO,
                 "Round %zu: no new unique configs from LLM, stopping", round);
      break;
    }
    if ((rc = finish_round(L, round, err)))
      return rc;
    double best = best_ms(L);
    if (isfinite(prev) && isfinite(best) && prev > 0) {
      if ((prev - best) / prev < L->o.delta) {
        if (++stagnant >= 2) {
          HELION_LOG(HELION_LOG_INFO,
                     "Round %zu: no improvement of %g%% in 2 rounds, stopping",
                     round, 100 * L->o.delta);
          break;
        }
      } else {
        stagnant = 0;
      }
    }
    prev = best;
  }
  return HELION_OK;
}

static helion_member_id llm_best(const llm_t *L) {
  return helion_search_argmin(L->s, L->res, L->nres);
}

helion_status helion__search_llm_run(helion_search_t *s, helion_err_t *err) {
  llm_t L;
  memset(&L, 0, sizeof(L));
  L.s = s;
  L.space = helion_search_space(s);
  L.nc = L.space->ncells;
  L.o = read_opts(s, 0);
  L.default_id = HELION_NO_MEMBER;
  helion_status rc = llm_search(&L, err);
  if (rc == HELION_OK) {
    helion_search_metrics_t *m =
        (helion_search_metrics_t *)helion_search_metrics(s);
    m->llm_requests = L.requests;
    helion_member_id best = llm_best(&L);
    if (best == HELION_NO_MEMBER)
      rc = helion_search_no_config(s, "LLMGuidedSearch", err);
    else
      rc = helion_search_finalize(s, best, err);
  } else if (rc != HELION_ERR_NOMEM) {
    helion_err_prefix(err, "LLMGuidedSearch: ");
  }
  llm_cleanup(&L);
  return rc;
}

/* ------------------------------------------------------------ hybrids -- */

/*
 * Stage 1 (the LLM search with the hybrid's llm_* options at `base`),
 * then stage 2 (algorithm a with options v) seeded with stage 1's best and,
 * when `train`, trained on stage 1's results.
 */
static helion_status hybrid_run(helion_search_t *s, size_t base,
                                const helion_search_algo_t *a,
                                helion_opt_value_t *v, bool train,
                                helion_err_t *err) {
  const char *name = helion_search_metrics(s)->algorithm;
  helion_search_metrics_t *m =
      (helion_search_metrics_t *)helion_search_metrics(s);
  llm_t L;
  memset(&L, 0, sizeof(L));
  L.s = s;
  L.space = helion_search_space(s);
  L.nc = L.space->ncells;
  L.o = read_opts(s, base);
  L.default_id = HELION_NO_MEMBER;
  m->hybrid = true;
  m->second_stage = a->name;
  m->llm_seed_ms = m->stage2_best_ms = INFINITY;
  helion_status rc = HELION_OK;
  helion_member_id seed = HELION_NO_MEMBER;
  double t0 = helion_search_elapsed(s);
  if (L.o.max_rounds > 0) {
    rc = llm_search(&L, err);
    m->llm_requests = L.requests;
    if (rc && L.llm_failed) {
      HELION_LOG(HELION_LOG_WARN,
                 "%s: the LLM stage failed, so %s runs unseeded: %s", name,
                 a->name, err->msg);
      rc = HELION_OK;
      L.nres = 0; /* neither seed nor training data */
    } else if (rc) {
      goto out;
    } else {
      seed = llm_best(&L);
    }
  }
  m->llm_configs_tested = m->configs_tested;
  m->llm_seed_ms = helion_search_perf(s, seed);
  m->used_llm_seed = seed != HELION_NO_MEMBER;
  if (L.o.max_rounds > 0)
    HELION_LOG(HELION_LOG_INFO,
               "%s stage 1 (LLM): %zu configs tested, seed %.4f ms, %.1fs",
               name, m->llm_configs_tested, m->llm_seed_ms,
               helion_search_elapsed(s) - t0);
  if (seed != HELION_NO_MEMBER) {
    size_t is = helion__search_algo_opt_index(a, "initial_population_strategy");
    if (is == SIZE_MAX)
      HELION_LOG(HELION_LOG_INFO,
                 "%s cannot start from a seed config; the LLM seed may not "
                 "influence it",
                 a->name);
    else
      v[is].i = HELION_INITIAL_FROM_BEST_AVAILABLE;
    bool pad = helion_search_opt_int(s, base + HELION_LLM_PAD_RANDOM) != 0;
    size_t ip = helion__search_algo_opt_index(a, "pad_random");
    if (ip != SIZE_MAX)
      v[ip].i = pad;
    /* Padded, stage 1's measured configs count as part of the initial
     * population: stage 2 draws only the rest, so the hybrid explores as
     * many configs before its search as the second stage alone would. */
    size_t in = helion__search_algo_opt_index(a, "initial_population");
    if (pad && in != SIZE_MAX) {
      int64_t rest = v[in].i - (int64_t)m->llm_configs_tested;
      v[in].i = rest > 2 ? rest : 2;
    }
  }
  double t1 = helion_search_elapsed(s);
  size_t before = m->configs_tested;
  if (!helion_search_stopped(s))
    rc = helion__search_run_stage(s, a, v, seed, L.res, train ? L.nres : 0,
                                  err);
  else if (seed != HELION_NO_MEMBER)
    rc = helion_search_finalize(s, seed, err);
  else
    rc = helion_search_no_config(s, name, err);
  m->stage2_configs_tested = m->configs_tested - before;
  m->stage2_best_ms = helion_search_best_ms(s);
  HELION_LOG(HELION_LOG_INFO,
             "%s stage 2 (%s): %zu configs tested, best %.4f ms, %.1fs", name,
             a->name, m->stage2_configs_tested, m->stage2_best_ms,
             helion_search_elapsed(s) - t1);
out:
  llm_cleanup(&L);
  return rc;
}

helion_status helion__search_llm_seeded_run(helion_search_t *s,
                                            helion_err_t *err) {
  const char *stage2 =
      stage2_choices[helion_search_opt_int(s, HELION_LLM_SECOND_STAGE)];
  const helion_search_algo_t *a = helion_search_algo_find(stage2, err);
  if (!a)
    return HELION_ERR_USAGE;
  helion_opt_value_t v[HELION_SEARCH_MAX_ALGO_OPTS];
  helion__search_algo_values(s, a, v);
  return hybrid_run(s, 0, a, v, true, err);
}

helion_status helion__search_llm_lfbo_run(helion_search_t *s,
                                          helion_err_t *err) {
  const helion_search_algo_t *a =
      helion_search_algo_find("LFBOTreeSearch", err);
  if (!a)
    return HELION_ERR_USAGE;
  helion_opt_value_t v[HELION_SEARCH_MAX_ALGO_OPTS];
  for (size_t i = 0; i < HELION_LFBO_NOPTS; i++) {
    if (a->opts[i].type == HELION_OPT_DOUBLE)
      v[i].d = helion_search_opt_double(s, i);
    else
      v[i].i = helion_search_opt_int(s, i);
  }
  return hybrid_run(s, HELION_LFBO_NOPTS, a, v, true, err);
}
