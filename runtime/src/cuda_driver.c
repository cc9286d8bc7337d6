/* cuda_driver.c: dlopen libcuda and resolve the Driver API table once. */
#define _POSIX_C_SOURCE 200809L
#include "cuda_driver.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef CUresult (*get_proc_v2_fn)(const char *symbol, void **pfn,
                                   int cuda_version, cuuint64_t flags,
                                   CUdriverProcAddressQueryResult *status);
typedef CUresult (*get_proc_v1_fn)(const char *symbol, void **pfn,
                                   int cuda_version, cuuint64_t flags);

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static helion_status fail(char *msg, size_t n, helion_status rc,
                          const char *fmt, ...) {
  if (msg && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
  }
  return rc;
}

helion_status helion_cuda_driver_load(const char *path,
                                      helion_cuda_driver_t *out, char *msg,
                                      size_t msg_len) {
  helion_cuda_driver_t drv;
  memset(&drv, 0, sizeof(drv));
  dlerror();
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    return fail(msg, msg_len, HELION_ERR_NO_DRIVER,
                "no CUDA driver found: cannot load %s (%s); install the NVIDIA "
                "driver, or set HELION_LIBCUDA_PATH to libcuda.so.1",
                path, why ? why : "unknown error");
  }
  /* Drivers since 12.0 export the 5-argument cuGetProcAddress_v2; older ones
   * only the 4-argument form, which is fine for versions up to 12.0. */
  get_proc_v2_fn get_v2 = NULL;
  get_proc_v1_fn get_v1 = NULL;
  *(void **)&get_v2 = dlsym(lib, "cuGetProcAddress_v2");
  if (!get_v2)
    *(void **)&get_v1 = dlsym(lib, "cuGetProcAddress");
  if (!get_v2 && !get_v1) {
    dlclose(lib);
    return fail(msg, msg_len, HELION_ERR_NO_DRIVER,
                "no CUDA driver found: %s does not export cuGetProcAddress; "
                "it is not libcuda, or the driver is older than CUDA 11.3",
                path);
  }
#define HELION_CUDA_RESOLVE_(name, version)                                    \
  {                                                                            \
    void *fn = NULL;                                                           \
    CUresult r = get_v2 ? get_v2(#name, &fn, HELION_CUDA_API_VERSION,         \
                                 CU_GET_PROC_ADDRESS_DEFAULT, NULL)            \
                        : get_v1(#name, &fn, HELION_CUDA_API_VERSION,         \
                                 CU_GET_PROC_ADDRESS_DEFAULT);                 \
    if (r != CUDA_SUCCESS || !fn) {                                            \
      dlclose(lib);                                                            \
      return fail(msg, msg_len, HELION_ERR_NO_DRIVER,                          \
                  "CUDA driver %s lacks %s at API version 12.0; update the "   \
                  "NVIDIA driver (525 or later)",                              \
                  path, #name);                                                \
    }                                                                          \
    *(void **)&drv.name = fn;                                                  \
  }
  HELION_CUDA_FUNCTIONS(HELION_CUDA_RESOLVE_)
#undef HELION_CUDA_RESOLVE_
  if (drv.cuDriverGetVersion(&drv.driver_version) != CUDA_SUCCESS)
    drv.driver_version = 0;
  *out = drv;
  return HELION_OK;
}

static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
static helion_cuda_driver_t driver_table;
static helion_status driver_status;
static char driver_msg[512];

static void driver_init(void) {
  const char *path = getenv("HELION_LIBCUDA_PATH");
  if (!path || !*path)
    path = "libcuda.so.1";
  driver_status = helion_cuda_driver_load(path, &driver_table, driver_msg,
                                          sizeof(driver_msg));
  if (driver_status)
    return;
  CUresult r = driver_table.cuInit(0);
  if (r != CUDA_SUCCESS) {
    char what[256];
    helion_cuda_describe(&driver_table, r, what, sizeof(what));
    /* A driver without a usable device is, to the user, no GPU at all. */
    driver_status = r == CUDA_ERROR_NO_DEVICE ? HELION_ERR_NO_DRIVER
                                              : HELION_ERR_CUDA;
    snprintf(driver_msg, sizeof(driver_msg),
             "cuInit failed: %s; check that a GPU is visible "
             "(nvidia-smi, CUDA_VISIBLE_DEVICES)",
             what);
  }
}

helion_status helion_cuda_driver(const helion_cuda_driver_t **out, char *msg,
                                 size_t msg_len) {
  pthread_once(&driver_once, driver_init);
  if (driver_status) {
    if (msg && msg_len)
      snprintf(msg, msg_len, "%s", driver_msg);
    return driver_status;
  }
  *out = &driver_table;
  return HELION_OK;
}

void helion_cuda_describe(const helion_cuda_driver_t *drv, CUresult r,
                          char *out, size_t n) {
  const char *name = NULL, *text = NULL;
  if (drv && drv->cuGetErrorName)
    drv->cuGetErrorName(r, &name);
  if (drv && drv->cuGetErrorString)
    drv->cuGetErrorString(r, &text);
  if (name && text)
    snprintf(out, n, "%s: %s", name, text);
  else
    snprintf(out, n, "CUDA error %d", (int)r);
}
