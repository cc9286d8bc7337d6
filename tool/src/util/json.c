/* json.c: JSON parsing with positioned errors (the cJSON wrapper). */
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

helion_status helion_json_parse(const char *text, size_t len,
                                const char *origin, cJSON **out,
                                helion_err_t *err) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
  const char *bad = NULL;
  if (!root) {
    bad = cJSON_GetErrorPtr();
    if (!bad || bad < text || bad > text + len)
      bad = text + len;
  } else {
    while (end && end < text + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
      end++;
    if (end && end < text + len && *end != '\0') {
      bad = end;
      cJSON_Delete(root);
      root = NULL;
    }
  }
  if (!root) {
    int line = 1, col = 1;
    for (const char *p = text; p < bad; p++) {
      if (*p == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    char excerpt[24];
    size_t n = 0;
    for (const char *p = bad; p < text + len && n < 20 && *p && *p != '\n'; p++)
      excerpt[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    excerpt[n] = '\0';
    if (bad >= text + len)
      return helion_err_set(err, HELION_ERR_PARSE,
                            "%s:%d:%d: malformed JSON: unexpected end of input",
                            origin, line, col);
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s:%d:%d: malformed JSON near '%s'", origin, line,
                          col, excerpt);
  }
  *out = root;
  return HELION_OK;
}

const char *helion_json_type_name(const cJSON *item) {
  if (!item)
    return "missing";
  if (cJSON_IsObject(item))
    return "object";
  if (cJSON_IsArray(item))
    return "array";
  if (cJSON_IsString(item))
    return "string";
  if (cJSON_IsNumber(item))
    return "number";
  if (cJSON_IsBool(item))
    return "boolean";
  if (cJSON_IsNull(item))
    return "null";
  return "invalid";
}

bool helion_json_get_int(const cJSON *item, int64_t *out) {
  if (!cJSON_IsNumber(item))
    return false;
  double v = item->valuedouble;
  if (!isfinite(v) || v != floor(v) || v < -9007199254740992.0 ||
      v > 9007199254740992.0)
    return false;
  *out = (int64_t)v;
  return true;
}

/* ------------------------------------------------------------- writer */

static helion_status write_number(double v, helion_buf_t *out,
                                  helion_err_t *err) {
  if (!isfinite(v))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "JSON has no value for the number %g", v);
  if (v == floor(v) && fabs(v) <= 9007199254740992.0)
    return helion_buf_appendf(out, "%lld", (long long)v);
  char text[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(text, sizeof(text), "%.*g", prec, v);
    if (strtod(text, NULL) == v)
      break;
  }
  return helion_buf_puts(out, text);
}

static int compare_keys(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

static helion_status newline(helion_buf_t *out, int indent, int depth) {
  helion_status rc = helion_buf_putc(out, '\n');
  for (int i = 0; !rc && i < indent * depth; i++)
    rc = helion_buf_putc(out, ' ');
  return rc;
}

static helion_status write_item(const cJSON *item, int indent, int depth,
                                helion_buf_t *out, helion_err_t *err);

/* Objects and arrays: members (sorted by key for objects) between the
 * brackets, separated per the indent style. */
static helion_status write_container(const cJSON *item, int indent, int depth,
                                     helion_buf_t *out, helion_err_t *err) {
  bool object = cJSON_IsObject(item);
  size_t n = 0;
  for (const cJSON *c = item->child; c; c = c->next)
    n++;
  if (n == 0)
    return helion_buf_puts(out, object ? "{}" : "[]");
  const cJSON **kids = malloc(n * sizeof(*kids));
  if (!kids)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  n = 0;
  for (const cJSON *c = item->child; c; c = c->next)
    kids[n++] = c;
  helion_status rc = HELION_OK;
  if (object) {
    qsort(kids, n, sizeof(*kids), compare_keys);
    for (size_t i = 1; i < n && !rc; i++)
      if (compare_keys(&kids[i - 1], &kids[i]) == 0)
        rc = helion_err_set(err, HELION_ERR_INVALID,
                            "JSON object with the key '%s' twice",
                            kids[i]->string ? kids[i]->string : "");
  }
  if (!rc)
    rc = helion_buf_putc(out, object ? '{' : '[');
  for (size_t i = 0; i < n && !rc; i++) {
    if (i > 0)
      rc = helion_buf_puts(out, indent > 0 ? "," : ", ");
    if (!rc && indent > 0)
      rc = newline(out, indent, depth + 1);
    if (!rc && object) {
      rc = helion_buf_put_json_string(out, kids[i]->string ? kids[i]->string
                                                           : "");
      if (!rc)
        rc = helion_buf_puts(out, ": ");
    }
    if (!rc)
      rc = write_item(kids[i], indent, depth + 1, out, err);
  }
  if (!rc && indent > 0)
    rc = newline(out, indent, depth);
  if (!rc)
    rc = helion_buf_putc(out, object ? '}' : ']');
  free(kids);
  return rc;
}

static helion_status write_item(const cJSON *item, int indent, int depth,
                                helion_buf_t *out, helion_err_t *err) {
  helion_status rc;
  if (cJSON_IsObject(item) || cJSON_IsArray(item))
    return write_container(item, indent, depth, out, err);
  if (cJSON_IsNumber(item))
    return write_number(item->valuedouble, out, err);
  if (cJSON_IsString(item))
    rc = helion_buf_put_json_string(out, item->valuestring ? item->valuestring
                                                           : "");
  else if (cJSON_IsBool(item))
    rc = helion_buf_puts(out, cJSON_IsTrue(item) ? "true" : "false");
  else if (cJSON_IsNull(item))
    rc = helion_buf_puts(out, "null");
  else
    return helion_err_set(err, HELION_ERR_INVALID,
                          "a JSON item of an unknown type");
  return rc;
}

helion_status helion_json_write(const cJSON *item, int indent,
                                helion_buf_t *out, helion_err_t *err) {
  helion_status rc = write_item(item, indent < 0 ? 0 : indent, 0, out, err);
  /* Only HELION_ERR_INVALID comes with a message; the rest are the
   * buffer's. */
  if (rc && rc != HELION_ERR_INVALID)
    helion_err_set(err, rc, "writing JSON: %s", helion_status_str(rc));
  return rc;
}
