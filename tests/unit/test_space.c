/*
 * test_space.c: the configuration space against hand-computed facts:
 * Helion's per-fragment rules (neighbours, mutation, encoding, cardinality,
 * random draws), normalize, shrink, restrictions and their error messages,
 * validation messages, fingerprints, exact sizes and valid-fraction counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/space.h"
#include "util/util.h"

/* ------------------------------------------------------------- helpers */

static helion_param_t p_pow2(const char *key, int index, const char *name,
                             int64_t lo, int64_t hi, int64_t d,
                             helion_frag_role role) {
  helion_param_t p;
  memset(&p, 0, sizeof(p));
  p.key = (char *)key;
  p.index = index;
  p.name = (char *)name;
  p.role = role;
  p.frag.kind = HELION_FRAG_POW2;
  p.frag.low = lo;
  p.frag.high = hi;
  p.frag.dflt = d;
  p.frag.length = 1;
  return p;
}

static helion_param_t p_int(const char *key, int index, const char *name,
                            int64_t lo, int64_t hi, int64_t d) {
  helion_param_t p = p_pow2(key, index, name, lo, hi, d, HELION_ROLE_NONE);
  p.frag.kind = HELION_FRAG_INT;
  return p;
}

static helion_param_t p_enum(const char *key, int index, const char *name,
                             helion_value_t *choices, size_t n, int64_t d) {
  helion_param_t p = p_pow2(key, index, name, 0, 0, d, HELION_ROLE_NONE);
  p.frag.kind = HELION_FRAG_ENUM;
  p.frag.choices = choices;
  p.frag.nchoices = n;
  return p;
}

static helion_param_t p_bool(const char *key, int index, const char *name,
                             int64_t d) {
  helion_param_t p = p_pow2(key, index, name, 0, 0, d, HELION_ROLE_NONE);
  p.frag.kind = HELION_FRAG_BOOL;
  return p;
}

static helion_param_t p_perm(const char *key, int index, size_t len) {
  helion_param_t p = p_pow2(key, index, NULL, 0, 0, 0, HELION_ROLE_NONE);
  p.frag.kind = HELION_FRAG_PERM;
  p.frag.length = len;
  return p;
}

/* A LIST of `len` copies of `elem`'s fragment. */
static helion_param_t p_list(const char *key, helion_param_t elem, size_t len) {
  helion_param_t p = elem;
  p.key = (char *)key;
  p.index = -1;
  p.name = NULL;
  p.frag.inner = elem.frag.kind;
  p.frag.kind = HELION_FRAG_LIST;
  p.frag.length = len;
  return p;
}

static helion_value_t v_int(int64_t i) {
  helion_value_t v = {HELION_VALUE_INT, i, 0.0, NULL};
  return v;
}
static helion_value_t v_str(const char *s) {
  helion_value_t v = {HELION_VALUE_STR, 0, 0.0, (char *)s};
  return v;
}
static helion_value_t v_null(void) {
  helion_value_t v = {HELION_VALUE_NULL, 0, 0.0, NULL};
  return v;
}

static helion_space_t *make_space(const helion_param_t *params, size_t n,
                                  const char *const *restr, size_t nr) {
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = params;
  o.nparams = n;
  o.restrictions = restr;
  o.nrestrictions = nr;
  helion_space_t *s = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_space_create(&o, &s, &err);
  if (rc)
    fprintf(stderr, "space_create: %s\n", err.msg);
  assert_int_equal(rc, HELION_OK);
  return s;
}

/* Creates and expects failure with exactly `msg`. */
static void expect_create_error(const helion_space_opts_t *o, const char *msg) {
  helion_space_t *s = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_space_create(o, &s, &err);
  assert_int_not_equal(rc, HELION_OK);
  assert_null(s);
  assert_string_equal(err.msg, msg);
}

static void expect_params_error(const helion_param_t *params, size_t n,
                                const char *const *restr, size_t nr,
                                const char *msg) {
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = params;
  o.nparams = n;
  o.restrictions = restr;
  o.nrestrictions = nr;
  expect_create_error(&o, msg);
}

/* --------------------------------------------------------- neighbours */

static void test_space_pow2_neighbors(void **state) {
  (void)state;
  helion_param_t ps[] = {p_pow2("a", -1, "a", 1, 128, 32, HELION_ROLE_NONE),
                         p_pow2("b", -1, "b", 16, 128, 16, HELION_ROLE_NONE)};
  helion_space_t *s = make_space(ps, 2, NULL, 0);
  int64_t cells[2] = {32, 16}, out[16];
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 1, out, 16), 2);
  assert_int_equal(out[0], 16);
  assert_int_equal(out[1], 64);
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 2, out, 16), 4);
  int64_t want2[] = {8, 16, 64, 128};
  assert_memory_equal(out, want2, sizeof(want2));
  assert_int_equal(helion_space_slot_neighbors(s, 1, cells, 2, out, 16), 2);
  assert_int_equal(out[0], 32);
  assert_int_equal(out[1], 64);
  /* A short buffer still reports the full count. */
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 2, out, 1), 4);
  assert_int_equal(out[0], 8);
  helion_space_destroy(s);
}

