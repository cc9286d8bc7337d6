/*
 * test_backend_sim.c: the landscape simulator: loading both formats plain and
 * gzipped, the space it builds, the records, the simulated clock, noise, the
 * exact random-sampling baseline, every load error by its message, and the
 * real landscapes' counts and optima.
 *
 * The tiny landscapes (tests/data/landscapes/tiny_*.json) hold one space of
 * 3 x 3 x 3 x 2 x 1 = 54 configurations, of which 7 are recorded:
 *   A 16,1,0.25,0,15  OK 2.0 ms, runs 1.5 2.5 2.0, compile 100, bench 6
 *   B 32,2,0.5,1,15   OK 1.0 ms, runs 0.5 1.5,     compile 200, bench 2
 *   C 64,3,1,0,15     OK 4.0 ms, no runs (T4: 4.0), compile 10, no bench
 *   D 16,2,0.5,0,15   compile failure, compile 300, bench 0
 *   E 32,1,1,1,15     runtime failure (__error__), compile 50, bench 5
 *   F 64,1,0.25,1,15  InvalidConfig (T4: constraints)
 *   G 16,3,0.25,1,15  __error__ InvalidConfig (T4: constraints)
 * Cells: block_size_x POW2 (value), tile INT (value), ratio ENUM (index into
 * 0.25 0.5 1), use_shmem INT (value), filter INT (value).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "backend/backend_sim.h"
#include "util/json.h"

/* cmocka's float assertion rounds to float; these times need doubles. */
#define assert_near(a, b, eps)                                                 \
  do {                                                                         \
    double a_ = (a), b_ = (b);                                                 \
    if (!(fabs(a_ - b_) <= (eps)))                                             \
      fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                      \
  } while (0)

static char tmpdir[256];
static char paths[128][512];
static size_t npaths;

static const int64_t CA[5] = {16, 1, 0, 0, 15};
static const int64_t CB[5] = {32, 2, 1, 1, 15};
static const int64_t CC[5] = {64, 3, 2, 0, 15};
static const int64_t CD[5] = {16, 2, 1, 0, 15};
static const int64_t CE[5] = {32, 1, 2, 1, 15};
static const int64_t CF[5] = {64, 1, 0, 1, 15};
static const int64_t CG[5] = {16, 3, 0, 1, 15};
static const int64_t CX[5] = {64, 2, 0, 0, 15}; /* not recorded */

static const char *data_path(const char *name) {
  static char buf[4][1024];
  static int which;
  const char *dir = getenv("HELION_TEST_DATA");
  char *p = buf[which++ % 4];
  snprintf(p, 1024, "%s/landscapes/%s", dir ? dir : "tests/data", name);
  return p;
}

static const char *tmp_path(const char *name) {
  char *p = paths[npaths++];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  return p;
}

static const char *write_plain(const char *name, const void *data, size_t len) {
  const char *p = tmp_path(name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
  return p;
}

static const char *write_text(const char *name, const char *text) {
  return write_plain(name, text, strlen(text));
}

static const char *write_gz(const char *name, const char *text) {
  const char *p = tmp_path(name);
  gzFile g = gzopen(p, "wb9");
  assert_non_null(g);
  assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), (int)strlen(text));
  gzclose(g);
  return p;
}

static char *slurp(const char *path, size_t *len) {
  char *data = NULL;
  helion_err_t err;
  assert_int_equal(helion_read_file(path, (size_t)1 << 30, &data, len, &err),
                   HELION_OK);
  return data;
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "%s/helion_sim_XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < npaths; i++)
    unlink(paths[i]);
  rmdir(tmpdir);
  return 0;
}

static helion_sim_t *load_ok(const char *path, const helion_sim_opts_t *o) {
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_sim_load(path, o, &sim, &err);
  if (rc)
    fail_msg("%s", err.msg);
  return sim;
}

static void expect_error(const char *path, const char *msg) {
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  assert_int_not_equal(helion_sim_load(path, NULL, &sim, &err), HELION_OK);
  assert_null(sim);
  assert_string_equal(err.msg, msg);
}

static const char *const TINY[4] = {"tiny_cache.json", "tiny_cache.json.gz",
                                    "tiny_t4.json", "tiny_t4.json.gz"};

/* ------------------------------------------------------------ space */

static void test_backend_sim_space_from_params(void **state) {
  (void)state;
  for (int f = 0; f < 4; f++) {
    helion_sim_t *sim = load_ok(data_path(TINY[f]), NULL);
    const helion_space_t *s = helion_sim_space(sim);
    assert_int_equal(s->nparams, 5);
    assert_int_equal(s->ncells, 5);
    const helion_param_t *p = s->params;
    assert_string_equal(p[0].key, "block_size_x");
    assert_string_equal(p[0].name, "block_size_x");
    assert_int_equal(p[0].frag.kind, HELION_FRAG_POW2);
    assert_int_equal(p[0].frag.low, 16);
    assert_int_equal(p[0].frag.high, 64);
    assert_int_equal(p[0].frag.dflt, 16);
    assert_int_equal(p[0].index, -1);
    assert_int_equal(p[0].role, HELION_ROLE_NONE);
    assert_int_equal(p[1].frag.kind, HELION_FRAG_INT);
    assert_int_equal(p[1].frag.low, 1);
    assert_int_equal(p[1].frag.high, 3);
    assert_int_equal(p[1].frag.dflt, 1);
    /* 0.25 0.5 1: not integers, an enum in ascending order. */
    assert_string_equal(p[2].name, "ratio");
    assert_int_equal(p[2].frag.kind, HELION_FRAG_ENUM);
    assert_int_equal(p[2].frag.nchoices, 3);
    assert_int_equal(p[2].frag.choices[0].kind, HELION_VALUE_FLOAT);
    assert_true(p[2].frag.choices[0].f == 0.25);
    assert_int_equal(p[2].frag.choices[1].kind, HELION_VALUE_FLOAT);
    assert_true(p[2].frag.choices[1].f == 0.5);
    assert_int_equal(p[2].frag.choices[2].kind, HELION_VALUE_INT);
    assert_int_equal(p[2].frag.choices[2].i, 1);
    assert_int_equal(p[2].frag.dflt, 0);
    /* A name that is no C identifier keeps its key. */
    assert_string_equal(p[3].key, "use-shmem");
    assert_string_equal(p[3].name, "use_shmem");
    assert_int_equal(p[3].frag.kind, HELION_FRAG_INT);
    assert_int_equal(p[3].frag.low, 0);
    assert_int_equal(p[3].frag.high, 1);
    /* One value, not a power of two: INT [15, 15]. */
    assert_int_equal(p[4].frag.kind, HELION_FRAG_INT);
    assert_int_equal(p[4].frag.low, 15);
    assert_int_equal(p[4].frag.high, 15);
    assert_string_equal(helion_sim_format(sim), f < 2 ? "cache" : "t4");
    if (f < 2) {
      assert_string_equal(helion_sim_device_name(sim), "Tiny GPU");
      assert_string_equal(helion_sim_kernel_name(sim), "tiny_kernel");
    } else {
      assert_null(helion_sim_device_name(sim));
    }
    helion_sim_destroy(sim);
  }
}

