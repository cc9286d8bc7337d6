/*
 * cmd_tune.c: `helion-tune tune SPEC...`: parses the arguments, starts the
 * GPU backend (backend_cuda.h) and prints, per shape, what
 * helion_tune_shape() (results/tune.h) returns: Helion-style log lines on
 * stderr and, with --json, one JSON object per SPEC on stdout. With
 * --shard I/N it tunes one shard of the (spec, shape) work items
 * (results/shard.h) into results fragments.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend_cuda.h"
#include "backend/device_facts.h"
#include "cli/cli.h"
#include "results/misses.h"
#include "results/results_file.h"
#include "results/shard.h"
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
  fprintf(f, "usage: " PROG " SPEC... [options]\n\n"
  "Searches the configuration space of the kernel in SPEC on the GPU for each\n"
  "shape: every config is compiled with NVRTC in a pool of processes and timed in\n"
  "an isolated benchmark worker (a crashing or hanging config costs that config\n"
  "only), checked against the baseline (the default config or the spec's\n"
  "reference kernel), and the fastest correct config wins. With several SPECs,\n"
  "each is tuned for its own shapes into its own results file, specs in order\n"
  "of name, then path; --shape, --shapes-from, --config, --trace, --tuned and\n"
  "--options-json need exactly one SPEC.\n\nOptions:\n"
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
  "  --devices all|N,M,... time configs on several GPUs of this machine, one\n"
  "                        benchmark worker per GPU fed from the one compile\n"
  "                        pool; each config is timed on whichever GPU is free,\n"
  "                        and the finalists (rebenchmarks, final verification,\n"
  "                        winner against default) side by side on the first\n"
  "                        GPU listed, so a winner never mixes two GPUs' clocks.\n"
  "                        all: every GPU (just one on a 1-GPU machine). The\n"
  "                        GPUs must be one model (else tune each with\n"
  "                        --device N); a worker whose GPU fails restarts on\n"
  "                        that GPU while the others go on. Not with --device\n"
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
  "  --json                print one JSON object to stdout (a line per SPEC):\n"
  "                        {spec, device, shapes:\n"
  "                        [entry]}, an entry per shape with shape, best_config,\n"
  "                        best_config_minimized, best_ms, default_ms (timed side by\n"
  "                        side at the end), side_by_side, speedup, algorithm,\n"
  "                        effort, seed, options (resolved), configs_tested,\n"
  "                        failures: {compile, runtime, accuracy, timeout}, seconds,\n"
  "                        wall_seconds, backend_seconds, configs_per_second,\n"
  "                        gpu_idle_fraction (the share of the wall time the\n"
  "                        benchmark workers had no job: 1 - busy seconds\n"
  "                        summed over GPUs / (wall x GPUs)), devices: [{ordinal,\n"
  "                        configs, busy_s, restarts}] (per GPU timed on, the\n"
  "                        first one timing the finalists), phases: {wall_s,\n"
  "                        setup_s, compile_wait_s (GPU waiting for NVRTC),\n"
  "                        load_s, check_s, warmup_s, timing_s (the worker's\n"
  "                        own phases), bench_other_s, rebench_s,\n"
  "                        side_by_side_s, search_s (the search's own work)},\n"
  "                        timing_stops: {full, settled, slower, cut} (configs\n"
  "                        by why their timing ended), compile_pool: {jobs,\n"
  "                        compiles, busy_s (compile seconds summed over the\n"
  "                        processes), use (busy_s / (jobs x wall))}, device: {name,\n"
  "                        compute_capability, sm_count, driver_version,\n"
  "                        nvrtc_version}, source_hash, space_fingerprint,\n"
  "                        tool_version, error (if any)\n"
  , f);
  fputs(
  "  --tuned FILE          the results file each finished shape is recorded in,\n"
  "                        right after it (default <spec dir>/<name>.tuned.json;\n"
  "                        see `helion-tune results --help`); an interrupted or\n"
  "                        failed shape is not recorded and leaves its entry\n"
  "                        as it was\n"
  "  --no-results          record nothing in a results file\n"
  "  --shard I/N           tune shard I (0-based) of N only, for a job array:\n"
  "                        the work items, every (spec, shape) pair, specs by\n"
  "                        name then path and shapes in spec order, split so\n"
  "                        each is in exactly one shard (cost of an item: the\n"
  "                        bits of its space, the sum over its parameters of\n"
  "                        ceil(log2(values)), computed for sm_90 on every\n"
  "                        machine; greedy: costliest item first, ties in that\n"
  "                        order, to the shard with the least cost so far, ties\n"
  "                        to fewer items, then the lowest index). A shard\n"
  "                        records its entries in fragments, not in the\n"
  "                        results files; merge them with\n"
  "                        `helion-tune results merge FRAGMENT... -o FILE`\n"
  "  --shard auto          the shard from the scheduler: Slurm job arrays\n"
  "                        (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, 0 if\n"
  "                        unset, over SLURM_ARRAY_TASK_STEP, of\n"
  "                        SLURM_ARRAY_TASK_COUNT), or with --shards N a\n"
  "                        Kubernetes Indexed Job (JOB_COMPLETION_INDEX of N)\n"
  "  --shards N            the shard count of --shard auto on Kubernetes\n"
  "  --fragment-dir DIR    where a shard writes its fragments (results file\n"
  "                        format), one per spec it has items of:\n"
  "                        DIR/<spec name>.shard-<I>-of-<N>.tuned.json\n"
  "                        (default helion-fragments, created if missing)\n"
  "  --dry-run             with --shard: print the shard's items, one line each\n"
  "                        (spec name, shape, cost), and exit; no GPU work\n"
  "  --list-shards         the same as --dry-run\n"
  "  --quiet               only warnings and errors on stderr\n"
  "  -h, --help            this help\n\n"
  , f);
  fputs(
  "Environment: HELION_AUTOTUNE_COMPILE_TIMEOUT (seconds per compile, default 60;\n"
  "adaptive after the initial population unless HELION_AUTOTUNE_ADAPTIVE_TIMEOUT=0),\n"
  "HELION_AUTOTUNE_BENCHMARK_TIMEOUT (cap of the benchmark watchdog per config,\n"
  "default 30), HELION_AUTOTUNE_ACCURACY_CHECK=0 (skip the output check),\n"
  "HELION_AUTOTUNE_REBENCH_PRECISION (rebenchmarks stop once every median is known\n"
  "to this relative error, default 0.005; 0 runs Helion's fixed rounds),\n"
  "HELION_AUTOTUNE_SLOW_CUTOFF (a config over this factor times the best so far\n"
  "keeps its estimate (5 launches, 2 when both are over) and skips the timing while\n"
  "other compiled configs wait; default 2, 0 off), HELION_AUTOTUNE_EARLY_STOP=0\n"
  "(time every config for the full 50 ms, as Helion does; by default its\n"
  "repetitions run in chunks of 10 and stop once it is clearly slower than the\n"
  "best so far or its median is known to the rebenchmark precision),\n"
  "HELION_AUTOTUNE_DUTY_CYCLE (the share of the timing the GPU works, default\n"
  "0.5: after each burst of timed work of at most ~5 ms the worker rests as long,\n"
  "keeping a power-hungry kernel off the board's power cap; 1 = back to back),\n"
  "HELION_BENCH_WORKER (the benchmark worker executable, run as `EXE __bench-worker FD`;\n"
  "default helion-tune itself; tests use a CPU test double),\n"
  "HELION_AUTOTUNE_LOG_LEVEL (DEBUG adds per-batch timings: compile waits, worker\n"
  "time, rebenchmarks, and a line per config: its time, repetitions, why its\n"
  "timing stopped, compile seconds and the worker's phases; WARNING is --quiet), HELION_REMOTE_CACHE=http(s)://host/prefix\n"
  "(a shared best-config cache over plain GET/PUT of <key>.best_config, behind the\n"
  "local one; HELION_REMOTE_CACHE_HEADER, _TIMEOUT_S, _CA_BUNDLE, _CLIENT_CERT,\n"
  "_CLIENT_KEY; see README), and the search variables of\n"
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
  const char **specs; /* SPEC arguments, in argv order (argc slots) */
  size_t nspecs;
  const char *shapes_from, *trace, *tuned;
  const char *shapes[TUNE_MAX_SHAPES]; /* --shape texts */
  size_t nshapes;
  const char *configs[TUNE_MAX_CONFIGS]; /* --config JSON texts */
  size_t nconfigs;
  helion_cli_search_t search;
  uint64_t device, jobs;
  bool device_given;
  const char *devices;              /* --devices text; NULL: not given */
  const char *shard, *fragment_dir; /* NULL: not given */
  uint64_t shards;                  /* --shards; 0: not given */
  bool json, quiet, no_results, dry_run;
} tune_args;

