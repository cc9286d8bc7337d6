/*
 * tune.c: one shape tuned into a typed entry (see tune.h): space, search,
 * the default config's time, the side-by-side timing of the winner, and the
 * provenance a results file and a cache record.
 */
#include "results/tune.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/nvrtc_compile.h"
#include "model/config.h"
#include "util/interrupt.h"
#include "util/json.h"

/* The largest source file hashed; far above any kernel. */
#define TUNE_MAX_SOURCE ((size_t)64 << 20)

void helion_tune_entry_init(helion_tune_entry_t *e) {
  memset(e, 0, sizeof(*e));
  e->best_ms = e->default_ms = INFINITY;
}

void helion_tune_entry_cleanup(helion_tune_entry_t *e) {
  if (!e)
    return;
  for (size_t k = 0; e->shape_keys && k < e->nkeys; k++)
    free(e->shape_keys[k]);
  free(e->shape_keys);
  free(e->shape);
  free(e->best_cells);
  free(e->best_config);
  free(e->best_config_minimized);
  free(e->algorithm);
  cJSON_Delete(e->options);
  free(e->error);
  helion_tune_entry_init(e);
}

/* Adds one framed file to the source hash (framing in tune.h). */
static helion_status hash_file(helion_sha256_t *h, const char *path,
                               const char *name, helion_err_t *err) {
  char *data = NULL;
  size_t len = 0;
  helion_status rc = helion_read_file(path, TUNE_MAX_SOURCE, &data, &len, err);
  if (rc)
    return rc;
  char size[32];
  int n = snprintf(size, sizeof(size), "%zu", len);
  helion_sha256_update(h, name, strlen(name) + 1);
  helion_sha256_update(h, size, (size_t)n + 1);
  helion_sha256_update(h, data, len);
  free(data);
  return HELION_OK;
}

helion_status helion_tune_source_hash(const helion_spec_t *spec, char out[65],
                                      helion_err_t *err) {
  helion_source_file_t *files = NULL;
  size_t n = 0;
  helion_sha256_t h;
  uint8_t digest[32];
  helion_status rc = helion_tune_source_files(spec, &files, &n, err);
  helion_sha256_init(&h);
  for (size_t i = 0; i < n && !rc; i++)
    rc = hash_file(&h, files[i].path, files[i].name, err);
  helion_source_files_free(files, n);
  if (rc)
    return rc;
  helion_sha256_final(&h, digest);
  for (size_t i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", digest[i]);
  return HELION_OK;
}

/* "M=4096,N=128" */
static helion_status shape_text(const helion_tune_entry_t *e,
                                helion_buf_t *out) {
  helion_status rc = HELION_OK;
  for (size_t k = 0; k < e->nkeys && !rc; k++)
    rc = helion_buf_appendf(out, "%s%s=%" PRId64, k ? "," : "",
                            e->shape_keys[k], e->shape[k]);
  return rc;
}

void helion_tune_entry_log(const helion_tune_entry_t *e, const char *extra) {
  if (e->error) {
    HELION_LOG(HELION_LOG_ERROR, "%s", e->error);
    return;
  }
  /* At WARN, so --quiet still shows what an interrupted tune found. */
  int level = e->interrupted ? HELION_LOG_WARN : HELION_LOG_INFO;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  shape_text(e, &b);
  double sec = e->backend_seconds;
  HELION_LOG(
      level,
      "%s%s: %s\n  %.4fms (default config %.4fms%s, "
      "%.2fx); %zu configs in %.1fs, %.1f configs/s%s",
      e->interrupted ? "Interrupted; best config so far for "
                     : "Best config for ",
      helion_buf_str(&b), e->best_config ? e->best_config : "null", e->best_ms,
      e->default_ms, e->side_by_side ? " side by side" : "",
      isfinite(e->default_ms) && e->best_ms > 0 ? e->default_ms / e->best_ms
                                                : 0.0,
      e->configs_tested, sec, sec > 0 ? (double)e->configs_tested / sec : 0.0,
      extra ? extra : "");
  helion_buf_cleanup(&b);
}

/* The first trace line: the resolved options (so --options-json replays a
 * trace's "meta" object too) and what was tuned, for `helion-tune report`. */
static helion_status write_trace_meta(FILE *f, const helion_tune_input_t *in,
                                      const helion_tune_entry_t *e,
                                      helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  cJSON *root = cJSON_CreateObject();
  cJSON *meta = cJSON_Duplicate(e->options, 1);
  if (!root || !meta || !cJSON_AddItemToObject(root, "meta", meta)) {
    cJSON_Delete(meta);
    goto nomem;
  }
  if ((rc = shape_text(e, &b)))
    goto nomem;
  if ((in->spec && !cJSON_AddStringToObject(meta, "spec", in->spec->path)) ||
      !cJSON_AddStringToObject(meta, "shape", helion_buf_str(&b)) ||
      !cJSON_AddStringToObject(meta, "device", in->device->props.name))
    goto nomem;
  helion_buf_reset(&b);
  if ((rc = helion_json_write(root, 0, &b, err)))
    goto out;
  if ((rc = helion_buf_putc(&b, '\n')))
    goto nomem;
  if ((rc = helion_file_write_record(f, helion_buf_str(&b), b.len, err)))
    helion_err_prefix(err, "--trace: ");
  goto out;
nomem:
  rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
out:
  cJSON_Delete(root);
  helion_buf_cleanup(&b);
  return rc;
}

/* Parses user config texts into cells (n * ncells; caller frees). */
static helion_status user_configs(const helion_space_t *space,
                                  const char *const *configs, size_t n,
                                  int64_t **out, helion_err_t *err) {
  int64_t *cells = malloc((n ? n : 1) * space->ncells * sizeof(*cells));
  if (!cells)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    helion_status rc = helion_config_from_json(space, configs[i],
                                               cells + i * space->ncells, err);
    if (rc) {
      helion_err_prefix(err, "--config #%zu: ", i + 1);
      free(cells);
      return rc;
    }
  }
  *out = cells;
  return HELION_OK;
}

