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
#include "results/misses.h"
#include "results/results_file.h"
#include "results/tune.h"
#include "results/tune_run.h"
#include "util/interrupt.h"
#include "util/json.h"

#define PROG "helion-tune tune"
#define TUNE_MAX_CONFIGS 64
#define TUNE_MAX_SHAPES 256 /* --shape flags; a spec holds as many */

/* The help text is kept as it prints, one source line per output line. */
/* clang-format off */
static void usage(FILE *f) {
  fprintf(f, "usage: " PROG " SPEC [options]\n\n"
  "Searches the configuration space of the kernel in SPEC on the GPU for each\n"
  "shape: every config is compiled with NVRTC in a pool of processes and timed in\n"
  "an isolated benchmark worker (a crashing or hanging config costs that config\n"
  "only), checked against the baseline (the default config or the spec's\n"
  "reference kernel), and the fastest correct config wins.\n\nOptions:\n"
  "  --shape K=V,...       tune this shape (repeatable; default: every shape of\n"
  "                        the spec)\n"
  "  --shapes-from FILE    tune the distinct shapes of this kernel that a program\n"
  "                        run with HELION_RECORD_MISSES=FILE recorded as missed\n"
  "                        (JSON lines; other kernels' lines are skipped)\n"
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
  , f);
  fputs(
  "  --tuned FILE          the results file each finished shape is recorded in,\n"
  "                        right after it (default <spec dir>/<name>.tuned.json;\n"
  "                        see `helion-tune results --help`); an interrupted or\n"
  "                        failed shape is not recorded and leaves its entry\n"
  "                        as it was\n"
  "  --no-results          record nothing in a results file\n"
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
  const char *spec_path, *shapes_from, *trace, *tuned;
  const char *shapes[TUNE_MAX_SHAPES]; /* --shape texts */
  size_t nshapes;
  const char *configs[TUNE_MAX_CONFIGS]; /* --config JSON texts */
  size_t nconfigs;
  helion_cli_search_t search;
  uint64_t device, jobs;
  bool json, quiet, no_results;
} tune_args;

/* Parses argv into `a`. Returns -1 after --help, else an exit code (0 = go
 * on). */
static int parse_args(int argc, char **argv, tune_args *a) {
  static const char *const valued[] = {HELION_CLI_SEARCH_FLAGS,
                                       "--shape",
                                       "--shapes-from",
                                       HELION_CLI_GPU_FLAGS,
                                       "--trace",
                                       "--config",
                                       "--tuned",
                                       NULL};
  static const char *const boolean[] = {"--json", "--quiet", "--no-results",
                                        NULL};
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
      if (rc == HELION_CLI_NOT_SEARCH_FLAG)
        rc = helion_cli_gpu_flag(PROG, flag, val, &a->device, &a->jobs);
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
      if (a->nshapes == TUNE_MAX_SHAPES)
        return usage_error("--shape: at most %d shapes", TUNE_MAX_SHAPES);
      a->shapes[a->nshapes++] = val;
    } else if (strcmp(flag, "--shapes-from") == 0) {
      if (!*val)
        return usage_error("--shapes-from: empty file name");
      a->shapes_from = val;
    } else if (strcmp(flag, "--trace") == 0) {
      if (!*val)
        return usage_error("--trace: empty file name");
      a->trace = val;
    } else if (strcmp(flag, "--config") == 0) {
      if (a->nconfigs == TUNE_MAX_CONFIGS)
        return usage_error("--config: at most %d configurations",
                           TUNE_MAX_CONFIGS);
      a->configs[a->nconfigs++] = val;
    } else if (strcmp(flag, "--tuned") == 0) {
      if (!*val)
        return usage_error("--tuned: empty file name");
      a->tuned = val;
    } else if (strcmp(flag, "--no-results") == 0) {
      a->no_results = true;
    } else if (strcmp(flag, "--json") == 0) {
      a->json = true;
    } else {
      a->quiet = true;
    }
  }
  if (a->nshapes && a->shapes_from)
    return usage_error("--shape and --shapes-from: give one of them");
  return a->spec_path ? 0 : usage_error("missing SPEC");
}

/* Every --shape (the first already checked by the spec loader) into one
 * array that replaces *shapes. */
