/*
 * app.c: the sample application of the generated headers, as a user writes
 * one: samples/app/CMakeLists.txt registers every sample kernel with
 * helion_add_tuned_kernel() and links helion::<name>; tests/gpu/
 * test_generated.sh also builds it by hand against headers it generates.
 *
 * It includes the headers `helion-tune generate` wrote for every sample
 * (their definitions come from the helion::<name> libraries, or from this
 * file when HELION_APP_IMPLEMENTATION is defined), and calls each kernel's
 * launcher
 * (helion_<name>()) at the shapes given on the command line, as a Driver API
 * application (its own primary context). Each call's output is poisoned
 * first and compared with a CPU reference afterwards; helion_<name>_choose()
 * says which config the call got and why, and the expectation given with
 * the shape is checked:
 *
 *   helion_app [--bench] KERNEL:EXPECT:K=V,... ...
 *     EXPECT  exact    an entry for exactly this shape on this device
 *             miss     no exact entry (nearest or default)
 *             illegal  the nearest entry's config cannot run this shape and
 *                      was passed over (skipped_illegal > 0)
 *             any      no expectation
 *
 * With no argument it runs every kernel at the shapes samples/app tunes.
 * A Driver API application (it links libcuda like any CUDA program; the
 * Helion runtime itself never does).
 *
 * Prints one row per call (with the call's throughput, median of 20 timed
 * calls after the checked one) and exits 0 when every row passes, 1
 * otherwise, 77 without a CUDA driver or device.
 *
 * --bench KERNEL_SHAPE (vector_add only: "N=4096"): the launcher's overhead
 * over a bare cuLaunchKernel of the same function with the same geometry,
 * side by side in one run: rounds of 256 launches each way, interleaved,
 * 400 rounds (102,400 launches each), the stream drained between rounds and
 * outside the timed region; prints the median ns per call of each and their
 * difference, and one JSON line.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HELION_APP_IMPLEMENTATION
#define HELION_IMPLEMENTATION
#endif
#include "matmul_tuned.h"
#include "matmul_wgmma_tuned.h"
#include "rmsnorm_tuned.h"
#include "softmax_tuned.h"
#include "transpose_tuned.h"
#include "vector_add_tuned.h"

#include <cuda.h>

#define SKIP 77

static CUcontext ctx;
static int failures;

static void check_cu(CUresult r, const char *what) {
  if (r != CUDA_SUCCESS) {
    const char *name = NULL;
    cuGetErrorName(r, &name);
    fprintf(stderr, "helion_app: %s: %s\n", what, name ? name : "unknown error");
    exit(1);
  }
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "helion_app: out of memory\n");
    exit(1);
  }
  return p;
}

/* --------------------------------------------------------------- values */

/* A fixed-seed generator (xorshift64*): uniform in [-1, 1). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float uniform(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  uint64_t v = rng_state * 0x2545F4914F6CDD1Dull;
  return (float)((double)(v >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* IEEE half and bfloat16 from float, rounding to nearest even, and back.
 * Inputs here are finite and small; no NaN handling needed. */
static uint16_t to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int exp = (int)((x >> 23) & 0xFF) - 127 + 15;
  uint32_t man = x & 0x7FFFFFu;
  if (exp <= 0) { /* subnormal half (or zero) */
    if (exp < -10)
      return (uint16_t)sign;
    man |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t h = man >> shift, rem = man & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1)))
      h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)exp << 10) | (man >> 13), rem = man & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
    h++;
  return (uint16_t)(sign | h);
}
static float from_half(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1F,
           man = h & 0x3FFu, x;
  if (exp == 0) {
    float f = (float)man / 16777216.0f; /* man * 2^-24 */
    return sign ? -f : f;
  }
  x = sign | ((exp - 15 + 127) << 23) | (man << 13);
  float f;
  memcpy(&f, &x, 4);
  return f;
}
static uint16_t to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  x += 0x7FFFu + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}
static float from_bf16(uint16_t b) {
  uint32_t x = (uint32_t)b << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}

