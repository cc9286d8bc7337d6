/*
 * launch.c: what a generated launcher does with the driver: find the calling
 * thread's CUDA context and its device (helion_enter, helion_current_device),
 * load a config's module once per context and launch it (helion_launch).
 *
 * Thread safety. Contexts are identified by cuCtxGetId, not by address: a
 * destroyed context's address can come back as another context, its id
 * never does. After a context's first call to a kernel, helion_enter is
 * cuCtxGetCurrent + cuCtxGetId + a scan of that kernel's slots with acquire
 * loads, and helion_launch one acquire load + cuLaunchKernel: no allocation,
 * no lock. First calls (a new kernel, a new context, a config not loaded yet
 * in this context) take a mutex, check again and publish what they built
 * with release stores, so concurrent first calls load a module once.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_driver.h"
#include "helion/runtime.h"
#include "kernel_state.h"

/* Devices (ordinals) whose facts the process caches. */
#define MAX_DEVICES 64

/* Guards the creation of kernel states and the device cache. */
static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;

/* Filled once per device under process_lock, then read only. */
static helion_device_t device_facts[MAX_DEVICES];
static atomic_int device_known[MAX_DEVICES];

/* ------------------------------------------------------------ driver calls */

/* The driver's "NAME: text" for r, prefixed by the kernel and the call. */
static helion_status cuda_failed(const helion_cuda_driver_t *drv,
                                 const char *who, const char *call,
                                 CUresult r) {
  char what[256];
  helion_cuda_describe(drv, r, what, sizeof(what));
  return helion_fail(HELION_ERR_CUDA, "%s: %s failed: %s", who, call, what);
}

/* The driver and the calling thread's current context and its id. */
static helion_status current_context(const char *who,
                                     const helion_cuda_driver_t **out_drv,
                                     CUcontext *out_ctx,
                                     unsigned long long *out_id) {
  const helion_cuda_driver_t *drv = NULL;
  char msg[512];
  helion_status rc = helion_cuda_driver(&drv, msg, sizeof(msg));
  if (rc)
    return helion_fail(rc, "%s: %s", who, msg);
  CUcontext ctx = NULL;
  CUresult r = drv->cuCtxGetCurrent(&ctx);
  if (r)
    return cuda_failed(drv, who, "cuCtxGetCurrent", r);
  if (!ctx)
    return helion_fail(HELION_ERR_CUDA,
                       "%s: no CUDA context is current on this thread; call "
                       "cudaSetDevice() (Runtime API) or cuCtxSetCurrent() "
                       "(Driver API) first",
                       who);
  unsigned long long id = 0;
  if ((r = drv->cuCtxGetId(ctx, &id)))
    return cuda_failed(drv, who, "cuCtxGetId", r);
  *out_drv = drv;
  *out_ctx = ctx;
  *out_id = id;
  return HELION_OK;
}

/* Queries the facts of `dev` (the driver's answers, nothing cached). */
static helion_status device_query(const helion_cuda_driver_t *drv,
                                  const char *who, CUdevice dev,
                                  helion_device_t *out) {
  static const struct {
    CUdevice_attribute attr;
    const char *name;
  } attrs[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
       "COMPUTE_CAPABILITY_MAJOR"},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
       "COMPUTE_CAPABILITY_MINOR"},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "MULTIPROCESSOR_COUNT"},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
       "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN"},
      {CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR,
       "MAX_REGISTERS_PER_MULTIPROCESSOR"},
  };
  int v[sizeof(attrs) / sizeof(attrs[0])];
  char call[96];
  memset(out, 0, sizeof(*out));
  CUresult r = drv->cuDeviceGetName(out->name, (int)sizeof(out->name), dev);
  if (r)
    return cuda_failed(drv, who, "cuDeviceGetName", r);
  for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
    if ((r = drv->cuDeviceGetAttribute(&v[i], attrs[i].attr, dev))) {
      snprintf(call, sizeof(call), "cuDeviceGetAttribute(%s)", attrs[i].name);
      return cuda_failed(drv, who, call, r);
    }
  }
  out->cc_major = v[0];
  out->cc_minor = v[1];
  out->num_sms = v[2];
  out->smem_per_block = v[3];
  out->regs_per_sm = v[4];
  return HELION_OK;
}

/* The cached facts of `dev`, queried on its first use in the process. A
 * failed query is not cached: the next call asks the driver again. */
