/*
 * cmd_distill.c: `helion-tune distill SPEC`: many shapes, few configs
 * (results/distill_run.h on the GPU; results/distill.h offline with
 * --refit), and the report (--report: the matrix as a table on stdout and
 * an SVG heat map).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_cuda.h"
#include "cli/cli.h"
#include "model/spec.h"
#include "results/distill.h"
#include "results/distill_run.h"
#include "results/results_file.h"
#include "util/interrupt.h"

#define PROG "helion-tune distill"
#define DISTILL_MAX_SHAPES 256
#define DEPTH_UNSET UINT64_MAX

/* The help text is kept as it prints, one source line per output line. */
/* clang-format off */
static void usage(FILE *f) {
  fprintf(f, "usage: " PROG " SPEC [options]\n\n"
  "Many shapes, few kernels. For the spec's shapes (or --shape) on the GPU:\n"
  "takes each shape's tuned winner from the results file (tuning the shapes\n"
  "without a current entry first, as `helion-tune tune` would, and recording\n"
  "them), times every distinct winner on every shape (compiled, checked and\n"
  "re-timed side by side per shape), picks the fewest configs that keep every\n"
  "shape within --threshold of its own best (greedy, as Helion's AOT\n"
  "heuristics), and fits a decision tree over the shape's variables and their\n"
  "products and ratios that maps a shape to one of them. The matrix, the\n"
  "subset, each shape's slowdown and the tree go into the results file\n"
  "(\"distilled\", one element per device); `helion-tune generate` prints the\n"
  "tree as nested ifs that the dispatcher asks after the exact shape and\n"
  "before the nearest tuned shape.\n\nOptions:\n"
  "  --shape K=V,...       a shape to distill over (repeatable; default: every\n"
  "                        shape of the spec); at least 2\n"
  "  --tuned FILE          the results file (default <spec dir>/<name>.tuned.json)\n"
  "  --threshold X         keep every shape within X of its own best (default\n"
  "                        %.2f)\n"
  "  --max-configs N       at most N configs (default %d)\n"
  "  --max-depth N         tree depth at most N (default %d)\n"
  "  --refit               no GPU: fit again from the matrix already in the\n"
  "                        results file (e.g. with another --threshold)\n"
  "  --device-name NAME    with --refit: whose matrix (default: the only one)\n"
  "  --report              print the matrix (slowdown of each config against the\n"
  "                        shape's best, '*' the best, '-' failed or illegal)\n"
  "                        and the subset on stdout, and write an SVG heat map\n"
  "  --svg FILE            where --report writes the heat map (default\n"
  "                        <name>.distill.svg in the current directory)\n"
  "  --device N, --jobs N, --algorithm, --effort, --seed, --budget-seconds,\n"
  "  --max-evals, --set, --options-json\n"
  "                        as for `helion-tune tune`, for the shapes tuned first\n"
  "  --quiet               only warnings and errors on stderr\n"
  "  -h, --help            this help\n\n"
  "Exit status: 0 success, 1 failure (no GPU, fewer than 2 tuned shapes, a\n"
  "results file that cannot be read or written), 2 usage error, 130/143\n"
  "interrupted (shapes already tuned stay recorded; the distilled element is\n"
  "written only at the end).\n",
  HELION_DISTILL_THRESHOLD, HELION_DISTILL_MAX_CONFIGS,
  HELION_DISTILL_MAX_DEPTH);
}
/* clang-format on */

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

typedef struct distill_args {
  const char *spec_path, *tuned, *device_name, *svg;
  const char *shapes[DISTILL_MAX_SHAPES];
  size_t nshapes;
  helion_cli_search_t search;
  uint64_t device, jobs, max_configs;
  uint64_t max_depth; /* DEPTH_UNSET: not given (0 is a depth) */
  double threshold;
  bool refit, report, quiet;
} distill_args;

