/*
 * runner.c: the worker side of runner.h: device buffers, checked runs,
 * comparison on the GPU and timing through the CUDA Driver API, in the
 * benchmark worker process only. The host side is runner_host.c.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include "backend/runner.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/nvrtc_compile.h"
#include "cuda_driver.h"
#include "util/util.h"

/* ---------------------------------------------------------------------------
 * Worker side: device buffers, checked runs, timing.
 */

/* Copies of the pointer arguments rotated by graph timing at most. */
#define MAX_COPIES 64
/* Events kept for one timing (two per repetition). */
#define MAX_EVENTS 20000

struct helion_runner_kernel {
  CUmodule mod;
  CUfunction fn;
  helion_launch_t launch;
  /* Graph timing, built on first use. */
  CUgraphExec graph;
  uint32_t graph_k;
  double est_ms;     /* kernel-only estimate; < 0 until measured */
  uint32_t est_reps; /* launches behind it: 5, or 2 for a clear cut */
  bool dead;         /* failed during interleaved timing */
  bool settled;      /* interleaved timing: its median is precise enough */
  uint32_t nt;       /* interleaved timing: rounds it ran */
  bool ran;          /* launched and waited for at least once */
  double unit_ms;    /* interleaved timing: flush + launch, estimated */
};

struct helion_runner {
  const helion_cuda_driver_t *drv;
  CUdevice dev;
  CUcontext ctx;
  CUstream stream;
  helion_gpu_info_t info;
  const helion_spec_t *spec;
  const helion_host_args_t *host;
  size_t nargs;
  /* copies * nargs device pointers (0 for scalars), copy 0 first. */
  CUdeviceptr *ptrs;
  size_t copies;
  void **params; /* copies * nargs pointers for cuLaunchKernel */
  /* per arg: device copy of the expected output, or 0 */
  CUdeviceptr *baseline;
  /* The compare kernel (compiled on first use) and its two counters. */
  CUmodule cmp_mod;
  CUfunction cmp_fn;
  CUdeviceptr cmp_out;
  CUdeviceptr flush;
  size_t flush_words;
  uint32_t flush_val;
  /* HELION_BENCH_COPIES: single launches rotate over this many argument
   * sets (1: copy 0 only); turn picks the next. */
  size_t rotate;
  size_t turn;
  CUevent *ev;
  size_t nev;
  double last_active; /* helion_now() when GPU work last ended; 0: never */
  double duty;        /* of the timing in progress (helion_timing_t.duty) */
  double rest_until;  /* helion_now() before which no timed work starts */
};

static void describe(helion_runner_t *r, CUresult res, const char *what,
                     char *out, size_t n) {
  char d[256];
  helion_cuda_describe(r ? r->drv : NULL, res, d, sizeof(d));
  /* A long description is cut, which is fine for a message. */
  int w = snprintf(out, n, "%s: ", what);
  if (w >= 0 && (size_t)w < n)
    snprintf(out + w, n - (size_t)w, "%.*s", (int)(n - (size_t)w - 1), d);
}

/* Errors that leave the context unusable. */
static bool sticky_code(CUresult res) {
  switch (res) {
  case CUDA_ERROR_ILLEGAL_ADDRESS:
  case CUDA_ERROR_MISALIGNED_ADDRESS:
  case CUDA_ERROR_LAUNCH_FAILED:
  case CUDA_ERROR_ILLEGAL_INSTRUCTION:
  case CUDA_ERROR_HARDWARE_STACK_ERROR:
  case CUDA_ERROR_INVALID_PC:
  case CUDA_ERROR_INVALID_ADDRESS_SPACE:
  case CUDA_ERROR_ASSERT:
  case CUDA_ERROR_LAUNCH_TIMEOUT:
  case CUDA_ERROR_ECC_UNCORRECTABLE:
  case CUDA_ERROR_CONTEXT_IS_DESTROYED:
  case CUDA_ERROR_UNKNOWN:
    return true;
  default:
    return false;
  }
}

/* Fills *fail for a failed CUDA step of a candidate and decides whether the
 * context survived: a known sticky code, or any error that a context-wide
 * synchronize still reports. */
static void set_fail(helion_runner_t *r, CUresult res, const char *what,
                     helion_run_fail_t *fail) {
  fail->kind = HELION_RESULT_RUNTIME;
  describe(r, res, what, fail->msg, sizeof(fail->msg));
  fail->sticky = sticky_code(res);
  if (!fail->sticky && r->drv->cuCtxSynchronize() != CUDA_SUCCESS)
    fail->sticky = true;
}

static helion_status cu_err(helion_runner_t *r, CUresult res, const char *what,
                            helion_err_t *err) {
  char d[512];
  describe(r, res, what, d, sizeof(d));
  return helion_err_set(err, HELION_ERR_CUDA, "%s", d);
}

