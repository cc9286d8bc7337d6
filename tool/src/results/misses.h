/*
 * misses.h: the shapes a running program missed, as the runtime records them
 * with HELION_RECORD_MISSES=FILE (helion/runtime.h, helion_miss): one JSON
 * object per line,
 *
 *   {"cc":"9.0","device":"NVIDIA H100 80GB HBM3","kernel":"softmax",
 *    "pick":"nearest","shape":{"M":5,"N":7}}
 *
 * `helion-tune tune SPEC --shapes-from FILE` tunes exactly the distinct
 * shapes of SPEC's kernel found there: the loop from production shapes back
 * to the next build.
 */
#ifndef HELION_MISSES_H
#define HELION_MISSES_H

#include <stddef.h>
#include <stdint.h>

#include "model/spec.h"
#include "util/util.h"

/* What a read of a misses file found besides the shapes. */
typedef struct helion_misses_stats {
  size_t lines;          /* non-blank lines read */
  size_t other_kernels;  /* lines of another kernel's misses */
  size_t duplicates;     /* lines of a shape already read (other devices,
                            other processes) */
  size_t unusable;       /* lines of this kernel whose shape cannot be tuned
                            (each warned about, with its line number) */
} helion_misses_stats_t;

/*
 * Reads `path` and returns the distinct shapes recorded for spec->name, in
 * ascending order of their values (key order), as *out_n rows of
 * spec->nkeys values in *out (caller frees with free(); NULL when none).
 * A line of this kernel whose shape is not a shape of the spec (a key
 * missing or unknown, a value that is not a positive integer) is skipped
 * with one warning naming the line: the spec may have changed since the
 * program ran. Errors: HELION_ERR_IO (cannot read), HELION_ERR_PARSE
 * ("<path>:3: not a JSON object: ..."; a torn or foreign line),
 * HELION_ERR_NOT_FOUND when no line names the kernel ("no misses of kernel
 * 'softmax' in FILE (12 lines, all of other kernels)").
 */
helion_status helion_misses_load(const char *path, const helion_spec_t *spec,
                                 int64_t **out, size_t *out_n,
                                 helion_misses_stats_t *stats,
                                 helion_err_t *err);

#endif /* HELION_MISSES_H */
