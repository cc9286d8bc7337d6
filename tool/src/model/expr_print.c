/*
 * expr_print.c: prints a parsed expression as a C expression: plain
 * (helion_expr_to_c) or with every evaluator error turned into a flag
 * (helion_expr_to_c_checked), the text codegen bakes into generated headers.
 */
#include "model/expr_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest C text to_c prints: min, max and cdiv repeat their operands,
 * so deeply nested calls could otherwise grow exponentially. */
#define MAX_C_TEXT ((uint64_t)1 << 20)

/* ----------------------------------------------------------- printing C */

typedef struct printer {
  const helion_expr_t *e;
  helion_buf_t *out;
  const char *(*slot_name)(void *ud, size_t slot);
  void *ud;
} printer;

/* A name as printed: the caller's spelling, or the scope's name, which is
 * exactly how the text spells it. */
static helion_status print_name(const printer *pr, const node *n) {
  if (pr->slot_name)
    return helion_buf_appendf(pr->out, "(%s)",
                              pr->slot_name(pr->ud, n->v.slot));
  helion_status rc = helion_buf_putc(pr->out, '(');
  if (!rc)
    rc = helion_buf_append(pr->out, pr->e->text + n->col - 1, n->len);
  if (!rc)
    rc = helion_buf_putc(pr->out, ')');
  return rc;
}

/* Formats a double so C reads back the same value as a double constant. */
void helion_expr_c_double(double f, char out[64]) {
  snprintf(out, 64, "%.17g", f);
  /* A locale with a decimal comma would break the C text. */
  for (char *c = out; *c; c++)
    if (*c == ',')
      *c = '.';
  if (!strpbrk(out, ".eEn"))
    strcat(out, ".0");
}

static helion_status print_node(const printer *pr, int32_t at) {
  const node *n = &pr->e->nodes[at];
  helion_buf_t *b = pr->out;
  helion_status rc = HELION_OK;
  char num[64];

  switch ((op)n->op) {
  case OP_INT:
    return helion_buf_appendf(b, "((int64_t)%lld)", (long long)n->v.i);
  case OP_FLOAT:
    helion_expr_c_double(n->v.f, num);
    return helion_buf_puts(b, num);
  case OP_NAME:
    return print_name(pr, n);
  case OP_NEG:
  case OP_POS:
  case OP_NOT:
    rc = helion_buf_appendf(b, "(%s", helion__expr_op_text((op)n->op));
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_putc(b, ')');
    return rc;
  case OP_COND:
    rc = helion_buf_putc(b, '(');
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_puts(b, " ? ");
    if (!rc)
      rc = print_node(pr, n->b);
    if (!rc)
      rc = helion_buf_puts(b, " : ");
    if (!rc)
      rc = print_node(pr, n->c);
    if (!rc)
      rc = helion_buf_putc(b, ')');
    return rc;
  case OP_CDIV:
    rc = helion_buf_puts(b, "((");
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_puts(b, " + ");
    if (!rc)
      rc = print_node(pr, n->b);
    if (!rc)
      rc = helion_buf_puts(b, " - 1) / ");
    if (!rc)
      rc = print_node(pr, n->b);
    if (!rc)
      rc = helion_buf_putc(b, ')');
    return rc;
  case OP_MIN:
  case OP_MAX:
    rc = helion_buf_putc(b, '(');
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_puts(b, n->op == OP_MIN ? " < " : " > ");
    if (!rc)
      rc = print_node(pr, n->b);
    if (!rc)
      rc = helion_buf_puts(b, " ? ");
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_puts(b, " : ");
    if (!rc)
      rc = print_node(pr, n->b);
    if (!rc)
      rc = helion_buf_putc(b, ')');
    return rc;
  case OP_NEXT_POW2:
  case OP_LOG2:
    rc = helion_buf_puts(b, n->op == OP_LOG2 ? "helion_ilog2("
                                             : "helion_next_pow2(");
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_putc(b, ')');
    return rc;
  default:
    rc = helion_buf_putc(b, '(');
    if (!rc)
      rc = print_node(pr, n->a);
    if (!rc)
      rc = helion_buf_appendf(b, " %s ", helion__expr_op_text((op)n->op));
    if (!rc)
      rc = print_node(pr, n->b);
    if (!rc)
      rc = helion_buf_putc(b, ')');
    return rc;
  }
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a + b < a ? UINT64_MAX : a + b;
}
static uint64_t sat_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

