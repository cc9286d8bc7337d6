/*
 * scale.cu: a minimal kernel for `helion-tune check` fixtures: y = 2 * x.
 * Tunable macros: BLOCK (power of two, default 128), HL_NUM_WARPS.
 */
#include <helion/device.cuh>
#ifndef BLOCK
#define BLOCK 128
#endif
extern "C" __global__ void scale(const float *x, float *y, int n) {
  HL_FOR_EACH_TILE(tile, hl_cdiv((long long)n, (long long)BLOCK)) {
    for (int i = threadIdx.x; i < BLOCK; i += HL_NUM_THREADS) {
      long long j = tile * BLOCK + i;
      if (j < n)
        y[j] = 2.0f * x[j];
    }
  }
}