helion_status helion_runner_create(int ordinal, helion_runner_t **out,
                                   helion_gpu_info_t *out_info,
                                   helion_err_t *err) {
  helion_status rc;
  char msg[512] = "";
  const helion_cuda_driver_t *drv = NULL;
  helion_runner_t *r = NULL;
  CUresult res;
  int count = 0, v = 0;
  rc = helion_cuda_driver(&drv, msg, sizeof(msg));
  if (rc)
    return helion_err_set(err, rc, "%s", msg);
  r = calloc(1, sizeof(*r));
  if (!r)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  r->drv = drv;
  res = drv->cuDeviceGetCount(&count);
  if (res) {
    rc = cu_err(r, res, "cuDeviceGetCount", err);
    goto out;
  }
  if (count == 0) {
    rc = helion_err_set(err, HELION_ERR_NO_DRIVER,
                        "no CUDA device found: the driver loaded but reports "
                        "0 devices; check nvidia-smi and CUDA_VISIBLE_DEVICES");
    goto out;
  }
  if (ordinal < 0 || ordinal >= count) {
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "CUDA device %d does not exist (%d visible); pick "
                        "0..%d",
                        ordinal, count, count - 1);
    goto out;
  }
  if ((res = drv->cuDeviceGet(&r->dev, ordinal)) ||
      (res = drv->cuDevicePrimaryCtxRetain(&r->ctx, r->dev))) {
    rc = cu_err(r, res, "creating the CUDA context", err);
    goto out;
  }
  if ((res = drv->cuCtxSetCurrent(r->ctx)) ||
      (res = drv->cuStreamCreate(&r->stream, CU_STREAM_NON_BLOCKING))) {
    rc = cu_err(r, res, "creating the CUDA stream", err);
    goto out;
  }
  helion_gpu_info_t *in = &r->info;
  in->ordinal = ordinal;
  in->device_count = count;
  in->driver_version = drv->driver_version;
  drv->cuDeviceGetName(in->props.name, (int)sizeof(in->props.name), r->dev);
