/*
 * test_expr.c: checks the expression language against the C compiler: a
 * table of C expressions whose expected values the compiler computes, a
 * randomized comparison of helion_expr_eval with `cc` compiling the text and
 * its helion_expr_to_c print, every error message, and the small accessors.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/expr.h"
#include "helion/expr_inline.h"
#include "util/util.h"

/* ---------------------------------------------------------------------------
 * The case table: each row is written once as a C expression; the macro
 * keeps its text for the parser and lets the compiler compute the value and
 * the type. The names below are the scope; the function-like macros spell out
 * the documented meaning of the language's functions in C.
 */
#define cdiv(a, b) (((a) + (b)-1) / (b))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define next_pow2(a) helion_next_pow2(a)
#define log2(a) helion_ilog2(a)

typedef struct expr_case {
  const char *text;
  bool is_float;
  int64_t i;
  double f;
} expr_case;

#define IS_DOUBLE(e) _Generic((e), double: true, default: false)
#define INT_VALUE(e) _Generic((e), double: (int64_t)0, default: (e))
#define CASE(e) {#e, IS_DOUBLE(e), INT_VALUE(e), (double)(e)}

/* The table spells out precedence on purpose, which compilers warn about. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#pragma clang diagnostic ignored "-Wparentheses"
#pragma clang diagnostic ignored "-Wlogical-op-parentheses"
#pragma clang diagnostic ignored "-Wlogical-not-parentheses"
#pragma clang diagnostic ignored "-Wtautological-compare"
#pragma clang diagnostic ignored "-Wconstant-logical-operand"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wparentheses"
#pragma GCC diagnostic ignored "-Wlogical-not-parentheses"
#pragma GCC diagnostic ignored "-Wint-in-bool-context"
#pragma GCC diagnostic ignored "-Wbool-compare"
#endif

static const char *const scope_names[] = {"M", "N", "K", "Z", "BIG",
                                          "X", "Y", "H"};

static void test_expr_matches_c_table(void **state) {
  (void)state;
  /* Z is read through a volatile so the optimizer cannot see the lazily
   * skipped divisions by it below as certain divisions by zero. */
  volatile int64_t zero = 0;
  const int64_t M = 1000, N = 7, K = -13, Z = zero, BIG = INT64_MAX;
  const double X = 2.5, Y = -0.75, H = 0.5;
  const helion_num_t slots[] = {
      helion_num_int(M),   helion_num_int(N),     helion_num_int(K),
      helion_num_int(Z),   helion_num_int(BIG),   helion_num_float(X),
      helion_num_float(Y), helion_num_float(H),
  };
  const helion_expr_scope_t scope = {scope_names, 8};
  const expr_case cases[] = {
      /* precedence and associativity */
      CASE(1 + 2 * 3 / 4 % 5),
      CASE(10 - 4 - 3),
      CASE(100 / 10 / 5),
      CASE(2 * 3 + 4 * 5),
      CASE(-N * -K),
      CASE(- -N),
      CASE(+N),
      CASE(1 != 2 < 3),
      CASE(2 == 2 > 1),
      CASE(1 < 2 == 3 > 2),
      CASE(N < M == K < Z),
      CASE(1 || 0 && 0),
      CASE(0 && 1 || 1),
      CASE(1 + 2 > 2 && 3 * 2 == 6),
      CASE(N > 5 ? M : K),
      CASE(0 ? 1 : 0 ? 2 : 3),
      CASE(1 ? 0 ? 4 : 5 : 6),
      CASE(N + 1 ? M : K),
      CASE(!N + 1),
      CASE(!Z * 5),
      CASE(!!M),
      CASE(!X),
      CASE(!(X - 2.5)),
      /* truncation and the sign of % */
      CASE(7 / 2),
      CASE(-7 / 2),
      CASE(7 / -2),
      CASE(K / N),
      CASE(K % N),
      CASE(-K % N),
      CASE(K % -N),
      CASE(M % N),
      CASE(-7 % 2),
      CASE(BIG / -1),
      CASE(BIG % 10),
      /* mixed int and double */
      CASE(7 / 2.0),
      CASE(1 / 2 * X),
      CASE(X * 2),
      CASE(N + X),
      CASE(N / X),
      CASE(K * Y),
      CASE(X - N * H),
      CASE(1e3 + 1),
      CASE(.5 + 1.),
      CASE(2.5e-1 * 4),
      CASE(0x10 + 0xff),
      CASE(BIG + 0.0),
      /* comparisons give int */
      CASE(X > N),
      CASE(N >= 7),
      CASE(X <= 2.5),
      CASE(Y != Y),
      CASE(N == 7.0),
      CASE((X > 1) + (N > 1)),
      /* logic, lazily (the divisions by Z == 0 are never evaluated) */
      CASE(Z && M / Z),
      CASE(N || M / Z),
      CASE(X && Y),
      CASE(H || Z),
      CASE(Z ? M / Z : N),
      CASE(N ? N : M % Z),
      /* ?: converts both branches to the common type */
      CASE(1 ? 2 : 3.0),
      CASE(0 ? 2.0 : 3),
      CASE(N > 0 ? N : X),
      CASE(Z ? X : K),
      CASE(N ? M : N ? K : X),
      CASE(N ? (Z ? 1 : 2) : 0.5),
      CASE((Z ? 1 : 2.5) + 1),
      CASE(-(Z ? X : N)),
      /* functions */
      CASE(cdiv(M, 64)),
      CASE(cdiv(N, 7)),
      CASE(cdiv(1, 1)),
      CASE(cdiv(K, 4)),
      CASE(min(M, N)),
      CASE(max(M, N)),
      CASE(min(N, X)),
      CASE(max(K, Y)),
      CASE(max(X, N)),
      CASE(min(max(1, K), 8)),
      CASE(next_pow2(M)),
      CASE(next_pow2(1024)),
      CASE(next_pow2(K)),
      CASE(next_pow2(0)),
      CASE(log2(M)),
      CASE(log2(1)),
      CASE(log2(BIG)),
      CASE(log2(next_pow2(N))),
  };

  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    helion_expr_t *e = NULL;
    helion_err_t err = {{0}};
    helion_num_t v = helion_num_int(-12345);
    const expr_case *c = &cases[k];
    if (helion_expr_parse(c->text, &scope, &e, &err)) {
      fail_msg("parse '%s': %s", c->text, err.msg);
    }
    if (helion_expr_eval(e, slots, &v, &err)) {
      fail_msg("eval '%s': %s", c->text, err.msg);
    }
    if (v.is_float != c->is_float)
      fail_msg("'%s': type %s, C says %s", c->text,
               v.is_float ? "double" : "int", c->is_float ? "double" : "int");
    if (c->is_float && v.f != c->f)
      fail_msg("'%s' = %.17g, C says %.17g", c->text, v.f, c->f);
    if (!c->is_float && v.i != c->i)
      fail_msg("'%s' = %lld, C says %lld", c->text, (long long)v.i,
               (long long)c->i);
    helion_expr_destroy(e);
  }
}

