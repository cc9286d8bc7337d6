/*
 * tune.h: tuning one shape as a library call that returns a typed entry
 * (DESIGN.md §7 and §11): the search, the winner timed side by side against
 * the default config, and everything a results file or a cache needs to
 * record and later trust the result (options, counts, device facts, source
 * hash, space fingerprint, tool version).
 *
 * The CLI (`tune`), the results file, the cache and CMake all consume the
 * entry; none of them re-runs the pipeline. It works against any backend
 * (backend.h): the CUDA backend, whose per-shape set-up stays with the caller
 * behind helion_tune_hooks_t, or the landscape simulator.
 *
 *   helion_tune_entry_t e;
 *   helion_tune_entry_init(&e);
 *   rc = helion_tune_shape(&in, &e, err);   // e.error set: no winner
 *   rc = helion_tune_entry_to_json(&e, &obj, err);
 *   helion_tune_entry_cleanup(&e);
 *
 * Thread-safety: a tune drives one backend from the calling thread (the
 * search and the backends are not thread-safe); entries are plain data and
 * may be read from any thread.
 */
#ifndef HELION_TUNE_H
#define HELION_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "backend/backend.h"
#include "backend/device_facts.h"
#include "model/space.h"
#include "model/spec.h"
#include "search/search.h"
#include "util/util.h"

/* The version every entry records (strict cache keys include it). */
#define HELION_TOOL_VERSION HELION_VERSION_STRING

/*
 * What a backend needs per shape that the generic pipeline cannot know
 * (the CUDA backend's set_shape; its statistics). Every member may be NULL.
 */
typedef struct helion_tune_hooks {
  void *ud;
  /*
   * Called once before the search: point the backend at `space` and `shape`
   * (borrowed until the tune returns). HELION_ERR_INVALID, here or from
   * the search's first benchmark, means this shape cannot be tuned (its
   * default config fails): the entry gets the message as its error.
   */
  helion_status (*prepare)(void *ud, const helion_space_t *space,
                           const int64_t *shape, uint64_t seed,
                           helion_err_t *err);
  /* Called after the search: the baseline's time (the default config's,
   * unless the spec has a reference kernel), +inf if unknown. */
  helion_status (*baseline)(void *ud, double *out_ms, helion_err_t *err);
} helion_tune_hooks_t;

/* One shape's tune, everything borrowed for the duration of the call. */
typedef struct helion_tune_input {
  /* The kernel: names the shape's keys, anchors the source hash, builds the
   * space when `space` is NULL. NULL for a landscape (no source, no shape
   * keys): then `space` is required. */
  const helion_spec_t *spec;
  const int64_t *shape; /* spec->nkeys values; ignored without a spec */
  /* NULL: helion_spec_space(spec, shape, &device->props). Otherwise the
   * space the backend measures (a landscape's). */
  const helion_space_t *space;
  helion_backend_t *backend;
  /* Copied; the tune sets its own configs and trace on the copy. */
  const helion_search_opts_t *opts;
  const helion_device_facts_t *device; /* recorded in the entry */
  /* User configurations as JSON texts (keys missing take the default):
   * seeds and pinned finalists, FiniteSearch's list. */
  const char *const *configs;
  size_t nconfigs;
  /* Every evaluation as one JSON line (search.h), after a first line
   * {"meta": {"algorithm", "effort", "seed", "options" (the resolved
   * options, so --options-json replays a meta object), "device", "shape",
   * "spec" (absent without one)}}; NULL: none. */
  const char *trace_path;
  const helion_tune_hooks_t *hooks; /* NULL: none */
} helion_tune_input_t;

/*
 * The result of one shape. Strings and arrays are owned by the entry and
 * freed by helion_tune_entry_cleanup().
 */
typedef struct helion_tune_entry {
  /* The shape: nkeys names (copied from the spec) and values. */
  char **shape_keys;
  int64_t *shape;
  size_t nkeys;

  /* The winner: normalized cells (ncells of the shape's space), its
   * canonical JSON (every key, sorted) and its minimized JSON (keys at their
   * default left out, model/config.h). NULL when there is no winner. */
  int64_t *best_cells;
  size_t ncells;
  char *best_config;
  char *best_config_minimized;
  /* Its time and the default config's, in ms (+inf when unknown). With
   * side_by_side, both come from one interleaved rebenchmark at the end
   * (a long tune's clock drift cancels); otherwise from the search. */
  double best_ms, default_ms;
  bool side_by_side;

  /* How it was searched: the resolved algorithm, effort and seed, and the
   * resolved options as search.h prints them ({"algorithm", "effort",
   * "seed", "options": {...}}); replaying them reproduces the search. */
  char *algorithm;
  helion_effort effort;
  uint64_t seed;
  cJSON *options;

  /* Distinct configs measured and their outcomes by helion_result_kind
   * (by_kind[HELION_RESULT_OK] counts the ones that worked). */
  size_t configs_tested;
  size_t by_kind[HELION_RESULT_KIND_COUNT];
  /* Seconds of the whole call on the wall clock, and the backend's elapsed()
   * at the end of the search (simulated seconds for a landscape). */
  double wall_seconds, backend_seconds;
  double side_by_side_s; /* the final side-by-side timing */

  /* Provenance. */
  helion_device_facts_t device;
  char source_hash[65];       /* helion_tune_source_hash(); "" without spec */
  char space_fingerprint[65]; /* helion_space_fingerprint() */
  char tool_version[32];      /* HELION_TOOL_VERSION */

  /* Why this shape has no winner (no working config, default config
   * failing, a user config invalid for this shape); NULL otherwise. */
  char *error;
  /* The signal (SIGINT, SIGTERM) that stopped the search early, 0 if none:
   * the winner is the best measured so far, not timed side by side. */
  int interrupted;
} helion_tune_entry_t;

