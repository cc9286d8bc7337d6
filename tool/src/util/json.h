/*
 * json.h: the one place that parses JSON text (cJSON behind it).
 *
 * Callers walk the tree with cJSON's accessors; this module adds what cJSON
 * lacks: errors with line and column, and a JSON path builder for messages.
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

#endif /* HELION_JSON_H */