/* ----------------------------------------------------------- buffers */

typedef struct dbuf {
  CUdeviceptr d;
  size_t bytes;
} dbuf;

static dbuf upload(const void *host, size_t bytes) {
  dbuf b = {0, bytes};
  check_cu(cuMemAlloc(&b.d, bytes), "cuMemAlloc");
  if (host)
    check_cu(cuMemcpyHtoD(b.d, host, bytes), "cuMemcpyHtoD");
  else /* an output: poisoned, so a kernel that writes nothing fails */
    check_cu(cuMemsetD8(b.d, 0xFF, bytes), "cuMemsetD8");
  return b;
}
static void download(void *host, dbuf b) {
  check_cu(cuCtxSynchronize(), "cuCtxSynchronize");
  check_cu(cuMemcpyDtoH(host, b.d, b.bytes), "cuMemcpyDtoH");
}
static void drop(dbuf b) { check_cu(cuMemFree(b.d), "cuMemFree"); }
static void *dptr(dbuf b) { return (void *)(uintptr_t)b.d; }

/* Max of |got - want| - (atol + rtol |want|) over n values: > 0 fails. NaN
 * (poison left in place) counts as a failure. */
static double excess(const float *got, const double *want, size_t n,
                     double atol, double rtol, double *max_abs) {
  double worst = -INFINITY;
  *max_abs = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (d != d)
      return INFINITY;
    if (d > *max_abs)
      *max_abs = d;
    double e = d - (atol + rtol * fabs(want[i]));
    if (e > worst)
      worst = e;
  }
  return worst;
}

/* ---------------------------------------------------------- the cases */

typedef struct call {
  const char *kernel, *expect, *shape;
  int64_t M, N, K;
  helion_status rc;
  helion_choice_t choice;
  double err, max_abs; /* excess over tolerance, max abs error */
  double ms;           /* median time of one call */
  double bytes, flops; /* moved or computed by one call */
} call;

/* ------------------------------------------------------------ timing */

#define TIMED_CALLS 20

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times `launch` (an expression giving helion_status) TIMED_CALLS times
 * with driver events, after the checked call: c->ms is the median. */
#define TIME_CALLS(c, launch)                                                  \
  do {                                                                         \
    double t_[TIMED_CALLS];                                                    \
    CUevent e0_, e1_;                                                          \
    check_cu(cuEventCreate(&e0_, 0), "cuEventCreate");                    \
    check_cu(cuEventCreate(&e1_, 0), "cuEventCreate");                    \
    for (int i_ = 0; i_ < TIMED_CALLS && !(c)->rc; i_++) {                     \
      float ms_ = 0;                                                           \
      check_cu(cuEventRecord(e0_, NULL), "cuEventRecord");                \
      (c)->rc = (launch);                                                      \
      check_cu(cuEventRecord(e1_, NULL), "cuEventRecord");                \
      check_cu(cuEventSynchronize(e1_), "cuEventSynchronize");            \
      check_cu(cuEventElapsedTime(&ms_, e0_, e1_), "cuEventElapsedTime"); \
      t_[i_] = ms_;                                                            \
    }                                                                          \
    qsort(t_, TIMED_CALLS, sizeof(double), cmp_double);                        \
    (c)->ms = (c)->rc ? 0 : t_[TIMED_CALLS / 2];                               \
    check_cu(cuEventDestroy(e0_), "cuEventDestroy");                      \
    check_cu(cuEventDestroy(e1_), "cuEventDestroy");                      \
  } while (0)

static const char *pick_name(helion_pick p) {
  static const char *const names[] = {"exact", "nearest", "default", "none"};
  return (unsigned)p < 4 ? names[p] : "?";
}