static void test_space_int_enum_bool_neighbors(void **state) {
  (void)state;
  helion_value_t ch[] = {v_int(1), v_int(2), v_int(3)};
  helion_param_t ps[] = {p_int("i", -1, "i", 1, 10, 5),
                         p_enum("e", -1, "e", ch, 3, 0),
                         p_bool("b", -1, "b", 0)};
  helion_space_t *s = make_space(ps, 3, NULL, 0);
  int64_t cells[3] = {5, 1, 0}, out[16];
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 2, out, 16), 4);
  int64_t want[] = {3, 4, 6, 7};
  assert_memory_equal(out, want, sizeof(want));
  cells[0] = 1;
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 1, out, 16), 1);
  assert_int_equal(out[0], 2);
  cells[0] = 10;
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 3, out, 16), 3);
  int64_t want10[] = {7, 8, 9};
  assert_memory_equal(out, want10, sizeof(want10));
  /* Enum: every other choice; radius is ignored. */
  assert_int_equal(helion_space_slot_neighbors(s, 1, cells, 5, out, 16), 2);
  assert_int_equal(out[0], 0);
  assert_int_equal(out[1], 2);
  assert_int_equal(helion_space_slot_neighbors(s, 2, cells, 3, out, 16), 1);
  assert_int_equal(out[0], 1);
  helion_space_destroy(s);
}

static void test_space_perm_list_neighbors(void **state) {
  (void)state;
  helion_param_t ps[] = {p_perm("loop_orders", 0, 3),
                         p_list("flags", p_bool("x", -1, NULL, 0), 2)};
  helion_space_t *s = make_space(ps, 2, NULL, 0);
  assert_int_equal(s->ncells, 5);
  int64_t cells[5] = {0, 1, 2, 0, 1}, out[32];
  /* All pairwise swaps, (0,1), (0,2), (1,2). */
  assert_int_equal(helion_space_slot_neighbors(s, 0, cells, 1, out, 10), 3);
  int64_t want[] = {1, 0, 2, 2, 1, 0, 0, 2, 1};
  assert_memory_equal(out, want, sizeof(want));
  /* A list changes one position at a time. */
  assert_int_equal(helion_space_slot_neighbors(s, 1, cells, 1, out, 10), 2);
  int64_t wantl[] = {1, 1, 0, 0};
  assert_memory_equal(out, wantl, sizeof(wantl));
  helion_space_destroy(s);
}

static void test_space_block_pair_neighbors(void **state) {
  (void)state;
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 128, 32, HELION_ROLE_BLOCK_SIZE),
      p_pow2("block_sizes", 1, "BN", 16, 128, 64, HELION_ROLE_BLOCK_SIZE)};
  helion_space_t *s = make_space(ps, 2, NULL, 0);
  int64_t base[2] = {32, 64}, out[64];
  size_t n = helion_space_pattern_neighbors(s, base, 1, out, 32);
  /* Singles: BM 16|64, BN 32|128; then the pair product (16|64)x(32|128). */
  int64_t want[] = {16, 64, 64, 64,  32, 32, 32, 128,
                    16, 32, 16, 128, 64, 32, 64, 128};
  assert_int_equal(n, 8);
  assert_memory_equal(out, want, sizeof(want));
  /* A short buffer gets the first ones and the full count. */
  int64_t part[6] = {0};
  assert_int_equal(helion_space_pattern_neighbors(s, base, 1, part, 3), 8);
  assert_memory_equal(part, want, sizeof(part));
  /* Frozen slots take part in neither. */
  s->frozen[1] = true;
  n = helion_space_pattern_neighbors(s, base, 1, out, 32);
  assert_int_equal(n, 2);
  helion_space_destroy(s);
}

/* ------------------------------------------------------------ mutation */

