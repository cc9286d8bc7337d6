/*
 * test_samples.c: runs the rmsnorm, transpose, matmul and (on sm_90)
 * matmul_wgmma samples on the GPU
 * and compares each with a CPU reference: the default configuration and a
 * few seeded random valid ones (plus, for the matmul, the configurations it
 * is meant to win with), compiled with NVRTC for the device's architecture
 * and launched with the grid of the spec's launch expressions. Prints one
 * row per run: sample, shape, config, max abs error, pass/fail.
 *
 * Exit 0 when every row passes, 1 on a failure, 77 (skip) without a CUDA
 * driver or device. With --bench it also times the matmul at 4096^3 (the
 * default and the listed configurations, or the JSON configurations given
 * after --bench) and rmsnorm and transpose at 4096 x 4096, and prints
 * TFLOP/s and GB/s (median of 20 launches; L2 not flushed); no timing is
 * ever asserted. HELION_SAMPLES_ONLY_BENCH=1 skips the checks.
 *
 * Inputs are made the way the spec says (init: randn, rand, ...) from a
 * fixed seed ($HELION_SAMPLES_SEED overrides it), rounded to the argument's
 * type; the CPU reference reads the same rounded values.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "cuda_driver.h"
#include "backend/nvrtc_compile.h"
#include "backend/runner.h"
#include "model/space.h"
#include "model/spec.h"

#define SKIP 77
#define RANDOM_CONFIGS 4 /* per sample and shape, besides the default */

static const helion_cuda_driver_t *drv;
static helion_device_props_t dev;
static char arch[16];
static int failures;

/* ------------------------------------------------------------ a problem */

/* One spec at one shape: inputs on host and device, the reference output. */
typedef struct problem {
  helion_spec_t *spec;
  char *source;
  int64_t shape[8];
  helion_space_t *space;
  size_t out_arg;            /* index of the output argument */
  helion_host_args_t args;   /* the runner's argument data (runner.h) */
  float **host;              /* per pointer argument: values as float */
  CUdeviceptr *dptr;         /* per pointer argument */
  float *ref;                /* the reference output */
} problem_t;

static void die(const char *what, const char *msg) {
  fprintf(stderr, "test_samples: %s: %s\n", what, msg);
  exit(1);
}

static void check_cu(CUresult r, const char *what) {
  if (r != CUDA_SUCCESS) {
    char msg[256];
    helion_cuda_describe(drv, r, msg, sizeof(msg));
    die(what, msg);
  }
}

typedef void (*reference_fn)(problem_t *p);

/* Loads the spec, builds the space for `shape` ("M=512,N=512,K=512"),
 * makes the inputs and computes the reference. */
static void problem_open(problem_t *p, const char *name, const char *shape,
                         uint64_t seed, reference_fn reference) {
  const char *root = getenv("HELION_SOURCE_DIR");
  if (!root)
    die("HELION_SOURCE_DIR", "not set; run through ctest or set it to the "
                             "source tree");
  char path[4096];
  snprintf(path, sizeof(path), "%s/samples/%s/%s.json", root, name, name);
  helion_err_t err = {0};
  memset(p, 0, sizeof(*p));
  if (helion_spec_load(path, &p->spec, &err) != HELION_OK)
    die(path, err.msg);
  size_t len = 0;
  if (helion_read_file(p->spec->source, (size_t)1 << 20, &p->source, &len,
                       &err) != HELION_OK)
    die(p->spec->source, err.msg);
  if (p->spec->nkeys > 8 ||
      helion_spec_parse_shape(p->spec, shape, p->shape, &err) != HELION_OK)
    die(shape, err.msg);
  if (helion_spec_space(p->spec, p->shape, &dev, &p->space, &err) != HELION_OK)
    die(path, err.msg);

  size_t n = p->spec->nargs;
  p->host = calloc(n, sizeof(*p->host));
  p->dptr = calloc(n, sizeof(*p->dptr));
  helion_num_t *vals = calloc(p->spec->nscope, sizeof(*vals));
  if (!p->host || !p->dptr || !vals)
    die(name, "out of memory");
  /* The same argument data the benchmark worker builds (runner.h). */
  helion_launch_scope(p->spec, p->space, p->shape, &dev, NULL, vals);
  if (helion_host_args_init(p->spec, vals, seed, &p->args, &err) != HELION_OK)
    die(name, err.msg);
  for (size_t a = 0; a < n; a++) {
    const helion_spec_arg_t *arg = &p->spec->args[a];
    const helion_host_arg_t *ha = &p->args.args[a];
    if (!ha->is_pointer)
      continue;
    if (arg->output)
      p->out_arg = a;
    p->host[a] = malloc((ha->numel ? ha->numel : 1) * sizeof(float));
    if (!p->host[a])
      die(arg->name, "out of memory");
    for (size_t i = 0; i < ha->numel; i++)
      p->host[a][i] = (float)helion_runner_load(arg->dtype, ha->data, i);
    if (ha->bytes) {
      check_cu(drv->cuMemAlloc(&p->dptr[a], ha->bytes), "cuMemAlloc");
      check_cu(drv->cuMemcpyHtoD(p->dptr[a], ha->data, ha->bytes),
               "cuMemcpyHtoD");
    }
  }
  free(vals);
  p->ref = malloc(p->args.args[p->out_arg].numel * sizeof(float));
  if (!p->ref)
    die(name, "out of memory");
  reference(p);
}

