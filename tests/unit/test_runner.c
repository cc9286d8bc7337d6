/*
 * test_runner.c: the CPU side of running kernels: fp16/bf16 conversion
 * against hand-computed encodings, argument data (determinism, every init),
 * the accuracy rule, launch geometry per config, and the benchmark worker's
 * message framing over a socketpair.
 *
 * The tests run inside tests/data/specs, so specs can name "matmul.cu" as
 * their source.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "backend/bench_worker.h"
#include "backend/runner.h"
#include "model/spec.h"

static void test_runner_f16_hand_values(void **state) {
  (void)state;
  /* Encodings worked out by hand (and matching Python's struct 'e'). */
  assert_int_equal(helion_f16_from_double(1.0), 0x3C00);
  assert_int_equal(helion_f16_from_double(-2.0), 0xC000);
  assert_int_equal(helion_f16_from_double(65504.0), 0x7BFF);
  assert_int_equal(helion_f16_from_double(65519.0), 0x7BFF);
  /* Halfway between 65504 and 65536 rounds to even: infinity. */
  assert_int_equal(helion_f16_from_double(65520.0), 0x7C00);
  assert_int_equal(helion_f16_from_double(-INFINITY), 0xFC00);
  assert_int_equal(helion_f16_from_double(NAN) & 0x7E00, 0x7E00);
  assert_int_equal(helion_f16_from_double(0.1), 0x2E66);
  assert_int_equal(helion_f16_from_double(1.0 / 3.0), 0x3555);
  /* Ties to even: 1 + 2^-11 stays 1, 1 + 3 * 2^-11 goes up to 1 + 2^-9. */
  assert_int_equal(helion_f16_from_double(1.0 + ldexp(1, -11)), 0x3C00);
  assert_int_equal(helion_f16_from_double(1.0 + 3 * ldexp(1, -11)), 0x3C02);
  /* Subnormals: 2^-24 is the smallest; 2^-25 ties to 0; 1.5 * 2^-24 to 2. */
  assert_int_equal(helion_f16_from_double(ldexp(1, -24)), 0x0001);
  assert_int_equal(helion_f16_from_double(ldexp(1, -25)), 0x0000);
  assert_int_equal(helion_f16_from_double(3 * ldexp(1, -25)), 0x0002);
  assert_int_equal(helion_f16_from_double(ldexp(1, -14)), 0x0400);
  assert_int_equal(helion_f16_from_double(-0.0), 0x8000);

  assert_true(helion_f16_to_double(0x3555) == 0.333251953125);
  assert_true(helion_f16_to_double(0x0001) == ldexp(1, -24));
  assert_true(helion_f16_to_double(0x7BFF) == 65504.0);
  assert_true(helion_f16_to_double(0xC000) == -2.0);
  assert_true(isinf(helion_f16_to_double(0x7C00)));
  assert_true(isnan(helion_f16_to_double(0xFFFF)));
}

static void test_runner_bf16_hand_values(void **state) {
  (void)state;
  assert_int_equal(helion_bf16_from_double(1.0), 0x3F80);
  assert_int_equal(helion_bf16_from_double(-3.0), 0xC040);
  /* 0.1f is 0x3DCCCCCD; the low half 0xCCCD is over the midpoint: up. */
  assert_int_equal(helion_bf16_from_double(0.1), 0x3DCD);
  assert_int_equal(helion_bf16_from_double(1.0 + ldexp(1, -8)), 0x3F80);
  assert_int_equal(helion_bf16_from_double(1.0 + 3 * ldexp(1, -8)), 0x3F82);
  /* Largest finite: (2 - 2^-7) * 2^127. */
  assert_int_equal(helion_bf16_from_double(ldexp(255, 120)), 0x7F7F);
  assert_int_equal(helion_bf16_from_double(ldexp(1, 128)), 0x7F80);
  assert_int_equal(helion_bf16_from_double(ldexp(1, -133)), 0x0001);
  assert_int_equal(helion_bf16_from_double(NAN) & 0x7FC0, 0x7FC0);
  assert_true(helion_bf16_to_double(0x3F82) == 1.015625);
  assert_true(helion_bf16_to_double(0x0001) == ldexp(1, -133));
  assert_true(helion_bf16_to_double(0xC040) == -3.0);
}

