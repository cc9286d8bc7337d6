/*
 * cmd_simulate.c: `helion-tune simulate LANDSCAPE`: runs a search against a
 * recorded tuning landscape (no GPU) R times with seeds S..S+R-1 and reports
 * how close each run got to the landscape's optimum, and after how many
 * evaluations and simulated seconds.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_sim.h"
#include "cli/cli.h"
#include "model/config.h"
#include "model/spec.h"
#include "search/search.h"
#include "util/interrupt.h"
#include "util/json.h"
#include "util/util.h"

#define PROG "helion-tune simulate"

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: " PROG " LANDSCAPE [options]\n"
      "\n"
      "Runs a search against a recorded tuning landscape (Kernel Tuner "
      "cache or T4\n"
      "JSON, plain or gzipped) instead of a GPU, and reports the quality "
      "of each run:\n"
      "ratio = recorded time of the chosen config / the landscape's "
      "optimum.\n"
      "\n"
      "Options:\n"
      "  --algorithm NAME      search algorithm (default $HELION_AUTOTUNER, "
      "else %s):\n",
      HELION_SEARCH_DEFAULT_ALGORITHM);
  helion_cli_print_algorithms(f);
  fprintf(
      f,
      "  --effort LEVEL        none, quick or full (default "
      "$HELION_AUTOTUNE_EFFORT,\n"
      "                        else full); none measures the default config "
      "only\n"
      "  --max-evals N         stop after N distinct configs measured (the "
      "last batch\n"
      "                        is truncated so N is never exceeded)\n"
      "  --budget-seconds S    stop once S simulated seconds are spent "
      "(checked before\n"
      "                        every config; default "
      "$HELION_AUTOTUNE_BUDGET_SECONDS)\n"
      "  --runs R              independent runs (default 1)\n"
      "  --seed S              seed of the first run; run i uses S+i "
      "(default\n"
      "                        $HELION_AUTOTUNE_RANDOM_SEED, else 0, so "
      "results repeat)\n"
      "  --noise               draw each measurement from the recorded "
      "individual runs\n"
      "                        (seeded by the run's seed) instead of the "
      "recorded mean\n"
      "  --compile-jobs N      the clock of a tune with N compile processes "
      "and one GPU:\n"
      "                        a batch's new configs compile N at a time, "
      "each is timed as\n"
      "                        soon as it is compiled and the GPU is free, "
      "and the clock\n"
      "                        advances by the batch's makespan (default: "
      "one config\n"
      "                        after another); searches then hand over whole "
      "batches, so\n"
      "                        --budget-seconds is checked per batch\n");
  fprintf(
      f,
      "  --json                print one JSON object to stdout: landscape, "
      "algorithm,\n"
      "                        effort, valid_configs, optimum_ms, runs[] "
      "(seed,\n"
      "                        evaluations, best_ms, measured_ms, ratio, "
      "sim_seconds,\n"
      "                        best_config, options: every option's "
      "resolved value)\n"
      "                        and summary (median_ratio, "
      "p90_ratio,\n"
      "                        within_1_02, within_1_05, within_1_10 as "
      "fractions of\n"
      "                        the runs; nearest-rank quantiles)\n"
      "  --set KEY=VALUE       set a search option, like a keyword argument "
      "of\n"
      "                        Helion's search classes (population_size=20,\n"
      "                        crossover_rate=0.5, num_neighbors=100, ...); "
      "repeatable;\n"
      "                        a bad key lists the algorithm's options;\n"
      "                        --list-options prints them all\n"
      "  --list-options        print every search option (of --algorithm's "
      "search only,\n"
      "                        when given before it): default, range, "
      "variable, help\n"
      "  --options-json FILE   replay recorded options: FILE holds "
      "{\"algorithm\",\n"
      "                        \"effort\", \"seed\", \"options\": "
      "{...}} (every key optional),\n"
      "                        e.g. the \"meta\" object of a trace's first "
      "line.\n"
      "                        Flags override FILE; FILE overrides the "
      "environment\n"
      "  --spec SPEC           the kernel spec the LLM searches' prompts "
      "describe: its\n"
      "                        source, arguments and shape (other searches "
      "ignore it).\n"
      "                        Prompt context only: the landscape's space is "
      "still what\n"
      "                        is searched and measured, and the device is "
      "the\n"
      "                        landscape's. A spec of another kernel or with "
      "other\n"
      "                        parameters is allowed, with a warning naming "
      "both\n"
      "  --shape K=V,...       the spec's shape the prompts show (default: "
      "the spec's\n"
      "                        only shape; required when it lists several)\n"
      "  --trace FILE          write every evaluation as one JSON line to "
      "FILE; with\n"
      "                        --runs > 1, run i writes FILE.<seed of run i>\n"
      "  --quiet               no log lines and no table on stderr (errors "
      "still)\n"
      "  -h, --help            this help\n"
      "\n"
      "Logs go to stderr as `[Ns] message` lines where N counts simulated "
      "seconds;\n"
      "with --runs > 1 only warnings and the table are shown. "
      "HELION_AUTOTUNE_LOG_LEVEL\n"
      "(DEBUG, INFO, WARNING, ERROR or a number) sets the level, as for "
      "tune.\n"
      "\n"
      "Ctrl-C (SIGINT) or SIGTERM stops the run at the next evaluation: its "
      "best so\n"
      "far is reported (table and --json, marked \"interrupted\"), the trace "
      "ends\n"
      "with the last whole record, later runs are skipped. A second Ctrl-C "
      "quits\n"
      "at once.\n"
      "Exit status: 0 success, 1 failure (unreadable landscape, a run that "
      "found no\n"
      "working config), 2 usage error (also a --trace that names an input), "
      "130\n"
      "interrupted by SIGINT, 143 by SIGTERM.\n");
}

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

typedef struct run_result {
  uint64_t seed;
  size_t evaluations;
  double best_ms;     /* recorded time of the pick; +inf if none */
  double measured_ms; /* what the search measured for it */
  double ratio;
  double sim_seconds;
  char *config_json;  /* canonical JSON or NULL */
  char *options_json; /* the resolved options' "options" object */
  char *error;        /* the run's error message or NULL */
  int interrupted;    /* the signal that stopped the run early, 0 if none */
  char *stages_json;  /* an LLM search's metrics (JSON object) or NULL */
} run_result;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank quantile of n sorted values: the smallest value with at
 * least q * n values at or below it. */