static helion_status device_get(const helion_cuda_driver_t *drv,
                                const char *who, CUdevice dev,
                                const helion_device_t **out) {
  if (dev < 0 || dev >= MAX_DEVICES)
    return helion_fail(HELION_ERR_LIMIT,
                       "%s: CUDA device %d is beyond the %d devices the "
                       "runtime supports",
                       who, (int)dev, MAX_DEVICES);
  if (atomic_load_explicit(&device_known[dev], memory_order_acquire)) {
    *out = &device_facts[dev];
    return HELION_OK;
  }
  helion_status rc = HELION_OK;
  pthread_mutex_lock(&process_lock);
  if (!atomic_load_explicit(&device_known[dev], memory_order_relaxed)) {
    helion_device_t facts;
    rc = device_query(drv, who, dev, &facts);
    if (!rc) {
      device_facts[dev] = facts;
      atomic_store_explicit(&device_known[dev], 1, memory_order_release);
    }
  }
  pthread_mutex_unlock(&process_lock);
  if (!rc)
    *out = &device_facts[dev];
  return rc;
}

/* The facts of the current context's device. */
static helion_status context_device(const helion_cuda_driver_t *drv,
                                    const char *who,
                                    const helion_device_t **out) {
  CUdevice dev = 0;
  CUresult r = drv->cuCtxGetDevice(&dev);
  if (r)
    return cuda_failed(drv, who, "cuCtxGetDevice", r);
  return device_get(drv, who, dev, out);
}

helion_status helion_current_device(const helion_device_t **out) {
  const helion_cuda_driver_t *drv;
  CUcontext ctx;
  unsigned long long id;
  helion_status rc = current_context("helion", &drv, &ctx, &id);
  if (rc)
    return rc;
  return context_device(drv, "helion", out);
}

/* ----------------------------------------------------------- kernel state */

helion_status helion__kernel_get(const helion_kernel_desc_t *k,
                                 helion_kernel_state_t *st,
                                 helion__kernel_t **out) {
  /* st->impl is a plain void * (the public struct stays free of
   * <stdatomic.h>), so it is accessed with the compiler's atomic builtins. */
  helion__kernel_t *kern = __atomic_load_n(&st->impl, __ATOMIC_ACQUIRE);
  if (kern) {
    *out = kern;
    return HELION_OK;
  }
  helion_status rc = HELION_OK;
  pthread_mutex_lock(&process_lock);
  kern = __atomic_load_n(&st->impl, __ATOMIC_RELAXED);
  if (!kern) {
    kern = calloc(1, sizeof(*kern));
    if (!kern) {
      rc = helion_fail(HELION_ERR_NOMEM, "%s: out of memory for its state",
                       k->name);
    } else {
      pthread_mutex_init(&kern->lock, NULL);
      atomic_init(&kern->nslots, 0);
      __atomic_store_n(&st->impl, kern, __ATOMIC_RELEASE);
    }
  }
  pthread_mutex_unlock(&process_lock);
  if (!rc)
    *out = kern;
  return rc;
}

/* The complete slot of context `id`, or NULL. Lock-free. */
static helion__ctx_slot_t *slot_find(helion__kernel_t *kern,
                                     unsigned long long id) {
  unsigned n = atomic_load_explicit(&kern->nslots, memory_order_acquire);
  for (unsigned i = 0; i < n; i++)
    if (kern->slots[i].ctx_id == id)
      return &kern->slots[i];
  return NULL;
}

/* Fills the next slot for context `id`; kern->lock held. */
static helion_status slot_add(const helion_kernel_desc_t *k,
                              helion__kernel_t *kern,
                              const helion_cuda_driver_t *drv,
                              unsigned long long id, helion__ctx_slot_t **out) {
  unsigned n = atomic_load_explicit(&kern->nslots, memory_order_relaxed);
  if (n == HELION_MAX_CONTEXTS)
    return helion_fail(HELION_ERR_LIMIT,
                       "%s: launched from more than %d CUDA contexts in this "
                       "process (each context keeps its slot for the "
                       "process's life, destroyed ones too); reuse contexts, "
                       "e.g. the primary context (cudaSetDevice)",
                       k->name, HELION_MAX_CONTEXTS);
  const helion_device_t *dev = NULL;
  helion_status rc = context_device(drv, k->name, &dev);
  if (rc)
    return rc;
  size_t nfn = k->nconfigs ? k->nconfigs : 1;
  _Atomic(CUfunction) *fns = malloc(nfn * sizeof(*fns));
  if (!fns)
    return helion_fail(HELION_ERR_NOMEM,
                       "%s: out of memory for a context's function table",
                       k->name);
  for (size_t i = 0; i < nfn; i++)
    atomic_init(&fns[i], NULL);
  helion__ctx_slot_t *slot = &kern->slots[n];
  slot->ctx_id = id;
  slot->device = dev;
  slot->drv = drv;
  slot->kernel = kern;
  slot->functions = fns;
  atomic_store_explicit(&kern->nslots, n + 1, memory_order_release);
  *out = slot;
  return HELION_OK;
}

