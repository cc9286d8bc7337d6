/*
 * test_config.c: configurations as text: canonical and minimized JSON
 * written out by hand, strict parsing with exact error messages, round
 * trips, the NVRTC options of DESIGN.md §4, hash and id values computed
 * independently, and the configuration set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/space.h"
#include "util/util.h"

/* ------------------------------------------------------------ the space */

static helion_param_t mk(const char *key, int index, const char *name,
                         helion_frag_kind kind, int64_t lo, int64_t hi,
                         int64_t d) {
  helion_param_t p;
  memset(&p, 0, sizeof(p));
  p.key = (char *)key;
  p.index = index;
  p.name = (char *)name;
  p.frag.kind = kind;
  p.frag.low = lo;
  p.frag.high = hi;
  p.frag.dflt = d;
  p.frag.length = 1;
  return p;
}

static helion_param_t mk_enum(const char *key, int index, const char *name,
                              helion_value_t *ch, size_t n) {
  helion_param_t p = mk(key, index, name, HELION_FRAG_ENUM, 0, 0, 0);
  p.frag.choices = ch;
  p.frag.nchoices = n;
  return p;
}

static helion_param_t mk_list(const char *key, helion_value_t *ch, size_t n,
                              size_t len) {
  helion_param_t p = mk_enum(key, -1, NULL, ch, n);
  p.frag.inner = HELION_FRAG_ENUM;
  p.frag.kind = HELION_FRAG_LIST;
  p.frag.length = len;
  return p;
}

#define S(x)                                                                   \
  { HELION_VALUE_STR, 0, 0.0, (char *)(x) }
#define I(x)                                                                   \
  { HELION_VALUE_INT, (x), 0.0, NULL }
#define NUL                                                                    \
  { HELION_VALUE_NULL, 0, 0.0, NULL }

static helion_value_t ix_choices[] = {S("pointer"), S("tensor_descriptor")};
static helion_value_t pid_choices[] = {
    S("flat"), S("xyz"), S("persistent_blocked"), S("persistent_interleaved")};
static helion_value_t reg_choices[] = {NUL, I(128), I(256)};
static helion_value_t ev_choices[] = {S(""), S("first"), S("last")};
static helion_value_t mode_choices[] = {S("fast"),
                                        S("exact"),
                                        {HELION_VALUE_FLOAT, 0, 0.5, NULL},
                                        {HELION_VALUE_BOOL, 1, 0.0, NULL}};

/*
 * Cells: 0 BLOCK_M, 1 BLOCK_N, 2-3 loop_orders[0], 4 flatten_loops[0],
 * 5 l2_groupings[0], 6 num_warps, 7 num_stages, 8-9 indexing, 10 pid_type,
 * 11 num_sm_multiplier, 12 maxnreg, 13-14 load_eviction_policies,
 * 15 SPLIT_K, 16 MODE, 17 range_unroll_factors[0].
 */
