/* test_report.c: unit tests of the trace parser, the best-so-far series and
 * the SVG chart (report.h). Expected values are worked out by hand in the
 * comments next to them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "results/report.h"

/* Parses `text` as t.jsonl and expects failure with exactly `msg`. */
static void expect_error(const char *text, helion_status want_rc,
                         const char *msg) {
  helion_report_trace_t t;
  helion_err_t err;
  memset(&t, 0, sizeof t);
  err.msg[0] = '\0';
  helion_status rc =
      helion_report_parse(text, strlen(text), "t.jsonl", &t, &err);
  assert_int_equal(rc, want_rc);
  assert_string_equal(err.msg, msg);
  /* Out-parameters are written only on success. */
  assert_null(t.evals);
}

static void parse_ok(const char *text, helion_report_trace_t *t) {
  helion_err_t err;
  err.msg[0] = '\0';
  helion_status rc = helion_report_parse(text, strlen(text), "t.jsonl", t,
                                         &err);
  if (rc)
    fail_msg("unexpected parse error: %s", err.msg);
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static char *data_path(const char *rel) {
  const char *dir = getenv("HELION_TEST_DATA");
  if (!dir)
    dir = "tests/data";
  char *p = helion_path_join(dir, rel);
  assert_non_null(p);
  return p;
}

static void load_small(helion_report_trace_t *t) {
  char *path = data_path("traces/small.jsonl");
  helion_err_t err;
  err.msg[0] = '\0';
  helion_status rc = helion_report_load(path, t, &err);
  free(path);
  if (rc)
    fail_msg("small.jsonl: %s", err.msg);
}

#define EVAL(n, st, ms, el)                                                    \
  "{\"evaluation\": " #n ", \"config\": {\"b\": " #n "}, \"ms\": " ms          \
  ", \"status\": \"" st "\", \"elapsed\": " el "}\n"

/* small.jsonl by hand: 10 evaluations, OK at 1 (0.50), 3 (0.40), 4 (0.45),
 * 6 (0.30), 8 (0.30), 10 (0.25); failures compile 2, timeout 5, runtime 7,
 * accuracy 9; one rebenchmark (0.31 ms at 9.5 s) after evaluation 6. */
static void test_report_parse_small_fixture(void **state) {
  (void)state;
  helion_report_trace_t t;
  load_small(&t);
  assert_int_equal(t.nevals, 10);
  assert_int_equal(t.nrebench, 1);
  assert_int_equal(t.evals[0].evaluation, 1);
  assert_int_equal(t.evals[9].evaluation, 10);
  assert_true(t.evals[0].ms == 0.50);
  assert_int_equal(t.evals[1].outcome, HELION_REPORT_COMPILE);
  assert_true(isnan(t.evals[1].ms));
  assert_true(t.evals[4].elapsed == 8.0);
  assert_int_equal(t.evals[3].generation, 1);
  assert_int_equal(t.evals[9].generation, -1); /* the line has none */
  assert_int_equal(t.evals[9].line, 11);       /* the rebench is line 7 */
  assert_true(t.rebench[0].ms == 0.31);
  assert_true(t.rebench[0].elapsed == 9.5);
  assert_int_equal(t.rebench[0].after_evaluation, 6);
  assert_null(t.algorithm);
  assert_null(t.landscape);
  assert_false(t.has_seed);
  assert_true(isnan(t.optimum_ms));
  assert_string_equal(t.best_config, "{\"b\":64,\"w\":4,\"s\":2}");
  helion_report_trace_cleanup(&t);
  assert_null(t.evals);
  helion_report_trace_cleanup(&t); /* twice is harmless */
}

static void test_report_summary_counts_failures_by_kind(void **state) {
  (void)state;
  helion_report_trace_t t;
  helion_report_summary_t s;
  load_small(&t);
  helion_report_summarize(&t, &s);
  assert_int_equal(s.nevals, 10);
  assert_int_equal(s.count[HELION_REPORT_OK], 6);
  assert_int_equal(s.count[HELION_REPORT_COMPILE], 1);
  assert_int_equal(s.count[HELION_REPORT_RUNTIME], 1);
  assert_int_equal(s.count[HELION_REPORT_ACCURACY], 1);
  assert_int_equal(s.count[HELION_REPORT_TIMEOUT], 1);
  assert_int_equal(s.nfailed, 4);
  assert_int_equal(s.nrebench, 1);
  assert_true(s.best_ms == 0.25);
  assert_int_equal(s.best_evaluation, 10);
  assert_true(s.best_elapsed == 12.5);
  assert_true(isnan(s.ratio_to_optimum)); /* no optimum known */
  helion_report_trace_cleanup(&t);
}

/* Best so far: 0.50 (1), 0.40 (3), 0.45 no, 0.30 (6), 0.30 again at 8 is no
 * strict improvement, 0.25 (10). The rebenchmark (0.31) is not a step. */
static void test_report_steps_by_evaluation(void **state) {
  (void)state;
  helion_report_trace_t t;
  helion_report_step_t *st = NULL;
  size_t n = 0;
  helion_err_t err;
  load_small(&t);
  assert_int_equal(
      helion_report_steps(&t, HELION_REPORT_BY_EVALUATION, &st, &n, &err), 0);
  assert_int_equal(n, 4);
  const double x[] = {1, 3, 6, 10}, ms[] = {0.50, 0.40, 0.30, 0.25};
  for (size_t i = 0; i < 4; i++) {
    assert_true(st[i].x == x[i]);
    assert_true(st[i].ms == ms[i]);
    assert_int_equal(st[i].evaluation, (int64_t)x[i]);
  }
  free(st);
  /* Along elapsed seconds the same evaluations improve, at 1.0, 2.5, 9.0 and
   * 12.5 s (elapsed grows with the evaluation number in this trace). */
  assert_int_equal(
      helion_report_steps(&t, HELION_REPORT_BY_ELAPSED, &st, &n, &err), 0);
  assert_int_equal(n, 4);
  const double el[] = {1.0, 2.5, 9.0, 12.5};
  for (size_t i = 0; i < 4; i++) {
    assert_true(st[i].x == el[i]);
    assert_true(st[i].ms == ms[i]);
  }
  free(st);
  helion_report_trace_cleanup(&t);
}

/* Evaluations that finish out of order (a parallel search): by number
 * 1 (0.3), 2 (0.2), 3 (0.1) all improve; by time 2 finishes first (1.0 s,
 * 0.2), then 1 (2.0 s, 0.3: no improvement), then 3 (3.0 s, 0.1). */
static void test_report_steps_out_of_order(void **state) {
  (void)state;
  const char *text = EVAL(2, "ok", "0.2", "1.0") EVAL(1, "ok", "0.3", "2.0")
      EVAL(3, "ok", "0.1", "3.0");
  helion_report_trace_t t;
  helion_report_step_t *st = NULL;
  size_t n = 0;
  helion_err_t err;
  parse_ok(text, &t);
  assert_int_equal(t.evals[0].evaluation, 1);
  assert_int_equal(t.evals[0].line, 2);
  assert_int_equal(
      helion_report_steps(&t, HELION_REPORT_BY_EVALUATION, &st, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_true(st[0].ms == 0.3 && st[1].ms == 0.2 && st[2].ms == 0.1);
  free(st);
  assert_int_equal(
      helion_report_steps(&t, HELION_REPORT_BY_ELAPSED, &st, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_true(st[0].x == 1.0 && st[0].ms == 0.2 && st[0].evaluation == 2);
  assert_true(st[1].x == 3.0 && st[1].ms == 0.1 && st[1].evaluation == 3);
  free(st);
  helion_report_trace_cleanup(&t);
}

static void test_report_steps_none_when_all_failed(void **state) {
  (void)state;
  helion_report_trace_t t;
  helion_report_step_t *st = (helion_report_step_t *)&t; /* must be reset */
  size_t n = 99;
  helion_err_t err;
  helion_report_summary_t s;
  parse_ok(EVAL(0, "compile", "null", "1") EVAL(1, "timeout", "null", "6"),
           &t);
  assert_int_equal(
      helion_report_steps(&t, HELION_REPORT_BY_ELAPSED, &st, &n, &err), 0);
  assert_int_equal(n, 0);
  assert_null(st);
  helion_report_summarize(&t, &s);
  assert_int_equal(s.nfailed, 2);
  assert_true(isnan(s.best_ms));
  assert_null(t.best_config);
  helion_report_trace_cleanup(&t);
}

/* The meta line, blank lines, CRLF endings and unknown keys. */
static void test_report_parse_meta(void **state) {
  (void)state;
  const char *text =
      "{\"meta\": {\"landscape\": \"gemm_RTX_3090\", \"algorithm\": "
      "\"PatternSearch\", \"seed\": 3, \"optimum_ms\": 0.0119, \"x\": 1}}\r\n"
      "\n   \n" EVAL(1, "ok", "0.0238", "0.5")
      "{\"evaluation\": 2, \"config\": {}, \"ms\": 0.0125, \"status\": \"ok\","
      " \"elapsed\": 1, \"generation\": null, \"note\": \"new key\"}";
  helion_report_trace_t t;
  helion_report_summary_t s;
  parse_ok(text, &t);
  assert_string_equal(t.landscape, "gemm_RTX_3090");
  assert_string_equal(t.algorithm, "PatternSearch");
  assert_true(t.has_seed);
  assert_int_equal(t.seed, 3);
  assert_true(t.optimum_ms == 0.0119);
  assert_int_equal(t.nevals, 2);
  assert_int_equal(t.evals[1].line, 5);
  assert_int_equal(t.evals[1].generation, -1);
  helion_report_summarize(&t, &s);
  /* 0.0125 / 0.0119 = 1.05042... */
  assert_true(fabs(s.ratio_to_optimum - 1.0504201680672269) < 1e-12);
  helion_report_trace_cleanup(&t);
}

static void test_report_parse_malformed_json(void **state) {
  (void)state;
  /* The '}' where a value should be is the 25th character of line 2. */
  expect_error(EVAL(1, "ok", "0.5", "1") "{\"evaluation\": 2, \"ms\": }\n",
               HELION_ERR_PARSE,
               "t.jsonl:2: malformed JSON near '}' (column 25)");
  /* A line cut short in the middle of the trace (a newline after it) is
   * corruption, not an interrupted writer: cJSON points at the last value
   * it read, the '3' in column 16. */
  expect_error(EVAL(1, "ok", "0.5", "1") "{\"evaluation\": 3\n" EVAL(
                   2, "ok", "0.5", "1"),
               HELION_ERR_PARSE,
               "t.jsonl:2: malformed JSON near '3' (column 16)");
  expect_error("[1, 2]\n", HELION_ERR_PARSE,
               "t.jsonl:1: expected a JSON object per line, got array");
  /* A whole last line without its newline is still checked as a record. */
  expect_error(EVAL(1, "ok", "0.5", "1") "{\"evaluation\": 2, \"ms\": 1}",
               HELION_ERR_PARSE, "t.jsonl:2: missing \"config\"");
}

/* What a writer stopped mid-record leaves (a kill -9, a crash, a full disk):
 * the records before the last line, whole, and the last one cut short with
 * no newline. The whole records are read; the cut line is named. */
static void test_report_parse_cut_last_line(void **state) {
  (void)state;
  static const char *const cuts[] = {"{\"evaluation\": 3", "{", "{\"evaluation",
                                     "{\"evaluation\": 3, \"config\": {\"b\""};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), "%s%s%s", EVAL(1, "ok", "0.5", "1"),
             EVAL(2, "ok", "0.25", "2"), cuts[i]);
    helion_report_trace_t t;
    memset(&t, 0, sizeof t);
    parse_ok(text, &t);
    assert_int_equal(t.nevals, 2);
    assert_int_equal(t.cut_line, 3);
    assert_true(t.evals[1].ms == 0.25);
    helion_report_trace_cleanup(&t);
  }
  /* A whole trace says nothing was cut. */
  helion_report_trace_t t;
  memset(&t, 0, sizeof t);
  parse_ok(EVAL(1, "ok", "0.5", "1"), &t);
  assert_int_equal(t.cut_line, 0);
  helion_report_trace_cleanup(&t);
  /* Only a meta line and a cut record: still no evaluations. */
  expect_error("{\"meta\": {}}\n{\"evaluation\": 1, \"ms", HELION_ERR_INVALID,
               "t.jsonl: no evaluations in the trace (expected lines with "
               "\"evaluation\", \"status\", \"ms\")");
}

static void test_report_parse_field_types(void **state) {
  (void)state;
  expect_error(EVAL(1, "ok", "0.5", "1") EVAL(2, "ok", "0.5", "1")
                   EVAL(3, "ok", "\"fast\"", "1"),
               HELION_ERR_PARSE,
               "t.jsonl:3: \"ms\": expected a number or null, got string");
  expect_error(EVAL(1, "ok", "-1", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"ms\": expected a positive time, got -1");
  expect_error(EVAL(1, "ok", "0", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"ms\": expected a positive time, got 0");
  expect_error(EVAL(1.5, "ok", "1", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"evaluation\": expected an integer >= 0, got 1.5");
  expect_error(EVAL(-1, "ok", "1", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"evaluation\": expected an integer >= 0, got -1");
  expect_error(EVAL(1, "ok", "1", "\"3s\""), HELION_ERR_PARSE,
               "t.jsonl:1: \"elapsed\": expected a number of seconds >= 0, "
               "got string");
  expect_error("{\"evaluation\": 1, \"config\": [1], \"ms\": 1, \"status\": "
               "\"ok\", \"elapsed\": 1}",
               HELION_ERR_PARSE,
               "t.jsonl:1: \"config\": expected an object, got array");
  expect_error("{\"evaluation\": 1, \"config\": {}, \"ms\": 1, \"status\": "
               "\"ok\", \"elapsed\": 1, \"generation\": \"g1\"}",
               HELION_ERR_PARSE,
               "t.jsonl:1: \"generation\": expected an integer >= 0 or null, "
               "got string");
  expect_error("{\"evaluation\": 1, \"config\": {}, \"ms\": 1, \"status\": "
               "true, \"elapsed\": 1}",
               HELION_ERR_PARSE,
               "t.jsonl:1: \"status\": expected a string, got true");
}

static void test_report_parse_missing_fields(void **state) {
  (void)state;
  expect_error("{\"config\": {}, \"ms\": 1, \"status\": \"ok\", \"elapsed\": 1}",
               HELION_ERR_PARSE, "t.jsonl:1: missing \"evaluation\"");
  expect_error("{\"evaluation\": 4, \"config\": {}, \"ms\": 1, \"status\": "
               "\"ok\"}",
               HELION_ERR_PARSE, "t.jsonl:1: missing \"elapsed\"");
  expect_error("{\"evaluation\": 4, \"ms\": 1, \"status\": \"ok\", "
               "\"elapsed\": 1}",
               HELION_ERR_PARSE, "t.jsonl:1: missing \"config\"");
  expect_error("{\"evaluation\": 4, \"config\": {}, \"status\": \"ok\", "
               "\"elapsed\": 1}",
               HELION_ERR_PARSE, "t.jsonl:1: missing \"ms\"");
  expect_error("{\"evaluation\": 4, \"config\": {}, \"ms\": 1, "
               "\"elapsed\": 1}",
               HELION_ERR_PARSE, "t.jsonl:1: missing \"status\"");
}

static void test_report_parse_status_and_ms_agree(void **state) {
  (void)state;
  expect_error(EVAL(1, "crash", "null", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"status\": expected ok, compile, runtime, "
               "accuracy or timeout, got 'crash'");
  expect_error(EVAL(1, "ok", "null", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"ms\" is null but \"status\" is \"ok\"; a "
               "successful evaluation needs its time");
  expect_error(EVAL(1, "accuracy", "0.5", "1"), HELION_ERR_PARSE,
               "t.jsonl:1: \"ms\" is 0.5 but \"status\" is \"accuracy\"; a "
               "failed evaluation has \"ms\": null");
}

static void test_report_parse_meta_and_rebench_rules(void **state) {
  (void)state;
  expect_error(EVAL(1, "ok", "1", "1") "{\"meta\": {\"seed\": 1}}\n",
               HELION_ERR_PARSE,
               "t.jsonl:2: \"meta\" must be on the first line of the trace");
  expect_error("{\"meta\": {\"seed\": \"three\"}}\n", HELION_ERR_PARSE,
               "t.jsonl:1: \"seed\": expected an integer, got string");
  expect_error("{\"meta\": {\"optimum_ms\": -2}}\n", HELION_ERR_PARSE,
               "t.jsonl:1: \"optimum_ms\": expected a positive time or null, "
               "got -2");
  expect_error("{\"meta\": {\"algorithm\": 5}}\n", HELION_ERR_PARSE,
               "t.jsonl:1: \"algorithm\": expected a string, got 5");
  expect_error("{\"meta\": []}\n", HELION_ERR_PARSE,
               "t.jsonl:1: \"meta\": expected an object, got array");
  expect_error(EVAL(1, "ok", "1", "1") "{\"rebench\": false, \"config\": {}, "
                                       "\"ms\": 1, \"elapsed\": 2}\n",
               HELION_ERR_PARSE,
               "t.jsonl:2: \"rebench\": expected true, got false");
  expect_error(EVAL(1, "ok", "1", "1") "{\"rebench\": true, \"config\": {}, "
                                       "\"ms\": null, \"elapsed\": 2}\n",
               HELION_ERR_PARSE,
               "t.jsonl:2: \"ms\": expected a number, got null");
}

static void test_report_parse_whole_trace_rules(void **state) {
  (void)state;
  expect_error(EVAL(1, "ok", "1", "1") EVAL(2, "ok", "1", "2")
                   EVAL(1, "compile", "null", "3"),
               HELION_ERR_INVALID,
               "t.jsonl:3: evaluation 1 appears again (first on line 1)");
  expect_error("{\"meta\": {\"seed\": 1}}\n\n", HELION_ERR_INVALID,
               "t.jsonl: no evaluations in the trace (expected lines with "
               "\"evaluation\", \"status\", \"ms\")");
  expect_error("", HELION_ERR_INVALID,
               "t.jsonl: no evaluations in the trace (expected lines with "
               "\"evaluation\", \"status\", \"ms\")");
}

static void test_report_load_names_the_file(void **state) {
  (void)state;
  char *path = data_path("traces/bad_ms_string.jsonl");
  helion_report_trace_t t;
  helion_err_t err;
  char want[600];
  memset(&t, 0, sizeof t);
  assert_int_equal(helion_report_load(path, &t, &err), HELION_ERR_PARSE);
  snprintf(want, sizeof want,
           "%s:3: \"ms\": expected a number or null, got string", path);
  assert_string_equal(err.msg, want);
  free(path);
}

static void test_report_xml_text_escapes(void **state) {
  (void)state;
  helion_buf_t b;
  helion_buf_init(&b, 1 << 10);
  assert_int_equal(
      helion_report_put_xml_text(&b, "a<b & 'c' \"d\" > \xc3\xa9"), 0);
  assert_string_equal(helion_buf_str(&b),
                      "a&lt;b &amp; &apos;c&apos; &quot;d&quot; &gt; \xc3\xa9");
  helion_buf_reset(&b);
  /* A control character, a stray byte, a UTF-16 surrogate (3 bytes, each
   * replaced), U+FFFF, an overlong '/', and a sequence cut by the end. */
  assert_int_equal(helion_report_put_xml_text(
                       &b, "x\x01y\xffz\xed\xa0\x80w\xef\xbf\xbfv\xc0\xaf."
                           "\xe2\x82"),
                   0);
  assert_string_equal(helion_buf_str(&b), "x?y?z???w???v??.??");
  helion_buf_reset(&b);
  /* Tabs, newlines and a 4-byte character stay. */
  assert_int_equal(helion_report_put_xml_text(&b, "\t\n\xf0\x9f\x98\x80"), 0);
  assert_string_equal(helion_buf_str(&b), "\t\n\xf0\x9f\x98\x80");
  helion_buf_cleanup(&b);
}

static char *svg_of(const helion_report_trace_t *t, const char *title) {
  helion_buf_t b;
  helion_err_t err;
  helion_report_options_t opt = {title, "dir/t.jsonl"};
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  if (helion_report_svg(t, &opt, &b, &err))
    fail_msg("svg: %s", err.msg);
  return helion_buf_take(&b);
}

static void test_report_svg_marks_small(void **state) {
  (void)state;
  helion_report_trace_t t;
  load_small(&t);
  char *svg = svg_of(&t, NULL);
  /* One dot per OK evaluation and one cross per failure, in each panel. */
  assert_int_equal(count(svg, "<circle class=\"ok\""), 2 * 6);
  assert_int_equal(count(svg, "class=\"fail "), 2 * 4);
  assert_int_equal(count(svg, "class=\"fail compile\""), 2);
  assert_int_equal(count(svg, "class=\"fail timeout\""), 2);
  assert_int_equal(count(svg, "class=\"rebench\""), 2);
  assert_int_equal(count(svg, "class=\"best\""), 2);
  assert_int_equal(count(svg, "class=\"optimum\""), 0);
  /* Times span 0.25..0.5 ms, 2x: linear. */
  assert_int_equal(count(svg, "log scale"), 0);
  assert_non_null(strstr(svg, ">Search trace t.jsonl</text>"));
  assert_non_null(strstr(svg,
                         ">10 evaluations, 4 failed (1 compile, 1 runtime, "
                         "1 accuracy, 1 timeout), 1 rebenchmark; best 0.25 ms "
                         "at evaluation 10 (12.5 s)</text>"));
  /* Best-so-far by evaluation, by hand. x: evaluations 1..10 padded by 2%
   * of 9 to [0.82, 10.18] over pixels 100..600; y: times 0.25..0.5 padded by
   * 4% of 0.25 to [0.24, 0.51] over pixels 450..120.
   *   x(1) = 100 + 0.18/9.36*500 = 109.6    y(0.50) = 450 - 0.26/0.27*330 = 132.2
   *   x(3) = 100 + 2.18/9.36*500 = 216.5    y(0.40) = 450 - 0.16/0.27*330 = 254.4
   *   x(6) = 100 + 5.18/9.36*500 = 376.7    y(0.30) = 450 - 0.06/0.27*330 = 376.7
   *   x(10)= 100 + 9.18/9.36*500 = 590.4    y(0.25) = 450 - 0.01/0.27*330 = 437.8
   * and the line runs on to the last evaluation (10). */
  assert_non_null(strstr(svg, "d=\"M109.6 132.2H216.5V254.4H376.7V376.7"
                              "H590.4V437.8H590.4\"/>"));
  assert_non_null(strstr(svg, "<desc>best config: {&quot;b&quot;:64,"
                              "&quot;w&quot;:4,&quot;s&quot;:2}</desc>"));
  free(svg);
  helion_report_trace_cleanup(&t);
}

static void test_report_svg_log_scale_and_optimum(void **state) {
  (void)state;
  /* 0.0119 (optimum) to 0.5 ms is 42x: log scale. */
  const char *text =
      "{\"meta\": {\"landscape\": \"gemm <A&B>\", \"algorithm\": \"PatternSearch\","
      " \"seed\": 3, \"optimum_ms\": 0.0119}}\n" EVAL(1, "ok", "0.5", "1")
          EVAL(2, "ok", "0.0125", "2") EVAL(3, "runtime", "null", "3");
  helion_report_trace_t t;
  parse_ok(text, &t);
  char *svg = svg_of(&t, NULL);
  assert_int_equal(count(svg, "log scale"), 2);
  assert_int_equal(count(svg, "<line class=\"optimum\""), 2);
  assert_non_null(strstr(svg, ">optimum 0.0119 ms</text>"));
  assert_non_null(
      strstr(svg, ">PatternSearch on gemm &lt;A&amp;B&gt;, seed 3</text>"));
  assert_null(strstr(svg, "<A&B>"));
  /* 0.0125 / 0.0119 = 1.0504 */
  assert_non_null(strstr(svg, "; 1.050x the optimum 0.0119 ms</text>"));
  /* Under three decades, so 1x, 2x and 5x ticks. The axis spans
   * log10(0.0119) = -1.924 to log10(0.5) = -0.301, padded by 4% of 1.623 to
   * [-1.989, -0.236]: 0.01 (-2) is just off it, 0.02 .. 0.5 are on it. */
  assert_null(strstr(svg, ">0.01</text>"));
  assert_non_null(strstr(svg, ">0.02</text>"));
  assert_non_null(strstr(svg, ">0.05</text>"));
  assert_non_null(strstr(svg, ">0.1</text>"));
  assert_non_null(strstr(svg, ">0.2</text>"));
  assert_non_null(strstr(svg, ">0.5</text>"));
  assert_int_equal(count(svg, "<circle class=\"ok\""), 4);
  assert_int_equal(count(svg, "class=\"fail runtime\""), 2);
  free(svg);
  helion_report_trace_cleanup(&t);
}

static void test_report_svg_title_option_is_escaped(void **state) {
  (void)state;
  helion_report_trace_t t;
  parse_ok(EVAL(1, "timeout", "null", "5"), &t);
  char *svg = svg_of(&t, "x</text><script>\"");
  assert_non_null(strstr(svg, "<title>x&lt;/text&gt;&lt;script&gt;&quot;"
                              "</title>"));
  assert_null(strstr(svg, "<script>"));
  /* Nothing succeeded: no dots, no best line, and a note instead. */
  assert_int_equal(count(svg, "<circle class=\"ok\""), 0);
  assert_int_equal(count(svg, "class=\"best\""), 0);
  assert_int_equal(count(svg, ">no evaluation succeeded</text>"), 2);
  free(svg);
  helion_report_trace_cleanup(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_report_parse_small_fixture),
      cmocka_unit_test(test_report_summary_counts_failures_by_kind),
      cmocka_unit_test(test_report_steps_by_evaluation),
      cmocka_unit_test(test_report_steps_out_of_order),
      cmocka_unit_test(test_report_steps_none_when_all_failed),
      cmocka_unit_test(test_report_parse_meta),
      cmocka_unit_test(test_report_parse_malformed_json),
      cmocka_unit_test(test_report_parse_cut_last_line),
      cmocka_unit_test(test_report_parse_field_types),
      cmocka_unit_test(test_report_parse_missing_fields),
      cmocka_unit_test(test_report_parse_status_and_ms_agree),
      cmocka_unit_test(test_report_parse_meta_and_rebench_rules),
      cmocka_unit_test(test_report_parse_whole_trace_rules),
      cmocka_unit_test(test_report_load_names_the_file),
      cmocka_unit_test(test_report_xml_text_escapes),
      cmocka_unit_test(test_report_svg_marks_small),
      cmocka_unit_test(test_report_svg_log_scale_and_optimum),
      cmocka_unit_test(test_report_svg_title_option_is_escaped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
