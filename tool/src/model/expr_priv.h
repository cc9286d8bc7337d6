/*
 * expr_priv.h: the tree of a parsed expression, shared by expr.c (parse,
 * evaluate) and expr_print.c (print as C); internal to model/expr*.c.
 */
#ifndef HELION_EXPR_PRIV_H
#define HELION_EXPR_PRIV_H

#include <stdint.h>

#include "model/expr.h"

/* Token kinds double as node operators where they coincide. */
typedef enum op {
  OP_END,
  OP_INT,
  OP_FLOAT,
  OP_NAME,
  OP_LPAREN,
  OP_RPAREN,
  OP_COMMA,
  OP_QUESTION,
  OP_COLON,
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_NOT,
  OP_EQ,
  OP_NE,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
  OP_AND,
  OP_OR,
  /* Node-only operators. */
  OP_NEG,
  OP_POS,
  OP_COND,
  OP_CDIV,
  OP_MIN,
  OP_MAX,
  OP_NEXT_POW2,
  OP_LOG2,
} op;

/* What the C type of a node is, as far as parsing can tell. */
enum { KIND_INT, KIND_FLOAT, KIND_DEPENDS };

typedef struct node {
  uint8_t op;
  uint8_t kind;
  uint16_t depth;
  uint32_t col; /* 1-based column where the subexpression starts */
  uint32_t len; /* OP_NAME: length of the name at col in the text */
  int32_t a, b, c;
  union {
    int64_t i;
    double f;
    uint32_t slot;
  } v;
} node;

struct helion_expr {
  node *nodes;
  int32_t count;
  int32_t root;
  char *text;
};

/* The operator's C spelling ("+", "<=", "cdiv", ...). */
const char *helion__expr_op_text(op o);

#endif /* HELION_EXPR_PRIV_H */