static helion_space_t *make_space(void) {
  helion_param_t ps[15];
  ps[0] = mk("block_sizes", 0, "BLOCK_M", HELION_FRAG_POW2, 16, 256, 64);
  ps[0].role = HELION_ROLE_BLOCK_SIZE;
  ps[1] = mk("block_sizes", 1, "BLOCK_N", HELION_FRAG_POW2, 16, 256, 32);
  ps[1].role = HELION_ROLE_BLOCK_SIZE;
  ps[2] = mk("loop_orders", 0, NULL, HELION_FRAG_PERM, 0, 0, 0);
  ps[2].frag.length = 2;
  ps[3] = mk("flatten_loops", 0, "flatten_loops_0", HELION_FRAG_BOOL, 0, 0, 0);
  ps[4] = mk("l2_groupings", 0, "l2_groupings_0", HELION_FRAG_POW2, 1, 64, 1);
  ps[5] = mk("num_warps", -1, "num_warps", HELION_FRAG_POW2, 1, 32, 4);
  ps[5].role = HELION_ROLE_NUM_WARPS;
  ps[6] = mk("num_stages", -1, "num_stages", HELION_FRAG_INT, 1, 5, 1);
  ps[7] = mk_list("indexing", ix_choices, 2, 2);
  ps[8] = mk_enum("pid_type", -1, "pid_type", pid_choices, 4);
  ps[9] = mk("num_sm_multiplier", -1, "num_sm_multiplier", HELION_FRAG_POW2, 1,
             128, 1);
  ps[10] = mk_enum("maxnreg", -1, "maxnreg", reg_choices, 3);
  ps[11] = mk_list("load_eviction_policies", ev_choices, 3, 2);
  ps[12] = mk("SPLIT_K", -1, "SPLIT_K", HELION_FRAG_POW2, 1, 8, 1);
  ps[13] = mk_enum("MODE", -1, "MODE", mode_choices, 4);
  ps[14] = mk("range_unroll_factors", 0, "range_unroll_factors_0",
              HELION_FRAG_INT, 0, 4, 0);
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 15;
  helion_space_t *s = NULL;
  helion_err_t err = {{0}};
  helion_status rc = helion_space_create(&o, &s, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.msg);
  assert_int_equal(rc, HELION_OK);
  assert_int_equal(s->ncells, 18);
  return s;
}

static const int64_t other_cells[18] = {128, 16, 1, 0, 1, 8, 8, 3, 1,
                                        0,   3,  4, 2, 2, 1, 2, 2, 2};

static const char *default_json =
    "{\"MODE\":\"fast\",\"SPLIT_K\":1,\"block_sizes\":[64,32],"
    "\"flatten_loops\":[false],\"indexing\":[\"pointer\",\"pointer\"],"
    "\"l2_groupings\":[1],\"load_eviction_policies\":[\"\",\"\"],"
    "\"loop_orders\":[[0,1]],\"maxnreg\":null,\"num_sm_multiplier\":1,"
    "\"num_stages\":1,\"num_warps\":4,\"pid_type\":\"flat\","
    "\"range_unroll_factors\":[0]}";

static const char *other_json =
    "{\"MODE\":0.5,\"SPLIT_K\":2,\"block_sizes\":[128,16],"
    "\"flatten_loops\":[true],\"indexing\":[\"tensor_descriptor\","
    "\"pointer\"],\"l2_groupings\":[8],\"load_eviction_policies\":[\"last\","
    "\"first\"],\"loop_orders\":[[1,0]],\"maxnreg\":256,"
    "\"num_sm_multiplier\":4,\"num_stages\":3,\"num_warps\":8,"
    "\"pid_type\":\"persistent_interleaved\",\"range_unroll_factors\":[2]}";

static char *to_json(const helion_space_t *s, const int64_t *cells, bool min) {
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  assert_int_equal(helion_config_to_json(s, cells, min, &b), HELION_OK);
  return helion_buf_take(&b);
}

/* ---------------------------------------------------------------- JSON */

static void test_config_canonical_json(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  char *j = to_json(s, s->default_cells, false);
  assert_string_equal(j, default_json);
  free(j);
  j = to_json(s, other_cells, false);
  assert_string_equal(j, other_json);
  free(j);
  helion_space_destroy(s);
}

static void test_config_minimize(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  char *j = to_json(s, s->default_cells, true);
  assert_string_equal(j, "{\"block_sizes\":[64,32]}");
  free(j);
  int64_t c[18];
  helion_space_default(s, c);
  c[6] = 8;  /* num_warps */
  c[16] = 3; /* MODE true */
  c[14] = 1; /* second eviction policy */
  j = to_json(s, c, true);
  assert_string_equal(j, "{\"MODE\":true,\"block_sizes\":[64,32],"
                         "\"load_eviction_policies\":[\"\",\"first\"],"
                         "\"num_warps\":8}");
  free(j);
  helion_space_destroy(s);
}

