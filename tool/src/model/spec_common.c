/* spec_common.c: the spec parser's shared pieces (spec_parse.h): messages
 * with the JSON path, name registry, typed JSON reads. */
#define _POSIX_C_SOURCE 200809L
#include "model/spec_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

helion_status helion__spec_fail(helion__spec_ctx_t *c, helion_status rc,
                                const char *fmt, ...) {
  char what[HELION_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  if (c->plen)
    return helion_err_set(c->err, rc, "%s: %s: %s", c->file, c->path, what);
  return helion_err_set(c->err, rc, "%s: %s", c->file, what);
}

helion_status helion__spec_nomem(helion__spec_ctx_t *c) {
  return helion_err_set(c->err, HELION_ERR_NOMEM, "%s: out of memory", c->file);
}

/* strlcpy: copies what fits and always terminates. */
void helion__spec_copy_str(char *out, size_t n, const char *s) {
  size_t len = strlen(s);
  if (len >= n)
    len = n - 1;
  memcpy(out, s, len);
  out[len] = '\0';
}

/* Copies `s` for a message: printable ASCII only, at most 40 characters. */
void helion__spec_show(char *out, size_t n, const char *s) {
  size_t k = 0;
  if (!s)
    s = "";
  for (; *s && k + 4 < n; s++) {
    if (k >= 40) {
      memcpy(out + k, "...", 3);
      k += 3;
      break;
    }
    unsigned char ch = (unsigned char)*s;
    out[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  out[k] = '\0';
}

/* Messages are one line: control characters that came from the input (a
 * raw newline inside a JSON string, say) become '?'. */
void helion__spec_one_line(helion_err_t *err) {
  if (!err)
    return;
  for (char *p = err->msg; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
}

void helion__spec_path_reset(helion__spec_ctx_t *c, size_t mark) {
  c->plen = mark;
  c->path[mark] = '\0';
}

static void path_addf(helion__spec_ctx_t *c, const char *fmt, ...)
    HELION_PRINTF(2, 3);

static void path_addf(helion__spec_ctx_t *c, const char *fmt, ...) {
  if (c->plen + 1 >= sizeof(c->path))
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  c->plen += (size_t)n;
  if (c->plen >= sizeof(c->path))
    c->plen = sizeof(c->path) - 1;
}

static bool simple_key(const char *k) {
  if (!k || !*k)
    return false;
  for (; *k; k++)
    if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
          (*k >= '0' && *k <= '9') || *k == '_'))
      return false;
  return true;
}

/* Appends ".key" (or "key" at the root; ["..."] for unusual keys). */
void helion__spec_path_key(helion__spec_ctx_t *c, const char *key) {
  if (simple_key(key)) {
    path_addf(c, "%s%s", c->plen ? "." : "", key);
  } else {
    char s[64];
    helion__spec_show(s, sizeof(s), key);
    path_addf(c, "[\"%s\"]", s);
  }
}

void helion__spec_path_index(helion__spec_ctx_t *c, size_t i) {
  path_addf(c, "[%zu]", i);
}

/* ------------------------------------------------------- small helpers */

/* Optimal string alignment distance (a transposition counts 1), for "did
 * you mean". Long strings are never suggested. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return 1000;
  size_t d[65][65];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v)
        v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

/* The closest known word when it is close enough to be a typo, else NULL. */
const char *helion__spec_suggest(const char *word, const char *const *known,
                                 size_t n) {
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; word && i < n; i++) {
    size_t d = edit_distance(word, known[i]);
    if (d < best_d && d < strlen(known[i])) {
      best = known[i];
      best_d = d;
    }
  }
  return best;
}

void helion__spec_join_words(char *out, size_t n, const char *const *words,
                             size_t count) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < count && used + 1 < n; i++) {
    int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", words[i]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

/* Why `s` is not a C identifier, or NULL when it is one. */
const char *helion__spec_ident_problem(const char *s) {
  if (helion_is_c_identifier(s))
    return NULL;
  if (simple_key(s) && !(s[0] >= '0' && s[0] <= '9'))
    return "is a C or C++ keyword; choose another name";
  return "is not a C identifier; use letters, digits and underscores, not "
         "starting with a digit";
}

/*
 * Names a spec may not use for a parameter, key or argument: params reach
 * the kernel as -D macros and keys and args share the kernel's namespace, so
 * such a name would silently rename something. One table, with the reason.
 * Prefixes: HL_ and HELION_ are the tool's own macros (the parameter table's
 * names, model/params.h, and the device header's); a name starting with "__"
 * is reserved to the implementation in C and C++ (__CUDA_ARCH__, __CUDACC__,
 * __global__, ...); CUDART_ is the prefix of the constants NVRTC's
 * math_constants.h defines. Whole names: CUDA's built-in variables, and the
 * macros the C headers NVRTC provides define.
 */
static const struct {
  const char *name;
  bool prefix;
  const char *why;
} reserved_names[] = {
    {"HL_", true, "the HL_ prefix is the tool's own -D macros"},
    {"HELION_", true, "the HELION_ prefix is the tool's own macros"},
    {"helion_", true,
     "the helion_ prefix is the names of generated headers (their locals and "
     "functions)"},
    {"__", true,
     "names starting with '__' are reserved to the compiler "
     "(__CUDA_ARCH__, __CUDACC__, ...)"},
    {"CUDART_", true,
     "the CUDART_ prefix is the constants of CUDA's math_constants.h"},
    {"threadIdx", false, "it is a CUDA built-in variable"},
    {"blockIdx", false, "it is a CUDA built-in variable"},
    {"blockDim", false, "it is a CUDA built-in variable"},
    {"gridDim", false, "it is a CUDA built-in variable"},
    {"warpSize", false, "it is a CUDA built-in variable"},
    {"NULL", false, "it is a macro of the C headers"},
    {"INFINITY", false, "it is a macro of the C headers"},
    {"NAN", false, "it is a macro of the C headers"},
};

const char *helion__spec_reserved_problem(const char *s) {
  for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]);
       i++) {
    const char *r = reserved_names[i].name;
    if (reserved_names[i].prefix ? strncmp(s, r, strlen(r)) == 0
                                 : strcmp(s, r) == 0)
      return reserved_names[i].why;
  }
  return NULL;
}

