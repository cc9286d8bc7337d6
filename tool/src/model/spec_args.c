/* spec_args.c: a spec's "args" (types, element counts, values, inits) and
 * the data types kernels take. */
#define _POSIX_C_SOURCE 200809L
#include "model/spec_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  return t == HELION_DT_FLOAT || t == HELION_DT_DOUBLE || t == HELION_DT_HALF ||
         t == HELION_DT_BF16;
}

/* ------------------------------------------------------ exact values */

/* The integer types' ranges, in helion_dtype order from HELION_DT_I8. */
static const struct {
  int64_t lo;
  uint64_t hi;
  const char *range;
} int_ranges[] = {
    {INT8_MIN, INT8_MAX, "-128..127"},
    {INT16_MIN, INT16_MAX, "-32768..32767"},
    {INT32_MIN, INT32_MAX, "-2147483648..2147483647"},
    {INT64_MIN, INT64_MAX, "-2^63..2^63-1"},
    {0, UINT8_MAX, "0..255"},
    {0, UINT16_MAX, "0..65535"},
    {0, UINT32_MAX, "0..4294967295"},
    {0, UINT64_MAX, "0..2^64-1"},
};

/* The floating types: significand bits, largest finite value, smallest
 * subnormal; in helion_dtype order from HELION_DT_FLOAT. */
static const struct {
  int bits;
  double max;
  double tiny;
} float_formats[] = {
    {24, 3.4028234663852886e38, 0x1p-149},
    {53, 1.7976931348623157e308, 0x1p-1074},
    {11, 65504.0, 0x1p-24},
    {8, 3.3895313892515355e38, 0x1p-133},
};

helion_status helion_dtype_check(helion_dtype t, helion_num_t v,
                                 helion_err_t *err) {
  char text[40];
  if (v.is_float) /* the shortest text that reads back as v.f */
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(text, sizeof(text), "%.*g", prec, v.f);
      if (strtod(text, NULL) == v.f)
        break;
    }
  else
    snprintf(text, sizeof(text), "%lld", (long long)v.i);
  const char *name = helion_dtype_name(t);
  if (v.is_float && !isfinite(v.f))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s is not a finite number, which %s cannot take",
                          text, name);
  if (dtype_is_float(t)) {
    int k = t == HELION_DT_FLOAT ? 0 : t == HELION_DT_DOUBLE ? 1
                                   : t == HELION_DT_HALF    ? 2
                                                            : 3;
    if (!v.is_float) {
      /* An integer is exact when its odd part fits the significand. */
      uint64_t m = v.i < 0 ? 0 - (uint64_t)v.i : (uint64_t)v.i;
      while (m && !(m & 1))
        m >>= 1;
      if (m >> float_formats[k].bits ||
          fabs((double)v.i) > float_formats[k].max)
        return helion_err_set(err, HELION_ERR_INVALID,
                              "the integer %s is not exactly a %s (its "
                              "significand has %d bits); use a wider type",
                              text, name, float_formats[k].bits);
      return HELION_OK;
    }
    /* A fraction rounds to the nearest value of the type, as C reads a
     * literal; only leaving the type's range changes the value's meaning. */
    if (fabs(v.f) > float_formats[k].max)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s is beyond %s's range (+-%g); use a wider "
                            "type",
                            text, name, float_formats[k].max);
    if (v.f != 0 && fabs(v.f) < float_formats[k].tiny / 2)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s would be 0 as a %s (its smallest value is "
                            "%g); use a wider type",
                            text, name, float_formats[k].tiny);
    return HELION_OK;
  }
  const int k = (int)t - (int)HELION_DT_I8;
  bool fits;
  if (v.is_float) {
    if (v.f != floor(v.f))
      return helion_err_set(err, HELION_ERR_INVALID,
                            "%s is not an integer, which %s needs; give an "
                            "integer or use a floating type",
                            text, name);
    /* hi + 1 is a power of two, so exact as a double. */
    fits = v.f >= (double)int_ranges[k].lo &&
           v.f < (double)int_ranges[k].hi + 1.0;
  } else {
    fits = v.i >= int_ranges[k].lo &&
           (v.i < 0 || (uint64_t)v.i <= int_ranges[k].hi);
  }
  if (!fits)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s does not fit %s (%s); use a wider type", text,
                          name, int_ranges[k].range);
  return HELION_OK;
}

