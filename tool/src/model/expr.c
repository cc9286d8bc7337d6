/*
 * expr.c: parses and evaluates the expression language of kernel specs (see
 * expr.h for the grammar and the C semantics it follows); expr_print.c prints
 * a tree as C.
 *
 * An expression becomes a flat array of nodes whose children always come
 * before their parent, with every name bound to its scope slot. Evaluation
 * walks that array recursively (the depth is capped at parse time), reads the
 * slot values and allocates nothing, so one tree serves any number of
 * threads and millions of configurations.
 */
#include "model/expr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helion/expr_inline.h"

/* The limits of expr.h: longer texts and deeper nesting fail to parse. */
#define MAX_TEXT ((size_t)64 * 1024)
#define MAX_DEPTH 256
/* How much of a token an error message quotes, and of the known names. */
#define QUOTE_MAX 40
#define NAMES_MAX 600

#include "model/expr_priv.h"

static const struct {
  const char *name;
  op op;
  int arity;
} functions[] = {
    {"cdiv", OP_CDIV, 2},           {"min", OP_MIN, 2},   {"max", OP_MAX, 2},
    {"next_pow2", OP_NEXT_POW2, 1}, {"log2", OP_LOG2, 1},
};
#define FUNCTION_LIST "cdiv, min, max, next_pow2, log2"

/* ------------------------------------------------------------------ lexer */

typedef struct token {
  op kind;
  size_t start; /* byte offset into the text */
  size_t len;
  int64_t i;
  double f;
} token;

typedef struct parser {
  const char *text;
  size_t len;
  size_t pos; /* first byte after the current token */
  token tok;
  const helion_expr_scope_t *scope;
  node *nodes;
  int32_t count;
  int32_t cap;
  int depth;
  helion_err_t *err;
} parser;

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}
static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static unsigned column(size_t offset) {
  return (unsigned)(offset + 1);
}

/* Copies text[start, start+len) for a message, shortened with "...". */
static void quote(const char *text, size_t start, size_t len,
                  char out[QUOTE_MAX + 4]) {
  size_t n = len > QUOTE_MAX ? QUOTE_MAX : len;
  memcpy(out, text + start, n);
  if (len > QUOTE_MAX)
    memcpy(out + n, "...", 3), n += 3;
  out[n] = '\0';
}

/* Describes the current token for "expected X but found Y" messages. */
static void describe(const parser *p, char *out, size_t size) {
  char q[QUOTE_MAX + 4];
  const token *t = &p->tok;
  quote(p->text, t->start, t->len, q);
  switch (t->kind) {
  case OP_END:
    snprintf(out, size, "end of input");
    break;
  case OP_INT:
  case OP_FLOAT:
    snprintf(out, size, "number '%s'", q);
    break;
  case OP_NAME:
    snprintf(out, size, "name '%s'", q);
    break;
  default:
    snprintf(out, size, "'%s'", q);
    break;
  }
}