static double quantile(const double *sorted, size_t n, double q) {
  size_t k = (size_t)ceil(q * (double)n);
  if (k < 1)
    k = 1;
  if (k > n)
    k = n;
  return sorted[k - 1];
}

static void json_num(helion_buf_t *b, double v) {
  if (isfinite(v))
    helion_buf_appendf(b, "%.9g", v);
  else
    helion_buf_puts(b, "null");
}

/*
 * Keeps the run's resolved options (r->options_json) and, with a trace,
 * writes its first line: {"meta": {"landscape", "optimum_ms" and the
 * resolved options: "algorithm", "effort", "seed", "options"}}. The report
 * reads the title and the optimum from it (report.h); --options-json
 * replays the "meta" object.
 */
static helion_status record_options(const helion_search_t *s,
                                    const char *landscape, helion_sim_t *sim,
                                    FILE *trace, run_result *r,
                                    helion_err_t *err) {
  cJSON *meta = NULL, *line = NULL;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_search_resolved_options(s, &meta, err);
  if (rc)
    goto out;
  if ((rc = helion_json_write(cJSON_GetObjectItemCaseSensitive(meta, "options"),
                              0, &b, err)))
    goto out;
  r->options_json = helion_buf_take(&b);
  if (!trace)
    goto out;
  line = cJSON_CreateObject();
  if (!line || !cJSON_AddItemToObject(line, "meta", meta)) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  cJSON *m = meta;
  meta = NULL; /* owned by line now */
  if (!cJSON_AddStringToObject(m, "landscape", landscape) ||
      !cJSON_AddNumberToObject(m, "optimum_ms",
                               helion_sim_optimum(sim, NULL))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = helion_json_write(line, 0, &b, err)) ||
      (rc = helion_buf_putc(&b, '\n')))
    goto out;
  if ((rc = helion_file_write_record(trace, helion_buf_str(&b), b.len, err)))
    helion_err_prefix(err, "--trace: ");
out:
  cJSON_Delete(meta);
  cJSON_Delete(line);
  helion_buf_cleanup(&b);
  return rc;
}

