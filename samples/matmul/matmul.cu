/*
 * matmul.cu: fp16 GEMM C = A @ B on the tensor cores, fp32 accumulation.
 * A is [M, K], B is [K, N], C is [M, N], all row-major __half.
 *
 * The sm_80+ path (it runs unchanged on sm_90): tiles of A and B move from
 * global to shared memory with cp.async in a multi-stage ring, warps read
 * their fragments with ldmatrix (.trans for B) and multiply with
 * mma.sync.aligned.m16n8k16. Shared memory is XOR-swizzled in 16-byte
 * chunks so that both the cp.async writes and the ldmatrix reads of a warp
 * hit 32 distinct banks.
 *
 * Tunable macros (set by helion-tune from matmul.json; defaults here match
 * the spec's "defaults"):
 *   BLOCK_M, BLOCK_N  powers of two, [32, 256]; default 128 x 128: the C tile
 *                     of one block.
 *   BLOCK_K           power of two in [16, 128], default 32: the K depth of
 *                     one pipeline stage.
 *   HL_NUM_WARPS      power of two in [1, 16], default 4 (2 x 2 warps of
 *                     64 x 64: the fastest default measured on an H200).
 *   WARPS_M           power of two in [1, 8], default 2 (user tunable): warps
 *                     along M; the other HL_NUM_WARPS / WARPS_M go along N.
 *                     Warp tile = (BLOCK_M / WARPS_M) x (BLOCK_N / WARPS_N).
 *   DOUBLE_BUFFER     boolean, default true (user tunable): double-buffer
 *                     the ldmatrix fragments in registers, so the loads of
 *                     the next k-step overlap the mma of this one (more
 *                     registers; with HL_NUM_STAGES >= 2 only).
 *   HL_NUM_STAGES     1..5, default 4: shared-memory stages of the cp.async
 *                     ring (1 = load, wait, compute; no overlap).
 *   HL_PID_TYPE       flat (one C tile per block), persistent_blocked or
 *                     persistent_interleaved (grid = min(tiles, num_sms *
 *                     num_sm_multiplier), blocks loop over tiles with
 *                     HL_FOR_EACH_TILE).
 *   num_sm_multiplier 1..4, default 1: persistent grids launch this many
 *                     blocks per SM (host side only).
 *   HL_L2_GROUPING_0  power of two in [1, 64], default 8: hl_swizzle group
 *                     (tiles walk down this many rows of M before moving
 *                     along N, so concurrent blocks share A and B in L2).
 *   maxnreg           null, 128 or 255: NVRTC --maxrregcount (no macro).
 * Constraints (the spec's restrictions; static_asserts below):
 *   WARPS_M <= HL_NUM_WARPS;
 *   BLOCK_M % (16 * WARPS_M) == 0 and BLOCK_N % (16 * WARPS_N) == 0 (a warp
 *   tile is whole 16 x 16 ldmatrix blocks);
 *   BLOCK_M * BLOCK_N <= 4096 * HL_NUM_WARPS (at most 128 fp32 accumulators
 *   per thread);
 *   M % BLOCK_M == 0, N % BLOCK_N == 0, K % BLOCK_K == 0 (no edge tiles);
 *   (BLOCK_M + BLOCK_N) * BLOCK_K * 2 * HL_NUM_STAGES <= smem_per_block: the
 *   dynamic shared memory the launch passes (over 48 KiB needs
 *   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, which the runner sets).
 * The launch has (M / BLOCK_M) * (N / BLOCK_N) tiles, 32 * num_warps threads.
 */
#include <cuda_fp16.h>

/* The kernel's own defaults for the standard macros, before device.cuh
 * fills in the rest. */
#ifndef HL_NUM_WARPS
#define HL_NUM_WARPS 4
#endif
#ifndef HL_NUM_STAGES
#define HL_NUM_STAGES 4
#endif
#ifndef HL_L2_GROUPING_0
#define HL_L2_GROUPING_0 8
#endif

#include <helion/device.cuh>

#ifndef BLOCK_M
#define BLOCK_M 128
#endif
#ifndef BLOCK_N
#define BLOCK_N 128
#endif
#ifndef BLOCK_K
#define BLOCK_K 32
#endif
#ifndef WARPS_M
#define WARPS_M 2
#endif
#ifndef DOUBLE_BUFFER
#define DOUBLE_BUFFER 1
#endif

