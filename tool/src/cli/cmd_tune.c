/*
 * cmd_tune.c: `helion-tune tune SPEC`: parses the arguments, starts the GPU
 * backend (backend_cuda.h) and prints, per shape, what helion_tune_shape()
 * (results/tune.h) returns: Helion-style log lines on stderr and, with
 * --json, one JSON object on stdout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_cuda.h"
#include "backend/device_facts.h"
#include "cli/cli.h"
#include "results/cache.h"
#include "results/tune.h"
#include "util/interrupt.h"
#include "util/json.h"

#define PROG "helion-tune tune"
#define TUNE_MAX_CONFIGS 64

/* The help text is kept as it prints, one source line per output line. */
/* clang-format off */
static void usage(FILE *f) {
  fprintf(f, "usage: " PROG " SPEC [options]\n\n"
  "Searches the configuration space of the kernel in SPEC on the GPU for each\n"
  "shape: every config is compiled with NVRTC in a pool of processes and timed in\n"
  "an isolated benchmark worker (a crashing or hanging config costs that config\n"
  "only), checked against the baseline (the default config or the spec's\n"
  "reference kernel), and the fastest correct config wins.\n\nOptions:\n"
  "  --shape K=V,...       tune this shape only (default: every shape of the spec)\n"
  "  --algorithm NAME      search algorithm (default $HELION_AUTOTUNER, else %s):\n",
  HELION_SEARCH_DEFAULT_ALGORITHM);
  helion_cli_print_algorithms(f);
  fputs(
  "  --effort LEVEL        none, quick or full (default $HELION_AUTOTUNE_EFFORT, else\n"
  "                        full); none measures the default config only\n"
  "  --seed S              seed of the search and of the input data (default\n"
  "                        $HELION_AUTOTUNE_RANDOM_SEED, else 0)\n"
  "  --budget-seconds S    stop each shape's search after S wall seconds with the\n"
  "                        best so far (default $HELION_AUTOTUNE_BUDGET_SECONDS)\n"
  "  --max-evals N         stop after N distinct configs measured per shape\n"
  "  --device N            CUDA device ordinal (default 0)\n"
  "  --jobs N              concurrent NVRTC compile processes (default\n"
  "                        $HELION_AUTOTUNE_PRECOMPILE_JOBS, else the number of CPUs)\n"
  "  --config JSON         a configuration to start from (pinned as a finalist);\n"
  "                        with --algorithm FiniteSearch, the only ones timed;\n"
  "                        repeatable (keys missing take the default)\n"
  "  --set KEY=VALUE       set a search option, like a keyword argument of\n"
  "                        Helion's search classes (copies=3, max_generations=5,\n"
  "                        ...); repeatable\n"
  "  --options-json FILE   replay resolved search options: a JSON object as --json\n"
  "                        prints under \"options\" ({algorithm, effort, seed,\n"
  "                        options: {...}}); flags override it, it overrides the\n"
  "                        environment\n"
  "  --trace FILE          write every evaluation as one JSON line to FILE (for\n"
  "                        `helion-tune report`); with several shapes, shape i\n"
  "                        writes FILE.<i>\n"
  "  --json                print one JSON object to stdout: {spec, device, shapes:\n"
  "                        [entry]}, an entry per shape with shape, best_config,\n"
  "                        best_config_minimized, best_ms, default_ms (timed side by\n"
  "                        side at the end), side_by_side, speedup, algorithm,\n"
  "                        effort, seed, options (resolved), configs_tested,\n"
  "                        failures: {compile, runtime, accuracy, timeout}, seconds,\n"
  "                        wall_seconds, backend_seconds, configs_per_second,\n"
  "                        gpu_idle_fraction, device: {name, compute_capability,\n"
  "                        sm_count, driver_version, nvrtc_version}, source_hash,\n"
  "                        space_fingerprint, tool_version, error (if any)\n"
  "  --quiet               only warnings and errors on stderr\n"
  "  -h, --help            this help\n\n"
  "Environment: HELION_AUTOTUNE_COMPILE_TIMEOUT (seconds per compile, default 60;\n"
  "adaptive after the initial population unless HELION_AUTOTUNE_ADAPTIVE_TIMEOUT=0),\n"
  "HELION_AUTOTUNE_BENCHMARK_TIMEOUT (cap of the benchmark watchdog per config,\n"
  "default 30), HELION_AUTOTUNE_ACCURACY_CHECK=0 (skip the output check),\n"
  "HELION_AUTOTUNE_REBENCH_PRECISION (rebenchmarks stop once every median is known\n"
  "to this relative error, default 0.005; 0 runs Helion's fixed rounds),\n"
  "HELION_AUTOTUNE_SLOW_CUTOFF (a config over this factor times the best so far\n"
  "keeps its 5-launch estimate and skips the 50 ms of timing while other compiled\n"
  "configs wait; default 2, 0 off),\n"
  "HELION_BENCH_WORKER (the benchmark worker executable, run as `EXE __bench-worker FD`;\n"
  "default helion-tune itself; tests use a CPU test double),\n"
  "HELION_AUTOTUNE_LOG_LEVEL (DEBUG adds per-batch timings: compile waits, worker\n"
  "time, rebenchmarks; WARNING is --quiet), and the search variables of\n"
  "`helion-tune simulate --help`.\n\n"
  "Ctrl-C (SIGINT) or SIGTERM stops the search at the next safe point (after the\n"
  "batch being measured): the best config so far is printed (and with --json\n"
  "written, marked \"interrupted\"), the trace is complete up to there, the\n"
  "compile and benchmark processes are stopped; shapes not started are skipped.\n"
  "A second Ctrl-C quits at once.\n"
  "Exit status: 0 success, 1 failure (no CUDA driver or device, a spec error, a\n"
  "shape with no working config, a trace that cannot be written), 2 usage error\n"
  "(also a --trace that names an input), 130 interrupted by SIGINT, 143 by\n"
  "SIGTERM.\n", f);
}
/* clang-format on */

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

