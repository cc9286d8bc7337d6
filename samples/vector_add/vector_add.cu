/*
 * vector_add.cu: C = A + B over N floats, the smallest tuned kernel.
 *
 * Tunable macros (set by helion-tune from vector_add.json; defaults here
 * match the spec's "defaults"):
 *   BLOCK         power of two in [32, 1024], default 256: chunks per tile.
 *   ITEMS         power of two in [1, 8], default 4 (user tunable): floats
 *                 per chunk, so a tile covers BLOCK * ITEMS elements.
 *   HL_NUM_WARPS  power of two in [1, 32], default 4; the block has
 *                 HL_NUM_THREADS = 32 * HL_NUM_WARPS threads.
 *   HL_PID_TYPE   flat (one tile per block), persistent_blocked or
 *                 persistent_interleaved (helion/device.cuh's tile loop).
 * Constraints: BLOCK % HL_NUM_THREADS == 0 (every thread handles the same
 * number of chunks: BLOCK / HL_NUM_THREADS of them). The launch has
 * cdiv(N, BLOCK * ITEMS) tiles and 32 * num_warps threads per block.
 */
#include <helion/device.cuh>

#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef ITEMS
#define ITEMS 4
#endif

static_assert((BLOCK & (BLOCK - 1)) == 0, "BLOCK must be a power of two");
static_assert((ITEMS & (ITEMS - 1)) == 0, "ITEMS must be a power of two");
static_assert(BLOCK % HL_NUM_THREADS == 0,
              "BLOCK must be a multiple of the thread count 32 * num_warps");

extern "C" __global__ void __launch_bounds__(HL_NUM_THREADS)
    vector_add(const float *__restrict__ A, const float *__restrict__ B,
               float *__restrict__ C, int N) {
  const long long n = N;
  const long long tile_elems = (long long)BLOCK * ITEMS;
  HL_FOR_EACH_TILE(tile, hl_cdiv(n, tile_elems)) {
    const long long base = tile * tile_elems;
    /* Chunk c of the tile is ITEMS consecutive floats; thread t takes
     * chunks t, t + threads, ... so a warp's loads stay contiguous. */
#pragma unroll
    for (int j = 0; j < BLOCK / HL_NUM_THREADS; j++) {
      const int c = threadIdx.x + j * HL_NUM_THREADS;
      const long long first = base + (long long)c * ITEMS;
      if (first + ITEMS <= n) {
#pragma unroll
        for (int k = 0; k < ITEMS; k++)
          C[first + k] = hl_load<0>(A + first + k) + hl_load<1>(B + first + k);
      } else {
        for (int k = 0; k < ITEMS && first + k < n; k++)
          C[first + k] = hl_load<0>(A + first + k) + hl_load<1>(B + first + k);
      }
    }
  }
}