/* The checks between flags once all are read; an exit code. */
static int check_args(const tune_args *a) {
  static const char *const one_spec[] = {"--shape", "--shapes-from",
                                         "--config", "--trace", "--tuned",
                                         "--options-json"};
  const bool given[] = {a->nshapes > 0,         a->shapes_from != NULL,
                        a->nconfigs > 0,        a->trace != NULL,
                        a->tuned != NULL,       a->search.options_json != NULL};
  if (a->nshapes && a->shapes_from)
    return usage_error("--shape and --shapes-from: give one of them");
  if (!a->nspecs)
    return usage_error("missing SPEC");
  for (size_t i = 1; i < a->nspecs; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(a->specs[i], a->specs[j]) == 0)
        return usage_error("SPEC '%s' given twice", a->specs[i]);
  for (size_t i = 0; a->nspecs > 1 && i < sizeof(given) / sizeof(*given); i++)
    if (given[i])
      return usage_error("%s needs exactly one SPEC (%zu given); run one "
                         "tune per SPEC with it",
                         one_spec[i], a->nspecs);
  if (a->shards && (!a->shard || strcmp(a->shard, "auto") != 0))
    return usage_error("--shards goes with --shard auto (a Kubernetes "
                       "Indexed Job); with --shard I/N the count is N");
  if (!a->shard && (a->fragment_dir || a->dry_run))
    return usage_error("%s goes with --shard I/N (--shard 0/1 for all work "
                       "items)",
                       a->dry_run ? "--dry-run" : "--fragment-dir");
  if (a->device_given && a->devices)
    return usage_error("--device and --devices: give one of them (--devices "
                       "N for one GPU)");
  if (a->shard && a->tuned)
    return usage_error("--tuned and --shard: a shard records in fragments "
                       "(--fragment-dir), merged with `helion-tune results "
                       "merge`");
  return 0;
}