static void test_space_mutation_rules(void **state) {
  (void)state;
  helion_value_t ch[] = {v_int(10), v_int(20), v_int(30)};
  helion_param_t ps[] = {p_pow2("p", -1, "p", 2, 64, 8, HELION_ROLE_NONE),
                         p_int("i", -1, "i", 0, 4, 2),
                         p_enum("e", -1, "e", ch, 3, 0),
                         p_bool("b", -1, "b", 0),
                         p_perm("loop_orders", 0, 3),
                         p_list("l", p_int("x", -1, NULL, 0, 3, 0), 2)};
  helion_space_t *s = make_space(ps, 6, NULL, 0);
  helion_rng_t rng;
  helion_rng_seed(&rng, 7);
  int64_t out[9];
  /* pow2: b<c halves, b>c doubles, b==c keeps; clamped. */
  int64_t a[9] = {8, 2, 0, 1, 2, 0, 1, 3, 0};
  int64_t lo[9] = {2, 1, 1, 0, 0, 1, 2, 0, 1};
  int64_t hi[9] = {4, 3, 2, 1, 1, 2, 0, 1, 1};
  helion_space_slot_mutate(s, 0, &rng, a, lo, hi, out);
  assert_int_equal(out[0], 4);
  helion_space_slot_mutate(s, 0, &rng, a, hi, lo, out);
  assert_int_equal(out[0], 16);
  helion_space_slot_mutate(s, 0, &rng, a, lo, lo, out);
  assert_int_equal(out[0], 8);
  int64_t top[9] = {64, 4, 0, 0, 0, 1, 2, 0, 0};
  helion_space_slot_mutate(s, 0, &rng, top, lo, hi, out);
  assert_int_equal(out[0], 32);
  helion_space_slot_mutate(s, 0, &rng, top, hi, lo, out);
  assert_int_equal(out[0], 64); /* clamped at high */
  /* int: -1 / +1 / keep, clamped. */
  helion_space_slot_mutate(s, 1, &rng, a, lo, hi, out);
  assert_int_equal(out[1], 1);
  helion_space_slot_mutate(s, 1, &rng, a, hi, lo, out);
  assert_int_equal(out[1], 3);
  helion_space_slot_mutate(s, 1, &rng, top, hi, lo, out);
  assert_int_equal(out[1], 4);
  helion_space_slot_mutate(s, 1, &rng, a, lo, lo, out);
  assert_int_equal(out[1], 2);
  /* enum: b==c -> a; a==b -> c; a==c -> b; else one of {b, c}. */
  int64_t ea[9] = {0}, eb[9] = {0}, ec[9] = {0};
  ea[2] = 0, eb[2] = 1, ec[2] = 1;
  helion_space_slot_mutate(s, 2, &rng, ea, eb, ec, out);
  assert_int_equal(out[2], 0);
  ea[2] = 1, eb[2] = 1, ec[2] = 2;
  helion_space_slot_mutate(s, 2, &rng, ea, eb, ec, out);
  assert_int_equal(out[2], 2);
  ea[2] = 2;
  helion_space_slot_mutate(s, 2, &rng, ea, eb, ec, out);
  assert_int_equal(out[2], 1);
  ea[2] = 0;
  int seen[3] = {0};
  for (int k = 0; k < 200; k++) {
    helion_space_slot_mutate(s, 2, &rng, ea, eb, ec, out);
    assert_true(out[2] == 1 || out[2] == 2);
    seen[out[2]]++;
  }
  assert_true(seen[1] > 50 && seen[2] > 50);
  /* bool: b==c -> a, else not a. */
  helion_space_slot_mutate(s, 3, &rng, a, lo, hi, out); /* b=0, c=1 */
  assert_int_equal(out[3], 0);                          /* !a, a = 1 */
  helion_space_slot_mutate(s, 3, &rng, a, lo, lo, out);
  assert_int_equal(out[3], 1);
  /* perm: b==c -> a; else a random permutation. */
  int64_t pa[9] = {0, 0, 0, 0, 2, 0, 1, 0, 0};
  int64_t pb[9] = {0, 0, 0, 0, 0, 1, 2, 0, 0};
  int64_t pc[9] = {0, 0, 0, 0, 0, 2, 1, 0, 0};
  helion_space_slot_mutate(s, 4, &rng, pa, pb, pb, out);
  assert_int_equal(out[4], 2);
  assert_int_equal(out[5], 0);
  assert_int_equal(out[6], 1);
  int perms_seen = 0;
  int64_t first[3] = {-1, -1, -1};
  for (int k = 0; k < 50; k++) {
    helion_space_slot_mutate(s, 4, &rng, pa, pb, pc, out);
    int mask = (1 << out[4]) | (1 << out[5]) | (1 << out[6]);
    assert_int_equal(mask, 7);
    if (first[0] < 0)
      memcpy(first, out + 4, sizeof(first));
    else if (memcmp(first, out + 4, sizeof(first)) != 0)
      perms_seen = 1;
  }
  assert_true(perms_seen);
  /* list: element-wise int rule: [1,3] with b=[0,1], c=[1,1] -> [0,3]. */
  int64_t la[9] = {0, 0, 0, 0, 0, 1, 2, 1, 3};
  int64_t lb[9] = {0, 0, 0, 0, 0, 1, 2, 0, 1};
  int64_t lc[9] = {0, 0, 0, 0, 0, 1, 2, 1, 1};
  helion_space_slot_mutate(s, 5, &rng, la, lb, lc, out);
  assert_int_equal(out[7], 0);
  assert_int_equal(out[8], 3);
  helion_space_destroy(s);
}

static void test_space_mutate_crossover(void **state) {
  (void)state;
  helion_param_t ps[] = {p_int("a", -1, "a", 0, 9, 5),
                         p_int("b", -1, "b", 0, 9, 5),
                         p_int("c", -1, "c", 0, 9, 5)};
  helion_space_t *s = make_space(ps, 3, NULL, 0);
  helion_rng_t rng;
  helion_rng_seed(&rng, 3);
  int64_t x[3] = {5, 5, 5}, a[3] = {5, 5, 5}, b[3] = {0, 0, 0},
          c[3] = {1, 1, 1}, out[3];
  /* Crossover 1: every slot takes a-1. */
  helion_space_mutate(s, &rng, x, a, b, c, 1.0, out);
  assert_int_equal(out[0], 4);
  assert_int_equal(out[1], 4);
  assert_int_equal(out[2], 4);
  /* Crossover 0: exactly one slot is forced to mutate. */
  for (int k = 0; k < 30; k++) {
    helion_space_mutate(s, &rng, x, a, b, c, 0.0, out);
    int changed = (out[0] != 5) + (out[1] != 5) + (out[2] != 5);
    assert_int_equal(changed, 1);
  }
  helion_space_destroy(s);
}