/* Checks the choice against the expectation and prints the row. */
static void report(call *c) {
  const char *why = NULL;
  if (c->rc)
    why = helion_last_error();
  else if (!(c->err <= 0))
    why = "output differs from the CPU reference";
  else if (strcmp(c->expect, "exact") == 0 &&
           (c->choice.pick != HELION_PICK_EXACT ||
            c->choice.rung != HELION_RUNG_DEVICE))
    why = "want an exact entry on this device";
  else if (strcmp(c->expect, "miss") == 0 &&
           c->choice.pick == HELION_PICK_EXACT)
    why = "want a miss (no exact entry)";
  else if (strcmp(c->expect, "illegal") == 0 &&
           c->choice.skipped_illegal == 0)
    why = "want the nearest entry passed over as illegal";
  char rate[32] = "";
  if (!why && c->ms > 0)
    snprintf(rate, sizeof(rate), c->flops ? "%7.1f TFLOP/s" : "%7.1f GB/s",
             c->flops ? c->flops / (c->ms * 1e9) : c->bytes / (c->ms * 1e6));
  printf("%-13s %-20s %-8s %-8s config %2d skipped %u  max|err| %-9.3g %-15s "
         "%s%s%s\n",
         c->kernel, c->shape, c->expect, pick_name(c->choice.pick),
         c->choice.config, c->choice.skipped_illegal, c->max_abs, rate,
         why ? "FAIL" : "pass", why ? ": " : "", why ? why : "");
  if (why)
    failures++;
}

static void run_vector_add(call *c) {
  const int64_t n = c->N;
  float *a = xmalloc((size_t)n * 4), *b = xmalloc((size_t)n * 4),
        *out = xmalloc((size_t)n * 4);
  double *want = xmalloc((size_t)n * 8);
  for (int64_t i = 0; i < n; i++) {
    a[i] = uniform();
    b[i] = uniform();
    want[i] = (double)(a[i] + b[i]);
  }
  dbuf da = upload(a, (size_t)n * 4), db = upload(b, (size_t)n * 4),
       dc = upload(NULL, (size_t)n * 4);
  c->rc = helion_vector_add(NULL, dptr(da), dptr(db), dptr(dc), (int32_t)n);
  download(out, dc);
  if (!c->rc)
    c->err = excess(out, want, (size_t)n, 1e-6, 1e-6, &c->max_abs);
  c->bytes = 12.0 * (double)n;
  TIME_CALLS(c, helion_vector_add(NULL, dptr(da), dptr(db), dptr(dc), (int32_t)n));
  drop(dc);
  drop(da);
  drop(db);
  free(a), free(b), free(out), free(want);
}

static void run_softmax(call *c) {
  const int64_t M = c->M, N = c->N, n = M * N;
  float *x = xmalloc((size_t)n * 4), *out = xmalloc((size_t)n * 4);
  double *want = xmalloc((size_t)n * 8);
  for (int64_t i = 0; i < n; i++)
    x[i] = 4 * uniform();
  for (int64_t r = 0; r < M; r++) {
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < N; j++)
      mx = fmax(mx, x[r * N + j]);
    for (int64_t j = 0; j < N; j++)
      sum += exp(x[r * N + j] - mx);
    for (int64_t j = 0; j < N; j++)
      want[r * N + j] = exp(x[r * N + j] - mx) / sum;
  }
  dbuf dx = upload(x, (size_t)n * 4), dy = upload(NULL, (size_t)n * 4);
  c->rc = helion_softmax(NULL, dptr(dx), dptr(dy), (int32_t)M, (int32_t)N);
  download(out, dy);
  if (!c->rc)
    c->err = excess(out, want, (size_t)n, 1e-5, 1e-4, &c->max_abs);
  c->bytes = 8.0 * (double)n;
  TIME_CALLS(c, helion_softmax(NULL, dptr(dx), dptr(dy), (int32_t)M, (int32_t)N));
  drop(dy);
  drop(dx);
  free(x), free(out), free(want);
}