typedef struct tune_args {
  const char *spec_path, *shape, *trace;
  const char *configs[TUNE_MAX_CONFIGS]; /* --config JSON texts */
  size_t nconfigs;
  helion_cli_search_t search;
  uint64_t device, jobs;
  bool json, quiet;
} tune_args;

/* Parses argv into `a`. Returns -1 after --help, else an exit code (0 = go
 * on). */
static int parse_args(int argc, char **argv, tune_args *a) {
  static const char *const valued[] = {HELION_CLI_SEARCH_FLAGS,
                                       "--shape",
                                       "--device",
                                       "--jobs",
                                       "--trace",
                                       "--config",
                                       NULL};
  static const char *const boolean[] = {"--json", "--quiet", NULL};
  static const helion_cli_flags_t flags = {valued, boolean};
  for (int i = 1; i < argc;) {
    const char *flag, *val;
    if (helion_cli_is_help(argv[i])) {
      usage(stdout);
      return -1;
    }
    int rc = helion_cli_next(PROG, argc, argv, &i, &flags, &flag, &val);
    if (rc)
      return rc;
    if (flag) {
      rc = helion_cli_search_flag(PROG, flag, val, &a->search);
      if (rc != HELION_CLI_NOT_SEARCH_FLAG) {
        if (rc)
          return rc;
        continue;
      }
    }
    if (!flag) {
      if (a->spec_path)
        return usage_error("unexpected argument '%s' (one SPEC only)", val);
      a->spec_path = val;
    } else if (strcmp(flag, "--shape") == 0) {
      if (!*val)
        return usage_error("--shape: empty shape; expected K=V,... e.g. "
                           "N=1048576");
      a->shape = val;
    } else if (strcmp(flag, "--device") == 0) {
      if (!helion_cli_parse_u64(val, &a->device) || a->device > 1024)
        return usage_error("--device: '%s' is not a device ordinal (0, 1, "
                           "...)",
                           val);
    } else if (strcmp(flag, "--jobs") == 0) {
      if (!helion_cli_parse_u64(val, &a->jobs) || a->jobs == 0 ||
          a->jobs > 4096)
        return usage_error("--jobs: '%s' is not an integer in [1, 4096]", val);
    } else if (strcmp(flag, "--trace") == 0) {
      if (!*val)
        return usage_error("--trace: empty file name");
      a->trace = val;
    } else if (strcmp(flag, "--config") == 0) {
      if (a->nconfigs == TUNE_MAX_CONFIGS)
        return usage_error("--config: at most %d configurations",
                           TUNE_MAX_CONFIGS);
      a->configs[a->nconfigs++] = val;
    } else if (strcmp(flag, "--json") == 0) {
      a->json = true;
    } else {
      a->quiet = true;
    }
  }
  return a->spec_path ? 0 : usage_error("missing SPEC");
}

