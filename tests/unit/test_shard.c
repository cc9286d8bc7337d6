/*
 * test_shard.c: the shards of a tune (results/shard.h): "I/N" parsing and
 * its errors, --shard auto from Slurm's and Kubernetes' variables, and the
 * partition: every item in exactly one shard for N = 1..40, greedy LPT's
 * balance and tie rules, the same answer on every call, and the fragment
 * file name.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "results/shard.h"

static void expect_parse_error(const char *text, const char *why) {
  helion_shard_t sh = {7, 9};
  helion_err_t err = {{0}};
  assert_int_equal(helion_shard_parse(text, &sh, &err), HELION_ERR_USAGE);
  if (!strstr(err.msg, why))
    fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, why);
  assert_int_equal(sh.index, 7); /* untouched on failure */
}

static void test_shard_parse(void **state) {
  (void)state;
  helion_shard_t sh;
  helion_err_t err = {{0}};
  assert_int_equal(helion_shard_parse("0/1", &sh, &err), HELION_OK);
  assert_true(sh.index == 0 && sh.count == 1);
  assert_int_equal(helion_shard_parse("7/8", &sh, &err), HELION_OK);
  assert_true(sh.index == 7 && sh.count == 8);
  expect_parse_error("3/2", "the index 3 is not below the shard count 2");
  expect_parse_error("2/2", "not below");
  expect_parse_error("-1/2", "the index '-1'");
  expect_parse_error("a/b", "the index 'a'");
  expect_parse_error("1/b", "the shard count 'b'");
  expect_parse_error("0/0", "the shard count '0'");
  expect_parse_error("1", "expected I/N");
  expect_parse_error("/4", "the index ''");
  expect_parse_error("1/", "the shard count ''");
  expect_parse_error(" 1/2", "the index ' 1'");
  expect_parse_error("0/99999999999999999999", "the shard count");
}

static void clear_env(void) {
  static const char *const names[] = {
      "SLURM_ARRAY_TASK_ID",  "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
      "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX"};
  for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
    unsetenv(names[i]);
}

static void expect_env(uint64_t shards, uint64_t index, uint64_t count) {
  helion_shard_t sh = {99, 99};
  helion_err_t err = {{0}};
  if (helion_shard_from_env(shards, &sh, &err))
    fail_msg("from_env: %s", err.msg);
  assert_int_equal(sh.index, index);
  assert_int_equal(sh.count, count);
}

static void expect_env_error(uint64_t shards, const char *why) {
  helion_shard_t sh;
  helion_err_t err = {{0}};
  assert_int_equal(helion_shard_from_env(shards, &sh, &err), HELION_ERR_USAGE);
  if (!strstr(err.msg, why))
    fail_msg("message '%s' lacks '%s'", err.msg, why);
}

static void test_shard_from_env(void **state) {
  (void)state;
  clear_env();
  expect_env_error(0, "SLURM_ARRAY_TASK_ID is not set");
  expect_env_error(4, "JOB_COMPLETION_INDEX is not set");
  /* Slurm: --array=0-7 */
  setenv("SLURM_ARRAY_TASK_ID", "5", 1);
  expect_env_error(0, "SLURM_ARRAY_TASK_COUNT is not set");
  setenv("SLURM_ARRAY_TASK_COUNT", "8", 1);
  expect_env(0, 5, 8);
  /* --array=1-8: the first task is shard 0. */
  setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
  setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  expect_env(0, 0, 8);
  setenv("SLURM_ARRAY_TASK_ID", "8", 1);
  expect_env(0, 7, 8);
  setenv("SLURM_ARRAY_TASK_ID", "9", 1);
  expect_env_error(0, "SLURM_ARRAY_TASK_ID=9 is not one of the 8 tasks");
  setenv("SLURM_ARRAY_TASK_ID", "0", 1);
  expect_env_error(0, "SLURM_ARRAY_TASK_ID=0");
  /* --array=0-14:2 */
  setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
  setenv("SLURM_ARRAY_TASK_STEP", "2", 1);
  setenv("SLURM_ARRAY_TASK_ID", "14", 1);
  expect_env(0, 7, 8);
  setenv("SLURM_ARRAY_TASK_ID", "3", 1);
  expect_env_error(0, "in steps of 2");
  setenv("SLURM_ARRAY_TASK_ID", "x", 1);
  expect_env_error(0, "SLURM_ARRAY_TASK_ID='x' is not a whole number");
  setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "0", 1);
  unsetenv("SLURM_ARRAY_TASK_STEP");
  expect_env_error(0, "SLURM_ARRAY_TASK_COUNT is 0");
  /* Kubernetes: --shards wins over Slurm's variables. */
  setenv("JOB_COMPLETION_INDEX", "3", 1);
  expect_env(4, 3, 4);
  expect_env_error(3, "JOB_COMPLETION_INDEX=3 is not below --shards 3");
  setenv("JOB_COMPLETION_INDEX", "-1", 1);
  expect_env_error(4, "JOB_COMPLETION_INDEX='-1'");
  clear_env();
}