static void problem_close(problem_t *p) {
  for (size_t a = 0; a < p->spec->nargs; a++) {
    if (p->dptr[a])
      drv->cuMemFree(p->dptr[a]);
    free(p->host[a]);
  }
  helion_host_args_cleanup(&p->args);
  free(p->host);
  free(p->dptr);
  free(p->ref);
  helion_space_destroy(p->space);
  free(p->source);
  helion_spec_destroy(p->spec);
}

/* ------------------------------------------------------- CPU references */

static int64_t key(const problem_t *p, const char *name) {
  for (size_t i = 0; i < p->spec->nkeys; i++)
    if (strcmp(p->spec->keys[i], name) == 0)
      return p->shape[i];
  die(name, "not a key of the spec");
  return 0;
}

/* Y = X / sqrt(mean(X^2) + eps) * W per row, in double. Args X, W, Y, M, N,
 * eps. */
static void ref_rmsnorm(problem_t *p) {
  const int64_t M = key(p, "M"), N = key(p, "N");
  const float *x = p->host[0], *w = p->host[1];
  float eps;
  memcpy(&eps, &p->args.args[5].scalar, sizeof(eps)); /* a float scalar */
  for (int64_t r = 0; r < M; r++) {
    double ss = 0.0;
    for (int64_t c = 0; c < N; c++)
      ss += (double)x[r * N + c] * x[r * N + c];
    const double inv = 1.0 / sqrt(ss / (double)N + (double)eps);
    for (int64_t c = 0; c < N; c++)
      p->ref[r * N + c] = (float)(x[r * N + c] * inv * w[c]);
  }
}

/* Y[c, r] = X[r, c]. Args X, Y, M, N. */
static void ref_transpose(problem_t *p) {
  const int64_t M = key(p, "M"), N = key(p, "N");
  for (int64_t r = 0; r < M; r++)
    for (int64_t c = 0; c < N; c++)
      p->ref[c * M + r] = p->host[0][r * N + c];
}

/* C = A @ B with A [M, K], B [K, N], in double. Args A, B, C, M, N, K. */
static void ref_matmul(problem_t *p) {
  const int64_t M = key(p, "M"), N = key(p, "N"), K = key(p, "K");
  const float *a = p->host[0], *b = p->host[1];
  double *row = malloc((size_t)N * sizeof(double));
  if (!row)
    die("matmul", "out of memory");
  for (int64_t m = 0; m < M; m++) {
    for (int64_t n = 0; n < N; n++)
      row[n] = 0.0;
    for (int64_t k = 0; k < K; k++) {
      const double av = a[m * K + k];
      const float *br = b + k * N;
      for (int64_t n = 0; n < N; n++)
        row[n] += av * br[n];
    }
    for (int64_t n = 0; n < N; n++)
      p->ref[m * N + n] = (float)row[n];
  }
  free(row);
}

/* C = A @ B^T with A [M, K], B [N, K], in double (matmul_wgmma). */
static void ref_matmul_nt(problem_t *p) {
  const int64_t M = key(p, "M"), N = key(p, "N"), K = key(p, "K");
  const float *a = p->host[0], *b = p->host[1];
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; k++)
        acc += (double)a[m * K + k] * b[n * K + k];
      p->ref[m * N + n] = (float)acc;
    }
}

/* ------------------------------------------------------ compile, launch */

/* A compiled, launchable configuration. */
typedef struct kernel {
  CUmodule mod;
  CUfunction fn;
  helion_launch_t launch;
} kernel_t;