helion_status helion_spec_arg_check(const helion_spec_arg_t *a,
                                    helion_num_t v, helion_err_t *err) {
  helion_err_t e;
  e.msg[0] = '\0';
  if (!a->is_pointer) {
    if (helion_dtype_check(a->dtype, v, &e))
      return helion_err_set(err, HELION_ERR_INVALID, "value: '%s': %s",
                            helion_expr_text(a->value), e.msg);
    return HELION_OK;
  }
  /* arange writes 0 .. numel - 1. */
  if (a->init == HELION_INIT_ARANGE && !v.is_float && v.i > 1 &&
      helion_dtype_check(a->dtype, helion_num_int(v.i - 1), &e))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "numel: '%s' is %lld, so \"arange\" reaches %lld: "
                          "%s",
                          helion_expr_text(a->numel), (long long)v.i,
                          (long long)(v.i - 1), e.msg);
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

static helion_status parse_init(helion__spec_ctx_t *c, const cJSON *it,
                                helion_spec_arg_t *a) {
  if (cJSON_IsNumber(it)) {
    a->init = HELION_INIT_CONST;
    a->init_const = it->valuedouble;
    return HELION_OK;
  }
  static const char *const words[] = {"randn", "rand", "arange",
                                      "zeros", "ones", "randint"};
  static const helion_init_kind kinds[] = {HELION_INIT_RANDN, HELION_INIT_RAND,
                                           HELION_INIT_ARANGE,
                                           HELION_INIT_ZEROS, HELION_INIT_ONES};
  const char *usage = "use randn, rand, randint(lo,hi), arange, zeros, ones "
                      "or a number";
  if (!cJSON_IsString(it))
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "expected a string or a number, got "
                             "%s; %s",
                             helion_json_type_name(it), usage);
  /* Blanks around the word do not matter. */
  char buf[64];
  const char *s = it->valuestring;
  while (*s == ' ')
    s++;
  if (strlen(s) >= sizeof(buf))
    s = "?"; /* too long to be an init; reported below */
  helion__spec_copy_str(buf, sizeof(buf), s);
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
        return helion__spec_fail(
            c, HELION_ERR_INVALID,
            "randint(%lld,%lld): lo is greater than hi; write "
            "randint(%lld,%lld)",
            v[0], v[1], v[1], v[0]);
      a->init = HELION_INIT_RANDINT;
      a->init_lo = (double)v[0];
      a->init_hi = (double)v[1];
      return HELION_OK;
    }
    char sh[64];
    helion__spec_show(sh, sizeof(sh), it->valuestring);
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "'%s' is malformed; write randint(lo,hi) with integers lo <= "
        "hi",
        sh);
  }
  char sh[64];
  helion__spec_show(sh, sizeof(sh), it->valuestring);
  const char *near = helion__spec_suggest(s, words, 6);
  char nearbuf[64] = "";
  if (near)
    snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
  return helion__spec_fail(c, HELION_ERR_INVALID, "'%s' is not an init; %s%s",
                           sh, usage, nearbuf);
}

/* An init's values must be values of the element type: random fractions
 * only for floating types, and a constant or randint bounds that fit. */
static helion_status check_init(helion__spec_ctx_t *c, const cJSON *it,
                                const helion_spec_arg_t *a) {
  char sh[64];
  helion__spec_show(sh, sizeof(sh), cJSON_IsString(it) ? it->valuestring : "");
  if (!dtype_is_float(a->dtype) &&
      (a->init == HELION_INIT_RANDN || a->init == HELION_INIT_RAND))
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "'%s' gives fractions, which %s elements cannot "
                             "hold; use randint(lo,hi), arange, zeros, ones "
                             "or an integer",
                             sh, helion_dtype_name(a->dtype));
  helion_num_t v[2];
  int n = 0;
  if (a->init == HELION_INIT_CONST) {
    double d = a->init_const;
    v[n++] = d == floor(d) && fabs(d) <= (double)JSON_INT_MAX
                 ? helion_num_int((int64_t)d)
                 : helion_num_float(d);
  } else if (a->init == HELION_INIT_RANDINT) {
    v[n++] = helion_num_int((int64_t)a->init_lo);
    v[n++] = helion_num_int((int64_t)a->init_hi);
  }
  for (int i = 0; i < n; i++) {
    helion_err_t e;
    e.msg[0] = '\0';
    if (helion_dtype_check(a->dtype, v[i], &e))
      return helion__spec_fail(c, HELION_ERR_INVALID, "%s", e.msg);
  }
  return HELION_OK;
}

