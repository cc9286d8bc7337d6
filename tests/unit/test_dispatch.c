/*
 * test_dispatch.c: the runtime's pure dispatcher (runtime/src/dispatch.c):
 * the device ladder, helion_choose's picks (exact, nearest, illegal entries
 * passed over, the distilled tree, default, none) and helion_explain's
 * text, on a hand-built
 * kernel table whose legal fn reads a table the tests set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "helion/runtime.h"

static const char *const keys[] = {"M", "N"};
static const helion_config_desc_t configs[] = {
    {"{\"block_sizes\":[1024]}", NULL, 0},
    {"{\"block_sizes\":[64]}", NULL, 0},
    {"{\"block_sizes\":[256],\"num_warps\":8}", NULL, 0},
};
/* Sorted by name, then cc, as generated headers sort them. */
static const helion_device_group_t groups[] = {
    {"NVIDIA A10", 8, 6},
    {"NVIDIA A100", 8, 0},
    {"NVIDIA A30", 8, 0},
    {"NVIDIA H100 80GB HBM3", 9, 0},
};
static const int64_t s_a10[] = {128, 128};
static const int64_t s_a100[] = {256, 256};
static const int64_t s_a30[] = {512, 512};
static const int64_t s_h1[] = {64, 64};
static const int64_t s_h2[] = {4096, 1024};
static const int64_t s_h3[] = {4096, 4096};
static const helion_entry_desc_t entries[] = {
    {0, 1, s_a10}, {1, 2, s_a100}, {2, 1, s_a30},
    {3, 1, s_h1},  {3, 2, s_h2},   {3, 1, s_h3},
};

/* Which configs the legal fn refuses; each test sets what it needs. */
static int illegal[3];

static int legal_fn(int config, const helion_device_t *dev, const int64_t *key,
                    char *why, size_t len) {
  (void)dev;
  (void)key;
  if (!illegal[config])
    return 1;
  if (why)
    snprintf(why, len, "ROWS_PER_BLOCK <= num_warps (config %d)", config);
  return 0;
}

static helion_kernel_desc_t desc(void) {
  helion_kernel_desc_t k = {"softmax", "softmax", "softmax.json", keys, 2,
                            configs,   3,         0,              groups, 4,
                            entries,   6,         legal_fn, NULL};
  return k;
}

static helion_device_t device(const char *name, int major, int minor) {
  helion_device_t d;
  memset(&d, 0, sizeof(d));
  snprintf(d.name, sizeof(d.name), "%s", name);
  d.cc_major = major;
  d.cc_minor = minor;
  d.num_sms = 132;
  d.smem_per_block = 232448;
  return d;
}

static int setup(void **state) {
  (void)state;
  memset(illegal, 0, sizeof(illegal));
  return 0;
}

static void choose_ok(const int64_t *key, const helion_device_t *dev,
                      helion_choice_t *c) {
  helion_kernel_desc_t k = desc();
  assert_int_equal(helion_choose(&k, dev, key, c), HELION_OK);
}

static void test_dispatch_exact(void **state) {
  (void)state;
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  helion_choice_t c;
  choose_ok(s_h2, &h100, &c);
  assert_int_equal(c.pick, HELION_PICK_EXACT);
  assert_int_equal(c.rung, HELION_RUNG_DEVICE);
  assert_int_equal(c.group, 3);
  assert_int_equal(c.entry, 4);
  assert_int_equal(c.config, 2);
  assert_int_equal(c.skipped_illegal, 0);
}

static void test_dispatch_nearest(void **state) {
  (void)state;
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  const int64_t key[] = {4000, 1000};
  helion_choice_t c;
  choose_ok(key, &h100, &c);
  assert_int_equal(c.pick, HELION_PICK_NEAREST);
  assert_int_equal(c.entry, 4);
  assert_int_equal(c.config, 2);
  assert_true(c.distance > 0.0 && c.distance < 0.1);
  /* A tie goes to the earlier entry: N=2048 is as far (log2) from 1024 as
   * from 4096. */
  const int64_t tie[] = {4096, 2048};
  choose_ok(tie, &h100, &c);
  assert_int_equal(c.entry, 4);
  assert_true(c.distance == 1.0);
}

static void test_dispatch_illegal_nearest_skipped(void **state) {
  (void)state;
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  const int64_t key[] = {4000, 1000};
  helion_choice_t c;
  illegal[2] = 1;
  choose_ok(key, &h100, &c);
  assert_int_equal(c.pick, HELION_PICK_NEAREST);
  assert_int_equal(c.entry, 5); /* 4096x4096, config 1 */
  assert_int_equal(c.config, 1);
  assert_int_equal(c.skipped_illegal, 1);
  /* The exact entry's config illegal: it falls through to the nearest. */
  choose_ok(s_h2, &h100, &c);
  assert_int_equal(c.pick, HELION_PICK_NEAREST);
  assert_int_equal(c.entry, 5);
  assert_int_equal(c.skipped_illegal, 1);
}