/* Compiles and loads `cells`; computes the launch geometry. False (with a
 * message in why) when NVRTC or the driver refuses it. */
static bool kernel_build(const problem_t *p, const int64_t *cells, kernel_t *k,
                         char *why, size_t why_len) {
  memset(k, 0, sizeof(*k));
  helion_buf_t defs;
  helion_buf_init(&defs, HELION_BUF_DEFAULT_MAX);
  if (helion_config_defines(p->space, cells, &defs) != HELION_OK)
    die(p->spec->name, "config defines");
  char file[128];
  snprintf(file, sizeof(file), "%s.cu", p->spec->name);
  char target[24];
  helion_nvrtc_target(arch, p->spec->arch_specific, target, sizeof(target));
  helion_nvrtc_input_t in = {p->source, file, target, helion_buf_str(&defs),
                             p->spec->entry};
  helion_nvrtc_result_t res;
  helion_nvrtc_result_init(&res);
  helion_err_t err = {0};
  bool ok = false;
  if (helion_nvrtc_compile(&in, &res, &err) != HELION_OK) {
    snprintf(why, why_len, "%s", err.msg);
    goto out;
  }
  CUresult r = drv->cuModuleLoadData(&k->mod, res.cubin);
  if (r == CUDA_SUCCESS)
    r = drv->cuModuleGetFunction(&k->fn, k->mod, p->spec->entry);
  if (r != CUDA_SUCCESS) {
    helion_cuda_describe(drv, r, why, why_len);
    goto out;
  }

  /* The geometry the tuner launches with (runner.h): grid from
   * launch.tiles, persistent pid types capped at num_sms * multiplier. */
  helion_num_t *vals = calloc(p->spec->nscope, sizeof(*vals));
  if (!vals)
    die(p->spec->name, "out of memory");
  helion_launch_scope(p->spec, p->space, p->shape, &dev, cells, vals);
  helion_status lrc =
      helion_launch_eval(p->spec, vals, &k->launch, &err);
  free(vals);
  if (lrc != HELION_OK) {
    snprintf(why, why_len, "%s", err.msg);
    goto out;
  }
  if (k->launch.shared_mem > 48 * 1024) {
    r = drv->cuFuncSetAttribute(k->fn,
                                CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                (int)k->launch.shared_mem);
    if (r != CUDA_SUCCESS) {
      helion_cuda_describe(drv, r, why, why_len);
      goto out;
    }
  }
  ok = true;
out:
  helion_nvrtc_result_cleanup(&res);
  helion_buf_cleanup(&defs);
  return ok;
}

static void kernel_free(kernel_t *k) {
  if (k->mod)
    drv->cuModuleUnload(k->mod);
  memset(k, 0, sizeof(*k));
}

static CUresult kernel_launch(const problem_t *p, const kernel_t *k) {
  void *params[32];
  size_t n = p->spec->nargs;
  if (n > 32)
    die(p->spec->name, "more than 32 arguments");
  /* Scalars are stored little end first, so a pointer to the 64-bit slot
   * is a pointer to the int32/float/... value. */
  for (size_t a = 0; a < n; a++)
    params[a] = p->args.args[a].is_pointer ? (void *)&p->dptr[a]
                                           : (void *)&p->args.args[a].scalar;
  const helion_launch_t *l = &k->launch;
  return drv->cuLaunchKernel(k->fn, l->grid[0], l->grid[1], l->grid[2],
                             l->block[0], l->block[1], l->block[2],
                             l->shared_mem, NULL, params, NULL);
}

/* ------------------------------------------------------------- checking */

