/*
 * matmul_wgmma.cu: fp16 GEMM C = A @ B^T on Hopper's warpgroup tensor-core
 * instructions (wgmma), fp32 accumulation. A is [M, K], B is [N, K] (the
 * layout of a linear layer's weight: both operands K-major), C is [M, N];
 * all row-major __half.
 *
 * Needs sm_90a (the spec sets "arch_specific"). Per stage of a cp.async
 * ring, a block copies a BLOCK_M x BLOCK_K tile of A and a BLOCK_N x
 * BLOCK_K tile of B into shared memory in the 128-byte-swizzled layout
 * wgmma reads (rows of 64 halves, 16-byte chunk c of row r stored at chunk
 * c ^ (r % 8), 8-row atoms of 1024 bytes); each warpgroup (4 warps) then
 * multiplies its BLOCK_M / warpgroups rows of A by the whole B tile with
 * asynchronous m64nBLOCK_Nk16 wgmmas, keeping one stage of them in flight
 * while the next stage's copies are issued.
 *
 * Tunable macros (set by helion-tune from matmul_wgmma.json):
 *   BLOCK_M        64, 128 or 256: rows of C per block.
 *   BLOCK_N        64, 128 or 256: columns of C per block (the wgmma N).
 *   BLOCK_K        64 or 128: K depth of a stage (one or two 128-byte rows).
 *   HL_NUM_WARPS   4, 8 or 16: one, two or four warpgroups, splitting
 *                  BLOCK_M between them (each takes a multiple of 64 rows).
 *   HL_NUM_STAGES  3..6: stages of the cp.async ring (two of them hold the
 *                  tile being multiplied and the one before it).
 *   HL_PID_TYPE    flat, persistent_blocked or persistent_interleaved.
 *   HL_L2_GROUPING_0  hl_swizzle group (tiles walk this many rows of M
 *                  before moving along N).
 *   maxnreg        null or 255 (NVRTC --maxrregcount).
 * Constraints (the spec's restrictions; static_asserts below): the rows of
 * a warpgroup, BLOCK_M / warpgroups, are a multiple of 64, and (those rows
 * / 64) * BLOCK_N <= 256 (at most 128 fp32 accumulators per thread), and
 * the accumulators plus 64 fit the registers a thread may have at this
 * block size (min(255, 65536 / threads)); M, N
 * and K are multiples of BLOCK_M, BLOCK_N and BLOCK_K; the stages fit in
 * shared memory with 1 KiB to align them.
 */
#include <cuda_fp16.h>

#ifndef HL_NUM_WARPS
#define HL_NUM_WARPS 8
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
#define BLOCK_N 256
#endif
#ifndef BLOCK_K
#define BLOCK_K 64
#endif

#if !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#error "matmul_wgmma needs sm_90a: compile with --gpu-architecture=sm_90a"
#endif

#define WARPGROUPS (HL_NUM_WARPS / 4)
#define WG_ROWS (BLOCK_M / WARPGROUPS) /* rows of C per warpgroup */
#define SLABS (WG_ROWS / 64)           /* m64 wgmmas per k-step */
#define STAGES HL_NUM_STAGES
#define K_STEPS (BLOCK_K / 16)

static_assert(HL_NUM_WARPS % 4 == 0 && WARPGROUPS >= 1,
              "num_warps must be a multiple of 4 (whole warpgroups)");
static_assert(WG_ROWS % 64 == 0 && WG_ROWS >= 64,
              "BLOCK_M / (num_warps / 4) must be a multiple of 64");
static_assert(BLOCK_N == 64 || BLOCK_N == 128 || BLOCK_N == 256,
              "BLOCK_N must be 64, 128 or 256");
static_assert(BLOCK_K == 64 || BLOCK_K == 128, "BLOCK_K must be 64 or 128");
static_assert(SLABS * BLOCK_N <= 256,
              "at most 128 accumulators per thread: (BLOCK_M / warpgroups / "
              "64) * BLOCK_N <= 256");
static_assert(STAGES >= 3 && STAGES <= 8, "HL_NUM_STAGES must be in [3, 8]");

/* Bytes of one stage's tiles; both are multiples of 1024 (whole atoms). */
#define A_STAGE (BLOCK_M * BLOCK_K * 2)
#define B_STAGE (BLOCK_N * BLOCK_K * 2)