#define WARPS_N (HL_NUM_WARPS / WARPS_M)
#define WARP_TILE_M (BLOCK_M / WARPS_M)
#define WARP_TILE_N (BLOCK_N / WARPS_N)
#define MMA_M (WARP_TILE_M / 16) /* m16 fragments per warp */
#define MMA_N (WARP_TILE_N / 8)  /* n8 fragments per warp */
#define STAGES HL_NUM_STAGES

static_assert(HL_NUM_WARPS % WARPS_M == 0 && WARPS_M <= HL_NUM_WARPS,
              "WARPS_M must divide num_warps");
static_assert(BLOCK_M % (16 * WARPS_M) == 0,
              "BLOCK_M must be a multiple of 16 * WARPS_M");
static_assert(BLOCK_N % (16 * WARPS_N) == 0,
              "BLOCK_N must be a multiple of 16 * (num_warps / WARPS_M)");
static_assert(BLOCK_K % 16 == 0 && (BLOCK_K & (BLOCK_K - 1)) == 0,
              "BLOCK_K must be a power of two >= 16");
static_assert(MMA_M * MMA_N * 4 <= 128,
              "BLOCK_M * BLOCK_N must be at most 4096 * num_warps");
static_assert(STAGES >= 1 && STAGES <= 8, "HL_NUM_STAGES must be in [1, 8]");

/* 16-byte chunks per row of the A tile (BLOCK_K halves) and the B tile
 * (BLOCK_N halves), and per stage. */
#define A_CHUNKS_ROW (BLOCK_K / 8)
#define B_CHUNKS_ROW (BLOCK_N / 8)
#define A_CHUNKS (BLOCK_M * A_CHUNKS_ROW)
#define B_CHUNKS (BLOCK_K * B_CHUNKS_ROW)

/*
 * The swizzled chunk index of (row, chunk) in a tile with CPR chunks per
 * row. Shared memory has 32 banks of 4 bytes: one 128-byte line. A line
 * holds 8 chunks; the chunk's position within its line is XORed with the
 * line's row group (row / rows-per-line), so the 8 rows an ldmatrix reads at
 * one column land in 8 different chunk positions, and a warp's 32
 * consecutive cp.async chunks stay a permutation of their lines.
 */
template <int CPR>
__device__ __forceinline__ int swz(int row, int chunk) {
  constexpr int rows_per_line = CPR >= 8 ? 1 : 8 / CPR;
  const int lin = row * CPR + chunk;
  const int x = (row / rows_per_line) & 7;
  return (lin & ~7) | ((lin ^ x) & 7);
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, "
               "[%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4],
                                                  unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 "
               "{%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

/* d += a * b for one m16n8k16 fragment (fp16 inputs, fp32 accumulators). */
__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4],
                                         unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                 "r"(b1));
}

/* Issues the cp.async copies of k-tile `kt` into stage buffers sa, sb. */
__device__ __forceinline__ void load_stage(unsigned sa, unsigned sb,
                                           const __half *A, const __half *B,
                                           long long m0, long long n0,
                                           long long kt, int N, int K) {
  const int tid = threadIdx.x;
#pragma unroll
  for (int i = 0; i < hl_cdiv(A_CHUNKS, HL_NUM_THREADS); i++) {
    const int c = tid + i * HL_NUM_THREADS;
    if (A_CHUNKS % HL_NUM_THREADS == 0 || c < A_CHUNKS) {
      const int row = c / A_CHUNKS_ROW, ch = c % A_CHUNKS_ROW;
      const __half *src =
          A + (m0 + row) * (long long)K + kt * BLOCK_K + ch * 8;
      hl_cp_async16(sa + 16 * swz<A_CHUNKS_ROW>(row, ch), src);
    }
  }
#pragma unroll
  for (int i = 0; i < hl_cdiv(B_CHUNKS, HL_NUM_THREADS); i++) {
    const int c = tid + i * HL_NUM_THREADS;
    if (B_CHUNKS % HL_NUM_THREADS == 0 || c < B_CHUNKS) {
      const int row = c / B_CHUNKS_ROW, ch = c % B_CHUNKS_ROW;
      const __half *src =
          B + (kt * BLOCK_K + row) * (long long)N + n0 + ch * 8;
      hl_cp_async16(sb + 16 * swz<B_CHUNKS_ROW>(row, ch), src);
    }
  }
}

