/*
 * helion/device.cuh: the device-side helpers tuned kernels include. They turn
 * the HL_* macros a configuration defines (DESIGN.md §4) into behaviour:
 * which tiles a block works on (pid_type), the L2-friendly order of 2-D tiles
 * (l2_groupings), and cache-hinted loads (load_eviction_policies). At the
 * end, the cp.async helpers the GEMM samples pipeline with (sm_80+).
 *
 * Every HL_* macro has a default here, so a kernel compiles on its own (the
 * default configuration needs no -D at all) and a config only passes what it
 * changes. The header includes no CUDA header: it relies only on what NVRTC
 * and nvcc provide built in (blockIdx, gridDim, inline PTX).
 *
 * Under NVRTC, helion-tune puts runtime/include on the include path, so a
 * kernel writes `#include <helion/device.cuh>`.
 */
#ifndef HELION_DEVICE_CUH
#define HELION_DEVICE_CUH

/* ------------------------------------------------------------ pid types */

/* The values of HL_PID_TYPE (Helion's pid_type enum, in its order). A config
 * passes -DHL_PID_TYPE=HL_PID_PERSISTENT_BLOCKED (or the number). */
#define HL_PID_FLAT 0                   /* one tile per block, grid = tiles */
#define HL_PID_XYZ 1                    /* like flat on a 3-D grid */
#define HL_PID_PERSISTENT_BLOCKED 2     /* grid = SMs * multiplier; each block
                                           takes a contiguous run of tiles */
#define HL_PID_PERSISTENT_INTERLEAVED 3 /* same grid; tiles strided by the
                                           grid size */

/* The values of HL_EVICT_i (Helion's load_eviction_policies choices "",
 * "first", "last"). */
#define HL_EVICT_NORMAL 0
#define HL_EVICT_FIRST 1
#define HL_EVICT_LAST 2

/* -------------------------------------------------------------- defaults */

/* Threads per block. A config sets num_warps or num_threads; the other one
 * follows. __launch_bounds__(HL_NUM_THREADS) is the intended use. */
#ifndef HL_NUM_WARPS
#ifdef HL_NUM_THREADS
#define HL_NUM_WARPS ((HL_NUM_THREADS + 31) / 32)
#else
#define HL_NUM_WARPS 4
#endif
#endif
#ifndef HL_NUM_THREADS
#define HL_NUM_THREADS (32 * HL_NUM_WARPS)
#endif

/* Software pipelining depth a kernel may honour (cp.async stages, ...);
 * 1 = no pipelining. */
#ifndef HL_NUM_STAGES
#define HL_NUM_STAGES 1
#endif

/* How blocks map to tiles; see HL_FOR_EACH_TILE. */
#ifndef HL_PID_TYPE
#define HL_PID_TYPE HL_PID_FLAT
#endif

/* Persistent grids launch num_sms * HL_NUM_SM_MULTIPLIER blocks (host side);
 * kernels see only gridDim. */
#ifndef HL_NUM_SM_MULTIPLIER
#define HL_NUM_SM_MULTIPLIER 1
#endif

/* Group size of hl_swizzle() for the i-th 2-D grid loop; 1 = row-major. */
#ifndef HL_L2_GROUPING_0
#define HL_L2_GROUPING_0 1
#endif
#ifndef HL_L2_GROUPING_1
#define HL_L2_GROUPING_1 1
#endif
#ifndef HL_L2_GROUPING_2
#define HL_L2_GROUPING_2 1
#endif
#ifndef HL_L2_GROUPING_3
#define HL_L2_GROUPING_3 1
#endif

/* Per-loop pipelining depth (range_num_stages[i]); 0 = not specified. */
#ifndef HL_RANGE_NUM_STAGES_0
#define HL_RANGE_NUM_STAGES_0 0
#endif
#ifndef HL_RANGE_NUM_STAGES_1
#define HL_RANGE_NUM_STAGES_1 0
#endif
#ifndef HL_RANGE_NUM_STAGES_2
#define HL_RANGE_NUM_STAGES_2 0
#endif
#ifndef HL_RANGE_NUM_STAGES_3
#define HL_RANGE_NUM_STAGES_3 0
#endif

