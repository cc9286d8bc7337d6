/*
 * test_llm_prompt.c: the LLM prompts (sections in order, the space and the
 * default in them, results best first, patterns, the 64 KiB bound,
 * determinism) and the parsing of replies (object, fenced block, bare list,
 * Python literals, cut replies, invalid configs with their reasons,
 * duplicates, the cap, garbage), on the matmul spec's space for sm_90.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"
#include "model/arch.h"
#include "model/config.h"
#include "model/space.h"
#include "model/spec.h"
#include "util/util.h"

typedef struct fixture {
  helion_spec_t *spec;
  helion_space_t *space;
} fixture_t;

static int setup(void **state) {
  static fixture_t f;
  const char *data = getenv("HELION_TEST_DATA");
  assert_non_null(data);
  char path[1024];
  snprintf(path, sizeof(path), "%s/specs/matmul.json", data);
  helion_err_t err;
  helion_device_props_t dev;
  assert_int_equal(helion_device_props_for_arch("sm_90", &dev, &err), 0);
  if (helion_spec_load(path, &f.spec, &err))
    fail_msg("%s", err.msg);
  if (helion_spec_space(f.spec, f.spec->shapes, &dev, &f.space, &err))
    fail_msg("%s", err.msg);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  helion_space_destroy(f->space);
  helion_spec_destroy(f->spec);
  return 0;
}

static helion_llm_context_t ctx_of(const fixture_t *f, const char *source) {
  helion_llm_context_t c;
  memset(&c, 0, sizeof(c));
  c.kernel_name = "matmul";
  c.source = source;
  c.signature = "A: const __half* [M*K], B: const __half* [K*N], C: __half*";
  c.shape = "M=4096,N=4096,K=4096";
  c.device = "NVIDIA H100 80GB HBM3, sm_90, 132 SMs";
  c.space = f->space;
  return c;
}

/* The position of `needle` in `hay`, failing when absent. */
static size_t pos_of(const char *hay, const char *needle) {
  const char *p = strstr(hay, needle);
  if (!p) {
    FILE *dump = fopen("llm_prompt_failed.txt", "w");
    if (dump) {
      fputs(hay, dump);
      fclose(dump);
    }
  }
  if (!p)
    fail_msg("missing '%s' in prompt:\n%s", needle, hay);
  return (size_t)(p - hay);
}

/* A config of the space from JSON (must be valid). */
static void cfg(const fixture_t *f, const char *json, int64_t *out) {
  helion_err_t err;
  if (helion_config_from_json(f->space, json, out, &err))
    fail_msg("%s: %s", json, err.msg);
}

/* ---------------------------------------------------------------- prompts */

static void test_llm_prompt_system(void **state) {
  (void)state;
  const char *s = helion_llm_system_prompt();
  assert_non_null(strstr(s, "{\"configs\":["));
  assert_true(strlen(s) > 1000 && strlen(s) < 8192);
}