/* Parses argv into `a`. Returns -1 after --help, else an exit code (0 = go
 * on). */
static int parse_args(int argc, char **argv, tune_args *a) {
  static const char *const valued[] = {HELION_CLI_SEARCH_FLAGS,
                                       "--shape",
                                       "--shapes-from",
                                       HELION_CLI_GPU_FLAGS,
                                       "--devices",
                                       "--trace",
                                       "--config",
                                       "--tuned",
                                       "--shard",
                                       "--shards",
                                       "--fragment-dir",
                                       NULL};
  static const char *const boolean[] = {
      "--json", "--quiet", "--no-results", "--dry-run", "--list-shards", NULL};
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
      if (rc == HELION_CLI_NOT_SEARCH_FLAG) {
        a->device_given |= strcmp(flag, "--device") == 0;
        rc = helion_cli_gpu_flag(PROG, flag, val, &a->device, &a->jobs);
      }
      if (rc != HELION_CLI_NOT_SEARCH_FLAG) {
        if (rc)
          return rc;
        continue;
      }
    }
    if (!flag) {
      a->specs[a->nspecs++] = val;
    } else if (strcmp(flag, "--devices") == 0) {
      a->devices = val;
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
    } else if (strcmp(flag, "--shard") == 0) {
      a->shard = val;
    } else if (strcmp(flag, "--shards") == 0) {
      if (!helion_cli_parse_u64(val, &a->shards) || a->shards == 0 ||
          a->shards > HELION_SHARD_MAX)
        return usage_error("--shards %s: expected the shard count, a whole "
                           "number from 1 to %d",
                           val, HELION_SHARD_MAX);
    } else if (strcmp(flag, "--fragment-dir") == 0) {
      if (!*val)
        return usage_error("--fragment-dir: empty directory name");
      a->fragment_dir = val;
    } else if (strcmp(flag, "--no-results") == 0) {
      a->no_results = true;
    } else if (strcmp(flag, "--json") == 0) {
      a->json = true;
    } else if (strcmp(flag, "--quiet") == 0) {
      a->quiet = true;
    } else {
      a->dry_run = true;
    }
  }
  return check_args(a);
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