/* Unroll factor of the i-th loop (range_unroll_factors[i]); 0 = let the
 * compiler decide. Use as:
 *   #if HL_UNROLL_0 > 0
 *   #pragma unroll HL_UNROLL_0
 *   #endif
 */
#ifndef HL_UNROLL_0
#define HL_UNROLL_0 0
#endif
#ifndef HL_UNROLL_1
#define HL_UNROLL_1 0
#endif
#ifndef HL_UNROLL_2
#define HL_UNROLL_2 0
#endif
#ifndef HL_UNROLL_3
#define HL_UNROLL_3 0
#endif

/* Whether the i-th multi-dimensional loop is flattened into one
 * (flatten_loops[i]); 0 = nested. */
#ifndef HL_FLATTEN_0
#define HL_FLATTEN_0 0
#endif
#ifndef HL_FLATTEN_1
#define HL_FLATTEN_1 0
#endif

/* Loop order of the i-th multi-dimensional loop (loop_orders[i]):
 * HL_LOOP_ORDER_i_j is the dimension iterated at depth j; default identity. */
#ifndef HL_LOOP_ORDER_0_0
#define HL_LOOP_ORDER_0_0 0
#endif
#ifndef HL_LOOP_ORDER_0_1
#define HL_LOOP_ORDER_0_1 1
#endif
#ifndef HL_LOOP_ORDER_0_2
#define HL_LOOP_ORDER_0_2 2
#endif
#ifndef HL_LOOP_ORDER_1_0
#define HL_LOOP_ORDER_1_0 0
#endif
#ifndef HL_LOOP_ORDER_1_1
#define HL_LOOP_ORDER_1_1 1
#endif
#ifndef HL_LOOP_ORDER_1_2
#define HL_LOOP_ORDER_1_2 2
#endif

/* Whether the i-th loop is fully unrolled at compile time
 * (static_ranges[i]); 0 = an ordinary loop. */
#ifndef HL_STATIC_RANGE_0
#define HL_STATIC_RANGE_0 0
#endif
#ifndef HL_STATIC_RANGE_1
#define HL_STATIC_RANGE_1 0
#endif

/* Chunk size of the i-th reduction loop (reduction_loops[i]); 0 = none: the
 * whole reduction is held at once ("persistent reduction"). */
#ifndef HL_REDUCTION_LOOP_0
#define HL_REDUCTION_LOOP_0 0
#endif
#ifndef HL_REDUCTION_LOOP_1
#define HL_REDUCTION_LOOP_1 0
#endif

/* Addressing of the i-th memory access (indexing[i]): the index of the
 * spec's choice; 0 = plain pointers. */
#ifndef HL_INDEXING_0
#define HL_INDEXING_0 0
#endif
#ifndef HL_INDEXING_1
#define HL_INDEXING_1 0
#endif
#ifndef HL_INDEXING_2
#define HL_INDEXING_2 0
#endif

/* Epilogue split factor (epilogue_subtile); 0 = not split. */
#ifndef HL_EPILOGUE_SUBTILE
#define HL_EPILOGUE_SUBTILE 0
#endif

/* Cache hint of the i-th load site: HL_EVICT_NORMAL/FIRST/LAST. */
#ifndef HL_EVICT_0
#define HL_EVICT_0 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_1
#define HL_EVICT_1 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_2
#define HL_EVICT_2 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_3
#define HL_EVICT_3 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_4
#define HL_EVICT_4 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_5
#define HL_EVICT_5 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_6
#define HL_EVICT_6 HL_EVICT_NORMAL
#endif
#ifndef HL_EVICT_7
#define HL_EVICT_7 HL_EVICT_NORMAL
#endif

/* ---------------------------------------------------------- small maths */

/* Ceiling division for non-negative a and positive b: the number of tiles
 * of size b that cover a. Usable in constant expressions. */
template <class T>
__host__ __device__ constexpr T hl_cdiv(T a, T b) {
  return (a + b - 1) / b;
}