static void test_backend_sim_records_in_every_format(void **state) {
  (void)state;
  for (int f = 0; f < 4; f++) {
    helion_sim_t *sim = load_ok(data_path(TINY[f]), NULL);
    const helion_space_t *s = helion_sim_space(sim);
    helion_sim_record_t r;
    assert_int_equal(helion_sim_valid_count(sim), 5);
    assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_OK), 3);
    assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_COMPILE), 1);
    assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_RUNTIME), 1);

    assert_true(helion_sim_lookup(sim, CA, &r));
    assert_int_equal(r.kind, HELION_RESULT_OK);
    assert_true(r.ms == 2.0);
    assert_true(r.compile_s == 0.1);
    assert_int_equal(r.nruns, 3);
    assert_true(r.runs[0] == 1.5 && r.runs[1] == 2.5 && r.runs[2] == 2.0);
    assert_true(helion_sim_lookup(sim, CB, &r));
    assert_true(r.ms == 1.0);
    assert_int_equal(r.nruns, 2);
    assert_true(helion_sim_lookup(sim, CC, &r));
    assert_true(r.ms == 4.0);
    assert_true(helion_sim_lookup(sim, CD, &r));
    assert_int_equal(r.kind, HELION_RESULT_COMPILE);
    assert_true(isinf(r.ms));
    assert_true(r.compile_s == 0.3);
    assert_true(helion_sim_lookup(sim, CE, &r));
    assert_int_equal(r.kind, HELION_RESULT_RUNTIME);
    assert_true(isinf(r.ms));

    /* Excluded and absent configs are neither records nor valid. */
    assert_false(helion_sim_lookup(sim, CF, &r));
    assert_false(helion_sim_lookup(sim, CG, &r));
    assert_false(helion_sim_lookup(sim, CX, &r));
    assert_true(helion_space_valid(s, CA));
    assert_true(helion_space_valid(s, CD));
    assert_true(helion_space_valid(s, CE));
    assert_false(helion_space_valid(s, CF));
    assert_false(helion_space_valid(s, CG));
    assert_false(helion_space_valid(s, CX));

    int64_t best[5];
    assert_true(helion_sim_optimum(sim, best) == 1.0);
    assert_memory_equal(best, CB, sizeof(best));
    helion_sim_destroy(sim);
  }
}

/* The space's random draws go through the filter: only recorded,
 * non-excluded configurations come out, and every one of them does. */
static void test_backend_sim_space_random_proposes_recorded(void **state) {
  (void)state;
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json"), NULL);
  const helion_space_t *s = helion_sim_space(sim);
  const int64_t *valid[5] = {CA, CB, CC, CD, CE};
  int seen[5] = {0};
  helion_rng_t rng;
  helion_rng_seed(&rng, 1);
  for (int i = 0; i < 200; i++) {
    int64_t c[5];
    assert_int_equal(helion_space_random(s, &rng, 0, c), HELION_OK);
    int hit = -1;
    for (int k = 0; k < 5; k++)
      if (memcmp(c, valid[k], sizeof(c)) == 0)
        hit = k;
    if (hit < 0)
      fail_msg("draw %d [%lld %lld %lld %lld %lld] is not a valid record", i,
               (long long)c[0], (long long)c[1], (long long)c[2],
               (long long)c[3], (long long)c[4]);
    seen[hit]++;
  }
  for (int k = 0; k < 5; k++)
    assert_true(seen[k] > 0);
  helion_sim_destroy(sim);
}

/* Gzip is told by its magic bytes, not the file's name. */
static void test_backend_sim_gzip_by_magic(void **state) {
  (void)state;
  size_t len;
  char *gz = slurp(data_path("tiny_cache.json.gz"), &len);
  const char *p = write_plain("gz_named_plain.json", gz, len);
  free(gz);
  helion_sim_t *sim = load_ok(p, NULL);
  assert_int_equal(helion_sim_valid_count(sim), 5);
  helion_sim_destroy(sim);
  char *plain = slurp(data_path("tiny_t4.json"), &len);
  p = write_plain("plain_named.json.gz", plain, len);
  free(plain);
  sim = load_ok(p, NULL);
  assert_int_equal(helion_sim_valid_count(sim), 5);
  helion_sim_destroy(sim);
}

/* ------------------------------------------------------------ clock */

static void test_backend_sim_clock_first_visit_only(void **state) {
  (void)state;
  /* Cache costs: A (100 + 6) ms, B (200 + 2), C 10 + 4.0 x 7 default runs,
   * D 300 + 0, E 50 + 5. */
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json"), NULL);
  helion_backend_t *b = helion_sim_backend(sim);
  helion_err_t err;
  helion_bench_result_t out[2];
  int64_t two[10];
  memcpy(two, CA, sizeof(CA));
  memcpy(two + 5, CB, sizeof(CB));
  assert_true(b->space == helion_sim_space(sim));
  assert_true(helion_backend_elapsed(b) == 0.0);
  assert_int_equal(helion_backend_bench(b, two, 2, out, &err), HELION_OK);
  assert_int_equal(out[0].kind, HELION_RESULT_OK);
  assert_true(out[0].ms == 2.0);
  assert_true(out[0].compile_s == 0.1);
  assert_true(out[1].ms == 1.0);
  assert_near(helion_backend_elapsed(b), 0.106 + 0.202, 1e-12);
  assert_int_equal(helion_sim_evaluations(sim), 2);
  /* A revisit costs nothing and compiles nothing. */
  assert_int_equal(helion_backend_bench(b, CA, 1, out, &err), HELION_OK);
  assert_true(out[0].ms == 2.0);
  assert_true(out[0].compile_s == 0.0);
  assert_near(helion_backend_elapsed(b), 0.308, 1e-12);
  assert_int_equal(helion_sim_evaluations(sim), 2);
  /* Failures are evaluations and cost their recorded time. */
  assert_int_equal(helion_backend_bench(b, CD, 1, out, &err), HELION_OK);
  assert_int_equal(out[0].kind, HELION_RESULT_COMPILE);
  assert_true(isinf(out[0].ms));
  assert_near(helion_backend_elapsed(b), 0.608, 1e-12);
  assert_int_equal(helion_backend_bench(b, CE, 1, out, &err), HELION_OK);
  assert_int_equal(out[0].kind, HELION_RESULT_RUNTIME);
  assert_near(helion_backend_elapsed(b), 0.663, 1e-12);
  assert_int_equal(helion_backend_bench(b, CC, 1, out, &err), HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.701, 1e-12);
  assert_int_equal(helion_sim_evaluations(sim), 5);
  assert_near(helion_sim_elapsed(sim), 0.701, 1e-12);

  helion_sim_reset(sim, 0);
  assert_true(helion_backend_elapsed(b) == 0.0);
  assert_int_equal(helion_sim_evaluations(sim), 0);
  assert_int_equal(helion_backend_bench(b, CA, 1, out, &err), HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.106, 1e-12);
  helion_backend_destroy(b); /* destroys the sim too */
}

