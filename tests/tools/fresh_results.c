/*
 * fresh_results.c: makes a hand-written results file fixture current:
 * every entry whose "source_hash" or "space_fingerprint" is the string
 * "@FRESH@" gets the spec's source hash or its shape's space fingerprint on
 * the entry's device, as `tune` would have recorded them today; so does
 * each "distilled" section's "source_hash". Entries and sections with
 * other values stay as written (a test's deliberately stale ones).
 *
 *   fresh_results SPEC IN.tuned.json OUT.tuned.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/results_file.h"

static int is_fresh_marker(const cJSON *e, const char *key) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, key));
  return s && strcmp(s, "@FRESH@") == 0;
}

static int fill(cJSON *e, const helion_spec_t *spec, const char *hash) {
  helion_err_t err = {{0}};
  if (is_fresh_marker(e, "source_hash"))
    cJSON_ReplaceItemInObjectCaseSensitive(e, "source_hash",
                                           cJSON_CreateString(hash));
  if (!is_fresh_marker(e, "space_fingerprint"))
    return 0;
  int64_t shape[64];
  helion_device_props_t dev;
  helion_space_t *space = NULL;
  char fp[65];
  helion_results_entry_device(e, &dev);
  if (!helion_results_entry_shape(e, spec, shape) ||
      helion_spec_space(spec, shape, &dev, &space, &err)) {
    fprintf(stderr, "fresh_results: an entry's space: %s\n", err.msg);
    return 1;
  }
  helion_space_fingerprint(space, fp);
  helion_space_destroy(space);
  cJSON_ReplaceItemInObjectCaseSensitive(e, "space_fingerprint",
                                         cJSON_CreateString(fp));
  return 0;
}

int main(int argc, char **argv) {
  helion_spec_t *spec = NULL;
  helion_results_t r;
  helion_err_t err = {{0}};
  char hash[65];
  int code = 1;
  if (argc != 4) {
    fprintf(stderr, "usage: fresh_results SPEC IN OUT\n");
    return 2;
  }
  helion_results_init(&r);
  if (helion_spec_load(argv[1], &spec, &err) ||
      helion_tune_source_hash(spec, hash, &err) ||
      helion_results_load(argv[2], &r, &err)) {
    fprintf(stderr, "fresh_results: %s\n", err.msg);
    goto out;
  }
  for (size_t i = 0; i < r.nentries; i++)
    if (fill(r.entries[i], spec, hash))
      goto out;
  cJSON *sec;
  cJSON_ArrayForEach(sec, cJSON_GetObjectItemCaseSensitive(r.root, "distilled"))
    if (is_fresh_marker(sec, "source_hash"))
      cJSON_ReplaceItemInObjectCaseSensitive(sec, "source_hash",
                                             cJSON_CreateString(hash));
  free(r.path);
  r.path = helion_strdup(argv[3]);
  if (!r.path || helion_results_save(&r, &err)) {
    fprintf(stderr, "fresh_results: %s\n", err.msg);
    goto out;
  }
  code = 0;
out:
  helion_results_cleanup(&r);
  helion_spec_destroy(spec);
  return code;
}
