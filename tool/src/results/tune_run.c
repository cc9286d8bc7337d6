/* tune_run.c: a tune of a spec's shapes with the cache, the CUDA backend and
 * the results file (tune_run.h). */
#include "results/tune_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/cache.h"
#include "results/results_file.h"
#include "util/interrupt.h"

/* What one run keeps: the cache's common key parts and, per shape, a hit
 * (looked up before the backend starts when the driver names the device
 * without a context, else once the worker has) or not. */
typedef struct run {
  const helion_tune_run_opts_t *o;
  helion_cache_t cache;
  bool cache_on; /* off with user configs: the user asks for them measured */
  bool have_dev;
  helion_device_facts_t dev; /* the keys' device facts */
  char src[65];
  helion_tune_entry_t *hits; /* one per shape; a hit has best_cells */
  /* Per shape, its space on the keys' device once a key needed it: built
   * once for the lookup and the search alike. */
  helion_space_t **spaces;
} run_t;

void helion_tune_trace_name(const char *trace, size_t nshapes, size_t i,
                            char *out, size_t cap) {
  snprintf(out, cap, nshapes == 1 ? "%s" : "%s.%zu", trace, i);
}

helion_status helion_tune_run_check(const helion_tune_run_opts_t *o,
                                    const char *spec_path,
                                    const char *options_json,
                                    helion_err_t *err) {
  static const char *const names[] = {"spec", "kernel source",
                                      "--options-json file"};
  const char *inputs[] = {spec_path, o->spec->source, options_json};
  helion_status rc = HELION_OK;
  size_t cap = o->trace ? strlen(o->trace) + 32 : 1;
  char *name = malloc(cap);
  if (!name)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t i = 0; o->trace && i < o->nshapes && !rc; i++) {
    helion_tune_trace_name(o->trace, o->nshapes, i, name, cap);
    if (!(rc = helion_output_check("--trace", name, inputs, names, 3, err)))
      rc = helion_path_check_writable("--trace", name, err);
  }
  free(name);
  if (rc || !o->results_path)
    return rc;
  helion_results_t r;
  helion_results_init(&r);
  const char *flag = o->results_flag ? o->results_flag : "--tuned";
  if (!(rc = helion_output_check(flag, o->results_path, inputs, names, 3,
                                 err)) &&
      !(rc = helion_results_load(o->results_path, &r, err)))
    rc = helion_path_check_writable(flag, o->results_path, err);
  helion_results_cleanup(&r);
  return rc;
}

static const int64_t *shape_at(const run_t *r, size_t i) {
  return r->o->shapes + i * r->o->spec->nkeys;
}

/* Shape i's cache key, its space built into r->spaces[i] first if it is
 * not there yet; `fp` holds the space's fingerprint. */
static helion_status cache_key(run_t *r, size_t i, char fp[65],
                               helion_cache_key_t *k, helion_err_t *err) {
  const helion_spec_t *spec = r->o->spec;
  const int64_t *shape = shape_at(r, i);
  helion_status rc = HELION_OK;
  if (!r->spaces[i] &&
      (rc = helion_spec_space(spec, shape, &r->dev.props, &r->spaces[i], err)))
    return rc;
  helion_space_fingerprint(r->spaces[i], fp);
  helion_cache_key_t key = {spec->name,
                            fp,
                            r->src,
                            (const char *const *)spec->keys,
                            shape,
                            spec->nkeys,
                            &r->dev,
                            NULL,
                            r->spaces[i]->ncells};
  *k = key;
  return HELION_OK;
}

/* Looks every shape up; *out_all: every one hit. */
static helion_status cache_lookup(run_t *r, bool *out_all, helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t nhit = 0;
  for (size_t i = 0; i < r->o->nshapes && r->cache_on && !rc; i++) {
    char fp[65];
    helion_cache_key_t k;
    bool hit = false;
    if (!(rc = cache_key(r, i, fp, &k, err)) &&
        !(rc = helion_cache_get(&r->cache, &k, &r->hits[i], &hit, err)))
      nhit += hit;
  }
  *out_all = r->cache_on && nhit == r->o->nshapes;
  return rc;
}

/* Records a finished shape in the results file right away, so an interrupt
 * later keeps it. */
