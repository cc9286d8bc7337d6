/* json.c: JSON parsing with positioned errors (the cJSON wrapper). */
#include "util/json.h"

#include <math.h>
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