/* helion_enter's first call in a context: create what is missing. */
static helion_status enter_slow(const helion_kernel_desc_t *k,
                                helion_kernel_state_t *st,
                                const helion_cuda_driver_t *drv,
                                unsigned long long id,
                                helion__ctx_slot_t **out) {
  helion__kernel_t *kern = NULL;
  helion_status rc = helion__kernel_get(k, st, &kern);
  if (rc)
    return rc;
  pthread_mutex_lock(&kern->lock);
  helion__ctx_slot_t *slot = slot_find(kern, id);
  if (!slot)
    rc = slot_add(k, kern, drv, id, &slot);
  pthread_mutex_unlock(&kern->lock);
  if (!rc)
    *out = slot;
  return rc;
}

helion_status helion_enter(const helion_kernel_desc_t *k,
                           helion_kernel_state_t *st, helion_call_t *out) {
  const helion_cuda_driver_t *drv;
  CUcontext ctx;
  unsigned long long id;
  helion_status rc = current_context(k->name, &drv, &ctx, &id);
  if (rc)
    return rc;
  helion__kernel_t *kern = __atomic_load_n(&st->impl, __ATOMIC_ACQUIRE);
  helion__ctx_slot_t *slot = kern ? slot_find(kern, id) : NULL;
  if (!slot && (rc = enter_slow(k, st, drv, id, &slot)))
    return rc;
  out->device = slot->device;
  out->slot = slot;
  return HELION_OK;
}

/* ---------------------------------------------------------- module loading */

/*
 * The image of config c that runs on cc major.minor: the newest cubin of the
 * same major and a minor no newer than the device's (an arch-specific sm_XYa
 * cubin only on exactly X.Y, preferred there over the plain sm_XY one), else
 * the newest PTX no newer than the device, which the driver JIT-compiles.
 * NULL when none runs.
 */
static const helion_image_t *image_pick(const helion_config_desc_t *c,
                                        int major, int minor) {
  int dev_sm = major * 10 + minor;
  const helion_image_t *cubin = NULL, *ptx = NULL;
  for (unsigned i = 0; i < c->nimages; i++) {
    const helion_image_t *im = &c->images[i];
    if (im->is_ptx) {
      if (im->sm <= dev_sm && (!ptx || im->sm > ptx->sm))
        ptx = im;
      continue;
    }
    if (im->sm / 10 != major || im->sm % 10 > minor)
      continue;
    if (im->arch_specific && im->sm != dev_sm)
      continue;
    if (!cubin || im->sm > cubin->sm ||
        (im->sm == cubin->sm && im->arch_specific && !cubin->arch_specific))
      cubin = im;
  }
  return cubin ? cubin : ptx;
}

/* "sm_90, sm_90a, PTX compute_90" into buf. */
static void image_list(const helion_config_desc_t *c, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (unsigned i = 0; i < c->nimages && used < n; i++) {
    const helion_image_t *im = &c->images[i];
    int w = snprintf(buf + used, n - used, "%s%s%d%s", i ? ", " : "",
                     im->is_ptx ? "PTX compute_" : "sm_", im->sm,
                     im->arch_specific ? "a" : "");
    if (w < 0)
      break;
    used += (size_t)w;
  }
  if (!c->nimages)
    snprintf(buf, n, "no images");
}

/* The name of an image for messages: "sm_90 cubin", "compute_90 PTX". */
static void image_name(const helion_image_t *im, char *buf, size_t n) {
  snprintf(buf, n, "%s_%d%s %s", im->is_ptx ? "compute" : "sm", im->sm,
           im->arch_specific ? "a" : "", im->is_ptx ? "PTX" : "cubin");
}

/* Lets the function use the device's opt-in shared memory: without this,
 * configs above the default 48 KiB of dynamic shared memory fail to launch. */
static helion_status function_allow_smem(const helion_kernel_desc_t *k,
                                         const helion__ctx_slot_t *slot,
                                         CUfunction f) {
  const helion_cuda_driver_t *drv = slot->drv;
  int static_smem = 0;
  CUresult r = drv->cuFuncGetAttribute(&static_smem,
                                       CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f);
  if (r)
    return cuda_failed(drv, k->name, "cuFuncGetAttribute(SHARED_SIZE_BYTES)",
                       r);
  int64_t dyn = slot->device->smem_per_block - static_smem;
  if (dyn <= 0)
    return HELION_OK;
  r = drv->cuFuncSetAttribute(
      f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)dyn);
  if (r)
    return cuda_failed(drv, k->name,
                       "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", r);
  return HELION_OK;
}

/* Loads the module of `config` into the current context (slot's), gets its
 * entry function and prepares it; kern->lock held. On failure nothing is
 * kept, so the next call tries again. */