static helion_status lex_number(parser *p, size_t start) {
  const char *s = p->text;
  size_t i = start;
  bool is_float = false;
  bool bad = false;
  int64_t v = 0;
  char q[QUOTE_MAX + 4];

  if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    i += 2;
    if (hex_value(s[i]) < 0)
      bad = true;
    for (; hex_value(s[i]) >= 0; i++) {
      if (v > (INT64_MAX >> 4)) {
        while (is_alnum(s[i]))
          i++;
        quote(s, start, i - start, q);
        return helion_err_set(p->err, HELION_ERR_PARSE,
                              "column %u: integer literal '%s' does not fit "
                              "in int64",
                              column(start), q);
      }
      v = v * 16 + hex_value(s[i]);
    }
  } else {
    while (is_digit(s[i]))
      i++;
    if (s[i] == '.') {
      is_float = true;
      i++;
      while (is_digit(s[i]))
        i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
      is_float = true;
      i++;
      if (s[i] == '+' || s[i] == '-')
        i++;
      if (!is_digit(s[i]))
        bad = true;
      while (is_digit(s[i]))
        i++;
    }
  }
  if (is_alnum(s[i]) || s[i] == '.')
    bad = true;
  if (bad) {
    while (is_alnum(s[i]) || s[i] == '.')
      i++;
    quote(s, start, i - start, q);
    return helion_err_set(p->err, HELION_ERR_PARSE,
                          "column %u: malformed number '%s'", column(start), q);
  }
  quote(s, start, i - start, q);
  p->tok.kind = is_float ? OP_FLOAT : OP_INT;
  p->tok.start = start;
  p->tok.len = i - start;
  p->pos = i;
  if (is_float) {
    /* The token matches strtod's decimal syntax exactly, so strtod stops
     * where the token ends (in the C locale the tool runs in). */
    char *end = NULL;
    errno = 0;
    double f = strtod(s + start, &end);
    if (end != s + i)
      return helion_err_set(p->err, HELION_ERR_PARSE,
                            "column %u: malformed number '%s'", column(start),
                            q);
    if (isinf(f))
      return helion_err_set(p->err, HELION_ERR_PARSE,
                            "column %u: float literal '%s' is out of range "
                            "for double",
                            column(start), q);
    p->tok.f = f;
    return HELION_OK;
  }
  if (s[start] == '0' && i - start > 1 && s[start + 1] != 'x' &&
      s[start + 1] != 'X') {
    /* C reads a leading zero as octal; refusing it keeps the text and its
     * printed C meaning the same. */
    return helion_err_set(p->err, HELION_ERR_PARSE,
                          "column %u: integer literal '%s' has a leading "
                          "zero, which C reads as octal; drop the zero",
                          column(start), q);
  }
  if (s[start] != '0') { /* decimal; hex was accumulated above */
    for (size_t k = start; k < i; k++) {
      int d = s[k] - '0';
      if (v > (INT64_MAX - d) / 10)
        return helion_err_set(p->err, HELION_ERR_PARSE,
                              "column %u: integer literal '%s' does not fit "
                              "in int64",
                              column(start), q);
      v = v * 10 + d;
    }
  }
  p->tok.i = v;
  return HELION_OK;
}

/* Reads the next token into p->tok. */
static helion_status next(parser *p) {
  const char *s = p->text;
  size_t i = p->pos;
  while (is_space(s[i]))
    i++;
  p->tok.start = i;
  p->tok.len = 1;
  p->tok.i = 0;
  p->tok.f = 0.0;
  char c = s[i];
  char d = c ? s[i + 1] : '\0';
  op k;
  size_t n = 1;
  if (c == '\0') {
    p->tok.kind = OP_END;
    p->tok.len = 0;
    p->pos = i;
    return HELION_OK;
  }
  if (is_digit(c) || (c == '.' && is_digit(d)))
    return lex_number(p, i);
  if (is_alpha(c)) {
    size_t j = i;
    while (is_alnum(s[j]))
      j++;
    p->tok.kind = OP_NAME;
    p->tok.len = j - i;
    p->pos = j;
    return HELION_OK;
  }
  switch (c) {
  case '(':
    k = OP_LPAREN;
    break;
  case ')':
    k = OP_RPAREN;
    break;
  case ',':
    k = OP_COMMA;
    break;
  case '?':
    k = OP_QUESTION;
    break;
  case ':':
    k = OP_COLON;
    break;
  case '+':
    k = OP_ADD;
    break;
  case '-':
    k = OP_SUB;
    break;
  case '*':
    k = OP_MUL;
    break;
  case '/':
    k = OP_DIV;
    break;
  case '%':
    k = OP_MOD;
    break;
  case '!':
    k = d == '=' ? OP_NE : OP_NOT;
    n = d == '=' ? 2 : 1;
    break;
  case '<':
    k = d == '=' ? OP_LE : OP_LT;
    n = d == '=' ? 2 : 1;
    break;
  case '>':
    k = d == '=' ? OP_GE : OP_GT;
    n = d == '=' ? 2 : 1;
    break;
  case '=':
    if (d != '=')
      return helion_err_set(p->err, HELION_ERR_PARSE,
                            "column %u: unexpected character '='; did you "
                            "mean '=='?",
                            column(i));
    k = OP_EQ;
    n = 2;
    break;
  case '&':
    if (d != '&')
      return helion_err_set(p->err, HELION_ERR_PARSE,
                            "column %u: unexpected character '&'; did you "
                            "mean '&&'?",
                            column(i));
    k = OP_AND;
    n = 2;
    break;
  case '|':
    if (d != '|')
      return helion_err_set(p->err, HELION_ERR_PARSE,
                            "column %u: unexpected character '|'; did you "
                            "mean '||'?",
                            column(i));
    k = OP_OR;
    n = 2;
    break;
  default:
    if ((unsigned char)c >= 0x21 && (unsigned char)c <= 0x7e)
      return helion_err_set(p->err, HELION_ERR_PARSE,
                            "column %u: unexpected character '%c'", column(i),
                            c);
    return helion_err_set(p->err, HELION_ERR_PARSE,
                          "column %u: unexpected byte 0x%02x", column(i),
                          (unsigned)(unsigned char)c);
  }
  p->tok.kind = k;
  p->tok.len = n;
  p->pos = i + n;
  return HELION_OK;
}