/*
 * Logs the entry at INFO the way Helion reports a winner (at WARN, starting
 * "Interrupted; best config so far for", when e->interrupted), on two lines:
 *   Best config for M=4096,N=128: {...}
 *     0.1234ms (default config 0.2000ms side by side, 1.62x); 544 configs
 *     in 42.0s, 13.1 configs/s<extra>
 * `extra` (may be NULL) is the backend's own summary, e.g. ", GPU idle 17%
 * waiting for compiles". An entry with an error logs the error at ERROR.
 */
void helion_tune_entry_log(const helion_tune_entry_t *e, const char *extra);

/* Zeroes the entry (times +inf). */
void helion_tune_entry_init(helion_tune_entry_t *e);
/* Frees what the entry owns and re-initialises it; accepts a zeroed or
 * initialised entry. */
void helion_tune_entry_cleanup(helion_tune_entry_t *e);

/*
 * Tunes one shape: builds the space (unless given), calls hooks->prepare,
 * runs the search (writing the trace), finds the default config's time
 * (its member in the search, else the baseline when the baseline is the
 * default config), re-times the winner against the default side by side
 * when they differ, and fills every field of the entry.
 *
 * `out` must be initialised; it is written only on success, so on error it
 * is left as it was. A shape with no winner is success with out->error set
 * (and the counts filled as far as the search got). Errors are the run's own
 * faults: a broken backend (HELION_ERR_CUDA, HELION_ERR_SUBPROCESS, ...), an
 * unknown algorithm (HELION_ERR_USAGE), the trace file (HELION_ERR_IO), out
 * of memory, or HELION_ERR_INVALID for input that is not usable (no spec and
 * no space).
 */
helion_status helion_tune_shape(const helion_tune_input_t *in,
                                helion_tune_entry_t *out, helion_err_t *err);

/*
 * Checks user configurations (JSON texts) against the spec's parameters,
 * before any GPU work. Parameters do not depend on the shape or the device;
 * restrictions do, and helion_tune_shape() checks those per shape.
 * HELION_ERR_INVALID (or the parse error) with "--config #<i>: <key>: ...",
 * or "<spec path>: ..." when the spec's parameters make no space.
 */
helion_status helion_tune_check_configs(const helion_spec_t *spec,
                                        const char *const *configs, size_t n,
                                        helion_err_t *err);

/*
 * The source hash of a spec's kernel, as 64 hex characters: sha256 over, in
 * this order, the kernel source (spec->source) and helion/device.cuh from the
 * runtime include directory the compile uses
 * (helion_nvrtc_runtime_include_dir()), each framed as its name as the
 * compile sees it ("<basename of source>" and "helion/device.cuh"), a NUL,
 * its size in decimal, a NUL and its bytes. device.cuh is hashed whether or
 * not the kernel includes it: a stale entry is the safe mistake. Other
 * headers the kernel includes with quotes, found beside the including file,
 * follow in the same framing (helion_tune_source_files), so a kernel that
 * includes nothing else hashes as it always did. HELION_ERR_IO naming the
 * file that cannot be read.
 */
helion_status helion_tune_source_hash(const helion_spec_t *spec, char out[65],
                                      helion_err_t *err);

/* One file a kernel's compile reads (helion_tune_source_files). */
typedef struct helion_source_file {
  char *path; /* as opened */
  char *name; /* as the compile sees it: "softmax.cu", "helion/device.cuh",
                 or the include's text ("tile.cuh", "../common/x.cuh") */
} helion_source_file_t;

/*
 * The files of a kernel that a results entry depends on, in a fixed order:
 * the kernel source, helion/device.cuh (from the compile's runtime include
 * directory), then every file the kernel includes with quotes that exists
 * beside the including file, breadth first, each once (recursively; at most
 * 256). Angle-bracket includes and quoted ones found elsewhere are the CUDA
 * Toolkit's and are left out. The source hash and `generate --depfile` both
 * read this list. Free with helion_source_files_free(). HELION_ERR_IO for a
 * file that cannot be read, HELION_ERR_LIMIT, HELION_ERR_NOMEM.
 */
helion_status helion_tune_source_files(const helion_spec_t *spec,
                                       helion_source_file_t **out,
                                       size_t *out_n, helion_err_t *err);
void helion_source_files_free(helion_source_file_t *files, size_t n);

/*
 * The entry as a JSON object for helion_json_write(), every field present:
 *   {"algorithm", "backend_seconds", "best_config" (object|null),
 *    "best_config_minimized" (object|null), "best_ms" (number|null),
 *    "configs_tested", "default_ms" (number|null), "device" (see
 *    helion_device_facts_to_json), "effort", "error" (only when set),
 *    "failures": {"accuracy", "compile", "runtime", "timeout"},
 *    "options" (object|null), "seed", "shape": {key: value},
 *    "side_by_side", "source_hash", "space_fingerprint", "tool_version",
 *    "wall_seconds", "interrupted": "SIGINT"|"SIGTERM" (only when set)}
 * Times that are not finite are null. The caller frees *out with
 * cJSON_Delete(). HELION_ERR_NOMEM, or HELION_ERR_PARSE if a config text in
 * the entry is not JSON.
 */
helion_status helion_tune_entry_to_json(const helion_tune_entry_t *e,
                                        cJSON **out, helion_err_t *err);

#endif /* HELION_TUNE_H */
