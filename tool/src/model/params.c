/* params.c: the table of standard parameters (params.h) and lookups in it. */
#include "model/params.h"

#include <string.h>

/* Bounds: Helion's fragments (reference/helion-autotuner.md §1.3). */
#define MAX_POW2 ((int64_t)1 << 30)
#define JSON_INT_MAX ((int64_t)1 << 53)

#define STRINGS (1u << HELION_VALUE_STR)
#define NULL_OR_INTS ((1u << HELION_VALUE_NULL) | (1u << HELION_VALUE_INT))

/* The codes of HL_PID_TYPE and HL_EVICT_i: a string's position here is the
 * integer the kernel sees (device.cuh's HL_PID_* and HL_EVICT_*). */
static const char *const pid_types[] = {"flat", "xyz", "persistent_blocked",
                                        "persistent_interleaved"};
static const char *const eviction_policies[] = {"", "first", "last"};

static const helion_param_def_t builtin[] = {
    {.key = "block_sizes",
     .form = HELION_FORM_BLOCK_SIZES,
     .role = HELION_ROLE_BLOCK_SIZE,
     .kind = HELION_FRAG_POW2,
     .low = 1,
     .high = 1,
     .dflt = 32,
     .floor = 1,
     .ceil = MAX_POW2,
     .emit = HELION_EMIT_NAME,
     .keep_in_minimized = true},
    {.key = "loop_orders",
     .form = HELION_FORM_PERMUTATIONS,
     .kind = HELION_FRAG_PERM,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_LOOP_ORDER"},
    {.key = "flatten_loops",
     .form = HELION_FORM_BOOLS,
     .kind = HELION_FRAG_BOOL,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_FLATTEN"},
    {.key = "l2_groupings",
     .form = HELION_FORM_BOUNDS_LIST,
     .kind = HELION_FRAG_POW2,
     .low = 1,
     .high = 64,
     .dflt = 1,
     .floor = 1,
     .ceil = MAX_POW2,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_L2_GROUPING"},
    {.key = "range_unroll_factors",
     .form = HELION_FORM_BOUNDS_LIST,
     .kind = HELION_FRAG_INT,
     .low = 0,
     .high = 4,
     .dflt = 0,
     .floor = 0,
     .ceil = JSON_INT_MAX,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_UNROLL"},
    {.key = "range_num_stages",
     .form = HELION_FORM_BOUNDS_LIST,
     .kind = HELION_FRAG_INT,
     .low = 0,
     .high = 4,
     .dflt = 0,
     .floor = 0,
     .ceil = JSON_INT_MAX,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_RANGE_NUM_STAGES"},
    {.key = "static_ranges",
     .form = HELION_FORM_BOOLS,
     .kind = HELION_FRAG_BOOL,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_STATIC_RANGE"},
    {.key = "num_warps",
     .form = HELION_FORM_BOUNDS,
     .role = HELION_ROLE_NUM_WARPS,
     .kind = HELION_FRAG_POW2,
     .low = 1,
     .high = 32,
     .dflt = 4,
     .floor = 1,
     .ceil = 32,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_NUM_WARPS",
     .also_macro = "HL_NUM_THREADS",
     .also_scale = 32},
    /* num_threads counts threads: 128 is num_warps' default of 4 warps. */
    {.key = "num_threads",
     .form = HELION_FORM_BOUNDS,
     .kind = HELION_FRAG_POW2,
     .low = 1,
     .high = 1024,
     .dflt = 128,
     .floor = 1,
     .ceil = 1024,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_NUM_THREADS"},
    {.key = "num_stages",
     .form = HELION_FORM_BOUNDS,
     .kind = HELION_FRAG_INT,
     .low = 1,
     .high = 8,
     .dflt = 1,
     .floor = 1,
     .ceil = JSON_INT_MAX,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_NUM_STAGES"},
    {.key = "indexing",
     .form = HELION_FORM_LIST,
     .kind = HELION_FRAG_ENUM,
     .allow = STRINGS,
     .allow_words = "a C identifier",
     .emit = HELION_EMIT_CODE,
     .macro = "HL_INDEXING"},
    {.key = "pid_type",
     .form = HELION_FORM_CHOICES,
     .kind = HELION_FRAG_ENUM,
     .allow = STRINGS,
     .allow_words = "flat, xyz, persistent_blocked, persistent_interleaved",
     .codes = pid_types,
     .ncodes = 4,
     .emit = HELION_EMIT_CODE,
     .macro = "HL_PID_TYPE",
     .launch = HELION_LAUNCH_PID,
     .persistent_code = 2},
    {.key = "num_sm_multiplier",
     .form = HELION_FORM_BOUNDS,
     .kind = HELION_FRAG_POW2,
     .low = 1,
     .high = 128,
     .dflt = 1,
     .floor = 1,
     .ceil = MAX_POW2,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_NUM_SM_MULTIPLIER",
     .launch = HELION_LAUNCH_SM_MULTIPLIER,
     .rule = HELION_RULE_PERSISTENT_ONLY},
    {.key = "load_eviction_policies",
     .form = HELION_FORM_LIST,
     .kind = HELION_FRAG_ENUM,
     .allow = STRINGS,
     .allow_words = "'', 'first', 'last'",
     .codes = eviction_policies,
     .ncodes = 3,
     .emit = HELION_EMIT_CODE,
     .macro = "HL_EVICT"},
    {.key = "maxnreg",
     .form = HELION_FORM_CHOICES,
     .kind = HELION_FRAG_ENUM,
     .floor = 1,
     .allow = NULL_OR_INTS,
     .allow_words = "null or a positive integer",
     .emit = HELION_EMIT_MAXRREGCOUNT,
     .rule = HELION_RULE_REGISTER_BUDGET},
};

static const helion_param_def_t *table = builtin;
static size_t table_count = sizeof(builtin) / sizeof(builtin[0]);

const helion_param_def_t *helion_params_table(size_t *out_count) {
  *out_count = table_count;
  return table;
}

const helion_param_def_t *helion_params_find(const char *key) {
  for (size_t i = 0; key && i < table_count; i++)
    if (strcmp(table[i].key, key) == 0)
      return &table[i];
  return NULL;
}

const helion_param_def_t *helion_params_with_launch(helion_param_launch l) {
  for (size_t i = 0; i < table_count; i++)
    if (table[i].launch == l)
      return &table[i];
  return NULL;
}

const helion_param_def_t *helion_params_with_rule(helion_param_rule r) {
  for (size_t i = 0; i < table_count; i++)
    if (table[i].rule == r)
      return &table[i];
  return NULL;
}

int64_t helion_params_choice_code(const helion_param_t *p, int64_t choice) {
  if (choice < 0 || (size_t)choice >= p->frag.nchoices)
    return 0;
  const helion_value_t *v = &p->frag.choices[choice];
  switch (v->kind) {
  case HELION_VALUE_BOOL:
  case HELION_VALUE_INT:
    return v->i;
  case HELION_VALUE_FLOAT:
  case HELION_VALUE_NULL:
    return 0;
  case HELION_VALUE_STR:
    break;
  }
  const helion_param_def_t *d = helion_params_find(p->key);
  if (!d || !d->codes)
    return choice;
  for (size_t i = 0; i < d->ncodes; i++)
    if (v->s && strcmp(v->s, d->codes[i]) == 0)
      return (int64_t)i;
  return -1;
}

void helion__params_set_table(const helion_param_def_t *rows, size_t count) {
  if (rows) {
    table = rows;
    table_count = count;
  } else {
    table = builtin;
    table_count = sizeof(builtin) / sizeof(builtin[0]);
  }
}