/* submit / collect with two compile slots: each compile starts in the slot
 * that frees first from its submission, the GPU times what is ready first,
 * and collect moves the clock to the end of the timing it returns. */
static void test_backend_sim_submit_collect(void **state) {
  (void)state;
  helion_sim_opts_t o = {.compile_jobs = 2};
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json"), &o);
  helion_backend_t *b = helion_sim_backend(sim);
  helion_err_t err;
  helion_bench_result_t r;
  uint64_t tag;
  size_t got;
  int64_t two[10];
  memcpy(two, CA, sizeof(CA));
  memcpy(two + 5, CB, sizeof(CB));
  assert_true(helion_backend_can_submit(b));
  /* Nothing queued: nothing to wait for. */
  assert_int_equal(helion_backend_collect(b, 1, &tag, &r, &got, &err),
                   HELION_OK);
  assert_int_equal(got, 0);
  /* At 0: A compiles 0 -> 0.1, B 0 -> 0.2; A is timed 0.1 -> 0.106. */
  const uint64_t tags_ab[2] = {7, 8};
  assert_int_equal(helion_backend_submit(b, two, 2, tags_ab, &err), HELION_OK);
  /* Neither bench nor rebench runs while configs are queued. */
  double ms;
  assert_int_equal(helion_backend_bench(b, CC, 1, &r, &err), HELION_ERR_USAGE);
  assert_int_equal(helion_backend_rebench(b, CA, 1, 10, &ms, &err),
                   HELION_ERR_USAGE);
  assert_int_equal(helion_backend_collect(b, 1, &tag, &r, &got, &err),
                   HELION_OK);
  assert_int_equal(got, 1);
  assert_int_equal(tag, 7);
  assert_true(r.ms == 2.0 && r.compile_s == 0.1);
  assert_near(helion_backend_elapsed(b), 0.106, 1e-12);
  /* At 0.106: D compiles 0.106 -> 0.406 (A's slot), C 0.2 -> 0.21 (B's). */
  const uint64_t tag_d = 9, tag_c = 10;
  assert_int_equal(helion_backend_submit(b, CD, 1, &tag_d, &err), HELION_OK);
  assert_int_equal(helion_backend_submit(b, CC, 1, &tag_c, &err), HELION_OK);
  /* B (ready 0.2) is timed 0.2 -> 0.202, C 0.21 -> 0.238, then D's compile
   * failure is known at 0.406. */
  const uint64_t want_tag[3] = {8, 10, 9};
  const double want_t[3] = {0.202, 0.238, 0.406};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(helion_backend_collect(b, 4, &tag, &r, &got, &err),
                     HELION_OK);
    assert_int_equal(got, 1);
    assert_int_equal(tag, want_tag[i]);
    assert_near(helion_backend_elapsed(b), want_t[i], 1e-12);
  }
  assert_int_equal(r.kind, HELION_RESULT_COMPILE);
  assert_int_equal(helion_backend_collect(b, 1, &tag, &r, &got, &err),
                   HELION_OK);
  assert_int_equal(got, 0);
  assert_int_equal(helion_sim_evaluations(sim), 4);
  /* Drained: bench runs again, from the clock. */
  assert_int_equal(helion_backend_bench(b, CE, 1, &r, &err), HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.406 + 0.055, 1e-12);
  helion_backend_destroy(b);
}

/* T4 records no benchmark time: compile + the sum of the runs. */
static void test_backend_sim_clock_t4(void **state) {
  (void)state;
  helion_sim_t *sim = load_ok(data_path("tiny_t4.json.gz"), NULL);
  helion_backend_t *b = helion_sim_backend(sim);
  helion_err_t err;
  helion_bench_result_t out[1];
  assert_int_equal(helion_backend_bench(b, CC, 1, out, &err), HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.014, 1e-12);
  assert_int_equal(helion_backend_bench(b, CA, 1, out, &err), HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.120, 1e-12);
  assert_int_equal(helion_backend_bench(b, CE, 1, out, &err), HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.170, 1e-12);
  helion_sim_destroy(sim);
}

static void test_backend_sim_rebench_clock(void **state) {
  (void)state;
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json"), NULL);
  helion_backend_t *b = helion_sim_backend(sim);
  helion_err_t err;
  double ms[3];
  int64_t three[15];
  memcpy(three, CA, sizeof(CA));
  memcpy(three + 5, CB, sizeof(CB));
  memcpy(three + 10, CD, sizeof(CD));
  /* One round of A, B (D fails, costs nothing) is 3 ms: 30 ms = 10 rounds. */
  assert_int_equal(helion_backend_rebench(b, three, 3, 30.0, ms, &err),
                   HELION_OK);
  assert_true(ms[0] == 2.0 && ms[1] == 1.0 && isinf(ms[2]));
  assert_near(helion_backend_elapsed(b), 0.030, 1e-12);
  /* 31 ms takes 11 rounds; less than one round still runs one. */
  assert_int_equal(helion_backend_rebench(b, three, 2, 31.0, ms, &err),
                   HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.063, 1e-12);
  assert_int_equal(helion_backend_rebench(b, three, 2, 1.0, ms, &err),
                   HELION_OK);
  assert_near(helion_backend_elapsed(b), 0.066, 1e-12);
  assert_int_equal(helion_sim_evaluations(sim), 0);
  helion_sim_destroy(sim);
}

