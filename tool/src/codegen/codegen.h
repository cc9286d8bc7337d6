/*
 * codegen.h: writes the header `helion-tune generate` produces (DESIGN.md
 * §8): `<name>_tuned.h`, holding one kernel's typed launcher, its configs
 * (cubins per architecture plus PTX), the tuned entries of its results file
 * as tables for the runtime's dispatcher (helion/runtime.h), the distilled
 * decision trees of its "distilled" sections (results/distill.h) as nested
 * ifs, and the legality test and launch geometry printed as checked C from
 * the spec's expression trees (the same trees the tool evaluates).
 *
 * Nothing from a spec or a results file reaches the header unescaped: names
 * are checked C identifiers (the spec parser refuses others), every other
 * text (device names, config JSON, expression texts, file names) goes into
 * escaped C string literals only, never into comments.
 */
#ifndef HELION_CODEGEN_H
#define HELION_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "model/spec.h"
#include "results/results_file.h"
#include "util/util.h"

#define HELION_CODEGEN_MAX_ARCHS 16

typedef struct helion_codegen_opts {
  /* Architectures as 90 for sm_90, ascending without repeats; none (0):
   * the compute capabilities of the results' entries. */
  int archs[HELION_CODEGEN_MAX_ARCHS];
  size_t narchs;
  /* A stale entry, or one whose config does not parse in the current
   * space, is an error instead of a warning; so is a distilled section
   * left out (another source hash, other keys, a device without entries,
   * no tree, a leaf config that does not parse). */
  bool require_fresh;
  /* Called once per warning (one line, no newline); may be NULL. */
  void (*warn)(void *ud, const char *msg);
  void *warn_ud;
} helion_codegen_opts_t;

/*
 * Appends the header for `spec` with the entries of `results` (loaded;
 * may be empty) to `out`. Compiles every distinct config with NVRTC for
 * each architecture (no GPU). The text depends only on the inputs: no time,
 * no absolute path, everything sorted, so identical inputs give identical
 * bytes. Errors (one line in err, naming the file and what to do):
 * HELION_ERR_USAGE no architecture (none given, no entries), or a key no
 * argument carries clashing with an argument's name; HELION_ERR_INVALID a
 * stale or unparsable entry or a left-out distilled section under
 * require_fresh; HELION_ERR_PARSE a malformed distilled section ("FILE:
 * distilled[i]: ..."); HELION_ERR_NVRTC a config
 * that does not compile; HELION_ERR_NOMEM, HELION_ERR_LIMIT.
 */
helion_status helion_codegen_header(const helion_spec_t *spec,
                                    const helion_results_t *results,
                                    const helion_codegen_opts_t *opts,
                                    helion_buf_t *out, helion_err_t *err);

/*
 * Appends `s` as one C string literal: quotes, with \\ \" \? escaped,
 * \n \t \r, and every other byte outside printable ASCII as a three-digit
 * octal escape (so no following character can extend it).
 */
helion_status helion_codegen_c_string(helion_buf_t *out, const char *s);

/*
 * Which argument carries each shape key: out_arg[k] (spec->nkeys of them)
 * is the index of the scalar integer argument whose value expression is
 * exactly the key's name, or -1 when none does (the launcher then takes
 * the key as an extra trailing int64_t parameter). HELION_ERR_USAGE when
 * such an extra parameter would clash with an argument's name.
 */
helion_status helion_codegen_key_args(const helion_spec_t *spec, int *out_arg,
                                      helion_err_t *err);

#endif /* HELION_CODEGEN_H */