/* ------------------------------------------------------ encoding, size */

static void test_space_encode_and_cardinality(void **state) {
  (void)state;
  helion_value_t ch[] = {v_str("flat"), v_str("xyz"),
                         v_str("persistent_blocked")};
  helion_value_t ix[] = {v_str("pointer"), v_str("tensor_descriptor")};
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_int("num_stages", -1, "num_stages", 1, 8, 1),
      p_enum("pid_type", -1, "pid_type", ch, 3, 0),
      p_bool("flatten_loops", 0, "flatten_loops_0", 0),
      p_perm("loop_orders", 0, 4),
      p_list("indexing", p_enum("x", -1, NULL, ix, 2, 0), 3)};
  helion_space_t *s = make_space(ps, 6, NULL, 0);
  assert_int_equal(s->ncells, 1 + 1 + 1 + 1 + 4 + 3);
  assert_int_equal(s->enc_dim, 1 + 1 + 3 + 1 + 4 + 6);
  assert_int_equal(helion_space_slot_cardinality(s, 0), 5);
  assert_int_equal(helion_space_slot_cardinality(s, 1), 8);
  assert_int_equal(helion_space_slot_cardinality(s, 2), 3);
  assert_int_equal(helion_space_slot_cardinality(s, 3), 2);
  assert_int_equal(helion_space_slot_cardinality(s, 4), 24);
  assert_int_equal(helion_space_slot_cardinality(s, 5), 8);
  int64_t cells[11] = {128, 3, 2, 1, 3, 1, 0, 2, 1, 0, 1};
  double enc[16];
  helion_space_encode(s, cells, enc);
  double want[16] = {7, 3, 0, 0, 1, 1, 3, 1, 0, 2, 0, 1, 1, 0, 0, 1};
  for (size_t i = 0; i < s->enc_dim; i++)
    assert_true(enc[i] == want[i]);
  assert_int_equal(s->enc_slot[0], 0);
  assert_int_equal(s->enc_slot[4], 2);
  assert_int_equal(s->enc_slot[6], 4);
  assert_int_equal(s->enc_slot[15], 5);
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  assert_int_equal(helion_space_size_str(s, &b), HELION_OK);
  /* 5 * 8 * 3 * 2 * 24 * 8 */
  assert_string_equal(helion_buf_str(&b), "46080");
  helion_buf_cleanup(&b);
  helion_space_destroy(s);
}

static void test_space_size_beyond_64_bits(void **state) {
  (void)state;
  /* 25! * 10^25 * 2^64 (an INT spanning all of int64). */
  helion_param_t ps[] = {p_perm("loop_orders", 0, 25),
                         p_list("digits", p_int("x", -1, NULL, 0, 9, 0), 25)};
  helion_space_t *s = make_space(ps, 2, NULL, 0);
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  assert_int_equal(helion_space_size_str(s, &b), HELION_OK);
  assert_string_equal(helion_buf_str(&b),
                      "155112100433309859840000000000000000000000000000000");
  assert_int_equal(helion_space_slot_cardinality(s, 0), UINT64_MAX);
  helion_buf_cleanup(&b);
  helion_space_destroy(s);
  helion_param_t big[] = {p_int("w", -1, "w", INT64_MIN, INT64_MAX, 0),
                          p_int("v", -1, "v", 0, (int64_t)1 << 32, 0)};
  /* 2^64 * (2^32 + 1) = 2^96 + 2^64 = 79228162514264337593543950336 +
   * 18446744073709551616. */
  s = make_space(big, 2, NULL, 0);
  helion_buf_init(&b, 1 << 20);
  assert_int_equal(helion_space_size_str(s, &b), HELION_OK);
  assert_string_equal(helion_buf_str(&b), "79228162532711081667253501952");
  helion_buf_cleanup(&b);
  helion_space_destroy(s);
}

/* --------------------------------------------------------------- random */