__device__ __forceinline__ unsigned smem_addr(const void *p) {
  unsigned r;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }"
      : "=r"(r)
      : "l"(p));
  return r;
}

__device__ __forceinline__ void cp_async16(unsigned dst, const void *src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst),
               "l"(src));
}

__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;");
}

template <int N> __device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N));
}

/* Makes this thread's shared-memory writes visible to the async proxy that
 * wgmma reads through. */
__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
/* Waits until at most N wgmma groups of this warpgroup are in flight. */
template <int N> __device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

/* A shared-memory matrix descriptor for the 128-byte-swizzled K-major
 * layout: start address, leading offset 1 (unused by this layout), stride
 * 1024 bytes between 8-row atoms, swizzle mode 1 (128 B). Addresses and
 * offsets are in 16-byte units. */
__device__ __forceinline__ unsigned long long smem_desc(unsigned addr) {
  return (unsigned long long)((addr & 0x3FFFF) >> 4) |
         (1ull << 16) | ((unsigned long long)(1024 >> 4) << 32) |
         (1ull << 62);
}

/* ---- GENERATED by gen_wgmma.py: do not edit by hand ---- */
/* d += A (64 x 16, smem descriptor da) * B (16 x 64, descriptor db),
 * both K-major, fp16 in, fp32 accumulators; asynchronous (see
 * wgmma_commit / wgmma_wait). */
__device__ __forceinline__ void wgmma_n64(float (&d)[32],
                                         unsigned long long da,
                                         unsigned long long db) {
  asm volatile(
      "{ .reg .pred p;"
      " setp.ne.b32 p, %34, 0;"
      " wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7,"
      " %8, %9, %10, %11, %12, %13, %14, %15,"
      " %16, %17, %18, %19, %20, %21, %22, %23,"
      " %24, %25, %26, %27, %28, %29, %30, %31},"
      " %32, %33, p, 1, 1, 0, 0; }"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),
        "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),
        "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),
        "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31])
      : "l"(da), "l"(db), "r"(1));
}

/* d += A (64 x 16, smem descriptor da) * B (16 x 128, descriptor db),
 * both K-major, fp16 in, fp32 accumulators; asynchronous (see
 * wgmma_commit / wgmma_wait). */
__device__ __forceinline__ void wgmma_n128(float (&d)[64],
                                         unsigned long long da,
                                         unsigned long long db) {
  asm volatile(
      "{ .reg .pred p;"
      " setp.ne.b32 p, %66, 0;"
      " wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7,"
      " %8, %9, %10, %11, %12, %13, %14, %15,"
      " %16, %17, %18, %19, %20, %21, %22, %23,"
      " %24, %25, %26, %27, %28, %29, %30, %31,"
      " %32, %33, %34, %35, %36, %37, %38, %39,"
      " %40, %41, %42, %43, %44, %45, %46, %47,"
      " %48, %49, %50, %51, %52, %53, %54, %55,"
      " %56, %57, %58, %59, %60, %61, %62, %63},"
      " %64, %65, p, 1, 1, 0, 0; }"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),
        "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),
        "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),
        "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]),
        "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
        "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]),
        "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]),
        "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(da), "l"(db), "r"(1));
}

/* d += A (64 x 16, smem descriptor da) * B (16 x 256, descriptor db),
 * both K-major, fp16 in, fp32 accumulators; asynchronous (see
 * wgmma_commit / wgmma_wait). */
__device__ __forceinline__ void wgmma_n256(float (&d)[128],
                                         unsigned long long da,
                                         unsigned long long db) {
  asm volatile(
      "{ .reg .pred p;"
      " setp.ne.b32 p, %130, 0;"
      " wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7,"
      " %8, %9, %10, %11, %12, %13, %14, %15,"
      " %16, %17, %18, %19, %20, %21, %22, %23,"
      " %24, %25, %26, %27, %28, %29, %30, %31,"
      " %32, %33, %34, %35, %36, %37, %38, %39,"
      " %40, %41, %42, %43, %44, %45, %46, %47,"
      " %48, %49, %50, %51, %52, %53, %54, %55,"
      " %56, %57, %58, %59, %60, %61, %62, %63,"
      " %64, %65, %66, %67, %68, %69, %70, %71,"
      " %72, %73, %74, %75, %76, %77, %78, %79,"
      " %80, %81, %82, %83, %84, %85, %86, %87,"
      " %88, %89, %90, %91, %92, %93, %94, %95,"
      " %96, %97, %98, %99, %100, %101, %102, %103,"
      " %104, %105, %106, %107, %108, %109, %110, %111,"
      " %112, %113, %114, %115, %116, %117, %118, %119,"
      " %120, %121, %122, %123, %124, %125, %126, %127},"
      " %128, %129, p, 1, 1, 0, 0; }"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),
        "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),
        "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),
        "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]),
        "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
        "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]),
        "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]),
        "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]),
        "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]),
        "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]),
        "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]),
        "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
        "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]),
        "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]),
        "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]),
        "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
        "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]),
        "+f"(d[126]), "+f"(d[127])
      : "l"(da), "l"(db), "r"(1));
}

