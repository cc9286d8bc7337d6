/*
 * test_nvrtc.c: the NVRTC compile module against the real NVRTC: cubin and
 * PTX out, errors citing file and line, the missing-entry message, defines
 * reaching the kernel, helion/device.cuh and the samples on sm_80 and sm_90,
 * and the ptxas usage parser on hand-written logs.
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

#include "backend/nvrtc_compile.h"

static const char add_one_src[] =
    "extern \"C\" __global__ void add_one(float *x, int n) {\n"
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (i < n) x[i] += 1.0f;\n"
    "}\n";

/* Compiles and returns the status; the result stays in *res. */
static helion_status compile(const char *src, const char *name,
                             const char *arch, const char *options,
                             const char *entry, helion_nvrtc_result_t *res,
                             helion_err_t *err) {
  helion_nvrtc_input_t in = {src, name, arch, options, entry};
  err->msg[0] = '\0';
  return helion_nvrtc_compile(&in, res, err);
}

static void test_nvrtc_compiles_kernel_to_cubin_and_ptx(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(
      compile(add_one_src, "add_one.cu", "sm_90", NULL, "add_one", &res, &err),
      HELION_OK);
  /* A cubin is an ELF file. */
  assert_true(res.cubin_size > 64);
  assert_memory_equal(res.cubin,
                      "\x7f"
                      "ELF",
                      4);
  assert_non_null(strstr(res.ptx, ".entry add_one("));
  assert_int_equal(strlen(res.ptx), res.ptx_size);
  assert_non_null(strstr(res.ptx, ".target sm_90"));
  /* --ptxas-options=-v put the usage in the log. */
  assert_true(res.usage.known);
  assert_true(res.usage.registers > 0 && res.usage.registers <= 255);
  assert_int_equal(res.usage.spill_stores, 0);
  assert_int_equal(res.usage.smem_bytes, 0);
  assert_true(res.seconds > 0.0);
  helion_nvrtc_result_cleanup(&res);
  assert_null(res.cubin);
}