/* Run i's trace file: FILE, or FILE.<seed> with several runs. */
static void trace_name_of(const char *trace, uint64_t runs_n, uint64_t seed,
                          char *out, size_t cap) {
  if (runs_n == 1)
    snprintf(out, cap, "%s", trace);
  else
    snprintf(out, cap, "%s.%llu", trace, (unsigned long long)seed);
}

static helion_status run_once(helion_sim_t *sim, const char *landscape,
                              helion_search_opts_t *o,
                              const helion_llm_context_t *ctx,
                              const char *trace_path, run_result *r,
                              helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_search_t *s = NULL;
  FILE *trace = NULL;
  helion_buf_t json;
  helion_buf_init(&json, 1 << 20);
  const helion_space_t *space = helion_sim_space(sim);
  helion_sim_reset(sim, o->seed);
  if (trace_path) {
    trace = fopen(trace_path, "w");
    if (!trace) {
      rc = helion_err_set(err, HELION_ERR_IO, "--trace: cannot write %s: %s",
                          trace_path, strerror(errno));
      goto out;
    }
  }
  o->trace = trace;
  o->llm_context = ctx;
  r->seed = o->seed;
  r->best_ms = r->measured_ms = r->ratio = INFINITY;
  if ((rc = helion_search_create(space, helion_sim_backend(sim), o, &s, err)) ||
      (rc = record_options(s, landscape, sim, trace, r, err)))
    goto out;
  helion_status run_rc = helion_search_run(s, err);
  const helion_search_metrics_t *m = helion_search_metrics(s);
  r->evaluations = m->configs_tested;
  r->sim_seconds = helion_sim_elapsed(sim);
  if (m->llm_requests || m->hybrid) {
    helion_buf_t sb;
    helion_buf_init(&sb, 4096);
    helion_buf_appendf(&sb, "{\"llm_requests\": %zu", m->llm_requests);
    if (m->hybrid) {
      helion_buf_appendf(&sb,
                         ", \"used_llm_seed\": %s, \"llm_configs_tested\": "
                         "%zu, \"llm_seed_ms\": ",
                         m->used_llm_seed ? "true" : "false",
                         m->llm_configs_tested);
      json_num(&sb, m->llm_seed_ms);
      helion_buf_puts(&sb, ", \"second_stage_algorithm\": ");
      helion_buf_put_json_string(&sb, m->second_stage ? m->second_stage : "");
      helion_buf_appendf(&sb, ", \"second_stage_configs_tested\": %zu, "
                              "\"second_stage_ms\": ",
                         m->stage2_configs_tested);
      json_num(&sb, m->stage2_best_ms);
    }
    helion_buf_putc(&sb, '}');
    r->stages_json = helion_buf_take(&sb);
  }
  r->interrupted = helion_interrupted();
  if (run_rc == HELION_ERR_NO_CONFIG && r->interrupted && !r->evaluations)
    run_rc = helion_err_set(err, HELION_ERR_NO_CONFIG,
                            "interrupted by %s before any configuration was "
                            "measured",
                            helion_interrupt_name(r->interrupted));
  if (run_rc == HELION_ERR_NO_CONFIG) {
    /* A search that found nothing working is a result of the run. */
    r->error = helion_strdup(err->msg);
    goto out;
  }
  if ((rc = run_rc))
    goto out;
  const int64_t *best = helion_search_best(s);
  helion_sim_record_t rec;
  if (best && helion_sim_lookup(sim, best, &rec)) {
    r->best_ms = rec.ms;
    r->measured_ms = helion_search_best_ms(s);
    r->ratio = rec.ms / helion_sim_optimum(sim, NULL);
  }
  if (best) {
    if ((rc = helion_config_to_json(space, best, false, &json))) {
      helion_err_set(err, rc, "cannot format the best configuration");
      goto out;
    }
    r->config_json = helion_buf_take(&json);
  }
out:
  if (trace && fclose(trace) != 0 && rc == HELION_OK)
    rc = helion_err_set(err, HELION_ERR_IO, "--trace: cannot write %s",
                        trace_path);
  o->trace = NULL;
  o->llm_context = NULL;
  helion_search_destroy(s);
  helion_buf_cleanup(&json);
  return rc;
}

