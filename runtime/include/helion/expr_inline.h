/*
 * helion/expr_inline.h: the integer helpers that C code printed from spec
 * expressions calls: helion_next_pow2 and helion_ilog2 (helion_expr_to_c),
 * and the checked helion_x_* family (helion_expr_to_c_checked). They compute exactly what the expression evaluator of
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

/*
 * Checked helpers: what helion_expr_to_c_checked prints. Each computes what
 * the evaluator of helion-tune computes; where the evaluator reports an
 * error (integer overflow, division or modulo by zero, INT64_MIN / -1, a
 * double given to an integer function, log2 of a value <= 0, next_pow2
 * beyond 2^62) they set *bad to 1 and yield 0, so printed code never meets
 * undefined behaviour and the caller tests one flag afterwards. Portable
 * C11 and C++17: no compiler builtins.
 */
HELION_EXPR_INLINE int64_t helion_x_fail(int *bad) {
  *bad = 1;
  return 0;
}

HELION_EXPR_INLINE int64_t helion_x_add(int64_t a, int64_t b, int *bad) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
    return helion_x_fail(bad);
  return a + b;
}

HELION_EXPR_INLINE int64_t helion_x_sub(int64_t a, int64_t b, int *bad) {
  if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
    return helion_x_fail(bad);
  return a - b;
}

HELION_EXPR_INLINE int64_t helion_x_mul(int64_t a, int64_t b, int *bad) {
  if (a > 0 ? (b > 0 ? a > INT64_MAX / b : b < INT64_MIN / a)
            : (b > 0 ? a < INT64_MIN / b : (a != 0 && b < INT64_MAX / a)))
    return helion_x_fail(bad);
  return a * b;
}

HELION_EXPR_INLINE int64_t helion_x_div(int64_t a, int64_t b, int *bad) {
  if (b == 0 || (a == INT64_MIN && b == -1))
    return helion_x_fail(bad);
  return a / b;
}

HELION_EXPR_INLINE int64_t helion_x_mod(int64_t a, int64_t b, int *bad) {
  if (b == 0 || (a == INT64_MIN && b == -1))
    return helion_x_fail(bad);
  return a % b;
}

HELION_EXPR_INLINE int64_t helion_x_neg(int64_t a, int *bad) {
  if (a == INT64_MIN)
    return helion_x_fail(bad);
  return -a;
}

/* The evaluator refuses a double divisor of 0.0 too. */
HELION_EXPR_INLINE double helion_x_fdiv(double a, double b, int *bad) {
  if (b == 0.0)
    return (double)helion_x_fail(bad);
  return a / b;
}

/* cdiv(a, b) = (a + b - 1) / b, each step checked as the evaluator does. */
HELION_EXPR_INLINE int64_t helion_x_cdiv(int64_t a, int64_t b, int *bad) {
  int overflow = 0;
  int64_t s;
  if (b == 0)
    return helion_x_fail(bad);
  s = helion_x_sub(helion_x_add(a, b, &overflow), 1, &overflow);
  if (overflow)
    return helion_x_fail(bad);
  return helion_x_div(s, b, bad);
}

HELION_EXPR_INLINE int64_t helion_x_min(int64_t a, int64_t b) {
  return a < b ? a : b;
}
HELION_EXPR_INLINE int64_t helion_x_max(int64_t a, int64_t b) {
  return a > b ? a : b;
}
HELION_EXPR_INLINE double helion_x_fmin(double a, double b) {
  return a < b ? a : b;
}
HELION_EXPR_INLINE double helion_x_fmax(double a, double b) {
  return a > b ? a : b;
}

HELION_EXPR_INLINE int64_t helion_x_next_pow2(int64_t a, int *bad) {
  if (a > ((int64_t)1 << 62))
    return helion_x_fail(bad);
  return helion_next_pow2(a);
}

HELION_EXPR_INLINE int64_t helion_x_log2(int64_t a, int *bad) {
  if (a <= 0)
    return helion_x_fail(bad);
  return helion_ilog2(a);
}

#undef HELION_EXPR_INLINE

#endif /* HELION_EXPR_INLINE_H */
