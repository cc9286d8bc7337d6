/*
 * results_file.h: the committed results file `<name>.tuned.json` beside a
 * spec (DESIGN.md §7): load it, look an entry up, record a shape's tune into
 * it, save it atomically, and tell which entries are stale.
 *
 * The file, as this module writes it (sorted keys, helion_json_write's
 * numbers, two spaces of indent):
 *
 *   {
 *     "entries": [
 *       {
 *         "algorithm": "LFBOTreeSearch",
 *         "best_config": {...every key...},
 *         "best_config_minimized": {...keys off their default...},
 *         "best_ms": 0.1234,
 *         ...
 *         "shape": {"N": 1048576}   (one member per line)
 *       },
 *       {
 *         ...
 *       }
 *     ],
 *     "format_version": 1
 *   }
 *
 * An entry is helion_tune_entry_to_json()'s object for one (device name,
 * compute capability, shape), less "error" and "interrupted" (never
 * recorded), with "device" also holding "smem_per_block" and "regs_per_sm"
 * (what the space was built from, so its fingerprint can be recomputed
 * without the GPU). Each entry is one line group, from its "    {" line to
 * its "    }" line; the comma between two groups belongs to neither. An
 * entry's group depends on that entry alone, so recording one shape leaves
 * every other group byte-for-byte as it was, and a re-tune is a small diff.
 * Entries are sorted by device name (bytewise), compute capability
 * (numerically) and then the shape's values in the order of its sorted key
 * names (numerically).
 *
 * Unknown members (of the top-level object and of entries) are kept as they
 * are and written back: a file that a newer tool of the same format version
 * extended survives a re-tune by this one. A file of a newer format_version
 * is refused: its meaning may have changed, and rewriting it could lose it.
 *
 * Thread-safety: none; a helion_results_t is used by one thread at a time.
 * Two processes recording into one file at once can lose one's entry (the
 * last rename wins); the file is never torn.
 */
#ifndef HELION_RESULTS_FILE_H
#define HELION_RESULTS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/spec.h"
#include "results/tune.h"
#include "util/util.h"

/* The format_version this tool reads and writes. */
#define HELION_RESULTS_FORMAT_VERSION 1

/* A results file in memory. Zero it with helion_results_init(). */
typedef struct helion_results {
  char *path;      /* where it was loaded from and is saved to */
  cJSON *root;     /* the top-level object without "entries": unknown
                      members kept, "format_version" rewritten on save */
  cJSON **entries; /* sorted (see above); each owned */
  size_t nentries, cap;
} helion_results_t;

void helion_results_init(helion_results_t *r);
/* Frees what r owns and re-initialises it; accepts an initialised one. */
void helion_results_cleanup(helion_results_t *r);

/*
 * The default results file of a spec: "<spec dir>/<spec name>.tuned.json".
 * Caller frees with free(); NULL when out of memory.
 */
char *helion_results_default_path(const helion_spec_t *spec);

/*
 * Loads `path` into `r` (initialised; its old contents are replaced only on
 * success). A file that does not exist is an empty results file. Errors
 * name the file and say what to do: HELION_ERR_PARSE
 * "<path>:<line>:<col>: malformed JSON near '...'" or "<path>: entries[3]:
 * ..." for a wrong structure (not an object, a missing or mistyped device
 * name, compute capability or shape, two entries for one key),
 * HELION_ERR_UNSUPPORTED for a newer format_version, HELION_ERR_IO when it
 * cannot be read.
 */
helion_status helion_results_load(const char *path, helion_results_t *r,
                                  helion_err_t *err);

/* The same from text (for tests and tools); `path` names it. */
helion_status helion_results_parse(const char *text, size_t len,
                                   const char *path, helion_results_t *r,
                                   helion_err_t *err);

/*
 * The entry for (device name, compute capability "9.0", shape given as
 * nkeys names and values), or NULL. Borrowed from r until it changes.
 */
const cJSON *helion_results_find(const helion_results_t *r,
                                 const char *device_name, const char *cc,
                                 const char *const *keys, const int64_t *shape,
                                 size_t nkeys);

/*
 * Orders two entries of loaded results files as the file sorts them (device
 * name, compute capability, shape): <0, 0 (the same key) or >0. Both must be
 * well formed, as helion_results_load leaves every entry.
 */