static void test_runner_store_load(void **state) {
  (void)state;
  int8_t i8[2] = {7, 7};
  /* Out of range is refused and nothing is written: never a wrap. */
  assert_false(helion_runner_store(HELION_DT_I8, i8, 0, 200.0));
  assert_int_equal(i8[0], 7);
  assert_false(helion_runner_store(HELION_DT_I8, i8, 0, 128.0));
  assert_false(helion_runner_store(HELION_DT_I8, i8, 0, NAN));
  assert_true(helion_runner_store(HELION_DT_I8, i8, 0, -128.0));
  assert_true(helion_runner_store(HELION_DT_I8, i8, 1, -2.6)); /* nearest */
  assert_int_equal(i8[0], -128);
  assert_int_equal(i8[1], -3);
  uint16_t u16 = 7;
  assert_false(helion_runner_store(HELION_DT_U16, &u16, 0, -1.0));
  assert_int_equal(u16, 7);
  int32_t i32 = 7;
  assert_false(helion_runner_store(HELION_DT_I32, &i32, 0, 2147483648.0));
  assert_true(helion_runner_store(HELION_DT_I32, &i32, 0, 2147483647.0));
  assert_int_equal(i32, 2147483647);
  uint64_t u64;
  assert_true(helion_runner_store(HELION_DT_U64, &u64, 0, ldexp(1, 63)));
  assert_true(u64 == (uint64_t)1 << 63);
  assert_false(helion_runner_store(HELION_DT_U64, &u64, 0, ldexp(1, 64)));
  assert_false(helion_runner_store(HELION_DT_I64, &u64, 0, ldexp(1, 63)));
  uint16_t h;
  /* A finite value never becomes infinity; infinity itself is kept. */
  assert_false(helion_runner_store(HELION_DT_HALF, &h, 0, 70000.0));
  assert_true(helion_runner_store(HELION_DT_HALF, &h, 0, INFINITY));
  float f32;
  assert_false(helion_runner_store(HELION_DT_FLOAT, &f32, 0, 1e39));
  assert_true(helion_runner_store(HELION_DT_HALF, &h, 0, 0.1));
  assert_int_equal(h, 0x2E66);
  assert_true(helion_runner_load(HELION_DT_HALF, &h, 0) ==
              helion_f16_to_double(0x2E66));
  assert_true(helion_runner_load(HELION_DT_I8, i8, 0) == -128.0);
}

/* Large arguments fill in blocks, block b from its own stream (and on
 * several threads): block 0 is the argument's stream, block b starts a
 * stream seeded helion_runner_block_seed(arg seed, b), and two fills give
 * the same bytes. */
static void test_runner_fill_blocks(void **state) {
  (void)state;
  size_t n = 3 * HELION_RUNNER_FILL_BLOCK + 123;
  float *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
  assert_non_null(a);
  assert_non_null(b);
  assert_true(helion_runner_fill(HELION_DT_FLOAT, HELION_INIT_RANDN, 0, 0, 0, 5,
                                 1, a, n));
  assert_true(helion_runner_fill(HELION_DT_FLOAT, HELION_INIT_RANDN, 0, 0, 0, 5,
                                 1, b, n));
  assert_memory_equal(a, b, n * sizeof(*a));
  uint64_t s = helion_runner_arg_seed(5, 1);
  for (size_t blk = 0; blk < 4; blk++) {
    helion_rng_t r;
    helion_rng_seed(&r, helion_runner_block_seed(s, blk));
    size_t from = blk * HELION_RUNNER_FILL_BLOCK;
    size_t to = from + HELION_RUNNER_FILL_BLOCK < n
                    ? from + HELION_RUNNER_FILL_BLOCK
                    : n;
    for (size_t i = from; i < to; i++)
      if (a[i] != (float)helion_rng_normal(&r))
        fail_msg("element %zu (block %zu) is not its stream's", i, blk);
  }
  assert_true(helion_runner_block_seed(s, 0) == s);
  assert_true(helion_runner_block_seed(s, 1) != s);
  /* arange counts across blocks. */
  int32_t *ar = malloc(n * sizeof(*ar));
  assert_non_null(ar);
  assert_true(helion_runner_fill(HELION_DT_I32, HELION_INIT_ARANGE, 0, 0, 0, 1,
                                 0, ar, n));
  for (size_t i = 0; i < n; i++)
    if (ar[i] != (int32_t)i)
      fail_msg("arange element %zu is %d", i, ar[i]);
  free(a);
  free(b);
  free(ar);
}