template <class T>
__host__ __device__ constexpr T hl_min(T a, T b) {
  return a < b ? a : b;
}

/* HL_PID_TYPE as a C++ constant rather than a preprocessor test: a wrong
 * spelling such as -DHL_PID_TYPE=flat is then a compile error, where `#if`
 * would silently read an unknown name as 0 (flat). */
constexpr int hl_pid_type = HL_PID_TYPE;
static_assert(hl_pid_type >= HL_PID_FLAT &&
                  hl_pid_type <= HL_PID_PERSISTENT_INTERLEAVED,
              "HL_PID_TYPE must be one of HL_PID_FLAT, HL_PID_XYZ, "
              "HL_PID_PERSISTENT_BLOCKED, HL_PID_PERSISTENT_INTERLEAVED");
static_assert(HL_NUM_THREADS >= 1 && HL_NUM_THREADS <= 1024,
              "HL_NUM_THREADS must be in [1, 1024]");

/* ------------------------------------------------------------ tile loop */

/* This block's linear index: blockIdx.x, or the row-major index of a 3-D
 * grid for xyz. */
__device__ __forceinline__ long long hl_block_id() {
  if (hl_pid_type == HL_PID_XYZ)
    return (long long)blockIdx.x +
           (long long)gridDim.x *
               ((long long)blockIdx.y + (long long)gridDim.y * blockIdx.z);
  return (long long)blockIdx.x;
}

/* Number of blocks in the grid (all three dimensions for xyz). */
__device__ __forceinline__ long long hl_num_blocks() {
  if (hl_pid_type == HL_PID_XYZ)
    return (long long)gridDim.x * gridDim.y * gridDim.z;
  return (long long)gridDim.x;
}

/* First tile and end (exclusive) of this block's tiles out of
 * num_tiles, per HL_PID_TYPE:
 *   flat, xyz               tile = block id (at most one; none past the end)
 *   persistent_blocked      tiles [b * per, min((b + 1) * per, n)),
 *                           per = cdiv(n, grid): neighbours share data
 *   persistent_interleaved  tiles b, b + grid, b + 2 * grid, ...: the whole
 *                           grid sweeps the tiles in order, like flat */
__device__ __forceinline__ long long hl_tile_begin(long long num_tiles) {
  if (hl_pid_type == HL_PID_PERSISTENT_BLOCKED)
    return hl_min(hl_block_id() * hl_cdiv(num_tiles, hl_num_blocks()),
                  num_tiles);
  return hl_block_id();
}

__device__ __forceinline__ long long hl_tile_end(long long num_tiles) {
  if (hl_pid_type == HL_PID_PERSISTENT_BLOCKED)
    return hl_min((hl_block_id() + 1) * hl_cdiv(num_tiles, hl_num_blocks()),
                  num_tiles);
  if (hl_pid_type == HL_PID_PERSISTENT_INTERLEAVED)
    return num_tiles;
  return hl_min(hl_block_id() + 1, num_tiles);
}

/* The tile after `tile`, or `end` when this block has no more. For flat
 * and xyz the answer is `end` outright, so the compiler sees a loop that
 * runs at most once and does not unroll it. */
__device__ __forceinline__ long long hl_tile_next(long long tile,
                                                  long long end) {
  if (hl_pid_type == HL_PID_PERSISTENT_BLOCKED)
    return tile + 1;
  if (hl_pid_type == HL_PID_PERSISTENT_INTERLEAVED)
    return tile + hl_num_blocks();
  return end;
}

/* Runs the body once per tile this block owns, with `tile` (a long long) in
 * [0, num_tiles). The same kernel body then serves every pid_type: the host
 * launches `tiles` blocks for flat and min(tiles, num_sms * multiplier) for
 * the persistent types. The bounds are the same for every thread of a
 * block, so __syncthreads() inside the body is safe. break and continue work
 * as in any for loop; the loop itself is never unrolled (a persistent block
 * runs an unknown number of tiles, and unrolling only grows the code).
 *
 *   HL_FOR_EACH_TILE(tile, hl_cdiv(n, (long long)BLOCK)) { ... }
 */