static void run_rmsnorm(call *c) {
  const int64_t M = c->M, N = c->N, n = M * N;
  const float eps = 1e-6f;
  uint16_t *x = xmalloc((size_t)n * 2), *w = xmalloc((size_t)N * 2),
           *y = xmalloc((size_t)n * 2);
  float *out = xmalloc((size_t)n * 4);
  double *want = xmalloc((size_t)n * 8);
  for (int64_t i = 0; i < n; i++)
    x[i] = to_bf16(uniform());
  for (int64_t j = 0; j < N; j++)
    w[j] = to_bf16(uniform());
  for (int64_t r = 0; r < M; r++) {
    double ss = 0;
    for (int64_t j = 0; j < N; j++) {
      double v = from_bf16(x[r * N + j]);
      ss += v * v;
    }
    double inv = 1.0 / sqrt(ss / (double)N + eps);
    for (int64_t j = 0; j < N; j++)
      want[r * N + j] = from_bf16(x[r * N + j]) * inv * from_bf16(w[j]);
  }
  dbuf dx = upload(x, (size_t)n * 2), dw = upload(w, (size_t)N * 2),
       dy = upload(NULL, (size_t)n * 2);
  c->rc = helion_rmsnorm(NULL, dptr(dx), dptr(dw), dptr(dy), (int32_t)M,
                         (int32_t)N, eps);
  download(y, dy);
  c->bytes = 4.0 * (double)n + 2.0 * (double)N;
  TIME_CALLS(c, helion_rmsnorm(NULL, dptr(dx), dptr(dw), dptr(dy), (int32_t)M,
                               (int32_t)N, eps));
  drop(dy);
  for (int64_t i = 0; i < n; i++)
    out[i] = from_bf16(y[i]);
  if (!c->rc)
    c->err = excess(out, want, (size_t)n, 1e-2, 1e-2, &c->max_abs);
  drop(dx);
  drop(dw);
  free(x), free(w), free(y), free(out), free(want);
}

static void run_transpose(call *c) {
  const int64_t M = c->M, N = c->N, n = M * N;
  float *x = xmalloc((size_t)n * 4), *out = xmalloc((size_t)n * 4);
  double *want = xmalloc((size_t)n * 8);
  for (int64_t i = 0; i < n; i++)
    x[i] = uniform();
  for (int64_t r = 0; r < M; r++)
    for (int64_t j = 0; j < N; j++)
      want[j * M + r] = x[r * N + j];
  dbuf dx = upload(x, (size_t)n * 4), dy = upload(NULL, (size_t)n * 4);
  c->rc = helion_transpose(NULL, dptr(dx), dptr(dy), (int32_t)M, (int32_t)N);
  download(out, dy);
  if (!c->rc)
    c->err = excess(out, want, (size_t)n, 0, 0, &c->max_abs);
  c->bytes = 8.0 * (double)n;
  TIME_CALLS(c, helion_transpose(NULL, dptr(dx), dptr(dy), (int32_t)M, (int32_t)N));
  drop(dy);
  drop(dx);
  free(x), free(out), free(want);
}

/* matmul (B is [K, N]) and matmul_wgmma (B is [N, K]): fp16 in and out.
 * The reference covers every 7th row (every M/64th for large M) and the
 * last, in double, from the
 * same rounded inputs: enough to catch a wrong tile, cheap on the CPU. */
