/*
 * results_merge.h: merges results files (DESIGN.md §7 "scale-out"): the
 * fragments `<name>.shard-<I>-of-<N>.tuned.json` that the shards of a tune
 * write, and the committed `<name>.tuned.json` they go into, become one
 * results file whose bytes depend on the set of inputs only, never on their
 * order.
 *
 * The rules (helion-tune results merge --help says them to users):
 *
 * - Inputs are first put in a fixed order: by the SHA-256 of their text as
 *   helion_results_write() writes it, then by path. Every "first" below
 *   means first in that order.
 * - Entries are keyed by (device name, compute capability, shape), as
 *   results_file.h keys them, and copied whole (unknown members included).
 *   Entries of one key whose canonical JSON text (helion_json_write,
 *   indent 0) is the same are one entry, not a conflict. Otherwise the one
 *   with the smaller best_ms is kept (a best_ms that is null or missing
 *   counts as slower than any time); equal times keep the bytewise smaller
 *   canonical text. Each dropped entry is a conflict in the report.
 * - All entries must be of one kernel: the sorted shape key names and the
 *   sorted parameter names of best_config must be those of the first entry;
 *   otherwise HELION_ERR_INVALID naming both files (merging matmul into
 *   softmax is a mistake the keys alone would let through: both have M, N).
 *   Entries whose source_hash differs from the first entry's are kept with
 *   a warning per file: they were tuned on another version of the kernel
 *   (`helion-tune results SPEC` marks the stale ones), and a conflict
 *   between such entries still goes to the faster.
 * - Top-level members other than "entries", "format_version" and
 *   "distilled" (unknown to this tool) are kept; when inputs hold different
 *   values for one, the first input's wins with a warning.
 * - "distilled" (distill.h), when it is an array, is merged per device
 *   (name, compute capability): elements that agree are kept, different
 *   ones keep the first input's with a warning; the array is sorted as
 *   helion_results_set_distilled sorts it. A device whose entries the merge
 *   changed keeps its element with a warning that `helion-tune distill`
 *   should be run again (the tree was fitted without the new shapes; it is
 *   still valid, being consulted only after the exact-shape match).
 *
 * Thread-safety: none; the inputs are only read.
 */
#ifndef HELION_RESULTS_MERGE_H
#define HELION_RESULTS_MERGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "results/results_file.h"
#include "util/util.h"

/* One dropped entry. Strings and `shape` owned by the report. */
typedef struct helion_merge_conflict {
  char *device, *cc; /* device name, compute capability "9.0" */
  char *shape_text;  /* "M=64,N=128" */
  cJSON *shape;      /* the entry's "shape" object */
  char *kept_file, *dropped_file;
  double kept_ms, dropped_ms; /* NAN when the entry has no best_ms */
} helion_merge_conflict_t;

/* What a merge did besides its output. Zero it with _init. */
typedef struct helion_merge_report {
  helion_merge_conflict_t *conflicts; /* in output order */
  size_t nconflicts;
  char **warnings; /* one sentence each, without a trailing newline */
  size_t nwarnings;
} helion_merge_report_t;

void helion_merge_report_init(helion_merge_report_t *rep);
/* Frees what rep owns and re-initialises it; accepts an initialised one. */
void helion_merge_report_cleanup(helion_merge_report_t *rep);

/*
 * Merges the n loaded results files `inputs` (n >= 1; each's path names it
 * in messages) into *out (initialised; replaced only on success, with
 * out->path a copy of `out_path`) by the rules above, and fills *rep
 * (initialised; replaced only on success). The inputs are not changed.
 * Errors: HELION_ERR_INVALID for inputs of different kernels, or an entry
 * whose JSON cannot be written (a repeated key), naming the file(s) and
 * what to do; HELION_ERR_NOMEM.
 */
helion_status helion_results_merge(const helion_results_t *const *inputs,
                                   size_t n, const char *out_path,
                                   helion_results_t *out,
                                   helion_merge_report_t *rep,
                                   helion_err_t *err);

#endif /* HELION_RESULTS_MERGE_H */
