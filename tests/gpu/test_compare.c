/*
 * test_compare.c: the worker's output comparison on the GPU
 * (helion_runner_compare_device) against the host rule
 * (helion_runner_compare), for every dtype, on data built to sit on both
 * sides of the tolerance: near misses, exact boundary values, NaN, infinity
 * of both signs, wrapped integers. Count, first index and the two values at
 * it must agree exactly. Also times both on a 4096 x 4096 fp16 output (what
 * the matmul sample's checked run compares). Exits 77 without a CUDA driver
 * or device.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_driver.h"
#include "backend/runner.h"
#include "model/spec.h"
#include "util/util.h"

static const helion_cuda_driver_t *drv;
static helion_runner_t *runner;
static int failures;

static bool is_int(helion_dtype t) {
  return t >= HELION_DT_I8 && t <= HELION_DT_U64;
}

/* Fills expected with values of t and actual with a mix: equal, inside the
 * tolerance, just outside, NaN, +-inf (floats), off by a few (integers). */
static void make_pair(helion_dtype t, size_t n, double atol, double rtol,
                      uint64_t seed, void *actual, void *expected) {
  helion_rng_t rng;
  helion_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++) {
    double e = is_int(t) ? (double)helion_rng_range(&rng, -100, 100)
                         : helion_rng_normal(&rng) * 4.0;
    helion_runner_store(t, expected, i, e);
    e = helion_runner_load(t, expected, i); /* as stored */
    double tol = atol + rtol * fabs(e), a = e;
    switch (helion_rng_below(&rng, 10)) {
    case 0: /* just inside, or on the boundary before rounding */
      a = e + tol * (helion_rng_double(&rng) * 2 - 1);
      break;
    case 1: /* just outside */
      a = e + tol * (1.0 + helion_rng_double(&rng)) *
                  (helion_rng_below(&rng, 2) ? 1 : -1);
      break;
    case 2:
      a = is_int(t) ? e + (double)helion_rng_range(&rng, -3, 3) : NAN;
      break;
    case 3:
      if (!is_int(t)) {
        a = helion_rng_below(&rng, 2) ? INFINITY : -INFINITY;
        if (helion_rng_below(&rng, 2))
          helion_runner_store(t, expected, i, a); /* equal infinities */
      }
      break;
    default:
      break;
    }
    helion_runner_store(t, actual, i, a);
  }
}

static CUdeviceptr upload(const void *host, size_t bytes) {
  CUdeviceptr d = 0;
  if (drv->cuMemAlloc(&d, bytes) || drv->cuMemcpyHtoD(d, host, bytes)) {
    fprintf(stderr, "upload of %zu bytes failed\n", bytes);
    exit(1);
  }
  return d;
}

/* One comparison both ways; returns the GPU's time in ms. */
static double check(const char *what, helion_dtype t, const void *a,
                    const void *e, size_t n, double atol, double rtol,
                    double *cpu_ms) {
  size_t bytes = n * helion_dtype_size(t);
  CUdeviceptr da = upload(a, bytes), de = upload(e, bytes);
  helion_mismatch_t want, got;
  helion_run_fail_t fail;
  helion_err_t err = {""};
  double t0 = helion_now();
  helion_runner_compare(t, a, e, n, atol, rtol, &want);
  double t1 = helion_now();
  helion_status rc = helion_runner_compare_device(runner, t, da, de, n, atol,
                                                  rtol, &got, &fail, &err);
  double t2 = helion_now();
  drv->cuMemFree(da);
  drv->cuMemFree(de);
  if (cpu_ms)
    *cpu_ms = (t1 - t0) * 1e3;
  bool same_val = want.count == 0 ||
                  (memcmp(&want.actual, &got.actual, sizeof(double)) == 0 &&
                   memcmp(&want.expected, &got.expected, sizeof(double)) == 0);
  bool pass = rc == HELION_OK && fail.kind == HELION_RESULT_OK &&
              got.count == want.count && got.first == want.first && same_val;
  if (!pass)
    failures++;
  fprintf(stderr,
          "[%s] %-28s n=%zu  host: %zu failing, first %zu (%g vs %g)  "
          "gpu: %zu failing, first %zu (%g vs %g)%s%s\n",
          pass ? "PASS" : "FAIL", what, n, want.count, want.first,
          want.actual, want.expected, got.count, got.first, got.actual,
          got.expected, rc ? "  error: " : "", rc ? err.msg : fail.msg);
  return (t2 - t1) * 1e3;
}

