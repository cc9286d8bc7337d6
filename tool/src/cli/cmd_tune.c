/*
 * cmd_tune.c: `helion-tune tune SPEC`: searches each shape of a kernel spec
 * on the GPU (NVRTC compile pool + isolated benchmark worker, see
 * backend_cuda.h) and reports the winning configuration and its time per
 * shape, as Helion-style log lines on stderr and optionally one JSON object
 * on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_cuda.h"
#include "cli/cli.h"
#include "model/config.h"
#include "model/space.h"
#include "search/search.h"
#include "model/spec.h"
#include "util/util.h"

#define PROG "helion-tune tune"

static void usage(FILE *f) {
  fprintf(f,
          "usage: " PROG " SPEC [options]\n"
          "\n"
          "Searches the configuration space of the kernel in SPEC on the GPU "
          "for each\n"
          "shape: every config is compiled with NVRTC in a pool of processes "
          "and timed in\n"
          "an isolated benchmark worker (a crashing or hanging config costs "
          "that config\n"
          "only), checked against the baseline (the default config or the "
          "spec's\n"
          "reference kernel), and the fastest correct config wins.\n"
          "\n"
          "Options:\n"
          "  --shape K=V,...       tune this shape only (default: every shape "
          "of the spec)\n"
          "  --algorithm NAME      search algorithm (default "
          "$HELION_AUTOTUNER, else %s):\n",
          HELION_SEARCH_DEFAULT_ALGORITHM);
  helion_cli_print_algorithms(f);
  fprintf(
      f,
      "  --effort LEVEL        none, quick or full (default "
      "$HELION_AUTOTUNE_EFFORT, else\n"
      "                        full); none measures the default config "
      "only\n"
      "  --seed S              seed of the search and of the input data "
      "(default\n"
      "                        $HELION_AUTOTUNE_RANDOM_SEED, else 0)\n"
      "  --budget-seconds S    stop each shape's search after S wall seconds "
      "with the\n"
      "                        best so far (default "
      "$HELION_AUTOTUNE_BUDGET_SECONDS)\n"
      "  --max-evals N         stop after N distinct configs measured per "
      "shape\n"
      "  --device N            CUDA device ordinal (default 0)\n"
      "  --jobs N              concurrent NVRTC compile processes (default\n"
      "                        $HELION_AUTOTUNE_PRECOMPILE_JOBS, else the "
      "number of CPUs)\n"
      "  --config JSON         a configuration to start from (pinned as a "
      "finalist);\n"
      "                        with --algorithm FiniteSearch, the only ones "
      "timed;\n"
      "                        repeatable (keys missing take the default)\n"
      "  --set KEY=VALUE       set a search option, like a keyword argument "
      "of\n"
      "                        Helion's search classes (copies=3, "
      "max_generations=5,\n"
      "                        ...); repeatable\n"
      "  --trace FILE          write every evaluation as one JSON line to "
      "FILE (for\n"
      "                        `helion-tune report`); with several shapes, "
      "shape i\n"
      "                        writes FILE.<i>\n"
      "  --json                print one JSON object to stdout: {spec, "
      "device, shapes:\n"
      "                        [{shape, best_config, best_ms, default_ms "
      "(timed side\n"
      "                        by side at the end), speedup,\n"
      "                        configs_tested, failures: {compile, runtime, "
      "accuracy,\n"
      "                        timeout}, seconds, configs_per_second,\n"
      "                        gpu_idle_fraction}]}\n"
      "  --quiet               only warnings and errors on stderr\n"
      "  -h, --help            this help\n"
      "\n"
      "Environment: HELION_AUTOTUNE_COMPILE_TIMEOUT (seconds per compile, "
      "default 60;\n"
      "adaptive after the initial population unless "
      "HELION_AUTOTUNE_ADAPTIVE_TIMEOUT=0),\n"
      "HELION_AUTOTUNE_BENCHMARK_TIMEOUT (cap of the benchmark watchdog per "
      "config,\n"
      "default 30), HELION_AUTOTUNE_ACCURACY_CHECK=0 (skip the output "
      "check),\n"
      "HELION_AUTOTUNE_REBENCH_PRECISION (rebenchmarks stop once every "
      "median is known\n"
      "to this relative error, default 0.005; 0 runs Helion's fixed "
      "rounds),\n"
      "HELION_AUTOTUNE_SLOW_CUTOFF (a config over this factor times the "
      "best so far\n"
      "keeps its 5-launch estimate and skips the 50 ms of timing while "
      "other compiled\n"
      "configs wait; default 2, 0 off),\n"
      "HELION_BENCH_WORKER (the benchmark worker executable, run as `EXE "
      "__bench-worker FD`;\n"
      "default helion-tune itself; tests use a CPU test double),\n"
      "HELION_AUTOTUNE_LOG_LEVEL (DEBUG adds per-batch timings: compile "
      "waits, worker\n"
      "time, rebenchmarks; WARNING is --quiet), and the search variables of\n"
      "`helion-tune simulate --help`.\n"
      "Exit status: 0 success, 1 failure (no CUDA driver or device, a spec "
      "error, a\n"
      "shape with no working config), 2 usage error.\n");
}

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

static void json_num(helion_buf_t *b, double v) {
  if (isfinite(v))
    helion_buf_appendf(b, "%.9g", v);
  else
    helion_buf_puts(b, "null");
}

#define TUNE_MAX_CONFIGS 64

typedef struct tune_args {
  const char *spec_path;
  const char *configs[TUNE_MAX_CONFIGS]; /* --config JSON texts */
  size_t nconfigs;
  const char *shape;
  const char *trace;
  uint64_t max_evals;
  uint64_t device;
  uint64_t jobs;
  bool json, quiet;
} tune_args;

