/*
 * rmsnorm.cu: RMS normalisation of the rows of a bf16 [M, N] matrix,
 * Y[r, c] = X[r, c] / sqrt(mean(X[r, :]^2) + eps) * W[c], accumulated and
 * scaled in fp32, written as bf16 (the LLaMA-style RMSNorm).
 *
 * Tunable macros (set by helion-tune from rmsnorm.json; defaults here match
 * the spec's "defaults"):
 *   BLOCK_N         power of two in [64, 8192], default 1024: columns a row's
 *                   threads cover per step. When N <= BLOCK_N the row stays
 *                   in registers and X is read once; otherwise the kernel
 *                   makes a sum-of-squares pass and a second, writing pass.
 *   HL_NUM_WARPS    power of two in [1, 16], default 4.
 *   ROWS_PER_BLOCK  power of two in [1, 16], default 1 (user tunable): rows a
 *                   block works on at once; equal to num_warps = one row per
 *                   warp, with no shared-memory reduction at all.
 *   VEC             1, 2, 4 or 8, default 8 (user tunable): bf16 elements per
 *                   load and store (2 to 16 bytes).
 *   HL_EVICT_0/1    eviction policy of the X loads and the W loads
 *                   (load_eviction_policies; default normal for both).
 *   HL_PID_TYPE     flat, persistent_blocked or persistent_interleaved.
 * Constraints (the spec's restrictions; static_asserts below):
 *   ROWS_PER_BLOCK <= num_warps                      (a row gets whole warps)
 *   N % VEC == 0                                     (aligned vectors)
 *   BLOCK_N * ROWS_PER_BLOCK >= 32 * num_warps * VEC (>= 1 vector/thread)
 *   BLOCK_N * ROWS_PER_BLOCK <= 32 * 32 * num_warps  (<= 32 values/thread)
 * The launch has cdiv(M, ROWS_PER_BLOCK) tiles, 32 * num_warps threads.
 */
#include <cuda_bf16.h>
#include <helion/device.cuh>

#ifndef BLOCK_N
#define BLOCK_N 1024
#endif
#ifndef ROWS_PER_BLOCK
#define ROWS_PER_BLOCK 1
#endif
#ifndef VEC
#define VEC 8
#endif

#define THREADS_PER_ROW (HL_NUM_THREADS / ROWS_PER_BLOCK)
#define WARPS_PER_ROW (THREADS_PER_ROW / 32)
#define STEP (THREADS_PER_ROW * VEC) /* columns per vector round */
#define VECS (BLOCK_N / STEP)        /* vectors per thread per chunk */

static_assert(VEC == 1 || VEC == 2 || VEC == 4 || VEC == 8,
              "VEC must be 1, 2, 4 or 8");
static_assert(ROWS_PER_BLOCK >= 1 && HL_NUM_WARPS % ROWS_PER_BLOCK == 0,
              "ROWS_PER_BLOCK must divide num_warps");
static_assert(BLOCK_N % STEP == 0 && VECS >= 1,
              "BLOCK_N * ROWS_PER_BLOCK must be a multiple of "
              "32 * num_warps * VEC");
static_assert(VECS * VEC <= 32, "BLOCK_N * ROWS_PER_BLOCK must be at most "
                                "32 * 32 * num_warps (32 values per thread)");

/* VEC bf16 values moved as one aligned access. */
struct __align__(2 * VEC) bvec {
  __nv_bfloat16 v[VEC];
};

/* Sums v over the THREADS_PER_ROW threads of one row; every one of them gets
 * the total. All threads of the block must call it (it holds
 * __syncthreads when a row spans several warps). */
__device__ __forceinline__ float row_sum(float v, float *scratch) {
#pragma unroll
  for (int off = 16; off > 0; off /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, off);
  if constexpr (WARPS_PER_ROW > 1) {
    const int warp = threadIdx.x / 32;
    const int first = warp - warp % WARPS_PER_ROW;
    if (threadIdx.x % 32 == 0)
      scratch[warp] = v;
    __syncthreads();
    v = 0.0f;
#pragma unroll
    for (int w = 0; w < WARPS_PER_ROW; w++)
      v += scratch[first + w];
    /* The scratch is rewritten by the next row's reduction. */
    __syncthreads();
  }
  return v;
}

extern "C" __global__ void __launch_bounds__(HL_NUM_THREADS)
    rmsnorm(const __nv_bfloat16 *__restrict__ X,
            const __nv_bfloat16 *__restrict__ W, __nv_bfloat16 *__restrict__ Y,
            int M, int N, float eps) {
  __shared__ float scratch[HL_NUM_WARPS];
  const int lane = threadIdx.x % THREADS_PER_ROW;
  HL_FOR_EACH_TILE(tile, hl_cdiv((long long)M, (long long)ROWS_PER_BLOCK)) {
    const long long row =
        tile * ROWS_PER_BLOCK + (long long)(threadIdx.x / THREADS_PER_ROW);
    /* Rows past M still join the reduction's barriers; they read and write
     * nothing. */
    const bool live = row < M;
    const __nv_bfloat16 *x = X + (live ? row : 0) * (long long)N;
    __nv_bfloat16 *y = Y + (live ? row : 0) * (long long)N;

    bvec vals[VECS];
    float ss = 0.0f;
    for (int c0 = 0; c0 < N; c0 += BLOCK_N) {
#pragma unroll
      for (int k = 0; k < VECS; k++) {
        const int col = c0 + (lane + k * THREADS_PER_ROW) * VEC;
        if (live && col < N) {
          vals[k] = hl_load<0>(reinterpret_cast<const bvec *>(x + col));
        } else {
#pragma unroll
          for (int e = 0; e < VEC; e++)
            vals[k].v[e] = __float2bfloat16(0.0f);
        }
#pragma unroll
        for (int e = 0; e < VEC; e++) {
          const float f = __bfloat162float(vals[k].v[e]);
          ss += f * f;
        }
      }
    }
    ss = row_sum(ss, scratch);
    if (!live)
      continue;
    const float inv = rsqrtf(ss / (float)N + eps);
    for (int c0 = 0; c0 < N; c0 += BLOCK_N) {
#pragma unroll
      for (int k = 0; k < VECS; k++) {
        const int col = c0 + (lane + k * THREADS_PER_ROW) * VEC;
        if (col >= N)
          continue;
        /* With N <= BLOCK_N the only chunk is still in vals. */
        const bvec xv =
            N <= BLOCK_N
                ? vals[k]
                : hl_load<0>(reinterpret_cast<const bvec *>(x + col));
        const bvec wv = hl_load<1>(reinterpret_cast<const bvec *>(W + col));
        bvec out;
#pragma unroll
        for (int e = 0; e < VEC; e++)
          out.v[e] = __float2bfloat16(__bfloat162float(xv.v[e]) * inv *
                                      __bfloat162float(wv.v[e]));
        *reinterpret_cast<bvec *>(y + col) = out;
      }
    }
  }
}
