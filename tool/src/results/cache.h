/*
 * cache.h: the local best-config cache (DESIGN.md §7; Helion's
 * LocalAutotuneCache, reference/helion-autotuner.md §4): one
 * `<sha256 of the key>.best_config` JSON file per (kernel, space, source,
 * shape, device, driver, NVRTC) in $HELION_CACHE_DIR, so a second identical
 * tune finds its winner without starting any GPU work, and a re-tune after a
 * kernel edit starts from what worked (FROM_BEST_AVAILABLE).
 *
 * The key is a canonical text (helion_json_write of its fields, sorted keys)
 * hashed with SHA-256. Loose key fields, every value a string:
 *   kernel, space_fingerprint, source_hash, shape ("M=4096,N=128" in the
 *   spec's key order), hardware (device name), driver_version ("12.8"),
 *   nvrtc_version ("12.8"); the strict key
 *   (HELION_AUTOTUNE_CACHE=StrictLocalAutotuneCache) adds tool_version.
 * The search (algorithm, effort, seed, options) is not part of the key, as in
 * Helion: the cache answers "what is the best config known for this kernel
 * here", whichever search found it; HELION_FORCE_AUTOTUNE=1 re-searches.
 *
 * A file (written atomically, keys sorted, indent 2):
 *   {"entry": {helion_tune_entry_to_json: config, times, provenance},
 *    "flat_config": [cells], "format": 1,
 *    "key": {"fields": {...}, "type": "LooseAutotuneCacheKey"}}
 *
 * Remote layer (cache_remote.h): with HELION_REMOTE_CACHE=http(s)://host/
 * prefix, a local miss (no file, or a corrupt one) asks GET
 * {prefix}/<sha256>.best_config (the layout of ccache's HTTP storage); a
 * 200 whose body passes the checks a local file passes (this key's fields,
 * the space's cell count) is written to the local directory atomically and
 * is a hit; 404 is a miss. Every local write is then PUT to the same name.
 * The remote is keyed by the same hash, so the loose/strict rules hold as
 * they are. The first failure (no connection, timeout, another status, a
 * body that is not a best_config) is one warning, "remote cache <url>:
 * <why>; going on with the local cache", and the remote is not asked again
 * by that helion_cache_t. HELION_SKIP_CACHE skips the remote too;
 * HELION_FORCE_AUTOTUNE skips its reads but still writes. The auth header
 * (HELION_REMOTE_CACHE_HEADER="Authorization: Bearer <token>") is sent with
 * every request and appears in no message, log line or file.
 *
 * Thread-safety: concurrent processes may read and write one directory
 * (each write goes through a temporary file of its own and a rename, so a
 * reader sees a whole old file or a whole new one). One helion_cache_t is
 * used by one thread at a time (its remote's "given up" flag).
 */
#ifndef HELION_CACHE_H
#define HELION_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "backend/device_facts.h"
#include "results/tune.h"
#include "util/util.h"

#define HELION_CACHE_SUFFIX ".best_config"
#define HELION_CACHE_DEFAULT_MAX_SCAN 500
#define HELION_CACHE_DEFAULT_MAX_CONFIGS 20
/* Files larger than this are corrupt, not read. */
#define HELION_CACHE_FILE_MAX ((size_t)16 << 20)

/* Where and how the cache is used; filled by helion_cache_init(). */
typedef struct helion_cache {
  char *dir;                          /* owned */
  struct helion_cache_remote *remote; /* owned; NULL: no remote cache */
  bool strict;        /* HELION_AUTOTUNE_CACHE=StrictLocalAutotuneCache */
  bool skip_read;     /* HELION_FORCE_AUTOTUNE or HELION_SKIP_CACHE */
  bool skip_write;    /* HELION_SKIP_CACHE */
  size_t max_scan;    /* HELION_BEST_AVAILABLE_MAX_CACHE_SCAN (500) */
  size_t max_configs; /* HELION_BEST_AVAILABLE_MAX_CONFIGS (20) */
} helion_cache_t;

/*
 * Reads the environment: the directory (`dir` when not NULL, else
 * $HELION_CACHE_DIR, else $XDG_CACHE_HOME/helion, else $HOME/.cache/helion),
 * HELION_AUTOTUNE_CACHE (LocalAutotuneCache, the default, or
 * StrictLocalAutotuneCache), HELION_FORCE_AUTOTUNE and HELION_SKIP_CACHE
 * (truthy: set to anything but "", "0", "false", as Helion), and the two
 * best-available limits, and the remote cache's variables (cache_remote.h;
 * none when HELION_SKIP_CACHE). Creates nothing (helion_cache_put creates
 * the directory). Free with helion_cache_cleanup(). HELION_ERR_USAGE naming the
 * variable for an unknown cache class, a malformed limit or remote setting,
 * or when no directory can be named (no HOME); HELION_ERR_NOMEM.
 */