static void print_table(const char *path, helion_sim_t *sim,
                        const helion_search_opts_t *o, const run_result *runs,
                        size_t nruns, const double *sorted) {
  fprintf(stderr, "%s: %zu valid configs, optimum %.6g ms\n", path,
          helion_sim_valid_count(sim), helion_sim_optimum(sim, NULL));
  fprintf(stderr, "%s, effort %s\n",
          o->algorithm ? o->algorithm : HELION_SEARCH_DEFAULT_ALGORITHM,
          helion_effort_name(o->effort));
  fprintf(stderr, "%8s %8s %12s %8s %10s\n", "seed", "evals", "best_ms",
          "ratio", "sim_s");
  for (size_t i = 0; i < nruns; i++) {
    const run_result *r = &runs[i];
    if (r->error)
      fprintf(stderr, "%8llu %8zu %12s %8s %10.1f  (no working config)\n",
              (unsigned long long)r->seed, r->evaluations, "-", "-",
              r->sim_seconds);
    else
      fprintf(stderr, "%8llu %8zu %12.6g %8.4f %10.1f%s\n",
              (unsigned long long)r->seed, r->evaluations, r->best_ms, r->ratio,
              r->sim_seconds,
              r->interrupted ? "  (interrupted: best so far)" : "");
  }
  if (nruns > 1) {
    size_t w2 = 0, w5 = 0, w10 = 0;
    for (size_t i = 0; i < nruns; i++) {
      w2 += sorted[i] <= 1.02;
      w5 += sorted[i] <= 1.05;
      w10 += sorted[i] <= 1.10;
    }
    fprintf(stderr,
            "median ratio %.4f, p90 %.4f; within 2%%: %zu/%zu, 5%%: %zu/%zu, "
            "10%%: %zu/%zu\n",
            quantile(sorted, nruns, 0.5), quantile(sorted, nruns, 0.9), w2,
            nruns, w5, nruns, w10, nruns);
  }
}

static helion_status print_json(const char *path, helion_sim_t *sim,
                                const helion_search_opts_t *o,
                                const run_result *runs, size_t nruns,
                                const double *sorted) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_buf_puts(&b, "{\"landscape\": ");
  helion_buf_put_json_string(&b, path);
  helion_buf_puts(&b, ", \"algorithm\": ");
  helion_buf_put_json_string(
      &b, o->algorithm ? o->algorithm : HELION_SEARCH_DEFAULT_ALGORITHM);
  helion_buf_appendf(&b,
                     ", \"effort\": \"%s\", \"valid_configs\": %zu, "
                     "\"compile_jobs\": %zu, \"optimum_ms\": ",
                     helion_effort_name(o->effort),
                     helion_sim_valid_count(sim), helion_sim_compile_jobs(sim));
  json_num(&b, helion_sim_optimum(sim, NULL));
  helion_buf_puts(&b, ", \"runs\": [");
  for (size_t i = 0; i < nruns; i++) {
    const run_result *r = &runs[i];
    helion_buf_appendf(&b,
                       "%s{\"seed\": %llu, \"evaluations\": %zu, "
                       "\"best_ms\": ",
                       i ? ", " : "", (unsigned long long)r->seed,
                       r->evaluations);
    json_num(&b, r->best_ms);
    helion_buf_puts(&b, ", \"measured_ms\": ");
    json_num(&b, r->measured_ms);
    helion_buf_puts(&b, ", \"ratio\": ");
    json_num(&b, r->ratio);
    helion_buf_puts(&b, ", \"sim_seconds\": ");
    json_num(&b, r->sim_seconds);
    helion_buf_puts(&b, ", \"best_config\": ");
    helion_buf_puts(&b, r->config_json ? r->config_json : "null");
    helion_buf_puts(&b, ", \"options\": ");
    helion_buf_puts(&b, r->options_json ? r->options_json : "null");
    if (r->stages_json) {
      helion_buf_puts(&b, ", \"llm\": ");
      helion_buf_puts(&b, r->stages_json);
    }
    if (r->error) {
      helion_buf_puts(&b, ", \"error\": ");
      helion_buf_put_json_string(&b, r->error);
    }
    if (r->interrupted)
      helion_buf_appendf(&b, ", \"interrupted\": \"%s\"",
                         helion_interrupt_name(r->interrupted));
    helion_buf_putc(&b, '}');
  }
  size_t w2 = 0, w5 = 0, w10 = 0;
  for (size_t i = 0; i < nruns; i++) {
    w2 += sorted[i] <= 1.02;
    w5 += sorted[i] <= 1.05;
    w10 += sorted[i] <= 1.10;
  }
  helion_buf_puts(&b, "], \"summary\": {\"median_ratio\": ");
  json_num(&b, quantile(sorted, nruns, 0.5));
  helion_buf_puts(&b, ", \"p90_ratio\": ");
  json_num(&b, quantile(sorted, nruns, 0.9));
  helion_status rc = helion_buf_appendf(
      &b,
      ", \"within_1_02\": %.6g, \"within_1_05\": %.6g, \"within_1_10\": "
      "%.6g}}\n",
      (double)w2 / (double)nruns, (double)w5 / (double)nruns,
      (double)w10 / (double)nruns);
  if (rc == HELION_OK)
    fputs(helion_buf_str(&b), stdout);
  helion_buf_cleanup(&b);
  return rc;
}