/* Adds "phases" (where the shape's wall time went, seconds),
 * "timing_stops" (configs by why their timing ended) and "compile_pool" to
 * o. */
static bool add_phases(cJSON *o, const helion_tune_entry_t *e,
                       const helion_cuda_stats_t *st) {
  double worker = st->load_s + st->check_s + st->warm_s + st->timed_s;
  double rebench = st->rebench_s - e->side_by_side_s;
  const struct {
    const char *name;
    double s;
  } rows[] = {
      {"wall_s", st->wall_s},
      {"setup_s", st->setup_s},
      {"compile_wait_s", st->gpu_idle_wait_s},
      {"load_s", st->load_s},
      {"check_s", st->check_s},
      {"warmup_s", st->warm_s},
      {"timing_s", st->timed_s},
      /* Between the worker's jobs inside bench(): messages, the
       * scheduling of jobs, unloads. */
      {"bench_other_s", st->bench_s - st->gpu_idle_wait_s - worker},
      {"rebench_s", rebench > 0 ? rebench : 0},
      {"side_by_side_s", e->side_by_side_s},
      {"search_s", st->wall_s - st->setup_s - st->bench_s - st->rebench_s},
  };
  cJSON *ph = cJSON_AddObjectToObject(o, "phases");
  cJSON *sp = cJSON_AddObjectToObject(o, "timing_stops");
  if (!ph || !sp)
    return false;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    if (!cJSON_AddNumberToObject(ph, rows[i].name, rows[i].s))
      return false;
  for (size_t i = 0; i < HELION_TIMING_STOP_COUNT; i++)
    if (!cJSON_AddNumberToObject(sp, helion_timing_stop_name(i),
                                 (double)st->by_stop[i]))
      return false;
  /* How busy the compile processes were: with the GPU waiting for NVRTC,
   * a use well under 1 says the search kept too few configs in flight. */
  cJSON *cp = cJSON_AddObjectToObject(o, "compile_pool");
  return cp && cJSON_AddNumberToObject(cp, "jobs", (double)st->compile_jobs) &&
         cJSON_AddNumberToObject(cp, "compiles", (double)st->compiles) &&
         cJSON_AddNumberToObject(cp, "busy_s", st->compile_s) &&
         cJSON_AddNumberToObject(cp, "use", st->compile_use);
}

/* "devices": each GPU's share of the shape. False when out of memory. */
static bool add_devices(cJSON *o, const helion_cuda_stats_t *st) {
  cJSON *list = cJSON_AddArrayToObject(o, "devices");
  if (!list)
    return false;
  for (size_t w = 0; w < st->ndevices; w++) {
    const helion_cuda_device_stats_t *d = &st->devices[w];
    cJSON *e = cJSON_CreateObject();
    if (!e)
      return false;
    cJSON_AddItemToArray(list, e);
    if (!cJSON_AddNumberToObject(e, "ordinal", d->ordinal) ||
        !cJSON_AddNumberToObject(e, "configs", (double)d->configs) ||
        !cJSON_AddNumberToObject(e, "busy_s", d->busy_s) ||
        !cJSON_AddNumberToObject(e, "restarts", d->restarts))
      return false;
  }
  return true;
}

/* One shape's line of --json: the entry plus what the CLI derives (stats
 * NULL for a cache hit). */
