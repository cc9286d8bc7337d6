/*
 * test_samples_compile.c: the rmsnorm, transpose and matmul samples load as
 * specs, and NVRTC compiles a seeded random sample of their valid
 * configurations (helion_space_random + helion_config_defines) for sm_90
 * and sm_80, so compile errors in rarely used corners of a space show up on
 * CPU CI. Also: the configurations the matmul is meant to win with are in
 * its space, its default has no spills, and a restriction the space rejects
 * is also a static_assert in the kernel.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/config.h"
#include "backend/nvrtc_compile.h"
#include "model/space.h"
#include "model/spec.h"

/* Random valid configurations compiled per sample (all for sm_90, every
 * fourth also for sm_80). */
#define CONFIGS_PER_SAMPLE 20
#define SEED 0x5eed5a3du

/* A loaded sample: spec, kernel source, and its space for one shape. */
typedef struct sample {
  helion_spec_t *spec;
  char *source;
  helion_space_t *space;
  helion_device_props_t dev;
} sample_t;

static void sample_open(sample_t *s, const char *name, size_t shape) {
  const char *root = getenv("HELION_SOURCE_DIR");
  assert_non_null(root);
  char path[4096];
  snprintf(path, sizeof(path), "%s/samples/%s/%s.json", root, name, name);
  helion_err_t err = {0};
  memset(s, 0, sizeof(*s));
  if (helion_spec_load(path, &s->spec, &err) != HELION_OK)
    fail_msg("%s", err.msg);
  size_t len = 0;
  if (helion_read_file(s->spec->source, (size_t)1 << 20, &s->source, &len,
                       &err) != HELION_OK)
    fail_msg("%s", err.msg);
  assert_int_equal(helion_device_props_for_arch("sm_90", &s->dev, &err),
                   HELION_OK);
  assert_true(shape < s->spec->nshapes);
  if (helion_spec_space(s->spec, s->spec->shapes + shape * s->spec->nkeys,
                        &s->dev, &s->space, &err) != HELION_OK)
    fail_msg("%s", err.msg);
}

static void sample_close(sample_t *s) {
  helion_space_destroy(s->space);
  free(s->source);
  helion_spec_destroy(s->spec);
  memset(s, 0, sizeof(*s));
}

/* Compiles `cells` of the sample for `arch`; fails the test with the
 * config's JSON and NVRTC's message when it does not compile. */
static void compile_config(const sample_t *s, const int64_t *cells,
                           const char *arch, helion_nvrtc_result_t *res) {
  helion_buf_t defs, json;
  helion_buf_init(&defs, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&json, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_config_defines(s->space, cells, &defs), HELION_OK);
  assert_int_equal(helion_config_to_json(s->space, cells, false, &json),
                   HELION_OK);
  char file[128];
  snprintf(file, sizeof(file), "%s.cu", s->spec->name);
  char target[24];
  helion_nvrtc_target(arch, s->spec->arch_specific, target, sizeof(target));
  helion_nvrtc_input_t in = {s->source, file, target, helion_buf_str(&defs),
                             s->spec->entry};
  helion_err_t err = {0};
  helion_nvrtc_result_init(res);
  if (helion_nvrtc_compile(&in, res, &err) != HELION_OK)
    fail_msg("%s config %s for %s: %s", s->spec->name, helion_buf_str(&json),
             arch, err.msg);
  if (getenv("HELION_TEST_VERBOSE"))
    fprintf(stderr, "%s %s: %s (%d registers, %lld spill bytes)\n",
            s->spec->name, arch, helion_buf_str(&json), res->usage.registers,
            (long long)res->usage.spill_stores);
  assert_true(res->usage.known);
  assert_true(res->usage.registers > 0 && res->usage.registers <= 255);
  helion_buf_cleanup(&defs);
  helion_buf_cleanup(&json);
}

/* Draws CONFIGS_PER_SAMPLE valid configurations, cycling through the
 * spec's shapes, and compiles each. Returns how many were distinct. */
static size_t compile_random(const char *name, uint64_t seed) {
  sample_t probe;
  sample_open(&probe, name, 0);
  size_t nshapes = probe.spec->nshapes;
  sample_close(&probe);

  helion_rng_t rng;
  helion_rng_seed(&rng, seed);
  size_t distinct = 0;
  for (size_t i = 0; i < CONFIGS_PER_SAMPLE; i++) {
    sample_t s;
    sample_open(&s, name, i % nshapes);
    int64_t *cells = calloc(s.space->ncells, sizeof(*cells));
    assert_non_null(cells);
    assert_int_equal(helion_space_random(s.space, &rng, 0, cells), HELION_OK);
    assert_true(helion_space_valid(s.space, cells));
    if (memcmp(cells, s.space->default_cells,
               s.space->ncells * sizeof(*cells)) != 0)
      distinct++;
    helion_nvrtc_result_t res;
    compile_config(&s, cells, "sm_90", &res);
    helion_nvrtc_result_cleanup(&res);
    if (i % 4 == 0 && !s.spec->arch_specific) {
      compile_config(&s, cells, "sm_80", &res);
      helion_nvrtc_result_cleanup(&res);
    }
    free(cells);
    sample_close(&s);
  }
  return distinct;
}