/* Formats an enum choice as a spec would write it. */
void helion__spec_fmt_value(char *out, size_t n, const helion_value_t *v) {
  char s[64];
  switch (v->kind) {
  case HELION_VALUE_NULL:
    snprintf(out, n, "null");
    break;
  case HELION_VALUE_BOOL:
    snprintf(out, n, "%s", v->i ? "true" : "false");
    break;
  case HELION_VALUE_INT:
    snprintf(out, n, "%lld", (long long)v->i);
    break;
  case HELION_VALUE_FLOAT:
    snprintf(out, n, "%.17g", v->f);
    break;
  case HELION_VALUE_STR:
    helion__spec_show(s, sizeof(s), v->s);
    snprintf(out, n, "'%s'", s);
    break;
  }
}

bool helion__spec_value_equal(const helion_value_t *a,
                              const helion_value_t *b) {
  if (a->kind != b->kind)
    return false;
  switch (a->kind) {
  case HELION_VALUE_NULL:
    return true;
  case HELION_VALUE_BOOL:
  case HELION_VALUE_INT:
    return a->i == b->i;
  case HELION_VALUE_FLOAT:
    return a->f == b->f;
  case HELION_VALUE_STR:
    return strcmp(a->s, b->s) == 0;
  }
  return false;
}

void helion__spec_free_choices(helion_value_t *choices, size_t n) {
  for (size_t i = 0; choices && i < n; i++)
    free(choices[i].s);
  free(choices);
}

/* ---------------------------------------------------- typed JSON reads */

helion_status helion__spec_want(helion__spec_ctx_t *c, const cJSON *it, bool ok,
                                const char *what) {
  if (ok)
    return HELION_OK;
  return helion__spec_fail(c, HELION_ERR_INVALID, "expected %s, got %s", what,
                           helion_json_type_name(it));
}

