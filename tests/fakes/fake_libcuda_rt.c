/*
 * fake_libcuda_rt.c: a test double of libcuda.so.1 for the runtime's launch
 * path (tests/unit/test_runtime.c), so module loading and launching are
 * tested on machines without a GPU.
 *
 * It has three devices and four contexts, a per-thread current context,
 * modules and functions from fixed pools, and records loads and launches.
 * Like the real driver it refuses a launch of a function from another
 * context and one asking for more dynamic shared memory than the function
 * allows. The test drives it through the fake_* functions (dlsym).
 */
#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NCTX 4
#define POOL 1024
#define STATIC_SMEM 1024 /* every fake function's static shared memory */

typedef struct fake_launch {
  const void *image; /* what cuModuleLoadData got */
  char entry[64];
  int ctx;
  unsigned grid[3], block[3], smem;
  void *stream;
  void **params;
} fake_launch_t;

static const struct {
  const char *name;
  int major, minor, smem_optin;
} devices[] = {
    {"Fake H100 \"SXM\" \\ test", 9, 0, 232448},
    {"Fake B200", 10, 0, 232448},
    {"Fake A100", 8, 0, 166912},
};

/* Contexts 0 and 1 are on device 0, 2 on device 1, 3 on device 2. */
struct fake_ctx {
  int device;
  unsigned long long id; /* guarded by lock: fake_recreate changes it */
};
static struct fake_ctx contexts[NCTX] = {{0, 1}, {0, 2}, {1, 3}, {2, 4}};
static unsigned long long next_id = 100;
static _Thread_local int current = -1;

struct fake_module {
  int ctx;
  unsigned long long ctx_id;
  const void *image;
};
struct fake_func {
  struct fake_module *module;
  char name[64];
  int max_dynamic_smem;
};
static struct fake_module modules[POOL];
static struct fake_func functions[POOL];
static unsigned nmodules, nfunctions;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long loads, launches;
static CUresult fail_next_load;
static fake_launch_t last;
static _Thread_local fake_launch_t thread_last;

/* ---------------------------------------------------- the test's controls */

void fake_set_current(int ctx);
void fake_recreate(int ctx);
long fake_loads(void);
long fake_launches(void);
void fake_last_launch(fake_launch_t *out);
void fake_thread_last_launch(fake_launch_t *out);
void fake_fail_next_load(int result);