static void test_samples_compile_specs_load_with_valid_defaults(void **state) {
  (void)state;
  static const char *const names[] = {"rmsnorm", "transpose", "matmul",
                                      "matmul_wgmma"};
  for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
    sample_t s;
    sample_open(&s, names[n], 0);
    assert_string_equal(s.spec->entry, names[n]);
    for (size_t i = 0; i < s.spec->nshapes; i++) {
      sample_t t;
      sample_open(&t, names[n], i);
      assert_true(helion_space_valid(t.space, t.space->default_cells));
      sample_close(&t);
    }
    sample_close(&s);
  }
}

static void test_samples_compile_rmsnorm_random_configs(void **state) {
  (void)state;
  /* The space is large enough that 20 draws are mostly not the default. */
  assert_true(compile_random("rmsnorm", SEED) >= CONFIGS_PER_SAMPLE / 2);
}

static void test_samples_compile_transpose_random_configs(void **state) {
  (void)state;
  assert_true(compile_random("transpose", SEED + 1) >= CONFIGS_PER_SAMPLE / 2);
}

static void test_samples_compile_matmul_random_configs(void **state) {
  (void)state;
  assert_true(compile_random("matmul", SEED + 2) >= CONFIGS_PER_SAMPLE / 2);
}

/* Parses `json` into cells of s's space; fails the test on error. */
static void config_of(const sample_t *s, const char *json, int64_t *cells) {
  helion_err_t err = {0};
  if (helion_config_from_json(s->space, json, cells, &err) != HELION_OK)
    fail_msg("%s: %s", json, err.msg);
}

/* The wgmma matmul compiles for sm_90a only: a plain sm_90 compile stops
 * at its #error instead of producing a kernel without wgmma. */
static void test_samples_compile_matmul_wgmma_random_configs(void **state) {
  (void)state;
  assert_true(compile_random("matmul_wgmma", SEED + 3) >=
              CONFIGS_PER_SAMPLE / 2);
  sample_t s;
  sample_open(&s, "matmul_wgmma", 0);
  assert_true(s.spec->arch_specific);
  helion_nvrtc_input_t in = {s.source, "matmul_wgmma.cu", "sm_90", NULL,
                             s.spec->entry};
  helion_nvrtc_result_t res;
  helion_nvrtc_result_init(&res);
  helion_err_t err = {0};
  assert_int_not_equal(helion_nvrtc_compile(&in, &res, &err), HELION_OK);
  assert_non_null(strstr(err.msg, "needs sm_90a"));
  helion_nvrtc_result_cleanup(&res);
  sample_close(&s);
}

static void test_samples_compile_matmul_fast_configs_in_space(void **state) {
  (void)state;
  /* The usual mma.sync sweet spots at 4096^3: 128x128x32 or 128x256x32,
   * 8 warps (2 x 4), 3-4 stages; (128 + 256) * 32 * 2 * 4 = 98304 bytes of
   * shared memory, well under 227 KiB. */
  static const char *const fast[] = {
      "{\"block_sizes\": [128, 128, 32], \"num_warps\": 8, \"num_stages\": 3}",
      "{\"block_sizes\": [128, 128, 32], \"num_warps\": 8, \"num_stages\": 4}",
      "{\"block_sizes\": [128, 256, 32], \"num_warps\": 8, \"num_stages\": 3}",
      "{\"block_sizes\": [128, 256, 32], \"num_warps\": 8, \"num_stages\": 4,"
      " \"pid_type\": \"persistent_interleaved\"}",
      "{\"block_sizes\": [256, 128, 32], \"num_warps\": 8, \"num_stages\": 4,"
      " \"WARPS_M\": 4}",
      "{\"block_sizes\": [128, 128, 32], \"num_warps\": 4, \"num_stages\": 4,"
      " \"DOUBLE_BUFFER\": true, \"l2_groupings\": [16]}",
  };
  sample_t s;
  sample_open(&s, "matmul", 0);
  int64_t *cells = calloc(s.space->ncells, sizeof(*cells));
  assert_non_null(cells);
  for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
    config_of(&s, fast[i], cells);
    if (!helion_space_valid(s.space, cells))
      fail_msg("not valid at 4096^3: %s", fast[i]);
    helion_nvrtc_result_t res;
    compile_config(&s, cells, "sm_90", &res);
    /* Every tile lives in dynamic shared memory; none is static. */
    assert_int_equal(res.usage.smem_bytes, 0);
    assert_int_equal(res.usage.spill_stores, 0);
    helion_nvrtc_result_cleanup(&res);
  }
  /* 256 x 256 x 64 in 4 stages needs (256 + 256) * 64 * 2 * 4 = 262144
   * bytes, over 227 KiB (232448): rejected. */
  config_of(&s,
            "{\"block_sizes\": [256, 256, 64], \"num_warps\": 16, "
            "\"num_stages\": 4}",
            cells);
  assert_false(helion_space_valid(s.space, cells));
  free(cells);
  sample_close(&s);
}