static helion_status module_load(const helion_kernel_desc_t *k,
                                 const helion__ctx_slot_t *slot, int config,
                                 CUfunction *out) {
  const helion_cuda_driver_t *drv = slot->drv;
  const helion_device_t *dev = slot->device;
  const helion_config_desc_t *c = &k->configs[config];
  const helion_image_t *im = image_pick(c, dev->cc_major, dev->cc_minor);
  if (!im) {
    char have[256];
    image_list(c, have, sizeof(have));
    return helion_fail(HELION_ERR_UNSUPPORTED,
                       "%s: config %d has no image for cc %d.%d (it has %s); "
                       "regenerate with --arch %d%d",
                       k->name, config, dev->cc_major, dev->cc_minor, have,
                       dev->cc_major, dev->cc_minor);
  }
  char name[48], call[128];
  image_name(im, name, sizeof(name));
  CUmodule mod = NULL;
  CUresult r = drv->cuModuleLoadData(&mod, im->data);
  if (r) {
    snprintf(call, sizeof(call), "cuModuleLoadData (config %d, %s)", config,
             name);
    return cuda_failed(drv, k->name, call, r);
  }
  CUfunction f = NULL;
  helion_status rc = HELION_OK;
  if ((r = drv->cuModuleGetFunction(&f, mod, k->entry))) {
    snprintf(call, sizeof(call), "cuModuleGetFunction(\"%s\") (config %d, %s)",
             k->entry, config, name);
    rc = cuda_failed(drv, k->name, call, r);
  } else {
    rc = function_allow_smem(k, slot, f);
  }
  if (rc) {
    drv->cuModuleUnload(mod);
    return rc;
  }
  *out = f;
  return HELION_OK;
}

/* helion_launch's first call of a config in a context. */
static helion_status function_load(const helion_kernel_desc_t *k,
                                   helion__ctx_slot_t *slot, int config,
                                   CUfunction *out) {
  helion__kernel_t *kern = slot->kernel;
  helion_status rc = HELION_OK;
  pthread_mutex_lock(&kern->lock);
  CUfunction f =
      atomic_load_explicit(&slot->functions[config], memory_order_relaxed);
  if (!f) {
    /* The module goes into the current context, so it must be the slot's:
     * a caller that switched contexts between enter and launch would
     * otherwise get a function another context cannot launch. */
    const helion_cuda_driver_t *drv;
    CUcontext ctx;
    unsigned long long id;
    rc = current_context(k->name, &drv, &ctx, &id);
    if (!rc && id != slot->ctx_id)
      rc = helion_fail(HELION_ERR_USAGE,
                       "%s: the current CUDA context changed between "
                       "helion_enter and helion_launch",
                       k->name);
    if (!rc)
      rc = module_load(k, slot, config, &f);
    if (!rc)
      atomic_store_explicit(&slot->functions[config], f, memory_order_release);
  }
  pthread_mutex_unlock(&kern->lock);
  if (!rc)
    *out = f;
  return rc;
}

/* Kept out of line: the hot path only pays for a call when a launch fails. */
static helion_status launch_failed(const helion_kernel_desc_t *k,
                                   const helion__ctx_slot_t *slot, int config,
                                   const uint32_t grid[3],
                                   const uint32_t block[3], uint32_t smem,
                                   CUresult r) {
  char what[256];
  helion_cuda_describe(slot->drv, r, what, sizeof(what));
  return helion_fail(HELION_ERR_CUDA,
                     "%s: cuLaunchKernel failed for config %d (grid %ux%ux%u, "
                     "block %ux%ux%u, %u bytes of dynamic shared memory): %s",
                     k->name, config, grid[0], grid[1], grid[2], block[0],
                     block[1], block[2], smem, what);
}

helion_status helion_launch(const helion_kernel_desc_t *k,
                            const helion_call_t *call, int config,
                            const uint32_t grid[3], const uint32_t block[3],
                            uint32_t smem, void *stream, void **args) {
  helion__ctx_slot_t *slot = call ? call->slot : NULL;
  if (!slot)
    return helion_fail(HELION_ERR_USAGE,
                       "%s: helion_launch without a successful helion_enter",
                       k->name);
  if (config < 0 || (unsigned)config >= k->nconfigs)
    return helion_fail(HELION_ERR_INVALID,
                       "%s: config %d does not exist (the kernel has %u)",
                       k->name, config, k->nconfigs);
  CUfunction f =
      atomic_load_explicit(&slot->functions[config], memory_order_acquire);
  helion_status rc;
  if (!f && (rc = function_load(k, slot, config, &f)))
    return rc;
  CUresult r = slot->drv->cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0],
                                         block[1], block[2], smem,
                                         (CUstream)stream, args, NULL);
  if (r)
    return launch_failed(k, slot, config, grid, block, smem, r);
  return HELION_OK;
}