static void run_matmul(call *c, bool b_transposed) {
  const int64_t M = c->M, N = c->N, K = c->K;
  uint16_t *a = xmalloc((size_t)(M * K) * 2), *b = xmalloc((size_t)(K * N) * 2),
           *y = xmalloc((size_t)(M * N) * 2);
  for (int64_t i = 0; i < M * K; i++)
    a[i] = to_half(uniform());
  for (int64_t i = 0; i < K * N; i++)
    b[i] = to_half(uniform());
  dbuf da = upload(a, (size_t)(M * K) * 2), db = upload(b, (size_t)(K * N) * 2),
       dy = upload(NULL, (size_t)(M * N) * 2);
  c->rc = b_transposed
              ? helion_matmul_wgmma(NULL, dptr(da), dptr(db), dptr(dy),
                                    (int32_t)M, (int32_t)N, (int32_t)K)
              : helion_matmul(NULL, dptr(da), dptr(db), dptr(dy), (int32_t)M,
                              (int32_t)N, (int32_t)K);
  download(y, dy);
  c->flops = 2.0 * (double)M * (double)N * (double)K;
  TIME_CALLS(c, b_transposed
                    ? helion_matmul_wgmma(NULL, dptr(da), dptr(db), dptr(dy),
                                          (int32_t)M, (int32_t)N, (int32_t)K)
                    : helion_matmul(NULL, dptr(da), dptr(db), dptr(dy),
                                    (int32_t)M, (int32_t)N, (int32_t)K));
  drop(dy);
  float *out = xmalloc((size_t)N * 4);
  double *want = xmalloc((size_t)N * 8);
  c->err = -INFINITY;
  const int64_t stride = M / 64 > 7 ? M / 64 : 7;
  for (int64_t m = 0; m < M && !c->rc;
       m = m + stride < M || m == M - 1 ? m + stride : M - 1) {
    for (int64_t j = 0; j < N; j++) {
      double acc = 0;
      for (int64_t k = 0; k < K; k++)
        acc += (double)from_half(a[m * K + k]) *
               from_half(b_transposed ? b[j * K + k] : b[k * N + j]);
      want[j] = acc;
      out[j] = from_half(y[m * N + j]);
    }
    double mx, e = excess(out, want, (size_t)N, 1e-2, 1e-2, &mx);
    c->err = e > c->err ? e : c->err;
    c->max_abs = mx > c->max_abs ? mx : c->max_abs;
  }
  drop(da);
  drop(db);
  free(a), free(b), free(y), free(out), free(want);
}

/* The choice the call gets, asked of the generated dispatcher. */
static helion_status choose(call *c, const helion_device_t *dev) {
  const char *k = c->kernel;
  if (!strcmp(k, "vector_add"))
    return helion_vector_add_choose(dev, c->N, &c->choice);
  if (!strcmp(k, "softmax"))
    return helion_softmax_choose(dev, c->M, c->N, &c->choice);
  if (!strcmp(k, "rmsnorm"))
    return helion_rmsnorm_choose(dev, c->M, c->N, &c->choice);
  if (!strcmp(k, "transpose"))
    return helion_transpose_choose(dev, c->M, c->N, &c->choice);
  if (!strcmp(k, "matmul"))
    return helion_matmul_choose(dev, c->M, c->N, c->K, &c->choice);
  return helion_matmul_wgmma_choose(dev, c->M, c->N, c->K, &c->choice);
}

static void run(call *c) {
  const char *k = c->kernel;
  const helion_device_t *dev = NULL;
  memset(&c->choice, 0, sizeof(c->choice));
  c->choice.config = -1;
  c->err = INFINITY;
  c->rc = helion_current_device(&dev);
  if (!c->rc)
    c->rc = choose(c, dev);
  if (c->rc) {
    report(c);
    return;
  }
  if (!strcmp(k, "vector_add"))
    run_vector_add(c);
  else if (!strcmp(k, "softmax"))
    run_softmax(c);
  else if (!strcmp(k, "rmsnorm"))
    run_rmsnorm(c);
  else if (!strcmp(k, "transpose"))
    run_transpose(c);
  else
    run_matmul(c, strcmp(k, "matmul_wgmma") == 0);
  report(c);
}