static void test_runner_fill_inits(void **state) {
  (void)state;
  float a[64], b[64], c[64];
  helion_runner_fill(HELION_DT_FLOAT, HELION_INIT_RANDN, 0, 0, 0, 7, 2, a, 64);
  helion_runner_fill(HELION_DT_FLOAT, HELION_INIT_RANDN, 0, 0, 0, 7, 2, b, 64);
  helion_runner_fill(HELION_DT_FLOAT, HELION_INIT_RANDN, 0, 0, 0, 7, 3, c, 64);
  assert_memory_equal(a, b, sizeof(a));
  assert_memory_not_equal(a, c, sizeof(a));
  /* The documented rule: an rng seeded with seed + (index + 1) * golden. */
  helion_rng_t r;
  helion_rng_seed(&r, 7 + 3 * 0x9E3779B97F4A7C15ull);
  for (int i = 0; i < 64; i++)
    assert_true(a[i] == (float)helion_rng_normal(&r));
  assert_true(helion_runner_arg_seed(7, 2) == 7 + 3 * 0x9E3779B97F4A7C15ull);

  int32_t ri[4000];
  helion_runner_fill(HELION_DT_I32, HELION_INIT_RANDINT, -3, 7, 0, 1, 0, ri,
                     4000);
  int seen_lo = 0, seen_hi = 0;
  for (int i = 0; i < 4000; i++) {
    assert_true(ri[i] >= -3 && ri[i] <= 7);
    seen_lo |= ri[i] == -3;
    seen_hi |= ri[i] == 7;
  }
  assert_true(seen_lo && seen_hi);

  double d[1000];
  helion_runner_fill(HELION_DT_DOUBLE, HELION_INIT_RAND, 0, 0, 0, 1, 0, d,
                     1000);
  for (int i = 0; i < 1000; i++)
    assert_true(d[i] >= 0.0 && d[i] < 1.0);

  int8_t ar[300];
  assert_true(helion_runner_fill(HELION_DT_I8, HELION_INIT_ARANGE, 0, 0, 0, 1,
                                 0, ar, 128));
  assert_int_equal(ar[5], 5);
  assert_int_equal(ar[127], 127);
  /* 128 .. 299 do not fit int8_t: refused, not wrapped to -128 .. 43. */
  assert_false(helion_runner_fill(HELION_DT_I8, HELION_INIT_ARANGE, 0, 0, 0,
                                  1, 0, ar, 300));
  assert_false(helion_runner_fill(HELION_DT_U8, HELION_INIT_CONST, 0, 0, 300.0,
                                  1, 0, ar, 3));

  uint16_t hv[3];
  helion_runner_fill(HELION_DT_HALF, HELION_INIT_ONES, 0, 0, 0, 1, 0, hv, 3);
  assert_int_equal(hv[2], 0x3C00);
  helion_runner_fill(HELION_DT_BF16, HELION_INIT_CONST, 0, 0, -3.0, 1, 0, hv,
                     3);
  assert_int_equal(hv[1], 0xC040);
  helion_runner_fill(HELION_DT_HALF, HELION_INIT_ZEROS, 0, 0, 0, 1, 0, hv, 3);
  assert_int_equal(hv[0], 0);
  float p[2];
  helion_runner_fill(HELION_DT_FLOAT, HELION_INIT_NONE, 0, 0, 0, 1, 0, p, 2);
  assert_true(isnan(p[0]) && isnan(p[1]));
}

/* The rebenchmark stop. Times spread evenly over [0.98, 1.02] ms in every
 * run of 10 have an interquartile range of 0.022 ms: the standard error
 * 0.93 * 0.022 / sqrt(n) is 0.0065 at n = 10 (over 0.5% of the median),
 * 0.0046 at 20 (under), 0.00103 at 400 (under 0.2%, over 0.1%). Equal
 * times settle at once. */
static void test_runner_median_settled(void **state) {
  (void)state;
  double v[400], tmp[400];
  for (size_t i = 0; i < 400; i++)
    v[i] = 0.98 + 0.04 * (double)((i * 7) % 10) / 9.0;
  assert_false(helion_runner_median_settled(v, 10, 0.005, tmp));
  assert_true(helion_runner_median_settled(v, 20, 0.005, tmp));
  assert_false(helion_runner_median_settled(v, 20, 0.001, tmp));
  assert_false(helion_runner_median_settled(v, 400, 0.001, tmp));
  assert_true(helion_runner_median_settled(v, 400, 0.002, tmp));
  for (size_t i = 0; i < 10; i++)
    v[i] = 0.5;
  assert_true(helion_runner_median_settled(v, 10, 0.0001, tmp));
  /* A zero median (nothing measured) never settles. */
  for (size_t i = 0; i < 10; i++)
    v[i] = 0.0;
  assert_false(helion_runner_median_settled(v, 10, 0.005, tmp));
}