static void test_config_round_trip(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  helion_rng_t rng;
  helion_rng_seed(&rng, 99);
  int64_t c[18], back[18];
  for (int k = 0; k < 300; k++) {
    assert_int_equal(helion_space_random(s, &rng, 0, c), HELION_OK);
    for (int m = 0; m < 2; m++) {
      char *j = to_json(s, c, m == 1);
      helion_err_t err = {{0}};
      helion_status rc = helion_config_from_json(s, j, back, &err);
      if (rc)
        fprintf(stderr, "%s: %s\n", j, err.msg);
      assert_int_equal(rc, HELION_OK);
      assert_memory_equal(c, back, sizeof(c));
      free(j);
    }
  }
  /* Missing keys take the default; whitespace is fine. */
  assert_int_equal(helion_config_from_json(s, " { } ", back, NULL), HELION_OK);
  assert_memory_equal(back, s->default_cells, sizeof(back));
  assert_int_equal(helion_config_from_json(s, other_json, back, NULL),
                   HELION_OK);
  assert_memory_equal(back, other_cells, sizeof(back));
  /* A scalar for a list key is replicated (Helion's flatten does so). */
  assert_int_equal(helion_config_from_json(
                       s, "{\"indexing\":\"tensor_descriptor\"}", back, NULL),
                   HELION_OK);
  assert_int_equal(back[8], 1);
  assert_int_equal(back[9], 1);
  helion_space_destroy(s);
}

static void expect_parse_error(const helion_space_t *s, const char *json,
                               const char *msg) {
  int64_t cells[18];
  for (int i = 0; i < 18; i++)
    cells[i] = -7;
  helion_err_t err = {{0}};
  assert_int_not_equal(helion_config_from_json(s, json, cells, &err),
                       HELION_OK);
  assert_string_equal(err.msg, msg);
  for (int i = 0; i < 18; i++)
    assert_int_equal(cells[i], -7); /* untouched on failure */
}

static void test_config_from_json_errors(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  expect_parse_error(s, "{\"num_warps\": 3}",
                     "num_warps: 3 is not a power of two in [1, 32]");
  expect_parse_error(s, "{\"num_warps\": 64}",
                     "num_warps: 64 is not a power of two in [1, 32]");
  expect_parse_error(s, "{\"num_stages\": 9}",
                     "num_stages: 9 is outside [1, 5]");
  expect_parse_error(s, "{\"num_stages\": \"3\"}",
                     "num_stages: expected an integer, got string");
  expect_parse_error(s, "{\"num_stages\": 2.5}",
                     "num_stages: expected an integer, got a fraction");
  expect_parse_error(s, "{\"foo\": 1}",
                     "foo: unknown key; known keys: MODE, SPLIT_K, "
                     "block_sizes, flatten_loops, indexing, l2_groupings, "
                     "load_eviction_policies, loop_orders, maxnreg, "
                     "num_sm_multiplier, num_stages, num_warps, pid_type, "
                     "range_unroll_factors");
  expect_parse_error(s, "{\"block_sizes\": [64, 32, 16]}",
                     "block_sizes: expected 2 values, got 3");
  expect_parse_error(s, "{\"block_sizes\": 64}",
                     "block_sizes: expected an array of 2 values, got number");
  expect_parse_error(s, "{\"block_sizes\": [64, 100]}",
                     "block_sizes[1]: 100 is not a power of two in [16, 256]");
  expect_parse_error(s, "{\"pid_type\": \"round_robin\"}",
                     "pid_type: \"round_robin\" is not one of \"flat\", "
                     "\"xyz\", \"persistent_blocked\", "
                     "\"persistent_interleaved\"");
  expect_parse_error(s, "{\"maxnreg\": 100}",
                     "maxnreg: 100 is not one of null, 128, 256");
  expect_parse_error(s, "{\"MODE\": 1}",
                     "MODE: 1 is not one of \"fast\", \"exact\", 0.5, true");
  expect_parse_error(s, "{\"loop_orders\": [[0, 0]]}",
                     "loop_orders[0]: [0,0] is not a permutation of 0..1");
  expect_parse_error(s, "{\"loop_orders\": [0, 1]}",
                     "loop_orders: expected 1 value, got 2");
  expect_parse_error(s, "{\"loop_orders\": [5]}",
                     "loop_orders[0]: expected an array of 2 integers, got "
                     "number");
  expect_parse_error(s, "{\"flatten_loops\": [1]}",
                     "flatten_loops[0]: expected true or false, got number");
  expect_parse_error(s, "{\"indexing\": [\"pointer\"]}",
                     "indexing: expected 2 values, got 1");
  expect_parse_error(s, "{\"indexing\": [\"pointer\", \"block_ptr\"]}",
                     "indexing[1]: \"block_ptr\" is not one of \"pointer\", "
                     "\"tensor_descriptor\"");
  expect_parse_error(s, "{\"num_warps\": 4, \"num_warps\": 8}",
                     "num_warps: duplicate key; give each key once");
  expect_parse_error(s, "[1]", "config: expected an object, got array");
  expect_parse_error(s, "{\"num_warps\": 4",
                     "config:1:15: malformed JSON near '4'");
  helion_space_destroy(s);
}

