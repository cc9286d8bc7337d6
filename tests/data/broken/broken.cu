/*
 * broken.cu: out = 2 * in + 1 over N floats, with a user tunable that breaks
 * the kernel on purpose, so tests can check that the tuner fails exactly
 * those configs, names them with the right kind and still picks a correct
 * winner (tests/gpu/test_tune_broken.sh).
 *
 * Tunable macros (from broken.json):
 *   BLOCK   power of two in [128, 256], default 256: threads per block, one
 *           element per thread; the launch has cdiv(N, BLOCK) blocks.
 *   BROKEN  how the config is broken (default ok):
 *     ok             correct
 *     slow_compile   2^24 distinct template instantiations: NVRTC needs ~5 s
 *                    at depth 14 and over a minute at 16, so this one never
 *                    finishes within any compile deadline -> timeout
 *     out_of_bounds  reads from address 16 (far below the array): an illegal
 *                    address that poisons the context -> runtime
 *     hang           spins on a volatile flag that nothing sets -> the
 *                    benchmark worker's watchdog -> timeout
 *     wrong_answer   writes 2 * in + 1.5 -> accuracy
 */
#define ok 0
#define slow_compile 1
#define out_of_bounds 2
#define hang 3
#define wrong_answer 4

#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef BROKEN
#define BROKEN ok
#endif

#if BROKEN == slow_compile
template <int D, int M> struct Blowup {
  static constexpr long long v =
      Blowup<D - 1, 2 * M>::v + Blowup<D - 1, 2 * M + 1>::v;
};
template <int M> struct Blowup<0, M> {
  static constexpr long long v = M;
};
#endif

#if BROKEN == hang
/* Never written by anyone: the loop below cannot end. */
__device__ volatile int broken_never_set = 0;
#endif

/* What this config does, for the benchmark worker's CPU test double
 * (tests/tools/fake_bench_worker.c), which cannot run kernels. The kernel
 * never reads it; a GPU run does not notice it. */
#if BROKEN == out_of_bounds
__device__ const char broken_fake_behaviour[] = "HELION_FAKE:crash";
#elif BROKEN == hang
__device__ const char broken_fake_behaviour[] = "HELION_FAKE:hang";
#elif BROKEN == wrong_answer
__device__ const char broken_fake_behaviour[] = "HELION_FAKE:wrong";
#else
__device__ const char broken_fake_behaviour[] = "HELION_FAKE:ok";
#endif

extern "C" __global__ void __launch_bounds__(BLOCK)
    broken(const float *__restrict__ in, float *__restrict__ out, int n) {
  const long long i = (long long)blockIdx.x * BLOCK + threadIdx.x;
  if (i >= n)
    return;
#if BROKEN == slow_compile
  out[i] = 2.0f * in[i] + 1.0f + (float)(Blowup<24, 0>::v & 0);
#elif BROKEN == out_of_bounds
  const float *far_away = (const float *)(unsigned long long)16;
  out[i] = 2.0f * far_away[i] + 1.0f;
#elif BROKEN == hang
  while (!broken_never_set) {
  }
  out[i] = 2.0f * in[i] + 1.0f;
#elif BROKEN == wrong_answer
  out[i] = 2.0f * in[i] + 1.5f;
#else
  out[i] = 2.0f * in[i] + 1.0f;
#endif
}