/* Whether config key `key` is one of n params' keys. */
static bool has_key(const helion_param_t *p, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(p[i].key, key) == 0)
      return true;
  return false;
}

/* Whether two parameter lists have the same config keys. */
static bool same_keys(const helion_param_t *a, size_t na,
                      const helion_param_t *b, size_t nb) {
  for (size_t i = 0; i < na; i++)
    if (!has_key(b, nb, a[i].key))
      return false;
  for (size_t i = 0; i < nb; i++)
    if (!has_key(a, na, b[i].key))
      return false;
  return true;
}

/* "MWG, NWG, KWG, ..." : the distinct keys of n params, at most 6 shown. */
static void put_keys(helion_buf_t *b, const helion_param_t *p, size_t n) {
  size_t shown = 0;
  for (size_t i = 0; i < n; i++) {
    if (has_key(p, i, p[i].key))
      continue; /* a sequence key's later slots */
    if (shown++ == 6) {
      helion_buf_puts(b, ", ...");
      return;
    }
    helion_buf_appendf(b, "%s%s", shown > 1 ? ", " : "", p[i].key);
  }
}

/*
 * --spec describes the prompts' kernel, the landscape what is measured; a
 * user may well pair them loosely (a similar kernel's spec), so a spec of
 * another kernel or with other parameters is one warning, not an error.
 */
static void warn_spec_mismatch(const char *spec_path, const helion_spec_t *sp,
                               const helion_sim_t *sim) {
  const helion_space_t *space = helion_sim_space(sim);
  const char *lname = helion_sim_kernel_name(sim);
  bool same_name = lname && strcmp(lname, sp->name) == 0;
  if (same_name &&
      same_keys(sp->params, sp->nparams, space->params, space->nparams))
    return;
  helion_buf_t b;
  helion_buf_init(&b, 4096);
  helion_buf_appendf(&b, "--spec %s: kernel '%s' (parameters ", spec_path,
                     sp->name);
  put_keys(&b, sp->params, sp->nparams);
  helion_buf_appendf(&b, ") is not the landscape's kernel '%s' (parameters ",
                     lname ? lname : "(unnamed)");
  put_keys(&b, space->params, space->nparams);
  helion_buf_puts(&b, "); the prompts show the spec's source, arguments and "
                      "shape with the landscape's parameters, which are what "
                      "is searched and measured");
  HELION_LOG(HELION_LOG_WARN, "%s", helion_buf_str(&b));
  helion_buf_cleanup(&b);
}

