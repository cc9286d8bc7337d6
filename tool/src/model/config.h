/*
 * config.h: one configuration of a space: canonical JSON, parsing, minimize,
 * hashing, a set of configurations, and the compiler macros a config turns
 * into (DESIGN.md §4).
 *
 * Configurations are arrays of space->ncells int64 cells (see space.h).
 */
#ifndef HELION_CONFIG_H
#define HELION_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/space.h"
#include "util/util.h"

/*
 * Appends the configuration as compact JSON with sorted keys, every key
 * present: sequence keys as arrays ("block_sizes": [64, 64, 32]), enums as
 * their choice value ("pid_type": "flat", "maxnreg": null), booleans as
 * true/false, permutations and lists as arrays. With `minimize`, keys whose
 * value equals the default are left out, except block_sizes (Helion's
 * Config.minimize).
 */
helion_status helion_config_to_json(const helion_space_t *s,
                                    const int64_t *cells, bool minimize,
                                    helion_buf_t *out);

/*
 * Parses a configuration from JSON text (an object; keys missing take the
 * default, so minimized JSON round-trips). Strict: unknown keys, wrong types,
 * values outside the space and wrong list lengths are errors naming the key
 * ("num_warps: 3 is not a power of two in [1, 32]"). The result is written to
 * out_cells (s->ncells) only on success. It is not normalized.
 */
helion_status helion_config_from_json(const helion_space_t *s,
                                      const char *json, int64_t *out_cells,
                                      helion_err_t *err);

/* 64-bit hash of the cells (stable across machines). */
uint64_t helion_config_hash(const helion_space_t *s, const int64_t *cells);

/* The first 16 hex characters of sha256(canonical JSON): a config's id in
 * logs and traces. */
helion_status helion_config_id(const helion_space_t *s, const int64_t *cells,
                               char out[17]);

/*
 * Appends the NVRTC options that realise `cells`, one per line
 * ("-DBLOCK_M=64\n-DHL_NUM_WARPS=4\n...--maxrregcount=128\n"), following
 * the table of DESIGN.md §4. Values of user enums that are strings are
 * emitted as-is (the spec guarantees they are C identifiers).
 */
helion_status helion_config_defines(const helion_space_t *s,
                                    const int64_t *cells, helion_buf_t *out);

/* ----- a set of configurations (open addressing, owns copies) ---------- */

typedef struct helion_configset {
  const helion_space_t *space;
  int64_t *cells;  /* capacity * ncells */
  uint8_t *used;   /* capacity flags */
  size_t capacity; /* power of two */
  size_t count;
} helion_configset_t;

void helion_configset_init(helion_configset_t *set, const helion_space_t *s);
void helion_configset_cleanup(helion_configset_t *set);
bool helion_configset_contains(const helion_configset_t *set,
                               const int64_t *cells);
/* Adds a copy. *out_added (may be NULL) tells whether it was new. */
helion_status helion_configset_add(helion_configset_t *set,
                                   const int64_t *cells, bool *out_added);

#endif /* HELION_CONFIG_H */