int helion_results_entry_cmp(const cJSON *a, const cJSON *b);

/* What helion_results_put() did. */
typedef enum helion_results_outcome {
  HELION_RESULTS_ADDED = 0,    /* a new entry */
  HELION_RESULTS_REPLACED = 1, /* the entry for that key replaced */
  HELION_RESULTS_SKIPPED = 2,  /* not recorded: see the message */
} helion_results_outcome;

/*
 * Records one shape's tune: adds its entry, or replaces the entry of the
 * same (device name, compute capability, shape). A shape with no winner
 * (e->error, no best_config) or whose search was interrupted is not a
 * finished tune and is never recorded: *out_outcome is
 * HELION_RESULTS_SKIPPED, r is left as it was (a good entry for that key
 * stays) and `why` (may be NULL; cap bytes) says why in one phrase.
 * A seed over 2^53 is recorded as null (here and in "options"), a time that
 * is not finite as null: JSON numbers are doubles, and a rounded seed would
 * replay another search. A shape value over 2^53 in magnitude cannot be a
 * key: HELION_ERR_INVALID. Also HELION_ERR_NOMEM, HELION_ERR_PARSE (a
 * config text in the entry that is not JSON).
 */
helion_status helion_results_put(helion_results_t *r,
                                 const helion_tune_entry_t *e,
                                 helion_results_outcome *out_outcome, char *why,
                                 size_t cap, helion_err_t *err);

/*
 * Appends the file's text (the format above, ending in a newline) to `out`.
 * HELION_ERR_INVALID for a value JSON cannot hold (helion_json_write).
 */
helion_status helion_results_write(const helion_results_t *r, helion_buf_t *out,
                                   helion_err_t *err);

/* Writes the text to r->path atomically (helion_write_file_atomic). */
helion_status helion_results_save(const helion_results_t *r, helion_err_t *err);

/*
 * Load, put, save in one call, as `tune` does after each shape: the file is
 * read again first, so entries written meanwhile by another run are kept.
 * The file is not written when the entry is skipped.
 */
helion_status helion_results_record(const char *path,
                                    const helion_tune_entry_t *e,
                                    helion_results_outcome *out_outcome,
                                    char *why, size_t cap, helion_err_t *err);

/* Why an entry may not describe the spec any more (bit flags). */
enum {
  HELION_STALE_SOURCE = 1 << 0, /* source hash differs */
  HELION_STALE_SPACE = 1 << 1,  /* space fingerprint differs, or the shape
                                   no longer builds a space */
  HELION_STALE_TOOL = 1 << 2,   /* another tool version (informational: the
                                   entry is still used) */
};

/*
 * Compares entry `entry` (from r) with the spec as it is now: its
 * `source_hash` (helion_tune_source_hash(spec), computed once by the caller)
 * and the fingerprint of the space of the entry's shape on the entry's
 * device (its recorded properties; for an entry without smem_per_block or
 * regs_per_sm, those assumed for its compute capability). Writes the flags
 * to *out_flags and to `why` (cap bytes) one sentence per flag, each with
 * what to do, e.g. "source changed since the entry was tuned: re-tune with
 * helion-tune tune vector_add.json --shape N=1048576". Never fails for a
 * stale entry; HELION_ERR_NOMEM only.
 */
helion_status helion_results_staleness(const cJSON *entry,
                                       const helion_spec_t *spec,
                                       const char *source_hash, int *out_flags,
                                       char *why, size_t cap,
                                       helion_err_t *err);

/* The entry's shape values in the spec's key order (spec->nkeys of them);
 * false when its keys are not the spec's. */
bool helion_results_entry_shape(const cJSON *entry, const helion_spec_t *spec,
                                int64_t *values);

/* The device the entry was tuned on, as spaces see it: its name and compute
 * capability, the properties assumed for that architecture, overridden by
 * those recorded (sm_count, smem_per_block, regs_per_sm). */
void helion_results_entry_device(const cJSON *entry,
                                 helion_device_props_t *out);

/* Appends an entry's shape as "M=64,N=128" (key order as in the file). */
helion_status helion_results_shape_str(const cJSON *entry, helion_buf_t *out);

#endif /* HELION_RESULTS_FILE_H */