static int parse_args(int argc, char **argv, distill_args *a) {
  static const char *const valued[] = {
      HELION_CLI_SEARCH_FLAGS, HELION_CLI_GPU_FLAGS, "--shape", "--tuned",
      "--threshold", "--max-configs", "--max-depth", "--device-name", "--svg",
      NULL};
  static const char *const boolean[] = {"--refit", "--report", "--quiet",
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
      if (a->nshapes == DISTILL_MAX_SHAPES)
        return usage_error("--shape: at most %d shapes", DISTILL_MAX_SHAPES);
      a->shapes[a->nshapes++] = val;
    } else if (val && !*val && (strcmp(flag, "--tuned") == 0 ||
                         strcmp(flag, "--svg") == 0 ||
                         strcmp(flag, "--device-name") == 0)) {
      return usage_error("%s: empty value", flag);
    } else if (strcmp(flag, "--tuned") == 0) {
      a->tuned = val;
    } else if (strcmp(flag, "--svg") == 0) {
      a->svg = val;
    } else if (strcmp(flag, "--device-name") == 0) {
      a->device_name = val;
    } else if (strcmp(flag, "--threshold") == 0) {
      if (!helion_cli_parse_pos_double(val, &a->threshold) ||
          a->threshold < 1.0 || a->threshold > 100.0)
        return usage_error("--threshold: '%s' is not a number in [1, 100] "
                           "(1.05: within 5%% of each shape's best)",
                           val);
    } else if (strcmp(flag, "--max-configs") == 0) {
      if (!helion_cli_parse_u64(val, &a->max_configs) || !a->max_configs ||
          a->max_configs > 1024)
        return usage_error("--max-configs: '%s' is not an integer in "
                           "[1, 1024]",
                           val);
    } else if (strcmp(flag, "--max-depth") == 0) {
      if (!helion_cli_parse_u64(val, &a->max_depth) || a->max_depth > 32)
        return usage_error("--max-depth: '%s' is not an integer in [0, 32]",
                           val);
    } else if (strcmp(flag, "--refit") == 0) {
      a->refit = true;
    } else if (strcmp(flag, "--report") == 0) {
      a->report = true;
    } else {
      a->quiet = true;
    }
  }
  if (a->device_name && !a->refit)
    return usage_error("--device-name goes with --refit (a distill on the GPU "
                       "distills that GPU)");
  if (a->svg && !a->report)
    return usage_error("--svg goes with --report");
  return a->spec_path ? 0 : usage_error("missing SPEC");
}

/* --report: the table on stdout, the heat map in a file. */
static int report(const distill_args *a, const helion_spec_t *spec,
                  const helion_distill_t *d) {
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  char def[512];
  snprintf(def, sizeof(def), "%s.distill.svg", spec->name);
  const char *svg = a->svg ? a->svg : def;
  int code = HELION_EXIT_FAILURE;
  if (helion_distill_report_text(d, &b, &err)) {
    fprintf(stderr, PROG ": the report: %s\n", err.msg);
    goto out;
  }
  fputs(helion_buf_str(&b), stdout);
  fflush(stdout);
  helion_buf_reset(&b);
  if (helion_distill_report_svg(d, &b, &err) ||
      helion_write_file_atomic(svg, helion_buf_str(&b), b.len, &err)) {
    fprintf(stderr, PROG ": --svg %s: %s\n", svg, err.msg);
    goto out;
  }
  HELION_LOG(HELION_LOG_INFO, "Heat map written to %s", svg);
  code = HELION_EXIT_OK;
out:
  helion_buf_cleanup(&b);
  return code;
}

/* --refit: the stored matrix of one device fitted again, no GPU. */
static helion_status refit(const distill_args *a, const char *results_path,
                           helion_distill_t *d, helion_err_t *err) {
  helion_results_t r;
  helion_results_init(&r);
  bool found = false;
  helion_status rc = helion_results_load(results_path, &r, err);
  if (!rc)
    rc = helion_results_get_distilled(&r, a->device_name, NULL, d, &found, err);
  if (rc == HELION_ERR_USAGE) /* several devices: say which flag picks */
    snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
             "; name one with --device-name");
  if (!rc && !found)
    rc = helion_err_set(err, HELION_ERR_NOT_FOUND,
                        "%s has no distilled matrix%s%s; run `" PROG
                        " %s` on the GPU first",
                        results_path, a->device_name ? " of " : "",
                        a->device_name ? a->device_name : "", a->spec_path);
  if (!rc) {
    if (a->threshold > 0)
      d->threshold = a->threshold;
    if (a->max_configs)
      d->max_configs = (size_t)a->max_configs;
    if (a->max_depth != DEPTH_UNSET)
      d->max_depth = (unsigned)a->max_depth;
    if (!(rc = helion_distill_select(d, err)) &&
        !(rc = helion_distill_fit(d, err)) &&
        !(rc = helion_results_set_distilled(&r, d, err)))
      rc = helion_results_save(&r, err);
  }
  helion_results_cleanup(&r);
  return rc;
}