helion_status helion_expr_to_c(const helion_expr_t *e, helion_buf_t *out,
                               const char *(*slot_name)(void *ud, size_t slot),
                               void *ud) {
  printer pr = {e, out, slot_name, ud};
  size_t start = out->len;
  uint64_t *size = NULL;
  helion_status rc = HELION_OK;

  /* Size the output first so nested min/max/cdiv, which repeat their
   * operands, cannot blow it up. */
  size = malloc((size_t)e->count * sizeof(*size) + 1);
  if (!size)
    return HELION_ERR_NOMEM;
  /* Children come before parents, so one forward pass sizes every node. */
  for (int32_t k = 0; k < e->count; k++) {
    const node *n = &e->nodes[k];
    uint64_t sa = n->a >= 0 ? size[n->a] : 0;
    uint64_t sb = n->b >= 0 ? size[n->b] : 0;
    uint64_t sc = n->c >= 0 ? size[n->c] : 0;
    uint64_t s;
    switch ((op)n->op) {
    case OP_INT:
    case OP_FLOAT:
      s = 40;
      break;
    case OP_NAME:
      s = 2 + (slot_name ? strlen(slot_name(ud, n->v.slot)) : n->len);
      break;
    case OP_CDIV:
      s = sat_add(sat_add(sa, sat_mul(sb, 2)), 16);
      break;
    case OP_MIN:
    case OP_MAX:
      s = sat_add(sat_mul(sat_add(sa, sb), 2), 16);
      break;
    default:
      s = sat_add(sat_add(sat_add(sa, sb), sc), 24);
      break;
    }
    size[k] = s;
  }
  if (size[e->root] > MAX_C_TEXT) {
    rc = HELION_ERR_LIMIT;
    goto out;
  }
  rc = print_node(&pr, e->root);
out:
  free(size);
  if (rc && out->data) {
    out->len = start;
    out->data[start] = '\0';
  }
  return rc;
}

/* ------------------------------------------------------ checked printing */

typedef struct checked {
  const helion_expr_t *e;
  helion_buf_t *out;
  const helion_expr_c_opts_t *o;
} checked;

/* The C type of a node: double when a double is in it, by C's rules (the
 * parser's kind, with the caller's name types where it depends on them). */
static bool node_is_float(const checked *ck, int32_t at) {
  const node *n = &ck->e->nodes[at];
  if (n->kind != KIND_DEPENDS)
    return n->kind == KIND_FLOAT;
  switch ((op)n->op) {
  case OP_NAME:
    return ck->o->slot_is_float && ck->o->slot_is_float(ck->o->ud, n->v.slot);
  case OP_NEG:
  case OP_POS:
    return node_is_float(ck, n->a);
  case OP_COND:
    return node_is_float(ck, n->b) || node_is_float(ck, n->c);
  default: /* arithmetic, min, max */
    return node_is_float(ck, n->a) || node_is_float(ck, n->b);
  }
}

static helion_status checked_node(const checked *ck, int32_t at);

/* Prints "fn(a[, b][, bad])". */
static helion_status checked_call(const checked *ck, const char *fn,
                                  const node *n, bool two, bool flag) {
  helion_status rc = helion_buf_appendf(ck->out, "%s(", fn);
  if (!rc)
    rc = checked_node(ck, n->a);
  if (!rc && two)
    rc = helion_buf_puts(ck->out, ", ");
  if (!rc && two)
    rc = checked_node(ck, n->b);
  if (!rc && flag)
    rc = helion_buf_appendf(ck->out, ", %s", ck->o->bad);
  if (!rc)
    rc = helion_buf_putc(ck->out, ')');
  return rc;
}

/* Prints "(a op b)" or "(op a)" as plain C. */
static helion_status checked_plain(const checked *ck, const node *n) {
  const char *t = helion__expr_op_text((op)n->op);
  helion_status rc = helion_buf_putc(ck->out, '(');
  if (n->b < 0) {
    if (!rc)
      rc = helion_buf_puts(ck->out, t);
    if (!rc)
      rc = checked_node(ck, n->a);
  } else {
    if (!rc)
      rc = checked_node(ck, n->a);
    if (!rc)
      rc = helion_buf_appendf(ck->out, " %s ", t);
    if (!rc)
      rc = checked_node(ck, n->b);
  }
  if (!rc)
    rc = helion_buf_putc(ck->out, ')');
  return rc;
}