/* The fragments of one 16-deep k-step of a warp: MMA_M A fragments (a0..a3
 * of m16n8k16) and MMA_N B fragments, two per ldmatrix.x4.trans. */
struct frags {
  unsigned a[MMA_M][4];
  unsigned b[MMA_N / 2][4];
};

/* Loads k-step kk of the stage at sa, sb. ldmatrix.x4: lanes 0-15 address
 * rows 0-15 at the first 8 columns, lanes 16-31 the same rows at the next
 * 8: the mma's a0..a3 order, and (with .trans on k-major B) b0, b1 of two
 * n8 fragments. */
__device__ __forceinline__ void load_frags(frags &f, unsigned sa, unsigned sb,
                                           int kk, int warp_m, int warp_n,
                                           int lane) {
#pragma unroll
  for (int i = 0; i < MMA_M; i++) {
    const int row = warp_m * WARP_TILE_M + i * 16 + (lane & 15);
    const int ch = kk * 2 + (lane >> 4);
    ldmatrix_x4(f.a[i], sa + 16 * swz<A_CHUNKS_ROW>(row, ch));
  }
#pragma unroll
  for (int j = 0; j < MMA_N / 2; j++) {
    const int row = kk * 16 + (lane & 15);
    const int ch = (warp_n * WARP_TILE_N + j * 16) / 8 + (lane >> 4);
    ldmatrix_x4_trans(f.b[j], sb + 16 * swz<B_CHUNKS_ROW>(row, ch));
  }
}

/* acc += the k-step held in f. */
__device__ __forceinline__ void mma_frags(float (&acc)[MMA_M][MMA_N][4],
                                          const frags &f) {
#pragma unroll
  for (int i = 0; i < MMA_M; i++) {
#pragma unroll
    for (int j = 0; j < MMA_N; j++)
      mma16816(acc[i][j], f.a[i], f.b[j / 2][(j % 2) * 2],
               f.b[j / 2][(j % 2) * 2 + 1]);
  }
}

#define K_STEPS (BLOCK_K / 16)