static helion_status expect(parser *p, op kind, const char *what) {
  char found[QUOTE_MAX + 16];
  if (p->tok.kind == kind)
    return next(p);
  describe(p, found, sizeof(found));
  return helion_err_set(p->err, HELION_ERR_PARSE,
                        "column %u: expected %s but found %s",
                        column(p->tok.start), what, found);
}

/* ----------------------------------------------------------------- parser */

static helion_status deeper(parser *p, size_t offset) {
  if (++p->depth > MAX_DEPTH)
    return helion_err_set(p->err, HELION_ERR_LIMIT,
                          "column %u: expression is nested deeper than %d "
                          "levels; simplify it",
                          column(offset), MAX_DEPTH);
  return HELION_OK;
}

static int kind_of(op o, const node *a, const node *b) {
  switch (o) {
  case OP_INT:
    return KIND_INT;
  case OP_FLOAT:
    return KIND_FLOAT;
  case OP_NAME:
    return KIND_DEPENDS;
  case OP_NEG:
  case OP_POS:
    return a->kind;
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_MOD:
  case OP_MIN:
  case OP_MAX:
  case OP_COND: /* a and b are the two branches here */
    if (a->kind == KIND_FLOAT || b->kind == KIND_FLOAT)
      return KIND_FLOAT;
    if (a->kind == KIND_INT && b->kind == KIND_INT)
      return KIND_INT;
    return KIND_DEPENDS;
  default: /* comparisons, logic, cdiv, next_pow2, log2 */
    return KIND_INT;
  }
}

/* Appends a node; children must already exist. Returns its index or -1. */
static int32_t add_node(parser *p, op o, size_t offset, int32_t a, int32_t b,
                        int32_t c) {
  if (p->count == p->cap) {
    int32_t ncap = p->cap ? p->cap * 2 : 16;
    node *nn = realloc(p->nodes, (size_t)ncap * sizeof(*nn));
    if (!nn) {
      helion_err_set(p->err, HELION_ERR_NOMEM,
                     "column %u: out of memory parsing the expression",
                     column(offset));
      return -1;
    }
    p->nodes = nn;
    p->cap = ncap;
  }
  node *n = &p->nodes[p->count];
  memset(n, 0, sizeof(*n));
  n->op = (uint8_t)o;
  n->col = column(offset);
  n->a = a;
  n->b = b;
  n->c = c;
  unsigned depth = 0;
  int32_t kids[3] = {a, b, c};
  for (int k = 0; k < 3; k++)
    if (kids[k] >= 0 && p->nodes[kids[k]].depth > depth)
      depth = p->nodes[kids[k]].depth;
  if (depth + 1 > MAX_DEPTH) {
    helion_err_set(p->err, HELION_ERR_LIMIT,
                   "column %u: expression is nested deeper than %d levels; "
                   "simplify it",
                   column(offset), MAX_DEPTH);
    return -1;
  }
  n->depth = (uint16_t)(depth + 1);
  const node *na = a >= 0 ? &p->nodes[a] : NULL;
  const node *nb = b >= 0 ? &p->nodes[b] : NULL;
  if (o == OP_COND)
    na = nb, nb = &p->nodes[c];
  n->kind = (uint8_t)kind_of(o, na, nb);
  return p->count++;
}

