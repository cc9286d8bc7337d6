/*
 * multi.cu: out = 2 * in + 1 over N floats, UNROLL elements per thread, with
 * a tunable that marks configs for the benchmark worker's CPU test double
 * (tests/tools/fake_bench_worker.c), so tests/cli/test_multi_device.sh can
 * check a tune over several fake GPUs, dying workers included. On a real GPU
 * every config is correct; the marker is a string the kernel never reads.
 *
 * Tunable macros (from multi.json):
 *   BLOCK   power of two in [64, 1024], default 256: threads per block
 *   UNROLL  power of two in [1, 8], default 1: elements per thread
 *   MODE    what the fake does with the config (default ok): ok, crash (an
 *           illegal address: the worker exits), abort (the worker dies
 *           without a reply), wrong (accuracy mismatch)
 */
#define ok 0
#define crash 1
#define abort 2
#define wrong 3

#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef UNROLL
#define UNROLL 1
#endif
#ifndef MODE
#define MODE ok
#endif

#if MODE == crash
__device__ const char multi_fake_behaviour[] = "HELION_FAKE:crash";
#elif MODE == abort
__device__ const char multi_fake_behaviour[] = "HELION_FAKE:abort";
#elif MODE == wrong
__device__ const char multi_fake_behaviour[] = "HELION_FAKE:wrong";
#else
__device__ const char multi_fake_behaviour[] = "HELION_FAKE:ok";
#endif

extern "C" __global__ void multi(const float *in, float *out, int N) {
  int base = (blockIdx.x * BLOCK * UNROLL) + threadIdx.x;
#pragma unroll
  for (int u = 0; u < UNROLL; u++) {
    int i = base + u * BLOCK;
    if (i < N)
      out[i] = 2.0f * in[i] + 1.0f;
  }
}
