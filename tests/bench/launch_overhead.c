/*
 * launch_overhead.c: what the runtime adds to a launch (DESIGN.md §8: target
 * under 100 ns per call over a bare cuLaunchKernel).
 *
 * Compiles one trivial kernel with NVRTC for the device, then times, in
 * interleaved rounds so drift (clocks, other load) hits both alike:
 *   bare:   cuLaunchKernel of the function, loaded by hand;
 *   helion: helion_enter + helion_launch through a hand-built kernel desc,
 *           what a generated launcher does minus choose and geometry.
 * Each batch of BATCH launches is timed with clock_gettime after the stream
 * drained, so the time is the CPU's cost of submitting, not the GPU's of
 * running. Prints the median per-call ns of each, a short table and one JSON
 * line. Both paths' output is checked once before anything is timed.
 *
 * Exits 77 (skipped) without a CUDA driver or device.
 */
#define _POSIX_C_SOURCE 200809L
#include <nvrtc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_driver.h"
#include "helion/runtime.h"

#define LAUNCHES 100000
#define BATCH 1000
#define ROUNDS (LAUNCHES / BATCH)
#define THREADS 32

static const char *const source =
    "extern \"C\" __global__ void helion_bench_fill(int *out, int v) {\n"
    "  out[threadIdx.x] = v + (int)threadIdx.x;\n"
    "}\n";

static const helion_cuda_driver_t *drv;

