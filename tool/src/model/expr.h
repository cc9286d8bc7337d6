/*
 * expr.h: the small expression language of kernel specs (grid sizes, numels,
 * restrictions, shared memory).
 *
 * Grammar (C precedence and associativity, lowest first):
 *   expr    := cond
 *   cond    := or ('?' expr ':' cond)?
 *   or      := and ('||' and)*
 *   and     := eq ('&&' eq)*
 *   eq      := rel (('==' | '!=') rel)*
 *   rel     := add (('<' | '<=' | '>' | '>=') add)*
 *   add     := mul (('+' | '-') mul)*
 *   mul     := unary (('*' | '/' | '%') unary)*
 *   unary   := ('-' | '+' | '!') unary | primary
 *   primary := INT | FLOAT | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
 * INT is decimal (or 0x hex) and fits int64; FLOAT has a '.' or an exponent.
 * Functions: cdiv(a, b), min(a, b), max(a, b), next_pow2(a), log2(a).
 *
 * Values are int64 or double with C's rules: an operation on two integers is
 * integer arithmetic (division truncates toward zero, % has the sign of the
 * dividend), anything with a double is double arithmetic; comparisons and
 * logic give int 0/1; `&&`, `||` and `?:` evaluate lazily like C.
 * min and max take ints or doubles (mixed: double, as C's ?: converts).
 * cdiv(a, b) = (a + b - 1) / b, next_pow2(a) = smallest power of two >= a
 * (1 for a <= 1) and log2(a) = floor(log2(a)) take integers only.
 * Errors at evaluation: division or modulo by zero, integer overflow
 * (including INT64_MIN / -1), a double given to cdiv/next_pow2/log2, log2 of
 * a non-positive value, next_pow2 beyond 2^62.
 *
 * An expression is parsed once into a tree with every name bound to a slot of
 * a scope; evaluation reads slot values from an array and allocates nothing.
 */
#ifndef HELION_EXPR_H
#define HELION_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct helion_num {
  bool is_float;
  int64_t i; /* when !is_float */
  double f;  /* when is_float */
} helion_num_t;

static inline helion_num_t helion_num_int(int64_t v) {
  helion_num_t n = {false, v, 0.0};
  return n;
}
static inline helion_num_t helion_num_float(double v) {
  helion_num_t n = {true, 0, v};
  return n;
}
/* The value as a double (ints converted). */
static inline double helion_num_as_double(helion_num_t n) {
  return n.is_float ? n.f : (double)n.i;
}
/* C truthiness: non-zero. */
static inline bool helion_num_truthy(helion_num_t n) {
  return n.is_float ? n.f != 0.0 : n.i != 0;
}

/* The names an expression may use; a name's slot is its index here. */
typedef struct helion_expr_scope {
  const char *const *names;
  size_t count;
} helion_expr_scope_t;

typedef struct helion_expr helion_expr_t;

/*
 * Parses `text` and binds its names to `scope` (NULL: no names). On failure
 * returns HELION_ERR_PARSE (syntax, with "column N: ...") or
 * HELION_ERR_NOT_FOUND ("column N: undefined name 'X'; known names: ...") and
 * writes no *out. Texts over 64 KiB or nested deeper than 256 fail with
 * HELION_ERR_LIMIT. On success *out is freed with helion_expr_destroy().
 * Columns count from 1. Thread-safe (no shared state).
 */
helion_status helion_expr_parse(const char *text,
                                const helion_expr_scope_t *scope,
                                helion_expr_t **out, helion_err_t *err);

void helion_expr_destroy(helion_expr_t *e);

/*
 * Evaluates with slot values `slots` (indexed like the scope given to parse).
 * On failure returns HELION_ERR_EVAL with "column N: division by zero" (etc.)
 * and leaves *out untouched. Allocates nothing; safe to call from many threads
 * on the same tree.
 */
helion_status helion_expr_eval(const helion_expr_t *e,
                               const helion_num_t *slots, helion_num_t *out,
                               helion_err_t *err);

/* True when the expression reads slot `slot`. */
bool helion_expr_uses(const helion_expr_t *e, size_t slot);

/* The source text the expression was parsed from (owned by e). */
const char *helion_expr_text(const helion_expr_t *e);

/*
 * Appends the expression as a C expression. Every name is printed as
 * `slot_name(ud, slot)`, or as the scope's name when slot_name is NULL.
 * Compiled as C with every integer name declared int64_t and every float name
 * double, and with helion/expr_inline.h included (it defines
 * helion_next_pow2 and helion_ilog2 on int64_t), it computes the same value as
 * helion_expr_eval (for inputs that evaluate without error). The output is
 * fully parenthesised and contains only names, numbers and operators.
 */
helion_status helion_expr_to_c(const helion_expr_t *e, helion_buf_t *out,
                               const char *(*slot_name)(void *ud, size_t slot),
                               void *ud);

/* How helion_expr_to_c_checked spells names and the error flag. */
typedef struct helion_expr_c_opts {
  /* A name's C text (a variable, a constant such as "((int64_t)64)"); NULL:
   * the scope's name. */
  const char *(*slot_name)(void *ud, size_t slot);
  /* Whether a name is a double; NULL: every name is an int64_t. */
  bool (*slot_is_float)(void *ud, size_t slot);
  void *ud;
  /* A C expression of type int * that the helpers set on an error:
   * "&helion_bad". */
  const char *bad;
} helion_expr_c_opts_t;

/*
 * Appends the expression as C that never meets undefined behaviour: integer
 * arithmetic, cdiv, next_pow2 and log2 go through the checked helion_x_*
 * helpers of helion/expr_inline.h, which set *bad (opts->bad) and yield 0
 * wherever helion_expr_eval reports an error (overflow, division or modulo
 * by zero, a double given to an integer function, ...); double arithmetic
 * (a subtree with a double in it, by C's rules) is plain C but for division
 * by 0.0, which the evaluator refuses too. &&, || and ?: stay C's, so only
 * what the evaluator evaluates can set the flag. For inputs the evaluator
 * accepts the value equals its result and *bad is untouched; otherwise *bad
 * is set. Operands are never repeated, so the text grows linearly;
 * HELION_ERR_LIMIT past 1 MiB, HELION_ERR_NOMEM. On failure out is as it
 * was.
 */
helion_status helion_expr_to_c_checked(const helion_expr_t *e,
                                       helion_buf_t *out,
                                       const helion_expr_c_opts_t *opts);

/* Whether helion_expr_to_c_checked's text for e has C type double. */
bool helion_expr_c_is_float(const helion_expr_t *e,
                            const helion_expr_c_opts_t *opts);

/* Formats a double as a C constant that reads back the same value:
 * "0.5", "2.0", "1e+300". */
void helion_expr_c_double(double f, char out[64]);

#endif /* HELION_EXPR_H */