/* ---- end of GENERATED ---- */

/* The wgmma of this configuration's N. */
__device__ __forceinline__ void wgmma_tile(float (&d)[BLOCK_N / 2],
                                           unsigned long long da,
                                           unsigned long long db) {
#if BLOCK_N == 64
  wgmma_n64(d, da, db);
#elif BLOCK_N == 128
  wgmma_n128(d, da, db);
#else
  wgmma_n256(d, da, db);
#endif
}

/* Offset in bytes of the 16-byte chunk `c` (of BLOCK_K / 8) of tile row
 * `row` in a tile of `rows` rows: BLOCK_K / 64 sub-tiles of 128-byte rows
 * one after the other, chunks swizzled within each 8-row atom. */
__device__ __forceinline__ unsigned chunk_off(int rows, int row, int c) {
  return (unsigned)((c / 8) * rows * 128 + row * 128 +
                    (((c % 8) ^ (row % 8)) * 16));
}

/* Issues the cp.async copies of k-tile `kt` into the stage at sa, sb. */
__device__ __forceinline__ void load_stage(unsigned sa, unsigned sb,
                                           const __half *A, const __half *B,
                                           long long m0, long long n0,
                                           long long kt, int K) {
  constexpr int CPR = BLOCK_K / 8; /* chunks per row */
#pragma unroll
  for (int i = 0; i < hl_cdiv(BLOCK_M * CPR, HL_NUM_THREADS); i++) {
    const int c = threadIdx.x + i * HL_NUM_THREADS;
    if ((BLOCK_M * CPR) % HL_NUM_THREADS == 0 || c < BLOCK_M * CPR) {
      const int row = c / CPR, ch = c % CPR;
      cp_async16(sa + chunk_off(BLOCK_M, row, ch),
                 A + (m0 + row) * (long long)K + kt * BLOCK_K + ch * 8);
    }
  }
#pragma unroll
  for (int i = 0; i < hl_cdiv(BLOCK_N * CPR, HL_NUM_THREADS); i++) {
    const int c = threadIdx.x + i * HL_NUM_THREADS;
    if ((BLOCK_N * CPR) % HL_NUM_THREADS == 0 || c < BLOCK_N * CPR) {
      const int row = c / CPR, ch = c % CPR;
      cp_async16(sb + chunk_off(BLOCK_N, row, ch),
                 B + (n0 + row) * (long long)K + kt * BLOCK_K + ch * 8);
    }
  }
}

/* The wgmmas of one stage for warpgroup `wg`: every k-step, every slab. */
__device__ __forceinline__ void mma_stage(float (&acc)[SLABS][BLOCK_N / 2],
                                          unsigned sa, unsigned sb, int wg) {
#pragma unroll
  for (int kk = 0; kk < K_STEPS; kk++) {
    /* k-step kk lies in sub-tile kk / 4, 32 bytes per step into its rows
     * (the hardware applies the swizzle to the address it forms). */
    const unsigned koff = (kk % 4) * 32;
    const unsigned long long db =
        smem_desc(sb + (kk / 4) * BLOCK_N * 128 + koff);
#pragma unroll
    for (int s = 0; s < SLABS; s++) {
      const unsigned a_row = wg * WG_ROWS + s * 64;
      wgmma_tile(acc[s],
                 smem_desc(sa + (kk / 4) * BLOCK_M * 128 + a_row * 128 + koff),
                 db);
    }
  }
}

/* Keeps the compiler from touching the accumulators across a wait (their
 * values change asynchronously under the wgmmas). */