helion_status helion_tune_check_configs(const helion_spec_t *spec,
                                        const char *const *configs, size_t n,
                                        helion_err_t *err) {
  helion_space_opts_t so;
  helion_space_t *space = NULL;
  int64_t *cells = NULL;
  if (n == 0)
    return HELION_OK;
  memset(&so, 0, sizeof(so));
  so.params = spec->params;
  so.nparams = spec->nparams;
  helion_status rc = helion_space_create(&so, &space, err);
  if (rc) {
    helion_err_prefix(err, "%s: ", spec->path);
    return rc;
  }
  rc = user_configs(space, configs, n, &cells, err);
  free(cells);
  helion_space_destroy(space);
  return rc;
}

/* The default config's time as the search saw it, else the baseline when
 * the baseline is the default config (no reference kernel). */
static double default_time(const helion_search_t *s, const int64_t *def,
                           const helion_spec_t *spec, double baseline_ms) {
  helion_member_id id = helion_search_lookup(s, def);
  if (id != HELION_NO_MEMBER && helion_search_kind(s, id) == HELION_RESULT_OK)
    return helion_search_perf(s, id);
  if (spec && !spec->reference)
    return baseline_ms;
  return INFINITY;
}

/* Writes the winner's cells and JSON texts into the entry. */
static helion_status record_best(const helion_space_t *space,
                                 const int64_t *best, helion_tune_entry_t *e,
                                 helion_err_t *err) {
  helion_status rc;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  e->ncells = space->ncells;
  e->best_cells = malloc(space->ncells * sizeof(*best));
  if (!e->best_cells) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  memcpy(e->best_cells, best, space->ncells * sizeof(*best));
  if ((rc = helion_config_to_json(space, best, false, &b)))
    goto fmt;
  e->best_config = helion_buf_take(&b);
  if ((rc = helion_config_to_json(space, best, true, &b)))
    goto fmt;
  e->best_config_minimized = helion_buf_take(&b);
  goto out;
fmt:
  helion_err_set(err, rc, "cannot format the best configuration");
out:
  helion_buf_cleanup(&b);
  return rc;
}

/*
 * The winner against the default config, timed side by side: the GPU's
 * clocks drift over a long tune, so times from its start and its end do not
 * compare. With a trace, both times go to it as "rebench" lines (winner
 * first): the numbers the tune reports.
 */