static helion_status parse_cond(parser *p, int32_t *out);

static int precedence(op o) {
  switch (o) {
  case OP_OR:
    return 1;
  case OP_AND:
    return 2;
  case OP_EQ:
  case OP_NE:
    return 3;
  case OP_LT:
  case OP_LE:
  case OP_GT:
  case OP_GE:
    return 4;
  case OP_ADD:
  case OP_SUB:
    return 5;
  case OP_MUL:
  case OP_DIV:
  case OP_MOD:
    return 6;
  default:
    return 0;
  }
}

static helion_status undefined_name(parser *p) {
  char q[QUOTE_MAX + 4];
  char names[NAMES_MAX + 64];
  size_t used = 0;
  size_t count = p->scope ? p->scope->count : 0;
  size_t shown = 0;
  names[0] = '\0';
  quote(p->text, p->tok.start, p->tok.len, q);
  for (size_t k = 0; k < count; k++) {
    const char *name = p->scope->names[k];
    if (!name)
      continue;
    size_t len = strlen(name);
    if (used + len + 2 > NAMES_MAX)
      break;
    used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                             shown ? ", " : "", name);
    shown++;
  }
  if (count == 0)
    return helion_err_set(p->err, HELION_ERR_NOT_FOUND,
                          "column %u: undefined name '%s'; no names are "
                          "defined here",
                          column(p->tok.start), q);
  if (shown < count)
    snprintf(names + used, sizeof(names) - used, "%s... (%zu more)",
             shown ? ", " : "", count - shown);
  return helion_err_set(p->err, HELION_ERR_NOT_FOUND,
                        "column %u: undefined name '%s'; known names: %s",
                        column(p->tok.start), q, names);
}

static helion_status parse_call(parser *p, int32_t *out) {
  const token name = p->tok;
  char q[QUOTE_MAX + 4];
  int32_t args[3] = {-1, -1, -1};
  int nargs = 0;
  int fn = -1;
  helion_status rc;

  quote(p->text, name.start, name.len, q);
  for (size_t k = 0; k < sizeof(functions) / sizeof(functions[0]); k++)
    if (strlen(functions[k].name) == name.len &&
        memcmp(functions[k].name, p->text + name.start, name.len) == 0)
      fn = (int)k;
  if (fn < 0)
    return helion_err_set(p->err, HELION_ERR_NOT_FOUND,
                          "column %u: unknown function '%s'; functions are "
                          "%s",
                          column(name.start), q, FUNCTION_LIST);
  rc = next(p); /* the name */
  if (!rc)
    rc = next(p); /* the '(' */
  if (rc)
    return rc;
  if (p->tok.kind != OP_RPAREN) {
    for (;;) {
      int32_t arg;
      rc = parse_cond(p, &arg);
      if (rc)
        return rc;
      if (nargs < 3)
        args[nargs] = arg;
      nargs++;
      if (p->tok.kind != OP_COMMA)
        break;
      rc = next(p);
      if (rc)
        return rc;
    }
  }
  rc = expect(p, OP_RPAREN, "',' or ')'");
  if (rc)
    return rc;
  if (nargs != functions[fn].arity)
    return helion_err_set(p->err, HELION_ERR_PARSE,
                          "column %u: %s takes %d argument%s but got %d",
                          column(name.start), functions[fn].name,
                          functions[fn].arity,
                          functions[fn].arity == 1 ? "" : "s", nargs);
  *out = add_node(p, functions[fn].op, name.start, args[0], args[1], -1);
  return *out < 0 ? HELION_ERR_LIMIT : HELION_OK;
}