__device__ __forceinline__ void pin(float (&acc)[SLABS][BLOCK_N / 2]) {
#pragma unroll
  for (int s = 0; s < SLABS; s++)
#pragma unroll
    for (int j = 0; j < BLOCK_N / 2; j++)
      asm volatile("" : "+f"(acc[s][j])::"memory");
}

extern "C" __global__ void __launch_bounds__(HL_NUM_THREADS)
    matmul_wgmma(const __half *__restrict__ A, const __half *__restrict__ B,
                 __half *__restrict__ C, int M, int N, int K) {
  extern __shared__ uint4 smem[];
  /* The launch asks for 1 KiB more than the stages: round the base up to
   * the 1024-byte alignment of the swizzle atoms. */
  const unsigned s_base = (smem_addr(smem) + 1023u) & ~1023u;
  const unsigned s_a = s_base, s_b = s_base + STAGES * A_STAGE;

  const int wg = threadIdx.x / 128;
  const int lane = threadIdx.x % 32;
  const int warp_in_wg = (threadIdx.x % 128) / 32;
  const long long tiles_m = M / BLOCK_M, tiles_n = N / BLOCK_N;
  const long long k_tiles = K / BLOCK_K;

  HL_FOR_EACH_TILE(tile, tiles_m * tiles_n) {
    const hl_tile2 t = hl_swizzle(tile, tiles_m, tiles_n);
    const long long m0 = t.m * BLOCK_M, n0 = t.n * BLOCK_N;

    float acc[SLABS][BLOCK_N / 2];
#pragma unroll
    for (int s = 0; s < SLABS; s++)
#pragma unroll
      for (int j = 0; j < BLOCK_N / 2; j++)
        acc[s][j] = 0.0f;

    /* Prologue: k-tiles 0 .. STAGES - 3 in flight (one commit per step,
     * even when empty, keeps the group count uniform). */
#pragma unroll
    for (int s = 0; s < STAGES - 2; s++) {
      if (s < k_tiles)
        load_stage(s_a + s * A_STAGE, s_b + s * B_STAGE, A, B, m0, n0, s, K);
      cp_async_commit();
    }
    for (long long kt = 0; kt < k_tiles; kt++) {
      /* k-tile kt has landed once at most STAGES - 3 newer groups are
       * pending; after the barrier every warpgroup is also past the wait
       * below for k-tile kt - 2, so that stage may be refilled. */
      cp_async_wait<STAGES - 3>();
      fence_proxy_async();
      __syncthreads();
      const long long next = kt + STAGES - 2;
      if (next < k_tiles) {
        const int w = (int)(next % STAGES);
        load_stage(s_a + w * A_STAGE, s_b + w * B_STAGE, A, B, m0, n0, next,
                   K);
      }
      cp_async_commit();
      const int r = (int)(kt % STAGES);
      wgmma_fence();
      mma_stage(acc, s_a + r * A_STAGE, s_b + r * B_STAGE, wg);
      wgmma_commit();
      /* Keep this stage's wgmmas in flight; the previous ones are done. */
      wgmma_wait<1>();
      pin(acc);
    }
    wgmma_wait<0>();
    pin(acc);
    /* The next tile's prologue overwrites the stages. */
    cp_async_wait<0>();
    __syncthreads();

    /* Epilogue: the accumulator layout of m64nNk16 is that of mma's m16n8
     * per warp (warp w of the warpgroup owns rows 16w .. 16w + 15): value
     * 4j + {0, 1} at row lane / 4, columns 8j + 2 (lane % 4) + {0, 1};
     * 4j + {2, 3} eight rows lower. */
#pragma unroll
    for (int s = 0; s < SLABS; s++) {
      const long long row =
          m0 + wg * WG_ROWS + s * 64 + warp_in_wg * 16 + lane / 4;
#pragma unroll
      for (int j = 0; j < BLOCK_N / 8; j++) {
        const long long col = n0 + j * 8 + 2 * (lane % 4);
        *reinterpret_cast<__half2 *>(C + row * N + col) =
            __floats2half2_rn(acc[s][4 * j], acc[s][4 * j + 1]);
        *reinterpret_cast<__half2 *>(C + (row + 8) * N + col) =
            __floats2half2_rn(acc[s][4 * j + 2], acc[s][4 * j + 3]);
      }
    }
  }
}