/* Every driver call is checked; a failure ends the benchmark (exit 1). */
#define CHECK(call)                                                            \
  do {                                                                         \
    CUresult r_ = (call);                                                      \
    if (r_ != CUDA_SUCCESS) {                                                  \
      char what_[256];                                                         \
      helion_cuda_describe(drv, r_, what_, sizeof(what_));                     \
      fprintf(stderr, "launch_overhead: %s failed: %s\n", #call, what_);       \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_NVRTC(call)                                                      \
  do {                                                                         \
    nvrtcResult r_ = (call);                                                   \
    if (r_ != NVRTC_SUCCESS) {                                                 \
      fprintf(stderr, "launch_overhead: %s failed: %s\n", #call,               \
              nvrtcGetErrorString(r_));                                        \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* A cubin of `source` for sm_<major><minor>; the caller frees it. */
static unsigned char *compile(int major, int minor, size_t *out_size) {
  nvrtcProgram prog;
  char arch[32];
  snprintf(arch, sizeof(arch), "--gpu-architecture=sm_%d%d", major, minor);
  const char *opts[] = {arch};
  CHECK_NVRTC(nvrtcCreateProgram(&prog, source, "bench.cu", 0, NULL, NULL));
  nvrtcResult r = nvrtcCompileProgram(prog, 1, opts);
  if (r != NVRTC_SUCCESS) {
    size_t n = 0;
    nvrtcGetProgramLogSize(prog, &n);
    char *log = malloc(n + 1);
    if (log && nvrtcGetProgramLog(prog, log) == NVRTC_SUCCESS)
      fprintf(stderr, "launch_overhead: NVRTC (%s): %s\n%s\n", arch,
              nvrtcGetErrorString(r), log);
    exit(1);
  }
  size_t size = 0;
  CHECK_NVRTC(nvrtcGetCUBINSize(prog, &size));
  unsigned char *cubin = malloc(size);
  if (!cubin)
    exit(1);
  CHECK_NVRTC(nvrtcGetCUBIN(prog, (char *)cubin));
  CHECK_NVRTC(nvrtcDestroyProgram(&prog));
  *out_size = size;
  return cubin;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What the benchmark launches, both ways. */
typedef struct bench {
  CUfunction bare;
  helion_kernel_desc_t desc;
  helion_kernel_state_t state;
  CUstream stream;
  CUdeviceptr out;
} bench_t;

static const uint32_t grid[3] = {1, 1, 1}, block[3] = {THREADS, 1, 1};

static void launch_bare(bench_t *b, void **args) {
  CHECK(drv->cuLaunchKernel(b->bare, 1, 1, 1, THREADS, 1, 1, 0, b->stream, args,
                            NULL));
}

static void launch_helion(bench_t *b, void **args) {
  helion_call_t call;
  helion_status rc = helion_enter(&b->desc, &b->state, &call);
  if (!rc)
    rc = helion_launch(&b->desc, &call, 0, grid, block, 0, b->stream, args);
  if (rc) {
    fprintf(stderr, "launch_overhead: %s\n", helion_last_error());
    exit(1);
  }
}

/* Poison the output, launch once, compare: a timing of a launch that does
 * nothing (or the wrong thing) would count for nothing. */
static void verify(bench_t *b, void (*launch)(bench_t *, void **), int v,
                   const char *what) {
  int host[THREADS];
  void *args[] = {&b->out, &v};
  CHECK(drv->cuMemsetD32(b->out, 0xdeadbeefu, THREADS));
  launch(b, args);
  CHECK(drv->cuStreamSynchronize(b->stream));
  CHECK(drv->cuMemcpyDtoH(host, b->out, sizeof(host)));
  for (int i = 0; i < THREADS; i++) {
    if (host[i] != v + i) {
      fprintf(stderr, "launch_overhead: %s launch wrote %d at %d, want %d\n",
              what, host[i], i, v + i);
      exit(1);
    }
  }
}

/* One batch's per-call ns, timed after the stream drained. */
static double batch(bench_t *b, void (*launch)(bench_t *, void **)) {
  int v = 1;
  void *args[] = {&b->out, &v};
  CHECK(drv->cuStreamSynchronize(b->stream));
  double t0 = now_ns();
  for (int i = 0; i < BATCH; i++)
    launch(b, args);
  return (now_ns() - t0) / BATCH;
}

/* s as a JSON string's contents (quotes and backslashes escaped, control
 * characters dropped) into out. */
static const char *json_escape(const char *s, char *out, size_t n) {
  size_t j = 0;
  for (; *s && j + 3 < n; s++) {
    if (*s == '"' || *s == '\\')
      out[j++] = '\\';
    if ((unsigned char)*s >= 0x20)
      out[j++] = *s;
  }
  out[j] = '\0';
  return out;
}

int main(void) {
  char msg[512];
  if (helion_cuda_driver(&drv, msg, sizeof(msg))) {
    fprintf(stderr, "launch_overhead: skipped: %s\n", msg);
    return 77;
  }
  int ndev = 0;
  if (drv->cuDeviceGetCount(&ndev) != CUDA_SUCCESS || ndev == 0) {
    fprintf(stderr, "launch_overhead: skipped: no CUDA device\n");
    return 77;
  }
  CUdevice dev;
  CUcontext ctx;
  CHECK(drv->cuDeviceGet(&dev, 0));
  CHECK(drv->cuDevicePrimaryCtxRetain(&ctx, dev));
  CHECK(drv->cuCtxSetCurrent(ctx));
  const helion_device_t *facts = NULL;
  if (helion_current_device(&facts)) {
    fprintf(stderr, "launch_overhead: %s\n", helion_last_error());
    return 1;
  }

  size_t size = 0;
  unsigned char *cubin = compile(facts->cc_major, facts->cc_minor, &size);
  helion_image_t image = {facts->cc_major * 10 + facts->cc_minor, 0, 0, cubin,
                          size};
  helion_config_desc_t config = {"{}", &image, 1};
  bench_t b;
  memset(&b, 0, sizeof(b));
  b.desc.name = "launch_overhead";
  b.desc.entry = "helion_bench_fill";
  b.desc.spec = "launch_overhead.json";
  b.desc.configs = &config;
  b.desc.nconfigs = 1;
  CUmodule mod;
  CHECK(drv->cuModuleLoadData(&mod, cubin));
  CHECK(drv->cuModuleGetFunction(&b.bare, mod, "helion_bench_fill"));
  CHECK(drv->cuStreamCreate(&b.stream, CU_STREAM_NON_BLOCKING));
  CHECK(drv->cuMemAlloc(&b.out, THREADS * sizeof(int)));

  verify(&b, launch_bare, 7, "bare");
  verify(&b, launch_helion, 9, "helion");

  static double bare_ns[ROUNDS], helion_ns[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    /* Alternate which goes first, so neither always follows a drain. */
    if (r % 2) {
      bare_ns[r] = batch(&b, launch_bare);
      helion_ns[r] = batch(&b, launch_helion);
    } else {
      helion_ns[r] = batch(&b, launch_helion);
      bare_ns[r] = batch(&b, launch_bare);
    }
  }
  CHECK(drv->cuStreamSynchronize(b.stream));
  double bare = median(bare_ns, ROUNDS), helion = median(helion_ns, ROUNDS);

  printf("launch overhead on %s (cc %d.%d), %d launches each, batches of "
         "%d, median per call:\n",
         facts->name, facts->cc_major, facts->cc_minor, LAUNCHES, BATCH);
  printf("  %-28s %9.1f ns\n", "bare cuLaunchKernel", bare);
  printf("  %-28s %9.1f ns\n", "helion_enter + helion_launch", helion);
  printf("  %-28s %9.1f ns\n", "difference", helion - bare);
  char name[2 * sizeof(facts->name)];
  printf("{\"bench\":\"launch_overhead\",\"device\":\"%s\",\"cc\":\"%d.%d\","
         "\"launches\":%d,\"batch\":%d,\"bare_ns\":%.1f,\"helion_ns\":%.1f,"
         "\"overhead_ns\":%.1f}\n",
         json_escape(facts->name, name, sizeof(name)), facts->cc_major,
         facts->cc_minor, LAUNCHES, BATCH, bare, helion, helion - bare);

  CHECK(drv->cuMemFree(b.out));
  CHECK(drv->cuStreamDestroy(b.stream));
  CHECK(drv->cuModuleUnload(mod));
  free(cubin);
  CHECK(drv->cuDevicePrimaryCtxRelease(dev));
  return 0;
}
