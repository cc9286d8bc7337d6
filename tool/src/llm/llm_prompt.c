/*
 * llm_prompt.c: the texts an LLM-guided search sends (reference A4): the
 * system prompt, the first user prompt (what to return, the kernel, the
 * GPU, the configuration space, the default, a strategy, the task) and a
 * refinement prompt per later round (search state, anchors, results best
 * first, patterns of the best and of the failed configs, next step, task).
 *
 * The wording is ours. Everything about the space comes from the space
 * (its params, restrictions, default, helion_config_to_json), so the prompt
 * never disagrees with what helion_llm_parse accepts. Every prompt stays
 * within LLM_PROMPT_MAX bytes: sections are cut at a line boundary with a
 * marker that says so, and the kernel source gets whatever room is left.
 * Output depends only on the inputs (no clock, no randomness).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"
#include "model/config.h"
#include "model/space.h"
#include "util/json.h"
#include "util/util.h"

#define LLM_PROMPT_MAX ((size_t)64 << 10)
/* Results listed in a refinement prompt, configs the patterns look at. */
#define RESULTS_SHOWN 25
#define TOP_K 5
#define FAILED_EXAMPLES 4
/* Distinct values of one key counted in a pattern (more: not counted). */
#define PATTERN_MAX_VALUES 256
#define DEFAULT_PER_ROUND 15

static const char system_prompt[] =
    "You tune the launch and compile parameters of one GPU kernel. Each "
    "candidate you propose is compiled and timed on a real GPU, and the "
    "fastest correct one wins.\n\n"
    "Ground rules:\n"
    "- The configuration space in the user's message is the only source of "
    "truth: use its parameter names exactly, only the values it allows, and "
    "arrays of exactly the length it states. A config that breaks a "
    "constraint is thrown away unmeasured.\n"
    "- Give each config sparsely: only the parameters you change from the "
    "default configuration. Everything you leave out keeps its default. When "
    "unsure about a parameter, leave it out rather than guess.\n"
    "- What the usual knobs do: block_sizes are the tile sizes of the "
    "kernel's loops (bigger tiles mean more reuse but more registers and "
    "shared memory); num_warps is the number of warps per block; num_stages "
    "is the depth of the software pipeline for loads; pid_type picks how "
    "tiles map to blocks (flat: one block per tile; persistent kinds: a "
    "fixed grid sized to the SMs that loops over tiles); l2_groupings "
    "reorders tiles for L2 reuse; maxnreg caps registers per thread; "
    "num_sm_multiplier sets blocks per SM of a persistent grid; "
    "loop_orders permute loop nests; load_eviction_policies hint the cache. "
    "Names in capitals are the kernel author's own parameters.\n"
    "- Sensible habits: keep the block sizes' product in proportion to the "
    "threads (num_warps * 32); powers of two are the usual good values; "
    "persistent scheduling pays off when there are more tiles than SMs; "
    "change a few things at a time so the timings teach something; do not "
    "push several aggressive knobs to their maximum in one config.\n\n"
    "Answer format: one line of minified JSON and nothing else, exactly "
    "{\"configs\":[{...},{...}]}, each object a sparse config with distinct "
    "contents. Use JSON spelling (true, false, null, double quotes), no "
    "comments, no trailing commas, no prose.";

const char *helion_llm_system_prompt(void) { return system_prompt; }

/* ---------------------------------------------------------------- text */

/* How much of text[0, len) fits in `budget` bytes: all of it, else the
 * longest prefix ending at a newline, else a prefix not splitting a UTF-8
 * character. */
static size_t cut_len(const char *text, size_t len, size_t budget) {
  if (len <= budget)
    return len;
  size_t n = budget;
  while (n > 0 && text[n - 1] != '\n')
    n--;
  if (n > budget / 2)
    return n;
  n = budget;
  while (n > 0 && ((unsigned char)text[n] & 0xC0u) == 0x80u)
    n--;
  return n;
}

typedef struct section {
  const char *title;
  helion_buf_t body;
  size_t cap; /* bytes of body shown at most */
} section_t;

static void section_init(section_t *s, const char *title, size_t cap) {
  s->title = title;
  helion_buf_init(&s->body, HELION_BUF_DEFAULT_MAX);
  s->cap = cap;
}