/* The search's timing stop (helion_runner_stop_rule), on the times above:
 * median 1.0, standard error 0.0065 at n = 10 and 0.0046 at 20. */
static void test_runner_stop_rule(void **state) {
  (void)state;
  double v[400], tmp[400];
  for (size_t i = 0; i < 400; i++)
    v[i] = 0.98 + 0.04 * (double)((i * 7) % 10) / 9.0;
  /* Under one chunk nothing stops it. */
  assert_int_equal(helion_runner_stop_rule(v, 9, 0.5, 0.005, tmp),
                   HELION_TIMING_FULL);
  /* Twice as slow as the incumbent: SLOWER after one chunk. */
  assert_int_equal(helion_runner_stop_rule(v, 10, 0.5, 0.005, tmp),
                   HELION_TIMING_SLOWER);
  /* 1.0 - 3 x 0.0065 = 0.9805 is not over 0.95 x 1.01 = 0.9595: slower
   * clearly, but 0.9805 is over 0.97 x 1.01 = 0.9797 only just; at 0.98
   * (x 1.01 = 0.9898) it is not clear yet. */
  assert_int_equal(helion_runner_stop_rule(v, 10, 0.95, 0.005, tmp),
                   HELION_TIMING_SLOWER);
  assert_int_equal(helion_runner_stop_rule(v, 10, 0.97, 0.005, tmp),
                   HELION_TIMING_SLOWER);
  assert_int_equal(helion_runner_stop_rule(v, 10, 0.98, 0.005, tmp),
                   HELION_TIMING_FULL);
  /* A contender: settled at 20 (0.0046 <= 0.005), not at 10, never with
   * the precision off, and not at 0.001 until far more repetitions. */
  assert_int_equal(helion_runner_stop_rule(v, 20, 0.98, 0.005, tmp),
                   HELION_TIMING_SETTLED);
  assert_int_equal(helion_runner_stop_rule(v, 20, 0.98, -1, tmp),
                   HELION_TIMING_FULL);
  assert_int_equal(helion_runner_stop_rule(v, 20, 0.98, 0.001, tmp),
                   HELION_TIMING_FULL);
  /* No incumbent: only the precision stops it. */
  assert_int_equal(helion_runner_stop_rule(v, 10, 0, 0.005, tmp),
                   HELION_TIMING_FULL);
  assert_int_equal(helion_runner_stop_rule(v, 20, 0, 0.005, tmp),
                   HELION_TIMING_SETTLED);
  /* Faster than the incumbent: never SLOWER. */
  assert_int_equal(helion_runner_stop_rule(v, 10, 2.0, -1, tmp),
                   HELION_TIMING_FULL);
}

static void test_runner_compare_rule(void **state) {
  (void)state;
  /* atol 0.01 + rtol 0.01 * |e|: the bound for e = 1 is 0.02, for e = -100
   * it is 1.01. */
  float e[6] = {1.0f, 1.0f, -100.0f, -100.0f, 2.0f, INFINITY};
  float a[6] = {1.015f, 1.0f, -101.0f, -100.0f, 2.0f, INFINITY};
  helion_mismatch_t m;
  assert_int_equal(
      helion_runner_compare(HELION_DT_FLOAT, a, e, 6, 0.01, 0.01, &m), 0);
  a[1] = 1.03f;  /* 0.03 > 0.02 */
  a[3] = -98.9f; /* 1.1 > 1.01 */
  a[4] = NAN;
  assert_int_equal(
      helion_runner_compare(HELION_DT_FLOAT, a, e, 6, 0.01, 0.01, &m), 3);
  assert_int_equal(m.count, 3);
  assert_int_equal(m.first, 1);
  assert_true(m.actual == (double)1.03f && m.expected == 1.0);
  /* NaN never equals NaN. */
  float n1 = NAN, n2 = NAN;
  assert_int_equal(
      helion_runner_compare(HELION_DT_FLOAT, &n1, &n2, 1, 1, 1, &m), 1);
  /* Opposite infinities differ. */
  float i1 = INFINITY, i2 = -INFINITY;
  assert_int_equal(
      helion_runner_compare(HELION_DT_FLOAT, &i1, &i2, 1, 1, 1, &m), 1);
  /* Integers under the same rule: 5 vs 6 fails with atol 0.5, passes with
   * atol 1. */
  int32_t x = 5, y = 6;
  assert_int_equal(helion_runner_compare(HELION_DT_I32, &x, &y, 1, 0.5, 0, &m),
                   1);
  assert_int_equal(helion_runner_compare(HELION_DT_I32, &x, &y, 1, 1, 0, &m),
                   0);
}