static helion_status shape_json(const helion_tune_entry_t *e,
                                const helion_cuda_stats_t *stats, cJSON *shapes,
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
      !cJSON_AddNumberToObject(o, "gpu_idle_fraction",
                               stats ? stats->gpu_idle_fraction : 0) ||
      (stats && (!add_phases(o, e, stats) || !add_devices(o, stats))))
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
                              bool cached, const helion_cuda_stats_t *stats,
                              helion_err_t *err) {
  printed *p = ud;
  p->any_failed |= e->error != NULL;
  helion_status rc = shape_json(e, stats, p->shapes, err);
  if (!rc && cached &&
      !cJSON_AddTrueToObject(
          cJSON_GetArrayItem(p->shapes, cJSON_GetArraySize(p->shapes) - 1),
          "cached"))
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  return rc;
}

/* One SPEC of the command line and the shapes it is tuned for. */
typedef struct tune_spec {
  const char *path;
  helion_spec_t *spec;
  int64_t *owned;        /* --shape or --shapes-from values, or NULL */
  const int64_t *shapes; /* owned or spec->shapes */
  size_t nshapes;
  int64_t *mine; /* with --shard: this shard's shapes, in spec order */
  size_t nmine;
  char *results_path; /* NULL: none */
} tune_spec;

static void tune_spec_cleanup(tune_spec *t) {
  helion_spec_destroy(t->spec);
  free(t->owned);
  free(t->mine);
  free(t->results_path);
}

/* The shapes this run tunes of `t`: its shard's, or all. */
static const int64_t *run_shapes(const tune_args *a, const tune_spec *t,
                                 size_t *n) {
  *n = a->shard ? t->nmine : t->nshapes;
  return a->shard ? t->mine : t->shapes;
}

/* Loads t->path and the shapes to tune (the --shape or --shapes-from flags
 * belong to the only SPEC). With --shard, *dev gets sm_90's properties, on
 * which every machine computes the items' costs. An exit code. */
static int load_spec(const tune_args *a, tune_spec *t,
                     helion_device_props_t *dev) {
  helion_err_t err = {{0}};
  int exit_code = helion_cli_load_spec(
      "tune", t->path, a->shard ? "sm_90" : NULL,
      a->nshapes ? a->shapes[0] : NULL, &t->spec, dev, &t->owned);
  if (exit_code != HELION_EXIT_OK)
    return exit_code;
  t->nshapes = t->owned ? 1 : t->spec->nshapes;
  if (a->nshapes > 1) {
    if (parse_shapes(a, t->spec, &t->owned, &err)) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      return HELION_EXIT_USAGE;
    }
    t->nshapes = a->nshapes;
  }
  if (a->shapes_from) {
    helion_misses_stats_t ms;
    int64_t *missed = NULL;
    if (helion_misses_load(a->shapes_from, t->spec, &missed, &t->nshapes, &ms,
                           &err)) {
      fprintf(stderr, PROG ": --shapes-from: %s\n", err.msg);
      return HELION_EXIT_FAILURE;
    }
    free(t->owned);
    t->owned = missed;
    HELION_LOG(HELION_LOG_INFO,
               "%zu shape%s of %s from %s (%zu lines: %zu of other kernels, "
               "%zu repeats, %zu unusable)",
               t->nshapes, t->nshapes == 1 ? "" : "s", t->spec->name,
               a->shapes_from, ms.lines, ms.other_kernels, ms.duplicates,
               ms.unusable);
  }
  t->shapes = t->owned ? t->owned : t->spec->shapes;
  return HELION_EXIT_OK;
}

/* The canonical order of the work items: specs by name, then path. */
static int spec_cmp(const void *pa, const void *pb) {
  const tune_spec *a = pa, *b = pb;
  int c = strcmp(a->spec->name, b->spec->name);
  return c ? c : strcmp(a->path, b->path);
}

/* A work item of the partition. */
typedef struct work_item {
  size_t spec, shape;
} work_item;

/* Logs the shard's share ("shard 1/4: 3 of 14 work items (cost 45 of 210):
 * rmsnorm 2, softmax 1") and, for --dry-run, prints its items to stdout,
 * one line each: spec name, shape, cost. */