static void test_backend_sim_absent_config_is_a_fault(void **state) {
  (void)state;
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json"), NULL);
  helion_backend_t *b = helion_sim_backend(sim);
  helion_err_t err;
  helion_bench_result_t out[2];
  int64_t two[10];
  memcpy(two, CA, sizeof(CA));
  memcpy(two + 5, CF, sizeof(CF));
  assert_int_equal(helion_backend_bench(b, two, 2, out, &err),
                   HELION_ERR_INVALID);
  assert_string_equal(err.msg,
                      "simulator: configuration 1 [64, 1, 0, 1, 15] is not in "
                      "the landscape (absent or excluded); searches must "
                      "propose only configurations the space's filter accepts");
  /* Nothing of the batch was charged. */
  assert_true(helion_backend_elapsed(b) == 0.0);
  assert_int_equal(helion_sim_evaluations(sim), 0);
  helion_sim_destroy(sim);
}

/* ------------------------------------------------------------ noise */

static void draw_sequence(helion_sim_t *sim, double *seq, size_t n) {
  helion_err_t err;
  helion_bench_result_t out;
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(
        helion_backend_bench(helion_sim_backend(sim), CA, 1, &out, &err),
        HELION_OK);
    seq[i] = out.ms;
  }
}

static void test_backend_sim_noise_draws_recorded_runs(void **state) {
  (void)state;
  helion_sim_opts_t o = {.noise = true, .seed = 7};
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json.gz"), &o);
  double seq[200], again[200];
  int seen[3] = {0, 0, 0};
  draw_sequence(sim, seq, 200);
  for (size_t i = 0; i < 200; i++) {
    if (seq[i] == 1.5)
      seen[0]++;
    else if (seq[i] == 2.5)
      seen[1]++;
    else if (seq[i] == 2.0)
      seen[2]++;
    else
      fail_msg("draw %zu is %g, not a recorded run", i, seq[i]);
  }
  /* Uniform over 3 runs: each about 67 of 200 (all three seen). */
  assert_true(seen[0] > 30 && seen[1] > 30 && seen[2] > 30);
  /* Revisits cost nothing, in noise mode too. */
  assert_near(helion_sim_elapsed(sim), 0.106, 1e-12);

  /* The same seed gives the same draws: after reset and on a fresh load. */
  helion_sim_reset(sim, 7);
  draw_sequence(sim, again, 200);
  assert_memory_equal(seq, again, sizeof(seq));
  helion_sim_t *sim2 = load_ok(data_path("tiny_t4.json"), &o);
  draw_sequence(sim2, again, 200);
  assert_memory_equal(seq, again, sizeof(seq));
  helion_sim_destroy(sim2);
  o.seed = 8;
  sim2 = load_ok(data_path("tiny_cache.json"), &o);
  draw_sequence(sim2, again, 200);
  assert_memory_not_equal(seq, again, sizeof(seq));

  /* Without recorded runs the record's time comes back. */
  helion_err_t err;
  helion_bench_result_t out;
  assert_int_equal(
      helion_backend_bench(helion_sim_backend(sim2), CC, 1, &out, &err),
      HELION_OK);
  assert_true(out.ms == 4.0);
  /* rebench: A alone for 9 ms is ceil(9 / 2) = 5 rounds, the median of 5
   * draws is one of the runs. */
  for (int i = 0; i < 20; i++) {
    double ms;
    assert_int_equal(
        helion_backend_rebench(helion_sim_backend(sim2), CA, 1, 9.0, &ms, &err),
        HELION_OK);
    assert_true(ms == 1.5 || ms == 2.0 || ms == 2.5);
  }
  helion_sim_destroy(sim2);
  helion_sim_destroy(sim);
}

/* ------------------------------------------------------------ random */

/* Sorted times 1, 2, 4, inf, inf (N = 5, optimum 1). Best of n draws
 * without replacement: P(best <= t_(k)) = 1 - C(5-k, n) / C(5, n).
 *   n = 1: k/5 = 0.2 0.4 0.6 0.8 1
 *   n = 2: 1 - C(5-k,2)/10 = 0.4 0.7 0.9 1 1
 *   n = 3: 1 - C(5-k,3)/10 = 0.6 0.9 1 1 1 */