/* ------------------------------------------------------- hash, id, set */

static void test_config_hash_and_id(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  /* Expected values from an independent script: FNV-1a over the cells'
   * little-endian bytes then splitmix64's finalizer; sha256 of the JSON. */
  assert_true(helion_config_hash(s, s->default_cells) == 0xfb2839e927eb07ebull);
  assert_true(helion_config_hash(s, other_cells) !=
              helion_config_hash(s, s->default_cells));
  char id[17];
  assert_int_equal(helion_config_id(s, s->default_cells, id), HELION_OK);
  assert_string_equal(id, "37027bea57313b2c");
  char hex[65];
  helion_sha256_hex(default_json, strlen(default_json), hex);
  assert_memory_equal(id, hex, 16);
  helion_space_destroy(s);
}

static void test_config_defines(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  helion_buf_t b;
  helion_buf_init(&b, 1 << 20);
  assert_int_equal(helion_config_defines(s, other_cells, &b), HELION_OK);
  assert_string_equal(helion_buf_str(&b), "-DBLOCK_M=128\n"
                                          "-DBLOCK_N=16\n"
                                          "-DHL_LOOP_ORDER_0_0=1\n"
                                          "-DHL_LOOP_ORDER_0_1=0\n"
                                          "-DHL_FLATTEN_0=1\n"
                                          "-DHL_L2_GROUPING_0=8\n"
                                          "-DHL_NUM_WARPS=8\n"
                                          "-DHL_NUM_THREADS=256\n"
                                          "-DHL_NUM_STAGES=3\n"
                                          "-DHL_INDEXING_0=1\n"
                                          "-DHL_INDEXING_1=0\n"
                                          "-DHL_PID_TYPE=3\n"
                                          "-DHL_NUM_SM_MULTIPLIER=4\n"
                                          "--maxrregcount=256\n"
                                          "-DHL_EVICT_0=2\n"
                                          "-DHL_EVICT_1=1\n"
                                          "-DSPLIT_K=2\n"
                                          "-DMODE=0.5\n"
                                          "-DHL_UNROLL_0=2\n");
  helion_buf_reset(&b);
  int64_t c[18];
  helion_space_default(s, c);
  c[16] = 3; /* MODE true -> 1 */
  c[10] = 2; /* persistent_blocked */
  assert_int_equal(helion_config_defines(s, c, &b), HELION_OK);
  /* maxnreg null: no option at all. */
  assert_string_equal(helion_buf_str(&b), "-DBLOCK_M=64\n"
                                          "-DBLOCK_N=32\n"
                                          "-DHL_LOOP_ORDER_0_0=0\n"
                                          "-DHL_LOOP_ORDER_0_1=1\n"
                                          "-DHL_FLATTEN_0=0\n"
                                          "-DHL_L2_GROUPING_0=1\n"
                                          "-DHL_NUM_WARPS=4\n"
                                          "-DHL_NUM_THREADS=128\n"
                                          "-DHL_NUM_STAGES=1\n"
                                          "-DHL_INDEXING_0=0\n"
                                          "-DHL_INDEXING_1=0\n"
                                          "-DHL_PID_TYPE=2\n"
                                          "-DHL_NUM_SM_MULTIPLIER=1\n"
                                          "-DHL_EVICT_0=0\n"
                                          "-DHL_EVICT_1=0\n"
                                          "-DSPLIT_K=1\n"
                                          "-DMODE=1\n"
                                          "-DHL_UNROLL_0=0\n");
  helion_buf_reset(&b);
  c[16] = 0; /* a string choice goes in as-is */
  assert_int_equal(helion_config_defines(s, c, &b), HELION_OK);
  assert_non_null(strstr(helion_buf_str(&b), "\n-DMODE=fast\n"));
  helion_buf_cleanup(&b);
  helion_space_destroy(s);
}

