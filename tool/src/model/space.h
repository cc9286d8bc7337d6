/*
 * space.h: the configuration space of a kernel: its parameters (Helion's
 * fragments), default, random draws, pattern neighbours, differential
 * mutation, numeric encoding for surrogates, normalize/repair, restrictions
 * and a structural fingerprint.
 *
 * A configuration is a fixed-size array of int64 "cells" laid out by the
 * space (space->ncells of them), so configs copy with memcpy and compare with
 * memcmp. Each parameter ("flat slot", Helion's term) owns `width` cells at
 * `cell_off`:
 *   POW2, INT   1 cell: the value itself (64, 3)
 *   ENUM        1 cell: index into choices
 *   BOOL        1 cell: 0 or 1
 *   PERM        length cells: the permutation of 0..length-1
 *   LIST        length cells: one element each (encoded as its inner kind)
 *
 * The facts of each operation (which neighbours, which mutation rule, which
 * encoding) are Helion's, reference/helion-autotuner.md §1.2.
 */
#ifndef HELION_SPACE_H
#define HELION_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/expr.h"
#include "util/util.h"

typedef enum helion_frag_kind {
  HELION_FRAG_POW2 = 0,
  HELION_FRAG_INT = 1,
  HELION_FRAG_ENUM = 2,
  HELION_FRAG_BOOL = 3,
  HELION_FRAG_PERM = 4,
  HELION_FRAG_LIST = 5,
} helion_frag_kind;

/* Which Helion category a slot belongs to (block sizes and num_warps get
 * special treatment in neighbour generation and shrinking). */
typedef enum helion_frag_role {
  HELION_ROLE_NONE = 0,
  HELION_ROLE_BLOCK_SIZE = 1,
  HELION_ROLE_NUM_WARPS = 2,
} helion_frag_role;

typedef enum helion_value_kind {
  HELION_VALUE_NULL = 0,
  HELION_VALUE_BOOL = 1,
  HELION_VALUE_INT = 2,
  HELION_VALUE_FLOAT = 3,
  HELION_VALUE_STR = 4,
} helion_value_kind;

/* One enum choice. */
typedef struct helion_value {
  helion_value_kind kind;
  int64_t i; /* BOOL (0/1) and INT */
  double f;  /* FLOAT */
  char *s;   /* STR; owned by whoever owns the helion_value_t */
} helion_value_t;

typedef struct helion_frag {
  helion_frag_kind kind;
  /* For LIST: the kind of every element (POW2, INT, ENUM or BOOL); the
   * fields below then describe one element. */
  helion_frag_kind inner;
  int64_t low, high;       /* POW2 and INT bounds, inclusive */
  int64_t dflt;            /* POW2/INT: value; ENUM: choice index; BOOL: 0/1 */
  helion_value_t *choices; /* ENUM choices (owned) */
  size_t nchoices;
  size_t length;           /* PERM and LIST length; 1 otherwise */
} helion_frag_t;

/* One flat slot. */
typedef struct helion_param {
  char *key;   /* config JSON key: "block_sizes", "num_warps", "SPLIT_K" */
  int index;   /* position within a sequence key ("block_sizes"[i]); -1 for a
                  scalar key */
  char *name;  /* name in expressions and macros ("BLOCK_M", "num_warps",
                  "l2_groupings_0"); NULL when the slot has no scalar value
                  (PERM, LIST) */
  helion_frag_role role;
  helion_frag_t frag;
} helion_param_t;

/* Frees what a param owns (strings, choices); accepts a zeroed param. */
void helion_param_cleanup(helion_param_t *p);
/* Deep copy. */
helion_status helion_param_copy(helion_param_t *dst, const helion_param_t *src);

/* Optional extra validity test (the simulator: "config is in the record"). */
typedef bool (*helion_space_filter_fn)(const int64_t *cells, void *ud);

typedef struct helion_space_opts {
  const helion_param_t *params; /* flat order; copied */
  size_t nparams;
  const char *const *restrictions; /* expression texts; copied */
  size_t nrestrictions;
  /* Names besides the params' own that expressions may use (shape
   * variables, device properties), with their values. */
  const char *const *extra_names;
  const helion_num_t *extra_values;
  size_t nextra;
  helion_space_filter_fn filter; /* may be NULL */
  void *filter_ud;
  /* Registers per SM and warp size for the maxnreg repair rule (0 = off). */
  int64_t regs_per_sm;
} helion_space_opts_t;