helion_status helion__spec_get_int(helion__spec_ctx_t *c, const cJSON *it,
                                   int64_t *out) {
  if (!cJSON_IsNumber(it))
    return helion__spec_want(c, it, false, "an integer");
  int64_t n;
  if (helion_json_get_int(it, &n) && n >= -JSON_INT_MAX && n <= JSON_INT_MAX) {
    *out = n;
    return HELION_OK;
  }
  double v = it->valuedouble;
  /* A JSON number is read as a double: beyond 2^53 - 1 the integer written
   * may not be the one read (9007199254740993 reads as ...992). */
  if (v == floor(v))
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "%.17g is too large; integers must be within "
                             "+-%lld, the range JSON numbers hold exactly",
                             v, (long long)JSON_INT_MAX);
  return helion__spec_fail(c, HELION_ERR_INVALID, "expected an integer, got %g",
                           v);
}

helion_status helion__spec_get_pos_int(helion__spec_ctx_t *c, const cJSON *it,
                                       int64_t *out) {
  int64_t v = 0; /* gcc 12 -O2 warns maybe-uninitialized otherwise */
  helion_status rc = helion__spec_get_int(c, it, &v);
  if (rc)
    return rc;
  if (v < 1)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "expected a positive integer, got %lld",
                             (long long)v);
  *out = v;
  return HELION_OK;
}

helion_status helion__spec_get_ident(helion__spec_ctx_t *c, const cJSON *it,
                                     const char **out) {
  helion_status rc = helion__spec_want(c, it, cJSON_IsString(it), "a string");
  if (rc)
    return rc;
  const char *why = helion__spec_ident_problem(it->valuestring);
  char s[64];
  helion__spec_show(s, sizeof(s), it->valuestring);
  /* Generated headers build identifiers from names (helion_<name>_desc);
   * C promises only 63 significant characters of an internal one. */
  if (!why && strlen(it->valuestring) > HELION_SPEC_NAME_MAX)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "'%s' is %zu characters long; names have at most "
                             "%d",
                             s, strlen(it->valuestring), HELION_SPEC_NAME_MAX);
  if (why)
    return helion__spec_fail(c, HELION_ERR_INVALID, "'%s' %s", s, why);
  why = helion__spec_reserved_problem(it->valuestring);
  if (why)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "'%s' is a reserved name: %s; choose another name",
                             s, why);
  *out = it->valuestring;
  return HELION_OK;
}

/*
 * Rejects unknown and repeated keys of an object (which must already be
 * known to be one). `known` has at most 16 entries.
 */
helion_status helion__spec_check_keys(helion__spec_ctx_t *c, const cJSON *obj,
                                      const char *const *known, size_t nknown) {
  bool seen[16] = {false};
  for (const cJSON *ch = obj->child; ch; ch = ch->next) {
    size_t mark = c->plen;
    size_t i = 0;
    while (i < nknown && !(ch->string && strcmp(ch->string, known[i]) == 0))
      i++;
    helion__spec_path_key(c, ch->string);
    if (i == nknown) {
      char list[512];
      helion__spec_join_words(list, sizeof(list), known, nknown);
      const char *near = helion__spec_suggest(ch->string, known, nknown);
      if (near)
        return helion__spec_fail(
            c, HELION_ERR_INVALID,
            "unknown key; known keys are: %s; did you mean '%s'?", list, near);
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "unknown key; known keys are: %s", list);
    }
    if (seen[i])
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "duplicate key; give it once");
    seen[i] = true;
    helion__spec_path_reset(c, mark);
  }
  return HELION_OK;
}

helion_status helion__spec_check_pow2(helion__spec_ctx_t *c, int64_t v) {
  if (v < 1)
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "%lld is not a power of two; use 1 or a larger power of two",
        (long long)v);
  if (v > MAX_POW2)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "%lld is too large; use at most %lld",
                             (long long)v, (long long)MAX_POW2);
  if (!helion_is_pow2(v)) {
    int64_t lo = (int64_t)1 << helion_log2_floor((uint64_t)v);
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "%lld is not a power of two; use %lld or %lld",
                             (long long)v, (long long)lo, (long long)(lo * 2));
  }
  return HELION_OK;
}