static helion_status report_shard(const tune_args *a, const tune_spec *ts,
                                  size_t nspecs, helion_shard_t sh,
                                  const work_item *items, const uint64_t *cost,
                                  const uint64_t *shard, size_t n,
                                  helion_err_t *err) {
  helion_buf_t line;
  helion_buf_init(&line, HELION_BUF_DEFAULT_MAX);
  uint64_t mine = 0, total = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    total += cost[i];
    if (shard[i] == sh.index) {
      mine += cost[i];
      k++;
    }
  }
  helion_status rc = helion_buf_appendf(
      &line, "shard %llu/%llu: %zu of %zu work items (cost %llu of %llu)",
      (unsigned long long)sh.index, (unsigned long long)sh.count, k, n,
      (unsigned long long)mine, (unsigned long long)total);
  for (size_t s = 0, first = 1; s < nspecs && !rc; s++)
    if (ts[s].nmine) {
      rc = helion_buf_appendf(&line, "%s %s %zu", first ? ":" : ",",
                              ts[s].spec->name, ts[s].nmine);
      first = 0;
    }
  if (rc)
    goto out;
  HELION_LOG(HELION_LOG_INFO, "%s", helion_buf_str(&line));
  for (size_t i = 0; a->dry_run && i < n && !rc; i++) {
    const helion_spec_t *spec = ts[items[i].spec].spec;
    if (shard[i] != sh.index)
      continue;
    helion_buf_reset(&line);
    if (!(rc = helion_spec_shape_str(
              spec, ts[items[i].spec].shapes + items[i].shape * spec->nkeys,
              &line)))
      printf("%s %s %llu\n", spec->name, helion_buf_str(&line),
             (unsigned long long)cost[i]);
  }
out:
  helion_buf_cleanup(&line);
  return rc ? helion_err_set(err, rc, "out of memory") : HELION_OK;
}

/* Splits the work items of the specs (in canonical order) into shards and
 * keeps shard sh's shapes in each spec's `mine`. An exit code. */
static int plan_shard(const tune_args *a, tune_spec *ts, size_t nspecs,
                      helion_shard_t sh, const helion_device_props_t *dev) {
  helion_err_t err = {{0}};
  size_t n = 0, at = 0;
  for (size_t s = 0; s < nspecs; s++) {
    if (s && strcmp(ts[s].spec->name, ts[s - 1].spec->name) == 0) {
      fprintf(stderr,
              PROG ": %s and %s both define the kernel '%s': their "
              "fragments would share a name; shard them in separate runs\n",
              ts[s - 1].path, ts[s].path, ts[s].spec->name);
      return HELION_EXIT_USAGE;
    }
    n += ts[s].nshapes;
  }
  work_item *items = calloc(n ? n : 1, sizeof(*items));
  uint64_t *cost = calloc(n ? n : 1, sizeof(*cost));
  uint64_t *shard = calloc(n ? n : 1, sizeof(*shard));
  helion_status rc = items && cost && shard
                         ? HELION_OK
                         : helion_err_set(&err, HELION_ERR_NOMEM,
                                          "out of memory");
  for (size_t s = 0; s < nspecs && !rc; s++) {
    const helion_spec_t *spec = ts[s].spec;
    if (!(ts[s].mine = calloc(ts[s].nshapes * spec->nkeys + 1,
                              sizeof(int64_t))))
      rc = helion_err_set(&err, HELION_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ts[s].nshapes && !rc; i++, at++) {
      helion_space_t *space = NULL;
      items[at] = (work_item){s, i};
      rc = helion_spec_space(spec, ts[s].shapes + i * spec->nkeys, dev, &space,
                             &err);
      if (!rc)
        cost[at] = helion_shard_cost(space);
      helion_space_destroy(space);
    }
  }
  if (!rc)
    rc = helion_shard_assign(cost, n, sh.count, shard, &err);
  for (size_t i = 0; i < n && !rc; i++) {
    tune_spec *t = &ts[items[i].spec];
    size_t nk = t->spec->nkeys;
    if (shard[i] == sh.index)
      memcpy(t->mine + nk * t->nmine++, t->shapes + nk * items[i].shape,
             nk * sizeof(int64_t));
  }
  if (!rc)
    rc = report_shard(a, ts, nspecs, sh, items, cost, shard, n, &err);
  if (rc)
    fprintf(stderr, PROG ": %s\n", err.msg);
  free(items);
  free(cost);
  free(shard);
  return rc ? HELION_EXIT_FAILURE : HELION_EXIT_OK;
}

