/* test_cuda_driver.c: loading the CUDA driver at run time, with and without
 * one. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "cuda_driver.h"

static void test_cuda_driver_missing_library(void **state) {
  (void)state;
  helion_cuda_driver_t drv;
  char msg[512] = "";
  helion_status rc = helion_cuda_driver_load("/nonexistent/libcuda.so.1", &drv,
                                             msg, sizeof(msg));
  assert_int_equal(rc, HELION_ERR_NO_DRIVER);
  const char *want = "no CUDA driver found: cannot load /nonexistent/libcuda.so.1 (";
  assert_memory_equal(msg, want, strlen(want));
  assert_non_null(strstr(msg, "set HELION_LIBCUDA_PATH to libcuda.so.1"));
}

static void test_cuda_driver_not_libcuda(void **state) {
  (void)state;
  /* zlib is always present (the tool links it) and is certainly not libcuda. */
  helion_cuda_driver_t drv;
  char msg[512] = "";
  helion_status rc =
      helion_cuda_driver_load("libz.so.1", &drv, msg, sizeof(msg));
  assert_int_equal(rc, HELION_ERR_NO_DRIVER);
  assert_string_equal(msg,
                      "no CUDA driver found: libz.so.1 does not export "
                      "cuGetProcAddress; it is not libcuda, or the driver is "
                      "older than CUDA 11.3");
}

/* The cached entry point honours HELION_LIBCUDA_PATH and reports the same
 * status on every call. Runs in its own process (ctest), so the env var is
 * read here first. */
static void test_cuda_driver_env_override(void **state) {
  (void)state;
  setenv("HELION_LIBCUDA_PATH", "/nonexistent/libcuda-test.so", 1);
  const helion_cuda_driver_t *drv = NULL;
  char msg[512] = "";
  for (int i = 0; i < 2; i++) {
    assert_int_equal(helion_cuda_driver(&drv, msg, sizeof(msg)),
                     HELION_ERR_NO_DRIVER);
    assert_null(drv);
    assert_non_null(strstr(msg, "/nonexistent/libcuda-test.so"));
  }
}

/* Where a real driver is installed, every entry point resolves. */
static void test_cuda_driver_real_driver_resolves(void **state) {
  (void)state;
  void *probe = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!probe) {
    skip();
    return;
  }
  dlclose(probe);
  helion_cuda_driver_t drv;
  char msg[512] = "";
  assert_int_equal(helion_cuda_driver_load("libcuda.so.1", &drv, msg,
                                           sizeof(msg)),
                   HELION_OK);
#define CHECK_(name, version) assert_non_null(drv.name);
  HELION_CUDA_FUNCTIONS(CHECK_)
#undef CHECK_
  assert_true(drv.driver_version >= 12000);
}

static void test_cuda_driver_describe_without_driver(void **state) {
  (void)state;
  char out[64];
  helion_cuda_describe(NULL, CUDA_ERROR_ILLEGAL_ADDRESS, out, sizeof(out));
  assert_string_equal(out, "CUDA error 700");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cuda_driver_missing_library),
      cmocka_unit_test(test_cuda_driver_not_libcuda),
      cmocka_unit_test(test_cuda_driver_env_override),
      cmocka_unit_test(test_cuda_driver_real_driver_resolves),
      cmocka_unit_test(test_cuda_driver_describe_without_driver),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