#define GEOM_SPEC                                                              \
  "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":\"k\","                  \
  "\"args\":[{\"name\":\"x\",\"type\":\"const float*\",\"numel\":\"N\","       \
  "\"init\":\"arange\"},"                                                      \
  "{\"name\":\"y\",\"type\":\"__half*\",\"numel\":\"N * 2\",\"output\":true}," \
  "{\"name\":\"n\",\"type\":\"int\",\"value\":\"N\"},"                         \
  "{\"name\":\"s\",\"type\":\"float\",\"value\":\"BLOCK / 2.0\"}],"            \
  "\"key\":[\"N\"],\"shapes\":[{\"N\":1000}],"                                 \
  "\"space\":{\"block_sizes\":[{\"name\":\"BLOCK\",\"min\":32,\"max\":1024,"   \
  "\"default\":128}],\"pid_type\":[\"flat\",\"persistent_blocked\"],"          \
  "\"num_sm_multiplier\":{\"min\":1,\"max\":4}},"                              \
  "\"launch\":{\"tiles\":[\"cdiv(N, BLOCK)\"],\"block\":[\"BLOCK\"],"          \
  "\"shared_mem\":\"BLOCK * 4\"}}"

typedef struct geom {
  helion_spec_t *spec;
  helion_space_t *space;
  helion_device_props_t dev;
  helion_num_t scope[64];
  int64_t cells[16];
} geom;

static void geom_open(geom *g, const char *text, int64_t n) {
  helion_err_t err = {""};
  memset(g, 0, sizeof(*g));
  if (helion_spec_parse(text, strlen(text), "k.json", &g->spec, &err))
    fail_msg("spec: %s", err.msg);
  assert_int_equal(helion_device_props_for_arch("sm_90", &g->dev, &err), 0);
  if (helion_spec_space(g->spec, &n, &g->dev, &g->space, &err))
    fail_msg("space: %s", err.msg);
  assert_true(g->space->ncells <= 16 && g->spec->nscope <= 64);
  helion_space_default(g->space, g->cells);
}

static void geom_close(geom *g) {
  helion_space_destroy(g->space);
  helion_spec_destroy(g->spec);
}

static void set_slot(geom *g, const char *name, int64_t cell) {
  int slot = helion_space_find(g->space, name);
  assert_true(slot >= 0);
  g->cells[g->space->cell_off[slot]] = cell;
}

/* The comparison judges every 16-bit float exactly as the rule of
 * runner.h says: every fp16 bit pattern against a fixed expected value set,
 * NaN and infinities included, and bf16 likewise. */
static void test_runner_compare_every_16bit_pattern(void **state) {
  (void)state;
  enum { N = 65536 };
  static uint16_t actual[N], expected[N];
  const double atol = 1e-2, rtol = 1e-2;
  for (helion_dtype t = HELION_DT_HALF; t <= HELION_DT_BF16; t++) {
    for (uint32_t i = 0; i < N; i++) {
      actual[i] = (uint16_t)i;
      /* Expected: the pattern itself for a quarter (exact match, NaN !=
       * NaN), a neighbour pattern for a quarter, and fixed values. */
      switch (i & 3) {
      case 0:
        expected[i] = (uint16_t)i;
        break;
      case 1:
        expected[i] = (uint16_t)(i + 1);
        break;
      case 2:
        expected[i] = t == HELION_DT_HALF ? helion_f16_from_double(1.0)
                                          : helion_bf16_from_double(1.0);
        break;
      default:
        expected[i] = t == HELION_DT_HALF ? helion_f16_from_double(-0.001)
                                          : helion_bf16_from_double(-0.001);
      }
    }
    size_t want = 0, first = 0;
    for (uint32_t i = 0; i < N; i++) {
      double a = helion_runner_load(t, actual, i);
      double e = helion_runner_load(t, expected, i);
      bool ok = isnan(a) || isnan(e)   ? false
                : isinf(a) || isinf(e) ? a == e
                                       : fabs(a - e) <= atol + rtol * fabs(e);
      if (!ok && want++ == 0)
        first = i;
    }
    helion_mismatch_t m;
    assert_int_equal(helion_runner_compare(t, actual, expected, N, atol, rtol,
                                           &m),
                     want);
    assert_true(want > 1000 && want < N); /* the sets are mixed */
    assert_int_equal(m.count, want);
    assert_int_equal(m.first, first);
  }
}