static void test_backend_sim_random_expectation_by_hand(void **state) {
  (void)state;
  helion_sim_t *sim = load_ok(data_path("tiny_cache.json"), NULL);
  helion_err_t err;
  double r;
  struct {
    size_t n;
    double q, ratio;
  } cases[] = {
      {1, 0.5, 4.0}, {1, 0.4, 2.0}, {1, 0.2, 1.0},  {1, 0.61, INFINITY},
      {2, 0.5, 2.0}, {2, 0.4, 1.0}, {2, 0.9, 4.0},  {2, 0.95, INFINITY},
      {3, 0.5, 1.0}, {3, 0.9, 2.0}, {5, 0.99, 1.0}, {9, 1.0, 1.0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(
        helion_sim_random_expectation(sim, cases[i].n, cases[i].q, &r, &err),
        HELION_OK);
    if (isinf(cases[i].ratio))
      assert_true(isinf(r));
    else if (r != cases[i].ratio)
      fail_msg("n=%zu q=%g: ratio %g, expected %g", cases[i].n, cases[i].q, r,
               cases[i].ratio);
  }
  assert_near(helion_sim_random_within(sim, 1, 1.02), 0.2, 1e-12);
  assert_near(helion_sim_random_within(sim, 2, 1.02), 0.4, 1e-12);
  assert_near(helion_sim_random_within(sim, 2, 2.0), 0.7, 1e-12);
  assert_near(helion_sim_random_within(sim, 3, 1.10), 0.6, 1e-12);
  assert_near(helion_sim_random_within(sim, 3, 4.0), 1.0, 1e-12);
  assert_near(helion_sim_random_within(sim, 0, 1.10), 0.0, 0.0);
  assert_int_equal(helion_sim_random_expectation(sim, 0, 0.5, &r, &err),
                   HELION_ERR_INVALID);
  assert_string_equal(err.msg, "random expectation: need n_evals >= 1 and 0 < "
                               "q <= 1 (got 0 and 0.5)");
  assert_int_equal(helion_sim_random_expectation(sim, 2, 0.0, &r, &err),
                   HELION_ERR_INVALID);
  helion_sim_destroy(sim);
}

/* ------------------------------------------------------------ T4 kinds */

static void test_backend_sim_t4_invalidity_kinds(void **state) {
  (void)state;
  const char *p = write_text(
      "kinds_t4.json",
      "{\"metadata\": {\"timeunit\": \"seconds\"}, \"results\": [\n"
      "{\"configuration\": {\"a\": 1}, \"invalidity\": \"correct\", "
      "\"times\": {\"compilation\": 0.5, \"runtimes\": [0.001, 0.003]}},\n"
      "{\"configuration\": {\"a\": 2}, \"invalidity\": \"correctness\", "
      "\"times\": {\"runtimes\": [1]}},\n"
      "{\"configuration\": {\"a\": 3}, \"invalidity\": \"timeout\"},\n"
      "{\"configuration\": {\"a\": 4}, \"invalidity\": \"something new\"},\n"
      "{\"configuration\": {\"a\": 5}, \"invalidity\": \"constraints\"}]}\n");
  helion_sim_t *sim = load_ok(p, NULL);
  helion_sim_record_t r;
  int64_t c[1] = {1};
  assert_int_equal(helion_sim_space(sim)->params[0].frag.kind, HELION_FRAG_INT);
  assert_int_equal(helion_sim_space(sim)->params[0].frag.high, 5);
  assert_true(helion_sim_lookup(sim, c, &r));
  assert_int_equal(r.kind, HELION_RESULT_OK);
  assert_near(r.ms, 2.0, 1e-12); /* mean of 1 and 3 ms */
  assert_near(r.compile_s, 0.5, 1e-12);
  assert_near(r.cost_s, 0.504, 1e-12);
  c[0] = 2;
  assert_true(helion_sim_lookup(sim, c, &r));
  assert_int_equal(r.kind, HELION_RESULT_ACCURACY);
  c[0] = 3;
  assert_true(helion_sim_lookup(sim, c, &r));
  assert_int_equal(r.kind, HELION_RESULT_TIMEOUT);
  c[0] = 4;
  assert_true(helion_sim_lookup(sim, c, &r));
  assert_int_equal(r.kind, HELION_RESULT_RUNTIME);
  c[0] = 5;
  assert_false(helion_sim_lookup(sim, c, &r));
  assert_int_equal(helion_sim_valid_count(sim), 4);
  helion_sim_destroy(sim);
}

/* ------------------------------------------------------------ errors */

static void test_backend_sim_error_gzip_truncated(void **state) {
  (void)state;
  size_t gzlen, plainlen;
  char *gz = slurp(data_path("tiny_cache.json.gz"), &gzlen);
  char *plain = slurp(data_path("tiny_cache.json"), &plainlen);
  free(plain);
  /* Without the last 4 bytes (the size in the trailer) every byte of text
   * comes out, but the stream never ends. */
  const char *p = write_plain("trunc.json.gz", gz, gzlen - 4);
  char msg[512];
  snprintf(msg, sizeof(msg),
           "%s: truncated gzip data after %zu bytes (%zu bytes "
           "decompressed); the file is incomplete, copy it again",
           p, gzlen - 4, plainlen);
  expect_error(p, msg);
  /* Cut in the middle: the start of the message is the same. */
  p = write_plain("trunc2.json.gz", gz, 100);
  helion_sim_t *sim = NULL;
  helion_err_t err;
  assert_int_not_equal(helion_sim_load(p, NULL, &sim, &err), HELION_OK);
  snprintf(msg, sizeof(msg), "%s: truncated gzip data after 100 bytes (", p);
  assert_memory_equal(err.msg, msg, strlen(msg));
  free(gz);
}

static void test_backend_sim_error_gzip_corrupt(void **state) {
  (void)state;
  size_t gzlen;
  char *gz = slurp(data_path("tiny_cache.json.gz"), &gzlen);
  /* Breaking the CRC-32 (trailer bytes gzlen-8 .. gzlen-5): zlib notices
   * once it has read all 4 of them. */
  gz[gzlen - 8] ^= 0x55;
  const char *p = write_plain("crc.json.gz", gz, gzlen);
  char msg[512];
  snprintf(msg, sizeof(msg),
           "%s: corrupt gzip data at byte %zu: incorrect data check", p,
           gzlen - 4);
  expect_error(p, msg);
  free(gz);
}

static void test_backend_sim_error_json_positions(void **state) {
  (void)state;
  /* Line 3, column 19 is the second comma; cJSON stops just after it. */
  const char *text = "{\n\"cache\": {\n\"1\": {\"time\": 1.0,, \"x\": 2}}}\n";
  char msg[512];
  const char *p = write_text("bad.json", text);
  snprintf(msg, sizeof(msg), "%s:3:20: malformed JSON near ' \"x\": 2}}}'", p);
  expect_error(p, msg);
  p = write_gz("bad.json.gz", text);
  snprintf(msg, sizeof(msg),
           "%s (decompressed):3:20: malformed JSON near ' \"x\": 2}}}'", p);
  expect_error(p, msg);
  /* A JSON text cut short inside a complete gzip stream: 28 characters,
   * cJSON points at the last one. */
  p = write_gz("short.json.gz", "{\"cache\": {\"1\": {\"time\": 1.0");
  snprintf(msg, sizeof(msg), "%s (decompressed):1:28: malformed JSON near '0'",
           p);
  expect_error(p, msg);
}

/* A cache file with the tiny landscape's parameters and one record. */
static const char *cache_with(const char *name, const char *records) {
  static char text[4096];
  snprintf(text, sizeof(text),
           "{\"tune_params_keys\": [\"x\", \"y\"],\n"
           " \"tune_params\": {\"x\": [1, 2], \"y\": [\"a\", \"b c\"]},\n"
           " \"cache\": {%s}}\n",
           records);
  return write_text(name, text);
}

static void test_backend_sim_error_structure(void **state) {
  (void)state;
  char msg[512];
  const char *p;
  struct {
    const char *records, *msg;
  } cases[] = {
      {"\"1,a\": {\"time\": [1]}",
       "cache[\"1,a\"].time: expected a number or a failure string, got "
       "array"},
      {"\"1,a\": {\"times\": [1]}",
       "cache[\"1,a\"].time: expected a number or a failure string, got "
       "missing"},
      {"\"1,a\": {\"time\": \"Oops\"}",
       "cache[\"1,a\"].time: unknown failure \"Oops\" (expected a number in "
       "ms, CompilationFailedConfig, RuntimeFailedConfig or InvalidConfig)"},
      {"\"1,a\": {\"time\": -1}",
       "cache[\"1,a\"].time: -1 ms is outside [1e-06, 8.64e+07] ms (a kernel "
       "run takes a nanosecond to a day)"},
      /* 0 would make every ratio to the optimum NaN. */
      {"\"1,a\": {\"time\": 0}",
       "cache[\"1,a\"].time: 0 ms is outside [1e-06, 8.64e+07] ms (a kernel "
       "run takes a nanosecond to a day)"},
      {"\"1,a\": {\"time\": 1e308}",
       "cache[\"1,a\"].time: 1e+308 ms is outside [1e-06, 8.64e+07] ms (a "
       "kernel run takes a nanosecond to a day)"},
      {"\"1,a\": {\"time\": 1e999}",
       "cache[\"1,a\"].time: inf ms is outside [1e-06, 8.64e+07] ms (a "
       "kernel run takes a nanosecond to a day)"},
      {"\"1,a\": {\"time\": 1, \"times\": [1, 0]}",
       "cache[\"1,a\"].times[1]: 0 ms is outside [1e-06, 8.64e+07] ms (a "
       "kernel run takes a nanosecond to a day)"},
      {"\"1,a\": {\"time\": 1, \"benchmark_time\": 1e300}",
       "cache[\"1,a\"].benchmark_time: 1e+300 ms is outside [0, 8.64e+07] ms "
       "(a time is 0 to a day)"},
      {"\"1,a\": {\"time\": 1, \"times\": [1, \"2\"]}",
       "cache[\"1,a\"].times[1]: expected a time in ms (a number >= 0), got "
       "string"},
      {"\"1,a\": {\"time\": 1, \"compile_time\": null}",
       "cache[\"1,a\"].compile_time: expected a time in ms (a number >= 0), "
       "got null"},
      {"\"1,a\": {\"__error__\": 3}",
       "cache[\"1,a\"].__error__: expected a failure name, got number"},
      {"\"1,a\": 5", "cache[\"1,a\"]: expected an object, got number"},
      {"\"1,a,2\": {\"time\": 1}",
       "cache[\"1,a,2\"]: the key has 3 values, but tune_params_keys names 2 "
       "parameters"},
      {"\"1\": {\"time\": 1}",
       "cache[\"1\"]: the key has 1 values, but tune_params_keys names 2 "
       "parameters"},
      {"\"3,a\": {\"time\": 1}",
       "cache[\"3,a\"]: value '3' of x is not among its tune_params values"},
      {"\"1,b c\": {\"time\": 1}, \"1.0,b c\": {\"time\": 2}",
       "cache[\"1.0,b c\"]: the same configuration appears twice"},
      {"\"1,a\": {\"time\": \"RuntimeFailedConfig\"}",
       "no configuration ran successfully (1 valid records, none OK); nothing "
       "to simulate"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char name[32];
    snprintf(name, sizeof(name), "struct%zu.json", i);
    p = cache_with(name, cases[i].records);
    snprintf(msg, sizeof(msg), "%s: %s", p, cases[i].msg);
    expect_error(p, msg);
  }
  /* The header. */
  struct {
    const char *text, *msg;
  } heads[] = {
      {"[1]", "expected a JSON object (a Kernel Tuner cache or T4 file), got "
              "array"},
      {"{}", "neither a Kernel Tuner cache file (no \"cache\") nor a T4 file "
             "(no \"results\")"},
      {"{\"cache\": {}}", "tune_params_keys: expected a non-empty array of "
                          "parameter names, got missing"},
      {"{\"cache\": {}, \"tune_params_keys\": [\"x\"]}",
       "tune_params: expected an object, got missing"},
      {"{\"cache\": {}, \"tune_params_keys\": [\"x\", 2], \"tune_params\": "
       "{\"x\": [1]}}",
       "tune_params_keys[1]: expected a string, got number"},
      {"{\"cache\": {}, \"tune_params_keys\": [\"x\", \"x\"], "
       "\"tune_params\": {\"x\": [1]}}",
       "tune_params_keys[1]: \"x\" appears twice"},
      {"{\"cache\": {}, \"tune_params_keys\": [\"x\", \"block size\"], "
       "\"tune_params\": {\"x\": [1]}}",
       "tune_params[\"block size\"]: expected a non-empty array of values, "
       "got missing"},
      {"{\"cache\": {}, \"tune_params_keys\": [\"x\"], \"tune_params\": "
       "{\"x\": []}}",
       "tune_params.x: expected a non-empty array of values, got an empty "
       "array"},
      {"{\"cache\": {}, \"tune_params_keys\": [\"x\"], \"tune_params\": "
       "{\"x\": [1, [2]]}}",
       "tune_params.x[1]: expected a number, string or boolean, got array"},
      {"{\"cache\": [], \"tune_params_keys\": [\"x\"], \"tune_params\": "
       "{\"x\": [1]}}",
       "cache: expected an object, got array"},
      {"{\"results\": {}}", "results: expected an array, got object"},
      {"{\"results\": []}", "results: no results; nothing to simulate"},
      {"{\"results\": [{\"configuration\": {}}]}",
       "results[0].configuration: expected a non-empty object, got an empty "
       "object"},
      {"{\"results\": [{\"configuration\": {\"a\": 1, \"b\": 1}}, "
       "{\"configuration\": {\"a\": 2}}]}",
       "results[1].configuration: has no \"b\" (results[0].configuration has "
       "it)"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}}, "
       "{\"configuration\": {\"a\": 2, \"b\": 1}}]}",
       "results[1].configuration: has 2 parameters, results[0].configuration "
       "has 1"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}}, "
       "{\"configuration\": {\"a\": {}}}]}",
       "results[1].configuration.a: expected a number, string or boolean, got "
       "object"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}}]}",
       "results[0].invalidity: expected a string, got missing"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}, \"invalidity\": "
       "\"correct\", \"times\": {}}]}",
       "results[0].times.runtimes: a \"correct\" result needs at least one "
       "runtime"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}, \"invalidity\": "
       "\"correct\", \"times\": {\"compilation\": \"x\", \"runtimes\": [1]}}]}",
       "results[0].times.compilation: expected a time in ms (a number >= 0), "
       "got string"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}, \"invalidity\": "
       "\"correct\", \"times\": {\"runtimes\": 1}}]}",
       "results[0].times.runtimes: expected an array of numbers, got number"},
      {"{\"results\": [{\"configuration\": {\"a\": 1}, \"invalidity\": "
       "\"correct\", \"times\": {\"runtimes\": [1]}}, {\"configuration\": "
       "{\"a\": 1}, \"invalidity\": \"compile\"}]}",
       "results[1]: the same configuration appears twice"},
      {"{\"metadata\": {\"timeunit\": \"seconds\"}, \"results\": "
       "[{\"configuration\": {\"a\": 1}, \"invalidity\": \"correct\", "
       "\"times\": {\"runtimes\": [1, 0]}}]}",
       "results[0].times.runtimes[1]: 0 ms is outside [1e-06, 8.64e+07] ms (a "
       "kernel run takes a nanosecond to a day)"},
      {"{\"metadata\": {\"timeunit\": \"seconds\"}, \"results\": "
       "[{\"configuration\": {\"a\": 1}, \"invalidity\": \"correct\", "
       "\"times\": {\"runtimes\": [1], \"compilation\": 1e5}}]}",
       "results[0].times.compilation: 1e+08 ms is outside [0, 8.64e+07] ms (a "
       "time is 0 to a day)"},
      {"{\"metadata\": {\"timeunit\": \"fortnights\"}, \"results\": []}",
       "metadata.timeunit: unknown unit (expected \"milliseconds\", "
       "\"seconds\" or \"microseconds\")"},
  };
  for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
    char name[32];
    snprintf(name, sizeof(name), "head%zu.json", i);
    p = write_text(name, heads[i].text);
    snprintf(msg, sizeof(msg), "%s: %s", p, heads[i].msg);
    expect_error(p, msg);
  }
  p = tmp_path("does_not_exist.json");
  snprintf(msg, sizeof(msg), "%s: cannot open: No such file or directory", p);
  expect_error(p, msg);
}