/* Runs `cells`, compares with the reference, prints one row. */
static void run_config(problem_t *p, const char *shape, const int64_t *cells) {
  helion_buf_t json;
  helion_buf_init(&json, HELION_BUF_DEFAULT_MAX);
  if (helion_config_to_json(p->space, cells, true, &json) != HELION_OK)
    die(p->spec->name, "config json");
  const char *cfg = helion_buf_str(&json);
  bool is_default = memcmp(cells, p->space->default_cells,
                           p->space->ncells * sizeof(*cells)) == 0;
  char why[1024] = "";
  double max_err = 0.0;
  bool pass = false;
  kernel_t k;
  const helion_spec_arg_t *out = &p->spec->args[p->out_arg];
  helion_host_arg_t *oa = &p->args.args[p->out_arg];
  size_t cnt = oa->numel;
  size_t bytes = oa->bytes;
  if (kernel_build(p, cells, &k, why, sizeof(why))) {
    /* Poison the output: 0xFF bytes are NaN in every float type, so an
     * element the kernel never writes fails the comparison. */
    check_cu(drv->cuMemsetD8(p->dptr[p->out_arg], 0xff, bytes), "cuMemsetD8");
    CUresult r = kernel_launch(p, &k);
    if (r == CUDA_SUCCESS)
      r = drv->cuCtxSynchronize();
    if (r != CUDA_SUCCESS) {
      /* An illegal address poisons the context: nothing after it can be
       * trusted, so stop here. */
      helion_cuda_describe(drv, r, why, sizeof(why));
      printf("%-10s %-22s %-60s %12s  FAIL (%s)\n", p->spec->name, shape, cfg,
             "-", why);
      exit(1);
    }
    check_cu(drv->cuMemcpyDtoH(oa->data, p->dptr[p->out_arg], bytes),
             "cuMemcpyDtoH");
    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < cnt; i++) {
      double got = helion_runner_load(out->dtype, oa->data, i);
      double want = p->ref[i];
      double e = fabs(got - want);
      if (!(e <= p->spec->atol + p->spec->rtol * fabs(want))) {
        if (!bad)
          first_bad = i;
        bad++;
      }
      if (e > max_err || isnan(e))
        max_err = isnan(e) ? INFINITY : e;
    }
    pass = bad == 0;
    if (!pass)
      snprintf(why, sizeof(why),
               "%zu of %zu elements off; first [%zu] got "
               "%g want %g",
               bad, cnt, first_bad,
               helion_runner_load(out->dtype, oa->data, first_bad),
               (double)p->ref[first_bad]);
    kernel_free(&k);
  }
  printf("%-10s %-22s %-60s %12.3e  %s%s%s%s\n", p->spec->name, shape,
         is_default ? "default" : cfg, max_err, pass ? "pass" : "FAIL",
         pass ? "" : " (", why, pass ? "" : ")");
  fflush(stdout);
  if (!pass)
    failures++;
  helion_buf_cleanup(&json);
}

/* The default, the listed configurations (JSON, partial) and RANDOM_CONFIGS
 * random valid ones. */
static void check_sample(const char *name, const char *shape,
                         reference_fn reference, const char *const *extra,
                         size_t nextra, uint64_t seed) {
  problem_t p;
  problem_open(&p, name, shape, seed, reference);
  int64_t *cells = calloc(p.space->ncells, sizeof(*cells));
  if (!cells)
    die(name, "out of memory");
  run_config(&p, shape, p.space->default_cells);
  for (size_t i = 0; i < nextra; i++) {
    helion_err_t err = {0};
    if (helion_config_from_json(p.space, extra[i], cells, &err) != HELION_OK)
      die(extra[i], err.msg);
    if (!helion_space_valid(p.space, cells))
      die(extra[i], "not valid at this shape");
    run_config(&p, shape, cells);
  }
  helion_rng_t rng;
  helion_rng_seed(&rng, seed ^ 0x9e3779b97f4a7c15u);
  for (int i = 0; i < RANDOM_CONFIGS; i++) {
    if (helion_space_random(p.space, &rng, 0, cells) != HELION_OK)
      die(name, "no valid random configuration");
    run_config(&p, shape, cells);
  }
  free(cells);
  problem_close(&p);
}

/* ---------------------------------------------------------------- bench */

/* Median of `reps` timed launches after warm-up, in milliseconds. */
static double time_config(problem_t *p, const int64_t *cells) {
  kernel_t k;
  char why[1024];
  if (!kernel_build(p, cells, &k, why, sizeof(why))) {
    printf("  cannot build: %s\n", why);
    return NAN;
  }
  enum { REPS = 20 };
  double ms[REPS];
  CUevent a, b;
  check_cu(drv->cuEventCreate(&a, CU_EVENT_DEFAULT), "cuEventCreate");
  check_cu(drv->cuEventCreate(&b, CU_EVENT_DEFAULT), "cuEventCreate");
  for (int i = 0; i < 3; i++)
    check_cu(kernel_launch(p, &k), "launch");
  for (int i = 0; i < REPS; i++) {
    check_cu(drv->cuEventRecord(a, NULL), "cuEventRecord");
    check_cu(kernel_launch(p, &k), "launch");
    check_cu(drv->cuEventRecord(b, NULL), "cuEventRecord");
    check_cu(drv->cuEventSynchronize(b), "cuEventSynchronize");
    float t = 0.0f;
    check_cu(drv->cuEventElapsedTime(&t, a, b), "cuEventElapsedTime");
    ms[i] = t;
  }
  drv->cuEventDestroy(a);
  drv->cuEventDestroy(b);
  kernel_free(&k);
  for (int i = 1; i < REPS; i++)
    for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) {
      double t = ms[j];
      ms[j] = ms[j - 1];
      ms[j - 1] = t;
    }
  return ms[REPS / 2];
}