static helion_status time_side_by_side(helion_backend_t *backend,
                                       helion_search_t *s,
                                       const helion_space_t *space,
                                       const int64_t *def, double target_ms,
                                       helion_tune_entry_t *e,
                                       helion_err_t *err) {
  size_t n = space->ncells;
  if (!e->best_cells || !isfinite(e->default_ms) || !isfinite(e->best_ms) ||
      memcmp(e->best_cells, def, n * sizeof(*def)) == 0)
    return HELION_OK;
  int64_t *pair = malloc(2 * n * sizeof(*pair));
  double ms[2];
  if (!pair)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  memcpy(pair, e->best_cells, n * sizeof(*pair));
  memcpy(pair + n, def, n * sizeof(*pair));
  helion_status rc =
      helion_backend_rebench(backend, pair, 2, target_ms, ms, err);
  free(pair);
  if (rc == HELION_OK && isfinite(ms[0]) && isfinite(ms[1])) {
    e->best_ms = ms[0];
    e->default_ms = ms[1];
    e->side_by_side = true;
  }
  if (rc == HELION_OK &&
      !(rc = helion_search_trace_rebench(s, e->best_cells, ms[0], err)))
    rc = helion_search_trace_rebench(s, def, ms[1], err);
  /* The most careful measurement decides: a winner that loses to the
   * default side by side was ahead by noise, and the default is what the
   * user has without tuning. */
  if (rc == HELION_OK && e->side_by_side && e->default_ms < e->best_ms) {
    HELION_LOG(HELION_LOG_WARN,
               "The search's best config %s ran %.4fms side by side with the "
               "default config's %.4fms: keeping the default config",
               e->best_config, e->best_ms, e->default_ms);
    free(e->best_cells);
    free(e->best_config);
    free(e->best_config_minimized);
    e->best_cells = NULL;
    e->best_config = e->best_config_minimized = NULL;
    if (!(rc = record_best(space, def, e, err)))
      e->best_ms = e->default_ms;
  }
  return rc;
}

/* Copies the shape, the options as asked (the search's resolved ones
 * replace them once it exists) and the provenance known before any
 * measurement, so an entry that fails early still says what was asked. */
static helion_status entry_start(const helion_tune_input_t *in,
                                 helion_tune_entry_t *e, helion_err_t *err) {
  e->device = *in->device;
  e->effort = in->opts->effort;
  e->seed = in->opts->seed;
  e->algorithm =
      helion_strdup(in->opts->algorithm ? in->opts->algorithm
                                        : HELION_SEARCH_DEFAULT_ALGORITHM);
  if (!e->algorithm)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  snprintf(e->tool_version, sizeof(e->tool_version), "%s", HELION_TOOL_VERSION);
  if (!in->spec)
    return HELION_OK;
  e->nkeys = in->spec->nkeys;
  e->shape_keys = calloc(e->nkeys ? e->nkeys : 1, sizeof(*e->shape_keys));
  e->shape = calloc(e->nkeys ? e->nkeys : 1, sizeof(*e->shape));
  if (!e->shape_keys || !e->shape)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t k = 0; k < e->nkeys; k++) {
    e->shape[k] = in->shape[k];
    if (!(e->shape_keys[k] = helion_strdup(in->spec->keys[k])))
      return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  return helion_tune_source_hash(in->spec, e->source_hash, err);
}

