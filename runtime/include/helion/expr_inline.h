/*
 * helion/expr_inline.h: the two integer helpers that C code printed from
 * spec expressions (helion_expr_to_c) calls: helion_next_pow2 and
 * helion_ilog2. They compute exactly what the expression evaluator of
 * helion-tune computes, so a generated header agrees with the tool.
 *
 * Plain C99/C11 and C++ (static inline, no extern "C" needed); inside CUDA
 * sources they are also usable from device code.
 */
#ifndef HELION_EXPR_INLINE_H
#define HELION_EXPR_INLINE_H

#include <stdint.h>

#if defined(__CUDACC__)
#define HELION_EXPR_INLINE static inline __host__ __device__
#else
#define HELION_EXPR_INLINE static inline
#endif

/*
 * The smallest power of two >= v; 1 for v <= 1. Powers beyond 2^62 do not fit
 * an int64_t: for v > 2^62 it returns 0 (the evaluator reports an error
 * there instead).
 */
HELION_EXPR_INLINE int64_t helion_next_pow2(int64_t v) {
  int64_t p = 1;
  if (v > ((int64_t)1 << 62))
    return 0;
  while (p < v)
    p <<= 1;
  return p;
}

/*
 * floor(log2(v)) for v >= 1. For v <= 0 the logarithm is undefined: it
 * returns -1 (the evaluator reports an error there instead).
 */
HELION_EXPR_INLINE int64_t helion_ilog2(int64_t v) {
  int64_t r = 0;
  if (v <= 0)
    return -1;
  while (v > 1) {
    v >>= 1;
    r++;
  }
  return r;
}

#undef HELION_EXPR_INLINE

#endif /* HELION_EXPR_INLINE_H */
