/*
 * spec.c: reads a kernel spec (DESIGN.md §3) and validates it into a
 * helion_spec_t, builds its configuration space for one shape and device,
 * parses shapes given on the command line, and knows the device properties
 * assumed for each architecture.
 *
 * Validation order matters for which error a user sees first, so the keys are
 * checked in a fixed order (not the order of the JSON text): the top-level
 * key names, name/source/entry, key and shapes, space, defaults, then every
 * expression (args, restrictions, launch) against the finished scope,
 * accuracy and reference, and last whether the source file exists. Checking
 * the file last keeps every other check reachable for inputs whose "source"
 * names no file (the fuzzer depends on that).
 */
#define _POSIX_C_SOURCE 200809L
#include "model/spec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json.h"

/* Limits keep every check cheap (several are quadratic) on hostile input. */
#define SPEC_MAX_BYTES ((size_t)16 << 20)
#define MAX_PARAMS 256
#define MAX_ARGS 256
#define MAX_KEYS 32
#define MAX_SHAPES 1024
#define MAX_RESTRICTIONS 256
#define MAX_PERM_LENGTH 16
#define MAX_LIST_LENGTH 64
#define MAX_CHOICES 256
#define MAX_POW2 ((int64_t)1 << 30)
#define JSON_INT_MAX ((int64_t)1 << 53)

static const char *const device_prop_names[HELION_DEVICE_PROP_COUNT] = {
    HELION_DEVICE_PROP_NAMES};

/* ------------------------------------------------------------ data types */

static const struct {
  const char *name; /* as a spec may write it */
  helion_dtype dtype;
} type_names[] = {
    {"float", HELION_DT_FLOAT},
    {"double", HELION_DT_DOUBLE},
    {"__half", HELION_DT_HALF},
    {"half", HELION_DT_HALF},
    {"__nv_bfloat16", HELION_DT_BF16},
    {"nv_bfloat16", HELION_DT_BF16},
    {"int8_t", HELION_DT_I8},
    {"int16_t", HELION_DT_I16},
    {"int32_t", HELION_DT_I32},
    {"int64_t", HELION_DT_I64},
    {"uint8_t", HELION_DT_U8},
    {"uint16_t", HELION_DT_U16},
    {"uint32_t", HELION_DT_U32},
    {"uint64_t", HELION_DT_U64},
    {"int", HELION_DT_I32},
    {"unsigned int", HELION_DT_U32},
    {"unsigned", HELION_DT_U32},
    {"long long", HELION_DT_I64},
    {"unsigned long long", HELION_DT_U64},
};

size_t helion_dtype_size(helion_dtype t) {
  switch (t) {
  case HELION_DT_FLOAT:
    return 4;
  case HELION_DT_DOUBLE:
    return 8;
  case HELION_DT_HALF:
  case HELION_DT_BF16:
    return 2;
  case HELION_DT_I8:
  case HELION_DT_U8:
    return 1;
  case HELION_DT_I16:
  case HELION_DT_U16:
    return 2;
  case HELION_DT_I32:
  case HELION_DT_U32:
    return 4;
  case HELION_DT_I64:
  case HELION_DT_U64:
    return 8;
  }
  return 0;
}

const char *helion_dtype_name(helion_dtype t) {
  switch (t) {
  case HELION_DT_FLOAT:
    return "float";
  case HELION_DT_DOUBLE:
    return "double";
  case HELION_DT_HALF:
    return "__half";
  case HELION_DT_BF16:
    return "__nv_bfloat16";
  case HELION_DT_I8:
    return "int8_t";
  case HELION_DT_I16:
    return "int16_t";
  case HELION_DT_I32:
    return "int32_t";
  case HELION_DT_I64:
    return "int64_t";
  case HELION_DT_U8:
    return "uint8_t";
  case HELION_DT_U16:
    return "uint16_t";
  case HELION_DT_U32:
    return "uint32_t";
  case HELION_DT_U64:
    return "uint64_t";
  }
  return "?";
}

static bool dtype_is_float(helion_dtype t) {
  return t == HELION_DT_FLOAT || t == HELION_DT_DOUBLE ||
         t == HELION_DT_HALF || t == HELION_DT_BF16;
}

/* --------------------------------------------------------- device table */

static const struct {
  int arch; /* major * 10 + minor */
  int64_t num_sms;
  int64_t smem_per_block;
  const char *part; /* the part the numbers are taken from */
} arch_table[] = {
    {70, 80, 98304, "V100"},       {72, 8, 98304, "Xavier"},
    {75, 40, 65536, "T4"},         {80, 108, 166912, "A100"},
    {86, 82, 101376, "RTX 3090"},  {87, 16, 166912, "Orin"},
    {89, 128, 101376, "RTX 4090"}, {90, 132, 232448, "H100"},
    {100, 148, 232448, "B200"},    {103, 148, 232448, "B300"},
    {120, 170, 101376, "RTX 5090"}, {121, 48, 101376, "GB10"},
};

helion_status helion_device_props_for_arch(const char *arch,
                                           helion_device_props_t *out,
                                           helion_err_t *err) {
  char known[256] = "";
  size_t n = sizeof(arch_table) / sizeof(arch_table[0]);
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(known);
    snprintf(known + used, sizeof(known) - used, "%ssm_%d", i ? ", " : "",
             arch_table[i].arch);
  }
  if (!arch || !out)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_device_props_for_arch: no architecture");
  /* "sm_90", "sm_90a" and "sm_100f" name the same table row. */
  const char *p = arch;
  int num = 0, digits = 0;
  if (strncmp(p, "sm_", 3) == 0) {
    for (p += 3; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
      num = num * 10 + (*p - '0');
    if (*p == 'a' || *p == 'f')
      p++;
  }
  for (size_t i = 0; digits >= 2 && *p == '\0' && i < n; i++) {
    if (arch_table[i].arch != num)
      continue;
    helion_device_props_t d;
    memset(&d, 0, sizeof(d));
    snprintf(d.name, sizeof(d.name), "%.32s (assumed)", arch);
    d.cc_major = num / 10;
    d.cc_minor = num % 10;
    d.num_sms = arch_table[i].num_sms;
    d.smem_per_block = arch_table[i].smem_per_block;
    d.regs_per_sm = 65536;
    *out = d;
    return HELION_OK;
  }
  char shown[48];
  size_t k = 0;
  for (const char *q = arch; *q && k < 40; q++)
    shown[k++] = (*q >= 0x20 && *q < 0x7f && *q != '\'') ? *q : '?';
  shown[k] = '\0';
  return helion_err_set(err, HELION_ERR_INVALID,
                        "unknown architecture '%s'; use one of %s", shown,
                        known);
}

/* ------------------------------------------------------ parser context */

typedef struct name_entry {
  const char *name;  /* borrowed from the spec or a static table */
  char owner[96];    /* "key[0]", "space.block_sizes[1]", "a device property" */
} name_entry_t;

typedef struct ctx {
  const char *file;
  helion_err_t *err;
  char path[512]; /* JSON path of the item being checked */
  size_t plen;
  helion_spec_t *spec;
  name_entry_t names[HELION_DEVICE_PROP_COUNT + MAX_KEYS + MAX_PARAMS];
  size_t nnames;
} ctx_t;

static helion_status fail(ctx_t *c, helion_status rc, const char *fmt, ...)
    HELION_PRINTF(3, 4);