static void test_runner_launch_geometry(void **state) {
  (void)state;
  geom g;
  helion_launch_t l;
  helion_err_t err = {""};
  int64_t n = 1000;
  geom_open(&g, GEOM_SPEC, n);
  helion_launch_scope(g.spec, g.space, &n, &g.dev, NULL, g.scope);
  assert_int_equal(
      helion_launch_eval(g.spec, g.scope, &l, &err), 0);
  /* Flat default: cdiv(1000, 128) = 8 blocks of 128, 512 bytes. */
  assert_int_equal(l.grid[0], 8);
  assert_int_equal(l.grid[1], 1);
  assert_int_equal(l.grid[2], 1);
  assert_int_equal(l.block[0], 128);
  assert_int_equal(l.block[1], 1);
  assert_int_equal(l.shared_mem, 512);

  /* BLOCK = 32: 32 tiles, 32 threads, 128 bytes. */
  set_slot(&g, "BLOCK", 32);
  helion_launch_scope(g.spec, g.space, &n, &g.dev, g.cells, g.scope);
  assert_int_equal(
      helion_launch_eval(g.spec, g.scope, &l, &err), 0);
  assert_int_equal(l.grid[0], 32);
  assert_int_equal(l.block[0], 32);
  assert_int_equal(l.shared_mem, 128);
  geom_close(&g);

  /* Persistent on sm_90's 132 SMs: N = 100000 has 3125 tiles of 32; the
   * grid is min(3125, 132 * 2) = 264. With N = 1000 (32 tiles) it is 32. */
  n = 100000;
  geom_open(&g, GEOM_SPEC, n);
  set_slot(&g, "BLOCK", 32);
  set_slot(&g, "pid_type", 1);
  set_slot(&g, "num_sm_multiplier", 2);
  helion_launch_scope(g.spec, g.space, &n, &g.dev, g.cells, g.scope);
  assert_int_equal(
      helion_launch_eval(g.spec, g.scope, &l, &err), 0);
  assert_int_equal(l.grid[0], 264);
  n = 1000;
  helion_launch_scope(g.spec, g.space, &n, &g.dev, g.cells, g.scope);
  assert_int_equal(
      helion_launch_eval(g.spec, g.scope, &l, &err), 0);
  assert_int_equal(l.grid[0], 32);
  geom_close(&g);
}

static void test_runner_launch_limits(void **state) {
  (void)state;
  geom g;
  helion_launch_t l;
  helion_err_t err = {""};
  int64_t n = 1000;
  /* A second grid dimension over 65535 and a block of 2048 threads, at
   * configs other than the default (which has to launch). */
  const char *big =
      "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":\"k\","
      "\"args\":[{\"name\":\"n\",\"type\":\"int\",\"value\":\"N\"},"
      "{\"name\":\"y\",\"type\":\"float*\",\"numel\":\"N\",\"output\":true}],"
      "\"key\":[\"N\"],\"shapes\":[{\"N\":1000}],"
      "\"space\":{\"block_sizes\":[{\"name\":\"BLOCK\",\"min\":32,"
      "\"max\":1024,\"default\":32}]},"
      "\"launch\":{\"tiles\":[\"N\",\"N * BLOCK / 8\"],"
      "\"block\":[\"BLOCK * 16\"]}}";
  geom_open(&g, big, n);
  set_slot(&g, "BLOCK", 1024);
  helion_launch_scope(g.spec, g.space, &n, &g.dev, g.cells, g.scope);
  assert_int_equal(
      helion_launch_eval(g.spec, g.scope, &l, &err),
      HELION_ERR_INVALID);
  assert_string_equal(err.msg, "launch.tiles[1]: 'N * BLOCK / 8' "
                               "evaluates to 128000; CUDA allows 1..65535");
  set_slot(&g, "BLOCK", 128);
  helion_launch_scope(g.spec, g.space, &n, &g.dev, g.cells, g.scope);
  assert_int_equal(
      helion_launch_eval(g.spec, g.scope, &l, &err),
      HELION_ERR_INVALID);
  assert_string_equal(err.msg, "launch.block[0]: 'BLOCK * 16' evaluates to "
                               "2048; CUDA allows 1..1024");
  geom_close(&g);
}