static helion_status parse_arg(helion__spec_ctx_t *c, const cJSON *it,
                               size_t idx) {
  static const char *const keys[] = {"name",  "type", "numel",
                                     "value", "init", "output"};
  helion_spec_t *s = c->spec;
  helion_status rc = helion__spec_want(c, it, cJSON_IsObject(it), "an object");
  if (rc)
    return rc;
  rc = helion__spec_check_keys(c, it, keys, 6);
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
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "missing required key 'name'");
  if (!tj)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "missing required key 'type'");
  size_t mark = c->plen;
  helion__spec_path_key(c, "name");
  const char *name = NULL;
  rc = helion__spec_get_ident(c, nj, &name);
  if (rc)
    return rc;
  for (size_t j = 0; j < idx; j++)
    if (strcmp(s->args[j].name, name) == 0)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "'%s' is already the name of args[%zu]; names must be "
          "unique",
          name, j);
  /* Params reach the kernel as -D macros, which would rename an argument. */
  for (size_t j = 0; j < c->nnames; j++)
    if (strcmp(c->names[j].name, name) == 0 &&
        strncmp(c->names[j].owner, "space.", 6) == 0)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "'%s' is already the name of %s (a -D macro); rename the "
          "argument",
          name, c->names[j].owner);
  a->name = helion_strdup(name);
  if (!a->name)
    return helion__spec_nomem(c);
  helion__spec_path_reset(c, mark);

  helion__spec_path_key(c, "type");
  rc = helion__spec_want(c, tj, cJSON_IsString(tj), "a string");
  if (rc)
    return rc;
  char base[128];
  if (!parse_type(tj->valuestring, &a->dtype, &a->is_pointer, &a->is_const,
                  base, sizeof(base))) {
    char sh[64];
    helion__spec_show(sh, sizeof(sh), base);
    const char *names[sizeof(type_names) / sizeof(type_names[0])];
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
      names[i] = type_names[i].name;
    const char *near =
        helion__spec_suggest(base, names, sizeof(names) / sizeof(names[0]));
    char nearbuf[64] = "";
    if (near)
      snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "unknown type '%s'; use float, double, __half, "
        "__nv_bfloat16, int8_t..int64_t, uint8_t..uint64_t or int, "
        "optionally with 'const' and one '*'%s",
        sh, nearbuf);
  }
  if (!a->is_pointer)
    a->is_const = false;
  a->type = helion_strdup(tj->valuestring);
  if (!a->type)
    return helion__spec_nomem(c);
  helion__spec_path_reset(c, mark);

  if (a->is_pointer) {
    if (vj) {
      helion__spec_path_key(c, "value");
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "a pointer takes 'numel' (its element count), not 'value'");
    }
    if (!numj)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "missing required key 'numel' (the element count of a "
          "pointer, e.g. \"M*K\")");
    helion__spec_path_key(c, "numel");
    rc = helion__spec_parse_expr(c, numj, &a->numel);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  } else {
    const char *bad = numj ? "numel" : ij ? "init" : oj ? "output" : NULL;
    if (bad) {
      helion__spec_path_key(c, bad);
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "a scalar takes only 'value'; '%s' is for pointers", bad);
    }
    if (!vj)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "missing required key 'value' (the scalar passed, e.g. "
          "\"M\")");
    helion__spec_path_key(c, "value");
    rc = helion__spec_parse_expr(c, vj, &a->value);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
    return HELION_OK;
  }

  if (oj) {
    helion__spec_path_key(c, "output");
    rc = helion__spec_want(c, oj, cJSON_IsBool(oj), "a boolean");
    if (rc)
      return rc;
    if (cJSON_IsTrue(oj) && a->is_const)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "a pointer to const cannot be an output; drop 'const' from "
          "the type or remove 'output'");
    a->output = cJSON_IsTrue(oj);
    helion__spec_path_reset(c, mark);
  }
  if (ij) {
    helion__spec_path_key(c, "init");
    rc = parse_init(c, ij, a);
    if (!rc)
      rc = check_init(c, ij, a);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  } else if (a->is_const) {
    /* An input needs data. Floating inputs get Helion's usual randn; an
     * integer input is often an index, where random data would be wrong. */
    if (!dtype_is_float(a->dtype))
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "missing required key 'init' (an integer input needs one, "
          "e.g. \"zeros\", \"arange\" or \"randint(0,9)\")");
    a->init = HELION_INIT_RANDN;
  }
  return HELION_OK;
}

helion_status helion__spec_parse_args(helion__spec_ctx_t *c,
                                      const cJSON *root) {
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(root, "args");
  if (!args)
    return HELION_OK;
  helion__spec_path_key(c, "args");
  helion_status rc =
      helion__spec_want(c, args, cJSON_IsArray(args), "an array");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(args);
  if (n > MAX_ARGS)
    return helion__spec_fail(c, HELION_ERR_LIMIT, "%d arguments; at most %d", n,
                             MAX_ARGS);
  c->spec->args = calloc((size_t)n + 1, sizeof(helion_spec_arg_t));
  if (!c->spec->args)
    return helion__spec_nomem(c);
  size_t i = 0;
  for (const cJSON *it = args->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    rc = parse_arg(c, it, i);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}