int main(void) {
  helion_err_t err = {""};
  helion_gpu_info_t info;
  helion_status rc = helion_runner_create(0, &runner, &info, &err);
  if (rc == HELION_ERR_NO_DRIVER) {
    fprintf(stderr, "skipped: %s\n", err.msg);
    return 77;
  }
  if (rc) {
    fprintf(stderr, "creating the runner: %s\n", err.msg);
    return 1;
  }
  char msg[256];
  if (helion_cuda_driver(&drv, msg, sizeof(msg))) {
    fprintf(stderr, "%s\n", msg);
    return 1;
  }

  static const helion_dtype all[] = {
      HELION_DT_FLOAT, HELION_DT_DOUBLE, HELION_DT_HALF, HELION_DT_BF16,
      HELION_DT_I8,    HELION_DT_I16,    HELION_DT_I32,  HELION_DT_I64,
      HELION_DT_U8,    HELION_DT_U16,    HELION_DT_U32,  HELION_DT_U64};
  const size_t n = 100003;
  for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
    helion_dtype t = all[k];
    void *a = malloc(n * 8), *e = malloc(n * 8);
    if (!a || !e)
      return 1;
    for (int tol = 0; tol < 2; tol++) {
      double atol = tol ? 1e-2 : 1e-5, rtol = tol ? 1e-2 : 0;
      make_pair(t, n, atol, rtol, 1000 + k * 2 + (size_t)tol, a, e);
      char what[64];
      snprintf(what, sizeof(what), "%s atol %g rtol %g",
               helion_dtype_name(t), atol, rtol);
      check(what, t, a, e, n, atol, rtol, NULL);
    }
    /* Identical data: nothing fails (NaN-free). */
    make_pair(t, n, 0, 0, 7, a, e);
    char what[64];
    snprintf(what, sizeof(what), "%s against itself", helion_dtype_name(t));
    memcpy(a, e, n * helion_dtype_size(t));
    for (size_t i = 0; i < n && !is_int(t); i++)
      if (isnan(helion_runner_load(t, e, i)))
        helion_runner_store(t, a, i, 0), helion_runner_store(t, e, i, 0);
    check(what, t, a, e, n, 0, 0, NULL);
    free(a);
    free(e);
  }

  /* The matmul sample's output: 4096 x 4096 fp16, one element off. */
  size_t big = (size_t)4096 * 4096;
  uint16_t *a = malloc(big * 2), *e = malloc(big * 2);
  if (!a || !e)
    return 1;
  helion_runner_fill(HELION_DT_HALF, HELION_INIT_RANDN, 0, 0, 0, 3, 0, e, big);
  memcpy(a, e, big * 2);
  helion_runner_store(HELION_DT_HALF, a, big - 5, 1000.0);
  double cpu_ms = 0;
  double gpu_ms = check("fp16 4096x4096, one off", HELION_DT_HALF, a, e, big,
                        1e-2, 1e-2, &cpu_ms);
  /* Every element off (a wrong kernel): the count must be exact. */
  for (size_t i = 0; i < big; i++)
    a[i] = helion_f16_from_double(helion_f16_to_double(e[i]) + 8.0);
  check("fp16 4096x4096, all off", HELION_DT_HALF, a, e, big, 1e-2, 1e-2,
        NULL);
  free(a);
  free(e);
  helion_runner_destroy(runner);

  printf("\n| compare of a 4096x4096 fp16 output | ms |\n|---|---|\n");
  printf("| host (helion_runner_compare) | %.1f |\n", cpu_ms);
  printf("| GPU (helion_runner_compare_device) | "
         "%.1f |\n",
         gpu_ms);
  printf("\n%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