static void test_config_set(void **state) {
  (void)state;
  helion_space_t *s = make_space();
  helion_configset_t set;
  helion_configset_init(&set, s);
  assert_false(helion_configset_contains(&set, s->default_cells));
  helion_rng_t rng;
  helion_rng_seed(&rng, 11);
  enum { N = 2000 };
  int64_t(*all)[18] = malloc(sizeof(*all) * N);
  assert_non_null(all);
  size_t distinct = 0;
  for (int k = 0; k < N; k++) {
    /* A narrow draw (only two slots vary) so duplicates occur. */
    helion_space_default(s, all[k]);
    all[k][6] = (int64_t)1 << helion_rng_range(&rng, 0, 5);
    all[k][7] = helion_rng_range(&rng, 1, 5);
    bool seen_before = false;
    for (int j = 0; j < k && !seen_before; j++)
      seen_before = memcmp(all[j], all[k], sizeof(all[k])) == 0;
    bool added = false;
    assert_int_equal(helion_configset_add(&set, all[k], &added), HELION_OK);
    assert_int_equal(added, !seen_before);
    distinct += !seen_before;
  }
  assert_int_equal(distinct, 30); /* 6 num_warps x 5 num_stages */
  assert_int_equal(set.count, 30);
  assert_true(set.count * 2 <= set.capacity);
  assert_int_equal(set.capacity & (set.capacity - 1), 0);
  for (int k = 0; k < N; k++)
    assert_true(helion_configset_contains(&set, all[k]));
  assert_false(helion_configset_contains(&set, other_cells));
  /* Many distinct entries: growth keeps them all. */
  helion_configset_t big;
  helion_configset_init(&big, s);
  int64_t c[18];
  helion_space_default(s, c);
  for (int k = 0; k < 5000; k++) {
    c[0] = k;
    assert_int_equal(helion_configset_add(&big, c, NULL), HELION_OK);
  }
  assert_int_equal(big.count, 5000);
  assert_true(big.capacity >= 10000);
  for (int k = 0; k < 5000; k++) {
    c[0] = k;
    assert_true(helion_configset_contains(&big, c));
  }
  c[0] = 5000;
  assert_false(helion_configset_contains(&big, c));
  helion_configset_cleanup(&big);
  helion_configset_cleanup(&set);
  helion_configset_cleanup(&set); /* cleanup twice is harmless */
  free(all);
  helion_space_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_canonical_json),
      cmocka_unit_test(test_config_minimize),
      cmocka_unit_test(test_config_round_trip),
      cmocka_unit_test(test_config_from_json_errors),
      cmocka_unit_test(test_config_hash_and_id),
      cmocka_unit_test(test_config_defines),
      cmocka_unit_test(test_config_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