/* -1: no current context on this thread. */
void fake_set_current(int ctx) {
  current = ctx;
}
/* Destroys ctx and creates one at the same address: a new id. */
void fake_recreate(int ctx) {
  pthread_mutex_lock(&lock);
  contexts[ctx].id = next_id++;
  pthread_mutex_unlock(&lock);
}
long fake_loads(void) {
  return atomic_load(&loads);
}
long fake_launches(void) {
  return atomic_load(&launches);
}
void fake_last_launch(fake_launch_t *out) {
  pthread_mutex_lock(&lock);
  *out = last;
  pthread_mutex_unlock(&lock);
}
void fake_thread_last_launch(fake_launch_t *out) {
  *out = thread_last;
}
void fake_fail_next_load(int result) {
  pthread_mutex_lock(&lock);
  fail_next_load = (CUresult)result;
  pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------ the driver */

static CUresult f_init(unsigned flags) {
  (void)flags;
  return CUDA_SUCCESS;
}
static CUresult f_driver_version(int *v) {
  *v = 13000;
  return CUDA_SUCCESS;
}
static CUresult f_error_name(CUresult r, const char **s) {
  switch (r) {
  case CUDA_ERROR_INVALID_VALUE:
    *s = "CUDA_ERROR_INVALID_VALUE";
    break;
  case CUDA_ERROR_INVALID_CONTEXT:
    *s = "CUDA_ERROR_INVALID_CONTEXT";
    break;
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
    *s = "CUDA_ERROR_NO_BINARY_FOR_GPU";
    break;
  case CUDA_ERROR_INVALID_HANDLE:
    *s = "CUDA_ERROR_INVALID_HANDLE";
    break;
  default:
    *s = "CUDA_ERROR_UNKNOWN";
  }
  return CUDA_SUCCESS;
}
static CUresult f_error_string(CUresult r, const char **s) {
  (void)r;
  *s = "fake driver error";
  return CUDA_SUCCESS;
}
static CUresult f_device_count(int *n) {
  *n = (int)(sizeof(devices) / sizeof(devices[0]));
  return CUDA_SUCCESS;
}
static CUresult f_device_name(char *name, int len, CUdevice dev) {
  snprintf(name, (size_t)len, "%s", devices[dev].name);
  return CUDA_SUCCESS;
}
static CUresult f_device_attr(int *v, CUdevice_attribute a, CUdevice dev) {
  switch (a) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *v = devices[dev].major;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *v = devices[dev].minor;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *v = 132;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *v = devices[dev].smem_optin;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR:
    *v = 65536;
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}
/* A CUcontext is the address of its entry in contexts[]. */
static CUresult f_ctx_get_current(CUcontext *ctx) {
  *ctx = current < 0 ? NULL : (CUcontext)(void *)&contexts[current];
  return CUDA_SUCCESS;
}
static CUresult f_ctx_get_id(CUcontext ctx, unsigned long long *id) {
  pthread_mutex_lock(&lock);
  *id = ((struct fake_ctx *)(void *)ctx)->id;
  pthread_mutex_unlock(&lock);
  return CUDA_SUCCESS;
}
static CUresult f_ctx_get_device(CUdevice *dev) {
  if (current < 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  *dev = contexts[current].device;
  return CUDA_SUCCESS;
}
static CUresult f_module_load(CUmodule *m, const void *image) {
  if (current < 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  CUresult r = CUDA_SUCCESS;
  pthread_mutex_lock(&lock);
  if (fail_next_load) {
    r = fail_next_load;
    fail_next_load = CUDA_SUCCESS;
  } else if (nmodules == POOL) {
    r = CUDA_ERROR_OUT_OF_MEMORY;
  } else {
    struct fake_module *mod = &modules[nmodules++];
    mod->ctx = current;
    mod->ctx_id = contexts[current].id;
    mod->image = image;
    *m = (CUmodule)(void *)mod;
    atomic_fetch_add(&loads, 1);
  }
  pthread_mutex_unlock(&lock);
  return r;
}
static CUresult f_module_unload(CUmodule m) {
  (void)m;
  return CUDA_SUCCESS;
}
static CUresult f_module_get_function(CUfunction *f, CUmodule m,
                                      const char *name) {
  CUresult r = CUDA_SUCCESS;
  if (strcmp(name, "missing_entry") == 0)
    return CUDA_ERROR_NOT_FOUND;
  pthread_mutex_lock(&lock);
  if (nfunctions == POOL) {
    r = CUDA_ERROR_OUT_OF_MEMORY;
  } else {
    struct fake_func *fn = &functions[nfunctions++];
    fn->module = (struct fake_module *)(void *)m;
    snprintf(fn->name, sizeof(fn->name), "%s", name);
    fn->max_dynamic_smem = 48 * 1024 - STATIC_SMEM;
    *f = (CUfunction)(void *)fn;
  }
  pthread_mutex_unlock(&lock);
  return r;
}
static CUresult f_func_get_attr(int *v, CUfunction_attribute a, CUfunction f) {
  struct fake_func *fn = (struct fake_func *)(void *)f;
  if (a == CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
    *v = STATIC_SMEM;
  else if (a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    *v = fn->max_dynamic_smem;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}
static CUresult f_func_set_attr(CUfunction f, CUfunction_attribute a, int v) {
  struct fake_func *fn = (struct fake_func *)(void *)f;
  if (a != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    return CUDA_ERROR_INVALID_VALUE;
  int dev = contexts[fn->module->ctx].device;
  if (v < 0 || v > devices[dev].smem_optin - STATIC_SMEM)
    return CUDA_ERROR_INVALID_VALUE;
  fn->max_dynamic_smem = v;
  return CUDA_SUCCESS;
}
static CUresult f_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                         unsigned bx, unsigned by, unsigned bz, unsigned smem,
                         CUstream stream, void **params, void **extra) {
  struct fake_func *fn = (struct fake_func *)(void *)f;
  if (current < 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!fn || extra)
    return CUDA_ERROR_INVALID_HANDLE;
  if ((int)smem > fn->max_dynamic_smem)
    return CUDA_ERROR_INVALID_VALUE;
  fake_launch_t l = {fn->module->image, "",   current, {gx, gy, gz},
                     {bx, by, bz},      smem, stream,  params};
  snprintf(l.entry, sizeof(l.entry), "%s", fn->name);
  CUresult r = CUDA_SUCCESS;
  pthread_mutex_lock(&lock);
  if (fn->module->ctx_id != contexts[current].id)
    r = CUDA_ERROR_INVALID_HANDLE; /* another (or a destroyed) context's */
  else
    last = l;
  pthread_mutex_unlock(&lock);
  if (r)
    return r;
  thread_last = l;
  atomic_fetch_add(&launches, 1);
  return CUDA_SUCCESS;
}
static CUresult f_unknown(void) {
  return CUDA_ERROR_UNKNOWN;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version,
                             cuuint64_t flags,
                             CUdriverProcAddressQueryResult *status);
CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version,
                             cuuint64_t flags,
                             CUdriverProcAddressQueryResult *status) {
  static const struct {
    const char *name;
    void (*fn)(void);
  } table[] = {
      {"cuInit", (void (*)(void))f_init},
      {"cuDriverGetVersion", (void (*)(void))f_driver_version},
      {"cuGetErrorName", (void (*)(void))f_error_name},
      {"cuGetErrorString", (void (*)(void))f_error_string},
      {"cuDeviceGetCount", (void (*)(void))f_device_count},
      {"cuDeviceGetName", (void (*)(void))f_device_name},
      {"cuDeviceGetAttribute", (void (*)(void))f_device_attr},
      {"cuCtxGetCurrent", (void (*)(void))f_ctx_get_current},
      {"cuCtxGetId", (void (*)(void))f_ctx_get_id},
      {"cuCtxGetDevice", (void (*)(void))f_ctx_get_device},
      {"cuModuleLoadData", (void (*)(void))f_module_load},
      {"cuModuleUnload", (void (*)(void))f_module_unload},
      {"cuModuleGetFunction", (void (*)(void))f_module_get_function},
      {"cuFuncGetAttribute", (void (*)(void))f_func_get_attr},
      {"cuFuncSetAttribute", (void (*)(void))f_func_set_attr},
      {"cuLaunchKernel", (void (*)(void))f_launch},
  };
  (void)version;
  (void)flags;
  if (status)
    *status = CU_GET_PROC_ADDRESS_SUCCESS;
  /* ISO C has no function-to-object pointer conversion; the driver's
   * contract is that *pfn holds the function's address. */
  void (*fn)(void) = (void (*)(void))f_unknown;
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (strcmp(symbol, table[i].name) == 0)
      fn = table[i].fn;
  memcpy(pfn, &fn, sizeof(fn));
  return CUDA_SUCCESS;
}