/* Parses argv into `a` and `o`. Returns -1 after --help, else an exit code
 * (0 = go on). */
static int parse_args(int argc, char **argv, tune_args *a,
                      helion_search_opts_t *o) {
  helion_err_t err = {{0}};
  uint64_t seed = 0;
  bool seed_set = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (helion_cli_is_help(arg)) {
      usage(stdout);
      return -1;
    }
    if (arg[0] != '-' || arg[1] == '\0') {
      if (a->spec_path)
        return usage_error("unexpected argument '%s' (one SPEC only)", arg);
      a->spec_path = arg;
      continue;
    }
    /* --flag value or --flag=value */
    char flag[64];
    const char *val = NULL;
    const char *eq = strchr(arg, '=');
    if (eq && (size_t)(eq - arg) < sizeof(flag)) {
      memcpy(flag, arg, (size_t)(eq - arg));
      flag[eq - arg] = '\0';
      val = eq + 1;
    } else {
      snprintf(flag, sizeof(flag), "%s", arg);
    }
    static const char *const valued[] = {
        "--shape",          "--algorithm", "--effort", "--seed",
        "--budget-seconds", "--max-evals", "--device", "--jobs",
        "--trace",          "--set",       "--config"};
    bool takes = false;
    for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
      takes = takes || strcmp(flag, valued[k]) == 0;
    bool boolean = strcmp(flag, "--json") == 0 || strcmp(flag, "--quiet") == 0;
    if (!takes && !boolean)
      return usage_error("unknown option '%s'", arg);
    if (boolean && val)
      return usage_error("%s takes no value", flag);
    if (takes && !val) {
      if (i + 1 >= argc)
        return usage_error("%s needs a value", flag);
      val = argv[++i];
    }
    if (strcmp(flag, "--shape") == 0) {
      if (!*val)
        return usage_error("--shape: empty shape; expected K=V,... e.g. "
                           "N=1048576");
      a->shape = val;
    } else if (strcmp(flag, "--algorithm") == 0) {
      if (!helion_search_algo_find(val, &err))
        return usage_error("--algorithm: %s", err.msg);
      o->algorithm = val;
    } else if (strcmp(flag, "--effort") == 0) {
      if (helion_effort_parse(val, "--effort", &o->effort, &err))
        return usage_error("%s", err.msg);
    } else if (strcmp(flag, "--seed") == 0) {
      if (!helion_cli_parse_u64(val, &seed))
        return usage_error("--seed: '%s' is not a non-negative integer", val);
      seed_set = true;
    } else if (strcmp(flag, "--budget-seconds") == 0) {
      if (!helion_cli_parse_pos_double(val, &o->budget_seconds))
        return usage_error("--budget-seconds: '%s' is not a positive number",
                           val);
    } else if (strcmp(flag, "--max-evals") == 0) {
      if (!helion_cli_parse_u64(val, &a->max_evals) || a->max_evals == 0)
        return usage_error("--max-evals: '%s' is not a positive integer", val);
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
    } else if (strcmp(flag, "--set") == 0) {
      if (helion_search_opts_set(o, val, &err))
        return usage_error("--set: %s", err.msg);
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
  if (!a->spec_path)
    return usage_error("missing SPEC");
  if (seed_set)
    o->seed = seed;
  if (a->max_evals)
    o->max_evals = (size_t)a->max_evals;
  return 0;
}

/* "M=4096,N=128" into out. */
static void shape_text(const helion_spec_t *spec, const int64_t *shape,
                       helion_buf_t *out) {
  for (size_t k = 0; k < spec->nkeys; k++)
    helion_buf_appendf(out, "%s%s=%" PRId64, k ? "," : "", spec->keys[k],
                       shape[k]);
}

/* What one shape's tune produced. */
typedef struct shape_result {
  char *config_json; /* canonical JSON of the winner, NULL if none */
  double best_ms, default_ms, seconds;
  bool side_by_side; /* best_ms and default_ms from one interleaved run */
  size_t configs_tested;
  size_t failures[HELION_RESULT_KIND_COUNT];
  helion_cuda_stats_t stats;
  char *error; /* why the shape has no winner, NULL if it has one */
} shape_result;

static helion_status tune_shape(helion_backend_cuda_t *cb,
                                const helion_spec_t *spec, const int64_t *shape,
                                helion_search_opts_t *o, const char *trace_path,
                                const char *const *configs, size_t nconfigs,
                                shape_result *r, helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_space_t *space = NULL;
  helion_search_t *s = NULL;
  FILE *trace = NULL;
  int64_t *def = NULL, *user_cells = NULL;
  helion_buf_t b;
  helion_buf_init(&b, (size_t)1 << 20);
  const helion_gpu_info_t *dev = helion_backend_cuda_device(cb);
  double baseline_ms = INFINITY;
  r->best_ms = r->default_ms = INFINITY;

  shape_text(spec, shape, &b);
  HELION_LOG(HELION_LOG_INFO, "Tuning %s for %s on %s (%s)", spec->name,
             helion_buf_str(&b), dev->props.name, helion_backend_cuda_arch(cb));
  if ((rc = helion_spec_space(spec, shape, &dev->props, &space, err)))
    goto out;
  if (nconfigs) {
    user_cells = malloc(nconfigs * space->ncells * sizeof(*user_cells));
    if (!user_cells) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
    for (size_t i = 0; i < nconfigs; i++) {
      if ((rc = helion_config_from_json(space, configs[i],
                                        user_cells + i * space->ncells, err))) {
        helion_err_prefix(err, "--config #%zu: ", i + 1);
        goto out;
      }
    }
    o->configs = user_cells;
    o->nconfigs = nconfigs;
  }
  if ((rc = helion_backend_cuda_set_shape(cb, space, shape, o->seed,
                                          &baseline_ms, err)))
    goto out;
  if (trace_path) {
    trace = fopen(trace_path, "w");
    if (!trace) {
      rc = helion_err_set(err, HELION_ERR_IO, "--trace: cannot write %s: %s",
                          trace_path, strerror(errno));
      goto out;
    }
    helion_buf_reset(&b);
    helion_buf_puts(&b, "{\"meta\": {\"spec\": ");
    helion_buf_put_json_string(&b, spec->path);
    helion_buf_puts(&b, ", \"shape\": \"");
    shape_text(spec, shape, &b);
    helion_buf_puts(&b, "\", \"device\": ");
    helion_buf_put_json_string(&b, dev->props.name);
    helion_buf_puts(&b, ", \"algorithm\": ");
    helion_buf_put_json_string(
        &b, o->algorithm ? o->algorithm : HELION_SEARCH_DEFAULT_ALGORITHM);
    helion_buf_appendf(&b, ", \"seed\": %llu}}\n", (unsigned long long)o->seed);
    fputs(helion_buf_str(&b), trace);
  }
  o->trace = trace;
  if ((rc = helion_search_create(space, helion_backend_cuda_backend(cb), o, &s,
                                 err)))
    goto out;
  helion_status run_rc = helion_search_run(s, err);
  const helion_search_metrics_t *m = helion_search_metrics(s);
  r->configs_tested = m->configs_tested;
  memcpy(r->failures, m->by_kind, sizeof(r->failures));
  r->seconds = helion_backend_elapsed(helion_backend_cuda_backend(cb));
  helion_backend_cuda_stats(cb, &r->stats);

  def = malloc(space->ncells * sizeof(*def));
  if (!def) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  helion_space_default(space, def);
  helion_cuda_artifact_t art;
  if (helion_backend_cuda_artifact(cb, def, &art) &&
      art.kind == HELION_RESULT_OK)
    r->default_ms = art.ms;
  else if (!spec->reference)
    r->default_ms = baseline_ms; /* the baseline is the default config */

  if (run_rc == HELION_ERR_NO_CONFIG) {
    r->error = helion_strdup(err->msg);
    goto out;
  }
  if ((rc = run_rc))
    goto out;
  const int64_t *best = helion_search_best(s);
  r->best_ms = helion_search_best_ms(s);
  if (best) {
    helion_buf_reset(&b);
    if ((rc = helion_config_to_json(space, best, false, &b))) {
      helion_err_set(err, rc, "cannot format the best configuration");
      goto out;
    }
    r->config_json = helion_buf_take(&b);
  }
  /* The winner against the default config, timed side by side (the GPU's
   * clocks drift over a long tune, so times from its start and its end do
   * not compare). */
  if (best && isfinite(r->default_ms) && isfinite(r->best_ms) &&
      memcmp(best, def, space->ncells * sizeof(*def)) != 0) {
    int64_t *pair = malloc(2 * space->ncells * sizeof(*pair));
    double ms[2];
    if (!pair) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
    memcpy(pair, best, space->ncells * sizeof(*pair));
    memcpy(pair + space->ncells, def, space->ncells * sizeof(*pair));
    rc = helion_backend_rebench(helion_backend_cuda_backend(cb), pair, 2,
                                o->rebench_target_ms, ms, err);
    free(pair);
    if (rc)
      goto out;
    if (isfinite(ms[0]) && isfinite(ms[1])) {
      r->best_ms = ms[0];
      r->default_ms = ms[1];
      r->side_by_side = true;
    }
  }
  helion_buf_reset(&b);
  shape_text(spec, shape, &b);
  HELION_LOG(HELION_LOG_INFO,
             "Best config for %s: %s\n  %.4fms (default config %.4fms%s, "
             "%.2fx); %zu configs in %.1fs, %.1f configs/s, GPU idle %.0f%% "
             "waiting for compiles",
             helion_buf_str(&b), r->config_json ? r->config_json : "null",
             r->best_ms, r->default_ms, r->side_by_side ? " side by side" : "",
             isfinite(r->default_ms) && r->best_ms > 0
                 ? r->default_ms / r->best_ms
                 : 0.0,
             r->configs_tested, r->seconds,
             r->seconds > 0 ? (double)r->configs_tested / r->seconds : 0.0,
             100.0 * r->stats.gpu_idle_fraction);
out:
  o->trace = NULL;
  if (trace && fclose(trace) != 0 && rc == HELION_OK)
    rc = helion_err_set(err, HELION_ERR_IO, "--trace: cannot write %s",
                        trace_path);
  helion_search_destroy(s);
  o->configs = NULL;
  o->nconfigs = 0;
  free(user_cells);
  helion_space_destroy(space);
  helion_buf_cleanup(&b);
  free(def);
  return rc;
}

static void append_shape_json(helion_buf_t *b, const helion_spec_t *spec,
                              const int64_t *shape, const shape_result *r,
                              bool first) {
  helion_buf_puts(b, first ? "{\"shape\": {" : ", {\"shape\": {");
  for (size_t k = 0; k < spec->nkeys; k++) {
    helion_buf_puts(b, k ? ", " : "");
    helion_buf_put_json_string(b, spec->keys[k]);
    helion_buf_appendf(b, ": %" PRId64, shape[k]);
  }
  helion_buf_puts(b, "}, \"best_config\": ");
  helion_buf_puts(b, r->config_json ? r->config_json : "null");
  helion_buf_puts(b, ", \"best_ms\": ");
  json_num(b, r->best_ms);
  helion_buf_puts(b, ", \"default_ms\": ");
  json_num(b, r->default_ms);
  helion_buf_puts(b, ", \"speedup\": ");
  json_num(b, r->best_ms > 0 ? r->default_ms / r->best_ms : INFINITY);
  helion_buf_appendf(
      b,
      ", \"configs_tested\": %zu, \"failures\": {\"compile\": %zu, "
      "\"runtime\": %zu, \"accuracy\": %zu, \"timeout\": %zu}, \"seconds\": ",
      r->configs_tested, r->failures[HELION_RESULT_COMPILE],
      r->failures[HELION_RESULT_RUNTIME], r->failures[HELION_RESULT_ACCURACY],
      r->failures[HELION_RESULT_TIMEOUT]);
  json_num(b, r->seconds);
  helion_buf_puts(b, ", \"configs_per_second\": ");
  json_num(b, r->seconds > 0 ? (double)r->configs_tested / r->seconds : 0.0);
  helion_buf_puts(b, ", \"gpu_idle_fraction\": ");
  json_num(b, r->stats.gpu_idle_fraction);
  if (r->error) {
    helion_buf_puts(b, ", \"error\": ");
    helion_buf_put_json_string(b, r->error);
  }
  helion_buf_putc(b, '}');
}

/*
 * Checks every --config against the spec's parameters before any GPU work,
 * so a typo costs no device start-up. The parameters do not depend on the
 * shape or the device (restrictions do, and are checked per shape later).
 */
static int check_configs(const helion_spec_t *spec, const tune_args *a) {
  if (a->nconfigs == 0)
    return HELION_EXIT_OK;
  helion_space_opts_t so;
  memset(&so, 0, sizeof(so));
  so.params = spec->params;
  so.nparams = spec->nparams;
  helion_space_t *space = NULL;
  int64_t *cells = NULL;
  helion_err_t err = {{0}};
  int rc = HELION_EXIT_USAGE;
  if (helion_space_create(&so, &space, &err)) {
    fprintf(stderr, PROG ": %s: %s\n", spec->path, err.msg);
    goto out;
  }
  cells = malloc(space->ncells * sizeof(*cells));
  if (!cells) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  for (size_t i = 0; i < a->nconfigs; i++) {
    if (helion_config_from_json(space, a->configs[i], cells, &err)) {
      fprintf(stderr, PROG ": --config #%zu: %s\n", i + 1, err.msg);
      goto out;
    }
  }
  rc = HELION_EXIT_OK;
out:
  free(cells);
  helion_space_destroy(space);
  return rc;
}

int helion_cmd_tune(int argc, char **argv) {
  tune_args a;
  memset(&a, 0, sizeof(a));
  helion_search_opts_t o;
  helion_err_t err = {{0}};
  helion_search_opts_init(&o);
  /* Environment first; flags override. */
  if (helion_search_opts_from_env(&o, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_USAGE;
  }
  int prc = parse_args(argc, argv, &a, &o);
  if (prc < 0)
    return HELION_EXIT_OK;
  if (prc)
    return prc;
  int level;
  if (helion_log_level_from_env(HELION_LOG_INFO, &level, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_USAGE;
  }

  int exit_code = HELION_EXIT_FAILURE;
  helion_spec_t *spec = NULL;
  helion_backend_cuda_t *cb = NULL;
  int64_t *one_shape = NULL;
  shape_result *results = NULL;
  char *trace_name = NULL;
  helion_buf_t json;
  helion_buf_init(&json, HELION_BUF_DEFAULT_MAX);
  int saved_level = helion_log_level_current;
  helion_log_level_current = a.quiet && level > HELION_LOG_WARN
                                 ? HELION_LOG_WARN
                                 : level;
  helion_log_start();

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
  exit_code = HELION_EXIT_FAILURE;
  if (check_configs(spec, &a) != HELION_EXIT_OK) {
    exit_code = HELION_EXIT_USAGE;
    goto out;
  }
  size_t nshapes = one_shape ? 1 : spec->nshapes;
  if (nshapes == 0) {
    fprintf(stderr,
            PROG ": %s: the spec lists no shapes; pass one with --shape "
                 "K=V,...\n",
            a.spec_path);
    exit_code = HELION_EXIT_USAGE;
    goto out;
  }
  results = calloc(nshapes, sizeof(*results));
  if (a.trace)
    trace_name = malloc(strlen(a.trace) + 32);
  if (!results || (a.trace && !trace_name)) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }

  HELION_LOG(HELION_LOG_INFO, "Starting autotuning process, this may take a "
                              "while...");
  if (helion_backend_cuda_create(spec, &co, &cb, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }

  bool any_failed = false;
  for (size_t i = 0; i < nshapes; i++) {
    const int64_t *shape =
        one_shape ? one_shape : spec->shapes + i * spec->nkeys;
    if (a.trace) {
      if (nshapes == 1)
        strcpy(trace_name, a.trace);
      else
        sprintf(trace_name, "%s.%zu", a.trace, i);
    }
    helion_status rc =
        tune_shape(cb, spec, shape, &o, a.trace ? trace_name : NULL, a.configs,
                   a.nconfigs, &results[i], &err);
    if (rc == HELION_ERR_INVALID) {
      /* The default config of this shape does not work: the shape fails,
       * the others still get tuned. */
      results[i].error = helion_strdup(err.msg);
      rc = HELION_OK;
    }
    if (rc) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      goto out;
    }
    if (results[i].error) {
      any_failed = true;
      HELION_LOG(HELION_LOG_ERROR, "%s", results[i].error);
    }
  }

  if (a.json) {
    helion_buf_puts(&json, "{\"spec\": ");
    helion_buf_put_json_string(&json, spec->name);
    helion_buf_puts(&json, ", \"device\": ");
    helion_buf_put_json_string(&json,
                               helion_backend_cuda_device(cb)->props.name);
    helion_buf_puts(&json, ", \"shapes\": [");
    for (size_t i = 0; i < nshapes; i++)
      append_shape_json(&json, spec,
                        one_shape ? one_shape : spec->shapes + i * spec->nkeys,
                        &results[i], i == 0);
    if (helion_buf_puts(&json, "]}\n")) {
      fprintf(stderr, PROG ": output too large\n");
      goto out;
    }
    fputs(helion_buf_str(&json), stdout);
    fflush(stdout);
  }
  exit_code = any_failed ? HELION_EXIT_FAILURE : HELION_EXIT_OK;
out:
  helion_log_level_current = saved_level;
  if (results)
    for (size_t i = 0; i < (spec ? (one_shape ? 1 : spec->nshapes) : 0); i++) {
      free(results[i].config_json);
      free(results[i].error);
    }
  free(results);
  free(trace_name);
  free(one_shape);
  helion_buf_cleanup(&json);
  helion_backend_cuda_destroy(cb);
  helion_spec_destroy(spec);
  return exit_code;
}