/* Shape i's trace file: FILE, or FILE.<i> with several shapes. */
static void trace_name_at(const char *trace, size_t nshapes, size_t i,
                          char *out, size_t cap) {
  snprintf(out, cap, nshapes == 1 ? "%s" : "%s.%zu", trace, i);
}

/* Every trace the tune will write must be writable and none of its inputs:
 * refused before any compile or GPU work. Returns an exit code. */
static int check_traces(const tune_args *a, const helion_spec_t *spec,
                        size_t nshapes, char *name, size_t cap) {
  static const char *const names[] = {"spec", "kernel source",
                                      "--options-json file"};
  const char *inputs[] = {a->spec_path, spec->source, a->search.options_json};
  helion_err_t err = {{0}};
  for (size_t i = 0; a->trace && i < nshapes; i++) {
    trace_name_at(a->trace, nshapes, i, name, cap);
    if (helion_output_check("--trace", name, inputs, names, 3, &err)) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      return HELION_EXIT_USAGE;
    }
    if (helion_path_check_writable("--trace", name, &err)) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      return HELION_EXIT_FAILURE;
    }
  }
  return HELION_EXIT_OK;
}

/* The CUDA backend's part of a shape's tune (tune.h hooks). */
typedef struct cuda_shape {
  helion_backend_cuda_t *cb;
  helion_cuda_stats_t stats;
} cuda_shape;

static helion_status cuda_prepare(void *ud, const helion_space_t *space,
                                  const int64_t *shape, uint64_t seed,
                                  double *out_baseline_ms, helion_err_t *err) {
  return helion_backend_cuda_set_shape(((cuda_shape *)ud)->cb, space, shape,
                                       seed, out_baseline_ms, err);
}

static void cuda_searched(void *ud) {
  cuda_shape *c = ud;
  helion_backend_cuda_stats(c->cb, &c->stats);
}

/* One shape's line of --json: the entry plus what the CLI derives. */
static helion_status shape_json(const helion_tune_entry_t *e,
                                const helion_cuda_stats_t *st, cJSON *shapes,
                                helion_err_t *err) {
  cJSON *o = NULL;
  helion_status rc = helion_tune_entry_to_json(e, &o, err);
  if (rc)
    return rc;
  double sec = e->backend_seconds, speedup = e->default_ms / e->best_ms;
  cJSON_AddItemToArray(shapes, o);
  if (!(isfinite(speedup) ? cJSON_AddNumberToObject(o, "speedup", speedup)
                          : cJSON_AddNullToObject(o, "speedup")) ||
      !cJSON_AddNumberToObject(o, "seconds", sec) ||
      !cJSON_AddNumberToObject(o, "configs_per_second",
                               sec > 0 ? (double)e->configs_tested / sec : 0) ||
      !cJSON_AddNumberToObject(o, "gpu_idle_fraction", st->gpu_idle_fraction))
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  return HELION_OK;
}