static void test_llm_prompt_initial_sections(void **state) {
  fixture_t *f = *state;
  helion_llm_context_t c = ctx_of(f, "__global__ void matmul() {}\n");
  helion_llm_state_t st;
  memset(&st, 0, sizeof(st));
  st.configs_per_round = 7;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_err_t err;
  assert_int_equal(helion_llm_prompt_initial(&c, &st, &b, &err), 0);
  const char *p = helion_buf_str(&b);
  size_t goal = pos_of(p, "## Goal and Output Format\n");
  size_t kern = pos_of(p, "## Kernel\n");
  size_t gpu = pos_of(p, "## GPU\n");
  size_t space = pos_of(p, "## Configuration Space\n");
  size_t dflt = pos_of(p, "## Default Configuration\n");
  size_t strat = pos_of(p, "## Search Strategy\n");
  size_t task = pos_of(p, "## Task\n");
  assert_true(goal < kern && kern < gpu && gpu < space && space < dflt &&
              dflt < strat && strat < task);
  assert_true(pos_of(p, "up to 7 configurations") < kern);
  assert_true(pos_of(p, "__global__ void matmul() {}") < gpu);
  assert_true(pos_of(p, "M=4096,N=4096,K=4096") < gpu);
  assert_true(pos_of(p, "132 SMs") < space);
  /* Every config key of the space, between the space and the default. */
  for (size_t i = 0; i < f->space->nparams; i++) {
    char key[128];
    snprintf(key, sizeof(key), "  - %s: ", f->space->params[i].key);
    size_t at = pos_of(p, key);
    assert_true(at > space && at < dflt);
    if (f->space->params[i].name) {
      snprintf(key, sizeof(key), "(%s)", f->space->params[i].name);
      if (f->space->params[i].index >= 0)
        pos_of(p, key);
    }
  }
  pos_of(p, "  - block_sizes: an array of exactly 3: [0] (BLOCK_M) a power "
            "of two from 16 to 256; [1] (BLOCK_N)");
  pos_of(p, "  - pid_type: one of \"flat\", \"persistent_blocked\", "
            "\"persistent_interleaved\"; default \"persistent_blocked\"");
  pos_of(p, "  - BLOCK_M * BLOCK_N <= 128 * 32 * num_warps\n");
  /* The default in full, as helion_config_to_json writes it. */
  helion_buf_t d;
  helion_buf_init(&d, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(
      helion_config_to_json(f->space, f->space->default_cells, false, &d), 0);
  assert_true(pos_of(p, helion_buf_str(&d)) > dflt);
  helion_buf_cleanup(&d);
  assert_true(b.len <= 64 * 1024);
  helion_buf_cleanup(&b);
}

static void test_llm_prompt_initial_no_source(void **state) {
  fixture_t *f = *state;
  helion_llm_context_t c = ctx_of(f, NULL);
  c.signature = NULL;
  c.shape = NULL;
  c.device = NULL;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_llm_prompt_initial(&c, NULL, &b, NULL), 0);
  pos_of(helion_buf_str(&b), "Source: not available.");
  pos_of(helion_buf_str(&b), "up to 15 configurations");
  helion_buf_cleanup(&b);
}

/* Results: config i of n gets block_sizes/num_warps from a small grid, a
 * time, and every fifth a failure. */
typedef struct results {
  int64_t *cells;
  helion_llm_result_t *r;
  size_t n;
} results_t;

static void results_make(const fixture_t *f, size_t n, results_t *out) {
  size_t nc = f->space->ncells;
  out->cells = malloc(n * nc * sizeof(int64_t));
  out->r = calloc(n, sizeof(*out->r));
  out->n = n;
  assert_non_null(out->cells);
  assert_non_null(out->r);
  static const char *const jsons[] = {
      "{\"num_warps\": 4}",
      "{\"num_warps\": 16, \"num_stages\": 3}",
      "{\"block_sizes\": [128, 64, 32], \"num_stages\": 3}",
      "{\"block_sizes\": [32, 64, 32]}",
      "{\"num_stages\": 5, \"block_sizes\": [128, 128, 64]}",
      "{\"pid_type\": \"flat\", \"num_stages\": 3}",
      "{\"UNROLL\": 2}",
  };
  for (size_t i = 0; i < n; i++) {
    int64_t *c = out->cells + i * nc;
    cfg(f, jsons[i % 7], c);
    out->r[i].cells = c;
    if (i % 7 == 4) {
      out->r[i].ms = INFINITY;
      out->r[i].failure = i % 2 ? "compile" : "timeout";
    } else {
      out->r[i].ms = 0.05 + (double)((i * 37) % 101) * 0.001;
    }
  }
}

static void results_free(results_t *r) {
  free(r->cells);
  free(r->r);
}