/* The shard of --shard (I/N or auto). An exit code. */
static int resolve_shard(const tune_args *a, helion_shard_t *out) {
  helion_err_t err = {{0}};
  helion_status rc = strcmp(a->shard, "auto") == 0
                         ? helion_shard_from_env(a->shards, out, &err)
                         : helion_shard_parse(a->shard, out, &err);
  if (rc)
    return usage_error("%s", err.msg);
  return HELION_EXIT_OK;
}

/* Each spec's results file: its fragment with --shard (the directory made
 * when missing), --tuned, or the default; none with --no-results or no
 * shapes to run. An exit code. */
static int results_paths(const tune_args *a, tune_spec *ts, size_t nspecs,
                         helion_shard_t sh) {
  const char *dir = a->fragment_dir ? a->fragment_dir : "helion-fragments";
  bool made = false;
  for (size_t s = 0; s < nspecs && !a->no_results; s++) {
    size_t n;
    run_shapes(a, &ts[s], &n);
    if (!n && a->shard)
      continue;
    if (a->shard && !made) {
      made = true;
      if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, PROG ": --fragment-dir %s: cannot create it: %s\n",
                dir, strerror(errno));
        return HELION_EXIT_FAILURE;
      }
    }
    ts[s].results_path =
        a->shard   ? helion_shard_fragment_path(dir, ts[s].spec->name, sh)
        : a->tuned ? helion_strdup(a->tuned)
                   : helion_results_default_path(ts[s].spec);
    if (!ts[s].results_path) {
      fprintf(stderr, PROG ": out of memory\n");
      return HELION_EXIT_FAILURE;
    }
  }
  return HELION_EXIT_OK;
}

/* Prints a failed run's message; its exit code (2 for an output that is an
 * input, else 1). */
static int run_failed(helion_status rc, const helion_err_t *err) {
  fprintf(stderr, PROG ": %s\n", err->msg);
  return rc == HELION_ERR_USAGE ? HELION_EXIT_USAGE : HELION_EXIT_FAILURE;
}

/* The run of one spec, borrowing from `a` and `t`. */
static helion_tune_run_opts_t run_opts(const tune_args *a, const tune_spec *t,
                                       const helion_search_opts_t *o,
                                       const helion_backend_cuda_opts_t *co) {
  size_t n;
  const int64_t *shapes = run_shapes(a, t, &n);
  helion_tune_run_opts_t ro = {
      t->spec,  shapes,          n,
      o,        co,              a->configs,
      a->nconfigs, a->trace,     t->results_path,
      a->shard ? "--fragment-dir" : "--tuned"};
  return ro;
}

/* Tunes one spec and prints its --json line; *any_failed is set when a
 * shape failed. An exit code. */