static void test_dispatch_default(void **state) {
  (void)state;
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  helion_device_t t4 = device("Tesla T4", 7, 5);
  helion_choice_t c;
  /* An unknown device: the default config. */
  choose_ok(s_h2, &t4, &c);
  assert_int_equal(c.pick, HELION_PICK_DEFAULT);
  assert_int_equal(c.rung, HELION_RUNG_DEFAULT);
  assert_int_equal(c.group, -1);
  assert_int_equal(c.entry, -1);
  assert_int_equal(c.config, 0);
  /* Every entry of the group illegal: the default. */
  illegal[1] = illegal[2] = 1;
  choose_ok(s_h2, &h100, &c);
  assert_int_equal(c.pick, HELION_PICK_DEFAULT);
  assert_int_equal(c.config, 0);
  assert_int_equal(c.skipped_illegal, 3);
}

static void test_dispatch_none(void **state) {
  (void)state;
  helion_kernel_desc_t k = desc();
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  const int64_t key[] = {5, 7};
  helion_choice_t c;
  illegal[0] = illegal[1] = illegal[2] = 1;
  helion_fail(HELION_OK, "%s", "");
  assert_int_equal(helion_choose(&k, &h100, key, &c), HELION_ERR_INVALID);
  assert_int_equal(c.pick, HELION_PICK_NONE);
  assert_int_equal(c.config, -1);
  const char *msg = helion_last_error();
  assert_non_null(strstr(msg, "softmax: no config can run shape M=5,N=7 on "
                              "NVIDIA H100 80GB HBM3: the default config "
                              "breaks 'ROWS_PER_BLOCK <= num_warps (config "
                              "0)'"));
  assert_non_null(strstr(msg, "helion-tune tune softmax.json --shape M=5,N=7"));
}

static void test_dispatch_ladder(void **state) {
  (void)state;
  helion_kernel_desc_t k = desc();
  int g = 99;
  helion_device_t d = device("NVIDIA H100 80GB HBM3", 9, 0);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_DEVICE);
  assert_int_equal(g, 3);
  /* Same cc, other name: the first group of that cc in desc order. */
  d = device("NVIDIA H100 PCIe", 9, 0);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_CC);
  assert_int_equal(g, 3);
  d = device("NVIDIA A800", 8, 0);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_CC);
  assert_int_equal(g, 1);
  /* A name match with another cc is not the device. */
  d = device("NVIDIA A10", 8, 9);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_OLDER_CC);
  assert_int_equal(g, 0); /* 8.6 is newer than 8.0 */
  d = device("NVIDIA L4", 8, 9);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_OLDER_CC);
  assert_int_equal(g, 0);
  d = device("NVIDIA A100 next", 8, 7);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_OLDER_CC);
  assert_int_equal(g, 0);
  /* Another major, even a newer one: the default. */
  d = device("NVIDIA B200", 10, 0);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_DEFAULT);
  assert_int_equal(g, -1);
  d = device("Tesla T4", 7, 5);
  assert_int_equal(helion_device_ladder(&k, &d, &g), HELION_RUNG_DEFAULT);
  /* No groups at all. */
  k.ngroups = 0;
  k.nentries = 0;
  d = device("NVIDIA H100 80GB HBM3", 9, 0);
  assert_int_equal(helion_device_ladder(&k, &d, NULL), HELION_RUNG_DEFAULT);
  helion_choice_t c;
  assert_int_equal(helion_choose(&k, &d, s_h1, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_DEFAULT);
  assert_int_equal(c.config, 0);
  /* The ladder picks the group, then the shape: an L4 gets the A10's
   * entry. */
  k = desc();
  d = device("NVIDIA L4", 8, 9);
  assert_int_equal(helion_choose(&k, &d, s_a10, &c), HELION_OK);
  assert_int_equal(c.rung, HELION_RUNG_OLDER_CC);
  assert_int_equal(c.pick, HELION_PICK_EXACT);
  assert_int_equal(c.entry, 0);
}