static void noop_reference(problem_t *p) {
  (void)p;
}

static void bench(const char *name, const char *shape, const char *const *cfgs,
                  size_t ncfgs, double flops, double bytes) {
  problem_t p;
  problem_open(&p, name, shape, 1, noop_reference);
  int64_t *cells = calloc(p.space->ncells, sizeof(*cells));
  if (!cells)
    die(name, "out of memory");
  for (size_t i = 0; i <= ncfgs; i++) {
    const char *cfg = i == 0 ? "default" : cfgs[i - 1];
    helion_err_t err = {0};
    if (i == 0)
      memcpy(cells, p.space->default_cells, p.space->ncells * sizeof(*cells));
    else if (helion_config_from_json(p.space, cfg, cells, &err) != HELION_OK)
      die(cfg, err.msg);
    double ms = time_config(&p, cells);
    if (flops > 0)
      printf("bench %-10s %-22s %-60s %8.3f ms %7.1f TFLOP/s\n", name, shape,
             cfg, ms, flops / (ms * 1e-3) / 1e12);
    else
      printf("bench %-10s %-22s %-60s %8.3f ms %7.1f GB/s\n", name, shape, cfg,
             ms, bytes / (ms * 1e-3) / 1e9);
    fflush(stdout);
  }
  free(cells);
  problem_close(&p);
}

/* ----------------------------------------------------------------- main */

/* Configurations the matmul is built to be fast with; each is also
 * checked for correctness. */
static const char *const matmul_fast[] = {
    "{\"block_sizes\": [128, 128, 32], \"num_warps\": 4, \"num_stages\": 4,"
    " \"DOUBLE_BUFFER\": true, \"l2_groupings\": [16]}",
    "{\"block_sizes\": [128, 128, 32], \"num_warps\": 4, \"num_stages\": 4,"
    " \"DOUBLE_BUFFER\": true, \"pid_type\": \"persistent_interleaved\","
    " \"num_sm_multiplier\": 2}",
    "{\"block_sizes\": [128, 256, 32], \"num_warps\": 8, \"num_stages\": 4,"
    " \"DOUBLE_BUFFER\": true}",
    "{\"block_sizes\": [256, 128, 32], \"num_warps\": 8, \"num_stages\": 4,"
    " \"WARPS_M\": 4, \"DOUBLE_BUFFER\": true,"
    " \"pid_type\": \"persistent_blocked\"}",
    "{\"block_sizes\": [128, 256, 64], \"num_warps\": 8, \"num_stages\": 3,"
    " \"DOUBLE_BUFFER\": false}",
    "{\"block_sizes\": [128, 128, 64], \"num_warps\": 4, \"num_stages\": 3,"
    " \"DOUBLE_BUFFER\": false, \"maxnreg\": 255}",
    "{\"block_sizes\": [64, 64, 32], \"num_warps\": 4, \"num_stages\": 1}",
};

/* The same for the wgmma matmul (sm_90 only). */
static const char *const matmul_wgmma_fast[] = {
    "{\"block_sizes\": [128, 128, 64], \"num_warps\": 4, \"num_stages\": 4}",
    "{\"block_sizes\": [128, 256, 64], \"num_warps\": 8, \"num_stages\": 4,"
    " \"pid_type\": \"persistent_interleaved\"}",
    "{\"block_sizes\": [256, 128, 64], \"num_warps\": 8, \"num_stages\": 4,"
    " \"l2_groupings\": [16]}",
    "{\"block_sizes\": [128, 128, 128], \"num_warps\": 4, \"num_stages\": 3}",
    "{\"block_sizes\": [256, 64, 64], \"num_warps\": 4, \"num_stages\": 5}",
    "{\"block_sizes\": [64, 64, 64], \"num_warps\": 4, \"num_stages\": 6,"
    " \"pid_type\": \"persistent_blocked\"}",
};