/* "## Title\n<body>" with the body cut to `cap` and a marker saying so. */
static helion_status section_put(helion_buf_t *out, const section_t *s) {
  const char *body = helion_buf_str(&s->body);
  size_t len = s->body.len;
  while (len && body[len - 1] == '\n')
    len--;
  size_t keep = cut_len(body, len, s->cap);
  helion_status rc = helion_buf_appendf(out, "## %s\n", s->title);
  if (!rc)
    rc = helion_buf_append(out, body, keep);
  if (!rc && keep < len)
    rc = helion_buf_appendf(out,
                            "%s  [section cut here: %zu of %zu bytes shown to "
                            "keep the prompt under %zu KiB]",
                            keep && body[keep - 1] == '\n' ? "" : "\n", keep,
                            len, LLM_PROMPT_MAX >> 10);
  return rc;
}

/* Bytes section_put writes at most (title, body up to cap, marker). */
static size_t section_size(const section_t *s) {
  size_t len = s->body.len < s->cap ? s->body.len : s->cap;
  return strlen(s->title) + 4 + len + 128;
}

static helion_status sections_put(helion_buf_t *out, section_t *secs,
                                  size_t n, helion_err_t *err) {
  helion_buf_t tmp;
  helion_buf_init(&tmp, LLM_PROMPT_MAX);
  helion_status rc = HELION_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    if (i)
      rc = helion_buf_puts(&tmp, "\n\n");
    if (!rc)
      rc = section_put(&tmp, &secs[i]);
  }
  if (!rc)
    rc = helion_buf_putc(&tmp, '\n');
  if (!rc)
    rc = helion_buf_append(out, helion_buf_str(&tmp), tmp.len);
  if (rc == HELION_ERR_LIMIT)
    rc = helion_err_set(err, rc,
                        "prompt: the text does not fit (%zu KiB at most, or "
                        "the output buffer's limit)",
                        LLM_PROMPT_MAX >> 10);
  else if (rc)
    rc = helion_err_set(err, rc, "prompt: out of memory");
  helion_buf_cleanup(&tmp);
  return rc;
}

static void sections_cleanup(section_t *secs, size_t n) {
  for (size_t i = 0; i < n; i++)
    helion_buf_cleanup(&secs[i].body);
}

/* ------------------------------------------------------- configs as text */

/* The config as a cJSON object (every key). NULL on failure. */
static cJSON *config_tree(const helion_space_t *s, const int64_t *cells) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  cJSON *root = NULL;
  if (!helion_config_to_json(s, cells, false, &b)) {
    helion_err_t err;
    if (helion_json_parse(b.data, b.len, "config", &root, &err))
      root = NULL;
  }
  helion_buf_cleanup(&b);
  return root;
}

/* Appends the keys of `cells` whose value differs from the default, as
 * one-line JSON ("{}" when none). */
static helion_status put_diff(helion_buf_t *out, const helion_space_t *s,
                              const cJSON *dflt, const int64_t *cells) {
  cJSON *cfg = config_tree(s, cells);
  cJSON *diff = cJSON_CreateObject();
  helion_status rc = HELION_ERR_NOMEM;
  if (cfg && diff) {
    rc = HELION_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, cfg) {
      const cJSON *d = cJSON_GetObjectItemCaseSensitive(dflt, it->string);
      if (d && cJSON_Compare(it, d, true))
        continue;
      cJSON *copy = cJSON_Duplicate(it, true);
      if (!copy || !cJSON_AddItemToObject(diff, it->string, copy)) {
        cJSON_Delete(copy);
        rc = HELION_ERR_NOMEM;
        break;
      }
    }
    if (!rc)
      rc = helion_json_write(diff, 0, out, NULL);
  }
  cJSON_Delete(cfg);
  cJSON_Delete(diff);
  return rc;
}

static helion_status put_value(helion_buf_t *b, const helion_value_t *v) {
  switch (v->kind) {
  case HELION_VALUE_NULL:
    return helion_buf_puts(b, "null");
  case HELION_VALUE_BOOL:
    return helion_buf_puts(b, v->i ? "true" : "false");
  case HELION_VALUE_INT:
    return helion_buf_appendf(b, "%lld", (long long)v->i);
  case HELION_VALUE_FLOAT:
    return helion_buf_appendf(b, "%.17g", v->f);
  case HELION_VALUE_STR:
    return helion_buf_put_json_string(b, v->s ? v->s : "");
  }
  return HELION_OK;
}

/* ------------------------------------------------------------ key groups */

/* The config keys of a space in flat order, each with its slots. */
typedef struct keys {
  const char **key; /* per group, borrowed from the params */
  size_t *first;    /* per group: its first slot */
  size_t *count;    /* per group: how many slots */
  int *group;       /* per slot: its group */
  size_t n;
} keys_t;