#define HL_FOR_EACH_TILE(tile, num_tiles)                                      \
  _Pragma("unroll 1") for (long long tile = hl_tile_begin(num_tiles),          \
                                     hl_end_##tile = hl_tile_end(num_tiles);   \
                           tile < hl_end_##tile;                               \
                           tile = hl_tile_next(tile, hl_end_##tile))

/* -------------------------------------------------------------- swizzle */

/* A 2-D tile coordinate. */
struct hl_tile2 {
  long long m, n;
};

/* Maps a linear tile index to (m, n) in Triton's grouped order: tiles go
 * down `group` rows of m before moving right in n, so blocks running at the
 * same time share rows of A and columns of B in L2. group = 1 is plain
 * row-major order. The last group may be shorter (tiles_m % group). */
__device__ __forceinline__ hl_tile2 hl_swizzle_group(long long tile,
                                                     long long tiles_m,
                                                     long long tiles_n,
                                                     long long group) {
  long long in_group = group * tiles_n;
  long long first_m = (tile / in_group) * group;
  long long rows = hl_min(tiles_m - first_m, group);
  long long local = tile % in_group;
  hl_tile2 t;
  t.m = first_m + local % rows;
  t.n = local / rows;
  return t;
}

/* hl_swizzle_group with the config's HL_L2_GROUPING_0: the grouping of the
 * kernel's (first) 2-D grid loop. */
__device__ __forceinline__ hl_tile2 hl_swizzle(long long tile,
                                               long long tiles_m,
                                               long long tiles_n) {
  return hl_swizzle_group(tile, tiles_m, tiles_n, HL_L2_GROUPING_0);
}

/* ------------------------------------------------------ eviction loads */

/* The policy of load site I (HL_EVICT_I). A function, not a static data
 * member: NVRTC would emit such a member as a global variable. */
template <int I> __host__ __device__ constexpr int hl_evict_policy() {
  static_assert(I >= 0 && I < 8, "hl_load<I>: load sites 0..7 are defined");
  return I == 0   ? HL_EVICT_0
         : I == 1 ? HL_EVICT_1
         : I == 2 ? HL_EVICT_2
         : I == 3 ? HL_EVICT_3
         : I == 4 ? HL_EVICT_4
         : I == 5 ? HL_EVICT_5
         : I == 6 ? HL_EVICT_6
                  : HL_EVICT_7;
}

/* Copies the bits of *src into *dst (same size); char access is the
 * aliasing-safe way without memcpy, which NVRTC does not declare. */
template <class D, class S>
__device__ __forceinline__ void hl_bits_copy(D *dst, const S *src) {
  static_assert(sizeof(D) == sizeof(S), "hl_bits_copy: sizes differ");
  const unsigned char *s = reinterpret_cast<const unsigned char *>(src);
  unsigned char *d = reinterpret_cast<unsigned char *>(dst);
#pragma unroll
  for (unsigned i = 0; i < sizeof(D); i++)
    d[i] = s[i];
}

/* Loads sizeof(T) bytes with an L1 eviction-priority hint. Inline PTX
 * `ld.global.L1::evict_first` / `ld.global.L1::evict_last` (sm_70+), the
 * instructions Triton emits for eviction_policy="evict_first"/"evict_last".
 * __ldcs/__ldlu are not used: .lu means "last use" (evict soon), the
 * opposite of evict_last. The asm is volatile so it is never moved across a
 * barrier. */
template <int P, class T>
__device__ __forceinline__ T hl_load_hinted(const T *ptr) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 ||
                    sizeof(T) == 8 || sizeof(T) == 16,
                "hl_load: element size must be 1, 2, 4, 8 or 16 bytes");
  T v;
  if constexpr (sizeof(T) == 1) {
    unsigned short r;
    if constexpr (P == HL_EVICT_FIRST)
      asm volatile("ld.global.L1::evict_first.u8 %0, [%1];"
                   : "=h"(r) : "l"(ptr));
    else
      asm volatile("ld.global.L1::evict_last.u8 %0, [%1];"
                   : "=h"(r) : "l"(ptr));
    unsigned char b = (unsigned char)r;
    hl_bits_copy(&v, &b);
  } else if constexpr (sizeof(T) == 2) {
    unsigned short r;
    if constexpr (P == HL_EVICT_FIRST)
      asm volatile("ld.global.L1::evict_first.b16 %0, [%1];"
                   : "=h"(r) : "l"(ptr));
    else
      asm volatile("ld.global.L1::evict_last.b16 %0, [%1];"
                   : "=h"(r) : "l"(ptr));
    hl_bits_copy(&v, &r);
  } else if constexpr (sizeof(T) == 4) {
    unsigned int r;
    if constexpr (P == HL_EVICT_FIRST)
      asm volatile("ld.global.L1::evict_first.b32 %0, [%1];"
                   : "=r"(r) : "l"(ptr));
    else
      asm volatile("ld.global.L1::evict_last.b32 %0, [%1];"
                   : "=r"(r) : "l"(ptr));
    hl_bits_copy(&v, &r);
  } else if constexpr (sizeof(T) == 8) {
    unsigned long long r;
    if constexpr (P == HL_EVICT_FIRST)
      asm volatile("ld.global.L1::evict_first.b64 %0, [%1];"
                   : "=l"(r) : "l"(ptr));
    else
      asm volatile("ld.global.L1::evict_last.b64 %0, [%1];"
                   : "=l"(r) : "l"(ptr));
    hl_bits_copy(&v, &r);
  } else {
    /* 16 bytes (float4, int4, ...): ptr must be 16-byte aligned. */
    unsigned int r[4];
    if constexpr (P == HL_EVICT_FIRST)
      asm volatile("ld.global.L1::evict_first.v4.b32 {%0, %1, %2, %3}, [%4];"
                   : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                   : "l"(ptr));
    else
      asm volatile("ld.global.L1::evict_last.v4.b32 {%0, %1, %2, %3}, [%4];"
                   : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                   : "l"(ptr));
    hl_bits_copy(&v, &r);
  }
  return v;
}