static void test_llm_prompt_refine_sections(void **state) {
  fixture_t *f = *state;
  helion_llm_context_t c = ctx_of(f, NULL);
  results_t res;
  results_make(f, 7, &res);
  /* Times chosen so the order is known: #1 is UNROLL=2. */
  double ms[7] = {0.30, 0.20, 0.15, 0.40, INFINITY, 0.50, 0.10};
  for (size_t i = 0; i < 7; i++)
    res.r[i].ms = ms[i];
  helion_llm_state_t st;
  memset(&st, 0, sizeof(st));
  st.round = 1;
  st.max_rounds = 4;
  st.configs_tested = 7;
  st.best_ms = 0.10;
  st.default_ms = 0.25;
  st.results = res.r;
  st.nresults = res.n;
  st.configs_per_round = 5;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_llm_prompt_refine(&c, &st, &b, NULL), 0);
  const char *p = helion_buf_str(&b);
  size_t sst = pos_of(p, "## Search State\n");
  size_t anc = pos_of(p, "## Anchor Configs\n");
  size_t resu = pos_of(p, "## Results (best first)\n");
  size_t top = pos_of(p, "## Top Config Patterns\n");
  size_t fail = pos_of(p, "## Failed Config Patterns\n");
  size_t next = pos_of(p, "## Next Step\n");
  size_t task = pos_of(p, "## Task\n");
  assert_true(sst < anc && anc < resu && resu < top && top < fail &&
              fail < next && next < task);
  pos_of(p, "Round 2 of 4; 7 configs measured so far, 6 successful, 1 "
            "failed");
  pos_of(p, "Best: 0.1000 ms; default config: 0.2500 ms (best is 2.50x");
  pos_of(p, "  - Anchor 1 (best): 0.1000 ms with {\"UNROLL\": 2}\n");
  pos_of(p, "  - Anchor 2 (+50.0%): 0.1500 ms with {\"block_sizes\": [128, "
            "64, 32], \"num_stages\": 3}\n");
  /* Best first. */
  size_t r1 = pos_of(p, "  #1: 0.1000 ms {\"UNROLL\": 2}\n");
  size_t r2 = pos_of(p, "  #2: 0.1500 ms {\"block_sizes\": [128, 64, 32]");
  size_t r3 = pos_of(p, "  #3: 0.2000 ms {\"num_stages\": 3, \"num_warps\": "
                        "16}\n");
  size_t r6 = pos_of(p, "  #6: 0.5000 ms {\"num_stages\": 3, \"pid_type\": "
                        "\"flat\"}\n");
  assert_true(resu < r1 && r1 < r2 && r2 < r3 && r3 < r6 && r6 < top);
  assert_null(strstr(p, "#7:"));
  pos_of(p, "(1 configs failed; see below)");
  /* Patterns among the top 5 (0.10, 0.15, 0.20, 0.30, 0.40). */
  size_t ns = pos_of(p, "  - num_stages: 2 in 3 of the top 5, 3 in 2 of the "
                        "top 5 (default 2)\n");
  assert_true(ns > top && ns < fail);
  pos_of(p, "  - num_warps: 8 in 3 of the top 5, 16 in 1 of the top 5, 4 "
            "in 1 of the top 5 (default 8)\n");
  /* Failures: counted by kind, the shared values, an example. */
  size_t fk = pos_of(p, "Failures by kind: timeout=1\n");
  assert_true(fk > fail && fk < next);
  pos_of(p, "  - num_stages = 5: in 1 of 1 failed, 0 of the top 5\n");
  pos_of(p, "  - timeout: {\"block_sizes\": [128, 128, 64], \"num_stages\": "
            "5}\n");
  pos_of(p, "Give up to 5 new distinct configs");
  assert_true(b.len <= 64 * 1024);
  helion_buf_cleanup(&b);
  results_free(&res);
}

static void test_llm_prompt_refine_empty(void **state) {
  fixture_t *f = *state;
  helion_llm_context_t c = ctx_of(f, NULL);
  helion_llm_state_t st;
  memset(&st, 0, sizeof(st));
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_llm_prompt_refine(&c, &st, &b, NULL), 0);
  const char *p = helion_buf_str(&b);
  pos_of(p, "No config has succeeded yet.");
  pos_of(p, "No successful results yet.");
  pos_of(p, "Not enough successful configs to compare yet.");
  pos_of(p, "No config has failed so far.");
  helion_buf_cleanup(&b);
}