static helion_status parse_primary(parser *p, int32_t *out) {
  const token t = p->tok;
  char found[QUOTE_MAX + 16];
  helion_status rc;

  switch (t.kind) {
  case OP_INT:
  case OP_FLOAT:
    *out = add_node(p, t.kind, t.start, -1, -1, -1);
    if (*out < 0)
      return HELION_ERR_LIMIT;
    if (t.kind == OP_INT)
      p->nodes[*out].v.i = t.i;
    else
      p->nodes[*out].v.f = t.f;
    return next(p);
  case OP_NAME: {
    size_t j = p->pos;
    while (is_space(p->text[j]))
      j++;
    if (p->text[j] == '(')
      return parse_call(p, out);
    size_t count = p->scope ? p->scope->count : 0;
    for (size_t k = 0; k < count; k++) {
      const char *name = p->scope->names[k];
      if (name && strncmp(name, p->text + t.start, t.len) == 0 &&
          name[t.len] == '\0') {
        *out = add_node(p, OP_NAME, t.start, -1, -1, -1);
        if (*out < 0)
          return HELION_ERR_LIMIT;
        p->nodes[*out].v.slot = (uint32_t)k;
        p->nodes[*out].len = (uint32_t)t.len;
        return next(p);
      }
    }
    return undefined_name(p);
  }
  case OP_LPAREN:
    rc = next(p);
    if (!rc)
      rc = parse_cond(p, out);
    if (!rc)
      rc = expect(p, OP_RPAREN, "')'");
    return rc;
  default:
    describe(p, found, sizeof(found));
    return helion_err_set(p->err, HELION_ERR_PARSE,
                          "column %u: expected an expression but found %s",
                          column(t.start), found);
  }
}

static helion_status parse_unary(parser *p, int32_t *out) {
  const token t = p->tok;
  op o = t.kind == OP_SUB   ? OP_NEG
         : t.kind == OP_ADD ? OP_POS
         : t.kind == OP_NOT ? OP_NOT
                            : OP_END;
  int32_t child;
  helion_status rc;
  if (o == OP_END)
    return parse_primary(p, out);
  rc = deeper(p, t.start);
  if (!rc)
    rc = next(p);
  if (!rc)
    rc = parse_unary(p, &child);
  if (rc)
    return rc;
  p->depth--;
  *out = add_node(p, o, t.start, child, -1, -1);
  return *out < 0 ? HELION_ERR_LIMIT : HELION_OK;
}

/* Precedence climbing over the binary operators, all left-associative. */
static helion_status parse_binary(parser *p, int min_prec, int32_t *out) {
  size_t start = p->tok.start;
  int32_t left, right;
  helion_status rc = parse_unary(p, &left);
  while (!rc) {
    op o = p->tok.kind;
    int prec = precedence(o);
    if (prec == 0 || prec < min_prec)
      break;
    rc = next(p);
    if (!rc)
      rc = parse_binary(p, prec + 1, &right);
    if (rc)
      return rc;
    left = add_node(p, o, start, left, right, -1);
    if (left < 0)
      return HELION_ERR_LIMIT;
  }
  if (!rc)
    *out = left;
  return rc;
}

static helion_status parse_cond(parser *p, int32_t *out) {
  size_t start = p->tok.start;
  int32_t c, t, e;
  helion_status rc = deeper(p, start);
  if (!rc)
    rc = parse_binary(p, 1, &c);
  if (rc)
    return rc;
  if (p->tok.kind == OP_QUESTION) {
    rc = next(p);
    if (!rc)
      rc = parse_cond(p, &t);
    if (!rc)
      rc = expect(p, OP_COLON, "':'");
    if (!rc)
      rc = parse_cond(p, &e);
    if (rc)
      return rc;
    c = add_node(p, OP_COND, start, c, t, e);
    if (c < 0)
      return HELION_ERR_LIMIT;
  }
  p->depth--;
  *out = c;
  return HELION_OK;
}