/* "vector_add:exact:N=4096" -> the call; exits on a malformed argument. */
static call parse_call(char *arg) {
  call c;
  memset(&c, 0, sizeof(c));
  static const char *const kernels[] = {"vector_add", "softmax", "rmsnorm",
                                        "transpose", "matmul", "matmul_wgmma"};
  char *p1 = strchr(arg, ':'), *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
  bool known = false;
  if (p2) {
    *p1 = *p2 = '\0';
    for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
      known |= strcmp(arg, kernels[i]) == 0;
  }
  if (!known) {
    fprintf(stderr, "helion_app: '%s': expected KERNEL:EXPECT:K=V,...\n",
            arg);
    exit(2);
  }
  c.kernel = arg;
  c.expect = p1 + 1;
  c.shape = p2 + 1;
  c.M = c.N = c.K = 1;
  char *copy = xmalloc(strlen(c.shape) + 1), *save = NULL;
  strcpy(copy, c.shape);
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    long long v = 0;
    char name[8];
    if (sscanf(t, "%7[A-Z]=%lld", name, &v) != 2 || v < 1) {
      fprintf(stderr, "helion_app: bad shape part '%s'\n", t);
      exit(2);
    }
    *(name[0] == 'M' ? &c.M : name[0] == 'N' ? &c.N : &c.K) = v;
  }
  free(copy);
  return c;
}

/* ----------------------------------------------------------- benchmark */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define BENCH_BATCH 256
#define BENCH_ROUNDS 400

static int bench(int64_t n) {
  const helion_device_t *dev = NULL;
  helion_choice_t ch;
  if (helion_current_device(&dev) ||
      helion_vector_add_choose(dev, n, &ch) || ch.pick != HELION_PICK_EXACT) {
    fprintf(stderr, "bench: N=%lld must be an exact entry (%s)\n",
            (long long)n, helion_last_error());
    return 1;
  }
  /* The bare side: the same image, the same geometry. */
  const helion_config_desc_t *cfg = &helion_vector_add_desc.configs[ch.config];
  const helion_image_t *img = NULL;
  for (unsigned i = 0; i < cfg->nimages; i++)
    if (!cfg->images[i].is_ptx && cfg->images[i].sm == dev->cc_major * 10 + dev->cc_minor)
      img = &cfg->images[i];
  if (!img) {
    fprintf(stderr, "bench: no cubin for this device\n");
    return 1;
  }
  CUmodule mod;
  CUfunction fn;
  check_cu(cuModuleLoadData(&mod, img->data), "cuModuleLoadData");
  check_cu(cuModuleGetFunction(&fn, mod, helion_vector_add_desc.entry),
           "cuModuleGetFunction");
  uint32_t grid[3], block[3], smem;
  int64_t key[1] = {n};
  char why[256];
  if (!helion_vector_add_geometry(ch.config, dev, key, grid, block, &smem, why,
                                  sizeof(why))) {
    fprintf(stderr, "bench: %s\n", why);
    return 1;
  }
  float *h = xmalloc((size_t)n * 4);
  for (int64_t i = 0; i < n; i++)
    h[i] = uniform();
  dbuf a = upload(h, (size_t)n * 4), b = upload(h, (size_t)n * 4),
       c = upload(NULL, (size_t)n * 4);
  const void *pa = dptr(a), *pb = dptr(b);
  void *pc = dptr(c);
  int32_t n32 = (int32_t)n;
  void *args[] = {&pa, &pb, &pc, &n32};
  CUstream stream;
  check_cu(cuStreamCreate(&stream, 0), "cuStreamCreate");
  double *t_bare = xmalloc(BENCH_ROUNDS * sizeof(double)),
         *t_gen = xmalloc(BENCH_ROUNDS * sizeof(double));
  for (int r = -10; r < BENCH_ROUNDS; r++) { /* 10 warm-up rounds */
    double t0 = now_ns();
    for (int i = 0; i < BENCH_BATCH; i++)
      check_cu(cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0],
                                   block[1], block[2], smem, stream, args,
                                   NULL),
               "cuLaunchKernel");
    double t1 = now_ns();
    check_cu(cuStreamSynchronize(stream), "cuStreamSynchronize");
    double t2 = now_ns();
    for (int i = 0; i < BENCH_BATCH; i++)
      if (helion_vector_add(stream, pa, pb, pc, n32)) {
        fprintf(stderr, "bench: %s\n", helion_last_error());
        return 1;
      }
    double t3 = now_ns();
    check_cu(cuStreamSynchronize(stream), "cuStreamSynchronize");
    if (r >= 0) {
      t_bare[r] = (t1 - t0) / BENCH_BATCH;
      t_gen[r] = (t3 - t2) / BENCH_BATCH;
    }
  }
  /* The result of the last launch is checked before the numbers count. */
  float *out = xmalloc((size_t)n * 4);
  check_cu(cuMemcpyDtoH(out, c.d, (size_t)n * 4), "cuMemcpyDtoH");
  for (int64_t i = 0; i < n; i++)
    if (out[i] != h[i] + h[i]) {
      fprintf(stderr, "bench: wrong output at %lld\n", (long long)i);
      return 1;
    }
  qsort(t_bare, BENCH_ROUNDS, sizeof(double), cmp_double);
  qsort(t_gen, BENCH_ROUNDS, sizeof(double), cmp_double);
  double mb = t_bare[BENCH_ROUNDS / 2], mg = t_gen[BENCH_ROUNDS / 2];
  printf("launch overhead, vector_add N=%lld on %s, %d launches each way:\n",
         (long long)n, dev->name, BENCH_BATCH * BENCH_ROUNDS);
  printf("  bare cuLaunchKernel      %8.1f ns/call (median of %d rounds)\n",
         mb, BENCH_ROUNDS);
  printf("  generated launcher       %8.1f ns/call\n", mg);
  printf("  overhead                 %8.1f ns/call (target < 100)\n", mg - mb);
  printf("{\"bench\":\"launch_overhead\",\"device\":\"%s\",\"launches\":%d,"
         "\"bare_ns\":%.1f,\"launcher_ns\":%.1f,\"overhead_ns\":%.1f}\n",
         dev->name, BENCH_BATCH * BENCH_ROUNDS, mb, mg, mg - mb);
  check_cu(cuStreamDestroy(stream), "cuStreamDestroy");
  check_cu(cuModuleUnload(mod), "cuModuleUnload");
  drop(a), drop(b), drop(c);
  free(h), free(out), free(t_bare), free(t_gen);
  return 0;
}