static void test_nvrtc_reports_static_shared_memory(void **state) {
  (void)state;
  /* 256 floats of static shared memory = 1024 bytes, as ptxas reports. */
  const char *src = "extern \"C\" __global__ void rev(float *x) {\n"
                    "  __shared__ float s[256];\n"
                    "  s[threadIdx.x] = x[threadIdx.x];\n"
                    "  __syncthreads();\n"
                    "  x[threadIdx.x] = s[255 - threadIdx.x];\n"
                    "}\n";
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(compile(src, "rev.cu", "sm_80", NULL, "rev", &res, &err),
                   HELION_OK);
  assert_true(res.usage.known);
  assert_int_equal(res.usage.smem_bytes, 1024);
  assert_non_null(strstr(res.ptx, ".target sm_80"));
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_syntax_error_cites_file_and_line(void **state) {
  (void)state;
  /* The dangling '+' is on line 3. */
  const char *src = "extern \"C\" __global__ void k(float *x) {\n"
                    "  float y = 1.0f;\n"
                    "  x[0] = y +;\n"
                    "}\n";
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(
      compile(src, "dir/broken.cu", "sm_90", NULL, "k", &res, &err),
      HELION_ERR_NVRTC);
  assert_string_equal(err.msg, "dir/broken.cu: NVRTC compile for sm_90 "
                               "failed (NVRTC_ERROR_COMPILATION): "
                               "dir/broken.cu(3): error: expected an "
                               "expression");
  /* The message is one line. */
  assert_null(strchr(err.msg, '\n'));
  /* The full log comes back on a compile failure; nothing else does. */
  assert_non_null(res.log);
  assert_non_null(
      strstr(res.log, "dir/broken.cu(3): error: expected an expression\n"));
  assert_null(res.cubin);
  assert_null(res.ptx);
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_error_line_is_exact(void **state) {
  (void)state;
  /* An undefined name on line 2 is reported on exactly that line. */
  const char *src = "extern \"C\" __global__ void k(float *x) {\n"
                    "  x[0] = undefined_name;\n"
                    "}\n";
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(compile(src, "u.cu", "sm_90", NULL, "k", &res, &err),
                   HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "u.cu(2): error: identifier "
                                  "\"undefined_name\" is undefined"));
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_missing_entry_message(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(
      compile(add_one_src, "add_one.cu", "sm_90", NULL, "add", &res, &err),
      HELION_ERR_NOT_FOUND);
  assert_string_equal(err.msg, "entry 'add' not found in add_one.cu; is it "
                               "declared extern \"C\" __global__?");
  assert_null(res.cubin);
  assert_null(res.log);
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_mangled_kernel_is_not_an_entry(void **state) {
  (void)state;
  /* Without extern "C" the PTX name is mangled (_Z4scalePf). */
  const char *src = "__global__ void scale(float *x) { x[0] *= 2.0f; }\n";
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(compile(src, "scale.cu", "sm_90", NULL, "scale", &res, &err),
                   HELION_ERR_NOT_FOUND);
  assert_string_equal(err.msg, "entry 'scale' not found in scale.cu; is it "
                               "declared extern \"C\" __global__?");
  helion_nvrtc_result_cleanup(&res);
}

static const char define_src[] =
    "static_assert(VALUE == 42, \"VALUE must be 42\");\n"
    "extern \"C\" __global__ void k(int *x) { x[0] = VALUE + EXTRA; }\n";

static void test_nvrtc_defines_reach_the_kernel(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  /* One option per line, blank lines and surrounding spaces ignored. */
  assert_int_equal(compile(define_src, "def.cu", "sm_90",
                           "-DVALUE=42\n\n  -DEXTRA=1000  \n", "k", &res, &err),
                   HELION_OK);
  /* 42 + 1000 folded into the store. */
  assert_non_null(strstr(res.ptx, "1042"));
  helion_nvrtc_result_cleanup(&res);

  assert_int_equal(compile(define_src, "def.cu", "sm_90",
                           "-DVALUE=41\n-DEXTRA=0", "k", &res, &err),
                   HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "def.cu(1): error"));
  assert_non_null(strstr(err.msg, "VALUE must be 42"));
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_rejects_bad_arch(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(
      compile(add_one_src, "add_one.cu", "compute_90", NULL, NULL, &res, &err),
      HELION_ERR_INVALID);
  assert_string_equal(err.msg,
                      "add_one.cu: arch 'compute_90': expected sm_XX, e.g. "
                      "sm_90");
  assert_int_equal(
      compile(add_one_src, "add_one.cu", "sm_9", NULL, NULL, &res, &err),
      HELION_ERR_INVALID);
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_bad_option_names_nvrtc_error(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(compile(add_one_src, "add_one.cu", "sm_90",
                           "--no-such-option", NULL, &res, &err),
                   HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "NVRTC_ERROR_INVALID_OPTION"));
  assert_non_null(strstr(err.msg, "--no-such-option"));
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_half_and_bf16_headers(void **state) {
  (void)state;
  const char *src =
      "#include <cuda_fp16.h>\n"
      "#include <cuda_bf16.h>\n"
      "extern \"C\" __global__ void cvt(const __half *a,\n"
      "                                 const __nv_bfloat16 *b, float *c) {\n"
      "  c[threadIdx.x] = __half2float(a[threadIdx.x]) +\n"
      "                   __bfloat162float(b[threadIdx.x]);\n"
      "}\n";
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(compile(src, "cvt.cu", "sm_80", NULL, "cvt", &res, &err),
                   HELION_OK);
  helion_nvrtc_result_cleanup(&res);
}

/* A kernel that uses every helper of helion/device.cuh. */
static const char device_src[] =
    "#include <helion/device.cuh>\n"
    "extern \"C\" __global__ void __launch_bounds__(HL_NUM_THREADS)\n"
    "    helpers(const float *a, const double *b, const float4 *c,\n"
    "            const unsigned char *d, float *out, long long *ids,\n"
    "            int tiles_m, int tiles_n) {\n"
    "  HL_FOR_EACH_TILE(t, (long long)tiles_m * tiles_n) {\n"
    "    hl_tile2 mn = hl_swizzle(t, tiles_m, tiles_n);\n"
    "    ids[2 * t] = mn.m;\n"
    "    ids[2 * t + 1] = mn.n;\n"
    "    float4 v = hl_load<2>(c + t);\n"
    "    out[t] = hl_load<0>(a + t) + (float)hl_load<1>(b + t) + v.x +\n"
    "             v.w + hl_load<3>(d + t);\n"
    "  }\n"
    "  static_assert(hl_cdiv(10, 4) == 3, \"cdiv\");\n"
    "}\n";

static void test_nvrtc_device_header_defaults_sm80_sm90(void **state) {
  (void)state;
  const char *archs[] = {"sm_80", "sm_90"};
  for (size_t i = 0; i < 2; i++) {
    helion_nvrtc_result_t res;
    helion_err_t err;
    helion_nvrtc_result_init(&res);
    assert_int_equal(compile(device_src, "helpers.cu", archs[i], NULL,
                             "helpers", &res, &err),
                     HELION_OK);
    /* Default policy: plain loads, no eviction hints. */
    assert_null(strstr(res.ptx, "evict_"));
    helion_nvrtc_result_cleanup(&res);
  }
}

static void test_nvrtc_device_header_eviction_hints(void **state) {
  (void)state;
  const char *archs[] = {"sm_80", "sm_90"};
  const char *pids[] = {"HL_PID_FLAT", "HL_PID_XYZ",
                        "HL_PID_PERSISTENT_BLOCKED",
                        "HL_PID_PERSISTENT_INTERLEAVED"};
  for (size_t i = 0; i < 2; i++) {
    for (size_t p = 0; p < 4; p++) {
      char opts[512];
      snprintf(opts, sizeof(opts),
               "-DHL_EVICT_0=1\n-DHL_EVICT_1=2\n-DHL_EVICT_2=1\n"
               "-DHL_EVICT_3=2\n-DHL_PID_TYPE=%s\n-DHL_NUM_WARPS=8\n"
               "-DHL_L2_GROUPING_0=8",
               pids[p]);
      helion_nvrtc_result_t res;
      helion_err_t err;
      helion_nvrtc_result_init(&res);
      assert_int_equal(compile(device_src, "helpers.cu", archs[i], opts,
                               "helpers", &res, &err),
                       HELION_OK);
      assert_non_null(strstr(res.ptx, "ld.global.L1::evict_first.b32"));
      assert_non_null(strstr(res.ptx, "ld.global.L1::evict_last.b64"));
      assert_non_null(strstr(res.ptx, "ld.global.L1::evict_first.v4.b32"));
      assert_non_null(strstr(res.ptx, "ld.global.L1::evict_last.u8"));
      /* __launch_bounds__(HL_NUM_THREADS) with 8 warps = 256 threads. */
      assert_non_null(strstr(res.ptx, ".maxntid 256"));
      helion_nvrtc_result_cleanup(&res);
    }
  }
}

static void test_nvrtc_device_header_rejects_unknown_pid_type(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  /* A bare word is not silently read as flat. */
  assert_int_equal(compile(device_src, "helpers.cu", "sm_90",
                           "-DHL_PID_TYPE=flat", "helpers", &res, &err),
                   HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "error"));
  helion_nvrtc_result_cleanup(&res);
  assert_int_equal(compile(device_src, "helpers.cu", "sm_90", "-DHL_PID_TYPE=7",
                           "helpers", &res, &err),
                   HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "HL_PID_TYPE must be one of"));
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_include_dir_env_override(void **state) {
  (void)state;
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  setenv("HELION_INCLUDE_DIR", "/nonexistent/helion-include", 1);
  assert_string_equal(helion_nvrtc_runtime_include_dir(),
                      "/nonexistent/helion-include");
  helion_status rc =
      compile(device_src, "helpers.cu", "sm_90", NULL, "helpers", &res, &err);
  unsetenv("HELION_INCLUDE_DIR");
  assert_int_equal(rc, HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, "helpers.cu(1)"));
  assert_non_null(strstr(err.msg, "helion/device.cuh"));
  helion_nvrtc_result_cleanup(&res);
}

/* Reads samples/<rel> of the source tree. */
static char *read_sample(const char *rel) {
  const char *root = getenv("HELION_SOURCE_DIR");
  assert_non_null(root);
  char path[4096];
  snprintf(path, sizeof(path), "%s/samples/%s", root, rel);
  char *data = NULL;
  size_t len = 0;
  helion_err_t err;
  assert_int_equal(helion_read_file(path, 1 << 20, &data, &len, &err),
                   HELION_OK);
  return data;
}

static void expect_compiles(const char *src, const char *name,
                            const char *entry, const char *arch,
                            const char *opts) {
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  helion_status rc = compile(src, name, arch, opts, entry, &res, &err);
  if (rc)
    fprintf(stderr, "%s [%s]: %s\n", arch, opts ? opts : "", err.msg);
  assert_int_equal(rc, HELION_OK);
  assert_true(res.usage.known);
  helion_nvrtc_result_cleanup(&res);
}

static void expect_fails(const char *src, const char *name, const char *entry,
                         const char *opts, const char *needle) {
  helion_nvrtc_result_t res;
  helion_err_t err;
  helion_nvrtc_result_init(&res);
  assert_int_equal(compile(src, name, "sm_90", opts, entry, &res, &err),
                   HELION_ERR_NVRTC);
  assert_non_null(strstr(err.msg, needle));
  helion_nvrtc_result_cleanup(&res);
}

static void test_nvrtc_vector_add_sample(void **state) {
  (void)state;
  char *src = read_sample("vector_add/vector_add.cu");
  const char *configs[] = {
      NULL,
      "-DBLOCK=1024\n-DHL_NUM_WARPS=32\n-DITEMS=8\n"
      "-DHL_PID_TYPE=HL_PID_PERSISTENT_INTERLEAVED",
      "-DBLOCK=32\n-DHL_NUM_WARPS=1\n-DITEMS=1\n"
      "-DHL_PID_TYPE=HL_PID_PERSISTENT_BLOCKED\n-DHL_EVICT_0=1\n"
      "-DHL_EVICT_1=2"};
  for (size_t c = 0; c < 3; c++) {
    expect_compiles(src, "vector_add.cu", "vector_add", "sm_80", configs[c]);
    expect_compiles(src, "vector_add.cu", "vector_add", "sm_90", configs[c]);
  }
  /* The restriction BLOCK % (32 * num_warps) == 0, enforced in the kernel. */
  expect_fails(src, "vector_add.cu", "vector_add",
               "-DBLOCK=64\n-DHL_NUM_WARPS=4",
               "BLOCK must be a multiple of the thread count");
  free(src);
}

static void test_nvrtc_softmax_sample(void **state) {
  (void)state;
  char *src = read_sample("softmax/softmax.cu");
  const char *configs[] = {
      NULL,
      /* One row per warp, 16 warps, 32 values per thread. */
      "-DBLOCK_N=1024\n-DHL_NUM_WARPS=16\n-DROWS_PER_BLOCK=16\n"
      "-DHL_PID_TYPE=HL_PID_PERSISTENT_BLOCKED",
      /* One row per block over one warp. */
      "-DBLOCK_N=32\n-DHL_NUM_WARPS=1\n-DROWS_PER_BLOCK=1\n"
      "-DHL_PID_TYPE=HL_PID_PERSISTENT_INTERLEAVED",
      "-DBLOCK_N=4096\n-DHL_NUM_WARPS=4\n-DROWS_PER_BLOCK=1"};
  for (size_t c = 0; c < 4; c++) {
    expect_compiles(src, "softmax.cu", "softmax", "sm_80", configs[c]);
    expect_compiles(src, "softmax.cu", "softmax", "sm_90", configs[c]);
  }
  expect_fails(src, "softmax.cu", "softmax",
               "-DBLOCK_N=64\n-DHL_NUM_WARPS=4\n-DROWS_PER_BLOCK=1",
               "softmax.cu(");
  expect_fails(src, "softmax.cu", "softmax",
               "-DHL_NUM_WARPS=2\n-DROWS_PER_BLOCK=4",
               "ROWS_PER_BLOCK must divide num_warps");
  free(src);
}

/* ptxas -v output of a file with a device function and two kernels (the
 * format NVRTC 12/13 prints), numbers chosen by hand. */
static const char usage_log[] =
    "ptxas info    : 0 bytes gmem\n"
    "ptxas info    : Compiling entry function 'softmax_ref' for 'sm_90'\n"
    "ptxas info    : Function properties for softmax_ref\n"
    "ptxas         .     16 bytes stack frame, 0 bytes spill stores, 0 bytes "
    "spill loads\n"
    "ptxas info    : Used 18 registers, used 0 barriers, 16 bytes cumulative "
    "stack size\n"
    "ptxas info    : Compiling entry function 'softmax' for 'sm_90'\n"
    "ptxas info    : Function properties for softmax\n"
    "ptxas         .     24 bytes stack frame, 40 bytes spill stores, 36 "
    "bytes spill loads\n"
    "ptxas info    : Function properties for _Z7combine7max_sumS_\n"
    "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes "
    "spill loads\n"
    "ptxas info    : Compiling entry function 'softmax' for 'sm_90'\n"
    "ptxas info    : Used 255 registers, used 1 barriers, 2048 bytes smem\n"
    "ptxas info    : Compile time = 9.773 ms\n";

static void test_nvrtc_parse_usage_picks_the_entry(void **state) {
  (void)state;
  helion_nvrtc_usage_t u;
  memset(&u, 0, sizeof(u));
  assert_true(helion_nvrtc_parse_usage(usage_log, "softmax", &u));
  assert_true(u.known);
  assert_int_equal(u.registers, 255);
  assert_int_equal(u.smem_bytes, 2048);
  assert_int_equal(u.stack_bytes, 24);
  assert_int_equal(u.spill_stores, 40);
  assert_int_equal(u.spill_loads, 36);

  memset(&u, 0, sizeof(u));
  assert_true(helion_nvrtc_parse_usage(usage_log, "softmax_ref", &u));
  assert_int_equal(u.registers, 18);
  assert_int_equal(u.smem_bytes, 0);
  assert_int_equal(u.stack_bytes, 16);

  /* A prefix of a name is not the name; unknown entries leave *out. */
  u.registers = -7;
  assert_false(helion_nvrtc_parse_usage(usage_log, "soft", &u));
  assert_false(helion_nvrtc_parse_usage("", "softmax", &u));
  assert_int_equal(u.registers, -7);
}

static void test_nvrtc_ptx_has_entry(void **state) {
  (void)state;
  const char *ptx = ".version 8.8\n.target sm_90\n"
                    ".visible .entry foo_bar(\n\t.param .u64 p\n)\n{\n}\n"
                    ".entry baz (\n)\n";
  assert_true(helion_nvrtc_ptx_has_entry(ptx, "foo_bar"));
  assert_true(helion_nvrtc_ptx_has_entry(ptx, "baz"));
  assert_false(helion_nvrtc_ptx_has_entry(ptx, "foo"));
  assert_false(helion_nvrtc_ptx_has_entry(ptx, "bar"));
  assert_false(helion_nvrtc_ptx_has_entry(ptx, ""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nvrtc_compiles_kernel_to_cubin_and_ptx),
      cmocka_unit_test(test_nvrtc_reports_static_shared_memory),
      cmocka_unit_test(test_nvrtc_syntax_error_cites_file_and_line),
      cmocka_unit_test(test_nvrtc_error_line_is_exact),
      cmocka_unit_test(test_nvrtc_missing_entry_message),
      cmocka_unit_test(test_nvrtc_mangled_kernel_is_not_an_entry),
      cmocka_unit_test(test_nvrtc_defines_reach_the_kernel),
      cmocka_unit_test(test_nvrtc_rejects_bad_arch),
      cmocka_unit_test(test_nvrtc_bad_option_names_nvrtc_error),
      cmocka_unit_test(test_nvrtc_half_and_bf16_headers),
      cmocka_unit_test(test_nvrtc_device_header_defaults_sm80_sm90),
      cmocka_unit_test(test_nvrtc_device_header_eviction_hints),
      cmocka_unit_test(test_nvrtc_device_header_rejects_unknown_pid_type),
      cmocka_unit_test(test_nvrtc_include_dir_env_override),
      cmocka_unit_test(test_nvrtc_vector_add_sample),
      cmocka_unit_test(test_nvrtc_softmax_sample),
      cmocka_unit_test(test_nvrtc_parse_usage_picks_the_entry),
      cmocka_unit_test(test_nvrtc_ptx_has_entry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