static int tune_spec_run(const tune_args *a, const tune_spec *t,
                         const helion_search_opts_t *o,
                         const helion_backend_cuda_opts_t *co,
                         bool *any_failed) {
  helion_err_t err = {{0}};
  int exit_code = HELION_EXIT_FAILURE;
  cJSON *root = cJSON_CreateObject();
  printed p = {NULL, false};
  helion_device_facts_t dev;
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
  if (!root || !(p.shapes = cJSON_AddArrayToObject(root, "shapes"))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  helion_tune_run_opts_t ro = run_opts(a, t, o, co);
  helion_status rc = helion_tune_run(&ro, on_shape, &p, &dev, &err);
  if (rc) {
    exit_code = run_failed(rc, &err);
    goto out;
  }
  if (a->json) {
    if (!cJSON_AddStringToObject(root, "spec", t->spec->name) ||
        !cJSON_AddStringToObject(root, "device", dev.props.name) ||
        helion_json_write(root, 0, &text, &err) ||
        helion_buf_putc(&text, '\n')) {
      fprintf(stderr, PROG ": cannot print the result: %s\n", err.msg);
      goto out;
    }
    fputs(helion_buf_str(&text), stdout);
    fflush(stdout);
  }
  *any_failed |= p.any_failed;
  exit_code = HELION_EXIT_OK;
out:
  cJSON_Delete(root);
  helion_buf_cleanup(&text);
  return exit_code;
}

int helion_cmd_tune(int argc, char **argv) {
  tune_args a;
  memset(&a, 0, sizeof(a));
  helion_search_opts_t o;
  helion_err_t err = {{0}};
  int level, prc;
  if (!(a.specs = calloc((size_t)argc + 1, sizeof(*a.specs)))) {
    fprintf(stderr, PROG ": out of memory\n");
    return HELION_EXIT_FAILURE;
  }
  if ((prc = parse_args(argc, argv, &a)) ||
      (prc = helion_cli_search_opts(PROG, &a.search, &o))) {
    free(a.specs);
    return prc < 0 ? HELION_EXIT_OK : prc;
  }
  if (helion_log_level_from_env(HELION_LOG_INFO, &level, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    free(a.specs);
    return HELION_EXIT_USAGE;
  }

  int exit_code = HELION_EXIT_FAILURE;
  size_t nspecs = 0;
  tune_spec *ts = calloc(a.nspecs, sizeof(*ts));
  helion_shard_t sh = {0, 1};
  helion_device_props_t props;
  bool any_failed = false;
  int saved_level = helion_log_level_current;
  helion_log_level_current =
      a.quiet && level > HELION_LOG_WARN ? HELION_LOG_WARN : level;
  helion_log_start();
  helion_interrupt_install();

  helion_backend_cuda_opts_t co;
  if (!ts) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  if (a.shard && (exit_code = resolve_shard(&a, &sh)))
    goto out;
  if (helion_backend_cuda_opts_init(&co, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    exit_code = HELION_EXIT_USAGE;
    goto out;
  }
  co.device = (int)a.device;
  if (a.devices && helion_backend_cuda_parse_devices(a.devices, &co, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    exit_code = HELION_EXIT_USAGE;
    goto out;
  }
  if (a.jobs)
    co.pool.jobs = (size_t)a.jobs;
  for (; nspecs < a.nspecs; nspecs++) {
    ts[nspecs].path = a.specs[nspecs];
    if ((exit_code = load_spec(&a, &ts[nspecs], &props))) {
      nspecs++;
      goto out;
    }
  }
  qsort(ts, nspecs, sizeof(*ts), spec_cmp);
  /* A typo in a --config costs no device start-up. */
  exit_code = HELION_EXIT_USAGE;
  if (helion_tune_check_configs(ts[0].spec, a.configs, a.nconfigs, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  if ((a.shard && (exit_code = plan_shard(&a, ts, nspecs, sh, &props))) ||
      a.dry_run || (exit_code = results_paths(&a, ts, nspecs, sh)))
    goto out;
  for (size_t s = 0; s < nspecs; s++) {
    helion_tune_run_opts_t ro = run_opts(&a, &ts[s], &o, &co);
    helion_status rc =
        ro.nshapes ? helion_tune_run_check(&ro, ts[s].path,
                                           a.search.options_json, &err)
                   : HELION_OK;
    if (rc) {
      exit_code = run_failed(rc, &err);
      goto out;
    }
  }
  for (size_t s = 0; s < nspecs && !helion_interrupted(); s++) {
    size_t n;
    run_shapes(&a, &ts[s], &n);
    if (!n && (nspecs > 1 || a.shard))
      continue;
    if (nspecs > 1)
      HELION_LOG(HELION_LOG_INFO, "%s (%s): %zu shape%s", ts[s].spec->name,
                 ts[s].path, n, n == 1 ? "" : "s");
    if ((exit_code = tune_spec_run(&a, &ts[s], &o, &co, &any_failed)))
      goto out;
  }
  exit_code = any_failed ? HELION_EXIT_FAILURE : HELION_EXIT_OK;
out:
  if (helion_interrupted())
    exit_code = helion_interrupt_exit_code(helion_interrupted());
  helion_log_level_current = saved_level;
  for (size_t s = 0; s < nspecs; s++)
    tune_spec_cleanup(&ts[s]);
  free(ts);
  free(a.specs);
  helion_interrupt_restore();
  return exit_code;
}