/* ------------------------------------------------ the best-config cache */

/* What the cache knows of one run: the keys' common parts, and per shape a
 * hit (looked up before the backend starts when the driver can name the
 * device without it, else after) or not. */
typedef struct tune_cache {
  helion_cache_t c;
  bool on; /* off with --config: the user asks for those configs measured */
  bool have_dev;
  helion_device_facts_t dev; /* the key's device facts */
  char src[65];
  helion_tune_entry_t *hits; /* nhits (the shapes); a hit has best_cells */
  size_t nhits;
} tune_cache;

/* Shape `shape`'s key, with its space built into *out_space (the caller
 * destroys it) for the fingerprint; `fp` holds the fingerprint. */
static helion_status cache_key(const tune_cache *tc, const helion_spec_t *spec,
                               const int64_t *shape, char fp[65],
                               helion_space_t **out_space,
                               helion_cache_key_t *k, helion_err_t *err) {
  helion_status rc =
      helion_spec_space(spec, shape, &tc->dev.props, out_space, err);
  if (rc)
    return rc;
  helion_space_fingerprint(*out_space, fp);
  helion_cache_key_t key = {spec->name,
                            fp,
                            tc->src,
                            (const char *const *)spec->keys,
                            shape,
                            spec->nkeys,
                            &tc->dev,
                            NULL,
                            (*out_space)->ncells};
  *k = key;
  return HELION_OK;
}

/* Looks every shape up; true when all of them hit. */
static helion_status cache_lookup(tune_cache *tc, const helion_spec_t *spec,
                                  const int64_t *shapes, size_t nshapes,
                                  bool *out_all, helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t nhit = 0;
  for (size_t i = 0; i < nshapes && tc->on && !rc; i++) {
    char fp[65];
    helion_space_t *space = NULL;
    helion_cache_key_t k;
    bool hit = false;
    if (!(rc = cache_key(tc, spec, shapes + i * spec->nkeys, fp, &space, &k,
                         err)) &&
        !(rc = helion_cache_get(&tc->c, &k, &tc->hits[i], &hit, err)))
      nhit += hit;
    helion_space_destroy(space);
  }
  *out_all = tc->on && nhit == nshapes;
  return rc;
}

/* Prints a hit the way a tuned shape prints, marked "cached". */
static helion_status cache_print_hit(const tune_cache *tc,
                                     const helion_spec_t *spec,
                                     const helion_tune_entry_t *e,
                                     cJSON *shapes, helion_err_t *err) {
  helion_cuda_stats_t none = {0};
  HELION_LOG(HELION_LOG_INFO,
             "Found cached config for %s, skipping autotuning.", spec->name);
  HELION_LOG(HELION_LOG_INFO,
             "Cache directory: %s. To re-tune and update the cache, set "
             "HELION_FORCE_AUTOTUNE=1.",
             tc->c.dir);
  helion_tune_entry_log(e, " (cached)");
  helion_status rc = shape_json(e, &none, shapes, err);
  if (!rc &&
      !cJSON_AddTrueToObject(
          cJSON_GetArrayItem(shapes, cJSON_GetArraySize(shapes) - 1), "cached"))
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  return rc;
}

