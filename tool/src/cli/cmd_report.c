/* cmd_report.c: `helion-tune report`: draws a search trace as an SVG chart. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "results/report.h"
#include "util/util.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: helion-tune report TRACE [-o FILE] [--title TEXT]\n"
          "\n"
          "Draws a search trace (JSON lines, one per evaluation, as the search\n"
          "driver writes them) as an SVG chart: best-so-far time against the\n"
          "evaluation number and against elapsed seconds, every evaluation as\n"
          "a dot, failures as crosses above the plot, rebenchmarks as diamonds\n"
          "(not counted in best-so-far), and the optimum as a dashed line when\n"
          "the trace's meta line knows it.\n"
          "\n"
          "Options:\n"
          "  -o, --output FILE  where to write the SVG (default report.svg;\n"
          "                     '-' writes to stdout; a device or FIFO such\n"
          "                     as /dev/stdout is written through, a regular\n"
          "                     file replaced whole; never TRACE itself)\n"
          "  --title TEXT       chart title (default: algorithm, landscape and\n"
          "                     seed from the trace's meta line)\n"
          "  -h, --help         show this help\n"
          "\n"
          "A trace whose last line is cut off (a run killed mid-write) is\n"
          "drawn from its whole records, with a note on stderr.\n"
          "\n"
          "Exit status: 0 success, 1 failure (unreadable or malformed trace,\n"
          "write error), 2 usage error (also -o naming TRACE).\n");
}

/* Matches `--name VALUE`, `--name=VALUE` or `-s VALUE` at argv[*i]; returns
 * 1 with *out set, 0 when argv[*i] is another option, -1 when the value is
 * missing. */
static int take_value(int argc, char **argv, int *i, const char *shortname,
                      const char *longname, const char **out) {
  const char *a = argv[*i];
  size_t n = strlen(longname);
  if (strncmp(a, longname, n) == 0 && a[n] == '=') {
    *out = a + n + 1;
    return 1;
  }
  if (strcmp(a, longname) != 0 && !(shortname && strcmp(a, shortname) == 0))
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *out = argv[++*i];
  return 1;
}

int helion_cmd_report(int argc, char **argv) {
  int code = HELION_EXIT_FAILURE;
  const char *trace_path = NULL, *out_path = "report.svg", *title = NULL;
  helion_report_trace_t trace;
  helion_buf_t svg;
  helion_err_t err;
  memset(&trace, 0, sizeof trace);
  helion_buf_init(&svg, HELION_BUF_DEFAULT_MAX);

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int r;
    if (helion_cli_is_help(a)) {
      usage(stdout);
      code = HELION_EXIT_OK;
      goto out;
    }
    if ((r = take_value(argc, argv, &i, "-o", "--output", &out_path)) ||
        (r = take_value(argc, argv, &i, NULL, "--title", &title))) {
      if (r < 0) {
        fprintf(stderr, "helion-tune report: %s needs a value\n\n", a);
        goto usage_error;
      }
      continue;
    }
    if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "helion-tune report: unknown option '%s'\n\n", a);
      goto usage_error;
    }
    if (trace_path) {
      fprintf(stderr,
              "helion-tune report: one trace at a time ('%s' and '%s')\n\n",
              trace_path, a);
      goto usage_error;
    }
    trace_path = a;
  }
  if (!trace_path) {
    fprintf(stderr, "helion-tune report: missing TRACE\n\n");
    goto usage_error;
  }
  if (out_path[0] == '\0') {
    fprintf(stderr, "helion-tune report: -o needs a file name\n\n");
    goto usage_error;
  }

  static const char *const input_name[] = {"trace"};
  if (strcmp(out_path, "-") != 0 &&
      helion_output_check("-o", out_path, &trace_path, input_name, 1, &err)) {
    fprintf(stderr, "helion-tune report: %s\n", err.msg);
    code = HELION_EXIT_USAGE;
    goto out;
  }
  if (helion_report_load(trace_path, &trace, &err) != HELION_OK) {
    fprintf(stderr, "helion-tune report: %s\n", err.msg);
    goto out;
  }
  if (trace.cut_line)
    fprintf(stderr,
            "helion-tune report: %s: the last line (%zu) is cut off (the run "
            "was interrupted?); reporting the %zu whole records\n",
            trace_path, trace.cut_line, trace.cut_line - 1);
  helion_report_options_t opt = {title, trace_path};
  if (helion_report_svg(&trace, &opt, &svg, &err) != HELION_OK) {
    fprintf(stderr, "helion-tune report: %s\n", err.msg);
    goto out;
  }
  if (strcmp(out_path, "-") == 0) {
    if (fwrite(helion_buf_str(&svg), 1, svg.len, stdout) != svg.len ||
        fflush(stdout) != 0) {
      fprintf(stderr, "helion-tune report: cannot write to stdout\n");
      goto out;
    }
  } else if (helion_write_file_atomic(out_path, helion_buf_str(&svg), svg.len,
                                      &err) != HELION_OK) {
    fprintf(stderr, "helion-tune report: %s\n", err.msg);
    goto out;
  }
  helion_report_summary_t sum;
  helion_report_summarize(&trace, &sum);
  if (strcmp(out_path, "-") == 0)
    out_path = "the SVG to stdout";
  if (!isnan(sum.best_ms))
    fprintf(stderr,
            "helion-tune report: wrote %s (%zu evaluations, %zu failed, "
            "best %.4g ms)\n",
            out_path, sum.nevals, sum.nfailed, sum.best_ms);
  else
    fprintf(stderr,
            "helion-tune report: wrote %s (%zu evaluations, all failed)\n",
            out_path, sum.nevals);
  code = HELION_EXIT_OK;
  goto out;

usage_error:
  usage(stderr);
  code = HELION_EXIT_USAGE;
out:
  helion_report_trace_cleanup(&trace);
  helion_buf_cleanup(&svg);
  return code;
}