/* A few values worked out by hand, so the table is not the only witness. */
static void test_expr_hand_values(void **state) {
  (void)state;
  static const struct {
    const char *text;
    bool is_float;
    double value;
  } cases[] = {
      {"1 + 2 * 3 / 4 % 5", false, 2},
      {"-7 / 2", false, -3},
      {"-7 % 3", false, -1},
      {"7 % -3", false, 1},
      {"1 ? 2 : 3.0", true, 2},
      {"cdiv(10, 4)", false, 3},
      {"next_pow2(33)", false, 64},
      {"next_pow2(-5)", false, 1},
      {"log2(1023)", false, 9},
      {"min(3, 2.5)", true, 2.5},
      {"max(3, 2.5)", true, 3},
      {"0 && 1 / 0", false, 0},
      {"1 || 1 / 0", false, 1},
      {"0 ? 1 / 0 : 4", false, 4},
      {"1 != 2 < 3", false, 0},
      {"0x7fffffffffffffff", false, 9223372036854775807.0},
      {"  (  1+2 )*3  ", false, 9},
      {"\t1\n+\r2", false, 3},
  };
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    helion_expr_t *e = NULL;
    helion_err_t err = {{0}};
    helion_num_t v;
    if (helion_expr_parse(cases[k].text, NULL, &e, &err))
      fail_msg("parse '%s': %s", cases[k].text, err.msg);
    if (helion_expr_eval(e, NULL, &v, &err))
      fail_msg("eval '%s': %s", cases[k].text, err.msg);
    assert_int_equal(v.is_float, cases[k].is_float);
    assert_true(helion_num_as_double(v) == cases[k].value);
    helion_expr_destroy(e);
  }
}

/* ---------------------------------------------------------------------------
 * Errors: every class by its exact message and status.
 */
static void expect_parse_error(const char *text, helion_status want_rc,
                               const char *want_msg) {
  static const char *const names[] = {"M", "N", "BLOCK_M"};
  const helion_expr_scope_t scope = {names, 3};
  helion_expr_t *e = (helion_expr_t *)(uintptr_t)1;
  helion_err_t err = {{0}};
  helion_status rc = helion_expr_parse(text, &scope, &e, &err);
  if (rc != want_rc || strcmp(err.msg, want_msg) != 0)
    fail_msg("'%s': got %d \"%s\", want %d \"%s\"", text, rc, err.msg,
             want_rc, want_msg);
  assert_ptr_equal(e, (helion_expr_t *)(uintptr_t)1); /* untouched */
}