/* ------------------------------------------------------------ hostile input */

/* The gzip bytes of `text` (a file written by zlib, read back). */
static char *gz_bytes(const char *name, const char *text, size_t *len) {
  return slurp(write_gz(name, text), len);
}

/* A gzip bomb: `mib` gzip members of 1 MiB of spaces each inside
 * {"results": [ ... ]}, about 1 KiB of file per MiB of text. */
static char *bomb(size_t mib, size_t *out_len) {
  char *spaces = malloc((1 << 20) + 1);
  assert_non_null(spaces);
  memset(spaces, ' ', 1 << 20);
  spaces[1 << 20] = '\0';
  size_t hl, ml, tl;
  char *head = gz_bytes("bomb_head.gz", "{\"results\": [", &hl);
  char *mem = gz_bytes("bomb_mib.gz", spaces, &ml);
  char *tail = gz_bytes("bomb_tail.gz", "]}", &tl);
  char *b = malloc(hl + mib * ml + tl);
  assert_non_null(b);
  memcpy(b, head, hl);
  for (size_t i = 0; i < mib; i++)
    memcpy(b + hl + i * ml, mem, ml);
  memcpy(b + hl + mib * ml, tail, tl);
  *out_len = hl + mib * ml + tl;
  free(spaces);
  free(head);
  free(mem);
  free(tail);
  return b;
}

