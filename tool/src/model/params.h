/*
 * params.h: the standard parameters (DESIGN.md §4 and §11), one table row
 * each: the spec key and how the spec writes it, the fragment of each slot,
 * how a value reaches the kernel (macro name, value encoding, enum codes),
 * its effect on the launch, and its normalize rule.
 *
 * Every layer reads this table instead of naming parameters itself: the spec
 * parser (which keys are standard, in which flat order, with which bounds),
 * the space (normalize rules), the config's -D options and the launch
 * geometry. Adding a standard parameter is one row plus its tests.
 * device.cuh's HL_PID_* and HL_EVICT_* codes are tested against the rows'
 * `codes` (tests/unit/test_params.c).
 */
#ifndef HELION_PARAMS_H
#define HELION_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/space.h"

/* How a spec writes a standard key under "space", and which slots it
 * makes. */
typedef enum helion_param_form {
  /* [{"name", "min", "max", "default"?}, ...]: one named slot per entry;
   * the default is Helion's (32 for up to two block sizes, else 16). */
  HELION_FORM_BLOCK_SIZES = 0,
  /* [n, ...]: one permutation slot of length n per entry. */
  HELION_FORM_PERMUTATIONS = 1,
  /* [b | {"default": b}, ...]: one boolean slot per entry, named key_i. */
  HELION_FORM_BOOLS = 2,
  /* [{"min", "max", "default"}, ...]: one slot per entry, named key_i. */
  HELION_FORM_BOUNDS_LIST = 3,
  /* {"min", "max", "default"}: one slot named like the key. */
  HELION_FORM_BOUNDS = 4,
  /* [choice, ...]: one enum slot named like the key. */
  HELION_FORM_CHOICES = 5,
  /* {"length", "choices", "default"}: one list-of-enum slot (no name). */
  HELION_FORM_LIST = 6,
} helion_param_form;

/* How a slot's value reaches the kernel (helion_config_defines). */
typedef enum helion_param_emit {
  /* -D<slot name>=v: the spec names each slot (block sizes). */
  HELION_EMIT_NAME = 0,
  /* -D<macro>=v for a scalar key; -D<macro>_<i>=v for entry i of a sequence
   * key, and -D<macro>_<i>_<j>=v for element j of a permutation entry. */
  HELION_EMIT_MACRO = 1,
  /* Lists: -D<macro>_<j>=code per element j; scalars: -D<macro>=code. The
   * code of a string choice is its position in `codes` (or, with no codes,
   * its position among the spec's choices). */
  HELION_EMIT_CODE = 2,
  /* --maxrregcount=v to NVRTC, nothing when the choice is null. */
  HELION_EMIT_MAXRREGCOUNT = 3,
} helion_param_emit;

/* What a parameter does to the launch geometry (model/launch.c builds the
 * grid expressions from these). */
typedef enum helion_param_launch {
  HELION_LAUNCH_NONE = 0,
  /* An enum whose codes >= `persistent_code` make the grid persistent:
   * min(tiles, num_sms * <the HELION_LAUNCH_SM_MULTIPLIER param>) blocks in
   * one dimension instead of one block per tile. */
  HELION_LAUNCH_PID = 1,
  /* The per-SM block count of a persistent grid (1 when absent). */
  HELION_LAUNCH_SM_MULTIPLIER = 2,
} helion_param_launch;

/* Repair rules of helion_space_normalize (Helion, reference §1.6). */
typedef enum helion_param_rule {
  HELION_RULE_NONE = 0,
  /* Reset to the default unless the grid is persistent (rule 11). */
  HELION_RULE_PERSISTENT_ONLY = 1,
  /* The largest register count within regs_per_sm / (num_warps * 32), else
   * null (rule 10). */
  HELION_RULE_REGISTER_BUDGET = 2,
} helion_param_rule;

typedef struct helion_param_def {
  const char *key; /* the spec's "space" key and the config JSON key */
  helion_param_form form;
  helion_frag_role role;
  /* BOUNDS and BOUNDS_LIST (and BLOCK_SIZES' value range): the fragment
   * kind (POW2 or INT), the bounds when the spec gives none, the default
   * (clamped into the bounds), and the range every given value must lie
   * in. CHOICES: `floor` is the least integer choice allowed. */
  helion_frag_kind kind;
  int64_t low, high, dflt, floor, ceil;
  /* CHOICES and LIST: which value kinds a choice may be
   * (1 << HELION_VALUE_*) and, in words, for messages. String choices must
   * be one of `codes` when it is set, else C identifiers (they become -D
   * values). A LIST with codes may omit "choices": then all codes. */
  unsigned allow;
  const char *allow_words;
  const char *const *codes;
  size_t ncodes;
  /* Reaching the kernel. `also_macro`, when set, is defined too, as the
   * value times `also_scale` (num_warps also gives HL_NUM_THREADS). */
  helion_param_emit emit;
  const char *macro;
  const char *also_macro;
  int64_t also_scale;
  helion_param_launch launch;
  int64_t persistent_code; /* HELION_LAUNCH_PID */
  helion_param_rule rule;
  /* Kept by helion_config_to_json's minimized form even at its default
   * (Helion's Config.minimize always keeps block_sizes). */
  bool keep_in_minimized;
} helion_param_def_t;

/* The table in flat order (Helion's `_flat_fields()` order): the order
 * slots take in a space, whatever the order in the spec's JSON. */
const helion_param_def_t *helion_params_table(size_t *out_count);

/* The row of `key`, or NULL for a user tunable. */
const helion_param_def_t *helion_params_find(const char *key);

/* The first row with `launch` (or `rule`), or NULL. */
const helion_param_def_t *helion_params_with_launch(helion_param_launch l);
const helion_param_def_t *helion_params_with_rule(helion_param_rule r);

/*
 * The integer a slot's value stands for in expressions and macros: for a
 * string choice of a param whose row has codes, the position of the string
 * in the codes (-1 if it is none of them); for other strings, the choice's
 * position; for numbers and booleans, the value; null is 0. `choice` is an
 * index into p->frag.choices (an ENUM cell, or an element of a LIST).
 */
int64_t helion_params_choice_code(const helion_param_t *p, int64_t choice);

/*
 * Tests only: replaces the table with `rows` (borrowed; must outlive every
 * use) until called again with NULL, which restores the built-in table.
 * Not thread-safe.
 */
void helion__params_set_table(const helion_param_def_t *rows, size_t count);

#endif /* HELION_PARAMS_H */