static void test_expr_parse_errors(void **state) {
  (void)state;
  expect_parse_error("(M + N * (2", HELION_ERR_PARSE,
                     "column 12: expected ')' but found end of input");
  expect_parse_error("cdiv(M, N", HELION_ERR_PARSE,
                     "column 10: expected ',' or ')' but found end of input");
  expect_parse_error("", HELION_ERR_PARSE,
                     "column 1: expected an expression but found end of "
                     "input");
  expect_parse_error("M +", HELION_ERR_PARSE,
                     "column 4: expected an expression but found end of "
                     "input");
  expect_parse_error("M * )", HELION_ERR_PARSE,
                     "column 5: expected an expression but found ')'");
  expect_parse_error("M N", HELION_ERR_PARSE,
                     "column 3: expected an operator or end of input but "
                     "found name 'N'");
  expect_parse_error("1 2", HELION_ERR_PARSE,
                     "column 3: expected an operator or end of input but "
                     "found number '2'");
  expect_parse_error("M ? N", HELION_ERR_PARSE,
                     "column 6: expected ':' but found end of input");
  expect_parse_error("M = N", HELION_ERR_PARSE,
                     "column 3: unexpected character '='; did you mean '=='?");
  expect_parse_error("M & N", HELION_ERR_PARSE,
                     "column 3: unexpected character '&'; did you mean '&&'?");
  expect_parse_error("M | N", HELION_ERR_PARSE,
                     "column 3: unexpected character '|'; did you mean '||'?");
  expect_parse_error("M # N", HELION_ERR_PARSE,
                     "column 3: unexpected character '#'");
  expect_parse_error("M \x01", HELION_ERR_PARSE,
                     "column 3: unexpected byte 0x01");
  expect_parse_error("1 + BLOCK_Q", HELION_ERR_NOT_FOUND,
                     "column 5: undefined name 'BLOCK_Q'; known names: M, N, "
                     "BLOCK_M");
  expect_parse_error("foo(1)", HELION_ERR_NOT_FOUND,
                     "column 1: unknown function 'foo'; functions are cdiv, "
                     "min, max, next_pow2, log2");
  expect_parse_error("2 * min(1)", HELION_ERR_PARSE,
                     "column 5: min takes 2 arguments but got 1");
  expect_parse_error("max(1, 2, 3)", HELION_ERR_PARSE,
                     "column 1: max takes 2 arguments but got 3");
  expect_parse_error("log2()", HELION_ERR_PARSE,
                     "column 1: log2 takes 1 argument but got 0");
  expect_parse_error("next_pow2(M, N)", HELION_ERR_PARSE,
                     "column 1: next_pow2 takes 1 argument but got 2");
  expect_parse_error("9223372036854775808", HELION_ERR_PARSE,
                     "column 1: integer literal '9223372036854775808' does "
                     "not fit in int64");
  expect_parse_error("1 + 0x8000000000000000", HELION_ERR_PARSE,
                     "column 5: integer literal '0x8000000000000000' does "
                     "not fit in int64");
  expect_parse_error("012", HELION_ERR_PARSE,
                     "column 1: integer literal '012' has a leading zero, "
                     "which C reads as octal; drop the zero");
  expect_parse_error("12abc", HELION_ERR_PARSE,
                     "column 1: malformed number '12abc'");
  expect_parse_error("1.5.2", HELION_ERR_PARSE,
                     "column 1: malformed number '1.5.2'");
  expect_parse_error("1e+", HELION_ERR_PARSE,
                     "column 1: malformed number '1e+'");
  expect_parse_error("0x", HELION_ERR_PARSE,
                     "column 1: malformed number '0x'");
  expect_parse_error("1e999", HELION_ERR_PARSE,
                     "column 1: float literal '1e999' is out of range for "
                     "double");
}

static void test_expr_undefined_name_lists(void **state) {
  (void)state;
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  /* No scope at all. */
  assert_int_equal(helion_expr_parse("x", NULL, &e, &err),
                   HELION_ERR_NOT_FOUND);
  assert_string_equal(err.msg,
                      "column 1: undefined name 'x'; no names are defined "
                      "here");
  /* A long scope is cut off politely with a count of the rest. */
  static char storage[200][16];
  const char *names[200];
  for (int k = 0; k < 200; k++) {
    snprintf(storage[k], sizeof(storage[k]), "name_%03d", k);
    names[k] = storage[k];
  }
  const helion_expr_scope_t scope = {names, 200};
  assert_int_equal(helion_expr_parse("nope", &scope, &e, &err),
                   HELION_ERR_NOT_FOUND);
  /* Each name costs 10 bytes ("name_000, "); 60 fit in the 600-byte budget. */
  const char *want_start = "column 1: undefined name 'nope'; known names: "
                           "name_000, name_001, ";
  assert_memory_equal(err.msg, want_start, strlen(want_start));
  assert_non_null(strstr(err.msg, "name_059, ... (140 more)"));
  assert_null(strstr(err.msg, "name_060"));
  assert_true(strlen(err.msg) < 700);
}

static void expect_eval_error(const char *text, const char *want_msg) {
  static const char *const names[] = {"M", "N", "X", "MIN"};
  const helion_expr_scope_t scope = {names, 4};
  const helion_num_t slots[] = {helion_num_int(1000), helion_num_int(0),
                                helion_num_float(1.5),
                                helion_num_int(INT64_MIN)};
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  helion_num_t v = helion_num_int(777);
  if (helion_expr_parse(text, &scope, &e, &err))
    fail_msg("parse '%s': %s", text, err.msg);
  helion_status rc = helion_expr_eval(e, slots, &v, &err);
  if (rc != HELION_ERR_EVAL || strcmp(err.msg, want_msg) != 0)
    fail_msg("'%s': got %d \"%s\", want \"%s\"", text, rc, err.msg, want_msg);
  assert_false(v.is_float); /* untouched */
  assert_int_equal(v.i, 777);
  helion_expr_destroy(e);
}