int helion_cmd_simulate(int argc, char **argv) {
  static const char *const valued[] = {
      HELION_CLI_SEARCH_FLAGS, "--runs",          "--trace", "--spec",
      "--shape",               "--compile-jobs", NULL};
  static const char *const boolean[] = {"--noise", "--json", "--quiet",
                                        "--list-options", NULL};
  static const helion_cli_flags_t flags = {valued, boolean};
  const char *path = NULL, *trace = NULL, *spec_path = NULL, *shape = NULL;
  uint64_t runs_n = 1, compile_jobs = 0;
  bool noise = false, json = false, quiet = false, list = false;
  helion_cli_search_t sf;
  helion_search_opts_t o;
  helion_err_t err = {{0}};
  int exit_code = HELION_EXIT_FAILURE;
  helion_sim_t *sim = NULL;
  run_result *results = NULL;
  double *sorted = NULL;
  char *trace_name = NULL;
  uint64_t ndone = 0; /* runs finished (or stopped by an interrupt) */
  helion_spec_t *spec = NULL;
  int64_t *shape_values = NULL;
  helion_llm_context_t ctx;
  helion_llm_context_text_t ctx_text = {0};

  memset(&sf, 0, sizeof(sf));
  for (int i = 1; i < argc;) {
    const char *flag, *val;
    if (helion_cli_is_help(argv[i])) {
      usage(stdout);
      return HELION_EXIT_OK;
    }
    int rc = helion_cli_next(PROG, argc, argv, &i, &flags, &flag, &val);
    if (rc)
      return rc;
    if (flag) {
      rc = helion_cli_search_flag(PROG, flag, val, &sf);
      if (rc != HELION_CLI_NOT_SEARCH_FLAG) {
        if (rc)
          return rc;
        continue;
      }
    }
    if (!flag) {
      if (path)
        return usage_error("unexpected argument '%s' (one LANDSCAPE only)",
                           val);
      path = val;
    } else if (strcmp(flag, "--runs") == 0) {
      if (!helion_cli_parse_u64(val, &runs_n) || runs_n == 0 || runs_n > 100000)
        return usage_error("--runs: '%s' is not an integer in [1, 100000]",
                           val);
    } else if (strcmp(flag, "--compile-jobs") == 0) {
      if (!helion_cli_parse_u64(val, &compile_jobs) || compile_jobs == 0 ||
          compile_jobs > 1024)
        return usage_error("--compile-jobs: '%s' is not an integer in [1, "
                           "1024]",
                           val);
    } else if (strcmp(flag, "--trace") == 0) {
      if (!*val)
        return usage_error("--trace: empty file name");
      trace = val;
    } else if (strcmp(flag, "--spec") == 0) {
      if (!*val)
        return usage_error("--spec: empty file name");
      spec_path = val;
    } else if (strcmp(flag, "--shape") == 0) {
      if (!*val)
        return usage_error("--shape: empty shape; expected K=V,... e.g. "
                           "M=4096,N=4096,K=4096");
      shape = val;
    } else if (strcmp(flag, "--noise") == 0) {
      noise = true;
    } else if (strcmp(flag, "--json") == 0) {
      json = true;
    } else if (strcmp(flag, "--quiet") == 0) {
      quiet = true;
    } else {
      list = true;
    }
  }
  /* The environment, then --options-json, then the other flags. */
  int rc = helion_cli_search_opts(PROG, &sf, &o);
  if (rc)
    return rc;
  if (list) {
    helion_cli_print_search_options(stdout, o.algorithm);
    return HELION_EXIT_OK;
  }
  if (!path)
    return usage_error("missing LANDSCAPE");
  if (shape && !spec_path)
    return usage_error("--shape needs --spec (it picks the spec's shape the "
                       "prompts show)");
  /* The simulator's clock is exact: check the budget before every config
   * (unless told otherwise), except where the clock needs whole batches. */
  o.bench_chunk = compile_jobs ? 0 : 1;

  /* HELION_AUTOTUNE_LOG_LEVEL as tune reads it; unset, many runs show only
   * warnings; --quiet wins. */
  int level, saved_level = helion_log_level_current;
  if (helion_log_level_from_env(runs_n > 1 ? HELION_LOG_WARN : HELION_LOG_INFO,
                                &level, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_USAGE;
  }
  helion_log_level_current = quiet ? HELION_LOG_ERROR : level;
  helion_interrupt_install();

  if (trace)
    trace_name = malloc(strlen(trace) + 32);
  if (trace && !trace_name) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  /* No run may overwrite what it reads: checked for every run's trace
   * before the first run. */
  for (uint64_t r = 0; trace && r < runs_n; r++) {
    static const char *const names[] = {"landscape", "--options-json file",
                                        "--spec file"};
    const char *inputs[] = {path, sf.options_json, spec_path};
    trace_name_of(trace, runs_n, o.seed + r, trace_name, strlen(trace) + 32);
    if (helion_output_check("--trace", trace_name, inputs, names, 3, &err)) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      exit_code = HELION_EXIT_USAGE;
      goto out;
    }
  }

  if (spec_path) {
    int code = helion_cli_load_spec("simulate", spec_path, NULL, shape, &spec,
                                    NULL, &shape_values);
    if (code != HELION_EXIT_OK) {
      exit_code = code;
      goto out;
    }
    if (!shape && spec->nshapes > 1) {
      helion_buf_t b;
      helion_buf_init(&b, 64 << 10);
      for (size_t i = 0; i < spec->nshapes; i++)
        for (size_t k = 0; k < spec->nkeys; k++)
          helion_buf_appendf(&b, "%s%s=%lld", k ? "," : i ? " | " : "",
                             spec->keys[k],
                             (long long)spec->shapes[i * spec->nkeys + k]);
      exit_code = usage_error("--spec %s lists %zu shapes; pick the one the "
                              "prompts show with --shape: %s",
                              spec_path, spec->nshapes, helion_buf_str(&b));
      helion_buf_cleanup(&b);
      goto out;
    }
  }

  helion_sim_opts_t so = {noise, o.seed, (size_t)compile_jobs};
  if (helion_sim_load(path, &so, &sim, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  /* What an LLM search's prompts say: the spec's kernel, arguments and
   * shape when given, else the landscape's kernel name; the landscape's
   * device and space. */
  helion_llm_context_init(spec,
                          shape_values ? shape_values
                          : spec && spec->nshapes ? spec->shapes
                                                  : NULL,
                          NULL, helion_sim_space(sim), &ctx, &ctx_text);
  if (!spec)
    ctx.kernel_name = helion_sim_kernel_name(sim);
  ctx.device = helion_sim_device_name(sim);
  if (spec)
    warn_spec_mismatch(spec_path, spec, sim);
  results = calloc(runs_n, sizeof(*results));
  sorted = calloc(runs_n, sizeof(*sorted));
  if (!results || !sorted) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  uint64_t first = o.seed;
  bool any_failed = false;
  /* An interrupt ends the run in progress with its best so far; the runs
   * after it are not started, and the table and JSON show the runs done. */
  for (; ndone < runs_n && !helion_interrupted(); ndone++) {
    uint64_t r = ndone;
    o.seed = first + r;
    if (trace)
      trace_name_of(trace, runs_n, o.seed, trace_name, strlen(trace) + 32);
    if (run_once(sim, path, &o, &ctx, trace ? trace_name : NULL, &results[r],
                 &err)) {
      fprintf(stderr, PROG ": %s: run with seed %llu: %s\n", path,
              (unsigned long long)o.seed, err.msg);
      goto out;
    }
    if (results[r].error) {
      any_failed = true;
      HELION_LOG(HELION_LOG_ERROR, "run with seed %llu: %s",
                 (unsigned long long)o.seed, results[r].error);
    }
    sorted[r] = results[r].ratio;
  }
  o.seed = first;
  if (ndone == 0) {
    fprintf(stderr, PROG ": interrupted by %s before the first run\n",
            helion_interrupt_name(helion_interrupted()));
    goto out;
  }
  qsort(sorted, ndone, sizeof(double), cmp_double);
  /* Interrupted, the table shows even with --quiet: it is the result. */
  if (!quiet || helion_interrupted())
    print_table(path, sim, &o, results, (size_t)ndone, sorted);
  if (json && print_json(path, sim, &o, results, (size_t)ndone, sorted)) {
    fprintf(stderr, PROG ": output too large\n");
    goto out;
  }
  exit_code = any_failed ? HELION_EXIT_FAILURE : HELION_EXIT_OK;
out:
  if (helion_interrupted())
    exit_code = helion_interrupt_exit_code(helion_interrupted());
  helion_interrupt_restore();
  helion_log_level_current = saved_level;
  if (results)
    for (uint64_t r = 0; r < runs_n; r++) {
      free(results[r].config_json);
      free(results[r].options_json);
      free(results[r].stages_json);
      free(results[r].error);
    }
  free(results);
  free(sorted);
  free(trace_name);
  helion_sim_destroy(sim);
  helion_llm_context_cleanup(&ctx_text);
  free(shape_values);
  helion_spec_destroy(spec);
  return exit_code;
}