helion_status helion_expr_parse(const char *text,
                                const helion_expr_scope_t *scope,
                                helion_expr_t **out, helion_err_t *err) {
  parser p;
  helion_expr_t *e = NULL;
  helion_status rc;
  int32_t root = -1;
  char found[QUOTE_MAX + 16];

  memset(&p, 0, sizeof(p));
  if (!text)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "expression text is missing (NULL)");
  p.len = strlen(text);
  if (p.len > MAX_TEXT)
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "expression is %zu bytes long; the limit is %zu",
                          p.len, MAX_TEXT);
  p.text = text;
  p.scope = scope;
  p.err = err;
  rc = next(&p);
  if (rc)
    goto out;
  rc = parse_cond(&p, &root);
  if (rc)
    goto out;
  if (p.tok.kind != OP_END) {
    describe(&p, found, sizeof(found));
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "column %u: expected an operator or end of input but "
                        "found %s",
                        column(p.tok.start), found);
    goto out;
  }
  e = calloc(1, sizeof(*e));
  if (e)
    e->text = helion_strdup(text);
  if (!e || !e->text) {
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "out of memory storing the expression");
    goto out;
  }
  e->nodes = p.nodes;
  e->count = p.count;
  e->root = root;
  p.nodes = NULL;
  *out = e;
  e = NULL;
out:
  if (e)
    free(e->text);
  free(e);
  free(p.nodes);
  return rc;
}

void helion_expr_destroy(helion_expr_t *e) {
  if (!e)
    return;
  free(e->nodes);
  free(e->text);
  free(e);
}

const char *helion_expr_text(const helion_expr_t *e) {
  return e->text;
}

bool helion_expr_uses(const helion_expr_t *e, size_t slot) {
  for (int32_t k = 0; k < e->count; k++)
    if (e->nodes[k].op == OP_NAME && e->nodes[k].v.slot == slot)
      return true;
  return false;
}

/* ------------------------------------------------------------- evaluation */

const char *helion__expr_op_text(op o) {
  switch (o) {
  case OP_ADD:
  case OP_POS:
    return "+";
  case OP_SUB:
  case OP_NEG:
    return "-";
  case OP_MUL:
    return "*";
  case OP_DIV:
    return "/";
  case OP_MOD:
    return "%";
  case OP_NOT:
    return "!";
  case OP_EQ:
    return "==";
  case OP_NE:
    return "!=";
  case OP_LT:
    return "<";
  case OP_LE:
    return "<=";
  case OP_GT:
    return ">";
  case OP_GE:
    return ">=";
  case OP_AND:
    return "&&";
  case OP_OR:
    return "||";
  default:
    return "?";
  }
}

static const char *function_name(op o) {
  for (size_t k = 0; k < sizeof(functions) / sizeof(functions[0]); k++)
    if (functions[k].op == o)
      return functions[k].name;
  return "?";
}

/* Whether node `at` has C type double for these slot values. */
static bool is_float_typed(const helion_expr_t *e, int32_t at,
                           const helion_num_t *slots) {
  const node *n = &e->nodes[at];
  if (n->kind != KIND_DEPENDS)
    return n->kind == KIND_FLOAT;
  switch (n->op) {
  case OP_NAME:
    return slots[n->v.slot].is_float;
  case OP_NEG:
  case OP_POS:
    return is_float_typed(e, n->a, slots);
  case OP_COND:
    return is_float_typed(e, n->b, slots) || is_float_typed(e, n->c, slots);
  default: /* arithmetic, min, max */
    return is_float_typed(e, n->a, slots) || is_float_typed(e, n->b, slots);
  }
}

static helion_status eval_node(const helion_expr_t *e, int32_t at,
                               const helion_num_t *slots, helion_num_t *out,
                               helion_err_t *err);

static helion_status int_arith(const node *n, int64_t x, int64_t y,
                               int64_t *out, helion_err_t *err) {
  bool overflow = false;
  switch ((op)n->op) {
  case OP_ADD:
    overflow = __builtin_add_overflow(x, y, out);
    break;
  case OP_SUB:
    overflow = __builtin_sub_overflow(x, y, out);
    break;
  case OP_MUL:
    overflow = __builtin_mul_overflow(x, y, out);
    break;
  case OP_DIV:
  case OP_MOD:
    if (y == 0)
      return helion_err_set(err, HELION_ERR_EVAL,
                            n->op == OP_DIV ? "column %u: division by zero"
                                            : "column %u: modulo by zero",
                            n->col);
    /* INT64_MIN / -1 overflows, and C leaves INT64_MIN % -1 undefined. */
    if (x == INT64_MIN && y == -1)
      overflow = true;
    else
      *out = n->op == OP_DIV ? x / y : x % y;
    break;
  default:
    break;
  }
  if (overflow)
    return helion_err_set(err, HELION_ERR_EVAL,
                          "column %u: integer overflow in '%s'", n->col,
                          helion__expr_op_text((op)n->op));
  return HELION_OK;
}