/* The cap on unpacked text is hard: one byte over is refused, and the
 * refusal comes while inflating, with the cap and its reason named. */
static void test_backend_sim_gzip_bomb(void **state) {
  (void)state;
  size_t len;
  char *b = bomb(5, &len);
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  /* 5 MiB + 15 bytes of text: 4 MiB refused, 6 MiB parsed (no results). */
  assert_int_equal(helion_sim_load_buffer("bomb", b, len, (size_t)4 << 20,
                                          NULL, &sim, &err),
                   HELION_ERR_LIMIT);
  assert_null(sim);
  assert_string_equal(err.msg,
                      "bomb: unpacks to more than 4 MiB; the largest known "
                      "landscape (gemm_RTX_3090) is 16 MiB of text, so this "
                      "is not a landscape (a gzip bomb?)");
  assert_int_equal(helion_sim_load_buffer("bomb", b, len, (size_t)6 << 20,
                                          NULL, &sim, &err),
                   HELION_ERR_PARSE);
  assert_string_equal(err.msg, "bomb: results: no results; nothing to "
                               "simulate");
  /* Exactly at the cap passes; one byte less refuses. */
  size_t text = ((size_t)5 << 20) + strlen("{\"results\": [") + strlen("]}");
  assert_int_equal(
      helion_sim_load_buffer("bomb", b, len, text, NULL, &sim, &err),
      HELION_ERR_PARSE);
  assert_int_equal(
      helion_sim_load_buffer("bomb", b, len, text - 1, NULL, &sim, &err),
      HELION_ERR_LIMIT);
  free(b);
  /* The default cap, through the file reader: 300 MiB of text from about
   * 300 KiB of file. */
  b = bomb(300, &len);
  const char *p = write_plain("bomb.json.gz", b, len);
  free(b);
  char msg[512];
  snprintf(msg, sizeof(msg),
           "%s: unpacks to more than 256 MiB; the largest known landscape "
           "(gemm_RTX_3090) is 16 MiB of text, so this is not a landscape (a "
           "gzip bomb?)",
           p);
  expect_error(p, msg);
}

/* The reader on bytes in memory reads what the file reader reads. */
static void test_backend_sim_load_buffer(void **state) {
  (void)state;
  for (size_t i = 0; i < 4; i++) {
    size_t len;
    char *data = slurp(data_path(TINY[i]), &len);
    helion_sim_t *a = load_ok(data_path(TINY[i]), NULL), *b = NULL;
    helion_err_t err = {{0}};
    assert_int_equal(
        helion_sim_load_buffer("mem", data, len, 0, NULL, &b, &err),
        HELION_OK);
    assert_int_equal(helion_sim_valid_count(a), helion_sim_valid_count(b));
    assert_true(helion_sim_optimum(a, NULL) == helion_sim_optimum(b, NULL));
    assert_string_equal(helion_sim_format(a), helion_sim_format(b));
    helion_sim_destroy(a);
    helion_sim_destroy(b);
    free(data);
  }
}

static size_t cjson_allocs_left;
static void *failing_malloc(size_t n) {
  if (cjson_allocs_left == 0)
    return NULL;
  cjson_allocs_left--;
  return malloc(n);
}

/* cJSON running out of memory says so, not "malformed JSON"; malformed
 * text still says malformed. */
static void test_backend_sim_out_of_memory(void **state) {
  (void)state;
  cJSON_Hooks hooks = {failing_malloc, free};
  cJSON_InitHooks(&hooks);
  for (size_t i = 0; i < 4; i++) {
    cjson_allocs_left = 10;
    helion_sim_t *sim = NULL;
    helion_err_t err = {{0}};
    const char *p = data_path(TINY[i]);
    assert_int_equal(helion_sim_load(p, NULL, &sim, &err), HELION_ERR_NOMEM);
    assert_null(sim);
    char msg[1024];
    snprintf(msg, sizeof(msg),
             "%s: out of memory while parsing its 1 MiB of JSON", p);
    assert_string_equal(err.msg, msg);
  }
  cJSON_InitHooks(NULL);
  const char *p = write_text("cut.json", "{\"cache\": {\"1\": [1, 2}}");
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_sim_load(p, NULL, &sim, &err), HELION_ERR_PARSE);
  assert_non_null(strstr(err.msg, "malformed JSON"));
}