static void test_expr_eval_errors(void **state) {
  (void)state;
  expect_eval_error("1 + M / N", "column 5: division by zero");
  expect_eval_error("X / N", "column 1: division by zero");
  expect_eval_error("X / 0.0", "column 1: division by zero");
  expect_eval_error("M % N", "column 1: modulo by zero");
  expect_eval_error("X % 2", "column 1: '%' needs integers");
  expect_eval_error("9223372036854775807 * 2",
                    "column 1: integer overflow in '*'");
  expect_eval_error("9223372036854775807 + 1",
                    "column 1: integer overflow in '+'");
  expect_eval_error("MIN - 1", "column 1: integer overflow in '-'");
  expect_eval_error("2 * -MIN", "column 5: integer overflow in '-'");
  expect_eval_error("MIN / -1", "column 1: integer overflow in '/'");
  expect_eval_error("MIN % -1", "column 1: integer overflow in '%'");
  expect_eval_error("cdiv(X, 2)", "column 1: cdiv needs integers");
  expect_eval_error("cdiv(2, X)", "column 1: cdiv needs integers");
  expect_eval_error("cdiv(M, N)", "column 1: division by zero");
  expect_eval_error("cdiv(9223372036854775807, 1)",
                    "column 1: integer overflow in cdiv");
  expect_eval_error("cdiv(MIN, -1)", "column 1: integer overflow in cdiv");
  expect_eval_error("next_pow2(X)", "column 1: next_pow2 needs integers");
  expect_eval_error("next_pow2(4611686018427387905)",
                    "column 1: next_pow2 of 4611686018427387905 exceeds 2^62");
  expect_eval_error("log2(X)", "column 1: log2 needs integers");
  expect_eval_error("log2(N)",
                    "column 1: log2 needs a positive integer but got 0");
  expect_eval_error("log2(-M)",
                    "column 1: log2 needs a positive integer but got -1000");
  /* Errors inside lazy operators surface only when that side is taken. */
  expect_eval_error("M && M / N", "column 6: division by zero");
  expect_eval_error("N || M % N", "column 6: modulo by zero");
  expect_eval_error("N ? 1 : M / N", "column 9: division by zero");
}

static void test_expr_limits(void **state) {
  (void)state;
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  /* 255 parentheses are fine; 300 are too deep. */
  for (int k = 0; k < 255; k++)
    helion_buf_putc(&b, '(');
  helion_buf_putc(&b, '1');
  for (int k = 0; k < 255; k++)
    helion_buf_putc(&b, ')');
  assert_int_equal(helion_expr_parse(helion_buf_str(&b), NULL, &e, &err),
                   HELION_OK);
  helion_expr_destroy(e);
  helion_buf_reset(&b);
  for (int k = 0; k < 300; k++)
    helion_buf_putc(&b, '(');
  assert_int_equal(helion_expr_parse(helion_buf_str(&b), NULL, &e, &err),
                   HELION_ERR_LIMIT);
  assert_string_equal(err.msg, "column 257: expression is nested deeper than "
                               "256 levels; simplify it");
  /* So is a long chain of unary minus. */
  helion_buf_reset(&b);
  for (int k = 0; k < 1000; k++)
    helion_buf_puts(&b, "- ");
  helion_buf_putc(&b, '1');
  assert_int_equal(helion_expr_parse(helion_buf_str(&b), NULL, &e, &err),
                   HELION_ERR_LIMIT);
  /* And a tree deeper than the limit built from a flat chain. */
  helion_buf_reset(&b);
  helion_buf_putc(&b, '1');
  for (int k = 0; k < 300; k++)
    helion_buf_puts(&b, "+1");
  assert_int_equal(helion_expr_parse(helion_buf_str(&b), NULL, &e, &err),
                   HELION_ERR_LIMIT);
  /* Text beyond 64 KiB. */
  helion_buf_reset(&b);
  for (int k = 0; k < 64 * 1024; k++)
    helion_buf_putc(&b, ' ');
  helion_buf_putc(&b, '1');
  assert_int_equal(helion_expr_parse(helion_buf_str(&b), NULL, &e, &err),
                   HELION_ERR_LIMIT);
  assert_string_equal(err.msg,
                      "expression is 65537 bytes long; the limit is 65536");
  helion_buf_cleanup(&b);
}

/* ---------------------------------------------------------------------------
 * Accessors and printing.
 */
static void test_expr_uses_and_text(void **state) {
  (void)state;
  static const char *const names[] = {"A", "B", "C", "D"};
  const helion_expr_scope_t scope = {names, 4};
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  const char *text = "A > 0 ? min(C, 3) : 0";
  assert_int_equal(helion_expr_parse(text, &scope, &e, &err), HELION_OK);
  assert_string_equal(helion_expr_text(e), text);
  assert_ptr_not_equal(helion_expr_text(e), text); /* a copy it owns */
  assert_true(helion_expr_uses(e, 0));
  assert_false(helion_expr_uses(e, 1));
  assert_true(helion_expr_uses(e, 2)); /* even in a branch not taken */
  assert_false(helion_expr_uses(e, 3));
  assert_false(helion_expr_uses(e, 99));
  helion_expr_destroy(e);
  helion_expr_destroy(NULL);
}

static const char *const cfg_names[] = {"cfg->a", "cfg->b"};

static const char *cfg_name(void *ud, size_t slot) {
  assert_ptr_equal(ud, (void *)cfg_names);
  return cfg_names[slot];
}