static helion_status eval_binary(const node *n, helion_num_t x, helion_num_t y,
                                 helion_num_t *out, helion_err_t *err) {
  op o = (op)n->op;
  bool fl = x.is_float || y.is_float;
  if (o >= OP_EQ && o <= OP_GE) {
    bool r;
    if (fl) {
      double a = helion_num_as_double(x), b = helion_num_as_double(y);
      r = o == OP_EQ   ? a == b
          : o == OP_NE ? a != b
          : o == OP_LT ? a < b
          : o == OP_LE ? a <= b
          : o == OP_GT ? a > b
                       : a >= b;
    } else {
      int64_t a = x.i, b = y.i;
      r = o == OP_EQ   ? a == b
          : o == OP_NE ? a != b
          : o == OP_LT ? a < b
          : o == OP_LE ? a <= b
          : o == OP_GT ? a > b
                       : a >= b;
    }
    *out = helion_num_int(r);
    return HELION_OK;
  }
  if (fl) {
    double a = helion_num_as_double(x), b = helion_num_as_double(y);
    switch (o) {
    case OP_ADD:
      *out = helion_num_float(a + b);
      return HELION_OK;
    case OP_SUB:
      *out = helion_num_float(a - b);
      return HELION_OK;
    case OP_MUL:
      *out = helion_num_float(a * b);
      return HELION_OK;
    case OP_DIV:
      if (b == 0.0)
        return helion_err_set(err, HELION_ERR_EVAL,
                              "column %u: division by zero", n->col);
      *out = helion_num_float(a / b);
      return HELION_OK;
    default: /* C has no % on doubles */
      return helion_err_set(err, HELION_ERR_EVAL,
                            "column %u: '%%' needs integers", n->col);
    }
  }
  int64_t r = 0;
  helion_status rc = int_arith(n, x.i, y.i, &r, err);
  if (!rc)
    *out = helion_num_int(r);
  return rc;
}

static helion_status eval_call(const node *n, helion_num_t x, helion_num_t y,
                               helion_num_t *out, helion_err_t *err) {
  op o = (op)n->op;
  if (o == OP_MIN || o == OP_MAX) {
    /* C's min/max as printed: ((a) < (b) ? (a) : (b)), mixed types give
     * double like ?: does. */
    if (x.is_float || y.is_float) {
      double a = helion_num_as_double(x), b = helion_num_as_double(y);
      *out = helion_num_float(o == OP_MIN ? (a < b ? a : b) : (a > b ? a : b));
    } else {
      *out = helion_num_int(o == OP_MIN ? (x.i < y.i ? x.i : y.i)
                                        : (x.i > y.i ? x.i : y.i));
    }
    return HELION_OK;
  }
  if (x.is_float || (o == OP_CDIV && y.is_float))
    return helion_err_set(err, HELION_ERR_EVAL, "column %u: %s needs integers",
                          n->col, function_name(o));
  if (o == OP_CDIV) {
    int64_t s, r;
    if (y.i == 0)
      return helion_err_set(err, HELION_ERR_EVAL, "column %u: division by zero",
                            n->col);
    /* Step by step as the printed C computes ((a) + (b) - 1) / (b). */
    if (__builtin_add_overflow(x.i, y.i, &s) ||
        __builtin_sub_overflow(s, (int64_t)1, &r) ||
        (r == INT64_MIN && y.i == -1))
      return helion_err_set(err, HELION_ERR_EVAL,
                            "column %u: integer overflow in cdiv", n->col);
    *out = helion_num_int(r / y.i);
    return HELION_OK;
  }
  if (o == OP_NEXT_POW2) {
    if (x.i > ((int64_t)1 << 62))
      return helion_err_set(err, HELION_ERR_EVAL,
                            "column %u: next_pow2 of %lld exceeds 2^62", n->col,
                            (long long)x.i);
    *out = helion_num_int(helion_next_pow2(x.i));
    return HELION_OK;
  }
  if (x.i <= 0)
    return helion_err_set(err, HELION_ERR_EVAL,
                          "column %u: log2 needs a positive integer but got "
                          "%lld",
                          n->col, (long long)x.i);
  *out = helion_num_int(helion_ilog2(x.i));
  return HELION_OK;
}