helion_status helion_cache_init(helion_cache_t *c, const char *dir,
                                helion_err_t *err);
/* Frees what helion_cache_init() allocated; accepts a zeroed struct. */
void helion_cache_cleanup(helion_cache_t *c);

/* What identifies one tune. Everything is borrowed. */
typedef struct helion_cache_key {
  const char *kernel; /* the spec's name */
  const char *space_fingerprint, *source_hash;
  const char *const *shape_keys;
  const int64_t *shape;
  size_t nkeys;
  const helion_device_facts_t *device;
  /* Strict key only; NULL: HELION_TOOL_VERSION. */
  const char *tool_version;
  /* Cells per config in this space: a file whose flat_config has another
   * length is corrupt. Not part of the hashed text. */
  size_t ncells;
} helion_cache_key_t;

/*
 * The key as stored in a file: {"fields": {...}, "type":
 * "LooseAutotuneCacheKey"|"StrictAutotuneCacheKey"}. The caller frees *out
 * with cJSON_Delete(). HELION_ERR_NOMEM.
 */
helion_status helion_cache_key_json(const helion_cache_key_t *k, bool strict,
                                    cJSON **out, helion_err_t *err);

/* SHA-256 (64 hex characters) of helion_cache_key_json's canonical text.
 * HELION_ERR_NOMEM. */
helion_status helion_cache_key_hash(const helion_cache_key_t *k, bool strict,
                                    char out[65], helion_err_t *err);

/*
 * Looks the key up. *out_hit = false (and `out` untouched) when reads are
 * skipped, there is no file, or the file is corrupt (truncated or wrong JSON,
 * a directory, another key's fields, a flat_config of the wrong length): a
 * corrupt file is logged once at WARN as "Skipping corrupt cache file
 * <path>: <why>", never an error. Then the remote, if any (above). On a hit,
 * *out (initialised) is replaced by the cached entry: shape and device from
 * `k`, the rest from the file. Errors: HELION_ERR_NOMEM only.
 */
helion_status helion_cache_get(const helion_cache_t *c,
                               const helion_cache_key_t *k,
                               helion_tune_entry_t *out, bool *out_hit,
                               helion_err_t *err);

/*
 * Stores the entry under the key (replacing an older file), creating the
 * directory. Does nothing when writes are skipped or when the entry is not
 * a finished winner: an error, an interrupted search (its best is only the
 * best so far) or effort none (the default config, not a search). The file
 * written is then PUT to the remote, if any (a failure is its warning, not
 * an error). Errors:
 * HELION_ERR_IO naming the path, HELION_ERR_NOMEM, HELION_ERR_PARSE for an
 * entry whose config text is not JSON.
 */
helion_status helion_cache_put(const helion_cache_t *c,
                               const helion_cache_key_t *k,
                               const helion_tune_entry_t *e, helion_err_t *err);

/* One file of the directory, parsed and checked. */
typedef struct helion_cache_item {
  char *path; /* owned */
  char hash[65];
  double mtime; /* seconds since the epoch */
  cJSON *doc;   /* owned; has key.fields (strings) and flat_config (ints) */
} helion_cache_item_t;

/*
 * The `*.best_config` files of `dir`, newest first (by mtime, ties by name),
 * at most `max` of them looked at (0: no limit); the corrupt ones among
 * those are skipped with the warning above. A missing directory is an empty
 * list. Free with helion_cache_items_free(*out, *out_n). HELION_ERR_IO when
 * the directory exists but cannot be read, HELION_ERR_NOMEM.
 */
helion_status helion_cache_list(const char *dir, size_t max,
                                helion_cache_item_t **out, size_t *out_n,
                                helion_err_t *err);
void helion_cache_items_free(helion_cache_item_t *items, size_t n);

/*
 * FROM_BEST_AVAILABLE seeds (reference §4.4): scans the newest
 * c->max_scan files and keeps the configs of entries with the same device
 * name and space fingerprint (not the source hash, so configs carry across
 * kernel edits) and `ncells` cells, without duplicates, at most
 * c->max_configs. *out_cells (ncells per config, *out_n configs; NULL when
 * none) is freed by the caller with free(). Skipped (none) when reads are
 * skipped. Errors as helion_cache_list().
 */
helion_status helion_cache_best_available(const helion_cache_t *c,
                                          const char *device_name,
                                          const char *space_fingerprint,
                                          size_t ncells, int64_t **out_cells,
                                          size_t *out_n, helion_err_t *err);

#endif /* HELION_CACHE_H */
