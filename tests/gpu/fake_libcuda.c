/*
 * fake_libcuda.c: a test double of libcuda.so.1 that answers the device
 * queries only (the same fake H200 as tests/tools/fake_bench_worker.c), so
 * test_tune.sh can check on a machine without a GPU that a cache hit keys on
 * the driver's facts and starts no benchmark worker. Every other entry point
 * fails with CUDA_ERROR_UNKNOWN. Built by test_tune.sh:
 *   cc -shared -fPIC -o libcuda.so.1 fake_libcuda.c
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef int CUresult;
#define OK 0
#define UNKNOWN 999

static CUresult fake_init(unsigned flags) {
  (void)flags;
  return OK;
}
static CUresult fake_driver_version(int *v) {
  *v = 13000;
  return OK;
}
static CUresult fake_count(int *n) {
  *n = 1;
  return OK;
}
static CUresult fake_get(int *dev, int ordinal) {
  *dev = ordinal;
  return ordinal == 0 ? OK : UNKNOWN;
}
static CUresult fake_name(char *name, int len, int dev) {
  (void)dev;
  snprintf(name, (size_t)len, "fake H200 (test double, no CUDA)");
  return OK;
}
/* Attribute numbers of cuda.h: 75/76 compute capability, 16 SMs, 97 opt-in
 * shared memory per block, 82 registers per SM. */
static CUresult fake_attr(int *v, int attr, int dev) {
  (void)dev;
  switch (attr) {
  case 75:
    *v = 9;
    return OK;
  case 76:
    *v = 0;
    return OK;
  case 16:
    *v = 132;
    return OK;
  case 97:
    *v = 232448;
    return OK;
  case 82:
    *v = 65536;
    return OK;
  default:
    return UNKNOWN;
  }
}
static CUresult fake_error_name(CUresult r, const char **s) {
  (void)r;
  *s = "CUDA_ERROR_UNKNOWN";
  return OK;
}
static CUresult fake_unknown(void) {
  return UNKNOWN;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version,
                             uint64_t flags, int *status);
CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version,
                             uint64_t flags, int *status) {
  static const struct {
    const char *name;
    void *fn;
  } table[] = {
      {"cuInit", (void *)fake_init},
      {"cuDriverGetVersion", (void *)fake_driver_version},
      {"cuDeviceGetCount", (void *)fake_count},
      {"cuDeviceGet", (void *)fake_get},
      {"cuDeviceGetName", (void *)fake_name},
      {"cuDeviceGetAttribute", (void *)fake_attr},
      {"cuGetErrorName", (void *)fake_error_name},
      {"cuGetErrorString", (void *)fake_error_name},
  };
  (void)version;
  (void)flags;
  if (status)
    *status = 0;
  *pfn = (void *)fake_unknown;
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (strcmp(symbol, table[i].name) == 0)
      *pfn = table[i].fn;
  return OK;
}