/* The helper of an integer operation. */
static const char *int_helper(op o) {
  switch (o) {
  case OP_ADD:
    return "helion_x_add";
  case OP_SUB:
    return "helion_x_sub";
  case OP_MUL:
    return "helion_x_mul";
  case OP_DIV:
    return "helion_x_div";
  case OP_MOD:
    return "helion_x_mod";
  case OP_CDIV:
    return "helion_x_cdiv";
  case OP_MIN:
    return "helion_x_min";
  case OP_MAX:
    return "helion_x_max";
  case OP_NEXT_POW2:
    return "helion_x_next_pow2";
  case OP_LOG2:
    return "helion_x_log2";
  default:
    return "helion_x_neg";
  }
}

/* An operation the evaluator refuses for a double operand: the operands
 * still run (their own errors count the same), then the flag is set. */
static helion_status checked_refused(const checked *ck, const node *n) {
  helion_status rc = helion_buf_appendf(ck->out, "((void)(");
  if (!rc)
    rc = checked_node(ck, n->a);
  if (!rc && n->b >= 0)
    rc = helion_buf_puts(ck->out, "), (void)(");
  if (!rc && n->b >= 0)
    rc = checked_node(ck, n->b);
  if (!rc)
    rc = helion_buf_appendf(ck->out, "), helion_x_fail(%s))", ck->o->bad);
  return rc;
}

static helion_status checked_node(const checked *ck, int32_t at) {
  const node *n = &ck->e->nodes[at];
  bool fl = node_is_float(ck, at);
  bool fa = n->a >= 0 && node_is_float(ck, n->a);
  bool fb = n->b >= 0 && node_is_float(ck, n->b);
  printer pr = {ck->e, ck->out, ck->o->slot_name, ck->o->ud};

  switch ((op)n->op) {
  case OP_INT:
  case OP_FLOAT:
  case OP_NAME:
    return print_node(&pr, at);
  case OP_NEG:
    return fl ? checked_plain(ck, n)
              : checked_call(ck, "helion_x_neg", n, false, true);
  case OP_COND: {
    helion_status rc = helion_buf_putc(ck->out, '(');
    if (!rc)
      rc = checked_node(ck, n->a);
    if (!rc)
      rc = helion_buf_puts(ck->out, " ? ");
    if (!rc)
      rc = checked_node(ck, n->b);
    if (!rc)
      rc = helion_buf_puts(ck->out, " : ");
    if (!rc)
      rc = checked_node(ck, n->c);
    if (!rc)
      rc = helion_buf_putc(ck->out, ')');
    return rc;
  }
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
    return fl ? checked_plain(ck, n)
              : checked_call(ck, int_helper((op)n->op), n, true, true);
  case OP_DIV:
    return fl ? checked_call(ck, "helion_x_fdiv", n, true, true)
              : checked_call(ck, "helion_x_div", n, true, true);
  case OP_MOD:
    return fl ? checked_refused(ck, n)
              : checked_call(ck, "helion_x_mod", n, true, true);
  case OP_MIN:
  case OP_MAX:
    if (fl)
      return checked_call(ck, n->op == OP_MIN ? "helion_x_fmin" : "helion_x_fmax",
                          n, true, false);
    return checked_call(ck, int_helper((op)n->op), n, true, false);
  case OP_CDIV:
  case OP_NEXT_POW2:
  case OP_LOG2:
    if (fa || fb)
      return checked_refused(ck, n);
    return checked_call(ck, int_helper((op)n->op), n, n->op == OP_CDIV, true);
  default: /* +a, !a, comparisons, && and ||: C's own meaning */
    return checked_plain(ck, n);
  }
}

helion_status helion_expr_to_c_checked(const helion_expr_t *e,
                                       helion_buf_t *out,
                                       const helion_expr_c_opts_t *opts) {
  checked ck = {e, out, opts};
  size_t start = out->len;
  helion_status rc = checked_node(&ck, e->root);
  if (!rc && out->len - start > MAX_C_TEXT)
    rc = HELION_ERR_LIMIT;
  if (rc && out->data) {
    out->len = start;
    out->data[start] = '\0';
  }
  return rc;
}

bool helion_expr_c_is_float(const helion_expr_t *e,
                            const helion_expr_c_opts_t *opts) {
  checked ck = {e, NULL, opts};
  return node_is_float(&ck, e->root);
}