int helion_cmd_distill(int argc, char **argv) {
  distill_args a;
  memset(&a, 0, sizeof(a));
  a.max_depth = DEPTH_UNSET;
  helion_search_opts_t so;
  helion_err_t err = {{0}};
  int level, code = parse_args(argc, argv, &a);
  if (code)
    return code < 0 ? HELION_EXIT_OK : code;
  if ((code = helion_cli_search_opts(PROG, &a.search, &so)))
    return code;
  if (helion_log_level_from_env(HELION_LOG_INFO, &level, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_USAGE;
  }
  int saved_level = helion_log_level_current;
  helion_log_level_current =
      a.quiet && level > HELION_LOG_WARN ? HELION_LOG_WARN : level;
  helion_log_start();
  helion_interrupt_install();
  helion_spec_t *spec = NULL;
  int64_t *shapes = NULL;
  char *results_path = NULL;
  helion_distill_t d;
  helion_distill_init(&d);
  helion_status rc = HELION_OK;
  int64_t *no_shape = NULL;
  code = helion_cli_load_spec("distill", a.spec_path, NULL, NULL, &spec, NULL,
                              &no_shape);
  if (code)
    goto out;
  code = HELION_EXIT_FAILURE;
  if (!(results_path = a.tuned ? helion_strdup(a.tuned)
                               : helion_results_default_path(spec))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  if (a.refit) {
    rc = refit(&a, results_path, &d, &err);
  } else {
    size_t n = a.nshapes ? a.nshapes : spec->nshapes;
    if (!(shapes = calloc(n * spec->nkeys + 1, sizeof(*shapes)))) {
      fprintf(stderr, PROG ": out of memory\n");
      goto out;
    }
    for (size_t i = 0; i < n && !rc; i++)
      if (a.nshapes)
        rc = helion_spec_parse_shape(spec, a.shapes[i],
                                     shapes + i * spec->nkeys, &err);
      else
        memcpy(shapes + i * spec->nkeys, spec->shapes + i * spec->nkeys,
               spec->nkeys * sizeof(*shapes));
    if (rc) {
      fprintf(stderr, PROG ": --shape: %s\n", err.msg);
      code = HELION_EXIT_USAGE;
      goto out;
    }
    if (n < 2) {
      code = usage_error("%s: distill needs at least 2 shapes; give them "
                         "with --shape or in the spec",
                         spec->name);
      goto out;
    }
    helion_backend_cuda_opts_t co;
    if ((rc = helion_backend_cuda_opts_init(&co, &err))) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      code = HELION_EXIT_USAGE;
      goto out;
    }
    co.device = (int)a.device;
    if (a.jobs)
      co.pool.jobs = (size_t)a.jobs;
    helion_distill_run_opts_t o = {
        spec,
        shapes,
        n,
        &so,
        &co,
        results_path,
        a.threshold > 0 ? a.threshold : HELION_DISTILL_THRESHOLD,
        a.max_configs ? (size_t)a.max_configs : HELION_DISTILL_MAX_CONFIGS,
        a.max_depth != DEPTH_UNSET ? (unsigned)a.max_depth
                                   : HELION_DISTILL_MAX_DEPTH};
    rc = helion_distill_run(&o, &d, &err);
  }
  if (rc) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    code = rc == HELION_ERR_USAGE ? HELION_EXIT_USAGE : HELION_EXIT_FAILURE;
    goto out;
  }
  code = a.report ? report(&a, spec, &d) : HELION_EXIT_OK;
out:
  if (helion_interrupted())
    code = helion_interrupt_exit_code(helion_interrupted());
  helion_log_level_current = saved_level;
  helion_distill_cleanup(&d);
  free(results_path);
  free(shapes);
  helion_spec_destroy(spec);
  helion_interrupt_restore();
  return code;
}