int main(int argc, char **argv) {
  int count = 0;
  if (cuInit(0) != CUDA_SUCCESS) {
    fprintf(stderr, "helion_app: no CUDA driver or device\n");
    return SKIP;
  }
  CUdevice d;
  if (cuDeviceGetCount(&count) || count < 1) {
    fprintf(stderr, "helion_app: no CUDA device\n");
    return SKIP;
  }
  check_cu(cuDeviceGet(&d, 0), "cuDeviceGet");
  check_cu(cuDevicePrimaryCtxRetain(&ctx, d), "cuDevicePrimaryCtxRetain");
  check_cu(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
    long long n = 0;
    if (sscanf(argv[2], "N=%lld", &n) != 1 || n < 1)
      return 2;
    return bench(n);
  }
  /* No argument: the shapes samples/app/CMakeLists.txt tunes. */
  static char defaults[][48] = {
      "vector_add:exact:N=16777216", "softmax:exact:M=4096,N=1024",
      "rmsnorm:exact:M=4096,N=4096", "transpose:exact:M=4096,N=4096",
      "matmul:exact:M=4096,N=4096,K=4096",
      "matmul_wgmma:exact:M=4096,N=4096,K=4096"};
  int ncalls = argc > 1 ? argc - 1 : (int)(sizeof(defaults) / sizeof(defaults[0]));
  for (int i = 0; i < ncalls; i++) {
    call c = parse_call(argc > 1 ? argv[i + 1] : defaults[i]);
    run(&c);
  }
  printf("%d call(s), %d failure(s)\n", ncalls, failures);
  return failures ? 1 : 0;
}