static void expect_c(const char *text, const char *want) {
  static const char *const names[] = {"a", "b"};
  const helion_expr_scope_t scope = {names, 2};
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  if (helion_expr_parse(text, &scope, &e, &err))
    fail_msg("parse '%s': %s", text, err.msg);
  assert_int_equal(helion_expr_to_c(e, &b, NULL, NULL), HELION_OK);
  if (strcmp(helion_buf_str(&b), want) != 0)
    fail_msg("'%s' printed as %s, want %s", text, helion_buf_str(&b), want);
  helion_buf_cleanup(&b);
  helion_expr_destroy(e);
}

static void test_expr_to_c_forms(void **state) {
  (void)state;
  expect_c("123", "((int64_t)123)");
  expect_c("0x10", "((int64_t)16)");
  expect_c("1.5", "1.5");
  expect_c("100.0", "100.0");
  expect_c("1e20", "1e+20");
  expect_c("0.1", "0.10000000000000001");
  expect_c("a", "(a)");
  expect_c("!a", "(!(a))");
  expect_c("-a", "(-(a))");
  expect_c("+a", "(+(a))");
  expect_c("- -a", "(-(-(a)))");
  expect_c("a + b * 2", "((a) + ((b) * ((int64_t)2)))");
  expect_c("a - b - 1", "(((a) - (b)) - ((int64_t)1))");
  expect_c("a < b == b < a", "(((a) < (b)) == ((b) < (a)))");
  expect_c("a && b || !a", "(((a) && (b)) || (!(a)))");
  expect_c("a ? b : a ? 1 : 2.5",
           "((a) ? (b) : ((a) ? ((int64_t)1) : 2.5))");
  expect_c("cdiv(a, b)", "(((a) + (b) - 1) / (b))");
  expect_c("min(a, b)", "((a) < (b) ? (a) : (b))");
  expect_c("max(a, 2)", "((a) > ((int64_t)2) ? (a) : ((int64_t)2))");
  expect_c("next_pow2(a)", "helion_next_pow2((a))");
  expect_c("log2(b)", "helion_ilog2((b))");
}

static void test_expr_to_c_slot_names_and_limit(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b"};
  const helion_expr_scope_t scope = {names, 2};
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  /* Names come from the callback; what the buffer held stays in front. */
  helion_buf_puts(&b, "x = ");
  assert_int_equal(helion_expr_parse("a * b", &scope, &e, &err), HELION_OK);
  assert_int_equal(helion_expr_to_c(e, &b, cfg_name, (void *)cfg_names),
                   HELION_OK);
  assert_string_equal(helion_buf_str(&b), "x = ((cfg->a) * (cfg->b))");
  helion_expr_destroy(e);
  /* Nested min repeats its operands: 30 levels would print about 2^31
   * bytes, so it fails with HELION_ERR_LIMIT and leaves the buffer as it
   * was. */
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
  for (int k = 0; k < 30; k++)
    helion_buf_puts(&text, "min(");
  helion_buf_puts(&text, "a");
  for (int k = 0; k < 30; k++)
    helion_buf_puts(&text, ", b)");
  assert_int_equal(helion_expr_parse(helion_buf_str(&text), &scope, &e, &err),
                   HELION_OK);
  assert_int_equal(helion_expr_to_c(e, &b, NULL, NULL), HELION_ERR_LIMIT);
  assert_string_equal(helion_buf_str(&b), "x = ((cfg->a) * (cfg->b))");
  helion_expr_destroy(e);
  helion_buf_cleanup(&text);
  helion_buf_cleanup(&b);
}

/* ---------------------------------------------------------------------------
 * Randomized comparison with the C compiler. A generator builds random
 * expressions as a tree of productions and writes each twice: in the
 * language (with as few parentheses as precedence allows, plus some spare
 * ones) and as C text with the same tokens (integer literals cast to int64_t,
 * the functions as macros). One generated C file prints, for every set of
 * variable values, both the C text and helion_expr_to_c's print; both must
 * equal helion_expr_eval in type and value. The generator keeps `%`, cdiv,
 * next_pow2 and log2 on integer operands, so every line compiles, and only
 * expressions that evaluate without error run in C, so C never meets
 * undefined behaviour.
 */
