/*
 * softmax.cu: row-wise softmax of an fp32 [M, N] matrix,
 * Y[r, :] = exp(X[r, :] - max(X[r, :])) / sum(exp(X[r, :] - max(X[r, :]))),
 * numerically stable (the row maximum is subtracted before exp).
 *
 * Tunable macros (set by helion-tune from softmax.json; defaults here match
 * the spec's "defaults"):
 *   BLOCK_N         power of two in [32, 4096], default 1024: columns a row's
 *                   threads read per step. When N <= BLOCK_N the row stays in
 *                   registers and X is read once; otherwise the kernel makes
 *                   an online max/sum pass and a second, writing pass.
 *   HL_NUM_WARPS    power of two in [1, 16], default 4.
 *   ROWS_PER_BLOCK  power of two in [1, 16], default 1 (user tunable): rows a
 *                   block works on at once. 1 = one row per block; equal to
 *                   num_warps = one row per warp.
 *   HL_PID_TYPE     flat (one tile of ROWS_PER_BLOCK rows per block),
 *                   persistent_blocked or persistent_interleaved.
 * Constraints (the spec's restrictions; static_asserts below):
 *   ROWS_PER_BLOCK <= num_warps              (a row gets whole warps)
 *   BLOCK_N * ROWS_PER_BLOCK >= 32 * num_warps        (>= 1 value/thread)
 *   BLOCK_N * ROWS_PER_BLOCK <= 32 * 32 * num_warps   (<= 32 values/thread)
 * The launch has cdiv(M, ROWS_PER_BLOCK) tiles, 32 * num_warps threads.
 */
#include <helion/device.cuh>

#ifndef BLOCK_N
#define BLOCK_N 1024
#endif
#ifndef ROWS_PER_BLOCK
#define ROWS_PER_BLOCK 1
#endif

#define THREADS_PER_ROW (HL_NUM_THREADS / ROWS_PER_BLOCK)
#define WARPS_PER_ROW (THREADS_PER_ROW / 32)
#define VALS (BLOCK_N / THREADS_PER_ROW)

static_assert(ROWS_PER_BLOCK >= 1 && ROWS_PER_BLOCK <= HL_NUM_WARPS &&
                  HL_NUM_WARPS % ROWS_PER_BLOCK == 0,
              "ROWS_PER_BLOCK must divide num_warps");
static_assert(BLOCK_N % THREADS_PER_ROW == 0 && VALS >= 1,
              "BLOCK_N * ROWS_PER_BLOCK must be a multiple of 32 * num_warps");
static_assert(VALS <= 32, "BLOCK_N * ROWS_PER_BLOCK must be at most "
                          "32 * 32 * num_warps (32 values per thread)");

#define NEG_INF (-__int_as_float(0x7f800000))

/* A partial softmax denominator: sum of exp(x - max) over some columns. */
struct max_sum {
  float max, sum;
};

/* Merges two partials, rescaling the smaller maximum's sum. An empty
 * partial (max = -inf) contributes nothing and never computes inf - inf. */
__device__ __forceinline__ max_sum combine(max_sum a, max_sum b) {
  if (a.max == NEG_INF)
    return b;
  if (b.max == NEG_INF)
    return a;
  float m = fmaxf(a.max, b.max);
  max_sum r = {m, a.sum * expf(a.max - m) + b.sum * expf(b.max - m)};
  return r;
}

/* Combines the partials of the THREADS_PER_ROW threads of one row; every
 * one of them gets the result. All threads of the block must call it (it
 * holds __syncthreads when a row spans several warps). */
__device__ __forceinline__ max_sum row_reduce(max_sum v, max_sum *scratch) {
#pragma unroll
  for (int off = 16; off > 0; off /= 2) {
    max_sum o = {__shfl_xor_sync(0xffffffffu, v.max, off),
                 __shfl_xor_sync(0xffffffffu, v.sum, off)};
    v = combine(v, o);
  }
  if constexpr (WARPS_PER_ROW > 1) {
    const int warp = threadIdx.x / 32;
    const int first = warp - warp % WARPS_PER_ROW;
    if (threadIdx.x % 32 == 0)
      scratch[warp] = v;
    __syncthreads();
    v = scratch[first];
#pragma unroll
    for (int w = 1; w < WARPS_PER_ROW; w++)
      v = combine(v, scratch[first + w]);
    /* The scratch is rewritten by the next row's reduction. */
    __syncthreads();
  }
  return v;
}

extern "C" __global__ void __launch_bounds__(HL_NUM_THREADS)
    softmax(const float *__restrict__ X, float *__restrict__ Y, int M, int N) {
  __shared__ max_sum scratch[HL_NUM_WARPS];
  const int lane = threadIdx.x % THREADS_PER_ROW;
  HL_FOR_EACH_TILE(tile, hl_cdiv((long long)M, (long long)ROWS_PER_BLOCK)) {
    const long long row =
        tile * ROWS_PER_BLOCK + (long long)(threadIdx.x / THREADS_PER_ROW);
    /* Rows past M still join the reductions' barriers; they read and write
     * nothing. */
    const bool live = row < M;
    const float *x = X + (live ? row : 0) * (long long)N;
    float *y = Y + (live ? row : 0) * (long long)N;
    float vals[VALS];
    max_sum part = {NEG_INF, 0.0f};
    for (int c0 = 0; c0 < N; c0 += BLOCK_N) {
      float m = NEG_INF;
#pragma unroll
      for (int k = 0; k < VALS; k++) {
        const int col = c0 + lane + k * THREADS_PER_ROW;
        vals[k] = live && col < N ? hl_load<0>(x + col) : NEG_INF;
        m = fmaxf(m, vals[k]);
      }
      max_sum chunk = {m, 0.0f};
      if (m != NEG_INF) {
#pragma unroll
        for (int k = 0; k < VALS; k++)
          chunk.sum += expf(vals[k] - m);
      }
      part = combine(part, chunk);
    }
    const max_sum total = row_reduce(part, scratch);
    if (!live)
      continue;
    const float inv = 1.0f / total.sum;
    if (N <= BLOCK_N) {
      /* The whole row is still in vals: write it without reading X again. */
#pragma unroll
      for (int k = 0; k < VALS; k++) {
        const int col = lane + k * THREADS_PER_ROW;
        if (col < N)
          y[col] = expf(vals[k] - total.max) * inv;
      }
    } else {
      for (int col = lane; col < N; col += THREADS_PER_ROW)
        y[col] = expf(hl_load<1>(x + col) - total.max) * inv;
    }
  }
}