int helion_cmd_tune(int argc, char **argv) {
  tune_args a;
  memset(&a, 0, sizeof(a));
  helion_search_opts_t o;
  helion_err_t err = {{0}};
  int level, prc = parse_args(argc, argv, &a);
  if (prc)
    return prc < 0 ? HELION_EXIT_OK : prc;
  if ((prc = helion_cli_search_opts(PROG, &a.search, &o)))
    return prc;
  if (helion_log_level_from_env(HELION_LOG_INFO, &level, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_USAGE;
  }

  int exit_code = HELION_EXIT_FAILURE;
  helion_spec_t *spec = NULL;
  helion_backend_cuda_t *cb = NULL;
  int64_t *one_shape = NULL;
  char *trace_name = a.trace ? malloc(strlen(a.trace) + 32) : NULL;
  cJSON *root = cJSON_CreateObject(), *shapes = NULL;
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
  helion_tune_entry_t e;
  helion_tune_entry_init(&e);
  tune_cache tc;
  memset(&tc, 0, sizeof(tc));
  helion_space_t *space = NULL;
  int64_t *seeds = NULL;
  int saved_level = helion_log_level_current;
  helion_log_level_current =
      a.quiet && level > HELION_LOG_WARN ? HELION_LOG_WARN : level;
  helion_log_start();
  helion_interrupt_install();

  helion_backend_cuda_opts_t co;
  if (helion_backend_cuda_opts_init(&co, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    exit_code = HELION_EXIT_USAGE;
    goto out;
  }
  co.device = (int)a.device;
  if (a.jobs)
    co.pool.jobs = (size_t)a.jobs;
  exit_code = helion_cli_load_spec("tune", a.spec_path, NULL, a.shape, &spec,
                                   NULL, &one_shape);
  if (exit_code != HELION_EXIT_OK)
    goto out;
  exit_code = HELION_EXIT_USAGE;
  size_t nshapes = one_shape ? 1 : spec->nshapes;
  /* A typo in a --config costs no device start-up. */
  if (helion_tune_check_configs(spec, a.configs, a.nconfigs, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  exit_code = HELION_EXIT_FAILURE;
  if (!root || (a.trace && !trace_name) ||
      !(shapes = cJSON_AddArrayToObject(root, "shapes"))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  if ((exit_code = check_traces(&a, spec, nshapes, trace_name,
                                a.trace ? strlen(a.trace) + 32 : 0)))
    goto out;
  exit_code = HELION_EXIT_FAILURE;

  /* The cache, keyed by the driver's device facts when it names the device
   * without a context: a hit for every shape starts no GPU work. Without
   * them, the benchmark worker's facts key the lookups once it runs. */
  const int64_t *all_shapes = one_shape ? one_shape : spec->shapes;
  bool all_hit = false;
  if (helion_cache_init(&tc.c, NULL, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    exit_code = HELION_EXIT_USAGE;
    goto out;
  }
  tc.on = a.nconfigs == 0;
  if (!(tc.hits = calloc(nshapes, sizeof(*tc.hits)))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  tc.nhits = nshapes;
  for (size_t i = 0; i < nshapes; i++)
    helion_tune_entry_init(&tc.hits[i]);
  tc.have_dev = tc.on && !helion_device_facts_query(co.device, &tc.dev, NULL);
  if ((tc.on && helion_tune_source_hash(spec, tc.src, &err)) ||
      (tc.have_dev &&
       cache_lookup(&tc, spec, all_shapes, nshapes, &all_hit, &err))) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  helion_device_facts_t dev = tc.dev;
  if (!all_hit) {
    HELION_LOG(HELION_LOG_INFO, "Starting autotuning process, this may take "
                                "a while...");
    if (helion_backend_cuda_create(spec, &co, &cb, &err) ||
        helion_device_facts_from_gpu(helion_backend_cuda_device(cb), &dev,
                                     &err) ||
        (tc.on && !tc.have_dev && (tc.dev = dev, tc.have_dev = true) &&
         cache_lookup(&tc, spec, all_shapes, nshapes, &all_hit, &err))) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      goto out;
    }
  }
  bool any_failed = false;
  for (size_t i = 0; i < nshapes && !helion_interrupted(); i++) {
    if (tc.hits[i].best_cells) {
      if (cache_print_hit(&tc, spec, &tc.hits[i], shapes, &err)) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        goto out;
      }
      continue;
    }
    cuda_shape cs = {cb, {0}};
    helion_tune_hooks_t hooks = {&cs, cuda_prepare, cuda_searched};
    helion_tune_input_t in = {
        spec,       one_shape ? one_shape : spec->shapes + i * spec->nkeys,
        NULL,       helion_backend_cuda_backend(cb),
        &o,         &dev,
        a.configs,  a.nconfigs,
        trace_name, &hooks};
    if (a.trace)
      trace_name_at(a.trace, nshapes, i, trace_name, strlen(a.trace) + 32);
    helion_buf_reset(&text);
    for (size_t k = 0; k < spec->nkeys; k++)
      helion_buf_appendf(&text, "%s%s=%lld", k ? "," : "", spec->keys[k],
                         (long long)in.shape[k]);
    HELION_LOG(HELION_LOG_INFO, "Tuning %s for %s on %s (%s)", spec->name,
               helion_buf_str(&text), dev.props.name,
               helion_backend_cuda_arch(cb));
    /* A miss: FROM_BEST_AVAILABLE seeds from the cache, and the winner
     * stored after the tune. */
    char fp[65];
    helion_cache_key_t key;
    size_t nseeds = 0;
    helion_space_destroy(space);
    free(seeds);
    space = NULL;
    seeds = NULL;
    if (tc.on &&
        (cache_key(&tc, spec, in.shape, fp, &space, &key, &err) ||
         helion_cache_best_available(&tc.c, tc.dev.props.name, fp,
                                     space->ncells, &seeds, &nseeds, &err))) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      goto out;
    }
    o.best_available = seeds;
    o.nbest_available = nseeds;
    in.space = space;
    if (helion_tune_shape(&in, &e, &err) ||
        shape_json(&e, &cs.stats, shapes, &err)) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      goto out;
    }
    if (tc.on && helion_cache_put(&tc.c, &key, &e, &err))
      HELION_LOG(HELION_LOG_WARN, "Could not write the cache: %s", err.msg);
    char idle[64];
    snprintf(idle, sizeof(idle), ", GPU idle %.0f%% waiting for compiles",
             100.0 * cs.stats.gpu_idle_fraction);
    helion_tune_entry_log(&e, idle);
    any_failed |= e.error != NULL;
  }
  if (helion_interrupted())
    HELION_LOG(HELION_LOG_WARN,
               "Interrupted by %s: %zu of %zu shapes tuned or stopped early; "
               "exiting",
               helion_interrupt_name(helion_interrupted()),
               (size_t)cJSON_GetArraySize(shapes), nshapes);
  if (a.json) {
    helion_buf_reset(&text);
    if (!cJSON_AddStringToObject(root, "spec", spec->name) ||
        !cJSON_AddStringToObject(root, "device", dev.props.name) ||
        helion_json_write(root, 0, &text, &err) ||
        helion_buf_putc(&text, '\n')) {
      fprintf(stderr, PROG ": cannot print the result: %s\n", err.msg);
      goto out;
    }
    fputs(helion_buf_str(&text), stdout);
    fflush(stdout);
  }
  exit_code = any_failed ? HELION_EXIT_FAILURE : HELION_EXIT_OK;
out:
  /* The backend's destroy below stops the compile pool and the worker on
   * every path, the interrupted one included. */
  if (helion_interrupted())
    exit_code = helion_interrupt_exit_code(helion_interrupted());
  helion_log_level_current = saved_level;
  helion_tune_entry_cleanup(&e);
  for (size_t i = 0; i < tc.nhits; i++)
    helion_tune_entry_cleanup(&tc.hits[i]);
  free(tc.hits);
  helion_cache_cleanup(&tc.c);
  helion_space_destroy(space);
  free(seeds);
  cJSON_Delete(root);
  helion_buf_cleanup(&text);
  free(trace_name);
  free(one_shape);
  helion_backend_cuda_destroy(cb);
  helion_spec_destroy(spec);
  helion_interrupt_restore();
  return exit_code;
}