/* Loads *ptr (a global-memory pointer) as load site I: a plain load for
 * HL_EVICT_NORMAL (the compiler may still pick the read-only path), else
 * the hinted load above. Number the load sites of a kernel 0, 1, 2, ... in
 * the order of the spec's load_eviction_policies list. */
template <int I, class T> __device__ __forceinline__ T hl_load(const T *ptr) {
  constexpr int policy = hl_evict_policy<I>();
  static_assert(policy == HL_EVICT_NORMAL || policy == HL_EVICT_FIRST ||
                    policy == HL_EVICT_LAST,
                "HL_EVICT_i must be HL_EVICT_NORMAL (0), HL_EVICT_FIRST (1) "
                "or HL_EVICT_LAST (2)");
  if constexpr (policy == HL_EVICT_NORMAL)
    return *ptr;
  else
    return hl_load_hinted<policy>(ptr);
}

/* ------------------------------------------------------ async copies */

/* The shared-memory address (32-bit, what ldmatrix, cp.async and wgmma
 * descriptors take) of a pointer into shared memory. */
__device__ __forceinline__ unsigned hl_smem_addr(const void *p) {
  unsigned r;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }"
      : "=r"(r)
      : "l"(p));
  return r;
}

/* cp.async (sm_80+): copies 16 bytes from global `src` to shared address
 * `dst` without passing through registers, bypassing L1 (.cg). */
__device__ __forceinline__ void hl_cp_async16(unsigned dst, const void *src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst),
               "l"(src));
}

/* Closes the group of this thread's cp.async copies issued so far. */
__device__ __forceinline__ void hl_cp_async_commit() {
  asm volatile("cp.async.commit_group;");
}

/* Waits until at most N of this thread's committed groups are in flight. */
template <int N> __device__ __forceinline__ void hl_cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N));
}

#endif /* HELION_DEVICE_CUH */