static void keys_cleanup(keys_t *k) {
  free(k->key);
  free(k->first);
  free(k->count);
  free(k->group);
  memset(k, 0, sizeof(*k));
}

static helion_status keys_build(const helion_space_t *s, keys_t *k) {
  memset(k, 0, sizeof(*k));
  size_t np = s->nparams ? s->nparams : 1;
  k->key = calloc(np, sizeof(*k->key));
  k->first = calloc(np, sizeof(*k->first));
  k->count = calloc(np, sizeof(*k->count));
  k->group = calloc(np, sizeof(*k->group));
  if (!k->key || !k->first || !k->count || !k->group) {
    keys_cleanup(k);
    return HELION_ERR_NOMEM;
  }
  for (size_t i = 0; i < s->nparams; i++) {
    size_t g = 0;
    while (g < k->n && strcmp(k->key[g], s->params[i].key) != 0)
      g++;
    if (g == k->n) {
      k->key[g] = s->params[i].key;
      k->first[g] = i;
      k->n++;
    }
    k->count[g]++;
    k->group[i] = (int)g;
  }
  return HELION_OK;
}

/* Whether configs a and b agree on every slot of group g. */
static bool same_key_value(const helion_space_t *s, const keys_t *k, size_t g,
                           const int64_t *a, const int64_t *b) {
  for (size_t i = k->first[g]; i < s->nparams; i++) {
    if (k->group[i] != (int)g)
      continue;
    size_t off = s->cell_off[i], w = s->width[i];
    if (memcmp(a + off, b + off, w * sizeof(*a)) != 0)
      return false;
  }
  return true;
}

/* Appends the JSON value of key g in `cells`. */
static helion_status put_key_value(helion_buf_t *out, const helion_space_t *s,
                                   const keys_t *k, size_t g,
                                   const int64_t *cells) {
  cJSON *cfg = config_tree(s, cells);
  const cJSON *v = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, k->key[g]) : 0;
  helion_status rc = v ? helion_json_write(v, 0, out, NULL) : HELION_ERR_NOMEM;
  cJSON_Delete(cfg);
  return rc;
}

/* ---------------------------------------------------- the space as text */

static helion_status put_frag(helion_buf_t *b, const helion_space_t *s,
                              size_t slot) {
  const helion_param_t *p = &s->params[slot];
  const helion_frag_t *f = &p->frag;
  helion_frag_kind kind = f->kind == HELION_FRAG_LIST ? f->inner : f->kind;
  helion_status rc = HELION_OK;
  if (f->kind == HELION_FRAG_PERM)
    return helion_buf_appendf(b,
                              "a permutation of 0..%zu (an array of %zu "
                              "distinct integers)",
                              f->length ? f->length - 1 : 0, f->length);
  if (f->kind == HELION_FRAG_LIST)
    rc = helion_buf_appendf(b, "an array of %zu, each ", f->length);
  switch (kind) {
  case HELION_FRAG_POW2:
    if (!rc)
      rc = helion_buf_appendf(b, "a power of two from %lld to %lld",
                              (long long)f->low, (long long)f->high);
    break;
  case HELION_FRAG_INT:
    if (!rc)
      rc = helion_buf_appendf(b, "an integer from %lld to %lld",
                              (long long)f->low, (long long)f->high);
    break;
  case HELION_FRAG_BOOL:
    if (!rc)
      rc = helion_buf_puts(b, "true or false");
    break;
  case HELION_FRAG_ENUM:
    if (!rc)
      rc = helion_buf_puts(b, "one of ");
    for (size_t j = 0; j < f->nchoices && !rc; j++) {
      if (j)
        rc = helion_buf_puts(b, ", ");
      if (!rc)
        rc = put_value(b, &f->choices[j]);
    }
    break;
  default:
    break;
  }
  return rc;
}