static void test_llm_prompt_bound(void **state) {
  fixture_t *f = *state;
  size_t n = 200 * 1024;
  char *src = malloc(n + 1);
  assert_non_null(src);
  for (size_t i = 0; i < n; i++)
    src[i] = i % 80 == 79 ? '\n' : (char)('a' + i % 26);
  src[n] = '\0';
  helion_llm_context_t c = ctx_of(f, src);
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_llm_prompt_initial(&c, NULL, &b, NULL), 0);
  assert_true(b.len <= 64 * 1024);
  assert_true(b.len > 60 * 1024); /* the source fills the room */
  pos_of(helion_buf_str(&b), "[source cut here: ");
  pos_of(helion_buf_str(&b), "## Task\n"); /* nothing after it lost */
  /* One huge line of source is cut too. */
  memset(src, 'x', n);
  helion_buf_reset(&b);
  assert_int_equal(helion_llm_prompt_initial(&c, NULL, &b, NULL), 0);
  assert_true(b.len <= 64 * 1024);
  pos_of(helion_buf_str(&b), "## Task\n");
  free(src);

  results_t res;
  results_make(f, 10000, &res);
  helion_llm_state_t st;
  memset(&st, 0, sizeof(st));
  st.results = res.r;
  st.nresults = res.n;
  st.configs_tested = res.n;
  st.max_rounds = 4;
  helion_buf_reset(&b);
  assert_int_equal(helion_llm_prompt_refine(&c, &st, &b, NULL), 0);
  assert_true(b.len <= 64 * 1024);
  pos_of(helion_buf_str(&b), "(list cut: the best 25 of ");
  pos_of(helion_buf_str(&b), "## Task\n");
  helion_buf_cleanup(&b);
  results_free(&res);
}

static void test_llm_prompt_deterministic(void **state) {
  fixture_t *f = *state;
  results_t res;
  results_make(f, 300, &res);
  helion_llm_state_t st;
  memset(&st, 0, sizeof(st));
  st.results = res.r;
  st.nresults = res.n;
  helion_llm_context_t c = ctx_of(f, "int x;\n");
  helion_buf_t a, b;
  helion_buf_init(&a, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_llm_prompt_initial(&c, &st, &a, NULL), 0);
  assert_int_equal(helion_llm_prompt_refine(&c, &st, &a, NULL), 0);
  assert_int_equal(helion_llm_prompt_initial(&c, &st, &b, NULL), 0);
  assert_int_equal(helion_llm_prompt_refine(&c, &st, &b, NULL), 0);
  assert_int_equal(a.len, b.len);
  assert_string_equal(helion_buf_str(&a), helion_buf_str(&b));
  helion_buf_cleanup(&a);
  helion_buf_cleanup(&b);
  results_free(&res);
}

/* ---------------------------------------------------------------- parsing */

/* Parses `text`, checks the counts, returns the parse (caller cleans). */
static helion_llm_parsed_t parse(const fixture_t *f, const char *text,
                                 size_t max, size_t want, size_t rejected,
                                 size_t dups) {
  helion_llm_parsed_t p;
  helion_err_t err;
  assert_int_equal(helion_llm_parse(f->space, text, max, &p, &err), 0);
  if (p.nconfigs != want || p.rejected != rejected || p.duplicates != dups)
    fail_msg("'%.200s': got %zu configs, %zu rejected, %zu duplicates (%s)",
             text, p.nconfigs, p.rejected, p.duplicates, p.why);
  return p;
}

/* Config k of p has `json`'s value. */
static void assert_config(const fixture_t *f, const helion_llm_parsed_t *p,
                          size_t k, const char *json) {
  int64_t want[256];
  assert_true(f->space->ncells <= 256);
  cfg(f, json, want);
  helion_space_normalize(f->space, want);
  assert_memory_equal(p->cells + k * f->space->ncells, want,
                      f->space->ncells * sizeof(int64_t));
}

