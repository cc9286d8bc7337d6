/*
 * report.h: reads a search trace (JSON lines, one per evaluation, written by
 * the search driver) and draws it as an SVG chart: best-so-far time against
 * evaluation number and against elapsed seconds.
 *
 * Trace lines (unknown keys are ignored, blank lines skipped):
 *   {"meta": {"landscape": "...", "algorithm": "...", "seed": 3,
 *             "optimum_ms": 0.0119}}                     first line only
 *   {"evaluation": 12, "config": {...}, "ms": 0.0123, "status": "ok",
 *    "elapsed": 3.2, "generation": 1}
 *   {"evaluation": 13, "config": {...}, "ms": null, "status": "compile",
 *    "elapsed": 3.4}         status: compile, runtime, accuracy or timeout
 *   {"rebench": true, "config": {...}, "ms": 0.0121, "elapsed": 9.8}
 *
 * Rebenchmark lines are drawn as separate marks and take no part in the
 * best-so-far series: they re-measure configs the search already timed, so
 * counting them would make the search look better than it searched.
 */
#ifndef HELION_REPORT_H
#define HELION_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* The outcome of one evaluation; the order is the order of the summary. */
typedef enum helion_report_outcome {
  HELION_REPORT_OK = 0,
  HELION_REPORT_COMPILE = 1,
  HELION_REPORT_RUNTIME = 2,
  HELION_REPORT_ACCURACY = 3,
  HELION_REPORT_TIMEOUT = 4,
} helion_report_outcome;

#define HELION_REPORT_NOUTCOMES 5

/* "ok", "compile", "runtime", "accuracy", "timeout". */
const char *helion_report_outcome_name(helion_report_outcome o);

typedef struct helion_report_eval {
  int64_t evaluation;
  double ms; /* > 0 when outcome is OK; NAN otherwise */
  double elapsed;
  int64_t generation; /* -1 when the line has none */
  helion_report_outcome outcome;
  size_t line; /* 1-based line of the trace file, for messages */
} helion_report_eval_t;

typedef struct helion_report_rebench {
  double ms;
  double elapsed;
  /* Evaluation number of the last evaluation line before this one (0 when
   * none): where the mark goes on the evaluation axis. */
  int64_t after_evaluation;
} helion_report_rebench_t;

typedef struct helion_report_trace {
  helion_report_eval_t *evals; /* sorted by evaluation number */
  size_t nevals;
  helion_report_rebench_t *rebench; /* in file order */
  size_t nrebench;
  char *landscape; /* NULL when the trace does not say */
  char *algorithm; /* NULL when the trace does not say */
  int64_t seed;
  bool has_seed;
  double optimum_ms; /* NAN when unknown */
  /* Compact JSON of the fastest OK config (ties: lowest evaluation number);
   * NULL when no evaluation succeeded. */
  char *best_config;
  /* The last line had no newline and was not whole JSON: the writer was
   * stopped mid-record (a crash, a kill -9). It was skipped; this is its
   * 1-based line number, 0 when the trace ends with a whole record. */
  size_t cut_line;
} helion_report_trace_t;

/*
 * Parses `len` bytes of trace text. `origin` (the file name) starts every
 * message: "t.jsonl:17: malformed JSON near '...' (column 5)",
 * "t.jsonl:3: \"ms\": expected a number or null, got string". Evaluation
 * numbers must be distinct; a trace without evaluations is an error
 * (HELION_ERR_INVALID). A last line cut off mid-record (no newline, not
 * whole JSON) is what a stopped writer leaves: it is skipped and named in
 * out->cut_line; a malformed line anywhere else is an error. On success fills
 * *out (release with helion_report_trace_cleanup); on failure *out is
 * untouched.
 */
helion_status helion_report_parse(const char *text, size_t len,
                                  const char *origin,
                                  helion_report_trace_t *out,
                                  helion_err_t *err);

/* Reads and parses the file at `path` (messages start with the path). */
helion_status helion_report_load(const char *path, helion_report_trace_t *out,
                                 helion_err_t *err);

/* Frees what the trace owns and zeroes it; accepts a zeroed trace. */
void helion_report_trace_cleanup(helion_report_trace_t *t);

typedef struct helion_report_summary {
  size_t nevals;
  size_t count[HELION_REPORT_NOUTCOMES]; /* by outcome; count[OK] succeeded */
  size_t nfailed;                        /* nevals - count[OK] */
  size_t nrebench;
  double best_ms; /* NAN when nothing succeeded */
  int64_t best_evaluation;
  double best_elapsed;
  double ratio_to_optimum; /* best_ms / optimum_ms; NAN when either unknown */
} helion_report_summary_t;

void helion_report_summarize(const helion_report_trace_t *t,
                             helion_report_summary_t *out);

/* The two x axes of the chart. */
typedef enum helion_report_axis {
  HELION_REPORT_BY_EVALUATION = 0,
  HELION_REPORT_BY_ELAPSED = 1,
} helion_report_axis;

/* A point where the best-so-far time improved. */
typedef struct helion_report_step {
  double x; /* evaluation number or elapsed seconds */
  double ms;
  int64_t evaluation;
} helion_report_step_t;

/*
 * The best-so-far series along `axis`: the OK evaluations, in order of the
 * axis (elapsed ties broken by evaluation number), at which the best time
 * strictly improved. The first OK evaluation is always a step. Caller frees
 * *out_steps with free(); *out_steps is NULL when *out_n is 0.
 */
helion_status helion_report_steps(const helion_report_trace_t *t,
                                  helion_report_axis axis,
                                  helion_report_step_t **out_steps,
                                  size_t *out_n, helion_err_t *err);

typedef struct helion_report_options {
  const char *title; /* NULL: built from the meta line, else from `origin` */
  const char *origin; /* the trace's file name, for the default title */
} helion_report_options_t;

/*
 * Appends the chart as a standalone SVG 1.1 document to `out`. Elements the
 * tests count carry classes: each OK evaluation is a <circle class="ok">
 * (one per panel), each failure a <path class="fail KIND">, each rebenchmark
 * a <path class="rebench">, the best-so-far a <path class="best">, the
 * optimum a <line class="optimum">. Above 20,000 OK evaluations, dots that
 * land on an already drawn pixel are left out so the file stays small; the
 * legend then says so. All trace text is XML-escaped.
 */
helion_status helion_report_svg(const helion_report_trace_t *t,
                                const helion_report_options_t *opt,
                                helion_buf_t *out, helion_err_t *err);

/* Appends `s` with &, <, >, " and ' escaped; control characters and bytes
 * that are not UTF-8 become '?', so the result is always valid XML text. */
helion_status helion_report_put_xml_text(helion_buf_t *out, const char *s);

#endif /* HELION_REPORT_H */