static void test_runner_host_args(void **state) {
  (void)state;
  geom g;
  helion_host_args_t a;
  helion_err_t err = {""};
  int64_t n = 1000;
  geom_open(&g, GEOM_SPEC, n);
  helion_launch_scope(g.spec, g.space, &n, &g.dev, NULL, g.scope);
  assert_int_equal(helion_host_args_init(g.spec, g.scope, 42, &a, &err), 0);
  assert_int_equal(a.nargs, 4);
  assert_int_equal(a.args[0].numel, 1000);
  assert_int_equal(a.args[0].bytes, 4000);
  assert_true(((float *)a.args[0].data)[999] == 999.0f);
  assert_int_equal(a.args[1].numel, 2000);
  assert_int_equal(a.args[1].bytes, 4000);
  assert_int_equal(((uint16_t *)a.args[1].data)[0], 0xFFFF); /* poison */
  assert_int_equal(a.total_bytes, 8000);
  assert_false(a.args[2].is_pointer);
  int32_t iv;
  memcpy(&iv, &a.args[2].scalar, 4);
  assert_int_equal(iv, 1000);
  float fv;
  memcpy(&fv, &a.args[3].scalar, 4);
  assert_true(fv == 64.0f); /* BLOCK / 2.0 at the default 128 */
  helion_host_args_cleanup(&a);
  helion_host_args_cleanup(&a); /* zeroed: a no-op */

  /* A negative element count names the argument. */
  n = -5;
  helion_launch_scope(g.spec, g.space, &n, &g.dev, NULL, g.scope);
  assert_int_equal(helion_host_args_init(g.spec, g.scope, 42, &a, &err),
                   HELION_ERR_INVALID);
  assert_string_equal(err.msg, "args[0] (x).numel: evaluates to -5; an "
                               "element count must be >= 0");
  geom_close(&g);
}

/* The run's own data never narrows: a scalar that does not fit its type,
 * or an arange past its element type, fails the setup by name. */
static void test_runner_host_args_never_narrow(void **state) {
  (void)state;
  geom g;
  helion_host_args_t a;
  helion_err_t err = {""};
  const char *text =
      "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":\"k\","
      "\"args\":[{\"name\":\"n\",\"type\":\"int\",\"value\":\"N * 1000\"},"
      "{\"name\":\"y\",\"type\":\"float*\",\"numel\":\"N\",\"output\":true},"
      "{\"name\":\"idx\",\"type\":\"const int8_t*\",\"numel\":\"N\","
      "\"init\":\"arange\"},"
      "{\"name\":\"f\",\"type\":\"float\","
      "\"value\":\"N * 262144 + (N - 64)\"}],"
      "\"key\":[\"N\"],\"shapes\":[{\"N\":64}],"
      "\"space\":{\"block_sizes\":[{\"name\":\"BLOCK\",\"min\":32,"
      "\"max\":32}]},"
      "\"launch\":{\"tiles\":[\"N\"],\"block\":[\"BLOCK\"]}}";
  static const struct {
    int64_t n;
    const char *msg; /* NULL: fits */
  } cases[] = {
      {64, NULL},
      {3000000, "args[0] (n).value: 'N * 1000': 3000000000 does not fit "
                "int32_t (-2147483648..2147483647); use a wider type"},
      {200, "args[2] (idx).numel: 'N' is 200, so \"arange\" reaches 199: 199 "
            "does not fit int8_t (-128..127); use a wider type"},
      {65, "args[3] (f).value: 'N * 262144 + (N - 64)': the integer 17039361 "
           "is not exactly a float (its significand has 24 bits); use a "
           "wider type"},
  };
  geom_open(&g, text, 64);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int64_t n = cases[i].n;
    helion_launch_scope(g.spec, g.space, &n, &g.dev, NULL, g.scope);
    helion_status rc = helion_host_args_init(g.spec, g.scope, 1, &a, &err);
    if (!cases[i].msg) {
      assert_int_equal(rc, HELION_OK);
      float fv;
      memcpy(&fv, &a.args[3].scalar, 4);
      assert_true(fv == 16777216.0f);
      helion_host_args_cleanup(&a);
      continue;
    }
    assert_int_equal(rc, HELION_ERR_INVALID);
    assert_string_equal(err.msg, cases[i].msg);
  }
  geom_close(&g);
}