static void test_llm_prompt_parse_object(void **state) {
  fixture_t *f = *state;
  helion_llm_parsed_t p = parse(
      f, "{\"configs\":[{\"num_warps\":4},{\"block_sizes\":[128,64,32],"
         "\"num_stages\":3}]}",
      15, 2, 0, 0);
  assert_config(f, &p, 0, "{\"num_warps\":4}");
  assert_config(f, &p, 1, "{\"block_sizes\":[128,64,32],\"num_stages\":3}");
  assert_string_equal(p.why, "");
  helion_llm_parsed_cleanup(&p);
  /* A single object is one config. */
  p = parse(f, "{\"num_warps\":16}", 15, 1, 0, 0);
  assert_config(f, &p, 0, "{\"num_warps\":16}");
  helion_llm_parsed_cleanup(&p);
  /* An empty item is the default. */
  p = parse(f, "{\"configs\":[{}]}", 15, 1, 0, 0);
  assert_config(f, &p, 0, "{}");
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_fenced(void **state) {
  fixture_t *f = *state;
  helion_llm_parsed_t p = parse(
      f, "Here's what I'd try {first}:\n```json\n{\"configs\": "
         "[{\"num_stages\": 4}]}\n```\nThese should help [a lot].",
      15, 1, 0, 0);
  assert_config(f, &p, 0, "{\"num_stages\":4}");
  helion_llm_parsed_cleanup(&p);
  /* Prose around unfenced JSON: the balanced block. */
  p = parse(f, "Sure. {\"configs\":[{\"UNROLL\":3}]} Good luck!", 15, 1, 0,
            0);
  assert_config(f, &p, 0, "{\"UNROLL\":3}");
  helion_llm_parsed_cleanup(&p);
  /* The first fence that parses wins. */
  p = parse(f, "```\nnot json\n```\n```JSON\n[{\"UNROLL\":1}]\n```\n"
               "```json\n[{\"UNROLL\":2}]\n```",
            15, 1, 0, 0);
  assert_config(f, &p, 0, "{\"UNROLL\":1}");
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_bare_list(void **state) {
  fixture_t *f = *state;
  helion_llm_parsed_t p = parse(
      f, "Configs: [{\"num_warps\":4}, {\"num_warps\":16}] done", 15, 2, 0, 0);
  assert_config(f, &p, 1, "{\"num_warps\":16}");
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_python(void **state) {
  fixture_t *f = *state;
  helion_llm_parsed_t p = parse(
      f, "{'configs': [{'maxnreg': None, 'static_ranges': [True, False], "
         "'EPILOGUE': 'gelu',}]}",
      15, 1, 0, 0);
  assert_config(f, &p, 0,
                "{\"maxnreg\":null,\"static_ranges\":[true,false],"
                "\"EPILOGUE\":\"gelu\"}");
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_truncated(void **state) {
  fixture_t *f = *state;
  /* Cut by the token limit: the complete items survive. */
  helion_llm_parsed_t p = parse(
      f, "{\"configs\":[{\"num_warps\":4},{\"num_stages\":3},{\"num_wa", 15,
      2, 0, 0);
  assert_config(f, &p, 0, "{\"num_warps\":4}");
  assert_config(f, &p, 1, "{\"num_stages\":3}");
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "```json\n{\"configs\":[{\"UNROLL\":1},", 15, 1, 0, 0);
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "{\"configs\":[{\"num_wa", 15, 0, 0, 0);
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_invalid(void **state) {
  fixture_t *f = *state;
  helion_llm_parsed_t p = parse(
      f, "{\"configs\":[{\"foo\":1},{\"num_warps\":6},{\"block_sizes\":64},"
         "{\"num_stages\":[2]},{\"block_sizes\":[128,128,32],\"num_warps\":1},"
         "7,{\"num_warps\":2}]}",
      15, 1, 6, 0);
  assert_config(f, &p, 0, "{\"num_warps\":2}");
  assert_non_null(strstr(p.why, "configs[0]: foo: unknown key"));
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "[{\"num_warps\":6}]", 15, 0, 1, 0);
  assert_non_null(strstr(p.why, "configs[0]: num_warps: 6"));
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "[{\"block_sizes\":[128,128,32],\"num_warps\":1}]", 15, 0, 1,
            0);
  assert_string_equal(p.why, "configs[0]: violates restriction 'BLOCK_M * "
                             "BLOCK_N <= 128 * 32 * num_warps'");
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "[3, \"x\"]", 15, 0, 2, 0);
  assert_string_equal(p.why, "configs[0]: expected an object, got number");
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_duplicates_and_max(void **state) {
  fixture_t *f = *state;
  /* Equal after merging onto the default: duplicates. */
  helion_llm_parsed_t p = parse(
      f, "[{\"num_warps\":4},{\"num_warps\":4},{\"num_warps\":4,"
         "\"num_stages\":2},{\"num_stages\":3}]",
      15, 2, 0, 2);
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "[{\"UNROLL\":0},{\"UNROLL\":1},{\"UNROLL\":2},{\"UNROLL\":3}]",
            2, 2, 0, 0);
  assert_config(f, &p, 1, "{\"UNROLL\":1}");
  helion_llm_parsed_cleanup(&p);
  p = parse(f, "[{\"UNROLL\":0}]", 0, 0, 0, 0);
  helion_llm_parsed_cleanup(&p);
}

