/*
 * spec_parse.h: what the files of the spec parser share (internal to
 * model/spec*.c): the limits, the parser context with the JSON path of the
 * item being checked, the registry of names, and the typed JSON reads that
 * fail with "<file>: <json path>: <what>; <what to do>".
 *
 * The parser is split by the part of the spec it reads: spec.c (the entry
 * point, expressions, launch, accuracy; the per-shape space), spec_space.c
 * ("space" and "defaults", driven by the standard parameter table),
 * spec_shapes.c ("key", "shapes" and --shape text), spec_args.c ("args" and
 * the data types), spec_common.c (this header's functions).
 */
#ifndef HELION_SPEC_PARSE_H
#define HELION_SPEC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/spec.h"
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
/* The largest integer a JSON number (a double) holds exactly, with its
 * neighbour: 2^53 - 1 (2^53 + 1 reads as 2^53). */
#define JSON_INT_MAX (((int64_t)1 << 53) - 1)

typedef struct helion__spec_name {
  const char *name; /* borrowed from the spec or a static table */
  char owner[96];   /* "key[0]", "space.block_sizes[1]", "a device property" */
} helion__spec_name_t;

typedef struct helion__spec_ctx {
  const char *file;
  helion_err_t *err;
  char path[512]; /* JSON path of the item being checked */
  size_t plen;
  helion_spec_t *spec;
  helion__spec_name_t names[HELION_DEVICE_PROP_COUNT + MAX_KEYS + MAX_PARAMS];
  size_t nnames;
} helion__spec_ctx_t;

/* Fails with "<file>: <path>: <message>" (the path when there is one). */
helion_status helion__spec_fail(helion__spec_ctx_t *c, helion_status rc,
                                const char *fmt, ...) HELION_PRINTF(3, 4);
helion_status helion__spec_nomem(helion__spec_ctx_t *c);

/* strlcpy: copies what fits and always terminates. */
void helion__spec_copy_str(char *out, size_t n, const char *s);
/* Copies `s` for a message: printable ASCII only, at most 40 characters. */
void helion__spec_show(char *out, size_t n, const char *s);
/* Control characters in a message (from the input) become '?'. */
void helion__spec_one_line(helion_err_t *err);

/* The JSON path: truncate to a mark (c->plen before a push), append ".key"
 * (["..."] for unusual keys) or "[i]". */
void helion__spec_path_reset(helion__spec_ctx_t *c, size_t mark);
void helion__spec_path_key(helion__spec_ctx_t *c, const char *key);
void helion__spec_path_index(helion__spec_ctx_t *c, size_t i);

/* The closest known word when it is close enough to be a typo, else NULL. */
const char *helion__spec_suggest(const char *word, const char *const *known,
                                 size_t n);
/* "a, b, c" into out. */
void helion__spec_join_words(char *out, size_t n, const char *const *words,
                             size_t count);
/* Why `s` is not a C identifier, or NULL when it is one. */
const char *helion__spec_ident_problem(const char *s);
/* Why `s` is reserved (HL_..., __..., threadIdx, ...), or NULL. */
const char *helion__spec_reserved_problem(const char *s);
/* An enum choice as a spec would write it. */
void helion__spec_fmt_value(char *out, size_t n, const helion_value_t *v);
bool helion__spec_value_equal(const helion_value_t *a, const helion_value_t *b);
void helion__spec_free_choices(helion_value_t *choices, size_t n);

/* Typed reads at the current path. */
helion_status helion__spec_want(helion__spec_ctx_t *c, const cJSON *it, bool ok,
                                const char *what);
helion_status helion__spec_get_int(helion__spec_ctx_t *c, const cJSON *it,
                                   int64_t *out);
helion_status helion__spec_get_pos_int(helion__spec_ctx_t *c, const cJSON *it,
                                       int64_t *out);
helion_status helion__spec_get_ident(helion__spec_ctx_t *c, const cJSON *it,
                                     const char **out);
/* Rejects unknown and repeated keys of an object; `known` has at most 16
 * entries. */
helion_status helion__spec_check_keys(helion__spec_ctx_t *c, const cJSON *obj,
                                      const char *const *known, size_t nknown);
helion_status helion__spec_check_pow2(helion__spec_ctx_t *c, int64_t v);
/* An enum choice (null, boolean, number or string); strings are borrowed
 * from the tree until copied. */
helion_status helion__spec_get_choice(helion__spec_ctx_t *c, const cJSON *it,
                                      helion_value_t *out);
/* Parses an expression item (a string or a number) against the spec's
 * scope. */
helion_status helion__spec_parse_expr(helion__spec_ctx_t *c, const cJSON *it,
                                      helion_expr_t **out);
/* Records a name of the expression scope (or a macro), failing at the
 * current path when it is taken. */
helion_status helion__spec_register_name(helion__spec_ctx_t *c,
                                         const char *name, const char *owner);

/* The parts of the spec, each read at its key of `root`. */
helion_status helion__spec_parse_keys(helion__spec_ctx_t *c, const cJSON *root);
helion_status helion__spec_parse_shapes(helion__spec_ctx_t *c,
                                        const cJSON *root);
helion_status helion__spec_parse_space(helion__spec_ctx_t *c,
                                       const cJSON *root);
helion_status helion__spec_parse_defaults(helion__spec_ctx_t *c,
                                          const cJSON *root);
helion_status helion__spec_parse_args(helion__spec_ctx_t *c, const cJSON *root);

#endif /* HELION_SPEC_PARSE_H */
