/*
 * expr_print.c: prints a parsed expression as a C expression
 * (helion_expr_to_c), the text codegen bakes into generated headers.
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
static void format_double(double f, char out[64]) {
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
    format_double(n->v.f, num);
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