static void test_space_random_distribution(void **state) {
  (void)state;
  helion_value_t ch[] = {v_int(1), v_int(2), v_int(3)};
  helion_param_t ps[] = {p_pow2("p", -1, "p", 2, 16, 2, HELION_ROLE_NONE),
                         p_int("i", -1, "i", -2, 2, 0),
                         p_enum("e", -1, "e", ch, 3, 0),
                         p_bool("b", -1, "b", 0), p_perm("loop_orders", 0, 3)};
  helion_space_t *s = make_space(ps, 5, NULL, 0);
  helion_rng_t rng;
  helion_rng_seed(&rng, 42);
  int pc[5] = {0}, ic[5] = {0}, ec[3] = {0}, bc[2] = {0}, permc[9] = {0};
  const int n = 6000;
  int64_t cells[7];
  for (int k = 0; k < n; k++) {
    helion_space_random_raw(s, &rng, cells);
    assert_true(helion_is_pow2(cells[0]) && cells[0] >= 2 && cells[0] <= 16);
    pc[helion_log2_floor((uint64_t)cells[0]) - 1]++;
    assert_true(cells[1] >= -2 && cells[1] <= 2);
    ic[cells[1] + 2]++;
    assert_true(cells[2] >= 0 && cells[2] <= 2);
    ec[cells[2]]++;
    assert_true(cells[3] == 0 || cells[3] == 1);
    bc[cells[3]]++;
    assert_int_equal((1 << cells[4]) | (1 << cells[5]) | (1 << cells[6]), 7);
    permc[cells[4] * 3 + cells[5]]++;
  }
  /* Uniform: every value within 20% of its expected count. */
  for (int i = 0; i < 4; i++)
    assert_true(pc[i] > n / 4 * 8 / 10 && pc[i] < n / 4 * 12 / 10);
  for (int i = 0; i < 5; i++)
    assert_true(ic[i] > n / 5 * 8 / 10 && ic[i] < n / 5 * 12 / 10);
  for (int i = 0; i < 3; i++)
    assert_true(ec[i] > n / 3 * 8 / 10 && ec[i] < n / 3 * 12 / 10);
  assert_true(bc[0] > n / 2 * 8 / 10 && bc[1] > n / 2 * 8 / 10);
  int perms = 0;
  for (int i = 0; i < 9; i++)
    if (permc[i]) {
      perms++;
      assert_true(permc[i] > n / 6 * 8 / 10 && permc[i] < n / 6 * 12 / 10);
    }
  assert_int_equal(perms, 6);
  helion_space_destroy(s);
}

static void test_space_same_seed_same_sequence(void **state) {
  (void)state;
  helion_value_t ch[] = {v_int(1), v_int(2), v_int(3)};
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_pow2("block_sizes", 1, "BN", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_pow2("num_warps", -1, "num_warps", 1, 32, 4, HELION_ROLE_NUM_WARPS),
      p_enum("e", -1, "e", ch, 3, 0), p_perm("loop_orders", 0, 4)};
  const char *restr[] = {"BM * BN <= 128 * 32 * num_warps"};
  helion_space_t *s = make_space(ps, 5, restr, 1);
  helion_rng_t r1, r2, r3;
  helion_rng_seed(&r1, 1234);
  helion_rng_seed(&r2, 1234);
  helion_rng_seed(&r3, 1235);
  int64_t a[8], b[8], c[8];
  int differ = 0;
  for (int k = 0; k < 100; k++) {
    assert_int_equal(helion_space_random(s, &r1, 0, a), HELION_OK);
    assert_int_equal(helion_space_random(s, &r2, 0, b), HELION_OK);
    assert_int_equal(helion_space_random(s, &r3, 0, c), HELION_OK);
    assert_memory_equal(a, b, sizeof(int64_t) * s->ncells);
    differ |= memcmp(a, c, sizeof(int64_t) * s->ncells) != 0;
    assert_true(helion_space_valid(s, a));
    assert_true(a[0] * a[1] <= 128 * 32 * a[2]);
  }
  assert_true(differ);
  helion_space_destroy(s);
}

/* ------------------------------------------------- normalize and shrink */

static void test_space_normalize_repairs(void **state) {
  (void)state;
  helion_value_t ch[] = {v_int(1), v_int(2), v_int(3)};
  helion_param_t ps[] = {p_pow2("p", -1, "p", 1, 128, 1, HELION_ROLE_NONE),
                         p_int("i", -1, "i", 1, 8, 1),
                         p_enum("e", -1, "e", ch, 3, 0),
                         p_bool("b", -1, "b", 0), p_perm("loop_orders", 0, 3)};
  helion_space_t *s = make_space(ps, 5, NULL, 0);
  int64_t c[7] = {100, 100, -3, 5, 0, 0, 1};
  helion_space_normalize(s, c);
  int64_t want[7] = {64, 8, 0, 1, 0, 1, 2};
  assert_memory_equal(c, want, sizeof(want));
  int64_t d[7] = {1000, -4, 7, -1, 2, 0, 1};
  helion_space_normalize(s, d);
  int64_t want2[7] = {128, 1, 2, 0, 2, 0, 1};
  assert_memory_equal(d, want2, sizeof(want2));
  helion_space_destroy(s);
}

static void test_space_normalize_maxnreg_and_sm_multiplier(void **state) {
  (void)state;
  helion_value_t regs[] = {v_null(), v_int(32), v_int(64), v_int(128),
                           v_int(256)};
  helion_value_t pid[] = {v_str("flat"), v_str("xyz"),
                          v_str("persistent_blocked"),
                          v_str("persistent_interleaved")};
  helion_param_t ps[] = {
      p_pow2("num_warps", -1, "num_warps", 1, 32, 4, HELION_ROLE_NUM_WARPS),
      p_enum("maxnreg", -1, "maxnreg", regs, 5, 0),
      p_enum("pid_type", -1, "pid_type", pid, 4, 0),
      p_pow2("num_sm_multiplier", -1, "num_sm_multiplier", 1, 128, 1,
             HELION_ROLE_NONE)};
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 4;
  o.regs_per_sm = 65536;
  helion_space_t *s = NULL;
  assert_int_equal(helion_space_create(&o, &s, NULL), HELION_OK);
  /* 65536 / (16 * 32) = 128: 256 comes down to 128. */
  int64_t c[4] = {16, 4, 2, 8};
  helion_space_normalize(s, c);
  assert_int_equal(c[1], 3);
  assert_int_equal(c[3], 8); /* persistent: multiplier kept */
  /* 65536 / (32 * 32) = 64; 128 comes down to 64; null stays null. */
  int64_t d[4] = {32, 3, 0, 8};
  helion_space_normalize(s, d);
  assert_int_equal(d[1], 2);
  assert_int_equal(d[3], 1); /* flat: multiplier reset to its default */
  int64_t e[4] = {32, 0, 1, 8};
  helion_space_normalize(s, e);
  assert_int_equal(e[1], 0);
  assert_int_equal(e[3], 1); /* xyz too */
  /* Within budget: untouched. */
  int64_t f[4] = {4, 4, 3, 2};
  helion_space_normalize(s, f);
  assert_int_equal(f[1], 4);
  assert_int_equal(f[3], 2);
  helion_space_destroy(s);
}