static void test_runner_wire_framing(void **state) {
  (void)state;
  int sv[2];
  helion_err_t err = {""};
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  helion_wire_reader_t rd;
  helion_wire_reader_init(&rd);
  bool done = true;
  uint32_t type = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  /* Nothing sent yet: a non-blocking read returns not done. */
  assert_int_equal(
      helion_wire_read(&rd, sv[1], false, &done, &type, &payload, &len, &err),
      0);
  assert_false(done);
  assert_int_equal(helion_wire_send(sv[0], 7, "hello", 5, &err), 0);
  assert_int_equal(helion_wire_send(sv[0], 9, NULL, 0, &err), 0);
  assert_int_equal(
      helion_wire_read(&rd, sv[1], false, &done, &type, &payload, &len, &err),
      0);
  assert_true(done);
  assert_int_equal(type, 7);
  assert_int_equal(len, 5);
  assert_memory_equal(payload, "hello", 5);
  free(payload);
  assert_int_equal(
      helion_wire_read(&rd, sv[1], true, &done, &type, &payload, &len, &err),
      0);
  assert_true(done);
  assert_int_equal(type, 9);
  assert_int_equal(len, 0);
  assert_null(payload);

  /* A message arriving in pieces: header split, then the body. */
  uint32_t head[3] = {HELION_WIRE_MAGIC, 3, 4};
  assert_int_equal(write(sv[0], head, 5), 5);
  assert_int_equal(
      helion_wire_read(&rd, sv[1], false, &done, &type, &payload, &len, &err),
      0);
  assert_false(done);
  assert_int_equal(write(sv[0], (char *)head + 5, 7), 7);
  assert_int_equal(write(sv[0], "ab", 2), 2);
  assert_int_equal(
      helion_wire_read(&rd, sv[1], false, &done, &type, &payload, &len, &err),
      0);
  assert_false(done);
  assert_int_equal(write(sv[0], "cd", 2), 2);
  assert_int_equal(
      helion_wire_read(&rd, sv[1], false, &done, &type, &payload, &len, &err),
      0);
  assert_true(done);
  assert_int_equal(type, 3);
  assert_memory_equal(payload, "abcd", 4);
  free(payload);

  /* A bad magic is a parse error. */
  uint32_t bad[3] = {0x12345678u, 1, 0};
  assert_int_equal(write(sv[0], bad, sizeof(bad)), (ssize_t)sizeof(bad));
  assert_int_equal(
      helion_wire_read(&rd, sv[1], true, &done, &type, &payload, &len, &err),
      HELION_ERR_PARSE);
  assert_string_equal(err.msg, "benchmark worker connection: bad message "
                               "header (magic 0x12345678, length 0)");
  helion_wire_reader_cleanup(&rd);

  /* The peer closing is end of file. */
  helion_wire_reader_init(&rd);
  close(sv[0]);
  assert_int_equal(
      helion_wire_read(&rd, sv[1], true, &done, &type, &payload, &len, &err),
      HELION_ERR_IO);
  assert_string_equal(err.msg, "benchmark worker closed the connection");
  helion_wire_reader_cleanup(&rd);
  close(sv[1]);
}

static void test_runner_rebench_repeat(void **state) {
  (void)state;
  /* Helion's pins: (200 ms, 100 ms) -> 3 and (1000 ms, 0.05 ms) -> 20000. */
  assert_int_equal(helion_bench_rebench_repeat(200, 100), 3);
  assert_int_equal(helion_bench_rebench_repeat(1000, 0.05), 20000);
  assert_int_equal(helion_bench_rebench_repeat(200, 2), 100);
  assert_int_equal(helion_bench_rebench_repeat(200, INFINITY), 1000);
  assert_int_equal(helion_bench_rebench_repeat(200, 0), 1000);
}

int main(void) {
  const char *data = getenv("HELION_TEST_DATA");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/specs", data ? data : "tests/data");
  if (chdir(dir) != 0) {
    fprintf(stderr, "test_runner: cannot enter %s\n", dir);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runner_f16_hand_values),
      cmocka_unit_test(test_runner_bf16_hand_values),
      cmocka_unit_test(test_runner_store_load),
      cmocka_unit_test(test_runner_fill_inits),
      cmocka_unit_test(test_runner_median_settled),
      cmocka_unit_test(test_runner_stop_rule),
      cmocka_unit_test(test_runner_fill_blocks),
      cmocka_unit_test(test_runner_compare_rule),
      cmocka_unit_test(test_runner_compare_every_16bit_pattern),
      cmocka_unit_test(test_runner_launch_geometry),
      cmocka_unit_test(test_runner_launch_limits),
      cmocka_unit_test(test_runner_host_args),
      cmocka_unit_test(test_runner_host_args_never_narrow),
      cmocka_unit_test(test_runner_wire_framing),
      cmocka_unit_test(test_runner_rebench_repeat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