int main(int argc, char **argv) {
  bool do_bench = argc > 1 && strcmp(argv[1], "--bench") == 0;
  bool only_bench = getenv("HELION_SAMPLES_ONLY_BENCH") != NULL;
  char msg[512];
  if (helion_cuda_driver(&drv, msg, sizeof(msg)) != HELION_OK) {
    printf("skipped: %s\n", msg);
    return SKIP;
  }
  int count = 0;
  if (drv->cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
    printf("skipped: no CUDA device\n");
    return SKIP;
  }
  CUdevice d;
  CUcontext ctx;
  check_cu(drv->cuDeviceGet(&d, 0), "cuDeviceGet");
  check_cu(drv->cuDevicePrimaryCtxRetain(&ctx, d), "cuDevicePrimaryCtxRetain");
  check_cu(drv->cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  int v = 0;
  check_cu(drv->cuDeviceGetName(dev.name, sizeof(dev.name), d),
           "cuDeviceGetName");
  check_cu(drv->cuDeviceGetAttribute(
               &dev.cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d),
           "attribute");
  check_cu(drv->cuDeviceGetAttribute(
               &dev.cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d),
           "attribute");
  check_cu(drv->cuDeviceGetAttribute(
               &v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d),
           "attribute");
  dev.num_sms = v;
  check_cu(drv->cuDeviceGetAttribute(
               &v, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, d),
           "attribute");
  dev.smem_per_block = v;
  check_cu(drv->cuDeviceGetAttribute(
               &v, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR, d),
           "attribute");
  dev.regs_per_sm = v;
  snprintf(arch, sizeof(arch), "sm_%d%d", dev.cc_major, dev.cc_minor);

  uint64_t seed = 20240607u;
  const char *s = getenv("HELION_SAMPLES_SEED");
  if (s && *s)
    seed = strtoull(s, NULL, 0);
  printf("device: %s (%s, %lld SMs, %lld bytes smem/block), seed %llu\n",
         dev.name, arch, (long long)dev.num_sms, (long long)dev.smem_per_block,
         (unsigned long long)seed);
  printf("%-10s %-22s %-60s %12s  %s\n", "sample", "shape", "config",
         "max_abs_err", "result");

  if (!only_bench) {
    check_sample("rmsnorm", "M=257,N=4096", ref_rmsnorm, NULL, 0, seed);
    check_sample("rmsnorm", "M=1000,N=1024", ref_rmsnorm, NULL, 0, seed + 1);
    check_sample("transpose", "M=1000,N=3001", ref_transpose, NULL, 0, seed);
    check_sample("transpose", "M=512,N=1024", ref_transpose, NULL, 0, seed + 1);
    check_sample("matmul", "M=512,N=512,K=512", ref_matmul, matmul_fast,
                 sizeof(matmul_fast) / sizeof(matmul_fast[0]), seed);
    check_sample("matmul", "M=128,N=256,K=1024", ref_matmul, NULL, 0, seed + 1);
    if (dev.cc_major == 9 && dev.cc_minor == 0) {
      check_sample("matmul_wgmma", "M=512,N=512,K=512", ref_matmul_nt,
                   matmul_wgmma_fast,
                   sizeof(matmul_wgmma_fast) / sizeof(matmul_wgmma_fast[0]),
                   seed + 2);
      check_sample("matmul_wgmma", "M=256,N=768,K=1024", ref_matmul_nt, NULL,
                   0, seed + 3);
    } else {
      printf("matmul_wgmma: skipped (needs sm_90, the device is %s)\n", arch);
    }
  }

  if (do_bench) {
    /* Extra arguments after --bench are matmul configurations to time
     * instead of the built-in list. */
    const double n = 4096.0;
    if (argc > 2)
      bench("matmul", "M=4096,N=4096,K=4096", (const char *const *)argv + 2,
            (size_t)argc - 2, 2.0 * n * n * n, 0);
    else
      bench("matmul", "M=4096,N=4096,K=4096", matmul_fast,
            sizeof(matmul_fast) / sizeof(matmul_fast[0]), 2.0 * n * n * n, 0);
    if (dev.cc_major == 9 && dev.cc_minor == 0)
      bench("matmul_wgmma", "M=4096,N=4096,K=4096", matmul_wgmma_fast,
            sizeof(matmul_wgmma_fast) / sizeof(matmul_wgmma_fast[0]),
            2.0 * n * n * n, 0);
    bench("rmsnorm", "M=4096,N=4096", NULL, 0, 0, 2.0 * 2 * n * n);
    bench("transpose", "M=4096,N=4096", NULL, 0, 0, 2.0 * 4 * n * n);
  }

  printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  drv->cuDevicePrimaryCtxRelease(d);
  return failures ? 1 : 0;
}
