/*
 * transpose.cu: Y = X^T for an fp32 X of [M, N] (Y is [N, M]), through a
 * shared-memory tile so that both the reads of X and the writes of Y are
 * coalesced. Each tile row is padded by one float: a warp reading a tile
 * column then touches 32 different banks instead of one.
 *
 * Tunable macros (set by helion-tune from transpose.json; defaults here
 * match the spec's "defaults"):
 *   TILE              power of two in [16, 128], default 32: the square tile
 *                     a block moves at a time.
 *   ROWS_PER_THREAD   power of two in [1, 32], default 4 (user tunable): tile
 *                     rows each thread copies (the block is TILE threads wide
 *                     and TILE / ROWS_PER_THREAD high).
 *   HL_NUM_WARPS      power of two in [1, 32], default 8.
 *   HL_PID_TYPE       flat, persistent_blocked or persistent_interleaved.
 *   HL_L2_GROUPING_0  hl_swizzle group over the 2-D grid of tiles, default 1.
 *   HL_EVICT_0        eviction policy of the X loads (default normal).
 * Constraints (the spec's restrictions; static_asserts below):
 *   TILE * TILE == 32 * num_warps * ROWS_PER_THREAD (the threads cover the
 *   tile exactly);
 *   TILE * (TILE + 1) * 4 <= smem_per_block: the dynamic shared memory the
 *   launch passes (TILE = 128 needs 66 KB, over the 48 KB default, so the
 *   runner raises the function's limit).
 * Any M and N: edge tiles are guarded. The launch has
 * cdiv(M, TILE) * cdiv(N, TILE) tiles and 32 * num_warps threads.
 */
/* The kernel's own default block, before device.cuh fills in the rest. */
#ifndef HL_NUM_WARPS
#define HL_NUM_WARPS 8
#endif

#include <helion/device.cuh>

#ifndef TILE
#define TILE 32
#endif
#ifndef ROWS_PER_THREAD
#define ROWS_PER_THREAD 4
#endif

#define PITCH (TILE + 1)             /* padded row of the shared tile */
#define ROW_STEP (TILE / ROWS_PER_THREAD) /* tile rows one pass covers */

static_assert((TILE & (TILE - 1)) == 0, "TILE must be a power of two");
static_assert(TILE * TILE == HL_NUM_THREADS * ROWS_PER_THREAD,
              "TILE * TILE must equal 32 * num_warps * ROWS_PER_THREAD");

extern "C" __global__ void __launch_bounds__(HL_NUM_THREADS)
    transpose(const float *__restrict__ X, float *__restrict__ Y, int M,
              int N) {
  extern __shared__ float tile_buf[]; /* TILE * PITCH floats */
  const int tx = threadIdx.x % TILE, ty = threadIdx.x / TILE;
  const long long tiles_m = hl_cdiv((long long)M, (long long)TILE);
  const long long tiles_n = hl_cdiv((long long)N, (long long)TILE);
  HL_FOR_EACH_TILE(tile, tiles_m * tiles_n) {
    const hl_tile2 t = hl_swizzle(tile, tiles_m, tiles_n);
    const long long r0 = t.m * TILE, c0 = t.n * TILE;
    /* Read: consecutive threads take consecutive columns of X. */
#pragma unroll
    for (int i = 0; i < ROWS_PER_THREAD; i++) {
      const int r = ty + i * ROW_STEP;
      if (r0 + r < M && c0 + tx < N)
        tile_buf[r * PITCH + tx] =
            hl_load<0>(X + (r0 + r) * (long long)N + c0 + tx);
    }
    __syncthreads();
    /* Write: consecutive threads take consecutive columns of Y, that is a
     * column of the shared tile (stride PITCH, odd: no bank conflicts). */
#pragma unroll
    for (int i = 0; i < ROWS_PER_THREAD; i++) {
      const int r = ty + i * ROW_STEP;
      if (c0 + r < N && r0 + tx < M)
        Y[(c0 + r) * (long long)M + r0 + tx] = tile_buf[tx * PITCH + r];
    }
    /* The next tile overwrites the buffer. */
    __syncthreads();
  }
}