extern "C" __global__ void __launch_bounds__(HL_NUM_THREADS)
    matmul(const __half *__restrict__ A, const __half *__restrict__ B,
           __half *__restrict__ C, int M, int N, int K) {
  extern __shared__ uint4 smem[];
  const unsigned s_base = hl_smem_addr(smem);
  constexpr unsigned A_STAGE = BLOCK_M * BLOCK_K * 2; /* bytes */
  constexpr unsigned B_STAGE = BLOCK_K * BLOCK_N * 2;
  const unsigned s_a = s_base, s_b = s_base + STAGES * A_STAGE;

  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const int warp_m = warp % WARPS_M, warp_n = warp / WARPS_M;
  const long long tiles_m = M / BLOCK_M, tiles_n = N / BLOCK_N;
  const long long k_tiles = K / BLOCK_K;

  HL_FOR_EACH_TILE(tile, tiles_m * tiles_n) {
    const hl_tile2 t = hl_swizzle(tile, tiles_m, tiles_n);
    const long long m0 = t.m * BLOCK_M, n0 = t.n * BLOCK_N;

    float acc[MMA_M][MMA_N][4];
#pragma unroll
    for (int i = 0; i < MMA_M; i++)
#pragma unroll
      for (int j = 0; j < MMA_N; j++)
#pragma unroll
        for (int r = 0; r < 4; r++)
          acc[i][j][r] = 0.0f;

    if constexpr (STAGES == 1) {
      /* No overlap: load, wait, multiply, and wait again before the next
       * load overwrites the only stage. */
      for (long long kt = 0; kt < k_tiles; kt++) {
        load_stage(s_a, s_b, A, B, m0, n0, kt, N, K);
        hl_cp_async_commit();
        hl_cp_async_wait<0>();
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < K_STEPS; kk++) {
          frags f;
          load_frags(f, s_a, s_b, kk, warp_m, warp_n, lane);
          mma_frags(acc, f);
        }
        __syncthreads();
      }
    } else {
      /* Prologue: the first STAGES - 1 k-tiles in flight. One commit per
       * step even when there is nothing to load keeps the group count, and
       * so the waits below, uniform. */
#pragma unroll
      for (int s = 0; s < STAGES - 1; s++) {
        if (s < k_tiles)
          load_stage(s_a + s * A_STAGE, s_b + s * B_STAGE, A, B, m0, n0, s,
                     N, K);
        hl_cp_async_commit();
      }
      int read = 0, write = STAGES - 1;
      hl_cp_async_wait<STAGES - 2>();
      __syncthreads();
      /* With DOUBLE_BUFFER the fragments are double-buffered: while the
       * tensor cores work on k-step kk, the ldmatrix of step kk + 1 (of the
       * next stage, after the last step) is already in flight. Without it
       * each step loads and then multiplies, in fewer registers. */
      frags f[DOUBLE_BUFFER ? 2 : 1];
      if constexpr (DOUBLE_BUFFER)
        load_frags(f[0], s_a, s_b, 0, warp_m, warp_n, lane);
      for (long long kt = 0; kt < k_tiles; kt++) {
#pragma unroll
        for (int kk = 0; kk < K_STEPS; kk++) {
          if (kk == 0) {
            /* Refill the stage read in the previous k-tile: every warp
             * loaded its last fragments of it before the barrier that
             * preceded this point. */
            if (kt + STAGES - 1 < k_tiles)
              load_stage(s_a + write * A_STAGE, s_b + write * B_STAGE, A, B,
                         m0, n0, kt + STAGES - 1, N, K);
            hl_cp_async_commit();
            write = write + 1 == STAGES ? 0 : write + 1;
          }
          if constexpr (DOUBLE_BUFFER) {
            if (kk == K_STEPS - 1) {
              /* k-tile kt + 1 has landed once at most STAGES - 2 newer
               * groups are pending. */
              read = read + 1 == STAGES ? 0 : read + 1;
              hl_cp_async_wait<STAGES - 2>();
              __syncthreads();
            }
            load_frags(f[(kk + 1) % 2], s_a + read * A_STAGE,
                       s_b + read * B_STAGE, (kk + 1) % K_STEPS, warp_m,
                       warp_n, lane);
            mma_frags(acc, f[kk % 2]);
          } else {
            load_frags(f[0], s_a + read * A_STAGE, s_b + read * B_STAGE, kk,
                       warp_m, warp_n, lane);
            mma_frags(acc, f[0]);
            if (kk == K_STEPS - 1) {
              read = read + 1 == STAGES ? 0 : read + 1;
              hl_cp_async_wait<STAGES - 2>();
              __syncthreads();
            }
          }
        }
        /* With a single k-step per stage the next step's fragments sit in
         * f[1] where the loop expects f[0]. */
        if constexpr (DOUBLE_BUFFER && K_STEPS == 1)
          f[0] = f[DOUBLE_BUFFER ? 1 : 0];
      }
      /* The next tile's prologue overwrites the stages: drain and sync. */
      hl_cp_async_wait<0>();
      __syncthreads();
    }

    /* Epilogue: fragment rows lane / 4 and lane / 4 + 8, columns
     * 2 * (lane % 4) and the next, as half2. */
#pragma unroll
    for (int i = 0; i < MMA_M; i++) {
#pragma unroll
      for (int j = 0; j < MMA_N; j++) {
        const long long row =
            m0 + warp_m * WARP_TILE_M + i * 16 + lane / 4;
        const long long col =
            n0 + warp_n * WARP_TILE_N + j * 8 + 2 * (lane % 4);
        __half2 *p0 = reinterpret_cast<__half2 *>(C + row * N + col);
        __half2 *p1 = reinterpret_cast<__half2 *>(C + (row + 8) * N + col);
        *p0 = __floats2half2_rn(acc[i][j][0], acc[i][j][1]);
        *p1 = __floats2half2_rn(acc[i][j][2], acc[i][j][3]);
      }
    }
  }
}