static helion_status record(const char *path, const helion_tune_entry_t *e,
                            const char *shape, helion_err_t *err) {
  helion_results_outcome oc;
  char why[256];
  if (!path)
    return HELION_OK;
  helion_status rc = helion_results_record(path, e, &oc, why, sizeof(why), err);
  if (rc)
    return rc;
  if (oc == HELION_RESULTS_SKIPPED)
    HELION_LOG(HELION_LOG_WARN,
               "%s not recorded in %s: %s; an entry there stays as it was",
               shape, path, why);
  else
    HELION_LOG(HELION_LOG_INFO, "Recorded %s in %s (%s)", shape, path,
               oc == HELION_RESULTS_ADDED ? "new entry" : "entry replaced");
  return HELION_OK;
}

/* The CUDA backend's part of a shape's tune (tune.h hooks). */
typedef struct cuda_shape {
  helion_backend_cuda_t *cb;
  helion_cuda_stats_t stats;
} cuda_shape;

static helion_status cuda_prepare(void *ud, const helion_space_t *space,
                                  const int64_t *shape, uint64_t seed,
                                  helion_err_t *err) {
  return helion_backend_cuda_set_shape(((cuda_shape *)ud)->cb, space, shape,
                                       seed, err);
}

static helion_status cuda_baseline(void *ud, double *out_ms,
                                   helion_err_t *err) {
  return helion_backend_cuda_baseline(((cuda_shape *)ud)->cb, out_ms, err);
}