static void test_llm_prompt_parse_garbage(void **state) {
  fixture_t *f = *state;
  static const char *const texts[] = {
      "", "not json at all", "{", "]]]}}}", "```", "```json\n```",
      "{\"configs\": 3}", "{\"configs\": {}}", "null", "\"configs\"",
      "'unterminated", "\\", "[[[[[[[[[[",
  };
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    helion_llm_parsed_t p = parse(f, texts[i], 15, 0, 0, 0);
    helion_llm_parsed_cleanup(&p);
  }
  helion_llm_parsed_t p = parse(f, NULL, 15, 0, 0, 0);
  helion_llm_parsed_cleanup(&p);
  /* Deep nesting, huge text, bytes that are not text. */
  size_t n = 3 << 20;
  char *t = malloc(n + 1);
  assert_non_null(t);
  for (size_t i = 0; i < n; i++)
    t[i] = i % 2 ? '[' : '{';
  t[n] = '\0';
  p = parse(f, t, 15, 0, 0, 0);
  helion_llm_parsed_cleanup(&p);
  for (size_t i = 0; i < n; i++)
    t[i] = (char)(1 + (i * 7919) % 255);
  p = parse(f, t, 15, 0, 0, 0);
  helion_llm_parsed_cleanup(&p);
  free(t);
  helion_llm_parsed_cleanup(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_llm_prompt_system),
      cmocka_unit_test(test_llm_prompt_initial_sections),
      cmocka_unit_test(test_llm_prompt_initial_no_source),
      cmocka_unit_test(test_llm_prompt_refine_sections),
      cmocka_unit_test(test_llm_prompt_refine_empty),
      cmocka_unit_test(test_llm_prompt_bound),
      cmocka_unit_test(test_llm_prompt_deterministic),
      cmocka_unit_test(test_llm_prompt_parse_object),
      cmocka_unit_test(test_llm_prompt_parse_fenced),
      cmocka_unit_test(test_llm_prompt_parse_bare_list),
      cmocka_unit_test(test_llm_prompt_parse_python),
      cmocka_unit_test(test_llm_prompt_parse_truncated),
      cmocka_unit_test(test_llm_prompt_parse_invalid),
      cmocka_unit_test(test_llm_prompt_parse_duplicates_and_max),
      cmocka_unit_test(test_llm_prompt_parse_garbage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