#define ATTR(field, a)                                                         \
  do {                                                                         \
    v = 0;                                                                     \
    if ((res = drv->cuDeviceGetAttribute(&v, a, r->dev))) {                    \
      rc = cu_err(r, res, "cuDeviceGetAttribute(" #a ")", err);                \
      goto out;                                                                \
    }                                                                          \
    field = v;                                                                 \
  } while (0)
  ATTR(in->props.cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  ATTR(in->props.cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  ATTR(in->props.num_sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  ATTR(in->props.smem_per_block,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
  ATTR(in->props.regs_per_sm,
       CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR);
  ATTR(in->l2_bytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
  ATTR(in->max_threads_per_block, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  ATTR(in->smem_per_block_default,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
#undef ATTR
  {
    size_t total = 0;
    if ((res = drv->cuDeviceTotalMem(&total, r->dev))) {
      rc = cu_err(r, res, "cuDeviceTotalMem", err);
      goto out;
    }
    in->total_mem = (int64_t)total;
  }
  *out_info = r->info;
  *out = r;
  r = NULL;
out:
  helion_runner_destroy(r);
  return rc;
}

static void free_args(helion_runner_t *r) {
  for (size_t i = 0; r->ptrs && i < r->copies * r->nargs; i++)
    if (r->ptrs[i])
      r->drv->cuMemFree(r->ptrs[i]);
  free(r->ptrs);
  free(r->params);
  for (size_t i = 0; r->baseline && i < r->nargs; i++)
    if (r->baseline[i])
      r->drv->cuMemFree(r->baseline[i]);
  free(r->baseline);
  r->ptrs = NULL;
  r->params = NULL;
  r->baseline = NULL;
  r->copies = 0;
}

void helion_runner_destroy(helion_runner_t *r) {
  if (!r)
    return;
  if (r->ctx) {
    r->drv->cuCtxSetCurrent(r->ctx);
    free_args(r);
    if (r->flush)
      r->drv->cuMemFree(r->flush);
    if (r->cmp_out)
      r->drv->cuMemFree(r->cmp_out);
    if (r->cmp_mod)
      r->drv->cuModuleUnload(r->cmp_mod);
    for (size_t i = 0; i < r->nev; i++)
      r->drv->cuEventDestroy(r->ev[i]);
    if (r->stream)
      r->drv->cuStreamDestroy(r->stream);
    r->drv->cuDevicePrimaryCtxRelease(r->dev);
  }
  free(r->ev);
  free(r);
}

/* Points copy c's parameter array at its buffers and the host scalars. */
static void bind_params(helion_runner_t *r, size_t c) {
  for (size_t i = 0; i < r->nargs; i++) {
    size_t k = c * r->nargs + i;
    if (r->host->args[i].is_pointer)
      r->params[k] = &r->ptrs[k];
    else
      r->params[k] = (void *)&r->host->args[i].scalar;
  }
}

/* Grows the argument sets to `copies` (copy 0 stays), each initialised from
 * copy 0 on the device. */
static CUresult grow_copies(helion_runner_t *r, size_t copies) {
  if (copies <= r->copies)
    return CUDA_SUCCESS;
  CUdeviceptr *p = realloc(r->ptrs, copies * r->nargs * sizeof(*p));
  if (!p)
    return CUDA_ERROR_OUT_OF_MEMORY;
  r->ptrs = p;
  void **pa = realloc(r->params, copies * r->nargs * sizeof(*pa));
  if (!pa)
    return CUDA_ERROR_OUT_OF_MEMORY;
  r->params = pa;
  /* params[] points into ptrs[], which realloc may just have moved. */
  for (size_t c = 0; c < r->copies; c++)
    bind_params(r, c);
  memset(r->ptrs + r->copies * r->nargs, 0,
         (copies - r->copies) * r->nargs * sizeof(*p));
  for (size_t c = r->copies; c < copies; c++) {
    for (size_t i = 0; i < r->nargs; i++) {
      const helion_host_arg_t *ha = &r->host->args[i];
      CUdeviceptr *d = &r->ptrs[c * r->nargs + i];
      if (!ha->is_pointer || ha->bytes == 0)
        continue;
      CUresult res = r->drv->cuMemAlloc(d, ha->bytes);
      if (!res)
        res = r->drv->cuMemcpyDtoD(*d, r->ptrs[i], ha->bytes);
      if (res) {
        r->copies = c + 1; /* so free_args frees what exists */
        return res;
      }
    }
    r->copies = c + 1;
    bind_params(r, c);
  }
  /* Device-to-device copies do not block the host; the copies must be
   * complete before the runner's stream reads them. */
  return r->drv->cuCtxSynchronize();
}

/*
 * HELION_BENCH_COPIES=N (default 1): timed single launches rotate over N
 * argument sets at different device addresses, so a time is an average
 * over N placements of the buffers rather than one process's. An
 * experiment of issue 19 (a memory-bound winner read 2.5% apart in two
 * processes while the default config agreed).
 */
static helion_status rotate_copies(helion_runner_t *r, helion_err_t *err) {
  const char *v = getenv("HELION_BENCH_COPIES");
  int64_t n;
  r->rotate = 1;
  r->turn = 0;
  if (!v || !*v)
    return HELION_OK;
  if (!helion_env_int("HELION_BENCH_COPIES", &n) || n < 1 || n > MAX_COPIES)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "HELION_BENCH_COPIES: '%s' is not a count of "
                          "argument sets from 1 to %d",
                          v, MAX_COPIES);
  CUresult res = grow_copies(r, (size_t)n);
  if (res)
    return cu_err(r, res, "HELION_BENCH_COPIES: the argument sets", err);
  r->rotate = (size_t)n;
  return HELION_OK;
}

helion_status helion_runner_set_args(helion_runner_t *r,
                                     const helion_spec_t *spec,
                                     const helion_host_args_t *args,
                                     helion_err_t *err) {
  CUresult res;
  free_args(r);
  r->spec = spec;
  r->host = args;
  r->nargs = args->nargs;
  r->ptrs = calloc(r->nargs ? r->nargs : 1, sizeof(*r->ptrs));
  r->params = calloc(r->nargs ? r->nargs : 1, sizeof(*r->params));
  r->baseline = calloc(r->nargs ? r->nargs : 1, sizeof(*r->baseline));
  if (!r->ptrs || !r->params || !r->baseline)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  r->copies = 1;
  for (size_t i = 0; i < r->nargs; i++) {
    const helion_host_arg_t *ha = &args->args[i];
    if (!ha->is_pointer || ha->bytes == 0)
      continue;
    if ((res = r->drv->cuMemAlloc(&r->ptrs[i], ha->bytes)) ||
        (res = r->drv->cuMemcpyHtoD(r->ptrs[i], ha->data, ha->bytes))) {
      char what[300];
      snprintf(what, sizeof(what), "args[%zu] (%s): %zu bytes on the device", i,
               spec->args[i].name, ha->bytes);
      return cu_err(r, res, what, err);
    }
  }
  bind_params(r, 0);
  /* Copies from pageable memory may still be in flight on the legacy stream
   * when cuMemcpyHtoD returns, and the runner's stream does not wait for
   * it: wait here. */
  if ((res = r->drv->cuCtxSynchronize()))
    return cu_err(r, res, "uploading the arguments", err);
  if (!r->flush) {
    /* Twice the L2, and never under 64 MiB: writing it evicts every line
     * the previous run left, inputs and outputs alike. */
    size_t bytes = (size_t)r->info.l2_bytes * 2;
    if (bytes < ((size_t)64 << 20))
      bytes = (size_t)64 << 20;
    if ((res = r->drv->cuMemAlloc(&r->flush, bytes)) ||
        (res = r->drv->cuMemsetD32(r->flush, 0, bytes / 4)))
      return cu_err(r, res, "the L2 flush buffer", err);
    r->flush_words = bytes / 4;
  }
  return rotate_copies(r, err);
}

helion_status helion_runner_load_kernel(helion_runner_t *r, const void *image,
                                        size_t len, const char *entry,
                                        const helion_launch_t *launch,
                                        helion_runner_kernel_t **out,
                                        helion_run_fail_t *fail,
                                        helion_err_t *err) {
  CUresult res;
  int v = 0;
  (void)len;
  memset(fail, 0, sizeof(*fail));
  helion_runner_kernel_t *k = calloc(1, sizeof(*k));
  if (!k)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  k->launch = *launch;
  k->est_ms = -1;
  if ((res = r->drv->cuModuleLoadData(&k->mod, image))) {
    set_fail(r, res, "cuModuleLoadData", fail);
    goto fail;
  }
  if ((res = r->drv->cuModuleGetFunction(&k->fn, k->mod, entry))) {
    char what[300];
    snprintf(what, sizeof(what), "kernel '%s' not in the module", entry);
    set_fail(r, res, what, fail);
    goto fail;
  }
  if (launch->shared_mem > (uint32_t)r->info.smem_per_block_default) {
    if ((int64_t)launch->shared_mem > r->info.props.smem_per_block) {
      fail->kind = HELION_RESULT_RUNTIME;
      snprintf(fail->msg, sizeof(fail->msg),
               "%u bytes of dynamic shared memory exceed the device's "
               "%lld per block",
               launch->shared_mem, (long long)r->info.props.smem_per_block);
      goto fail;
    }
    res = r->drv->cuFuncSetAttribute(
        k->fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
        (int)launch->shared_mem);
    if (res) {
      set_fail(r, res, "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
               fail);
      goto fail;
    }
  }
  if (!r->drv->cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
                                  k->fn)) {
    uint64_t threads =
        (uint64_t)launch->block[0] * launch->block[1] * launch->block[2];
    if (threads > (uint64_t)v) {
      fail->kind = HELION_RESULT_RUNTIME;
      snprintf(fail->msg, sizeof(fail->msg),
               "a block of %llu threads exceeds the kernel's limit of %d "
               "(registers per thread)",
               (unsigned long long)threads, v);
      goto fail;
    }
  }
  *out = k;
  return HELION_OK;
fail:
  helion_runner_unload_kernel(r, k);
  *out = NULL;
  return HELION_OK;
}

void helion_runner_unload_kernel(helion_runner_t *r,
                                 helion_runner_kernel_t *k) {
  if (!k)
    return;
  if (k->graph)
    r->drv->cuGraphExecDestroy(k->graph);
  if (k->mod)
    r->drv->cuModuleUnload(k->mod);
  free(k);
}

static CUresult launch(helion_runner_t *r, helion_runner_kernel_t *k,
                       size_t copy) {
  const helion_launch_t *l = &k->launch;
  return r->drv->cuLaunchKernel(
      k->fn, l->grid[0], l->grid[1], l->grid[2], l->block[0], l->block[1],
      l->block[2], l->shared_mem, r->stream, &r->params[copy * r->nargs], NULL);
}

/* The flush writes the buffer, as Triton and Helion do. (Reading it
 * instead, which leaves the L2 clean, was tried in issue 19: the softmax
 * sample's time across processes spread 2.36% against 0.72%.) */
static CUresult flush_l2(helion_runner_t *r) {
  /* A new value each time, so no layer can skip the write. */
  return r->drv->cuMemsetD32Async(r->flush, ++r->flush_val, r->flush_words,
                                  r->stream);
}

/* The rests are owed, not taken at once: a burst of GPU work that began at
 * `since` and has been waited for owes busy x (1 - duty) / duty of idle
 * time, which the next burst waits out (pay_rest) unless the time has
 * passed already: the host work between configs (results to the parent,
 * the next module's load) and the waits for compiles count as rest. */
static void owe_rest(helion_runner_t *r, double since) {
  double now = helion_now();
  if (r->duty < 1)
    r->rest_until = now + fmin((now - since) * (1.0 - r->duty) / r->duty, 1.0);
}

/* Waits out the rest owed; returns helion_now(), the start of the next
 * burst. */
static double pay_rest(helion_runner_t *r) {
  double s = r->rest_until - helion_now();
  if (s > 20e-6) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  return helion_now();
}

/* Compiles and loads the compare kernel (and the read flush) once per
 * runner. */
static helion_status need_compare(helion_runner_t *r, helion_err_t *err) {
  if (r->cmp_fn)
    return HELION_OK;
  char arch[16];
  snprintf(arch, sizeof(arch), "sm_%d%d", r->info.props.cc_major,
           r->info.props.cc_minor);
  helion_nvrtc_input_t in = {helion__runner_kernels_src, "helion_compare.cu",
                             arch, "--fmad=false", "helion_compare"};
  helion_nvrtc_result_t out;
  helion_nvrtc_result_init(&out);
  helion_status rc = helion_nvrtc_compile(&in, &out, err);
  if (rc) {
    helion_nvrtc_result_cleanup(&out);
    return rc;
  }
  CUresult res = r->drv->cuModuleLoadData(&r->cmp_mod, out.cubin);
  helion_nvrtc_result_cleanup(&out);
  if (!res)
    res = r->drv->cuModuleGetFunction(&r->cmp_fn, r->cmp_mod, "helion_compare");
  if (!res && !r->cmp_out)
    res = r->drv->cuMemAlloc(&r->cmp_out, 2 * sizeof(uint64_t));
  if (res) {
    r->cmp_fn = NULL;
    return cu_err(r, res, "loading the output compare kernel", err);
  }
  return HELION_OK;
}

/* Element i of the device array at p, read back and converted. */
static CUresult fetch_elem(helion_runner_t *r, helion_dtype t, CUdeviceptr p,
                           size_t i, double *out) {
  uint64_t raw = 0;
  size_t sz = helion_dtype_size(t);
  CUresult res = r->drv->cuMemcpyDtoH(&raw, p + i * sz, sz);
  if (!res)
    *out = helion_runner_load(t, &raw, 0);
  return res;
}

helion_status helion_runner_compare_device(
    helion_runner_t *r, helion_dtype t, unsigned long long actual,
    unsigned long long expected, size_t numel, double atol, double rtol,
    helion_mismatch_t *out, helion_run_fail_t *fail, helion_err_t *err) {
  helion_status rc;
  CUresult res;
  const char *what = "comparing the outputs";
  uint64_t counters[2];
  memset(out, 0, sizeof(*out));
  memset(fail, 0, sizeof(*fail));
  if (numel == 0)
    return HELION_OK;
  if ((rc = need_compare(r, err)))
    return rc;
  unsigned long long n = numel;
  int dtype = (int)t;
  void *params[] = {&actual, &expected, &n, &dtype, &atol, &rtol, &r->cmp_out};
  /* Enough blocks to fill the device; each thread strides over the rest. */
  uint64_t blocks = (numel + 255) / 256;
  uint64_t cap = (uint64_t)r->info.props.num_sms * 8;
  if (blocks > cap)
    blocks = cap;
  /* count = 0, first = ~0, on the stream the kernel runs on. */
  if ((res = r->drv->cuMemsetD32Async(r->cmp_out, 0, 2, r->stream)) ||
      (res = r->drv->cuMemsetD32Async(r->cmp_out + 8, 0xFFFFFFFFu, 2,
                                      r->stream)) ||
      (res = r->drv->cuLaunchKernel(r->cmp_fn, (unsigned)blocks, 1, 1, 256, 1,
                                    1, 0, r->stream, params, NULL)) ||
      (res = r->drv->cuStreamSynchronize(r->stream)) ||
      (res = r->drv->cuMemcpyDtoH(counters, r->cmp_out, sizeof(counters))))
    goto failed;
  out->count = (size_t)counters[0];
  if (out->count) {
    out->first = (size_t)counters[1];
    what = "reading the first mismatch";
    if ((res = fetch_elem(r, t, actual, out->first, &out->actual)) ||
        (res = fetch_elem(r, t, expected, out->first, &out->expected)))
      goto failed;
  }
  return HELION_OK;
failed:
  set_fail(r, res, what, fail);
  return HELION_OK;
}

helion_status helion_runner_run_checked(helion_runner_t *r,
                                        helion_runner_kernel_t *k,
                                        bool keep_as_baseline,
                                        helion_run_fail_t *fail,
                                        helion_err_t *err) {
  CUresult res = CUDA_SUCCESS;
  const char *what = "";
  memset(fail, 0, sizeof(*fail));
  pay_rest(r); /* the rest the last timing owes (helion_timing_t.duty) */
  for (size_t i = 0; i < r->nargs; i++) {
    const helion_spec_arg_t *sa = &r->spec->args[i];
    const helion_host_arg_t *ha = &r->host->args[i];
    if (!ha->is_pointer || ha->bytes == 0 || sa->is_const)
      continue;
    /* Outputs without init are poisoned (NaN for floats) so unwritten
     * elements fail the check; everything else a kernel may write is reset
     * to its initial data so every run sees the same inputs. */
    if (sa->init == HELION_INIT_NONE) {
      what = "poisoning the outputs";
      res = r->drv->cuMemsetD8Async(r->ptrs[i], 0xFF, ha->bytes, r->stream);
    } else {
      what = "restoring the inputs";
      res = r->drv->cuStreamSynchronize(r->stream);
      if (!res)
        res = r->drv->cuMemcpyHtoD(r->ptrs[i], ha->data, ha->bytes);
    }
    if (res)
      goto failed;
  }
  /* The restores ran on the legacy stream (see set_args). */
  what = "restoring the inputs";
  if ((res = r->drv->cuCtxSynchronize()))
    goto failed;
  what = "cuLaunchKernel";
  if ((res = launch(r, k, 0)))
    goto failed;
  what = "running the kernel";
  if ((res = r->drv->cuStreamSynchronize(r->stream)))
    goto failed;
  k->ran = true;
  for (size_t i = 0; i < r->nargs; i++) {
    const helion_spec_arg_t *sa = &r->spec->args[i];
    const helion_host_arg_t *ha = &r->host->args[i];
    if (!sa->output || !ha->is_pointer || ha->bytes == 0)
      continue;
    if (keep_as_baseline) {
      what = "keeping the baseline output";
      if (!r->baseline[i] &&
          (res = r->drv->cuMemAlloc(&r->baseline[i], ha->bytes))) {
        char w[300];
        snprintf(w, sizeof(w),
                 "a device copy of the baseline output %s (%zu bytes)",
                 sa->name, ha->bytes);
        return cu_err(r, res, w, err);
      }
      if ((res = r->drv->cuMemcpyDtoD(r->baseline[i], r->ptrs[i], ha->bytes)))
        goto failed;
      continue;
    }
    if (!r->baseline[i])
      continue;
    helion_mismatch_t m;
    helion_status rc = helion_runner_compare_device(
        r, sa->dtype, r->ptrs[i], r->baseline[i], ha->numel, r->spec->atol,
        r->spec->rtol, &m, fail, err);
    if (rc || fail->kind)
      return rc;
    if (m.count) {
      fail->kind = HELION_RESULT_ACCURACY;
      snprintf(fail->msg, sizeof(fail->msg),
               "output %s: %zu of %zu elements differ beyond atol %g + rtol "
               "%g * |expected|; first at index %zu: got %.9g, expected %.9g",
               sa->name, m.count, ha->numel, r->spec->atol, r->spec->rtol,
               m.first, m.actual, m.expected);
      return HELION_OK;
    }
  }
  if (keep_as_baseline) {
    /* cuMemcpyDtoD runs on the legacy stream; have it done before the next
     * poisoning on the runner's stream. */
    what = "keeping the baseline output";
    if ((res = r->drv->cuCtxSynchronize()))
      goto failed;
  }
  return HELION_OK;
failed:
  set_fail(r, res, what, fail);
  return HELION_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts v and returns its median. */
static double median(double *v, size_t n) {
  qsort(v, n, sizeof(*v), cmp_double);
  if (n == 0)
    return INFINITY;
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static CUresult need_events(helion_runner_t *r, size_t n) {
  if (n <= r->nev)
    return CUDA_SUCCESS;
  CUevent *e = realloc(r->ev, n * sizeof(*e));
  if (!e)
    return CUDA_ERROR_OUT_OF_MEMORY;
  r->ev = e;
  while (r->nev < n) {
    CUresult res = r->drv->cuEventCreate(&r->ev[r->nev], CU_EVENT_DEFAULT);
    if (res)
      return res;
    r->nev++;
  }
  return CUDA_SUCCESS;
}

static void timing_defaults(const helion_timing_t *in, helion_timing_t *t) {
  helion_timing_t d = {.warmup_ms = 1.0,
                       .rep_ms = 50.0,
                       .graph_us = 10.0,
                       .min_reps = 5,
                       .max_reps = 10000,
                       .precision = 0.005,
                       .duty = HELION_TIMING_DEFAULT_DUTY};
  *t = in ? *in : d;
  if (t->warmup_ms <= 0)
    t->warmup_ms = d.warmup_ms;
  if (t->rep_ms <= 0)
    t->rep_ms = d.rep_ms;
  if (t->graph_us <= 0)
    t->graph_us = d.graph_us;
  if (t->min_reps == 0)
    t->min_reps = d.min_reps;
  if (t->max_reps == 0 || t->max_reps > MAX_EVENTS / 2)
    t->max_reps = t->max_reps ? MAX_EVENTS / 2 : d.max_reps;
  if (t->min_reps > t->max_reps)
    t->min_reps = t->max_reps;
  if (t->precision == 0)
    t->precision = d.precision;
  if (!(t->duty > 0) || t->duty > 1)
    t->duty = d.duty;
}

/* The longest burst of timed GPU work between rests (helion_timing_t.duty):
 * well inside the 20-40 ms an H100 runs a GEMM at full power before its
 * power cap acts. */
#define BURST_MS 5.0

/* Rounds of interleaved timing between precision checks, and before the
 * first one. */
#define CHECK_ROUNDS 10

/* One repetition unit: a single launch, or one replay of the kernel's
 * graph. */
static CUresult run_unit(helion_runner_t *r, helion_runner_kernel_t *k) {
  if (k->graph)
    return r->drv->cuGraphLaunch(k->graph, r->stream);
  return launch(r, k, r->rotate > 1 ? r->turn++ % r->rotate : 0);
}

/* Estimates the kernel alone (median of 5 event-timed launches, each after a
 * flush) and the cost of flush + launch per repetition. With cut_ms > 0, a
 * kernel whose first two launches both take over cut_ms stops there (their
 * mean is its estimate): it is going to be cut, and a slow kernel's three
 * more launches are the costliest part of its measurement. */
static CUresult estimate(helion_runner_t *r, helion_runner_kernel_t *k,
                         double cut_ms, double *out_unit_ms) {
  CUresult res;
  double kt[5];
  float f;
  int n = 5;
  double since = pay_rest(r);
  if ((res = need_events(r, 16)))
    return res;
  for (int i = 0; i < 5; i++) {
    if ((res = r->drv->cuEventRecord(r->ev[3 * i], r->stream)) ||
        (res = flush_l2(r)) ||
        (res = r->drv->cuEventRecord(r->ev[3 * i + 1], r->stream)) ||
        (res = run_unit(r, k)) ||
        (res = r->drv->cuEventRecord(r->ev[3 * i + 2], r->stream)))
      return res;
    if (i != 1 || !(cut_ms > 0) || k->graph)
      continue;
    if ((res = r->drv->cuEventSynchronize(r->ev[5])))
      return res;
    for (int j = 0; j < 2; j++) {
      if ((res = r->drv->cuEventElapsedTime(&f, r->ev[3 * j + 1],
                                            r->ev[3 * j + 2])))
        return res;
      kt[j] = f;
    }
    if (kt[0] > cut_ms && kt[1] > cut_ms) {
      n = 2;
      break;
    }
  }
  if ((res = r->drv->cuEventSynchronize(r->ev[3 * n - 1])))
    return res;
  owe_rest(r, since);
  for (int i = 0; i < n; i++) {
    if ((res = r->drv->cuEventElapsedTime(&f, r->ev[3 * i + 1],
                                          r->ev[3 * i + 2])))
      return res;
    kt[i] = f;
  }
  if ((res = r->drv->cuEventElapsedTime(&f, r->ev[0], r->ev[3 * n - 1])))
    return res;
  *out_unit_ms = f / n;
  if (!k->graph) {
    k->est_ms = median(kt, (size_t)n);
    k->est_reps = (uint32_t)n;
  }
  return CUDA_SUCCESS;
}

/* Captures K launches of k into a graph, rotating over the argument copies
 * so inputs that fit in L2 are not re-read warm. */
static CUresult build_graph(helion_runner_t *r, helion_runner_kernel_t *k) {
  CUresult res;
  CUgraph g = NULL;
  double k_f = 0.5 / (k->est_ms > 1e-6 ? k->est_ms : 1e-6);
  uint32_t kk = k_f < 8 ? 8 : k_f > 512 ? 512 : (uint32_t)k_f;
  size_t copies = 1;
  size_t set = r->host->total_bytes;
  if (set > 0 && set < (size_t)r->info.l2_bytes * 2) {
    size_t free_b = 0, total_b = 0;
    copies = ((size_t)r->info.l2_bytes * 2 + set - 1) / set + 1;
    if (copies > MAX_COPIES)
      copies = MAX_COPIES;
    if (copies > kk)
      copies = kk;
    /* Leave at least half the free memory alone. */
    if (!r->drv->cuMemGetInfo(&free_b, &total_b) && set * copies > free_b / 2)
      copies = free_b / 2 / set > 1 ? free_b / 2 / set : 1;
  }
  if ((res = grow_copies(r, copies)))
    return res;
  if ((res = r->drv->cuStreamBeginCapture(r->stream,
                                          CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)))
    return res;
  for (uint32_t i = 0; i < kk && !res; i++)
    res = launch(r, k, i % copies);
  CUresult end = r->drv->cuStreamEndCapture(r->stream, &g);
  if (!res)
    res = end;
  if (!res)
    res = r->drv->cuGraphInstantiateWithFlags(&k->graph, g, 0);
  if (g)
    r->drv->cuGraphDestroy(g);
  if (res) {
    k->graph = NULL;
    return res;
  }
  k->graph_k = kk;
  return CUDA_SUCCESS;
}

/* The GPU lowers its clocks when idle and takes tens of milliseconds to
 * raise them again, so the first timings after a pause (the baseline of a
 * fresh process, a rebenchmark after the search's own work) would catch
 * the ramp. After SETTLE_IDLE_S without GPU work the kernel runs, each
 * launch after an L2 flush, in chunks of about SETTLE_CHUNK_MS until a
 * chunk is no faster per launch than the one before (within 0.5%), at
 * least three chunks and at most SETTLE_MAX_MS. */
#define SETTLE_IDLE_S 0.5
#define SETTLE_CHUNK_MS 5.0
#define SETTLE_MAX_MS 300.0

static CUresult settle_clocks(helion_runner_t *r, helion_runner_kernel_t *k) {
  CUresult res;
  if (helion_now() - r->last_active < SETTLE_IDLE_S)
    return CUDA_SUCCESS;
  if ((res = need_events(r, 2)))
    return res;
  uint32_t n = 4, chunks = 0;
  double prev = INFINITY, first = 0, per = 0, spent = 0;
  float f;
  while (spent < SETTLE_MAX_MS) {
    double since = pay_rest(r);
    if ((res = r->drv->cuEventRecord(r->ev[0], r->stream)))
      return res;
    for (uint32_t i = 0; i < n; i++)
      if ((res = flush_l2(r)) || (res = run_unit(r, k)))
        return res;
    if ((res = r->drv->cuEventRecord(r->ev[1], r->stream)) ||
        (res = r->drv->cuEventSynchronize(r->ev[1])) ||
        (res = r->drv->cuEventElapsedTime(&f, r->ev[0], r->ev[1])))
      return res;
    owe_rest(r, since);
    spent += f;
    per = f / n;
    if (chunks++ == 0)
      first = per;
    if (chunks >= 3 && per >= prev * 0.995)
      break;
    prev = per;
    double want = SETTLE_CHUNK_MS / (per > 1e-6 ? per : 1e-6);
    n = want < 4 ? 4 : want > 4096 ? 4096 : (uint32_t)want;
  }
  if (helion_env_flag("HELION_BENCH_PROFILE"))
    fprintf(stderr,
            "runner: clocks settled in %.1f ms, %u chunks: %.4f -> %.4f ms "
            "per launch\n",
            spent, chunks, first, per);
  return CUDA_SUCCESS;
}

/* Decides between single launches and a graph, building the graph when
 * needed. A graph that cannot be built falls back to single launches. */
static CUresult prepare(helion_runner_t *r, helion_runner_kernel_t *k,
                        const helion_timing_t *t, double *unit_ms) {
  CUresult res;
  /* Untimed: the first launch pays for module upload and caches (the
   * checked run, when there was one, has paid already: a slow config's
   * launch is the costliest part of its measurement). */
  if (!k->ran) {
    if ((res = launch(r, k, 0)) ||
        (res = r->drv->cuStreamSynchronize(r->stream)))
      return res;
    k->ran = true;
  }
  if ((res = settle_clocks(r, k)))
    return res;
  if ((res = estimate(r, k, t->cutoff_ms, unit_ms)))
    return res;
  if (!k->graph && k->est_ms * 1000.0 < t->graph_us) {
    if (build_graph(r, k) == CUDA_SUCCESS) {
      if ((res = r->drv->cuGraphLaunch(k->graph, r->stream)) ||
          (res = r->drv->cuStreamSynchronize(r->stream)) ||
          (res = estimate(r, k, 0, unit_ms)))
        return res;
    } else if ((res = r->drv->cuCtxSynchronize())) {
      return res;
    }
  }
  return CUDA_SUCCESS;
}

/* Queues repetitions [from, to) of k, each an L2 flush and an event-timed
 * unit, and waits for them. */
static CUresult run_reps(helion_runner_t *r, helion_runner_kernel_t *k,
                         uint32_t from, uint32_t to) {
  CUresult res = CUDA_SUCCESS;
  for (uint32_t i = from; i < to && !res; i++)
    if (!(res = flush_l2(r)) &&
        !(res = r->drv->cuEventRecord(r->ev[2 * i], r->stream)) &&
        !(res = run_unit(r, k)))
      res = r->drv->cuEventRecord(r->ev[2 * i + 1], r->stream);
  return res ? res : r->drv->cuStreamSynchronize(r->stream);
}

helion_status helion_runner_time(helion_runner_t *r, helion_runner_kernel_t *k,
                                 const helion_timing_t *tin,
                                 helion_timed_t *out, helion_run_fail_t *fail,
                                 helion_err_t *err) {
  helion_timing_t t;
  CUresult res;
  const char *what = "timing";
  double unit_ms = 0, *times = NULL, *tmp = NULL;
  double t0 = helion_now(), t1;
  float f;
  memset(fail, 0, sizeof(*fail));
  timing_defaults(tin, &t);
  r->duty = t.duty;
  if ((res = prepare(r, k, &t, &unit_ms)))
    goto failed;
  if (t.cutoff_ms > 0 && !k->graph && k->est_ms > t.cutoff_ms) {
    memset(out, 0, sizeof(*out));
    out->ms = out->min_ms = k->est_ms;
    out->reps = k->est_reps;
    out->copies = 1;
    out->cut = true;
    out->stop = HELION_TIMING_CUT;
    r->last_active = helion_now();
    out->warm_ms = (r->last_active - t0) * 1e3;
    return HELION_OK;
  }
  double est = unit_ms > 1e-6 ? unit_ms : 1e-6;
  uint32_t n_warm =
      t.warmup_ms / est < 1 ? 1 : (uint32_t)fmin(t.warmup_ms / est, 1e6);
  double want = t.rep_ms / est;
  uint32_t n = want < t.min_reps   ? t.min_reps
               : want > t.max_reps ? t.max_reps
                                   : (uint32_t)want;
  if ((res = need_events(r, 2 * (size_t)n)))
    goto failed;
  double since = pay_rest(r); /* the warm-up joins the first chunk */
  for (uint32_t i = 0; i < n_warm; i++)
    if ((res = flush_l2(r)) || (res = run_unit(r, k)))
      goto failed;
  times = malloc(n * sizeof(*times));
  tmp = malloc(n * sizeof(*tmp));
  if (!times || !tmp) {
    free(times);
    free(tmp);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  t1 = helion_now();
  /* In chunks: with an incumbent of at most HELION_TIMING_STOP_CHUNK
   * repetitions, each followed by the stop rule; with rests (duty < 1) of
   * at most BURST_MS; else all n at once. */
  what = "running the kernel";
  double div = k->graph ? (double)k->graph_k : 1.0;
  uint32_t chunk = n;
  if (t.duty < 1) {
    double fit = BURST_MS / est;
    chunk = fit < 1 ? 1 : fit < n ? (uint32_t)fit : n;
  }
  if (t.incumbent_ms > 0 && chunk > HELION_TIMING_STOP_CHUNK)
    chunk = HELION_TIMING_STOP_CHUNK;
  uint32_t done = 0;
  helion_timing_stop stop = HELION_TIMING_FULL;
  while (done < n && stop == HELION_TIMING_FULL) {
    uint32_t to = n - done > chunk ? done + chunk : n;
    if (done > 0)
      since = pay_rest(r);
    if ((res = run_reps(r, k, done, to)))
      goto failed;
    owe_rest(r, since);
    for (; done < to; done++) {
      if ((res = r->drv->cuEventElapsedTime(&f, r->ev[2 * done],
                                            r->ev[2 * done + 1])))
        goto failed;
      times[done] = f / div;
    }
    if (t.incumbent_ms > 0 && done < n)
      stop = helion_runner_stop_rule(times, done, t.incumbent_ms, t.precision,
                                     tmp);
  }
  helion_timed_t o;
  memset(&o, 0, sizeof(o));
  n = done;
  o.ms = median(times, n); /* sorts */
  o.min_ms = times[0];
  o.spread =
      o.ms > 0
          ? (times[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1] - times[n / 4]) / o.ms
          : 0;
  o.reps = n;
  o.graph_k = k->graph ? k->graph_k : 0;
  o.copies = k->graph ? (uint32_t)r->copies : 1;
  o.stop = stop;
  r->last_active = helion_now();
  o.warm_ms = (t1 - t0) * 1e3;
  o.timed_ms = (r->last_active - t1) * 1e3;
  *out = o;
  free(times);
  free(tmp);
  return HELION_OK;
failed:
  free(times);
  free(tmp);
  set_fail(r, res, what, fail);
  return HELION_OK;
}

helion_status helion_runner_time_interleaved(
    helion_runner_t *r, helion_runner_kernel_t **ks, size_t n, uint32_t repeat,
    const helion_timing_t *tin, double *out_ms, uint32_t *out_rounds,
    helion_run_fail_t *fail, helion_err_t *err) {
  helion_timing_t t;
  CUresult res = CUDA_SUCCESS;
  double *times = NULL, *tmp = NULL, unit;
  uint32_t rounds = 0;
  float f;
  memset(fail, 0, sizeof(*fail));
  timing_defaults(tin, &t);
  r->duty = t.duty;
  if (repeat == 0)
    repeat = 1;
  for (size_t j = 0; j < n; j++) {
    out_ms[j] = INFINITY;
    if (!ks[j])
      continue;
    ks[j]->settled = false;
    ks[j]->nt = 0;
    /* A kernel that fails alone (not sticky) is dropped; a sticky failure
     * ends the whole call. */
    unit = 0;
    res = prepare(r, ks[j], &t, &unit);
    ks[j]->unit_ms = unit;
    if (res) {
      set_fail(r, res, "rebench warm-up", fail);
      if (fail->sticky)
        goto out;
      memset(fail, 0, sizeof(*fail));
      ks[j]->dead = true;
    }
  }
  times = malloc(n * (size_t)repeat * sizeof(*times));
  tmp = malloc((size_t)repeat * sizeof(*tmp));
  if (!times || !tmp) {
    free(times);
    free(tmp);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  if ((res = need_events(r, 2 * n))) {
    set_fail(r, res, "cuEventCreate", fail);
    goto out;
  }
  /* Every round runs each kernel still in play once. With a precision,
   * every CHECK_ROUNDS rounds a kernel whose median is known well enough
   * leaves the rounds; the call ends when none is left. With rests, a
   * round longer than BURST_MS is waited for and rested in parts. */
  bool active = true;
  for (uint32_t round = 0; round < repeat && active; round++) {
    double since = pay_rest(r), queued = 0;
    for (size_t j = 0; j < n; j++) {
      if (!ks[j] || ks[j]->dead || ks[j]->settled)
        continue;
      if (t.duty < 1 && queued > 0 && queued + ks[j]->unit_ms > BURST_MS) {
        if ((res = r->drv->cuStreamSynchronize(r->stream)))
          break;
        owe_rest(r, since);
        since = pay_rest(r);
        queued = 0;
      }
      queued += ks[j]->unit_ms;
      if ((res = flush_l2(r)) ||
          (res = r->drv->cuEventRecord(r->ev[2 * j], r->stream)) ||
          (res = run_unit(r, ks[j])) ||
          (res = r->drv->cuEventRecord(r->ev[2 * j + 1], r->stream)))
        break;
    }
    if (!res)
      res = r->drv->cuStreamSynchronize(r->stream);
    if (res) {
      set_fail(r, res, "rebench", fail);
      goto out;
    }
    owe_rest(r, since);
    rounds = round + 1;
    bool check = t.precision > 0 && rounds % CHECK_ROUNDS == 0;
    active = false;
    for (size_t j = 0; j < n; j++) {
      helion_runner_kernel_t *k = ks[j];
      if (!k || k->dead || k->settled)
        continue;
      if ((res = r->drv->cuEventElapsedTime(&f, r->ev[2 * j],
                                            r->ev[2 * j + 1]))) {
        set_fail(r, res, "cuEventElapsedTime", fail);
        goto out;
      }
      times[j * repeat + k->nt++] = f / (k->graph ? (double)k->graph_k : 1.0);
      if (check)
        k->settled = helion_runner_median_settled(times + j * repeat, k->nt,
                                                  t.precision, tmp);
      active = active || !k->settled;
    }
  }
  for (size_t j = 0; j < n; j++)
    if (ks[j] && !ks[j]->dead)
      out_ms[j] = median(times + j * repeat, ks[j]->nt);
out:
  r->last_active = helion_now();
  if (fail->kind)
    for (size_t j = 0; j < n; j++)
      out_ms[j] = INFINITY;
  if (out_rounds)
    *out_rounds = rounds;
  free(times);
  free(tmp);
  return HELION_OK;
}