static void test_space_shrink_halves_block_sizes(void **state) {
  (void)state;
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 128, 16, HELION_ROLE_BLOCK_SIZE),
      p_pow2("block_sizes", 1, "BN", 1, 128, 16, HELION_ROLE_BLOCK_SIZE),
      p_pow2("num_warps", -1, "num_warps", 1, 32, 1, HELION_ROLE_NUM_WARPS)};
  helion_space_t *s = make_space(ps, 3, NULL, 0);
  /* Limit 1 * 1 * 32: 128x128 -> 64x64 -> 32x32 -> 16x16 -> (BM at its
   * floor) 16x8 -> 16x4 -> 16x2 = 32. */
  int64_t c[3] = {128, 128, 1};
  helion_space_shrink(s, c, 1);
  assert_int_equal(c[0], 16);
  assert_int_equal(c[1], 2);
  /* Already small enough: unchanged. 64*64 <= 2 * 4 * 32 * ... = 4096 */
  int64_t d[3] = {64, 64, 4};
  helion_space_shrink(s, d, 32);
  assert_int_equal(d[0], 64);
  assert_int_equal(d[1], 64);
  helion_space_shrink(s, d, 16); /* 4096 > 2048: one halving */
  assert_int_equal(d[0], 32);
  assert_int_equal(d[1], 32);
  helion_space_destroy(s);
}

/* -------------------------------------------------------- restrictions */

static void test_space_restrictions_filter_configs(void **state) {
  (void)state;
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 128, 32, HELION_ROLE_BLOCK_SIZE),
      p_pow2("block_sizes", 1, "BN", 16, 128, 32, HELION_ROLE_BLOCK_SIZE),
      p_int("D", -1, "D", 0, 2, 1)};
  const char *restr[] = {"BM * BN <= LIMIT", "64 / D >= 32"};
  const char *extra[] = {"LIMIT"};
  helion_num_t ev[] = {helion_num_int(2048)};
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 3;
  o.restrictions = restr;
  o.nrestrictions = 2;
  o.extra_names = extra;
  o.extra_values = ev;
  o.nextra = 1;
  helion_space_t *s = NULL;
  assert_int_equal(helion_space_create(&o, &s, NULL), HELION_OK);
  int64_t ok[3] = {64, 32, 1}, big[3] = {64, 64, 1}, zero[3] = {16, 16, 0},
          three[3] = {16, 16, 2};
  assert_true(helion_space_valid(s, ok));
  assert_false(helion_space_valid(s, big));
  assert_false(helion_space_valid(s, zero)); /* division by zero */
  assert_true(helion_space_valid(s, three));
  /* Exact count: pairs with BM*BN <= 2048 are 4+3+2+1 = 10 of 16, times the
   * 2 of 3 D values that divide (D = 1, 2): 20 / 48. */
  double frac = 0;
  bool exact = false;
  helion_rng_t rng;
  helion_rng_seed(&rng, 5);
  helion_space_count_valid(s, &rng, 1000, 1000, &frac, &exact);
  assert_true(exact);
  assert_true(frac == 20.0 / 48.0);
  helion_space_count_valid(s, &rng, 10, 20000, &frac, &exact);
  assert_false(exact);
  assert_true(frac > 20.0 / 48.0 - 0.03 && frac < 20.0 / 48.0 + 0.03);
  helion_space_destroy(s);
}

static void test_space_restriction_errors(void **state) {
  (void)state;
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BLOCK_M", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_pow2("num_warps", -1, "num_warps", 1, 32, 4, HELION_ROLE_NUM_WARPS)};
  const char *unsat[] = {"num_warps >= 1", "BLOCK_M * 2 <= 0"};
  expect_params_error(ps, 2, unsat, 2,
                      "restrictions[1] 'BLOCK_M * 2 <= 0': no configuration "
                      "satisfies it (checked all 5 configurations)");
  const char *both[] = {"BLOCK_M * num_warps < 16"};
  expect_params_error(ps, 2, both, 1,
                      "restrictions[0] 'BLOCK_M * num_warps < 16': no "
                      "configuration satisfies it (checked all 30 "
                      "configurations)");
  const char *dflt[] = {"num_warps >= 1", "BLOCK_M <= 32"};
  expect_params_error(ps, 2, dflt, 2,
                      "defaults: the default configuration violates "
                      "restrictions[1] 'BLOCK_M <= 32'; set \"defaults\" to "
                      "one that satisfies it");
  /* A parse error names the restriction and the column. */
  const char *bad[] = {"num_warps > 0", "1 + QQ"};
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 2;
  o.restrictions = bad;
  o.nrestrictions = 2;
  helion_space_t *s = NULL;
  helion_err_t err = {{0}};
  assert_int_not_equal(helion_space_create(&o, &s, &err), HELION_OK);
  const char *want = "restrictions[1]: column 5: undefined name 'QQ'";
  assert_memory_equal(err.msg, want, strlen(want));
}