static void test_dispatch_explain(void **state) {
  (void)state;
  helion_kernel_desc_t k = desc();
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  const int64_t key[] = {4000, 1000};
  char buf[2048], small[16];
  illegal[2] = 1;
  int n = helion_explain(&k, &h100, key, buf, sizeof(buf));
  assert_int_equal(n, (int)strlen(buf));
  assert_non_null(strstr(buf, "softmax M=4000,N=1000 on NVIDIA H100 80GB HBM3 "
                              "(9.0): device rung: exact device (entries of "
                              "NVIDIA H100 80GB HBM3 9.0)\n"));
  assert_non_null(strstr(buf, "pick: nearest tuned shape M=4096,N=4096 "
                              "(distance 2.0), its config is legal here\n"));
  assert_non_null(strstr(buf, "passed over: tuned shape M=4096,N=1024 "
                              "(config 2), illegal here: ROWS_PER_BLOCK"));
  assert_non_null(strstr(buf, "config 1: {\"block_sizes\":[64]}\n"));
  /* snprintf's contract: the full length, a cut but terminated text. */
  assert_int_equal(helion_explain(&k, &h100, key, small, sizeof(small)), n);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  assert_int_equal(strncmp(small, buf, sizeof(small) - 1), 0);
  assert_int_equal(helion_explain(&k, &h100, key, NULL, 0), n);
  /* Explain is pure: it leaves the thread's message alone. */
  helion_fail(HELION_OK, "%s", "before");
  illegal[0] = illegal[1] = 1;
  n = helion_explain(&k, &h100, key, buf, sizeof(buf));
  assert_string_equal(helion_last_error(), "before");
  assert_non_null(strstr(buf, "pick: none: no config can run this shape; the "
                              "default config breaks 'ROWS_PER_BLOCK"));
  /* An unknown device. */
  memset(illegal, 0, sizeof(illegal));
  helion_device_t t4 = device("Tesla T4", 7, 5);
  helion_explain(&k, &t4, key, buf, sizeof(buf));
  assert_non_null(strstr(buf, "device rung: default (no tuned entries serve "
                              "this device)\npick: the default config (no "
                              "tuned entries for this device)\nconfig 0: "));
}

/* A distilled tree for the H100 group only: M*N <= 2^20 gets config 0,
 * larger shapes config 2; every other group has none. */
static int tree_fn(unsigned group, const int64_t *key) {
  if (group != 3)
    return -1;
  if ((double)key[0] * (double)key[1] <= 0x1p20)
    return 0;
  return 2;
}

static void test_dispatch_tree(void **state) {
  (void)state;
  helion_kernel_desc_t k = desc();
  k.tree = tree_fn;
  helion_device_t h100 = device("NVIDIA H100 80GB HBM3", 9, 0);
  helion_device_t a10 = device("NVIDIA A10", 8, 6);
  const int64_t small[] = {100, 100}, big[] = {3000, 3000};
  helion_choice_t c;
  char buf[2048];
  /* A shape that was not tuned: the tree's config. */
  assert_int_equal(helion_choose(&k, &h100, small, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_TREE);
  assert_int_equal(c.rung, HELION_RUNG_DEVICE);
  assert_int_equal(c.config, 0);
  assert_int_equal(c.entry, -1);
  assert_true(c.distance == 0.0);
  assert_int_equal(helion_choose(&k, &h100, big, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_TREE);
  assert_int_equal(c.config, 2);
  helion_explain(&k, &h100, small, buf, sizeof(buf));
  assert_non_null(strstr(buf, "pick: the distilled decision tree (config 0)\n"
                              "config 0: {\"block_sizes\":[1024]}\n"));
  assert_null(strstr(buf, "passed over"));
  /* An exact entry still wins (the tree would say config 0). */
  assert_int_equal(helion_choose(&k, &h100, s_h1, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_EXACT);
  assert_int_equal(c.config, 1);
  /* The tree's config illegal here: the nearest tuned shape, and explain
   * says why the tree was passed over. */
  illegal[0] = 1;
  assert_int_equal(helion_choose(&k, &h100, small, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_NEAREST);
  assert_int_equal(c.entry, 3);
  assert_int_equal(c.config, 1);
  helion_explain(&k, &h100, small, buf, sizeof(buf));
  assert_non_null(strstr(buf, "pick: nearest tuned shape M=64,N=64"));
  assert_non_null(strstr(buf, "passed over: the distilled tree's config 0, "
                              "illegal here: ROWS_PER_BLOCK <= num_warps "
                              "(config 0)\n"));
  /* A group without a tree (-1): the nearest, nothing passed over. */
  illegal[0] = 0;
  assert_int_equal(helion_choose(&k, &a10, small, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_NEAREST);
  assert_int_equal(c.entry, 0);
  helion_explain(&k, &a10, small, buf, sizeof(buf));
  assert_null(strstr(buf, "distilled"));
  /* No group at all: the tree is not asked. */
  helion_device_t t4 = device("Tesla T4", 7, 5);
  assert_int_equal(helion_choose(&k, &t4, small, &c), HELION_OK);
  assert_int_equal(c.pick, HELION_PICK_DEFAULT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_dispatch_exact, setup),
      cmocka_unit_test_setup(test_dispatch_nearest, setup),
      cmocka_unit_test_setup(test_dispatch_illegal_nearest_skipped, setup),
      cmocka_unit_test_setup(test_dispatch_default, setup),
      cmocka_unit_test_setup(test_dispatch_none, setup),
      cmocka_unit_test_setup(test_dispatch_ladder, setup),
      cmocka_unit_test_setup(test_dispatch_explain, setup),
      cmocka_unit_test_setup(test_dispatch_tree, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