helion_status helion_tune_run(const helion_tune_run_opts_t *o,
                              helion_tune_run_shape_fn on_shape, void *ud,
                              helion_device_facts_t *out_device,
                              helion_err_t *err) {
  const helion_spec_t *spec = o->spec;
  run_t r;
  memset(&r, 0, sizeof(r));
  r.o = o;
  helion_backend_cuda_t *cb = NULL;
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  int64_t *seeds = NULL;
  size_t name_cap = o->trace ? strlen(o->trace) + 32 : 0, done = 0;
  char *trace_name = o->trace ? malloc(name_cap) : NULL;
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
  helion_search_opts_t so = *o->search;
  bool all_hit = false;
  helion_status rc = HELION_OK;

  r.hits = calloc(o->nshapes ? o->nshapes : 1, sizeof(*r.hits));
  r.spaces = calloc(o->nshapes ? o->nshapes : 1, sizeof(*r.spaces));
  if (!r.hits || !r.spaces || (o->trace && !trace_name)) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < o->nshapes; i++)
    helion_tune_entry_init(&r.hits[i]);
  if ((rc = helion_cache_init(&r.cache, NULL, err)))
    goto out;
  /* The cache is keyed by the driver's device facts when it names the
   * device without a context: a hit for every shape starts no GPU work. */
  r.cache_on = o->nconfigs == 0;
  r.have_dev =
      r.cache_on && !helion_device_facts_query(o->cuda->device, &r.dev, NULL);
  if ((r.cache_on && (rc = helion_tune_source_hash(spec, r.src, err))) ||
      (r.have_dev && (rc = cache_lookup(&r, &all_hit, err))))
    goto out;
  helion_device_facts_t dev = r.dev;
  if (!all_hit) {
    HELION_LOG(HELION_LOG_INFO, "Starting autotuning process, this may take "
                                "a while...");
    if ((rc = helion_backend_cuda_create(spec, o->cuda, &cb, err)) ||
        (rc = helion_device_facts_from_gpu(helion_backend_cuda_device(cb), &dev,
                                           err)))
      goto out;
    /* Without the driver's facts, the worker's key the lookups. */
    if (r.cache_on && !r.have_dev) {
      r.dev = dev;
      r.have_dev = true;
      if ((rc = cache_lookup(&r, &all_hit, err)))
        goto out;
    }
  }
  for (size_t i = 0; i < o->nshapes && !helion_interrupted(); i++, done++) {
    helion_buf_reset(&text);
    helion_spec_shape_str(spec, shape_at(&r, i), &text);
    if (r.hits[i].best_cells) {
      HELION_LOG(HELION_LOG_INFO,
                 "Found cached config for %s, skipping autotuning.",
                 spec->name);
      HELION_LOG(HELION_LOG_INFO,
                 "Cache directory: %s. To re-tune and update the cache, set "
                 "HELION_FORCE_AUTOTUNE=1.",
                 r.cache.dir);
      helion_tune_entry_log(&r.hits[i], " (cached)");
      /* The results file records what the tune answered, searched or
       * cached, so a tune leaves the same file either way. */
      if ((rc = record(o->results_path, &r.hits[i], helion_buf_str(&text),
                       err)) ||
          (rc = on_shape(ud, &r.hits[i], true, NULL, err)))
        goto out;
      continue;
    }
    cuda_shape cs = {cb, {0}};
    helion_tune_hooks_t hooks = {&cs, cuda_prepare, cuda_baseline};
    if (o->trace)
      helion_tune_trace_name(o->trace, o->nshapes, i, trace_name, name_cap);
    HELION_LOG(HELION_LOG_INFO, "Tuning %s for %s on %s (%s)", spec->name,
               helion_buf_str(&text), dev.props.name,
               helion_backend_cuda_arch(cb));
    /* A miss: FROM_BEST_AVAILABLE seeds from the cache, and the winner
     * stored after the tune. */
    char fp[65];
    helion_cache_key_t key;
    size_t nseeds = 0;
    free(seeds);
    seeds = NULL;
    if (r.cache_on && ((rc = cache_key(&r, i, fp, &key, err)) ||
                       (rc = helion_cache_best_available(
                            &r.cache, r.dev.props.name, fp, r.spaces[i]->ncells,
                            &seeds, &nseeds, err))))
      goto out;
    so.best_available = seeds;
    so.nbest_available = nseeds;
    helion_tune_input_t in = {spec,        shape_at(&r, i),
                              r.spaces[i], helion_backend_cuda_backend(cb),
                              &so,         &dev,
                              o->configs,  o->nconfigs,
                              trace_name,  &hooks};
    if ((rc = helion_tune_shape(&in, &e, err)))
      goto out;
    /* After the final side-by-side timing: the shape's whole account. */
    helion_backend_cuda_stats(cb, &cs.stats);
    helion_err_t werr = {{0}};
    if (r.cache_on && helion_cache_put(&r.cache, &key, &e, &werr))
      HELION_LOG(HELION_LOG_WARN, "Could not write the cache: %s", werr.msg);
    char idle[128 + 24 * HELION_CUDA_MAX_DEVICES];
    /* With the compile processes' use beside it, the line tells a tune
     * bound by the compiler (use near 100%) from one bound by the GPU. */
    int at = snprintf(
        idle, sizeof(idle),
        ", GPU%s idle %.0f%% of the wall time, compile processes busy %.0f%%",
        cs.stats.ndevices > 1 ? "s" : "", 100.0 * cs.stats.gpu_idle_fraction,
        100.0 * cs.stats.compile_use);
    /* With several GPUs, how the configs spread over them. */
    for (size_t w = 0; cs.stats.ndevices > 1 && w < cs.stats.ndevices; w++)
      at += snprintf(idle + at, sizeof(idle) - (size_t)at, "%s GPU %d: %zu",
                     w ? "," : "; configs timed:", cs.stats.devices[w].ordinal,
                     cs.stats.devices[w].configs);
    helion_tune_entry_log(&e, idle);
    if ((rc = record(o->results_path, &e, helion_buf_str(&text), err)) ||
        (rc = on_shape(ud, &e, false, &cs.stats, err)))
      goto out;
  }
  if (helion_interrupted())
    HELION_LOG(HELION_LOG_WARN,
               "Interrupted by %s: %zu of %zu shapes tuned or stopped early; "
               "exiting",
               helion_interrupt_name(helion_interrupted()), done, o->nshapes);
  *out_device = dev;
out:
  /* The backend's destroy stops the compile pool and the worker on every
   * path, the interrupted one included. */
  helion_backend_cuda_destroy(cb);
  helion_tune_entry_cleanup(&e);
  for (size_t i = 0; r.hits && i < o->nshapes; i++)
    helion_tune_entry_cleanup(&r.hits[i]);
  for (size_t i = 0; r.spaces && i < o->nshapes; i++)
    helion_space_destroy(r.spaces[i]);
  free(r.hits);
  free(r.spaces);
  helion_cache_cleanup(&r.cache);
  free(seeds);
  free(trace_name);
  helion_buf_cleanup(&text);
  return rc;
}