helion_status helion_tune_shape(const helion_tune_input_t *in,
                                helion_tune_entry_t *out, helion_err_t *err) {
  helion_status rc = HELION_OK, run_rc = HELION_OK;
  helion_err_t le = {{0}};
  helion_tune_entry_t e;
  helion_space_t *own_space = NULL;
  const helion_space_t *space = in->space;
  helion_search_t *s = NULL;
  FILE *trace = NULL;
  int64_t *user = NULL, *def = NULL;
  helion_search_opts_t o = *in->opts;
  const helion_tune_hooks_t *hooks = in->hooks;
  double t0 = helion_now(), baseline_ms = INFINITY;
  helion_llm_context_t llm_ctx;
  helion_llm_context_text_t llm_text = {0};
  helion_tune_entry_init(&e);

  if (!in->spec && !in->space)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "tune: a spec or a space is required");
  if ((rc = entry_start(in, &e, &le)))
    goto out;
  if (!space) {
    rc = helion_spec_space(in->spec, in->shape, &in->device->props, &own_space,
                           &le);
    if (rc)
      goto out;
    space = own_space;
  }
  helion_space_fingerprint(space, e.space_fingerprint);
  if (!(def = malloc(space->ncells * sizeof(*def)))) {
    rc = helion_err_set(&le, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  helion_space_default(space, def);
  if (in->nconfigs) {
    if ((rc = user_configs(space, in->configs, in->nconfigs, &user, &le)))
      goto out;
    o.configs = user;
    o.nconfigs = in->nconfigs;
  }
  /* A trace that cannot be written fails the tune before the baseline runs,
   * not after. */
  if (in->trace_path && !(trace = fopen(in->trace_path, "w"))) {
    rc = helion_err_set(&le, HELION_ERR_IO, "--trace: cannot write %s: %s",
                        in->trace_path, strerror(errno));
    goto out;
  }
  o.trace = trace;
  if (!o.llm_context) {
    /* What an LLM search's prompts say: the spec's kernel and arguments,
     * the shape and the device. */
    helion_llm_context_init(in->spec, in->spec ? in->shape : NULL,
                            in->device ? &in->device->props : NULL, space,
                            &llm_ctx, &llm_text);
    o.llm_context = &llm_ctx;
  }
  if (hooks && hooks->prepare &&
      (rc = hooks->prepare(hooks->ud, space, e.shape, o.seed, &le)))
    goto out;
  if ((rc = helion_search_create(space, in->backend, &o, &s, &le)))
    goto out;
  const helion_search_opts_t *ro = helion_search_opts(s);
  e.effort = ro->effort;
  e.seed = ro->seed;
  free(e.algorithm);
  e.algorithm = helion_strdup(ro->algorithm ? ro->algorithm
                                            : HELION_SEARCH_DEFAULT_ALGORITHM);
  if (!e.algorithm) {
    rc = helion_err_set(&le, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = helion_search_resolved_options(s, &e.options, &le)))
    goto out;
  /* The search writes its lines during the run, so the meta line written
   * now, with the resolved options, comes first. */
  if (trace && (rc = write_trace_meta(trace, in, &e, &le)))
    goto out;

  run_rc = helion_search_run(s, &le);
  const helion_search_metrics_t *m = helion_search_metrics(s);
  e.configs_tested = m->configs_tested;
  memcpy(e.by_kind, m->by_kind, sizeof(e.by_kind));
  e.backend_seconds = helion_backend_elapsed(in->backend);
  if (!run_rc && hooks && hooks->baseline &&
      (rc = hooks->baseline(hooks->ud, &baseline_ms, &le)))
    goto out;
  e.default_ms = default_time(s, def, in->spec, baseline_ms);
  /* Also when the interrupt came during the last batch, after the search's
   * last check: the side-by-side timing is then skipped too. */
  e.interrupted = helion_interrupted();
  if (run_rc == HELION_ERR_NO_CONFIG && e.interrupted && !m->configs_tested)
    run_rc = helion_err_set(&le, HELION_ERR_NO_CONFIG,
                            "interrupted by %s before any configuration "
                            "was measured",
                            helion_interrupt_name(e.interrupted));
  if ((rc = run_rc))
    goto out;
  if (helion_search_best(s)) {
    if ((rc = record_best(space, helion_search_best(s), &e, &le)))
      goto out;
    e.best_ms = helion_search_best_ms(s);
  }
  /* Interrupted: the best so far as measured; nothing more is timed. */
  if (!e.interrupted) {
    double s0 = helion_now();
    rc = time_side_by_side(in->backend, s, space, def,
                           in->opts->rebench_target_ms, &e, &le);
    e.side_by_side_s = helion_now() - s0;
  }
out:
  if (trace && fclose(trace) != 0 && rc == HELION_OK)
    rc = helion_err_set(&le, HELION_ERR_IO, "--trace: cannot write %s",
                        in->trace_path);
  /* The shape cannot be tuned (its default config or a user config fails,
   * or nothing worked): data for the entry, not a fault of the run. */
  if (rc == HELION_ERR_INVALID || rc == HELION_ERR_NO_CONFIG) {
    free(e.error);
    e.error = helion_strdup(le.msg);
    rc = e.error ? HELION_OK
                 : helion_err_set(&le, HELION_ERR_NOMEM, "out of memory");
  }
  e.wall_seconds = helion_now() - t0;
  helion_search_destroy(s);
  helion_llm_context_cleanup(&llm_text);
  helion_space_destroy(own_space);
  free(user);
  free(def);
  if (rc) {
    if (err)
      *err = le;
    helion_tune_entry_cleanup(&e);
    return rc;
  }
  helion_tune_entry_cleanup(out);
  *out = e;
  return HELION_OK;
}

/* Adds `v` under `key`, null when not finite (JSON has no infinity). */
static bool add_time(cJSON *obj, const char *key, double v) {
  return isfinite(v) ? cJSON_AddNumberToObject(obj, key, v) != NULL
                     : cJSON_AddNullToObject(obj, key) != NULL;
}

/* Adds a config text as a parsed object, or null. */
static helion_status add_config(cJSON *obj, const char *key, const char *json,
                                helion_err_t *err) {
  cJSON *v = NULL;
  if (!json) {
    v = cJSON_CreateNull();
  } else {
    helion_status rc = helion_json_parse(json, strlen(json), key, &v, err);
    if (rc)
      return rc;
  }
  if (!v || !cJSON_AddItemToObject(obj, key, v)) {
    cJSON_Delete(v);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  return HELION_OK;
}

helion_status helion_tune_entry_to_json(const helion_tune_entry_t *e,
                                        cJSON **out, helion_err_t *err) {
  helion_status rc = HELION_OK;
  cJSON *o = cJSON_CreateObject();
  cJSON *shape = o ? cJSON_AddObjectToObject(o, "shape") : NULL;
  cJSON *fails = o ? cJSON_AddObjectToObject(o, "failures") : NULL;
  cJSON *dev = helion_device_facts_to_json(&e->device);
  cJSON *opts =
      e->options ? cJSON_Duplicate(e->options, 1) : cJSON_CreateNull();
  if (!shape || !fails || !dev || !opts)
    goto nomem;
  if (!cJSON_AddItemToObject(o, "device", dev))
    goto nomem;
  dev = NULL;
  if (!cJSON_AddItemToObject(o, "options", opts))
    goto nomem;
  opts = NULL;
  for (size_t k = 0; k < e->nkeys; k++)
    if (!cJSON_AddNumberToObject(shape, e->shape_keys[k], (double)e->shape[k]))
      goto nomem;
  static const helion_result_kind kinds[] = {
      HELION_RESULT_COMPILE, HELION_RESULT_RUNTIME, HELION_RESULT_ACCURACY,
      HELION_RESULT_TIMEOUT};
  for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
    if (!cJSON_AddNumberToObject(fails, helion_result_kind_name(kinds[k]),
                                 (double)e->by_kind[kinds[k]]))
      goto nomem;
  if ((rc = add_config(o, "best_config", e->best_config, err)) ||
      (rc = add_config(o, "best_config_minimized", e->best_config_minimized,
                       err)))
    goto out;
  if (!add_time(o, "best_ms", e->best_ms) ||
      !add_time(o, "default_ms", e->default_ms) ||
      !cJSON_AddBoolToObject(o, "side_by_side", e->side_by_side) ||
      !(e->algorithm ? cJSON_AddStringToObject(o, "algorithm", e->algorithm)
                     : cJSON_AddNullToObject(o, "algorithm")) ||
      !cJSON_AddStringToObject(o, "effort", helion_effort_name(e->effort)) ||
      !cJSON_AddNumberToObject(o, "seed", (double)e->seed) ||
      !cJSON_AddNumberToObject(o, "configs_tested",
                               (double)e->configs_tested) ||
      !add_time(o, "wall_seconds", e->wall_seconds) ||
      !add_time(o, "backend_seconds", e->backend_seconds) ||
      !cJSON_AddStringToObject(o, "source_hash", e->source_hash) ||
      !cJSON_AddStringToObject(o, "space_fingerprint", e->space_fingerprint) ||
      !cJSON_AddStringToObject(o, "tool_version", e->tool_version) ||
      (e->error && !cJSON_AddStringToObject(o, "error", e->error)) ||
      (e->interrupted &&
       !cJSON_AddStringToObject(o, "interrupted",
                                helion_interrupt_name(e->interrupted))))
    goto nomem;
  *out = o;
  return HELION_OK;
nomem:
  rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
out:
  cJSON_Delete(dev);
  cJSON_Delete(opts);
  cJSON_Delete(o);
  return rc;
}