static helion_status fail(ctx_t *c, helion_status rc, const char *fmt, ...) {
  char what[HELION_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  if (c->plen)
    return helion_err_set(c->err, rc, "%s: %s: %s", c->file, c->path, what);
  return helion_err_set(c->err, rc, "%s: %s", c->file, what);
}

static helion_status nomem(ctx_t *c) {
  return helion_err_set(c->err, HELION_ERR_NOMEM, "%s: out of memory",
                        c->file);
}

/* strlcpy: copies what fits and always terminates. */
static void copy_str(char *out, size_t n, const char *s) {
  size_t len = strlen(s);
  if (len >= n)
    len = n - 1;
  memcpy(out, s, len);
  out[len] = '\0';
}

/* Copies `s` for a message: printable ASCII only, at most 40 characters. */
static void show(char *out, size_t n, const char *s) {
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
static void one_line(helion_err_t *err) {
  if (!err)
    return;
  for (char *p = err->msg; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
}

static void path_reset(ctx_t *c, size_t mark) {
  c->plen = mark;
  c->path[mark] = '\0';
}

static void path_addf(ctx_t *c, const char *fmt, ...) HELION_PRINTF(2, 3);

static void path_addf(ctx_t *c, const char *fmt, ...) {
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
static void path_key(ctx_t *c, const char *key) {
  if (simple_key(key)) {
    path_addf(c, "%s%s", c->plen ? "." : "", key);
  } else {
    char s[64];
    show(s, sizeof(s), key);
    path_addf(c, "[\"%s\"]", s);
  }
}

static void path_index(ctx_t *c, size_t i) { path_addf(c, "[%zu]", i); }

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
static const char *suggest(const char *word, const char *const *known,
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

static void join_words(char *out, size_t n, const char *const *words,
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
static const char *ident_problem(const char *s) {
  if (helion_is_c_identifier(s))
    return NULL;
  if (simple_key(s) && !(s[0] >= '0' && s[0] <= '9'))
    return "is a C keyword; choose another name";
  return "is not a C identifier; use letters, digits and underscores, not "
         "starting with a digit";
}

/* Formats an enum choice as a spec would write it. */
static void fmt_value(char *out, size_t n, const helion_value_t *v) {
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
    show(s, sizeof(s), v->s);
    snprintf(out, n, "'%s'", s);
    break;
  }
}

static bool value_equal(const helion_value_t *a, const helion_value_t *b) {
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

static void free_choices(helion_value_t *choices, size_t n) {
  for (size_t i = 0; choices && i < n; i++)
    free(choices[i].s);
  free(choices);
}

/* ---------------------------------------------------- typed JSON reads */

static helion_status want(ctx_t *c, const cJSON *it, bool ok,
                          const char *what) {
  if (ok)
    return HELION_OK;
  return fail(c, HELION_ERR_INVALID, "expected %s, got %s", what,
              helion_json_type_name(it));
}

static helion_status get_int(ctx_t *c, const cJSON *it, int64_t *out) {
  if (!cJSON_IsNumber(it))
    return want(c, it, false, "an integer");
  if (helion_json_get_int(it, out))
    return HELION_OK;
  double v = it->valuedouble;
  if (v == floor(v))
    return fail(c, HELION_ERR_INVALID,
                "%g is too large; integers must be within +-%lld", v,
                (long long)JSON_INT_MAX);
  return fail(c, HELION_ERR_INVALID, "expected an integer, got %g", v);
}

static helion_status get_pos_int(ctx_t *c, const cJSON *it, int64_t *out) {
  int64_t v;
  helion_status rc = get_int(c, it, &v);
  if (rc)
    return rc;
  if (v < 1)
    return fail(c, HELION_ERR_INVALID, "expected a positive integer, got %lld",
                (long long)v);
  *out = v;
  return HELION_OK;
}

static helion_status get_ident(ctx_t *c, const cJSON *it, const char **out) {
  helion_status rc = want(c, it, cJSON_IsString(it), "a string");
  if (rc)
    return rc;
  const char *why = ident_problem(it->valuestring);
  if (why) {
    char s[64];
    show(s, sizeof(s), it->valuestring);
    return fail(c, HELION_ERR_INVALID, "'%s' %s", s, why);
  }
  *out = it->valuestring;
  return HELION_OK;
}

/*
 * Rejects unknown and repeated keys of an object (which must already be
 * known to be one). `known` has at most 16 entries.
 */
static helion_status check_keys(ctx_t *c, const cJSON *obj,
                                const char *const *known, size_t nknown) {
  bool seen[16] = {false};
  for (const cJSON *ch = obj->child; ch; ch = ch->next) {
    size_t mark = c->plen;
    size_t i = 0;
    while (i < nknown && !(ch->string && strcmp(ch->string, known[i]) == 0))
      i++;
    path_key(c, ch->string);
    if (i == nknown) {
      char list[512];
      join_words(list, sizeof(list), known, nknown);
      const char *near = suggest(ch->string, known, nknown);
      if (near)
        return fail(c, HELION_ERR_INVALID,
                    "unknown key; known keys are: %s; did you mean '%s'?",
                    list, near);
      return fail(c, HELION_ERR_INVALID, "unknown key; known keys are: %s",
                  list);
    }
    if (seen[i])
      return fail(c, HELION_ERR_INVALID, "duplicate key; give it once");
    seen[i] = true;
    path_reset(c, mark);
  }
  return HELION_OK;
}

static helion_status check_pow2(ctx_t *c, int64_t v) {
  if (v < 1)
    return fail(c, HELION_ERR_INVALID,
                "%lld is not a power of two; use 1 or a larger power of two",
                (long long)v);
  if (v > MAX_POW2)
    return fail(c, HELION_ERR_INVALID, "%lld is too large; use at most %lld",
                (long long)v, (long long)MAX_POW2);
  if (!helion_is_pow2(v)) {
    int64_t lo = (int64_t)1 << helion_log2_floor((uint64_t)v);
    return fail(c, HELION_ERR_INVALID,
                "%lld is not a power of two; use %lld or %lld", (long long)v,
                (long long)lo, (long long)(lo * 2));
  }
  return HELION_OK;
}

/* Reads an enum choice (null, boolean, number or string) into *out; strings
 * are borrowed from the tree until copied. */
static helion_status get_choice(ctx_t *c, const cJSON *it,
                                helion_value_t *out) {
  helion_value_t v;
  memset(&v, 0, sizeof(v));
  if (cJSON_IsNull(it)) {
    v.kind = HELION_VALUE_NULL;
  } else if (cJSON_IsBool(it)) {
    v.kind = HELION_VALUE_BOOL;
    v.i = cJSON_IsTrue(it) ? 1 : 0;
  } else if (cJSON_IsNumber(it)) {
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
    return want(c, it, false, "null, a boolean, a number or a string");
  }
  *out = v;
  return HELION_OK;
}

/* The text of an expression item: a string, or a number written out. */
static helion_status expr_text(ctx_t *c, const cJSON *it, char *num,
                               size_t n, const char **out) {
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
  return want(c, it, false, "an expression (a string or a number)");
}

/* Parses an expression item against the spec's scope. */
static helion_status parse_expr(ctx_t *c, const cJSON *it,
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
static helion_status register_name(ctx_t *c, const char *name,
                                   const char *owner) {
  for (size_t i = 0; i < c->nnames; i++) {
    if (strcmp(c->names[i].name, name) == 0)
      return fail(c, HELION_ERR_INVALID,
                  "'%s' is already the name of %s; names must be unique", name,
                  c->names[i].owner);
  }
  if (c->nnames >= sizeof(c->names) / sizeof(c->names[0]))
    return fail(c, HELION_ERR_LIMIT, "too many names");
  c->names[c->nnames].name = name;
  copy_str(c->names[c->nnames].owner, sizeof(c->names[0].owner), owner);
  c->nnames++;
  return HELION_OK;
}

/* ------------------------------------------------------------ space */

static helion_frag_t frag_scalar(helion_frag_kind kind, int64_t low,
                                 int64_t high, int64_t dflt) {
  helion_frag_t f;
  memset(&f, 0, sizeof(f));
  f.kind = kind;
  f.inner = kind;
  f.low = low;
  f.high = high;
  f.dflt = dflt;
  f.length = 1;
  return f;
}

/*
 * Appends a flat slot; takes ownership of frag's choices even on failure.
 * `name` (NULL for PERM/LIST) and, when given, `reserve` (the key of a
 * nameless user tunable) are registered as taken by `owner`.
 */
static helion_status add_param(ctx_t *c, const char *key, int index,
                               const char *name, const char *reserve,
                               helion_frag_role role, helion_frag_t *frag,
                               const char *owner) {
  helion_spec_t *s = c->spec;
  helion_status rc = HELION_OK;
  if (s->nparams >= MAX_PARAMS) {
    rc = fail(c, HELION_ERR_LIMIT,
              "more than %d parameters; a space has at most %d flat slots",
              MAX_PARAMS, MAX_PARAMS);
    goto out;
  }
  if (name || reserve) {
    rc = register_name(c, name ? name : reserve, owner);
    if (rc)
      goto out;
  }
  helion_param_t *p = &s->params[s->nparams];
  memset(p, 0, sizeof(*p));
  s->nparams++;
  p->frag = *frag;
  frag->choices = NULL;
  frag->nchoices = 0;
  p->index = index;
  p->role = role;
  p->key = helion_strdup(key);
  p->name = helion_strdup(name);
  if (!p->key || (name && !p->name))
    rc = nomem(c);
  /* The registry borrows the param's own copy of the name. */
  if (!rc && (name || reserve))
    c->names[c->nnames - 1].name = name ? p->name : p->key;
out:
  free_choices(frag->choices, frag->nchoices);
  frag->choices = NULL;
  return rc;
}

/* How a {min, max, default} object of a standard key or a user tunable is
 * read. */
typedef struct bounds_rule {
  helion_frag_kind kind; /* POW2 or INT */
  bool required;         /* min and max must be given */
  int64_t low, high;     /* used when min/max are absent */
  int64_t dflt;          /* used when default is absent; clamped */
  int64_t floor, ceil;   /* allowed range of every value */
} bounds_rule_t;

static helion_status read_bound(ctx_t *c, const bounds_rule_t *r,
                                const cJSON *it, int64_t *out) {
  int64_t v;
  helion_status rc = get_int(c, it, &v);
  if (rc)
    return rc;
  if (r->kind == HELION_FRAG_POW2) {
    rc = check_pow2(c, v);
    if (rc)
      return rc;
  }
  if (v < r->floor)
    return fail(c, HELION_ERR_INVALID, "%lld is below %lld; use at least %lld",
                (long long)v, (long long)r->floor, (long long)r->floor);
  if (v > r->ceil)
    return fail(c, HELION_ERR_INVALID, "%lld is above %lld; use at most %lld",
                (long long)v, (long long)r->ceil, (long long)r->ceil);
  *out = v;
  return HELION_OK;
}

static helion_status parse_bounds(ctx_t *c, const cJSON *obj,
                                  const bounds_rule_t *r,
                                  const char *const *known, size_t nknown,
                                  helion_frag_t *out) {
  helion_status rc = want(c, obj, cJSON_IsObject(obj), "an object");
  if (rc)
    return rc;
  rc = check_keys(c, obj, known, nknown);
  if (rc)
    return rc;
  int64_t lo = r->low, hi = r->high, d = r->dflt;
  const char *names[2] = {"min", "max"};
  int64_t *dst[2] = {&lo, &hi};
  for (int i = 0; i < 2; i++) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, names[i]);
    if (!it) {
      if (r->required)
        return fail(c, HELION_ERR_INVALID, "missing required key '%s'",
                    names[i]);
      continue;
    }
    size_t mark = c->plen;
    path_key(c, names[i]);
    rc = read_bound(c, r, it, dst[i]);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  if (lo > hi)
    return fail(c, HELION_ERR_INVALID,
                "min %lld is greater than max %lld; make min <= max",
                (long long)lo, (long long)hi);
  const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
  if (dj) {
    size_t mark = c->plen;
    path_key(c, "default");
    rc = read_bound(c, r, dj, &d);
    if (rc)
      return rc;
    if (d < lo || d > hi)
      return fail(c, HELION_ERR_INVALID,
                  "%lld is outside [%lld, %lld]; use a value between min and "
                  "max",
                  (long long)d, (long long)lo, (long long)hi);
    path_reset(c, mark);
  } else {
    /* Helion clamps its fixed defaults into the bounds; powers of two stay
     * powers of two because the bounds are. */
    d = d < lo ? lo : d > hi ? hi : d;
  }
  *out = frag_scalar(r->kind, lo, hi, d);
  return HELION_OK;
}

static const char *const bounds_keys[] = {"min", "max", "default"};

/* Owner text of the slot at the current path. */
static void owner_here(ctx_t *c, char *out, size_t n) {
  copy_str(out, n, c->path);
}

static helion_status std_block_sizes(ctx_t *c, const cJSON *arr) {
  helion_status rc = want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(arr);
  /* Helion's default block size with no reduction loops (§1.4): 32 for up to
   * two block sizes, 16 beyond, clamped into the bounds. */
  bounds_rule_t r = {HELION_FRAG_POW2, true, 1, 1, n <= 2 ? 32 : 16,
                     1, MAX_POW2};
  static const char *const keys[] = {"name", "min", "max", "default"};
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    char owner[96];
    owner_here(c, owner, sizeof(owner));
    rc = want(c, it, cJSON_IsObject(it), "an object");
    if (rc)
      return rc;
    rc = check_keys(c, it, keys, 4);
    if (rc)
      return rc;
    const cJSON *nj = cJSON_GetObjectItemCaseSensitive(it, "name");
    if (!nj)
      return fail(c, HELION_ERR_INVALID, "missing required key 'name'");
    helion_frag_t f;
    rc = parse_bounds(c, it, &r, keys, 4, &f);
    if (rc)
      return rc;
    path_key(c, "name");
    const char *name = NULL;
    rc = get_ident(c, nj, &name);
    if (rc)
      return rc;
    rc = add_param(c, "block_sizes", (int)i, name, NULL,
                   HELION_ROLE_BLOCK_SIZE, &f, owner);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  return HELION_OK;
}

/* An array of {min, max, default} objects, one slot each named key_i. */
static helion_status std_bounds_array(ctx_t *c, const cJSON *arr,
                                      const char *key,
                                      const bounds_rule_t *r) {
  helion_status rc = want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    char owner[96], name[96];
    owner_here(c, owner, sizeof(owner));
    snprintf(name, sizeof(name), "%s_%zu", key, i);
    helion_frag_t f;
    rc = parse_bounds(c, it, r, bounds_keys, 3, &f);
    if (rc)
      return rc;
    rc = add_param(c, key, (int)i, name, NULL, HELION_ROLE_NONE, &f, owner);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  return HELION_OK;
}

/* One scalar slot from a {min, max, default} object, named like its key. */
static helion_status std_bounds_scalar(ctx_t *c, const cJSON *obj,
                                       const char *key, const bounds_rule_t *r,
                                       helion_frag_role role) {
  helion_frag_t f;
  helion_status rc = parse_bounds(c, obj, r, bounds_keys, 3, &f);
  if (rc)
    return rc;
  char owner[96];
  owner_here(c, owner, sizeof(owner));
  return add_param(c, key, -1, key, NULL, role, &f, owner);
}

/* static_ranges / flatten_loops: booleans (or {"default": b}), one slot each. */
static helion_status std_bools(ctx_t *c, const cJSON *arr, const char *key) {
  helion_status rc = want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  static const char *const keys[] = {"default"};
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    char owner[96], name[96];
    owner_here(c, owner, sizeof(owner));
    snprintf(name, sizeof(name), "%s_%zu", key, i);
    const cJSON *b = it;
    if (cJSON_IsObject(it)) {
      rc = check_keys(c, it, keys, 1);
      if (rc)
        return rc;
      b = cJSON_GetObjectItemCaseSensitive(it, "default");
      path_key(c, "default");
      if (!b)
        return fail(c, HELION_ERR_INVALID, "missing; give true or false");
    }
    rc = want(c, b, cJSON_IsBool(b), "a boolean or {\"default\": boolean}");
    if (rc)
      return rc;
    helion_frag_t f = frag_scalar(HELION_FRAG_BOOL, 0, 1, cJSON_IsTrue(b));
    rc = add_param(c, key, (int)i, name, NULL, HELION_ROLE_NONE, &f, owner);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  return HELION_OK;
}

static helion_status std_loop_orders(ctx_t *c, const cJSON *arr) {
  helion_status rc = want(c, arr, cJSON_IsArray(arr), "an array");
  if (rc)
    return rc;
  size_t i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    char owner[96];
    owner_here(c, owner, sizeof(owner));
    int64_t n = 0;
    rc = get_pos_int(c, it, &n);
    if (rc)
      return rc;
    if (n > MAX_PERM_LENGTH)
      return fail(c, HELION_ERR_LIMIT,
                  "a loop order of %lld loops is too long; at most %d",
                  (long long)n, MAX_PERM_LENGTH);
    helion_frag_t f = frag_scalar(HELION_FRAG_PERM, 0, 0, 0);
    f.length = (size_t)n;
    rc = add_param(c, "loop_orders", (int)i, NULL, NULL, HELION_ROLE_NONE, &f,
                   owner);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  return HELION_OK;
}

/* Which strings an enum of a standard key may hold. */
typedef enum str_rule {
  STR_IDENT,    /* C identifiers (they become -D values) */
  STR_PID,      /* pid_type names */
  STR_EVICTION, /* "", "first", "last" */
} str_rule;

static const char *const pid_types[] = {"flat", "xyz", "persistent_blocked",
                                        "persistent_interleaved"};
static const char *const eviction_policies[] = {"", "first", "last"};

/*
 * Reads a non-empty array of distinct enum choices. `allow` is a bitmask of
 * the value kinds allowed (1 << HELION_VALUE_*); strings follow `srule`.
 */
static helion_status read_choices(ctx_t *c, const cJSON *arr, unsigned allow,
                                  str_rule srule, const char *allow_words,
                                  helion_value_t **out, size_t *out_n) {
  helion_status rc = want(c, arr, cJSON_IsArray(arr), "an array of choices");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(arr);
  if (n < 1)
    return fail(c, HELION_ERR_INVALID,
                "no choices; give at least one (%s)", allow_words);
  if (n > MAX_CHOICES)
    return fail(c, HELION_ERR_LIMIT, "%d choices; at most %d", n,
                MAX_CHOICES);
  helion_value_t *v = calloc((size_t)n, sizeof(*v));
  if (!v)
    return nomem(c);
  size_t count = 0;
  for (const cJSON *it = arr->child; it; it = it->next) {
    size_t mark = c->plen;
    path_index(c, count);
    helion_value_t x;
    rc = get_choice(c, it, &x);
    if (!rc && !(allow & (1u << x.kind)))
      rc = want(c, it, false, allow_words);
    if (!rc && x.kind == HELION_VALUE_STR) {
      char s[64];
      show(s, sizeof(s), x.s);
      if (srule == STR_IDENT && ident_problem(x.s)) {
        rc = fail(c, HELION_ERR_INVALID,
                  "'%s' %s (string choices become -D values)", s,
                  ident_problem(x.s));
      } else if (srule == STR_PID || srule == STR_EVICTION) {
        const char *const *ok = srule == STR_PID ? pid_types
                                                 : eviction_policies;
        size_t nok = srule == STR_PID ? 4 : 3;
        size_t k = 0;
        while (k < nok && strcmp(ok[k], x.s) != 0)
          k++;
        if (k == nok) {
          const char *near = suggest(x.s, ok, nok);
          char nearbuf[64] = "";
          if (near)
            snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
          rc = fail(c, HELION_ERR_INVALID, "'%s' is not one of %s%s", s,
                    allow_words, nearbuf);
        }
      }
    }
    for (size_t k = 0; !rc && k < count; k++) {
      if (value_equal(&v[k], &x)) {
        char s[80];
        fmt_value(s, sizeof(s), &x);
        rc = fail(c, HELION_ERR_INVALID,
                  "%s repeats choice [%zu]; give each choice once", s, k);
      }
    }
    if (rc)
      goto out;
    if (x.kind == HELION_VALUE_STR) {
      x.s = helion_strdup(x.s);
      if (!x.s) {
        rc = nomem(c);
        goto out;
      }
    }
    v[count++] = x;
    path_reset(c, mark);
  }
out:
  if (rc) {
    free_choices(v, count);
    return rc;
  }
  *out = v;
  *out_n = count;
  return HELION_OK;
}

/* Index of the choice equal to JSON item `it`; fails at the current path. */
static helion_status find_choice(ctx_t *c, const cJSON *it,
                                 const helion_value_t *choices, size_t n,
                                 size_t *out) {
  helion_value_t x;
  helion_status rc = get_choice(c, it, &x);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++) {
    if (value_equal(&choices[i], &x)) {
      *out = i;
      return HELION_OK;
    }
  }
  char s[80], list[512] = "";
  fmt_value(s, sizeof(s), &x);
  for (size_t i = 0; i < n && strlen(list) + 90 < sizeof(list); i++) {
    char one[80];
    fmt_value(one, sizeof(one), &choices[i]);
    size_t used = strlen(list);
    snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", one);
  }
  return fail(c, HELION_ERR_INVALID, "%s is not one of the choices %s", s,
              list);
}

static helion_status std_enum(ctx_t *c, const cJSON *arr, const char *key,
                              unsigned allow, str_rule srule,
                              const char *words) {
  helion_frag_t f = frag_scalar(HELION_FRAG_ENUM, 0, 0, 0);
  helion_status rc =
      read_choices(c, arr, allow, srule, words, &f.choices, &f.nchoices);
  if (rc)
    return rc;
  f.high = (int64_t)f.nchoices - 1;
  char owner[96];
  owner_here(c, owner, sizeof(owner));
  return add_param(c, key, -1, key, NULL, HELION_ROLE_NONE, &f, owner);
}

/* A LIST of ENUM slot: {"length": n, "choices"?: [...], "default"?: v}. */
static helion_status std_list(ctx_t *c, const cJSON *obj, const char *key,
                              str_rule srule, const char *words) {
  static const char *const keys[] = {"length", "choices", "default"};
  helion_status rc = want(c, obj, cJSON_IsObject(obj), "an object");
  if (rc)
    return rc;
  rc = check_keys(c, obj, keys, 3);
  if (rc)
    return rc;
  const cJSON *lj = cJSON_GetObjectItemCaseSensitive(obj, "length");
  const cJSON *cj = cJSON_GetObjectItemCaseSensitive(obj, "choices");
  const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
  if (!lj)
    return fail(c, HELION_ERR_INVALID, "missing required key 'length'");
  if (!cj && srule != STR_EVICTION)
    return fail(c, HELION_ERR_INVALID, "missing required key 'choices'");
  size_t mark = c->plen;
  int64_t length = 0;
  path_key(c, "length");
  rc = get_pos_int(c, lj, &length);
  if (rc)
    return rc;
  if (length > MAX_LIST_LENGTH)
    return fail(c, HELION_ERR_LIMIT, "%lld is too long; at most %d",
                (long long)length, MAX_LIST_LENGTH);
  path_reset(c, mark);
  helion_frag_t f = frag_scalar(HELION_FRAG_LIST, 0, 0, 0);
  f.inner = HELION_FRAG_ENUM;
  f.length = (size_t)length;
  if (cj) {
    path_key(c, "choices");
    rc = read_choices(c, cj, 1u << HELION_VALUE_STR, srule, words, &f.choices,
                      &f.nchoices);
    if (rc)
      return rc;
    path_reset(c, mark);
  } else {
    f.choices = calloc(3, sizeof(*f.choices));
    if (!f.choices)
      return nomem(c);
    for (size_t i = 0; i < 3; i++) {
      f.choices[f.nchoices].kind = HELION_VALUE_STR;
      f.choices[f.nchoices].s = helion_strdup(eviction_policies[i]);
      if (!f.choices[f.nchoices].s)
        break;
      f.nchoices++;
    }
    if (f.nchoices < 3) {
      free_choices(f.choices, f.nchoices);
      return nomem(c);
    }
  }
  f.high = (int64_t)f.nchoices - 1;
  if (dj) {
    size_t idx = 0;
    path_key(c, "default");
    rc = find_choice(c, dj, f.choices, f.nchoices, &idx);
    if (rc) {
      free_choices(f.choices, f.nchoices);
      return rc;
    }
    f.dflt = (int64_t)idx;
    path_reset(c, mark);
  }
  char owner[96];
  owner_here(c, owner, sizeof(owner));
  return add_param(c, key, -1, NULL, NULL, HELION_ROLE_NONE, &f, owner);
}

static const char *const user_types[] = {"power_of_two", "integer", "enum",
                                         "boolean", "permutation", "list"};

/*
 * A user tunable's fragment from {"type": ..., ...}; `inner` forbids the
 * compound types (the element of a list).
 */
static helion_status user_frag(ctx_t *c, const cJSON *obj, bool inner,
                               helion_frag_t *out) {
  helion_status rc = want(c, obj, cJSON_IsObject(obj), "an object");
  if (rc)
    return rc;
  const cJSON *tj = cJSON_GetObjectItemCaseSensitive(obj, "type");
  size_t ntypes = inner ? 4 : 6;
  char typelist[128];
  join_words(typelist, sizeof(typelist), user_types, ntypes);
  if (!tj)
    return fail(c, HELION_ERR_INVALID,
                "missing required key 'type' (one of %s)", typelist);
  size_t mark = c->plen;
  path_key(c, "type");
  rc = want(c, tj, cJSON_IsString(tj), "a string");
  if (rc)
    return rc;
  size_t t = 0;
  while (t < ntypes && strcmp(tj->valuestring, user_types[t]) != 0)
    t++;
  if (t == ntypes) {
    char s[64];
    show(s, sizeof(s), tj->valuestring);
    const char *near = suggest(tj->valuestring, user_types, ntypes);
    char nearbuf[64] = "";
    if (near)
      snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
    return fail(c, HELION_ERR_INVALID, "'%s' is not a type; use one of %s%s",
                s, typelist, nearbuf);
  }
  path_reset(c, mark);
  switch (t) {
  case 0:
  case 1: {
    static const char *const keys[] = {"type", "min", "max", "default"};
    bounds_rule_t r = {t == 0 ? HELION_FRAG_POW2 : HELION_FRAG_INT,
                       true,
                       0,
                       0,
                       INT64_MIN,
                       t == 0 ? 1 : -JSON_INT_MAX,
                       t == 0 ? MAX_POW2 : JSON_INT_MAX};
    return parse_bounds(c, obj, &r, keys, 4, out);
  }
  case 2: {
    static const char *const keys[] = {"type", "choices", "default"};
    rc = check_keys(c, obj, keys, 3);
    if (rc)
      return rc;
    const cJSON *cj = cJSON_GetObjectItemCaseSensitive(obj, "choices");
    if (!cj)
      return fail(c, HELION_ERR_INVALID, "missing required key 'choices'");
    helion_frag_t f = frag_scalar(HELION_FRAG_ENUM, 0, 0, 0);
    path_key(c, "choices");
    rc = read_choices(c, cj, 0x1f, STR_IDENT,
                      "null, a boolean, a number or a string", &f.choices,
                      &f.nchoices);
    if (rc)
      return rc;
    path_reset(c, mark);
    f.high = (int64_t)f.nchoices - 1;
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
    if (dj) {
      size_t idx = 0;
      path_key(c, "default");
      rc = find_choice(c, dj, f.choices, f.nchoices, &idx);
      if (rc) {
        free_choices(f.choices, f.nchoices);
        return rc;
      }
      f.dflt = (int64_t)idx;
      path_reset(c, mark);
    }
    *out = f;
    return HELION_OK;
  }
  case 3: {
    static const char *const keys[] = {"type", "default"};
    rc = check_keys(c, obj, keys, 2);
    if (rc)
      return rc;
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(obj, "default");
    if (dj) {
      path_key(c, "default");
      rc = want(c, dj, cJSON_IsBool(dj), "a boolean");
      if (rc)
        return rc;
      path_reset(c, mark);
    }
    *out = frag_scalar(HELION_FRAG_BOOL, 0, 1, cJSON_IsTrue(dj) ? 1 : 0);
    return HELION_OK;
  }
  default: {
    bool perm = t == 4;
    static const char *const pkeys[] = {"type", "length"};
    static const char *const lkeys[] = {"type", "length", "of"};
    rc = check_keys(c, obj, perm ? pkeys : lkeys, perm ? 2 : 3);
    if (rc)
      return rc;
    const cJSON *lj = cJSON_GetObjectItemCaseSensitive(obj, "length");
    if (!lj)
      return fail(c, HELION_ERR_INVALID, "missing required key 'length'");
    const cJSON *oj = cJSON_GetObjectItemCaseSensitive(obj, "of");
    if (!perm && !oj)
      return fail(c, HELION_ERR_INVALID,
                  "missing required key 'of' (the element, e.g. {\"type\": "
                  "\"boolean\"})");
    int64_t length = 0;
    path_key(c, "length");
    rc = get_pos_int(c, lj, &length);
    if (rc)
      return rc;
    int64_t max = perm ? MAX_PERM_LENGTH : MAX_LIST_LENGTH;
    if (length > max)
      return fail(c, HELION_ERR_LIMIT, "%lld is too long; at most %lld",
                  (long long)length, (long long)max);
    path_reset(c, mark);
    helion_frag_t f = frag_scalar(perm ? HELION_FRAG_PERM : HELION_FRAG_LIST,
                                  0, 0, 0);
    if (!perm) {
      path_key(c, "of");
      rc = user_frag(c, oj, true, &f);
      if (rc)
        return rc;
      path_reset(c, mark);
      f.inner = f.kind;
      f.kind = HELION_FRAG_LIST;
    }
    f.length = (size_t)length;
    *out = f;
    return HELION_OK;
  }
  }
}

static const char *const std_keys[] = {
    "block_sizes",      "loop_orders",      "flatten_loops",
    "l2_groupings",     "range_unroll_factors", "range_num_stages",
    "static_ranges",    "num_warps",        "num_threads",
    "num_stages",       "indexing",         "pid_type",
    "num_sm_multiplier", "load_eviction_policies", "maxnreg"};
#define NSTD (sizeof(std_keys) / sizeof(std_keys[0]))

static helion_status std_param(ctx_t *c, size_t which, const cJSON *it) {
  /* Bounds and defaults of Helion's fragments (reference §1.3). */
  static const bounds_rule_t l2 = {HELION_FRAG_POW2, false, 1, 64, 1, 1,
                                   MAX_POW2};
  static const bounds_rule_t range = {HELION_FRAG_INT, false, 0, 4, 0, 0,
                                      JSON_INT_MAX};
  static const bounds_rule_t warps = {HELION_FRAG_POW2, false, 1, 32, 4, 1,
                                      32};
  /* num_threads counts threads: 128 is num_warps' default of 4 warps. */
  static const bounds_rule_t threads = {HELION_FRAG_POW2, false, 1, 1024, 128,
                                        1, 1024};
  static const bounds_rule_t stages = {HELION_FRAG_INT, false, 1, 8, 1, 1,
                                       JSON_INT_MAX};
  static const bounds_rule_t sm_mult = {HELION_FRAG_POW2, false, 1, 128, 1, 1,
                                        MAX_POW2};
  const char *key = std_keys[which];
  switch (which) {
  case 0:
    return std_block_sizes(c, it);
  case 1:
    return std_loop_orders(c, it);
  case 2:
  case 6:
    return std_bools(c, it, key);
  case 3:
    return std_bounds_array(c, it, key, &l2);
  case 4:
  case 5:
    return std_bounds_array(c, it, key, &range);
  case 7:
    return std_bounds_scalar(c, it, key, &warps, HELION_ROLE_NUM_WARPS);
  case 8:
    return std_bounds_scalar(c, it, key, &threads, HELION_ROLE_NONE);
  case 9:
    return std_bounds_scalar(c, it, key, &stages, HELION_ROLE_NONE);
  case 10:
    return std_list(c, it, key, STR_IDENT, "a C identifier");
  case 11:
    return std_enum(c, it, key, 1u << HELION_VALUE_STR, STR_PID,
                    "flat, xyz, persistent_blocked, persistent_interleaved");
  case 12:
    return std_bounds_scalar(c, it, key, &sm_mult, HELION_ROLE_NONE);
  case 13:
    return std_list(c, it, key, STR_EVICTION, "'', 'first', 'last'");
  default: {
    helion_status rc = std_enum(
        c, it, key, (1u << HELION_VALUE_NULL) | (1u << HELION_VALUE_INT),
        STR_IDENT, "null or a positive integer");
    if (rc)
      return rc;
    const helion_param_t *p = &c->spec->params[c->spec->nparams - 1];
    for (size_t i = 0; i < p->frag.nchoices; i++) {
      if (p->frag.choices[i].kind == HELION_VALUE_INT &&
          p->frag.choices[i].i < 1) {
        path_index(c, i);
        return fail(c, HELION_ERR_INVALID,
                    "%lld is not a register count; use null or a positive "
                    "integer",
                    (long long)p->frag.choices[i].i);
      }
    }
    return HELION_OK;
  }
  }
}

static helion_status parse_space(ctx_t *c, const cJSON *root) {
  const cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "space");
  if (!sp)
    return HELION_OK;
  path_key(c, "space");
  helion_status rc = want(c, sp, cJSON_IsObject(sp), "an object");
  if (rc)
    return rc;
  if (cJSON_GetArraySize(sp) > MAX_PARAMS)
    return fail(c, HELION_ERR_LIMIT, "more than %d keys; at most %d",
                MAX_PARAMS, MAX_PARAMS);
  for (const cJSON *a = sp->child; a; a = a->next) {
    for (const cJSON *b = sp->child; b != a; b = b->next) {
      if (a->string && b->string && strcmp(a->string, b->string) == 0) {
        path_key(c, a->string);
        return fail(c, HELION_ERR_INVALID, "duplicate key; give it once");
      }
    }
  }
  /* Standard keys first, in Helion's flat order; then user tunables in the
   * order written. */
  for (size_t k = 0; k < NSTD; k++) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(sp, std_keys[k]);
    if (!it)
      continue;
    size_t mark = c->plen;
    path_key(c, std_keys[k]);
    rc = std_param(c, k, it);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  for (const cJSON *it = sp->child; it; it = it->next) {
    size_t k = 0;
    while (k < NSTD && strcmp(it->string, std_keys[k]) != 0)
      k++;
    if (k < NSTD)
      continue;
    size_t mark = c->plen;
    path_key(c, it->string);
    const char *why = ident_problem(it->string);
    bool typed = cJSON_IsObject(it) &&
                 cJSON_GetObjectItemCaseSensitive(it, "type") != NULL;
    const char *near = suggest(it->string, std_keys, NSTD);
    /* A near miss of a standard key without "type" is a typo, not a user
     * tunable. */
    if (!typed && near)
      return fail(c, HELION_ERR_INVALID,
                  "unknown key; did you mean '%s'? (a user tunable needs "
                  "\"type\")",
                  near);
    if (why) {
      char s[64];
      show(s, sizeof(s), it->string);
      return fail(c, HELION_ERR_INVALID,
                  "'%s' %s (a user tunable's key is its -D macro name)", s,
                  why);
    }
    char owner[96];
    owner_here(c, owner, sizeof(owner));
    helion_frag_t f;
    rc = user_frag(c, it, false, &f);
    if (rc)
      return rc;
    bool scalar = f.kind != HELION_FRAG_PERM && f.kind != HELION_FRAG_LIST;
    rc = add_param(c, it->string, -1, scalar ? it->string : NULL,
                   scalar ? NULL : it->string, HELION_ROLE_NONE, &f, owner);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

/* ---------------------------------------------------------- defaults */

/* Reads one element value of slot `p` (for a LIST: one element). */
static helion_status default_elem(ctx_t *c, const helion_param_t *p,
                                  const char *where, const cJSON *it,
                                  int64_t *out) {
  const helion_frag_t *f = &p->frag;
  helion_frag_kind k = f->kind == HELION_FRAG_LIST ? f->inner : f->kind;
  helion_status rc;
  switch (k) {
  case HELION_FRAG_POW2:
  case HELION_FRAG_INT: {
    int64_t v;
    rc = get_int(c, it, &v);
    if (!rc && k == HELION_FRAG_POW2)
      rc = check_pow2(c, v);
    if (rc)
      return rc;
    if (v < f->low || v > f->high)
      return fail(c, HELION_ERR_INVALID,
                  "%lld is outside [%lld, %lld] of %s; use a value within "
                  "those bounds",
                  (long long)v, (long long)f->low, (long long)f->high, where);
    *out = v;
    return HELION_OK;
  }
  case HELION_FRAG_BOOL:
    rc = want(c, it, cJSON_IsBool(it), "a boolean");
    if (rc)
      return rc;
    *out = cJSON_IsTrue(it) ? 1 : 0;
    return HELION_OK;
  case HELION_FRAG_ENUM: {
    size_t idx = 0;
    rc = find_choice(c, it, f->choices, f->nchoices, &idx);
    if (rc)
      return rc;
    *out = (int64_t)idx;
    return HELION_OK;
  }
  default:
    return fail(c, HELION_ERR_INVALID, "cannot set a default here");
  }
}

/* Applies one config value to slot `p` (its frag.dflt). */
static helion_status default_slot(ctx_t *c, helion_param_t *p,
                                  const cJSON *it) {
  char where[96];
  if (p->index >= 0)
    snprintf(where, sizeof(where), "space.%s[%d]", p->key, p->index);
  else
    snprintf(where, sizeof(where), "space.%s", p->key);
  helion_frag_t *f = &p->frag;
  helion_status rc;
  if (f->kind == HELION_FRAG_PERM) {
    /* A permutation slot's default is always the identity (space.h has no
     * other), so only the identity is accepted here. */
    bool ok = cJSON_IsArray(it) &&
              (size_t)cJSON_GetArraySize(it) == f->length;
    size_t i = 0;
    for (const cJSON *e = ok ? it->child : NULL; e; e = e->next, i++) {
      int64_t v;
      if (!helion_json_get_int(e, &v) || v != (int64_t)i)
        ok = false;
    }
    if (!ok)
      return fail(c, HELION_ERR_INVALID,
                  "a permutation's default is the identity [0, 1, ...] of "
                  "length %zu; remove it or write the identity",
                  f->length);
    return HELION_OK;
  }
  if (f->kind == HELION_FRAG_LIST && cJSON_IsArray(it)) {
    /* One default for every element: the elements must agree. */
    if ((size_t)cJSON_GetArraySize(it) != f->length)
      return fail(c, HELION_ERR_INVALID,
                  "%d values for a list of length %zu; give %zu",
                  cJSON_GetArraySize(it), f->length, f->length);
    int64_t first = 0;
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
      size_t mark = c->plen;
      path_index(c, i);
      int64_t v;
      rc = default_elem(c, p, where, e, &v);
      if (rc)
        return rc;
      if (i == 0)
        first = v;
      else if (v != first)
        return fail(c, HELION_ERR_INVALID,
                    "differs from element [0]; a list's default repeats one "
                    "value (give a single value)");
      path_reset(c, mark);
    }
    f->dflt = first;
    return HELION_OK;
  }
  int64_t v;
  rc = default_elem(c, p, where, it, &v);
  if (rc)
    return rc;
  f->dflt = v;
  return HELION_OK;
}

static helion_status parse_defaults(ctx_t *c, const cJSON *root) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
  if (!d)
    return HELION_OK;
  helion_spec_t *s = c->spec;
  path_key(c, "defaults");
  helion_status rc = want(c, d, cJSON_IsObject(d), "an object");
  if (rc)
    return rc;
  /* The distinct config keys, in flat order. */
  const char *keys[MAX_PARAMS];
  size_t nkeys = 0;
  for (size_t i = 0; i < s->nparams; i++)
    if (i == 0 || strcmp(s->params[i].key, s->params[i - 1].key) != 0)
      keys[nkeys++] = s->params[i].key;
  for (const cJSON *it = d->child; it; it = it->next) {
    size_t mark = c->plen;
    path_key(c, it->string);
    size_t first = 0;
    while (first < s->nparams && strcmp(s->params[first].key, it->string) != 0)
      first++;
    if (first == s->nparams) {
      char list[512];
      join_words(list, sizeof(list), keys, nkeys);
      const char *near = suggest(it->string, keys, nkeys);
      char nearbuf[128] = "";
      if (near)
        snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
      if (!nkeys)
        return fail(c, HELION_ERR_INVALID,
                    "not a parameter of the space (the space is empty)");
      return fail(c, HELION_ERR_INVALID,
                  "not a parameter of the space; known keys are: %s%s", list,
                  nearbuf);
    }
    for (const cJSON *b = d->child; b != it; b = b->next)
      if (strcmp(b->string, it->string) == 0)
        return fail(c, HELION_ERR_INVALID, "duplicate key; give it once");
    helion_param_t *p = &s->params[first];
    if (p->index < 0) {
      rc = default_slot(c, p, it);
      if (rc)
        return rc;
    } else {
      size_t n = 0;
      while (first + n < s->nparams &&
             strcmp(s->params[first + n].key, it->string) == 0)
        n++;
      rc = want(c, it, cJSON_IsArray(it), "an array");
      if (rc)
        return rc;
      if ((size_t)cJSON_GetArraySize(it) != n)
        return fail(c, HELION_ERR_INVALID,
                    "%d values for %zu entries of space.%s; give one per "
                    "entry",
                    cJSON_GetArraySize(it), n, it->string);
      size_t i = 0;
      for (const cJSON *e = it->child; e; e = e->next, i++) {
        size_t m2 = c->plen;
        path_index(c, i);
        rc = default_slot(c, &s->params[first + i], e);
        if (rc)
          return rc;
        path_reset(c, m2);
      }
    }
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

/* ------------------------------------------------------ keys, shapes */

static helion_status parse_keys(ctx_t *c, const cJSON *root) {
  helion_spec_t *s = c->spec;
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "key");
  if (!k)
    return HELION_OK;
  path_key(c, "key");
  helion_status rc = want(c, k, cJSON_IsArray(k), "an array of names");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(k);
  if (n > MAX_KEYS)
    return fail(c, HELION_ERR_LIMIT, "%d keys; at most %d", n, MAX_KEYS);
  s->keys = calloc((size_t)n + 1, sizeof(char *));
  if (!s->keys)
    return nomem(c);
  size_t i = 0;
  for (const cJSON *it = k->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    const char *name = NULL;
    rc = get_ident(c, it, &name);
    if (rc)
      return rc;
    s->keys[i] = helion_strdup(name);
    if (!s->keys[i])
      return nomem(c);
    s->nkeys++;
    char owner[32];
    snprintf(owner, sizeof(owner), "key[%zu]", i);
    rc = register_name(c, s->keys[i], owner);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

static helion_status parse_shapes(ctx_t *c, const cJSON *root) {
  helion_spec_t *s = c->spec;
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(root, "shapes");
  char keylist[512];
  join_words(keylist, sizeof(keylist), (const char *const *)s->keys, s->nkeys);
  if (!sh) {
    if (s->nkeys)
      return fail(c, HELION_ERR_INVALID,
                  "missing required key 'shapes' (one object per shape "
                  "giving %s)",
                  keylist);
    /* No shape variables: one shape with no values. */
    s->shapes = calloc(1, sizeof(int64_t));
    if (!s->shapes)
      return nomem(c);
    s->nshapes = 1;
    return HELION_OK;
  }
  path_key(c, "shapes");
  helion_status rc = want(c, sh, cJSON_IsArray(sh), "an array of objects");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(sh);
  if (n < 1)
    return fail(c, HELION_ERR_INVALID,
                "no shapes; give at least one object giving %s",
                s->nkeys ? keylist : "the keys");
  if (n > MAX_SHAPES)
    return fail(c, HELION_ERR_LIMIT, "%d shapes; at most %d", n, MAX_SHAPES);
  s->shapes = calloc((size_t)n * s->nkeys + 1, sizeof(int64_t));
  if (!s->shapes)
    return nomem(c);
  size_t i = 0;
  for (const cJSON *it = sh->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    rc = want(c, it, cJSON_IsObject(it), "an object");
    if (rc)
      return rc;
    int64_t *row = s->shapes + i * s->nkeys;
    for (const cJSON *e = it->child; e; e = e->next) {
      size_t m2 = c->plen;
      path_key(c, e->string);
      size_t k = 0;
      while (k < s->nkeys && strcmp(s->keys[k], e->string) != 0)
        k++;
      if (k == s->nkeys) {
        const char *near =
            suggest(e->string, (const char *const *)s->keys, s->nkeys);
        char nearbuf[128] = "";
        if (near)
          snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
        return fail(c, HELION_ERR_INVALID,
                    "not a key; the keys are: %s%s",
                    s->nkeys ? keylist : "(none)", nearbuf);
      }
      if (row[k])
        return fail(c, HELION_ERR_INVALID, "duplicate key; give it once");
      rc = get_pos_int(c, e, &row[k]);
      if (rc)
        return rc;
      path_reset(c, m2);
    }
    for (size_t k = 0; k < s->nkeys; k++)
      if (!row[k])
        return fail(c, HELION_ERR_INVALID,
                    "missing '%s'; give every key: %s", s->keys[k], keylist);
    for (size_t j = 0; j < i; j++)
      if (memcmp(s->shapes + j * s->nkeys, row,
                 s->nkeys * sizeof(int64_t)) == 0)
        return fail(c, HELION_ERR_INVALID,
                    "the same shape as shapes[%zu]; remove one", j);
    s->nshapes++;
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

/* --------------------------------------------------------------- args */

/* Splits "const __half *" into its parts; false when not a known type.
 * Runs of blanks count as one space and blanks around '*' do not count. */
static bool parse_type(const char *text, helion_dtype *dt, bool *ptr,
                       bool *cnst, char *base, size_t nbase) {
  char t[128];
  size_t n = 0;
  bool blank = false;
  for (const char *p = text; *p; p++) {
    if (*p == ' ' || *p == '\t') {
      blank = true;
      continue;
    }
    if (n + 3 >= sizeof(t))
      return false;
    if (blank && n > 0 && *p != '*' && t[n - 1] != '*')
      t[n++] = ' ';
    blank = false;
    t[n++] = *p;
  }
  t[n] = '\0';
  char *b = t;
  *cnst = false;
  *ptr = false;
  if (strncmp(b, "const ", 6) == 0) {
    *cnst = true;
    b += 6;
  }
  size_t len = strlen(b);
  if (len && b[len - 1] == '*') {
    *ptr = true;
    b[--len] = '\0';
  }
  snprintf(base, nbase, "%s", b);
  for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
    if (strcmp(b, type_names[i].name) == 0) {
      *dt = type_names[i].dtype;
      return true;
    }
  }
  return false;
}

static helion_status parse_init(ctx_t *c, const cJSON *it,
                                helion_spec_arg_t *a) {
  if (cJSON_IsNumber(it)) {
    a->init = HELION_INIT_CONST;
    a->init_const = it->valuedouble;
    return HELION_OK;
  }
  static const char *const words[] = {"randn", "rand",  "arange",
                                      "zeros", "ones",  "randint"};
  static const helion_init_kind kinds[] = {
      HELION_INIT_RANDN, HELION_INIT_RAND, HELION_INIT_ARANGE,
      HELION_INIT_ZEROS, HELION_INIT_ONES};
  const char *usage = "use randn, rand, randint(lo,hi), arange, zeros, ones "
                      "or a number";
  if (!cJSON_IsString(it))
    return fail(c, HELION_ERR_INVALID, "expected a string or a number, got "
                "%s; %s", helion_json_type_name(it), usage);
  /* Blanks around the word do not matter. */
  char buf[64];
  const char *s = it->valuestring;
  while (*s == ' ')
    s++;
  if (strlen(s) >= sizeof(buf))
    s = "?"; /* too long to be an init; reported below */
  copy_str(buf, sizeof(buf), s);
  size_t blen = strlen(buf);
  while (blen && buf[blen - 1] == ' ')
    buf[--blen] = '\0';
  s = buf;
  for (size_t i = 0; i < 5; i++) {
    if (strcmp(s, words[i]) == 0) {
      a->init = kinds[i];
      return HELION_OK;
    }
  }
  if (strncmp(s, "randint(", 8) == 0) {
    const char *p = s + 8;
    char *end = NULL;
    long long v[2];
    bool ok = true;
    for (int k = 0; k < 2 && ok; k++) {
      while (*p == ' ')
        p++;
      errno = 0;
      v[k] = strtoll(p, &end, 10);
      if (end == p || errno || v[k] > JSON_INT_MAX || v[k] < -JSON_INT_MAX)
        ok = false;
      p = end;
      while (ok && *p == ' ')
        p++;
      if (ok && *p != (k == 0 ? ',' : ')'))
        ok = false;
      p++;
    }
    if (ok && *p == '\0') {
      if (v[0] > v[1])
        return fail(c, HELION_ERR_INVALID,
                    "randint(%lld,%lld): lo is greater than hi; write "
                    "randint(%lld,%lld)",
                    v[0], v[1], v[1], v[0]);
      a->init = HELION_INIT_RANDINT;
      a->init_lo = (double)v[0];
      a->init_hi = (double)v[1];
      return HELION_OK;
    }
    char sh[64];
    show(sh, sizeof(sh), it->valuestring);
    return fail(c, HELION_ERR_INVALID,
                "'%s' is malformed; write randint(lo,hi) with integers lo <= "
                "hi",
                sh);
  }
  char sh[64];
  show(sh, sizeof(sh), it->valuestring);
  const char *near = suggest(s, words, 6);
  char nearbuf[64] = "";
  if (near)
    snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
  return fail(c, HELION_ERR_INVALID, "'%s' is not an init; %s%s", sh, usage,
              nearbuf);
}

static helion_status parse_arg(ctx_t *c, const cJSON *it, size_t idx) {
  static const char *const keys[] = {"name", "type",  "numel",
                                     "value", "init", "output"};
  helion_spec_t *s = c->spec;
  helion_status rc = want(c, it, cJSON_IsObject(it), "an object");
  if (rc)
    return rc;
  rc = check_keys(c, it, keys, 6);
  if (rc)
    return rc;
  helion_spec_arg_t *a = &s->args[idx];
  memset(a, 0, sizeof(*a));
  s->nargs++;
  const cJSON *nj = cJSON_GetObjectItemCaseSensitive(it, "name");
  const cJSON *tj = cJSON_GetObjectItemCaseSensitive(it, "type");
  const cJSON *numj = cJSON_GetObjectItemCaseSensitive(it, "numel");
  const cJSON *vj = cJSON_GetObjectItemCaseSensitive(it, "value");
  const cJSON *ij = cJSON_GetObjectItemCaseSensitive(it, "init");
  const cJSON *oj = cJSON_GetObjectItemCaseSensitive(it, "output");
  if (!nj)
    return fail(c, HELION_ERR_INVALID, "missing required key 'name'");
  if (!tj)
    return fail(c, HELION_ERR_INVALID, "missing required key 'type'");
  size_t mark = c->plen;
  path_key(c, "name");
  const char *name = NULL;
  rc = get_ident(c, nj, &name);
  if (rc)
    return rc;
  for (size_t j = 0; j < idx; j++)
    if (strcmp(s->args[j].name, name) == 0)
      return fail(c, HELION_ERR_INVALID,
                  "'%s' is already the name of args[%zu]; names must be "
                  "unique",
                  name, j);
  /* Params reach the kernel as -D macros, which would rename an argument. */
  for (size_t j = 0; j < c->nnames; j++)
    if (strcmp(c->names[j].name, name) == 0 &&
        strncmp(c->names[j].owner, "space.", 6) == 0)
      return fail(c, HELION_ERR_INVALID,
                  "'%s' is already the name of %s (a -D macro); rename the "
                  "argument",
                  name, c->names[j].owner);
  a->name = helion_strdup(name);
  if (!a->name)
    return nomem(c);
  path_reset(c, mark);

  path_key(c, "type");
  rc = want(c, tj, cJSON_IsString(tj), "a string");
  if (rc)
    return rc;
  char base[128];
  if (!parse_type(tj->valuestring, &a->dtype, &a->is_pointer, &a->is_const,
                  base, sizeof(base))) {
    char sh[64];
    show(sh, sizeof(sh), base);
    const char *names[sizeof(type_names) / sizeof(type_names[0])];
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
      names[i] = type_names[i].name;
    const char *near = suggest(base, names, sizeof(names) / sizeof(names[0]));
    char nearbuf[64] = "";
    if (near)
      snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
    return fail(c, HELION_ERR_INVALID,
                "unknown type '%s'; use float, double, __half, "
                "__nv_bfloat16, int8_t..int64_t, uint8_t..uint64_t or int, "
                "optionally with 'const' and one '*'%s",
                sh, nearbuf);
  }
  if (!a->is_pointer)
    a->is_const = false;
  a->type = helion_strdup(tj->valuestring);
  if (!a->type)
    return nomem(c);
  path_reset(c, mark);

  if (a->is_pointer) {
    if (vj) {
      path_key(c, "value");
      return fail(c, HELION_ERR_INVALID,
                  "a pointer takes 'numel' (its element count), not 'value'");
    }
    if (!numj)
      return fail(c, HELION_ERR_INVALID,
                  "missing required key 'numel' (the element count of a "
                  "pointer, e.g. \"M*K\")");
    path_key(c, "numel");
    rc = parse_expr(c, numj, &a->numel);
    if (rc)
      return rc;
    path_reset(c, mark);
  } else {
    const char *bad = numj ? "numel" : ij ? "init" : oj ? "output" : NULL;
    if (bad) {
      path_key(c, bad);
      return fail(c, HELION_ERR_INVALID,
                  "a scalar takes only 'value'; '%s' is for pointers", bad);
    }
    if (!vj)
      return fail(c, HELION_ERR_INVALID,
                  "missing required key 'value' (the scalar passed, e.g. "
                  "\"M\")");
    path_key(c, "value");
    rc = parse_expr(c, vj, &a->value);
    if (rc)
      return rc;
    path_reset(c, mark);
    return HELION_OK;
  }

  if (oj) {
    path_key(c, "output");
    rc = want(c, oj, cJSON_IsBool(oj), "a boolean");
    if (rc)
      return rc;
    if (cJSON_IsTrue(oj) && a->is_const)
      return fail(c, HELION_ERR_INVALID,
                  "a pointer to const cannot be an output; drop 'const' from "
                  "the type or remove 'output'");
    a->output = cJSON_IsTrue(oj);
    path_reset(c, mark);
  }
  if (ij) {
    path_key(c, "init");
    rc = parse_init(c, ij, a);
    if (rc)
      return rc;
    path_reset(c, mark);
  } else if (a->is_const) {
    /* An input needs data. Floating inputs get Helion's usual randn; an
     * integer input is often an index, where random data would be wrong. */
    if (!dtype_is_float(a->dtype))
      return fail(c, HELION_ERR_INVALID,
                  "missing required key 'init' (an integer input needs one, "
                  "e.g. \"zeros\", \"arange\" or \"randint(0,9)\")");
    a->init = HELION_INIT_RANDN;
  }
  return HELION_OK;
}

static helion_status parse_args(ctx_t *c, const cJSON *root) {
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(root, "args");
  if (!args)
    return HELION_OK;
  path_key(c, "args");
  helion_status rc = want(c, args, cJSON_IsArray(args), "an array");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(args);
  if (n > MAX_ARGS)
    return fail(c, HELION_ERR_LIMIT, "%d arguments; at most %d", n, MAX_ARGS);
  c->spec->args = calloc((size_t)n + 1, sizeof(helion_spec_arg_t));
  if (!c->spec->args)
    return nomem(c);
  size_t i = 0;
  for (const cJSON *it = args->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    rc = parse_arg(c, it, i);
    if (rc)
      return rc;
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

/* --------------------------------------------- scope and expressions */

static helion_status build_scope(ctx_t *c) {
  helion_spec_t *s = c->spec;
  size_t n = s->nkeys + HELION_DEVICE_PROP_COUNT;
  for (size_t i = 0; i < s->nparams; i++)
    n += s->params[i].name != NULL;
  s->scope_names = calloc(n, sizeof(char *));
  if (!s->scope_names)
    return nomem(c);
  for (size_t i = 0; i < s->nkeys; i++)
    if (!(s->scope_names[s->nscope++] = helion_strdup(s->keys[i])))
      return nomem(c);
  for (size_t i = 0; i < s->nparams; i++)
    if (s->params[i].name &&
        !(s->scope_names[s->nscope++] = helion_strdup(s->params[i].name)))
      return nomem(c);
  for (size_t i = 0; i < HELION_DEVICE_PROP_COUNT; i++)
    if (!(s->scope_names[s->nscope++] = helion_strdup(device_prop_names[i])))
      return nomem(c);
  return HELION_OK;
}

static helion_status parse_restrictions(ctx_t *c, const cJSON *root) {
  helion_spec_t *s = c->spec;
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "restrictions");
  if (!r)
    return HELION_OK;
  path_key(c, "restrictions");
  helion_status rc = want(c, r, cJSON_IsArray(r), "an array of expressions");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(r);
  if (n > MAX_RESTRICTIONS)
    return fail(c, HELION_ERR_LIMIT, "%d restrictions; at most %d", n,
                MAX_RESTRICTIONS);
  s->restrictions = calloc((size_t)n + 1, sizeof(char *));
  if (!s->restrictions)
    return nomem(c);
  size_t i = 0;
  for (const cJSON *it = r->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    path_index(c, i);
    rc = want(c, it, cJSON_IsString(it), "an expression string");
    if (rc)
      return rc;
    helion_expr_t *e = NULL;
    rc = parse_expr(c, it, &e);
    if (rc)
      return rc;
    helion_expr_destroy(e);
    s->restrictions[i] = helion_strdup(it->valuestring);
    if (!s->restrictions[i])
      return nomem(c);
    s->nrestrictions++;
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

static helion_status parse_dims(ctx_t *c, const cJSON *obj, const char *key,
                                helion_expr_t **out) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!a)
    return fail(c, HELION_ERR_INVALID,
                "missing required key '%s' (1 to 3 expressions)", key);
  size_t mark = c->plen;
  path_key(c, key);
  helion_status rc = want(c, a, cJSON_IsArray(a), "an array of 1 to 3 "
                          "expressions");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(a);
  if (n < 1 || n > 3)
    return fail(c, HELION_ERR_INVALID,
                "%d dimensions; give 1 to 3 expressions (x, y, z)", n);
  size_t i = 0;
  for (const cJSON *it = a->child; it; it = it->next, i++) {
    size_t m2 = c->plen;
    path_index(c, i);
    rc = parse_expr(c, it, &out[i]);
    if (rc)
      return rc;
    path_reset(c, m2);
  }
  path_reset(c, mark);
  return HELION_OK;
}

static helion_status parse_launch(ctx_t *c, const cJSON *root) {
  static const char *const keys[] = {"tiles", "block", "shared_mem"};
  helion_spec_t *s = c->spec;
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "launch");
  if (!l)
    return fail(c, HELION_ERR_INVALID,
                "missing required key 'launch' (tiles and block of the grid)");
  path_key(c, "launch");
  helion_status rc = want(c, l, cJSON_IsObject(l), "an object");
  if (!rc)
    rc = check_keys(c, l, keys, 3);
  if (!rc)
    rc = parse_dims(c, l, "tiles", s->tiles);
  if (!rc)
    rc = parse_dims(c, l, "block", s->block);
  if (rc)
    return rc;
  const cJSON *sm = cJSON_GetObjectItemCaseSensitive(l, "shared_mem");
  if (sm) {
    path_key(c, "shared_mem");
    rc = parse_expr(c, sm, &s->shared_mem);
    if (rc)
      return rc;
  }
  path_reset(c, 0);
  return HELION_OK;
}

static helion_status parse_accuracy(ctx_t *c, const cJSON *root) {
  static const char *const keys[] = {"atol", "rtol"};
  helion_spec_t *s = c->spec;
  s->atol = 1e-2;
  s->rtol = 1e-2;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "accuracy");
  if (!a)
    return HELION_OK;
  path_key(c, "accuracy");
  helion_status rc = want(c, a, cJSON_IsObject(a), "an object");
  if (!rc)
    rc = check_keys(c, a, keys, 2);
  if (rc)
    return rc;
  double *dst[2] = {&s->atol, &s->rtol};
  for (int i = 0; i < 2; i++) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(a, keys[i]);
    if (!it)
      continue;
    size_t mark = c->plen;
    path_key(c, keys[i]);
    rc = want(c, it, cJSON_IsNumber(it), "a number");
    if (rc)
      return rc;
    if (!(it->valuedouble >= 0) || !isfinite(it->valuedouble))
      return fail(c, HELION_ERR_INVALID,
                  "%g is negative; use a tolerance >= 0", it->valuedouble);
    *dst[i] = it->valuedouble;
    path_reset(c, mark);
  }
  path_reset(c, 0);
  return HELION_OK;
}

/* ------------------------------------------------------------- entry */

static const char *const top_keys[] = {
    "name",         "source", "entry",    "args",     "key",     "shapes",
    "space",        "restrictions", "launch", "accuracy", "defaults",
    "reference",    "arch_specific"};

static helion_status parse_ident_key(ctx_t *c, const cJSON *root,
                                     const char *key, bool required,
                                     const char *what, char **out) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
  if (!it) {
    if (required)
      return fail(c, HELION_ERR_INVALID, "missing required key '%s' (%s)",
                  key, what);
    return HELION_OK;
  }
  path_key(c, key);
  const char *v = NULL;
  helion_status rc = get_ident(c, it, &v);
  if (rc)
    return rc;
  *out = helion_strdup(v);
  if (!*out)
    return nomem(c);
  path_reset(c, 0);
  return HELION_OK;
}

static helion_status parse_source(ctx_t *c, const cJSON *root,
                                  const char **rel) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "source");
  if (!it)
    return fail(c, HELION_ERR_INVALID,
                "missing required key 'source' (the .cu file, relative to "
                "the spec)");
  path_key(c, "source");
  helion_status rc = want(c, it, cJSON_IsString(it), "a string");
  if (rc)
    return rc;
  if (!it->valuestring[0])
    return fail(c, HELION_ERR_INVALID,
                "empty; name the .cu file, relative to the spec");
  c->spec->source = helion_path_join(c->spec->dir, it->valuestring);
  if (!c->spec->source)
    return nomem(c);
  *rel = it->valuestring;
  path_reset(c, 0);
  return HELION_OK;
}

static helion_status check_source(ctx_t *c, const char *rel) {
  struct stat st;
  const char *src = c->spec->source;
  if (stat(src, &st) == 0 && S_ISREG(st.st_mode))
    return HELION_OK;
  bool exists = stat(src, &st) == 0;
  char shown[4096 + 64];
  char cwd[4096];
  if (src[0] != '/' && getcwd(cwd, sizeof(cwd)))
    snprintf(shown, sizeof(shown), "%s/%s", cwd, src);
  else
    snprintf(shown, sizeof(shown), "%s", src);
  char r[64];
  show(r, sizeof(r), rel);
  path_key(c, "source");
  if (exists)
    return fail(c, HELION_ERR_NOT_FOUND,
                "'%s' is not a regular file (%s); name the .cu file", r,
                shown);
  return fail(c, HELION_ERR_NOT_FOUND, "'%s' not found (looked in %s)", r,
              shown);
}

helion_status helion_spec_parse(const char *text, size_t len,
                                const char *path, helion_spec_t **out,
                                helion_err_t *err) {
  if (!text || !path || !out)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_parse: missing text, path or out");
  cJSON *root = NULL;
  ctx_t *c = NULL;
  helion_spec_t *s = NULL;
  const char *rel = NULL;
  helion_status rc = helion_json_parse(text, len, path, &root, err);
  if (rc)
    return rc;
  c = calloc(1, sizeof(*c));
  s = calloc(1, sizeof(*s));
  if (!c || !s) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", path);
    goto out;
  }
  c->file = path;
  c->err = err;
  c->spec = s;
  for (size_t i = 0; i < HELION_DEVICE_PROP_COUNT; i++) {
    c->names[i].name = device_prop_names[i];
    snprintf(c->names[i].owner, sizeof(c->names[i].owner),
             "a device property");
  }
  c->nnames = HELION_DEVICE_PROP_COUNT;
  s->path = helion_strdup(path);
  s->dir = helion_path_dirname(path);
  s->params = calloc(MAX_PARAMS, sizeof(helion_param_t));
  if (!s->path || !s->dir || !s->params) {
    rc = nomem(c);
    goto out;
  }
  if (!cJSON_IsObject(root)) {
    rc = fail(c, HELION_ERR_INVALID,
              "expected a JSON object at the top level, got %s",
              helion_json_type_name(root));
    goto out;
  }
  rc = check_keys(c, root, top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
  if (!rc)
    rc = parse_ident_key(c, root, "name", true,
                         "a C identifier that prefixes generated symbols",
                         &s->name);
  if (!rc)
    rc = parse_source(c, root, &rel);
  if (!rc)
    rc = parse_ident_key(c, root, "entry", true,
                         "the extern \"C\" __global__ function", &s->entry);
  if (!rc)
    rc = parse_keys(c, root);
  if (!rc)
    rc = parse_shapes(c, root);
  if (!rc)
    rc = parse_space(c, root);
  if (!rc)
    rc = parse_defaults(c, root);
  if (!rc)
    rc = build_scope(c);
  if (!rc)
    rc = parse_args(c, root);
  if (!rc)
    rc = parse_restrictions(c, root);
  if (!rc)
    rc = parse_launch(c, root);
  if (!rc)
    rc = parse_accuracy(c, root);
  if (!rc)
    rc = parse_ident_key(c, root, "reference", false,
                         "a reference kernel's entry", &s->reference);
  if (!rc && s->reference && strcmp(s->reference, s->entry) == 0) {
    path_key(c, "reference");
    rc = fail(c, HELION_ERR_INVALID,
              "'%s' is the entry itself; name a different kernel or remove "
              "'reference'",
              s->reference);
  }
  if (!rc) {
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(root, "arch_specific");
    if (as) {
      path_key(c, "arch_specific");
      rc = want(c, as, cJSON_IsBool(as), "a boolean");
      s->arch_specific = cJSON_IsTrue(as);
      path_reset(c, 0);
    }
  }
  if (!rc)
    rc = check_source(c, rel);
out:
  cJSON_Delete(root);
  free(c);
  if (rc) {
    one_line(err);
    helion_spec_destroy(s);
    return rc;
  }
  *out = s;
  return HELION_OK;
}

helion_status helion_spec_load(const char *path, helion_spec_t **out,
                               helion_err_t *err) {
  if (!path || !out)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_load: missing path or out");
  char *text = NULL;
  size_t len = 0;
  helion_status rc = helion_read_file(path, SPEC_MAX_BYTES, &text, &len, err);
  if (rc)
    return rc;
  rc = helion_spec_parse(text, len, path, out, err);
  free(text);
  return rc;
}

void helion_spec_destroy(helion_spec_t *s) {
  if (!s)
    return;
  free(s->path);
  free(s->dir);
  free(s->name);
  free(s->source);
  free(s->entry);
  free(s->reference);
  for (size_t i = 0; i < s->nargs; i++) {
    free(s->args[i].name);
    free(s->args[i].type);
    helion_expr_destroy(s->args[i].numel);
    helion_expr_destroy(s->args[i].value);
  }
  free(s->args);
  for (size_t i = 0; i < s->nkeys; i++)
    free(s->keys[i]);
  free(s->keys);
  free(s->shapes);
  for (size_t i = 0; i < s->nparams; i++)
    helion_param_cleanup(&s->params[i]);
  free(s->params);
  for (size_t i = 0; i < s->nrestrictions; i++)
    free(s->restrictions[i]);
  free(s->restrictions);
  for (int i = 0; i < 3; i++) {
    helion_expr_destroy(s->tiles[i]);
    helion_expr_destroy(s->block[i]);
  }
  helion_expr_destroy(s->shared_mem);
  for (size_t i = 0; i < s->nscope; i++)
    free(s->scope_names[i]);
  free(s->scope_names);
  free(s);
}

/* ------------------------------------------------------ scope values */

static void device_values(const helion_device_props_t *dev,
                          helion_num_t *out) {
  out[0] = helion_num_int(dev->num_sms);
  out[1] = helion_num_int(dev->smem_per_block);
  out[2] = helion_num_int(dev->regs_per_sm);
  out[3] = helion_num_int(dev->cc_major);
  out[4] = helion_num_int(dev->cc_minor);
}

void helion_spec_scope_values(const helion_spec_t *spec, const int64_t *shape,
                              const helion_device_props_t *dev,
                              helion_num_t *out) {
  size_t i = 0;
  for (; i < spec->nkeys; i++)
    out[i] = helion_num_int(shape[i]);
  for (; i + HELION_DEVICE_PROP_COUNT < spec->nscope; i++)
    out[i] = helion_num_int(0);
  device_values(dev, out + i);
}

/* A named slot's value at its default, as helion_space_slot_number gives it. */
static helion_num_t default_number(const helion_param_t *p) {
  const helion_frag_t *f = &p->frag;
  if (f->kind != HELION_FRAG_ENUM)
    return helion_num_int(f->dflt);
  if (f->dflt < 0 || (size_t)f->dflt >= f->nchoices)
    return helion_num_int(0);
  const helion_value_t *v = &f->choices[f->dflt];
  switch (v->kind) {
  case HELION_VALUE_BOOL:
  case HELION_VALUE_INT:
    return helion_num_int(v->i);
  case HELION_VALUE_FLOAT:
    return helion_num_float(v->f);
  case HELION_VALUE_STR:
    return helion_num_int(f->dflt);
  case HELION_VALUE_NULL:
    break;
  }
  return helion_num_int(0);
}

/* "M=4096, N=128" for messages. */
static void shape_text(const helion_spec_t *s, const int64_t *shape,
                       char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  if (!s->nkeys)
    snprintf(out, n, "(no keys)");
  for (size_t i = 0; i < s->nkeys && used + 1 < n; i++) {
    int w = snprintf(out + used, n - used, "%s%s=%lld", i ? ", " : "",
                     s->keys[i], (long long)shape[i]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

/*
 * Evaluates `e` at the default configuration; fails when it errors or, with
 * `min_int` >= 0, when it is not an integer >= min_int.
 */
static helion_status check_at_default(const helion_spec_t *s,
                                      const helion_expr_t *e,
                                      const char *where,
                                      const helion_num_t *vals,
                                      const char *shape, int64_t min_int,
                                      const char *what, helion_err_t *err) {
  helion_err_t e2;
  e2.msg[0] = '\0';
  helion_num_t v;
  helion_status rc = helion_expr_eval(e, vals, &v, &e2);
  if (rc)
    return helion_err_set(err, rc,
                          "%s: %s: %s (evaluating the default configuration "
                          "for shape %s)",
                          s->path, where, e2.msg, shape);
  if (min_int < 0)
    return HELION_OK;
  if (v.is_float)
    return helion_err_set(err, HELION_ERR_EVAL,
                          "%s: %s: '%s' is %g for the default configuration "
                          "and shape %s, not an integer; %s",
                          s->path, where, helion_expr_text(e), v.f, shape,
                          what);
  if (v.i < min_int)
    return helion_err_set(err, HELION_ERR_EVAL,
                          "%s: %s: '%s' is %lld for the default "
                          "configuration and shape %s; %s",
                          s->path, where, helion_expr_text(e),
                          (long long)v.i, shape, what);
  return HELION_OK;
}

/* True when a message of helion_space_create starts with a param's key
 * ("block_sizes[2].max: ..."), which lives under "space" in the spec. */
static bool names_param(const helion_spec_t *spec, const char *msg) {
  for (size_t i = 0; i < spec->nparams; i++) {
    size_t n = strlen(spec->params[i].key);
    if (strncmp(msg, spec->params[i].key, n) == 0 &&
        (msg[n] == '[' || msg[n] == '.' || msg[n] == ':'))
      return true;
  }
  return false;
}

/*
 * When no configuration satisfies restrictions[i] and it cannot even be
 * evaluated at the default configuration ("BLOCK_M / 0 > 1"), says why: the
 * evaluation error with its column.
 */
static void explain_restriction(const helion_spec_t *spec,
                                const helion_num_t *vals, helion_err_t *err) {
  size_t r = 0;
  const char *p;
  if (strncmp(err->msg, "restrictions[", 13) != 0 ||
      !strstr(err->msg, "no configuration satisfies"))
    return;
  for (p = err->msg + 13; *p >= '0' && *p <= '9' && r < MAX_RESTRICTIONS; p++)
    r = r * 10 + (size_t)(*p - '0');
  if (*p != ']' || r >= spec->nrestrictions)
    return;
  helion_expr_scope_t scope = {(const char *const *)spec->scope_names,
                               spec->nscope};
  helion_expr_t *e = NULL;
  helion_err_t e2;
  helion_num_t v;
  if (helion_expr_parse(spec->restrictions[r], &scope, &e, NULL))
    return;
  if (helion_expr_eval(e, vals, &v, &e2) == HELION_OK) {
    helion_expr_destroy(e);
    return;
  }
  helion_expr_destroy(e);
  size_t used = strlen(err->msg);
  snprintf(err->msg + used, sizeof(err->msg) - used,
           "; at the default configuration it fails: %s", e2.msg);
}

helion_status helion_spec_space(const helion_spec_t *spec,
                                const int64_t *shape,
                                const helion_device_props_t *dev,
                                helion_space_t **out, helion_err_t *err) {
  if (!spec || !dev || !out || (spec->nkeys && !shape))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_space: missing spec, shape, device or "
                          "out");
  helion_status rc = HELION_OK;
  helion_space_t *space = NULL;
  size_t nextra = spec->nkeys + HELION_DEVICE_PROP_COUNT;
  const char **names = calloc(nextra, sizeof(char *));
  helion_num_t *extra = calloc(nextra, sizeof(helion_num_t));
  helion_num_t *vals = calloc(spec->nscope + 1, sizeof(helion_num_t));
  char shp[512];
  shape_text(spec, shape, shp, sizeof(shp));
  if (!names || !extra || !vals) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory",
                        spec->path);
    goto out;
  }
  for (size_t i = 0; i < spec->nkeys; i++) {
    names[i] = spec->keys[i];
    extra[i] = helion_num_int(shape[i]);
  }
  for (size_t i = 0; i < HELION_DEVICE_PROP_COUNT; i++)
    names[spec->nkeys + i] = device_prop_names[i];
  device_values(dev, extra + spec->nkeys);

  /* The scope at the default configuration. */
  helion_spec_scope_values(spec, shape, dev, vals);
  for (size_t i = 0, k = spec->nkeys; i < spec->nparams; i++)
    if (spec->params[i].name)
      vals[k++] = default_number(&spec->params[i]);

  helion_space_opts_t opts;
  memset(&opts, 0, sizeof(opts));
  opts.params = spec->params;
  opts.nparams = spec->nparams;
  opts.restrictions = (const char *const *)spec->restrictions;
  opts.nrestrictions = spec->nrestrictions;
  opts.extra_names = names;
  opts.extra_values = extra;
  opts.nextra = nextra;
  opts.regs_per_sm = dev->regs_per_sm;
  rc = helion_space_create(&opts, &space, err);
  if (rc) {
    /* Slot messages start with the param's key; restriction and default
     * messages with their own top-level key. */
    if (err && (strncmp(err->msg, "restrictions", 12) == 0 ||
                strncmp(err->msg, "defaults", 8) == 0))
      explain_restriction(spec, vals, err);
    helion_err_prefix(err, "%s: %s", spec->path,
                      err && names_param(spec, err->msg) ? "space." : "");
    goto out;
  }

  /* The default configuration is the baseline: it has to launch. */
  for (int d = 0; d < 3; d++) {
    char where[64];
    if (spec->tiles[d]) {
      snprintf(where, sizeof(where), "launch.tiles[%d]", d);
      rc = check_at_default(spec, spec->tiles[d], where, vals, shp, 1,
                            "the grid needs at least 1 tile", err);
      if (rc)
        goto out;
    }
    if (spec->block[d]) {
      snprintf(where, sizeof(where), "launch.block[%d]", d);
      rc = check_at_default(spec, spec->block[d], where, vals, shp, 1,
                            "a block needs at least 1 thread", err);
      if (rc)
        goto out;
    }
  }
  if (spec->shared_mem) {
    rc = check_at_default(spec, spec->shared_mem, "launch.shared_mem", vals,
                          shp, 0, "shared memory cannot be negative", err);
    if (rc)
      goto out;
  }
  for (size_t i = 0; i < spec->nargs; i++) {
    const helion_spec_arg_t *a = &spec->args[i];
    char where[64];
    snprintf(where, sizeof(where), "args[%zu].%s", i,
             a->numel ? "numel" : "value");
    rc = check_at_default(spec, a->numel ? a->numel : a->value, where, vals,
                          shp, a->numel ? 0 : -1,
                          "an element count cannot be negative", err);
    if (rc)
      goto out;
  }
out:
  free(names);
  free(extra);
  free(vals);
  if (rc) {
    one_line(err);
    helion_space_destroy(space);
    return rc;
  }
  *out = space;
  return HELION_OK;
}

/* ------------------------------------------------------------- shapes */

/* show() for the text between `from` and `to`. */
static void show_span(char *out, size_t n, const char *from, const char *to) {
  char tmp[64];
  size_t len = (size_t)(to - from);
  if (len >= sizeof(tmp))
    len = sizeof(tmp) - 1;
  memcpy(tmp, from, len);
  tmp[len] = '\0';
  show(out, n, tmp);
}

helion_status helion_spec_parse_shape(const helion_spec_t *spec,
                                      const char *text, int64_t *out,
                                      helion_err_t *err) {
  if (!spec || !text || (!out && spec->nkeys))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_parse_shape: missing spec, text or "
                          "out");
  char shown[80];
  show(shown, sizeof(shown), text);
  char keylist[512];
  join_words(keylist, sizeof(keylist), (const char *const *)spec->keys,
             spec->nkeys);
  int64_t vals[MAX_KEYS];
  bool seen[MAX_KEYS] = {false};
  const char *p = text;
  while (*p == ' ')
    p++;
  while (*p) {
    const char *part = p;
    const char *eq = NULL;
    while (*p && *p != ',') {
      if (*p == '=' && !eq)
        eq = p;
      p++;
    }
    const char *end = p;
    if (*p == ',')
      p++;
    while (*p == ' ')
      p++;
    char piece[80];
    show_span(piece, sizeof(piece), part, end);
    if (!eq)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': '%s' is not NAME=VALUE; give every "
                            "key once, e.g. %s=...",
                            shown, piece, spec->nkeys ? spec->keys[0] : "M");
    const char *n0 = part, *n1 = eq;
    while (n0 < n1 && *n0 == ' ')
      n0++;
    while (n1 > n0 && n1[-1] == ' ')
      n1--;
    size_t k = 0;
    while (k < spec->nkeys && !(strlen(spec->keys[k]) == (size_t)(n1 - n0) &&
                                strncmp(spec->keys[k], n0, (size_t)(n1 - n0)) ==
                                    0))
      k++;
    char name[64];
    show_span(name, sizeof(name), n0, n1);
    if (k == spec->nkeys)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': unknown key '%s'; the keys are %s",
                            shown, name, spec->nkeys ? keylist : "(none)");
    if (seen[k])
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': %s is given twice; give it once",
                            shown, spec->keys[k]);
    const char *v0 = eq + 1, *v1 = end;
    while (v0 < v1 && *v0 == ' ')
      v0++;
    while (v1 > v0 && v1[-1] == ' ')
      v1--;
    int64_t v = 0;
    bool ok = v0 < v1;
    for (const char *q = v0; ok && q < v1; q++) {
      int d = *q - '0';
      /* Up to 2^53, the largest value a spec's JSON can give exactly. */
      if (d < 0 || d > 9 || v > (JSON_INT_MAX - d) / 10)
        ok = false;
      else
        v = v * 10 + d;
    }
    if (!ok || v < 1) {
      char val[64];
      show_span(val, sizeof(val), v0, v1);
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': %s: '%s' is not a positive integer",
                            shown, spec->keys[k], val);
    }
    seen[k] = true;
    vals[k] = v;
  }
  for (size_t k = 0; k < spec->nkeys; k++)
    if (!seen[k])
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': missing %s; give every key: %s",
                            shown, spec->keys[k], keylist);
  if (spec->nkeys)
    memcpy(out, vals, spec->nkeys * sizeof(int64_t));
  return HELION_OK;
}