typedef struct helion_space {
  helion_param_t *params; /* flat slots, owned */
  size_t nparams;
  size_t *cell_off; /* per slot */
  size_t *width;    /* cells per slot */
  size_t ncells;
  size_t *enc_off; /* per slot: first feature of its encoding */
  size_t enc_dim;  /* features per config */
  size_t *enc_slot; /* per feature: the slot it encodes */
  int num_warps_slot; /* -1 if none */
  size_t *block_slots; /* slots with ROLE_BLOCK_SIZE, in flat order */
  size_t nblock_slots;
  bool *frozen; /* per slot: never changed by neighbours or mutation; all
                   false after create, callers set them (config overrides) */
  int64_t *default_cells;
  /* Private: restrictions, expression scope, filter. */
  struct helion_space_priv *priv;
} helion_space_t;

/*
 * Builds a space. Validates every param (low <= high, powers of two, default
 * inside bounds, enum non-empty, permutation length >= 1, names unique and C
 * identifiers), parses every restriction against the scope (param names plus
 * extra names), then checks that the restrictions can be satisfied:
 * "restrictions[2] 'BLOCK_M * 2 <= 0': no configuration satisfies it
 * (checked all 4096 configurations)" (or "... of 100000 sampled"), and that
 * the default satisfies them all ("defaults: the default configuration
 * violates restrictions[0] '...'; set \"defaults\" to one that satisfies it").
 * Messages name the param by key[index] ("block_sizes[2].max") so the spec
 * layer can prefix the file. *out is freed with helion_space_destroy().
 */
helion_status helion_space_create(const helion_space_opts_t *opts,
                                  helion_space_t **out, helion_err_t *err);
void helion_space_destroy(helion_space_t *s);

/* Writes the default configuration (a copy of s->default_cells). */
void helion_space_default(const helion_space_t *s, int64_t *out);

/* True when `cells` satisfies every restriction and the filter. Safe to call
 * from several threads only when the expression scope has at most 256 names
 * (larger scopes share one scratch array). */
bool helion_space_valid(const helion_space_t *s, const int64_t *cells);

/*
 * Helion's random_flat: every fragment draws its random() and the block
 * sizes are then shrunk (helion_space_shrink with a max_elements_per_thread
 * of 2^U{0..11}). No validity check.
 */
void helion_space_random_raw(const helion_space_t *s, helion_rng_t *rng,
                             int64_t *out);

/*
 * A random valid configuration: random_raw, normalize, valid? up to
 * `attempts` tries (0 = 1000). HELION_ERR_NO_CONFIG when none was valid.
 */
helion_status helion_space_random(const helion_space_t *s, helion_rng_t *rng,
                                  size_t attempts, int64_t *out);

/*
 * Helion's shrink_config: while the product of block sizes exceeds
 * max_elements_per_thread * num_warps * 32, halve every block size whose half
 * stays >= its low bound; stop when none can. No-op without a num_warps slot
 * or block sizes.
 */
void helion_space_shrink(const helion_space_t *s, int64_t *cells,
                         int64_t max_elements_per_thread);

/*
 * Repairs a configuration in place: values clamped into bounds, POW2 values
 * rounded down to a power of two, enum indices and booleans clamped, a
 * non-permutation replaced by the identity, maxnreg lowered to the largest
 * choice within regs_per_sm / (num_warps * 32) when regs_per_sm is set, and
 * num_sm_multiplier reset to its default when pid_type is "flat" or "xyz"
 * (it has no effect there, and a distinct value would be a duplicate).
 */
void helion_space_normalize(const helion_space_t *s, int64_t *cells);

/* ----- one slot (Helion's per-fragment operations) --------------------- */

/* Number of distinct values of slot (n! for PERM, inner^length for LIST;
 * saturates at UINT64_MAX). */
uint64_t helion_space_slot_cardinality(const helion_space_t *s, size_t slot);

/*
 * Pattern neighbours of slot's current value in `cells` (table 1.2, radius
 * as given; ENUM, BOOL and PERM ignore it; LIST changes one element at a
 * time). Writes up to `max` neighbour values, each width[slot] cells, into
 * `out` (consecutively) and returns how many exist (may exceed max: call
 * again with a bigger buffer).
 */
size_t helion_space_slot_neighbors(const helion_space_t *s, size_t slot,
                                   const int64_t *cells, int radius,
                                   int64_t *out, size_t max);

/* Draws slot's random() value into `cells`. */
void helion_space_slot_random(const helion_space_t *s, size_t slot,
                              helion_rng_t *rng, int64_t *cells);