static helion_status eval_node(const helion_expr_t *e, int32_t at,
                               const helion_num_t *slots, helion_num_t *out,
                               helion_err_t *err) {
  const node *n = &e->nodes[at];
  helion_num_t x, y;
  helion_status rc;

  switch ((op)n->op) {
  case OP_INT:
    *out = helion_num_int(n->v.i);
    return HELION_OK;
  case OP_FLOAT:
    *out = helion_num_float(n->v.f);
    return HELION_OK;
  case OP_NAME:
    x = slots[n->v.slot];
    *out = x.is_float ? helion_num_float(x.f) : helion_num_int(x.i);
    return HELION_OK;
  case OP_NEG:
    rc = eval_node(e, n->a, slots, &x, err);
    if (rc)
      return rc;
    if (x.is_float)
      *out = helion_num_float(-x.f);
    else if (x.i == INT64_MIN)
      return helion_err_set(err, HELION_ERR_EVAL,
                            "column %u: integer overflow in '-'", n->col);
    else
      *out = helion_num_int(-x.i);
    return HELION_OK;
  case OP_POS:
    return eval_node(e, n->a, slots, out, err);
  case OP_NOT:
    rc = eval_node(e, n->a, slots, &x, err);
    if (!rc)
      *out = helion_num_int(!helion_num_truthy(x));
    return rc;
  case OP_AND:
  case OP_OR:
    rc = eval_node(e, n->a, slots, &x, err);
    if (rc)
      return rc;
    if (helion_num_truthy(x) == (n->op == OP_OR)) {
      *out = helion_num_int(n->op == OP_OR);
      return HELION_OK;
    }
    rc = eval_node(e, n->b, slots, &y, err);
    if (!rc)
      *out = helion_num_int(helion_num_truthy(y));
    return rc;
  case OP_COND: {
    rc = eval_node(e, n->a, slots, &x, err);
    if (rc)
      return rc;
    bool cond = helion_num_truthy(x);
    rc = eval_node(e, cond ? n->b : n->c, slots, &y, err);
    if (rc)
      return rc;
    /* C converts both branches to their common type, even the one not
     * taken: `1 ? 2 : 3.0` is 2.0. */
    if (!y.is_float && n->kind != KIND_INT &&
        (n->kind == KIND_FLOAT || is_float_typed(e, cond ? n->c : n->b, slots)))
      y = helion_num_float((double)y.i);
    *out = y;
    return HELION_OK;
  }
  case OP_CDIV:
  case OP_MIN:
  case OP_MAX:
  case OP_NEXT_POW2:
  case OP_LOG2:
    rc = eval_node(e, n->a, slots, &x, err);
    y = helion_num_int(0);
    if (!rc && n->b >= 0)
      rc = eval_node(e, n->b, slots, &y, err);
    if (rc)
      return rc;
    return eval_call(n, x, y, out, err);
  default:
    rc = eval_node(e, n->a, slots, &x, err);
    if (!rc)
      rc = eval_node(e, n->b, slots, &y, err);
    if (rc)
      return rc;
    return eval_binary(n, x, y, out, err);
  }
}

helion_status helion_expr_eval(const helion_expr_t *e,
                               const helion_num_t *slots, helion_num_t *out,
                               helion_err_t *err) {
  helion_num_t v;
  helion_status rc = eval_node(e, e->root, slots, &v, err);
  if (!rc)
    *out = v;
  return rc;
}