static void test_space_validation_messages(void **state) {
  (void)state;
  helion_param_t bs[] = {
      p_pow2("block_sizes", 0, "BM", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_pow2("block_sizes", 1, "BN", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_pow2("block_sizes", 2, "BK", 16, 100, 64, HELION_ROLE_BLOCK_SIZE)};
  expect_params_error(bs, 3, NULL, 0,
                      "block_sizes[2].max: 100 is not a power of two; use 64 "
                      "or 128");
  bs[2].frag.high = 128;
  bs[2].frag.low = 0;
  expect_params_error(bs, 3, NULL, 0,
                      "block_sizes[2].min: 0 is not a power of two; use 1");
  bs[2].frag.low = 16;
  bs[1].name = (char *)"BM";
  expect_params_error(
      bs, 3, NULL, 0,
      "duplicate name 'BM' (block_sizes[0] and block_sizes[1]); "
      "names must be unique");
  bs[1].name = (char *)"BN";
  bs[0].name = (char *)"2x";
  expect_params_error(bs, 3, NULL, 0,
                      "block_sizes[0].name: '2x' is not a C identifier");
  bs[0].name = (char *)"BM";
  bs[0].frag.low = 512;
  expect_params_error(bs, 3, NULL, 0,
                      "block_sizes[0]: min 512 is greater than max 256; swap "
                      "them");
  bs[0].frag.low = 16;
  bs[1].index = 0;
  expect_params_error(bs, 3, NULL, 0,
                      "block_sizes[0]: duplicate slot (params 0 and 1); each "
                      "key[index] must appear once");
  bs[1].index = 1;
  bs[2].index = 5;
  expect_params_error(bs, 3, NULL, 0,
                      "block_sizes[5]: index beyond the 3 slots of "
                      "'block_sizes'; indices must run 0..2 without gaps");

  helion_param_t nw[] = {
      p_pow2("num_warps", -1, "num_warps", 1, 32, 64, HELION_ROLE_NUM_WARPS)};
  expect_params_error(nw, 1, NULL, 0,
                      "num_warps.default: 64 is outside [1, 32]");
  nw[0].frag.dflt = 3;
  expect_params_error(nw, 1, NULL, 0,
                      "num_warps.default: 3 is not a power of two; use 2 or 4");

  helion_value_t ch[] = {v_int(128), v_null(), v_int(128)};
  helion_param_t en[] = {p_enum("maxnreg", -1, "maxnreg", ch, 3, 0)};
  expect_params_error(en, 1, NULL, 0,
                      "maxnreg.choices[2]: 128 repeats choices[0]; list each "
                      "choice once");
  en[0].frag.nchoices = 0;
  expect_params_error(en, 1, NULL, 0,
                      "maxnreg.choices: no choices; give at least one");
  helion_param_t pm[] = {p_perm("loop_orders", 0, 0)};
  expect_params_error(pm, 1, NULL, 0,
                      "loop_orders[0].length: 0; a permutation needs at least "
                      "one element");

  helion_param_t clash[] = {p_int("M", -1, "M", 1, 4, 1)};
  const char *extra[] = {"M"};
  helion_num_t ev[] = {helion_num_int(1)};
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = clash;
  o.nparams = 1;
  o.extra_names = extra;
  o.extra_values = ev;
  o.nextra = 1;
  expect_create_error(&o,
                      "duplicate name 'M' (M and a shape variable or device "
                      "property); names must be unique");
}

static bool only_bm16(const int64_t *cells, void *ud) {
  (void)ud;
  return cells[0] == 16;
}

static bool never(const int64_t *cells, void *ud) {
  (void)cells;
  (void)ud;
  return false;
}

static void test_space_filter_and_no_config(void **state) {
  (void)state;
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 128, 32, HELION_ROLE_BLOCK_SIZE)};
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 1;
  o.filter = only_bm16;
  helion_space_t *s = NULL;
  assert_int_equal(helion_space_create(&o, &s, NULL), HELION_OK);
  helion_rng_t rng;
  helion_rng_seed(&rng, 1);
  int64_t c[1];
  for (int k = 0; k < 20; k++) {
    assert_int_equal(helion_space_random(s, &rng, 0, c), HELION_OK);
    assert_int_equal(c[0], 16);
  }
  double frac = 0;
  bool exact = false;
  helion_space_count_valid(s, &rng, 100, 0, &frac, &exact);
  assert_true(exact);
  assert_true(frac == 0.25);
  helion_space_destroy(s);
  o.filter = never;
  assert_int_equal(helion_space_create(&o, &s, NULL), HELION_OK);
  c[0] = -1;
  assert_int_equal(helion_space_random(s, &rng, 50, c), HELION_ERR_NO_CONFIG);
  assert_int_equal(c[0], -1);
  helion_space_destroy(s);
}