enum { P_COND, P_OR, P_AND, P_EQ, P_REL, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

#define RANDOM_EXPRS 1000
/* After the random ones: texts only the checked print can compile (% and
 * the integer functions on doubles) and errors at the edges. */
static const char *const checked_only[] = {
    "x % 2", "cdiv(x, 2)", "cdiv(2, y)", "log2(x)", "next_pow2(y)",
    "log2(0)", "log2(-a * a - 1)", "next_pow2(4611686018427387904)",
    "next_pow2(4611686018427387905)", "a / 0", "a % 0", "x / 0.0",
    "x / (b - b)", "-(-9223372036854775807 - 1)",
    "(-9223372036854775807 - 1) / -1", "(-9223372036854775807 - 1) % -1",
    "9223372036854775807 + 1", "-9223372036854775807 - 2",
    "4611686018427387904 * 2", "-4611686018427387904 * 2",
    "-4611686018427387904 * -2", "3037000500 * 3037000500",
    "cdiv(9223372036854775807, 2)", "cdiv(-9223372036854775807 - 1, -1)",
    "b != 0 && a / b > 1", "b == 0 || a % b == 0", "b ? a / b : 7",
    "min(a / b, x)", "max(a, 2) * c", "0 && log2(0)", "1 || a / 0"};
#define CHECKED_ONLY (sizeof(checked_only) / sizeof(checked_only[0]))
#define ALL_EXPRS (RANDOM_EXPRS + CHECKED_ONLY)
#define RANDOM_SETS 4
#define RANDOM_DEPTH 5

typedef struct gen {
  helion_rng_t rng;
  helion_buf_t t; /* the language */
  helion_buf_t c; /* the same tokens as C */
} gen;

static void emit(gen *g, const char *t, const char *c) {
  helion_buf_puts(&g->t, t);
  helion_buf_puts(&g->c, c ? c : t);
}

static bool gen_expr(gen *g, int depth, bool need_int, int min_prec);

static bool gen_leaf(gen *g, bool need_int) {
  static const char *const ints[] = {"0", "1", "2", "3", "5", "7", "16",
                                     "64", "100", "0x1F", "1000000007",
                                     "4611686018427387904",
                                     "9223372036854775807"};
  static const char *const floats[] = {"0.5", "2.", ".25", "1e1", "3.75",
                                       "0.0", "1.5e-3", "1e300"};
  static const char *const int_vars[] = {"a", "b", "c"};
  static const char *const float_vars[] = {"x", "y"};
  char buf[64];
  uint64_t pick = helion_rng_below(&g->rng, need_int ? 2 : 4);
  switch (pick) {
  case 0: {
    const char *lit = ints[helion_rng_below(&g->rng, 13)];
    snprintf(buf, sizeof(buf), "((int64_t)%s)", lit);
    emit(g, lit, buf);
    return false;
  }
  case 1:
    emit(g, int_vars[helion_rng_below(&g->rng, 3)], NULL);
    return false;
  case 2:
    emit(g, floats[helion_rng_below(&g->rng, 8)], NULL);
    return true;
  default:
    emit(g, float_vars[helion_rng_below(&g->rng, 2)], NULL);
    return true;
  }
}

static bool gen_node(gen *g, int depth, bool need_int, int *prec) {
  static const char *const rel[] = {" < ", " <= ", " > ", " >= "};
  static const char *const eq[] = {" == ", " != "};
  static const char *const arith[] = {" + ", " - ", " * ", " / "};
  bool fa, fb;
  *prec = P_PRIMARY;
  if (depth == 0)
    return gen_leaf(g, need_int);
  switch (helion_rng_below(&g->rng, 14)) {
  case 0:
  case 1:
    return gen_leaf(g, need_int);
  case 2: { /* unary */
    uint64_t k = helion_rng_below(&g->rng, 3);
    *prec = P_UNARY;
    /* C would read "--" as a decrement, so its text gets a space. */
    emit(g, k == 0 ? "-" : k == 1 ? "+" : "!",
         k == 0 ? "- " : k == 1 ? "+ " : "! ");
    fa = gen_expr(g, depth - 1, need_int && k < 2, P_UNARY);
    return k < 2 && fa;
  }
  case 3:
  case 4: { /* + - * / */
    const char *o = arith[helion_rng_below(&g->rng, 4)];
    *prec = o[1] == '+' || o[1] == '-' ? P_ADD : P_MUL;
    fa = gen_expr(g, depth - 1, need_int, *prec);
    emit(g, o, NULL);
    fb = gen_expr(g, depth - 1, need_int, *prec + 1);
    return fa || fb;
  }
  case 5: /* % on integers only, as in C */
    *prec = P_MUL;
    gen_expr(g, depth - 1, true, P_MUL);
    emit(g, " % ", NULL);
    gen_expr(g, depth - 1, true, P_MUL + 1);
    return false;
  case 6: { /* comparisons */
    bool is_eq = helion_rng_below(&g->rng, 2) == 0;
    *prec = is_eq ? P_EQ : P_REL;
    gen_expr(g, depth - 1, false, *prec);
    emit(g, is_eq ? eq[helion_rng_below(&g->rng, 2)]
                  : rel[helion_rng_below(&g->rng, 4)],
         NULL);
    gen_expr(g, depth - 1, false, *prec + 1);
    return false;
  }
  case 7: { /* && || */
    bool is_and = helion_rng_below(&g->rng, 2) == 0;
    *prec = is_and ? P_AND : P_OR;
    gen_expr(g, depth - 1, false, *prec);
    emit(g, is_and ? " && " : " || ", NULL);
    gen_expr(g, depth - 1, false, *prec + 1);
    return false;
  }
  case 8:
  case 9: /* ?: is right-associative */
    *prec = P_COND;
    gen_expr(g, depth - 1, false, P_OR);
    emit(g, " ? ", NULL);
    fa = gen_expr(g, depth - 1, need_int, P_COND);
    emit(g, " : ", NULL);
    fb = gen_expr(g, depth - 1, need_int, P_COND);
    return fa || fb;
  case 10: /* cdiv */
    emit(g, "cdiv(", NULL);
    gen_expr(g, depth - 1, true, P_COND);
    emit(g, ", ", NULL);
    gen_expr(g, depth - 1, true, P_COND);
    emit(g, ")", NULL);
    return false;
  case 11:
  case 12: /* min, max */
    emit(g, helion_rng_below(&g->rng, 2) ? "min(" : "max(", NULL);
    fa = gen_expr(g, depth - 1, need_int, P_COND);
    emit(g, ", ", NULL);
    fb = gen_expr(g, depth - 1, need_int, P_COND);
    emit(g, ")", NULL);
    return fa || fb;
  default: /* next_pow2, log2 */
    emit(g, helion_rng_below(&g->rng, 2) ? "next_pow2(" : "log2(", NULL);
    gen_expr(g, depth - 1, true, P_COND);
    emit(g, ")", NULL);
    return false;
  }
}

/* Writes one expression that binds at least as tightly as min_prec,
 * parenthesising it when it would not (and now and then anyway). */
static bool gen_expr(gen *g, int depth, bool need_int, int min_prec) {
  size_t t0 = g->t.len, c0 = g->c.len;
  int prec;
  bool is_float = gen_node(g, depth, need_int, &prec);
  if (prec < min_prec || helion_rng_below(&g->rng, 6) == 0) {
    /* Wrap what was just written. */
    char *t = helion_strdup(g->t.data + t0);
    char *c = helion_strdup(g->c.data + c0);
    assert_non_null(t);
    assert_non_null(c);
    g->t.len = t0;
    g->c.len = c0;
    helion_buf_appendf(&g->t, "(%s)", t);
    helion_buf_appendf(&g->c, "(%s)", c);
    free(t);
    free(c);
  }
  return is_float;
}

static bool float_xy(void *ud, size_t slot) {
  (void)ud;
  return slot >= 3; /* x and y */
}

/* The checked print of e, run for every set (errors included). */
static void print_checked(helion_buf_t *prog, const helion_expr_t *e) {
  const helion_expr_c_opts_t opts = {NULL, float_xy, NULL, "&bad"};
  helion_buf_puts(prog, "  PC(");
  assert_int_equal(helion_expr_to_c_checked(e, prog, &opts), HELION_OK);
  helion_buf_puts(prog, ");\n");
}

static void test_expr_random_matches_cc(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b", "c", "x", "y"};
  const helion_expr_scope_t scope = {names, 5};
  helion_num_t sets[RANDOM_SETS][5];
  helion_expr_t *exprs[ALL_EXPRS];
  helion_num_t want[RANDOM_SETS][ALL_EXPRS];
  bool ok[RANDOM_SETS][ALL_EXPRS];
  size_t errors_seen = 0;
  char dir[] = "/tmp/helion_test_expr_XXXXXX";
  char path[256], cmd[1024];
  helion_buf_t prog;
  gen g;
  size_t compared = 0;

  if (system("cc --version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "skipping: no C compiler `cc` on PATH to compare with\n");
    skip();
  }
  helion_rng_seed(&g.rng, 20240611);
  helion_buf_init(&g.t, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&g.c, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&prog, HELION_BUF_DEFAULT_MAX);

  /* Variable values: small ones mostly, extremes now and then. */
  for (int s = 0; s < RANDOM_SETS; s++) {
    for (int v = 0; v < 3; v++) {
      /* b is often zero, so && || ! and division by zero get exercised. */
      int64_t i = v == 1 ? helion_rng_range(&g.rng, -1, 1)
                         : helion_rng_range(&g.rng, -20, 20);
      if (helion_rng_below(&g.rng, 6) == 0)
        i = helion_rng_below(&g.rng, 2) ? INT64_MAX : INT64_MIN + 1;
      sets[s][v] = helion_num_int(i);
    }
    for (int v = 3; v < 5; v++)
      sets[s][v] = helion_num_float(
          (double)helion_rng_range(&g.rng, v == 4 ? -2 : -40, 40) / 4.0);
  }

  helion_buf_puts(&prog,
                  "#include <stdint.h>\n#include <stdio.h>\n"
                  "#include \"helion/expr_inline.h\"\n"
                  "#define cdiv(a, b) (((a) + (b) - 1) / (b))\n"
                  "#define min(a, b) ((a) < (b) ? (a) : (b))\n"
                  "#define max(a, b) ((a) > (b) ? (a) : (b))\n"
                  "#define next_pow2(a) helion_next_pow2(a)\n"
                  "#define log2(a) helion_ilog2(a)\n"
                  "static void pi(int64_t v) { printf(\"i %lld\\n\", "
                  "(long long)v); }\n"
                  "static void pd(double v) { printf(\"d %.17g\\n\", v); }\n"
                  "#define P(e) _Generic((e), double: pd, default: pi)(e)\n"
                  "#define PC(e) do { int bad = 0; \\\n"
                  "  if (_Generic((e), double: 1, default: 0)) { \\\n"
                  "    double v = (double)(e); if (bad) puts(\"e\"); "
                  "else pd(v); } \\\n"
                  "  else { int64_t v = (int64_t)(e); if (bad) puts(\"e\"); "
                  "else pi(v); } } while (0)\n"
                  "static void run(int s, int64_t a, int64_t b, int64_t c, "
                  "double x, double y) {\n");
  for (int k = 0; k < (int)ALL_EXPRS; k++) {
    helion_err_t err = {{0}};
    helion_buf_reset(&g.t);
    helion_buf_reset(&g.c);
    if (k < RANDOM_EXPRS)
      gen_expr(&g, (int)helion_rng_range(&g.rng, 1, RANDOM_DEPTH), false,
               P_COND);
    else
      helion_buf_puts(&g.t, checked_only[k - RANDOM_EXPRS]);
    if (helion_expr_parse(helion_buf_str(&g.t), &scope, &exprs[k], &err))
      fail_msg("parse '%s': %s", helion_buf_str(&g.t), err.msg);
    if (k >= RANDOM_EXPRS) {
      for (int s = 0; s < RANDOM_SETS; s++)
        ok[s][k] = helion_expr_eval(exprs[k], sets[s], &want[s][k], &err) == 0;
      print_checked(&prog, exprs[k]);
      continue;
    }
    helion_buf_puts(&prog, "  if (");
    for (int s = 0; s < RANDOM_SETS; s++) {
      ok[s][k] = helion_expr_eval(exprs[k], sets[s], &want[s][k], &err) == 0;
      helion_buf_appendf(&prog, "%s(s == %d && %d)", s ? " || " : "", s,
                         ok[s][k]);
    }
    helion_buf_puts(&prog, ") {\n    P(");
    assert_int_equal(helion_expr_to_c(exprs[k], &prog, NULL, NULL), HELION_OK);
    helion_buf_appendf(&prog, ");\n    P(%s);\n  }\n", helion_buf_str(&g.c));
    print_checked(&prog, exprs[k]);
  }
  helion_buf_puts(&prog, "}\nint main(void) {\n");
  for (int s = 0; s < RANDOM_SETS; s++)
    helion_buf_appendf(&prog, "  run(%d, %lldLL, %lldLL, %lldLL, %.17g, %.17g);\n",
                       s, (long long)sets[s][0].i, (long long)sets[s][1].i,
                       (long long)sets[s][2].i, sets[s][3].f, sets[s][4].f);
  helion_buf_puts(&prog, "  return 0;\n}\n");

  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/exprs.c", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(helion_buf_str(&prog), f);
  fclose(f);
  snprintf(cmd, sizeof(cmd),
           "cc -std=c11 -O1 -ffp-contract=off -w -I'%s' -o '%s/exprs' '%s'",
           HELION_RUNTIME_INCLUDE_DIR, dir, path);
  if (system(cmd) != 0)
    fail_msg("the generated program %s does not compile", path);
  snprintf(cmd, sizeof(cmd), "'%s/exprs'", dir);
  FILE *out = popen(cmd, "r");
  assert_non_null(out);
  for (int s = 0; s < RANDOM_SETS; s++) {
    for (int k = 0; k < (int)ALL_EXPRS; k++) {
      /* The plain forms (to_c and text) where the evaluator succeeds, then
       * the checked form always: "e" exactly where it fails. */
      for (int form = 0; form < 3; form++) {
        char line[128], type = 0, value[100] = "";
        if ((form < 2 && (!ok[s][k] || k >= RANDOM_EXPRS)))
          continue;
        if (!fgets(line, sizeof(line), out) ||
            (sscanf(line, "%c %99s", &type, value) < 1))
          fail_msg("output ended early at expression %d", k);
        if (form == 2 && (type == 'e') != !ok[s][k])
          fail_msg("set %d, '%s' (checked form): C prints '%c', the "
                   "evaluator %s",
                   s, helion_expr_text(exprs[k]), type,
                   ok[s][k] ? "succeeds" : "fails");
        if (type == 'e') {
          errors_seen++;
          continue;
        }
        const helion_num_t *w = &want[s][k];
        bool same;
        if (type == 'd') {
          double d = strtod(value, NULL);
          same = w->is_float && (d == w->f || (d != d && w->f != w->f));
        } else {
          same = !w->is_float && strtoll(value, NULL, 10) == w->i;
        }
        if (!same)
          fail_msg("set %d, '%s' (%s form): C prints %c %s, helion_expr_eval "
                   "gives %s %.17g / %lld",
                   s, helion_expr_text(exprs[k]),
                   form == 2 ? "checked" : form ? "text" : "to_c", type,
                   value, w->is_float ? "double" : "int", w->f,
                   (long long)w->i);
        compared++;
      }
    }
  }
  assert_int_equal(pclose(out), 0);
  print_message("compared %zu values of %d random expressions with cc\n",
                compared, RANDOM_EXPRS);
  /* Most expressions evaluate without error; the comparison covers them. */
  assert_true(compared > RANDOM_EXPRS * RANDOM_SETS);
  /* And the checked form met errors: every fixed edge case is one. */
  assert_true(errors_seen > CHECKED_ONLY);
  snprintf(cmd, sizeof(cmd), "rm -f '%s/exprs' '%s/exprs.c' && rmdir '%s'",
           dir, dir, dir);
  assert_int_equal(system(cmd), 0);
  for (int k = 0; k < (int)ALL_EXPRS; k++)
    helion_expr_destroy(exprs[k]);
  helion_buf_cleanup(&g.t);
  helion_buf_cleanup(&g.c);
  helion_buf_cleanup(&prog);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expr_matches_c_table),
      cmocka_unit_test(test_expr_hand_values),
      cmocka_unit_test(test_expr_parse_errors),
      cmocka_unit_test(test_expr_undefined_name_lists),
      cmocka_unit_test(test_expr_eval_errors),
      cmocka_unit_test(test_expr_limits),
      cmocka_unit_test(test_expr_uses_and_text),
      cmocka_unit_test(test_expr_to_c_forms),
      cmocka_unit_test(test_expr_to_c_slot_names_and_limit),
      cmocka_unit_test(test_expr_random_matches_cc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