/* Helion's differential_mutation(a, b, c) for one slot, into `out`'s slot. */
void helion_space_slot_mutate(const helion_space_t *s, size_t slot,
                              helion_rng_t *rng, const int64_t *a,
                              const int64_t *b, const int64_t *c,
                              int64_t *out);

/* ----- whole configurations -------------------------------------------- */

/*
 * PatternSearch's neighbours of `base`: for every non-frozen slot each of
 * its neighbours (radius), then for every pair of non-frozen block-size
 * slots every combination of their neighbours. Results are not normalized or
 * checked. Writes up to `max` configs (ncells each) to `out`, returns the
 * total count.
 */
size_t helion_space_pattern_neighbors(const helion_space_t *s,
                                      const int64_t *base, int radius,
                                      int64_t *out, size_t max);

/*
 * DE's mutation of x with a, b, c: each non-frozen slot with probability
 * `crossover` takes slot_mutate(a, b, c), else keeps x's; if nothing was
 * mutated one random non-frozen slot is. Then shrink(8192). Not normalized.
 */
void helion_space_mutate(const helion_space_t *s, helion_rng_t *rng,
                         const int64_t *x, const int64_t *a, const int64_t *b,
                         const int64_t *c, double crossover, int64_t *out);

/* Surrogate features (s->enc_dim doubles): log2 for POW2, raw INT, one-hot
 * ENUM, 0/1 BOOL, raw permutation entries, LIST concatenated. */
void helion_space_encode(const helion_space_t *s, const int64_t *cells,
                         double *out);

/* SHA-256 hex of the structural description (keys, kinds, bounds, choices,
 * restrictions). Equal fingerprints exchange configurations. */
void helion_space_fingerprint(const helion_space_t *s, char out[65]);

/* Appends the exact product of the slot cardinalities in decimal. */
helion_status helion_space_size_str(const helion_space_t *s, helion_buf_t *out);

/*
 * Counts configurations that satisfy the restrictions: exactly by
 * enumeration when the space has at most `max_enumerate` configurations,
 * otherwise an estimate from `samples` uniform draws (raw, not shrunk).
 * Writes the valid fraction and whether it is exact.
 */
void helion_space_count_valid(const helion_space_t *s, helion_rng_t *rng,
                              uint64_t max_enumerate, uint64_t samples,
                              double *out_valid_fraction, bool *out_exact);

/* Called by helion_space_enumerate_valid for each valid configuration;
 * returning true stops the enumeration. */
typedef bool (*helion_space_visit_fn)(const helion_space_t *s,
                                      const int64_t *cells, void *ud);

/*
 * Calls visit for every configuration that satisfies the restrictions (and
 * the filter), in the order helion_space_count_valid counts them: the last
 * slot varies fastest. Raw configurations, not normalized, so the number of
 * visits equals the exact valid count of helion_space_count_valid. `cells`
 * passed to visit is scratch, valid during the call only. Fails with
 * HELION_ERR_LIMIT when the space has more than `max_enumerate`
 * configurations (nothing is visited), HELION_ERR_NOMEM. Stopping early is
 * not an error.
 */
helion_status helion_space_enumerate_valid(const helion_space_t *s,
                                           uint64_t max_enumerate,
                                           helion_space_visit_fn visit,
                                           void *ud);

/* Slot index of `name` (param name or "key[index]"), -1 if none. */
int helion_space_find(const helion_space_t *s, const char *name);

/* The numeric value of slot's scalar as expressions see it: POW2/INT value,
 * BOOL 0/1, ENUM: the choice's number (INT/FLOAT/BOOL), 0 for null, index
 * for strings. */
helion_num_t helion_space_slot_number(const helion_space_t *s, size_t slot,
                                      const int64_t *cells);

/* ----- restrictions as text (for prompts and rejection reasons) -------- */

/* Number of restrictions the space was built with. */
size_t helion_space_restriction_count(const helion_space_t *s);

/* Restriction r's expression text as written ("BLOCK_M * BLOCK_N <= 4096");
 * owned by the space. r < helion_space_restriction_count(s). */
const char *helion_space_restriction_text(const helion_space_t *s, size_t r);

/* Why `cells` is not valid: the index of the first restriction it violates,
 * -1 when every restriction holds and the filter (if any) accepts it, or
 * (ptrdiff_t)restriction_count when only the filter rejects it. Same
 * threading rule as helion_space_valid. */
ptrdiff_t helion_space_first_violation(const helion_space_t *s,
                                       const int64_t *cells);

#endif /* HELION_SPACE_H */