static helion_status parse_shapes(const tune_args *a, const helion_spec_t *spec,
                                  int64_t **shapes, helion_err_t *err) {
  int64_t *all = calloc(a->nshapes * spec->nkeys + 1, sizeof(int64_t));
  if (!all)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < a->nshapes; i++) {
    helion_status rc = helion_spec_parse_shape(spec, a->shapes[i],
                                               all + i * spec->nkeys, err);
    if (rc) {
      free(all);
      return rc;
    }
  }
  free(*shapes);
  *shapes = all;
  return HELION_OK;
}

/* One shape's line of --json: the entry plus what the CLI derives. */
static helion_status shape_json(const helion_tune_entry_t *e, double gpu_idle,
                                cJSON *shapes, helion_err_t *err) {
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
      !cJSON_AddNumberToObject(o, "gpu_idle_fraction", gpu_idle))
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  return HELION_OK;
}

/* What the CLI keeps of the run: --json's shapes, and whether one failed. */
typedef struct printed {
  cJSON *shapes;
  bool any_failed;
} printed;

/* helion_tune_run's per-shape report: the entry's --json line. */
static helion_status on_shape(void *ud, const helion_tune_entry_t *e,
                              bool cached, double gpu_idle, helion_err_t *err) {
  printed *p = ud;
  p->any_failed |= e->error != NULL;
  helion_status rc = shape_json(e, gpu_idle, p->shapes, err);
  if (!rc && cached &&
      !cJSON_AddTrueToObject(
          cJSON_GetArrayItem(p->shapes, cJSON_GetArraySize(p->shapes) - 1),
          "cached"))
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
  int64_t *one_shape = NULL, *missed = NULL;
  char *results_path = NULL;
  cJSON *root = cJSON_CreateObject();
  printed p = {NULL, false};
  helion_device_facts_t dev;
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
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
  exit_code = helion_cli_load_spec("tune", a.spec_path, NULL,
                                   a.nshapes ? a.shapes[0] : NULL, &spec, NULL,
                                   &one_shape);
  if (exit_code != HELION_EXIT_OK)
    goto out;
  exit_code = HELION_EXIT_USAGE;
  size_t nshapes = one_shape ? 1 : spec->nshapes;
  if (a.nshapes > 1 && parse_shapes(&a, spec, &one_shape, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  if (a.nshapes > 1)
    nshapes = a.nshapes;
  if (a.shapes_from) {
    helion_misses_stats_t ms;
    if (helion_misses_load(a.shapes_from, spec, &missed, &nshapes, &ms,
                           &err)) {
      fprintf(stderr, PROG ": --shapes-from: %s\n", err.msg);
      exit_code = HELION_EXIT_FAILURE;
      goto out;
    }
    HELION_LOG(HELION_LOG_INFO,
               "%zu shape%s of %s from %s (%zu lines: %zu of other kernels, "
               "%zu repeats, %zu unusable)",
               nshapes, nshapes == 1 ? "" : "s", spec->name, a.shapes_from,
               ms.lines, ms.other_kernels, ms.duplicates, ms.unusable);
  }
  const int64_t *shapes =
      missed ? missed : one_shape ? one_shape : spec->shapes;
  /* A typo in a --config costs no device start-up. */
  if (helion_tune_check_configs(spec, a.configs, a.nconfigs, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  exit_code = HELION_EXIT_FAILURE;
  if (!root || !(p.shapes = cJSON_AddArrayToObject(root, "shapes"))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  if (!a.no_results &&
      !(results_path = a.tuned ? helion_strdup(a.tuned)
                               : helion_results_default_path(spec))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  helion_tune_run_opts_t ro = {
      spec,        shapes,
      nshapes,     &o,
      &co,         a.configs,
      a.nconfigs,  a.trace,
      results_path};
  helion_status rc =
      helion_tune_run_check(&ro, a.spec_path, a.search.options_json, &err);
  if (!rc)
    rc = helion_tune_run(&ro, on_shape, &p, &dev, &err);
  if (rc) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    exit_code =
        rc == HELION_ERR_USAGE ? HELION_EXIT_USAGE : HELION_EXIT_FAILURE;
    goto out;
  }
  if (a.json) {
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
  exit_code = p.any_failed ? HELION_EXIT_FAILURE : HELION_EXIT_OK;
out:
  if (helion_interrupted())
    exit_code = helion_interrupt_exit_code(helion_interrupted());
  helion_log_level_current = saved_level;
  cJSON_Delete(root);
  helion_buf_cleanup(&text);
  free(results_path);
  free(one_shape);
  free(missed);
  helion_spec_destroy(spec);
  helion_interrupt_restore();
  return exit_code;
}