/* ------------------------------------------------------------ real data */

/* Pinned from a separate Python computation over the decompressed files:
 * min(time) over numeric records, and tests/bench/random_baseline.py. */
static void test_backend_sim_real_gemm(void **state) {
  (void)state;
  helion_sim_t *sim = load_ok(data_path("gemm_RTX_3090.json.gz"), NULL);
  const helion_space_t *s = helion_sim_space(sim);
  assert_int_equal(helion_sim_valid_count(sim), 17956);
  assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_OK), 17956);
  assert_int_equal(s->nparams, 15);
  /* MWG 16..128 and MDIMC 8..32 are POW2, KWG [32] a one-value POW2, STRM
   * [0] a one-value INT, SA [0, 1] INT. */
  assert_int_equal(s->params[0].frag.kind, HELION_FRAG_POW2);
  assert_int_equal(s->params[0].frag.low, 16);
  assert_int_equal(s->params[0].frag.high, 128);
  assert_int_equal(s->params[2].frag.kind, HELION_FRAG_POW2);
  assert_int_equal(s->params[2].frag.low, 32);
  assert_int_equal(s->params[3].frag.kind, HELION_FRAG_POW2);
  assert_int_equal(s->params[3].frag.high, 32);
  assert_int_equal(s->params[10].frag.kind, HELION_FRAG_INT);
  assert_int_equal(s->params[12].frag.kind, HELION_FRAG_INT);
  assert_int_equal(s->params[12].frag.high, 1);
  int64_t best[15];
  const int64_t want[15] = {128, 128, 32, 16, 8, 16, 32, 2,
                            8,   2,   0,  0,  1, 1,  32};
  assert_true(helion_sim_optimum(sim, best) == 5.657843999999999);
  assert_memory_equal(best, want, sizeof(want));
  helion_sim_record_t r;
  assert_true(helion_sim_lookup(sim, want, &r));
  /* compile_time 148.2180099701509 + benchmark_time 186.27182202180848. */
  assert_near(r.cost_s, 0.33449, 1e-5);
  assert_int_equal(r.nruns, 32);
  double ratio;
  helion_err_t err;
  assert_int_equal(helion_sim_random_expectation(sim, 220, 0.5, &ratio, &err),
                   HELION_OK);
  assert_near(ratio, 1.1433261503852, 1e-9);
  assert_int_equal(helion_sim_random_expectation(sim, 220, 0.9, &ratio, &err),
                   HELION_OK);
  assert_near(ratio, 1.2269801005471344, 1e-9);
  assert_near(helion_sim_random_within(sim, 220, 1.02), 0.03631000535772266,
              1e-9);
  assert_near(helion_sim_random_within(sim, 220, 1.05), 0.07130736983209618,
              1e-9);
  assert_near(helion_sim_random_within(sim, 220, 1.10), 0.1891461365446202,
              1e-9);
  helion_sim_destroy(sim);
}

static void test_backend_sim_real_convolution(void **state) {
  (void)state;
  const char *files[2] = {"convolution_A4000.json.gz",
                          "convolution_A4000_T4.json.gz"};
  for (int f = 0; f < 2; f++) {
    helion_sim_t *sim = load_ok(data_path(files[f]), NULL);
    const helion_space_t *s = helion_sim_space(sim);
    assert_int_equal(helion_sim_valid_count(sim), 4362);
    assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_OK), 4201);
    assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_RUNTIME), 155);
    assert_int_equal(helion_sim_kind_count(sim, HELION_RESULT_COMPILE), 6);
    /* block_size_x 16, 32, ..., 256 is an enum of 16; tile_size_x 1..4
     * INT; block_size_y 1..16 POW2; use_cmem [1] a one-value POW2. */
    assert_int_equal(s->params[0].frag.kind, HELION_FRAG_ENUM);
    assert_int_equal(s->params[0].frag.nchoices, 16);
    assert_int_equal(s->params[1].frag.kind, HELION_FRAG_POW2);
    assert_int_equal(s->params[2].frag.kind, HELION_FRAG_INT);
    assert_int_equal(s->params[2].frag.high, 4);
    assert_int_equal(s->params[7].frag.kind, HELION_FRAG_POW2);
    int64_t best[10];
    const int64_t want[10] = {15, 1, 2, 4, 0, 0, 0, 1, 15, 15};
    assert_true(helion_sim_optimum(sim, best) == 1.021171996369958);
    assert_memory_equal(best, want, sizeof(want));
    double ratio;
    helion_err_t err;
    assert_int_equal(helion_sim_random_expectation(sim, 100, 0.5, &ratio, &err),
                     HELION_OK);
    assert_near(ratio, 1.2630614582447939, 1e-9);
    assert_near(helion_sim_random_within(sim, 100, 1.05), 0.22540099845936512,
                1e-9);
    helion_sim_destroy(sim);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backend_sim_space_from_params),
      cmocka_unit_test(test_backend_sim_records_in_every_format),
      cmocka_unit_test(test_backend_sim_space_random_proposes_recorded),
      cmocka_unit_test(test_backend_sim_gzip_by_magic),
      cmocka_unit_test(test_backend_sim_clock_first_visit_only),
      cmocka_unit_test(test_backend_sim_submit_collect),
      cmocka_unit_test(test_backend_sim_clock_t4),
      cmocka_unit_test(test_backend_sim_rebench_clock),
      cmocka_unit_test(test_backend_sim_absent_config_is_a_fault),
      cmocka_unit_test(test_backend_sim_noise_draws_recorded_runs),
      cmocka_unit_test(test_backend_sim_random_expectation_by_hand),
      cmocka_unit_test(test_backend_sim_t4_invalidity_kinds),
      cmocka_unit_test(test_backend_sim_error_gzip_truncated),
      cmocka_unit_test(test_backend_sim_error_gzip_corrupt),
      cmocka_unit_test(test_backend_sim_error_json_positions),
      cmocka_unit_test(test_backend_sim_error_structure),
      cmocka_unit_test(test_backend_sim_gzip_bomb),
      cmocka_unit_test(test_backend_sim_load_buffer),
      cmocka_unit_test(test_backend_sim_out_of_memory),
      cmocka_unit_test(test_backend_sim_real_gemm),
      cmocka_unit_test(test_backend_sim_real_convolution),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