/* Reads an enum choice (null, boolean, number or string) into *out; strings
 * are borrowed from the tree until copied. */
helion_status helion__spec_get_choice(helion__spec_ctx_t *c, const cJSON *it,
                                      helion_value_t *out) {
  helion_value_t v;
  memset(&v, 0, sizeof(v));
  if (cJSON_IsNull(it)) {
    v.kind = HELION_VALUE_NULL;
  } else if (cJSON_IsBool(it)) {
    v.kind = HELION_VALUE_BOOL;
    v.i = cJSON_IsTrue(it) ? 1 : 0;
  } else if (cJSON_IsNumber(it)) {
    /* An integer past 2^53 - 1 may not be the one written (2^53 + 1 reads
     * as 2^53); past 2^63 it is a floating magnitude, kept as written. */
    double d = it->valuedouble;
    if (d == floor(d) && fabs(d) > (double)JSON_INT_MAX && fabs(d) < 0x1p63)
      return helion__spec_get_int(c, it, &v.i); /* the range message */
    if (helion_json_get_int(it, &v.i)) {
      v.kind = HELION_VALUE_INT;
    } else {
      v.kind = HELION_VALUE_FLOAT;
      v.f = it->valuedouble;
    }
  } else if (cJSON_IsString(it)) {
    v.kind = HELION_VALUE_STR;
    v.s = it->valuestring;
  } else {
    return helion__spec_want(c, it, false,
                             "null, a boolean, a number or a string");
  }
  *out = v;
  return HELION_OK;
}

/* The text of an expression item: a string, or a number written out. */
static helion_status expr_text(helion__spec_ctx_t *c, const cJSON *it,
                               char *num, size_t n, const char **out) {
  if (cJSON_IsString(it)) {
    *out = it->valuestring;
    return HELION_OK;
  }
  if (cJSON_IsNumber(it)) {
    int64_t v;
    if (helion_json_get_int(it, &v))
      snprintf(num, n, "%lld", (long long)v);
    else
      snprintf(num, n, "%.17g", it->valuedouble);
    *out = num;
    return HELION_OK;
  }
  return helion__spec_want(c, it, false,
                           "an expression (a string or a number)");
}

/* Parses an expression item against the spec's scope. */
helion_status helion__spec_parse_expr(helion__spec_ctx_t *c, const cJSON *it,
                                      helion_expr_t **out) {
  char num[64];
  const char *text = NULL;
  helion_status rc = expr_text(c, it, num, sizeof(num), &text);
  if (rc)
    return rc;
  helion_expr_scope_t scope = {(const char *const *)c->spec->scope_names,
                               c->spec->nscope};
  helion_err_t e;
  e.msg[0] = '\0';
  rc = helion_expr_parse(text, &scope, out, &e);
  if (rc)
    return helion_err_set(c->err, rc, "%s: %s: %s", c->file, c->path, e.msg);
  return HELION_OK;
}

/* ------------------------------------------------------------- names */

/* Records a name of the expression scope (or a macro), failing at the
 * current path when it is taken. */
helion_status helion__spec_register_name(helion__spec_ctx_t *c,
                                         const char *name, const char *owner) {
  for (size_t i = 0; i < c->nnames; i++) {
    if (strcmp(c->names[i].name, name) == 0)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "'%s' is already the name of %s; names must be unique", name,
          c->names[i].owner);
  }
  if (c->nnames >= sizeof(c->names) / sizeof(c->names[0]))
    return helion__spec_fail(c, HELION_ERR_LIMIT, "too many names");
  c->names[c->nnames].name = name;
  helion__spec_copy_str(c->names[c->nnames].owner, sizeof(c->names[0].owner),
                        owner);
  c->nnames++;
  return HELION_OK;
}