static bool perm_starts_at_zero(const int64_t *cells, void *ud) {
  int *visits = ud;
  (*visits)++;
  return cells[0] == 0;
}

static void test_space_count_enumerates_perm_and_list(void **state) {
  (void)state;
  /* 3! permutations x 2^2 lists of booleans = 24 configurations; those
   * whose permutation starts with 0 are 2 x 4 = 8. */
  helion_param_t ps[] = {p_perm("loop_orders", 0, 3),
                         p_list("flags", p_bool("x", -1, NULL, 0), 2)};
  int visits = 0;
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 2;
  o.filter = perm_starts_at_zero;
  o.filter_ud = &visits;
  helion_space_t *s = NULL;
  assert_int_equal(helion_space_create(&o, &s, NULL), HELION_OK);
  double frac = 0;
  bool exact = false;
  helion_space_count_valid(s, NULL, 24, 0, &frac, &exact);
  assert_true(exact);
  assert_int_equal(visits, 24);
  assert_true(frac == 8.0 / 24.0);
  helion_space_destroy(s);
}

/* ---------------------------------------------------------- fingerprint */

static void test_space_fingerprint(void **state) {
  (void)state;
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_int("num_stages", -1, "num_stages", 1, 4, 1)};
  const char *r1[] = {"BM >= 16"};
  helion_space_t *a = make_space(ps, 2, r1, 1);
  char fa[65], fb[65];
  helion_space_fingerprint(a, fa);
  assert_int_equal(strlen(fa), 64);
  /* Same structure, another default: same fingerprint. */
  ps[1].frag.dflt = 2;
  helion_space_t *b = make_space(ps, 2, r1, 1);
  helion_space_fingerprint(b, fb);
  assert_string_equal(fa, fb);
  helion_space_destroy(b);
  /* Another bound: different. */
  ps[1].frag.high = 5;
  b = make_space(ps, 2, r1, 1);
  helion_space_fingerprint(b, fb);
  assert_string_not_equal(fa, fb);
  helion_space_destroy(b);
  /* Another restriction: different. */
  ps[1].frag.high = 4;
  const char *r2[] = {"BM >= 32"};
  b = make_space(ps, 2, r2, 1);
  helion_space_fingerprint(b, fb);
  assert_string_not_equal(fa, fb);
  helion_space_destroy(b);
  helion_space_destroy(a);
}

static void test_space_find_and_number(void **state) {
  (void)state;
  helion_value_t ch[] = {v_null(), v_int(128), v_str("fast")};
  helion_param_t ps[] = {
      p_pow2("block_sizes", 0, "BM", 16, 256, 64, HELION_ROLE_BLOCK_SIZE),
      p_enum("MODE", -1, "MODE", ch, 3, 0), p_perm("loop_orders", 0, 2)};
  helion_space_t *s = make_space(ps, 3, NULL, 0);
  assert_int_equal(helion_space_find(s, "BM"), 0);
  assert_int_equal(helion_space_find(s, "block_sizes[0]"), 0);
  assert_int_equal(helion_space_find(s, "MODE"), 1);
  assert_int_equal(helion_space_find(s, "loop_orders[0]"), 2);
  assert_int_equal(helion_space_find(s, "loop_orders[1]"), -1);
  assert_int_equal(helion_space_find(s, "block_sizes"), -1);
  int64_t c[4] = {32, 1, 0, 1};
  assert_int_equal(helion_space_slot_number(s, 0, c).i, 32);
  assert_int_equal(helion_space_slot_number(s, 1, c).i, 128);
  c[1] = 0;
  assert_int_equal(helion_space_slot_number(s, 1, c).i, 0);
  c[1] = 2;
  assert_int_equal(helion_space_slot_number(s, 1, c).i, 2);
  helion_space_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_space_pow2_neighbors),
      cmocka_unit_test(test_space_int_enum_bool_neighbors),
      cmocka_unit_test(test_space_perm_list_neighbors),
      cmocka_unit_test(test_space_block_pair_neighbors),
      cmocka_unit_test(test_space_mutation_rules),
      cmocka_unit_test(test_space_mutate_crossover),
      cmocka_unit_test(test_space_encode_and_cardinality),
      cmocka_unit_test(test_space_size_beyond_64_bits),
      cmocka_unit_test(test_space_random_distribution),
      cmocka_unit_test(test_space_same_seed_same_sequence),
      cmocka_unit_test(test_space_normalize_repairs),
      cmocka_unit_test(test_space_normalize_maxnreg_and_sm_multiplier),
      cmocka_unit_test(test_space_shrink_halves_block_sizes),
      cmocka_unit_test(test_space_restrictions_filter_configs),
      cmocka_unit_test(test_space_restriction_errors),
      cmocka_unit_test(test_space_validation_messages),
      cmocka_unit_test(test_space_filter_and_no_config),
      cmocka_unit_test(test_space_count_enumerates_perm_and_list),
      cmocka_unit_test(test_space_fingerprint),
      cmocka_unit_test(test_space_find_and_number),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
