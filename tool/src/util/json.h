/*
 * json.h: the one place that parses and prints JSON text (cJSON behind it).
 *
 * Callers walk and build trees with cJSON's accessors; this module adds what
 * cJSON lacks: errors with line and column, and one writer whose output is
 * stable (sorted keys, one number format) so files it writes diff cleanly.
 */
#ifndef HELION_JSON_H
#define HELION_JSON_H

#include <cjson/cJSON.h>

#include "util/util.h"

/*
 * Parses `len` bytes of `text`. On failure: HELION_ERR_PARSE with
 * "<origin>:<line>:<col>: malformed JSON near '<excerpt>'". Trailing
 * non-space text is an error too; cJSON refuses nesting beyond 1000 levels.
 * The tree is freed with cJSON_Delete().
 */
helion_status helion_json_parse(const char *text, size_t len,
                                const char *origin, cJSON **out,
                                helion_err_t *err);

/* Human name of an item's type: "object", "array", "string", "number",
 * "boolean", "null". */
const char *helion_json_type_name(const cJSON *item);

/* True when item is a number with an exact int64 value (no fraction). */
bool helion_json_get_int(const cJSON *item, int64_t *out);

/*
 * Appends `item` as JSON text to `out`: object keys sorted bytewise,
 * integral numbers within +-2^53 printed as integers, other numbers in the
 * shortest "%.{15,16,17}g" form that reads back to the same double, strings
 * escaped. indent 0: one line with ", " and ": " separators; indent > 0:
 * one member or element per line, nested `indent` spaces deeper per level
 * (empty containers stay "{}" and "[]"). HELION_ERR_INVALID for a number
 * that is not finite (JSON has none) or an object with a repeated key (its
 * order would not be stable); `out` may then hold a partial text.
 */
helion_status helion_json_write(const cJSON *item, int indent,
                                helion_buf_t *out, helion_err_t *err);

#endif /* HELION_JSON_H */