/* One line per config key: name, what values it takes, its default. */
static helion_status put_space(helion_buf_t *b, const helion_space_t *s,
                               const keys_t *k, const cJSON *dflt) {
  helion_status rc = HELION_OK;
  for (size_t g = 0; g < k->n && !rc; g++) {
    size_t first = k->first[g];
    const helion_param_t *p0 = &s->params[first];
    rc = helion_buf_appendf(b, "  - %s: ", k->key[g]);
    if (!rc && p0->index >= 0) {
      /* A sequence key: one array element per slot. */
      rc = helion_buf_appendf(b, "an array of exactly %zu: ", k->count[g]);
      size_t e = 0;
      for (size_t i = first; i < s->nparams && !rc; i++) {
        if (k->group[i] != (int)g)
          continue;
        rc = helion_buf_appendf(b, "%s[%zu]", e ? "; " : "", e);
        if (!rc && s->params[i].name)
          rc = helion_buf_appendf(b, " (%s)", s->params[i].name);
        if (!rc)
          rc = helion_buf_puts(b, " ");
        if (!rc)
          rc = put_frag(b, s, i);
        e++;
      }
    } else if (!rc) {
      rc = put_frag(b, s, first);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(dflt, k->key[g]);
    if (!rc && d) {
      rc = helion_buf_puts(b, "; default ");
      if (!rc)
        rc = helion_json_write(d, 0, b, NULL);
    }
    if (!rc)
      rc = helion_buf_putc(b, '\n');
  }
  size_t nr = helion_space_restriction_count(s);
  if (!rc && nr)
    rc = helion_buf_puts(b, "Every config must also satisfy these "
                            "constraints (names as in parentheses above; "
                            "other names are shape variables and device "
                            "properties):\n");
  for (size_t r = 0; r < nr && !rc; r++)
    rc = helion_buf_appendf(b, "  - %s\n",
                            helion_space_restriction_text(s, r));
  if (!rc)
    rc = helion_buf_puts(b, "Number of configurations (before the "
                            "constraints): ");
  if (!rc)
    rc = helion_space_size_str(s, b);
  if (!rc)
    rc = helion_buf_putc(b, '\n');
  return rc;
}

/* The longest run of backticks in text, so a fence can be longer. */
static size_t longest_backticks(const char *t) {
  size_t best = 0, run = 0;
  for (; *t; t++) {
    run = *t == '`' ? run + 1 : 0;
    if (run > best)
      best = run;
  }
  return best;
}

/* --------------------------------------------------------- initial prompt */

static size_t per_round(const helion_llm_state_t *st) {
  return st && st->configs_per_round ? st->configs_per_round
                                     : DEFAULT_PER_ROUND;
}

enum { I_GOAL, I_KERNEL, I_GPU, I_SPACE, I_DEFAULT, I_STRATEGY, I_TASK, I_N };

helion_status helion_llm_prompt_initial(const helion_llm_context_t *ctx,
                                        const helion_llm_state_t *state,
                                        helion_buf_t *out, helion_err_t *err) {
  const helion_space_t *s = ctx->space;
  size_t n = per_round(state);
  section_t sec[I_N];
  section_init(&sec[I_GOAL], "Goal and Output Format", 4096);
  section_init(&sec[I_KERNEL], "Kernel", LLM_PROMPT_MAX);
  section_init(&sec[I_GPU], "GPU", 2048);
  section_init(&sec[I_SPACE], "Configuration Space", 24 << 10);
  section_init(&sec[I_DEFAULT], "Default Configuration", 8 << 10);
  section_init(&sec[I_STRATEGY], "Search Strategy", 4096);
  section_init(&sec[I_TASK], "Task", 2048);
  keys_t k = {0};
  cJSON *dflt = config_tree(s, s->default_cells);
  helion_status rc = dflt ? keys_build(s, &k) : HELION_ERR_NOMEM;
  helion_buf_t *b;

  b = &sec[I_GOAL].body;
  if (!rc)
    rc = helion_buf_appendf(
        b,
        "Propose up to %zu configurations of the kernel below that you expect "
        "to run fast on this GPU. Reply with one line of minified JSON and "
        "nothing else: {\"configs\":[{...},...]}. Each object is sparse: it "
        "holds only the parameters it changes from the default "
        "configuration, with the keys and value forms of the configuration "
        "space below. Keys that are not in the space, values outside it and "
        "configs that break a constraint are discarded.\n",
        n);

  b = &sec[I_KERNEL].body;
  if (!rc)
    rc = helion_buf_appendf(b, "Name: %s\n",
                            ctx->kernel_name ? ctx->kernel_name : "(unnamed)");
  if (!rc && ctx->signature)
    rc = helion_buf_appendf(b, "Arguments: %.2000s\n", ctx->signature);
  if (!rc && ctx->shape)
    rc = helion_buf_appendf(b, "Problem shape: %.1000s\n", ctx->shape);

  b = &sec[I_GPU].body;
  if (!rc)
    rc = helion_buf_appendf(b, "  %s\n",
                            ctx->device ? ctx->device : "(not described)");

  if (!rc)
    rc = put_space(&sec[I_SPACE].body, s, &k, dflt);
  if (!rc)
    rc = helion_config_to_json(s, s->default_cells, false,
                               &sec[I_DEFAULT].body);

  b = &sec[I_STRATEGY].body;
  if (!rc)
    rc = helion_buf_appendf(
        b,
        "  - Read the source, the shape and the GPU first; decide what "
        "bounds this kernel (memory traffic, compute, or launch overhead).\n"
        "  - Spread the %zu configs: roughly 4 in 10 close to the default "
        "(one or two changes), 4 in 10 balanced changes of tile sizes and "
        "warps together, the rest bolder.\n"
        "  - Vary num_warps and num_stages across the batch rather than "
        "fixing them.\n"
        "  - Change tile sizes coherently with the warps and the problem "
        "shape; tiles much larger than the problem waste the GPU.\n"
        "  - Try both flat and persistent scheduling when the space offers "
        "them.\n"
        "  - Keep each config to 2-6 changed parameters, and every array at "
        "its exact length.\n"
        "  - Fewer valid configs are better than many malformed ones.\n",
        n);

  b = &sec[I_TASK].body;
  if (!rc)
    rc = helion_buf_appendf(
        b,
        "Give the first batch: up to %zu distinct configs, some near the "
        "default and some exploring. Reply with minified JSON only: "
        "{\"configs\":[...]}\n",
        n);

  /* The source gets the room the other sections leave. */
  if (!rc) {
    size_t fixed = 0;
    for (int i = 0; i < I_N; i++)
      fixed += section_size(&sec[i]);
    size_t room = LLM_PROMPT_MAX > fixed + 512 ? LLM_PROMPT_MAX - fixed - 512
                                               : 0;
    b = &sec[I_KERNEL].body;
    const char *src = ctx->source;
    if (!src) {
      rc = helion_buf_puts(b, "Source: not available.\n");
    } else {
      size_t len = strlen(src);
      size_t ticks = longest_backticks(src);
      size_t fence = ticks < 3 ? 3 : ticks + 1;
      if (fence > 64)
        fence = 64;
      size_t over = 2 * fence + 160;
      size_t keep = cut_len(src, len, room > over ? room - over : 0);
      char f[65];
      memset(f, '`', fence);
      f[fence] = '\0';
      rc = helion_buf_appendf(b, "Source:\n%scuda\n", f);
      if (!rc)
        rc = helion_buf_append(b, src, keep);
      if (!rc && keep && src[keep - 1] != '\n')
        rc = helion_buf_putc(b, '\n');
      if (!rc && keep < len)
        rc = helion_buf_appendf(b,
                                "[source cut here: %zu of %zu bytes shown to "
                                "keep the prompt under %zu KiB]\n",
                                keep, len, LLM_PROMPT_MAX >> 10);
      if (!rc)
        rc = helion_buf_appendf(b, "%s\n", f);
    }
  }
  if (rc)
    rc = helion_err_set(err, rc == HELION_ERR_NOMEM ? rc : HELION_ERR_NOMEM,
                        "prompt: out of memory");
  else
    rc = sections_put(out, sec, I_N, err);
  cJSON_Delete(dflt);
  keys_cleanup(&k);
  sections_cleanup(sec, I_N);
  return rc;
}

/* ------------------------------------------------------ refinement prompt */

typedef struct ranked {
  double ms;
  size_t idx;
} ranked_t;

static int ranked_cmp(const void *a, const void *b) {
  const ranked_t *x = a, *y = b;
  if (x->ms < y->ms)
    return -1;
  if (x->ms > y->ms)
    return 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Counts of the values key g takes among `sel` results. */
typedef struct valcount {
  size_t rep; /* a result that has the value */
  size_t count;
} valcount_t;

static size_t count_values(const helion_space_t *s, const keys_t *k, size_t g,
                           const helion_llm_state_t *st, const size_t *sel,
                           size_t nsel, valcount_t *vc) {
  size_t nv = 0;
  for (size_t i = 0; i < nsel; i++) {
    const int64_t *c = st->results[sel[i]].cells;
    size_t v = 0;
    while (v < nv && !same_key_value(s, k, g, st->results[vc[v].rep].cells, c))
      v++;
    if (v == nv) {
      if (nv == PATTERN_MAX_VALUES)
        continue;
      vc[nv].rep = sel[i];
      vc[nv].count = 0;
      nv++;
    }
    vc[v].count++;
  }
  /* Most frequent first; ties by first appearance (stable). */
  for (size_t i = 1; i < nv; i++)
    for (size_t j = i; j > 0 && vc[j].count > vc[j - 1].count; j--) {
      valcount_t t = vc[j];
      vc[j] = vc[j - 1];
      vc[j - 1] = t;
    }
  return nv;
}

static bool is_failure(const helion_llm_result_t *r) {
  return !isfinite(r->ms) || r->ms <= 0;
}

static const char *const failure_kinds[] = {"compile", "runtime", "accuracy",
                                            "timeout"};
#define NFAILURE_KINDS 4

static size_t failure_kind(const helion_llm_result_t *r) {
  for (size_t i = 0; r->failure && i < NFAILURE_KINDS; i++)
    if (strcmp(r->failure, failure_kinds[i]) == 0)
      return i;
  return NFAILURE_KINDS; /* "other" */
}

enum {
  R_STATE,
  R_ANCHORS,
  R_RESULTS,
  R_TOP,
  R_FAILED,
  R_NEXT,
  R_TASK,
  R_N
};

static helion_status put_ms(helion_buf_t *b, double ms) {
  return helion_buf_appendf(b, "%.4f ms", ms);
}

static helion_status put_top_patterns(helion_buf_t *b, const helion_space_t *s,
                                      const keys_t *k,
                                      const helion_llm_state_t *st,
                                      const size_t *top, size_t ntop,
                                      valcount_t *vc) {
  helion_status rc = HELION_OK;
  if (ntop < 3)
    return helion_buf_puts(b, "Not enough successful configs to compare "
                              "yet.\n");
  bool any = false;
  for (size_t g = 0; g < k->n && !rc; g++) {
    size_t nv = count_values(s, k, g, st, top, ntop, vc);
    if (nv == 1 && same_key_value(s, k, g, st->results[vc[0].rep].cells,
                                  s->default_cells))
      continue;
    any = true;
    rc = helion_buf_appendf(b, "  - %s: ", k->key[g]);
    for (size_t v = 0; v < nv && v < 3 && !rc; v++) {
      if (v)
        rc = helion_buf_puts(b, ", ");
      if (!rc)
        rc = put_key_value(b, s, k, g, st->results[vc[v].rep].cells);
      if (!rc)
        rc = helion_buf_appendf(b, " in %zu of the top %zu", vc[v].count,
                                ntop);
    }
    if (!rc && nv > 3)
      rc = helion_buf_appendf(b, ", %zu other values", nv - 3);
    if (!rc)
      rc = helion_buf_puts(b, " (default ");
    if (!rc)
      rc = put_key_value(b, s, k, g, s->default_cells);
    if (!rc)
      rc = helion_buf_puts(b, ")\n");
  }
  if (!rc && !any)
    rc = helion_buf_puts(b, "The best configs all keep the default "
                            "values.\n");
  return rc;
}

static helion_status put_failed_patterns(helion_buf_t *b,
                                         const helion_space_t *s,
                                         const keys_t *k, const cJSON *dflt,
                                         const helion_llm_state_t *st,
                                         const size_t *failed, size_t nfailed,
                                         const size_t *top, size_t ntop,
                                         valcount_t *vc, valcount_t *vc2) {
  if (!nfailed)
    return helion_buf_puts(b, "No config has failed so far.\n");
  size_t counts[NFAILURE_KINDS + 1] = {0};
  for (size_t i = 0; i < nfailed; i++)
    counts[failure_kind(&st->results[failed[i]])]++;
  helion_status rc = helion_buf_puts(b, "Failures by kind:");
  for (size_t i = 0; i <= NFAILURE_KINDS && !rc; i++)
    if (counts[i])
      rc = helion_buf_appendf(
          b, " %s=%zu", i < NFAILURE_KINDS ? failure_kinds[i] : "other",
          counts[i]);
  if (!rc)
    rc = helion_buf_puts(b, "\nValues common among the failed configs (and "
                            "how often the top configs use them):\n");
  bool any = false;
  for (size_t g = 0; g < k->n && !rc; g++) {
    size_t nv = count_values(s, k, g, st, failed, nfailed, vc);
    for (size_t v = 0; v < nv && !rc; v++) {
      const int64_t *c = st->results[vc[v].rep].cells;
      if (same_key_value(s, k, g, c, s->default_cells))
        continue;
      if (vc[v].count < 2 && nfailed > 2)
        break;
      /* How often the top configs have it. */
      size_t in_top = 0;
      size_t nt = count_values(s, k, g, st, top, ntop, vc2);
      for (size_t t = 0; t < nt; t++)
        if (same_key_value(s, k, g, st->results[vc2[t].rep].cells, c))
          in_top = vc2[t].count;
      any = true;
      rc = helion_buf_appendf(b, "  - %s = ", k->key[g]);
      if (!rc)
        rc = put_key_value(b, s, k, g, c);
      if (!rc)
        rc = helion_buf_appendf(b, ": in %zu of %zu failed, %zu of the top %zu\n",
                                vc[v].count, nfailed, in_top, ntop);
      break; /* the most common non-default value of each key */
    }
  }
  if (!rc && !any)
    rc = helion_buf_puts(b, "  (no value stands out)\n");
  if (!rc)
    rc = helion_buf_puts(b, "Examples:\n");
  for (size_t i = 0; i < nfailed && i < FAILED_EXAMPLES && !rc; i++) {
    const helion_llm_result_t *r = &st->results[failed[i]];
    size_t kind = failure_kind(r);
    rc = helion_buf_appendf(b, "  - %s: ",
                            kind < NFAILURE_KINDS ? failure_kinds[kind]
                                                  : "other");
    if (!rc)
      rc = put_diff(b, s, dflt, r->cells);
    if (!rc)
      rc = helion_buf_putc(b, '\n');
  }
  return rc;
}

helion_status helion_llm_prompt_refine(const helion_llm_context_t *ctx,
                                       const helion_llm_state_t *state,
                                       helion_buf_t *out, helion_err_t *err) {
  const helion_space_t *s = ctx->space;
  const helion_llm_state_t *st = state;
  size_t n = per_round(st);
  size_t nres = st ? st->nresults : 0;
  section_t sec[R_N];
  section_init(&sec[R_STATE], "Search State", 2048);
  section_init(&sec[R_ANCHORS], "Anchor Configs", 8 << 10);
  section_init(&sec[R_RESULTS], "Results (best first)", 24 << 10);
  section_init(&sec[R_TOP], "Top Config Patterns", 8 << 10);
  section_init(&sec[R_FAILED], "Failed Config Patterns", 8 << 10);
  section_init(&sec[R_NEXT], "Next Step", 4096);
  section_init(&sec[R_TASK], "Task", 2048);
  keys_t k = {0};
  cJSON *dflt = config_tree(s, s->default_cells);
  ranked_t *rank = malloc((nres ? nres : 1) * sizeof(*rank));
  size_t *failed = malloc((nres ? nres : 1) * sizeof(*failed));
  size_t *top = malloc(TOP_K * sizeof(*top));
  valcount_t *vc = malloc(PATTERN_MAX_VALUES * sizeof(*vc));
  valcount_t *vc2 = malloc(PATTERN_MAX_VALUES * sizeof(*vc2));
  helion_status rc = dflt && rank && failed && top && vc && vc2
                         ? keys_build(s, &k)
                         : HELION_ERR_NOMEM;
  size_t nfinite = 0, nfailed = 0;
  for (size_t i = 0; i < nres && !rc; i++) {
    if (is_failure(&st->results[i])) {
      failed[nfailed++] = i;
    } else {
      rank[nfinite].ms = st->results[i].ms;
      rank[nfinite].idx = i;
      nfinite++;
    }
  }
  if (!rc)
    qsort(rank, nfinite, sizeof(*rank), ranked_cmp);
  size_t ntop = nfinite < TOP_K ? nfinite : TOP_K;
  for (size_t i = 0; i < ntop; i++)
    top[i] = rank[i].idx;
  helion_buf_t *b;

  b = &sec[R_STATE].body;
  if (!rc && st)
    rc = helion_buf_appendf(b,
                            "  - Round %zu of %zu; %zu configs measured so "
                            "far, %zu successful, %zu failed\n",
                            st->round + 1, st->max_rounds ? st->max_rounds : 1,
                            st->configs_tested, nfinite, nfailed);
  if (!rc && nfinite) {
    double best = rank[0].ms;
    rc = helion_buf_puts(b, "  - Best: ");
    if (!rc)
      rc = put_ms(b, best);
    if (!rc && st && isfinite(st->default_ms) && st->default_ms > 0) {
      rc = helion_buf_puts(b, "; default config: ");
      if (!rc)
        rc = put_ms(b, st->default_ms);
      if (!rc)
        rc = helion_buf_appendf(b, " (best is %.2fx the default's speed)",
                                st->default_ms / best);
    }
    if (!rc)
      rc = helion_buf_putc(b, '\n');
    if (!rc && nfinite >= 2 && rank[1].ms > 0)
      rc = helion_buf_appendf(b, "  - The runner-up is %.1f%% slower\n",
                              (rank[1].ms - best) / best * 100.0);
  } else if (!rc) {
    rc = helion_buf_puts(b, "  - No config has succeeded yet.\n");
  }

  b = &sec[R_ANCHORS].body;
  if (!rc && !nfinite)
    rc = helion_buf_puts(b, "None yet: start from the default "
                            "configuration.\n");
  for (size_t i = 0; i < nfinite && i < 2 && !rc; i++) {
    rc = helion_buf_appendf(b, "  - Anchor %zu", i + 1);
    if (!rc)
      rc = i ? helion_buf_appendf(b, " (+%.1f%%)",
                                  (rank[i].ms - rank[0].ms) / rank[0].ms * 100)
             : helion_buf_puts(b, " (best)");
    if (!rc)
      rc = helion_buf_puts(b, ": ");
    if (!rc)
      rc = put_ms(b, rank[i].ms);
    if (!rc)
      rc = helion_buf_puts(b, " with ");
    if (!rc)
      rc = put_diff(b, s, dflt, st->results[rank[i].idx].cells);
    if (!rc)
      rc = helion_buf_putc(b, '\n');
  }

  b = &sec[R_RESULTS].body;
  if (!rc)
    rc = helion_buf_puts(b, "Each line: time, then the parameters changed "
                            "from the default ({} is the default itself).\n");
  if (!rc && !nfinite)
    rc = helion_buf_puts(b, "No successful results yet.\n");
  for (size_t i = 0; i < nfinite && i < RESULTS_SHOWN && !rc; i++) {
    rc = helion_buf_appendf(b, "  #%zu: ", i + 1);
    if (!rc)
      rc = put_ms(b, rank[i].ms);
    if (!rc)
      rc = helion_buf_puts(b, " ");
    if (!rc)
      rc = put_diff(b, s, dflt, st->results[rank[i].idx].cells);
    if (!rc)
      rc = helion_buf_putc(b, '\n');
  }
  if (!rc && nfinite > RESULTS_SHOWN)
    rc = helion_buf_appendf(b,
                            "  (list cut: the best %d of %zu successful "
                            "configs shown)\n",
                            RESULTS_SHOWN, nfinite);
  if (!rc && nfailed)
    rc = helion_buf_appendf(b, "  (%zu configs failed; see below)\n",
                            nfailed);

  if (!rc)
    rc = put_top_patterns(&sec[R_TOP].body, s, &k, st, top, ntop, vc);
  if (!rc)
    rc = put_failed_patterns(&sec[R_FAILED].body, s, &k, dflt, st, failed,
                             nfailed, top, ntop, vc, vc2);

  b = &sec[R_NEXT].body;
  if (!rc && nres && nfailed * 3 >= nres)
    rc = helion_buf_puts(
        b, "  - Many configs failed: build only on the one or two anchors, "
           "mostly changing one or two parameters, and step back from the "
           "values the failed configs share.\n");
  else if (!rc)
    rc = helion_buf_puts(
        b, "  - About two thirds of the batch: change one parameter of "
           "anchor 1. Most of the rest: one or two changes to anchor 2. Keep "
           "a few for a different family (scheduling, tile shape).\n");
  if (!rc)
    rc = helion_buf_puts(
        b, "  - Prefer changes whose effect the timings can attribute; keep "
           "configs sparse (1-4 changed parameters).\n"
           "  - Do not repeat a config that was already measured.\n");

  b = &sec[R_TASK].body;
  if (!rc)
    rc = helion_buf_appendf(
        b,
        "Give up to %zu new distinct configs around the anchors, avoiding "
        "the failed patterns. Reply with minified JSON only: "
        "{\"configs\":[...]}\n",
        n);

  if (rc)
    rc = helion_err_set(err, HELION_ERR_NOMEM, "prompt: out of memory");
  else
    rc = sections_put(out, sec, R_N, err);
  cJSON_Delete(dflt);
  keys_cleanup(&k);
  free(rank);
  free(failed);
  free(top);
  free(vc);
  free(vc2);
  sections_cleanup(sec, R_N);
  return rc;
}