/* Every item in exactly one shard, every shard index in range, the same
 * answer twice, for N = 1..40 over mixed costs. */
static void test_shard_assign_covers(void **state) {
  (void)state;
  enum { N_ITEMS = 23 };
  uint64_t costs[N_ITEMS], a[N_ITEMS], b[N_ITEMS];
  for (size_t i = 0; i < N_ITEMS; i++)
    costs[i] = (i * 7919) % 13;
  for (uint64_t n = 1; n <= 40; n++) {
    uint64_t per[41] = {0};
    assert_int_equal(helion_shard_assign(costs, N_ITEMS, n, a, NULL), 0);
    assert_int_equal(helion_shard_assign(costs, N_ITEMS, n, b, NULL), 0);
    assert_memory_equal(a, b, sizeof(a));
    for (size_t i = 0; i < N_ITEMS; i++) {
      assert_true(a[i] < n);
      per[a[i]]++;
    }
    size_t total = 0;
    for (uint64_t s = 0; s < n; s++)
      total += per[s];
    assert_int_equal(total, N_ITEMS);
    /* Greedy LPT leaves no shard empty while another holds two items. */
    if (n <= N_ITEMS)
      for (uint64_t s = 0; s < n; s++)
        assert_true(per[s] >= 1);
  }
  assert_int_equal(helion_shard_assign(costs, 0, 3, a, NULL), 0);
}

/* The rule itself: costliest first (ties in canonical order) to the least
 * loaded shard (ties to the lowest index). */
static void test_shard_assign_lpt(void **state) {
  (void)state;
  /* Sorted: 9(i1) 7(i3) 5(i0) 5(i4) 2(i2) 1(i5). Loads (0,0):
   * i1->0 (9,0); i3->1 (9,7); i0->1 (9,12); i4->0 (14,12); i2->1 (14,14);
   * i5->0 (tie at 14: lowest index). */
  const uint64_t costs[] = {5, 9, 2, 7, 5, 1};
  const uint64_t want[] = {1, 0, 1, 1, 0, 0};
  uint64_t got[6];
  assert_int_equal(helion_shard_assign(costs, 6, 2, got, NULL), 0);
  assert_memory_equal(got, want, sizeof(want));
  /* Equal costs: round robin in canonical order. */
  const uint64_t flat[] = {3, 3, 3, 3, 3};
  const uint64_t rr[] = {0, 1, 2, 0, 1};
  assert_int_equal(helion_shard_assign(flat, 5, 3, got, NULL), 0);
  assert_memory_equal(got, rr, sizeof(rr));
  /* Cost 0 (a space of one config) still spreads: fewer items first. */
  const uint64_t zero[] = {0, 0, 0, 0};
  const uint64_t zrr[] = {0, 1, 2, 0};
  assert_int_equal(helion_shard_assign(zero, 4, 3, got, NULL), 0);
  assert_memory_equal(got, zrr, sizeof(zrr));
  /* More shards than items: items go to shards 0..n-1. */
  const uint64_t few[] = {1, 4};
  const uint64_t spread[] = {1, 0};
  assert_int_equal(helion_shard_assign(few, 2, 100000, got, NULL), 0);
  assert_memory_equal(got, spread, sizeof(spread));
}

static void test_shard_fragment_path(void **state) {
  (void)state;
  helion_shard_t sh = {2, 8};
  char *p = helion_shard_fragment_path("frags", "matmul", sh);
  assert_string_equal(p, "frags/matmul.shard-2-of-8.tuned.json");
  free(p);
  p = helion_shard_fragment_path(".", "softmax", sh);
  assert_string_equal(p, "softmax.shard-2-of-8.tuned.json");
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shard_parse),
      cmocka_unit_test(test_shard_from_env),
      cmocka_unit_test(test_shard_assign_covers),
      cmocka_unit_test(test_shard_assign_lpt),
      cmocka_unit_test(test_shard_fragment_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