static void test_samples_compile_matmul_default_has_no_spills(void **state) {
  (void)state;
  sample_t s;
  sample_open(&s, "matmul", 0);
  /* The default is the fastest configuration measured on an H200:
   * 128 x 128 x 32 tiles, 4 warps, 4 stages, double-buffered fragments. */
  helion_buf_t json;
  helion_buf_init(&json, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(
      helion_config_to_json(s.space, s.space->default_cells, false, &json),
      HELION_OK);
  assert_non_null(
      strstr(helion_buf_str(&json), "\"block_sizes\":[128,128,32]"));
  assert_non_null(strstr(helion_buf_str(&json), "\"num_warps\":4"));
  assert_non_null(strstr(helion_buf_str(&json), "\"num_stages\":4"));
  assert_non_null(strstr(helion_buf_str(&json), "\"DOUBLE_BUFFER\":true"));
  helion_buf_cleanup(&json);
  helion_nvrtc_result_t res;
  compile_config(&s, s.space->default_cells, "sm_90", &res);
  assert_int_equal(res.usage.spill_stores, 0);
  assert_int_equal(res.usage.spill_loads, 0);
  assert_int_equal(res.usage.stack_bytes, 0);
  /* 128 accumulators per thread (128 x 128 over 4 warps of 32 threads)
   * plus two sets of fragments fit in the 255 registers a thread may have,
   * without touching local memory. */
  assert_true(res.usage.registers <= 255);
  /* The tensor-core path, not a scalar fallback. */
  assert_non_null(strstr(res.ptx, "mma.sync.aligned.m16n8k16"));
  assert_non_null(strstr(res.ptx, "ldmatrix.sync.aligned.m8n8.x4.trans"));
  assert_non_null(strstr(res.ptx, "cp.async.cg.shared.global"));
  helion_nvrtc_result_cleanup(&res);
  sample_close(&s);
}

static void test_samples_compile_restriction_is_static_assert(void **state) {
  (void)state;
  /* TILE 64 with 8 warps and 4 rows per thread covers 32 * 8 * 4 = 1024 of
   * 64 * 64 = 4096 elements: the space rejects it and so does the kernel. */
  sample_t s;
  sample_open(&s, "transpose", 0);
  int64_t *cells = calloc(s.space->ncells, sizeof(*cells));
  assert_non_null(cells);
  config_of(&s,
            "{\"block_sizes\": [64], \"num_warps\": 8, \"ROWS_PER_THREAD\": 4}",
            cells);
  assert_false(helion_space_valid(s.space, cells));
  helion_buf_t defs;
  helion_buf_init(&defs, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_config_defines(s.space, cells, &defs), HELION_OK);
  helion_nvrtc_input_t in = {s.source, "transpose.cu", "sm_90",
                             helion_buf_str(&defs), "transpose"};
  helion_nvrtc_result_t res;
  helion_err_t err = {0};
  helion_nvrtc_result_init(&res);
  assert_int_equal(helion_nvrtc_compile(&in, &res, &err), HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "TILE * TILE must equal"));
  helion_nvrtc_result_cleanup(&res);
  helion_buf_cleanup(&defs);
  free(cells);
  sample_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_samples_compile_specs_load_with_valid_defaults),
      cmocka_unit_test(test_samples_compile_rmsnorm_random_configs),
      cmocka_unit_test(test_samples_compile_transpose_random_configs),
      cmocka_unit_test(test_samples_compile_matmul_random_configs),
      cmocka_unit_test(test_samples_compile_matmul_wgmma_random_configs),
      cmocka_unit_test(test_samples_compile_matmul_fast_configs_in_space),
      cmocka_unit_test(test_samples_compile_matmul_default_has_no_spills),
      cmocka_unit_test(test_samples_compile_restriction_is_static_assert),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
