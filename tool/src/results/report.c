/* report.c: parses search traces (JSON lines) and draws them as SVG charts. */
#include "results/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Traces of even a million evaluations are a few hundred MB at most. */
#define TRACE_MAX_BYTES ((size_t)1 << 30)

/* Above this many marks of one kind, marks that fall on an already drawn
 * pixel are skipped so the SVG stays a few MB. */
#define THIN_ABOVE 20000

static const char *const outcome_names[HELION_REPORT_NOUTCOMES] = {
    "ok", "compile", "runtime", "accuracy", "timeout"};

/* One colour per failure kind, so the kinds stay apart in the failure row. */
static const char *const outcome_colours[HELION_REPORT_NOUTCOMES] = {
    "#1f77b4", "#d62728", "#c51b7d", "#7b3294", "#8c510a"};

const char *helion_report_outcome_name(helion_report_outcome o) {
  if ((int)o < 0 || (int)o >= HELION_REPORT_NOUTCOMES)
    return "unknown";
  return outcome_names[o];
}

/* ---------------------------------------------------------------------------
 * Parsing.
 */

typedef struct parse_ctx {
  const char *origin;
  size_t lineno;
  helion_report_trace_t t;
  size_t eval_cap;
  size_t rebench_cap;
  bool seen_record; /* a non-blank line was seen before this one */
  int64_t last_evaluation;
  double best_ms;
  int64_t best_eval;
} parse_ctx;

/* Describes a JSON value for a message: numbers by value, others by type. */
static const char *describe(const cJSON *item, char *buf, size_t n) {
  if (cJSON_IsNumber(item)) {
    snprintf(buf, n, "%.17g", item->valuedouble);
    return buf;
  }
  if (cJSON_IsBool(item))
    return cJSON_IsTrue(item) ? "true" : "false";
  return helion_json_type_name(item);
}

static helion_status line_err(parse_ctx *c, helion_err_t *err,
                              helion_status rc, const char *what) {
  return helion_err_set(err, rc, "%s:%zu: %s", c->origin, c->lineno, what);
}

static helion_status type_err(parse_ctx *c, helion_err_t *err,
                              const char *key, const char *expected,
                              const cJSON *item) {
  char num[40];
  return helion_err_set(err, HELION_ERR_PARSE,
                        "%s:%zu: \"%s\": expected %s, got %s", c->origin,
                        c->lineno, key, expected, describe(item, num, sizeof num));
}

static helion_status missing_err(parse_ctx *c, helion_err_t *err,
                                 const char *key) {
  return helion_err_set(err, HELION_ERR_PARSE, "%s:%zu: missing \"%s\"",
                        c->origin, c->lineno, key);
}

/* Reads a required finite number >= 0 (elapsed seconds). */
static helion_status get_seconds(parse_ctx *c, const cJSON *obj,
                                 const char *key, double *out,
                                 helion_err_t *err) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!it)
    return missing_err(c, err, key);
  if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
      it->valuedouble < 0)
    return type_err(c, err, key, "a number of seconds >= 0", it);
  *out = it->valuedouble;
  return HELION_OK;
}

/* Reads a time in ms: a finite number > 0, or null (NAN) when allowed. */
static helion_status get_ms(parse_ctx *c, const cJSON *obj, bool null_ok,
                            double *out, helion_err_t *err) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "ms");
  if (!it)
    return missing_err(c, err, "ms");
  if (null_ok && cJSON_IsNull(it)) {
    *out = NAN;
    return HELION_OK;
  }
  if (!cJSON_IsNumber(it))
    return type_err(c, err, "ms", null_ok ? "a number or null" : "a number",
                    it);
  if (!isfinite(it->valuedouble) || it->valuedouble <= 0)
    return type_err(c, err, "ms", "a positive time", it);
  *out = it->valuedouble;
  return HELION_OK;
}

static helion_status check_config(parse_ctx *c, const cJSON *obj,
                                  helion_err_t *err) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "config");
  if (!it)
    return missing_err(c, err, "config");
  if (!cJSON_IsObject(it))
    return type_err(c, err, "config", "an object", it);
  return HELION_OK;
}

/* Optional string member; absent or null leaves *out as it is. */
static helion_status get_opt_string(parse_ctx *c, const cJSON *obj,
                                    const char *key, char **out,
                                    helion_err_t *err) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!it || cJSON_IsNull(it))
    return HELION_OK;
  if (!cJSON_IsString(it))
    return type_err(c, err, key, "a string", it);
  char *s = helion_strdup(it->valuestring);
  if (!s)
    return line_err(c, err, HELION_ERR_NOMEM, "out of memory");
  free(*out);
  *out = s;
  return HELION_OK;
}

static helion_status parse_meta(parse_ctx *c, const cJSON *meta,
                                helion_err_t *err) {
  helion_status rc;
  if (c->seen_record)
    return line_err(c, err, HELION_ERR_PARSE,
                    "\"meta\" must be on the first line of the trace");
  if (!cJSON_IsObject(meta))
    return type_err(c, err, "meta", "an object", meta);
  rc = get_opt_string(c, meta, "landscape", &c->t.landscape, err);
  if (rc)
    return rc;
  rc = get_opt_string(c, meta, "algorithm", &c->t.algorithm, err);
  if (rc)
    return rc;
  const cJSON *seed = cJSON_GetObjectItemCaseSensitive(meta, "seed");
  if (seed && !cJSON_IsNull(seed)) {
    if (!helion_json_get_int(seed, &c->t.seed))
      return type_err(c, err, "seed", "an integer", seed);
    c->t.has_seed = true;
  }
  const cJSON *opt = cJSON_GetObjectItemCaseSensitive(meta, "optimum_ms");
  if (opt && !cJSON_IsNull(opt)) {
    if (!cJSON_IsNumber(opt) || !isfinite(opt->valuedouble) ||
        opt->valuedouble <= 0)
      return type_err(c, err, "optimum_ms", "a positive time or null", opt);
    c->t.optimum_ms = opt->valuedouble;
  }
  return HELION_OK;
}

static helion_status parse_rebench(parse_ctx *c, const cJSON *root,
                                   const cJSON *flag, helion_err_t *err) {
  helion_status rc;
  helion_report_rebench_t r;
  if (!cJSON_IsTrue(flag))
    return type_err(c, err, "rebench", "true", flag);
  if ((rc = check_config(c, root, err)) != HELION_OK)
    return rc;
  if ((rc = get_ms(c, root, false, &r.ms, err)) != HELION_OK)
    return rc;
  if ((rc = get_seconds(c, root, "elapsed", &r.elapsed, err)) != HELION_OK)
    return rc;
  r.after_evaluation = c->last_evaluation;
  if (c->t.nrebench == c->rebench_cap) {
    size_t cap = c->rebench_cap ? 2 * c->rebench_cap : 16;
    void *p = realloc(c->t.rebench, cap * sizeof *c->t.rebench);
    if (!p)
      return line_err(c, err, HELION_ERR_NOMEM, "out of memory");
    c->t.rebench = p;
    c->rebench_cap = cap;
  }
  c->t.rebench[c->t.nrebench++] = r;
  return HELION_OK;
}

/* Keeps the compact JSON of the fastest OK config seen so far. */
static helion_status note_best(parse_ctx *c, const cJSON *root,
                               const helion_report_eval_t *e,
                               helion_err_t *err) {
  if (c->t.best_config &&
      !(e->ms < c->best_ms ||
        (e->ms == c->best_ms && e->evaluation < c->best_eval)))
    return HELION_OK;
  const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
  char *printed = cJSON_PrintUnformatted(config);
  char *copy = helion_strdup(printed);
  if (printed)
    cJSON_free(printed);
  if (!copy)
    return line_err(c, err, HELION_ERR_NOMEM, "out of memory");
  free(c->t.best_config);
  c->t.best_config = copy;
  c->best_ms = e->ms;
  c->best_eval = e->evaluation;
  return HELION_OK;
}

static helion_status parse_eval(parse_ctx *c, const cJSON *root,
                                helion_err_t *err) {
  helion_status rc;
  helion_report_eval_t e;
  char msg[160];
  e.line = c->lineno;
  e.generation = -1;

  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "evaluation");
  if (!ev)
    return missing_err(c, err, "evaluation");
  if (!helion_json_get_int(ev, &e.evaluation) || e.evaluation < 0)
    return type_err(c, err, "evaluation", "an integer >= 0", ev);
  if ((rc = check_config(c, root, err)) != HELION_OK)
    return rc;

  const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
  if (!st)
    return missing_err(c, err, "status");
  if (!cJSON_IsString(st))
    return type_err(c, err, "status", "a string", st);
  int o = -1;
  for (int i = 0; i < HELION_REPORT_NOUTCOMES; i++)
    if (strcmp(st->valuestring, outcome_names[i]) == 0)
      o = i;
  if (o < 0) {
    snprintf(msg, sizeof msg, "%.60s", st->valuestring);
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s:%zu: \"status\": expected ok, compile, runtime, "
                          "accuracy or timeout, got '%s'",
                          c->origin, c->lineno, msg);
  }
  e.outcome = (helion_report_outcome)o;

  if ((rc = get_ms(c, root, true, &e.ms, err)) != HELION_OK)
    return rc;
  if (e.outcome == HELION_REPORT_OK && isnan(e.ms))
    return line_err(c, err, HELION_ERR_PARSE,
                    "\"ms\" is null but \"status\" is \"ok\"; a successful "
                    "evaluation needs its time");
  if (e.outcome != HELION_REPORT_OK && !isnan(e.ms)) {
    snprintf(msg, sizeof msg,
             "\"ms\" is %.17g but \"status\" is \"%s\"; a failed evaluation "
             "has \"ms\": null",
             e.ms, outcome_names[o]);
    return line_err(c, err, HELION_ERR_PARSE, msg);
  }

  if ((rc = get_seconds(c, root, "elapsed", &e.elapsed, err)) != HELION_OK)
    return rc;
  const cJSON *gen = cJSON_GetObjectItemCaseSensitive(root, "generation");
  if (gen && !cJSON_IsNull(gen) &&
      (!helion_json_get_int(gen, &e.generation) || e.generation < 0))
    return type_err(c, err, "generation", "an integer >= 0 or null", gen);

  if (e.outcome == HELION_REPORT_OK &&
      (rc = note_best(c, root, &e, err)) != HELION_OK)
    return rc;
  if (c->t.nevals == c->eval_cap) {
    size_t cap = c->eval_cap ? 2 * c->eval_cap : 64;
    void *p = realloc(c->t.evals, cap * sizeof *c->t.evals);
    if (!p)
      return line_err(c, err, HELION_ERR_NOMEM, "out of memory");
    c->t.evals = p;
    c->eval_cap = cap;
  }
  c->t.evals[c->t.nevals++] = e;
  c->last_evaluation = e.evaluation;
  return HELION_OK;
}

static helion_status parse_line(parse_ctx *c, const char *line, size_t len,
                                helion_err_t *err) {
  helion_status rc;
  cJSON *root = NULL;
  helion_err_t jerr;
  rc = helion_json_parse(line, len, "", &root, &jerr);
  if (rc) {
    /* The parser counts lines within this one line ("" origin gives
     * ":1:COL: what"); restate it with the trace's file and line. */
    int col = 0, skip = 0;
    if (sscanf(jerr.msg, ":%*d:%d: %n", &col, &skip) >= 1 && skip > 0)
      return helion_err_set(err, rc, "%s:%zu: %s (column %d)", c->origin,
                            c->lineno, jerr.msg + skip, col);
    return helion_err_set(err, rc, "%s:%zu: %s", c->origin, c->lineno,
                          jerr.msg);
  }
  if (!cJSON_IsObject(root)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "%s:%zu: expected a JSON object per line, got %s",
                        c->origin, c->lineno, helion_json_type_name(root));
    goto out;
  }
  const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
  const cJSON *flag = cJSON_GetObjectItemCaseSensitive(root, "rebench");
  if (meta)
    rc = parse_meta(c, meta, err);
  else if (flag)
    rc = parse_rebench(c, root, flag, err);
  else
    rc = parse_eval(c, root, err);
out:
  cJSON_Delete(root);
  return rc;
}

/* True when the text is not one whole JSON value: with no newline after it,
 * the last line of a trace whose writer stopped mid-record. */
static bool cut_off(const char *line, size_t len) {
  cJSON *root = NULL;
  helion_err_t jerr;
  if (helion_json_parse(line, len, "", &root, &jerr) != HELION_OK)
    return true;
  cJSON_Delete(root);
  return false;
}

static int cmp_eval(const void *a, const void *b) {
  const helion_report_eval_t *x = a, *y = b;
  if (x->evaluation != y->evaluation)
    return x->evaluation < y->evaluation ? -1 : 1;
  return x->line < y->line ? -1 : (x->line > y->line);
}

helion_status helion_report_parse(const char *text, size_t len,
                                  const char *origin,
                                  helion_report_trace_t *out,
                                  helion_err_t *err) {
  helion_status rc = HELION_OK;
  parse_ctx c;
  memset(&c, 0, sizeof c);
  c.origin = origin ? origin : "<trace>";
  c.t.optimum_ms = NAN;
  c.best_ms = INFINITY;

  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    c.lineno++;
    bool blank = true;
    for (const char *q = p; q < stop && blank; q++)
      blank = (*q == ' ' || *q == '\t' || *q == '\r');
    if (!blank && !nl && cut_off(p, (size_t)(stop - p))) {
      c.t.cut_line = c.lineno;
    } else if (!blank) {
      rc = parse_line(&c, p, (size_t)(stop - p), err);
      if (rc)
        goto out;
      c.seen_record = true;
    }
    p = nl ? nl + 1 : end;
  }
  if (c.t.nevals == 0) {
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "%s: no evaluations in the trace (expected lines "
                        "with \"evaluation\", \"status\", \"ms\")",
                        c.origin);
    goto out;
  }
  qsort(c.t.evals, c.t.nevals, sizeof *c.t.evals, cmp_eval);
  for (size_t i = 1; i < c.t.nevals; i++) {
    if (c.t.evals[i].evaluation == c.t.evals[i - 1].evaluation) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "%s:%zu: evaluation %lld appears again (first on "
                          "line %zu)",
                          c.origin, c.t.evals[i].line,
                          (long long)c.t.evals[i].evaluation,
                          c.t.evals[i - 1].line);
      goto out;
    }
  }
  *out = c.t;
  memset(&c.t, 0, sizeof c.t);
out:
  helion_report_trace_cleanup(&c.t);
  return rc;
}

helion_status helion_report_load(const char *path, helion_report_trace_t *out,
                                 helion_err_t *err) {
  char *data = NULL;
  size_t len = 0;
  helion_status rc = helion_read_file(path, TRACE_MAX_BYTES, &data, &len, err);
  if (rc)
    return rc;
  rc = helion_report_parse(data, len, path, out, err);
  free(data);
  return rc;
}

void helion_report_trace_cleanup(helion_report_trace_t *t) {
  if (!t)
    return;
  free(t->evals);
  free(t->rebench);
  free(t->landscape);
  free(t->algorithm);
  free(t->best_config);
  memset(t, 0, sizeof *t);
  t->optimum_ms = NAN;
}

/* ---------------------------------------------------------------------------
 * Series.
 */

void helion_report_summarize(const helion_report_trace_t *t,
                             helion_report_summary_t *out) {
  helion_report_summary_t s;
  memset(&s, 0, sizeof s);
  s.nevals = t->nevals;
  s.nrebench = t->nrebench;
  s.best_ms = NAN;
  s.best_elapsed = NAN;
  s.ratio_to_optimum = NAN;
  for (size_t i = 0; i < t->nevals; i++) {
    const helion_report_eval_t *e = &t->evals[i];
    s.count[e->outcome]++;
    /* Evals are sorted by number, so `<` keeps the earliest of equal times. */
    if (e->outcome == HELION_REPORT_OK && !(e->ms >= s.best_ms)) {
      s.best_ms = e->ms;
      s.best_evaluation = e->evaluation;
      s.best_elapsed = e->elapsed;
    }
  }
  s.nfailed = s.nevals - s.count[HELION_REPORT_OK];
  if (!isnan(s.best_ms) && !isnan(t->optimum_ms))
    s.ratio_to_optimum = s.best_ms / t->optimum_ms;
  *out = s;
}

static int cmp_by_elapsed(const void *a, const void *b) {
  const helion_report_eval_t *x = *(const helion_report_eval_t *const *)a;
  const helion_report_eval_t *y = *(const helion_report_eval_t *const *)b;
  if (x->elapsed != y->elapsed)
    return x->elapsed < y->elapsed ? -1 : 1;
  return x->evaluation < y->evaluation ? -1 : (x->evaluation > y->evaluation);
}

helion_status helion_report_steps(const helion_report_trace_t *t,
                                  helion_report_axis axis,
                                  helion_report_step_t **out_steps,
                                  size_t *out_n, helion_err_t *err) {
  helion_status rc = HELION_OK;
  const helion_report_eval_t **order = NULL;
  helion_report_step_t *steps = NULL;
  size_t n = 0;
  if (t->nevals == 0) {
    *out_steps = NULL;
    *out_n = 0;
    return HELION_OK;
  }
  order = malloc(t->nevals * sizeof *order);
  steps = malloc(t->nevals * sizeof *steps);
  if (!order || !steps) {
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "best-so-far series: out of memory");
    goto out;
  }
  for (size_t i = 0; i < t->nevals; i++)
    order[i] = &t->evals[i];
  if (axis == HELION_REPORT_BY_ELAPSED)
    qsort(order, t->nevals, sizeof *order, cmp_by_elapsed);
  double best = INFINITY;
  for (size_t i = 0; i < t->nevals; i++) {
    const helion_report_eval_t *e = order[i];
    if (e->outcome != HELION_REPORT_OK || !(e->ms < best))
      continue;
    best = e->ms;
    steps[n].x = axis == HELION_REPORT_BY_ELAPSED ? e->elapsed
                                                  : (double)e->evaluation;
    steps[n].ms = e->ms;
    steps[n].evaluation = e->evaluation;
    n++;
  }
  if (n == 0) {
    free(steps);
    steps = NULL;
  }
  *out_steps = steps;
  *out_n = n;
  steps = NULL;
out:
  free(order);
  free(steps);
  return rc;
}

/* ---------------------------------------------------------------------------
 * XML text.
 */

/* Length of the valid UTF-8 sequence (XML Char) at s, or 0. */
static size_t utf8_char_len(const unsigned char *s) {
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    if (c == 0xED) /* UTF-16 surrogates */
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  /* U+FFFE and U+FFFF are not XML characters. */
  if (n == 3 && c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
    return 0;
  return n;
}

helion_status helion_report_put_xml_text(helion_buf_t *out, const char *s) {
  helion_status rc = HELION_OK;
  const unsigned char *p = (const unsigned char *)s;
  while (*p && !rc) {
    unsigned char c = *p;
    if (c < 0x80) {
      switch (c) {
      case '&': rc = helion_buf_puts(out, "&amp;"); break;
      case '<': rc = helion_buf_puts(out, "&lt;"); break;
      case '>': rc = helion_buf_puts(out, "&gt;"); break;
      case '"': rc = helion_buf_puts(out, "&quot;"); break;
      case '\'': rc = helion_buf_puts(out, "&apos;"); break;
      default:
        rc = helion_buf_putc(out, (c < 0x20 && c != '\t' && c != '\n' &&
                                   c != '\r')
                                      ? '?'
                                      : (char)c);
      }
      p++;
      continue;
    }
    size_t n = utf8_char_len(p);
    if (n == 0) {
      rc = helion_buf_putc(out, '?');
      p++;
    } else {
      rc = helion_buf_append(out, p, n);
      p += n;
    }
  }
  return rc;
}

/* ---------------------------------------------------------------------------
 * Drawing.
 */

enum {
  SVG_W = 1240,
  SVG_H = 600,
  PLOT_TOP = 120,
  PLOT_BOTTOM = 450,
  PLOT_W = 500,
};
static const int panel_x0[2] = {100, 700};

/* A mapping from data to pixels, linear in value or in log10(value). */
typedef struct scale {
  double d0, d1; /* domain, in log10 units when log */
  double p0, p1; /* pixels */
  bool log;
} scale;

static double scale_map(const scale *s, double v) {
  double d = s->log ? log10(v) : v;
  return s->p0 + (d - s->d0) / (s->d1 - s->d0) * (s->p1 - s->p0);
}

/* 1, 2 or 5 times a power of ten, near span/target. */
static double nice_step(double span, double target) {
  double raw = span / target;
  double mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* Prints a tick value with as many decimals as the step needs. */
static void fmt_tick(char *buf, size_t n, double v, double step) {
  if (v != 0 && (fabs(v) >= 1e7 || fabs(v) < 1e-5)) {
    snprintf(buf, n, "%.3g", v);
    return;
  }
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  if (dec > 10)
    dec = 10;
  snprintf(buf, n, "%.*f", dec, v);
  if (strcmp(buf, "-0") == 0)
    snprintf(buf, n, "0");
}

typedef struct svg {
  helion_buf_t *b;
  helion_status rc; /* first failure; later appends are skipped */
} svg;

static void put(svg *s, const char *fmt, ...) HELION_PRINTF(2, 3);
static void put(svg *s, const char *fmt, ...) {
  if (s->rc)
    return;
  va_list ap;
  va_start(ap, fmt);
  s->rc = helion_buf_vappendf(s->b, fmt, ap);
  va_end(ap);
}

static void put_text(svg *s, const char *text) {
  if (!s->rc)
    s->rc = helion_report_put_xml_text(s->b, text);
}

/* Keeps the first `max` bytes of s, cut at a UTF-8 character boundary, with
 * "..." appended when something was cut. Caller frees; NULL on OOM. */
static char *ellipsize(const char *s, size_t max) {
  size_t len = strlen(s);
  if (len <= max)
    return helion_strdup(s);
  size_t k = max;
  while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
    k--;
  char *r = malloc(k + 4);
  if (!r)
    return NULL;
  memcpy(r, s, k);
  memcpy(r + k, "...", 4);
  return r;
}

/* A pixel grid per panel and mark kind, for thinning huge traces. */
typedef struct thin_grid {
  unsigned char *cells;
  bool on;
} thin_grid;

/* Cells are 2x2 pixels, about the size of the smallest dot. */
enum {
  GRID_W = (PLOT_W + 40) / 2,
  GRID_H = (PLOT_BOTTOM - PLOT_TOP + 60) / 2,
};

/* True when the mark at (x, y) should be drawn (first in its cell). */
static bool thin_take(thin_grid *g, int kind, double x, double y,
                      int panel) {
  if (!g->on)
    return true;
  long gx = (long)floor((x - panel_x0[panel] + 20) / 2);
  long gy = (long)floor((y - PLOT_TOP + 40) / 2);
  if (gx < 0 || gx >= GRID_W || gy < 0 || gy >= GRID_H)
    return true;
  size_t idx = (((size_t)panel * (HELION_REPORT_NOUTCOMES + 1) + (size_t)kind) *
                    GRID_H + (size_t)gy) * GRID_W + (size_t)gx;
  if (g->cells[idx])
    return false;
  g->cells[idx] = 1;
  return true;
}

/* Draws the y axis with its ticks and grid lines for one panel. */
static void draw_y_axis(svg *s, const scale *ys, int panel, double lo,
                        double hi) {
  int x0 = panel_x0[panel], x1 = x0 + PLOT_W;
  char label[48];
  put(s, "<g class=\"yaxis\" font-size=\"11\" text-anchor=\"end\">\n");
  if (ys->log) {
    int k0 = (int)ceil(ys->d0 - 1e-9), k1 = (int)floor(ys->d1 + 1e-9);
    /* Fewer than three decades: label 2x and 5x too, or the axis has too few
     * numbers to read a value off. */
    static const double mult_all[] = {1, 2, 5};
    size_t nmult = (k1 - k0 < 2) ? 3 : 1;
    for (int k = k0 - 1; k <= k1; k++) {
      for (size_t m = 0; m < nmult; m++) {
        double v = mult_all[m] * pow(10, k);
        double d = log10(v);
        if (d < ys->d0 - 1e-9 || d > ys->d1 + 1e-9)
          continue;
        double y = scale_map(ys, v);
        fmt_tick(label, sizeof label, v, mult_all[m] * pow(10, k));
        put(s,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
            "stroke=\"#e4e4e4\"/>"
            "<text x=\"%d\" y=\"%.1f\">%s</text>\n",
            x0, y, x1, y, x0 - 6, y + 4, label);
      }
    }
  } else {
    double step = nice_step(hi - lo, 5);
    for (double v = ceil(ys->d0 / step) * step; v <= ys->d1 + step * 1e-9;
         v += step) {
      double y = scale_map(ys, v);
      fmt_tick(label, sizeof label, v, step);
      put(s,
          "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
          "stroke=\"#e4e4e4\"/>"
          "<text x=\"%d\" y=\"%.1f\">%s</text>\n",
          x0, y, x1, y, x0 - 6, y + 4, label);
    }
  }
  put(s, "</g>\n");
  int mid = (PLOT_TOP + PLOT_BOTTOM) / 2;
  put(s,
      "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 %d %d)\">time (ms)%s</text>\n",
      x0 - 62, mid, x0 - 62, mid, ys->log ? ", log scale" : "");
}

static void draw_x_axis(svg *s, const scale *xs, int panel, double step,
                        const char *title) {
  int x0 = panel_x0[panel];
  char label[48];
  put(s, "<g class=\"xaxis\" font-size=\"11\" text-anchor=\"middle\">\n");
  for (double v = ceil(xs->d0 / step) * step; v <= xs->d1 + step * 1e-9;
       v += step) {
    double x = scale_map(xs, v);
    fmt_tick(label, sizeof label, v, step);
    put(s,
        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
        "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
        x, PLOT_BOTTOM, x, PLOT_BOTTOM + 5, x, PLOT_BOTTOM + 18, label);
  }
  put(s, "</g>\n");
  put(s,
      "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
      "text-anchor=\"middle\">%s</text>\n",
      x0 + PLOT_W / 2, PLOT_BOTTOM + 38, title);
}

/* A cross centred on (x, y). */
static void put_cross(svg *s, int kind, double x, double y) {
  put(s, "<path class=\"fail %s\" d=\"M%.1f %.1fl5 5m0 -5l-5 5\"/>\n",
      outcome_names[kind], x - 2.5, y - 2.5);
}

static void put_diamond(svg *s, double x, double y) {
  put(s, "<path class=\"rebench\" d=\"M%.1f %.1fl4 4l-4 4l-4 -4z\"/>\n", x,
      y - 4);
}

typedef struct chart {
  const helion_report_trace_t *t;
  scale ys;
  double ylo, yhi;
  bool has_y; /* something has a time to plot */
  double dot_r, dot_opacity;
  thin_grid grid;
  const helion_report_summary_t *sum;
} chart;

static double x_of_eval(const helion_report_eval_t *e, int panel) {
  return panel == 0 ? (double)e->evaluation : e->elapsed;
}

static void draw_panel(svg *s, chart *ch, int panel,
                       const helion_report_step_t *steps, size_t nsteps) {
  const helion_report_trace_t *t = ch->t;
  int x0 = panel_x0[panel], x1 = x0 + PLOT_W;
  scale xs;
  double lo, hi;
  if (panel == 0) {
    lo = (double)t->evals[0].evaluation;
    hi = (double)t->evals[t->nevals - 1].evaluation;
  } else {
    lo = 0;
    hi = 0;
    for (size_t i = 0; i < t->nevals; i++)
      hi = fmax(hi, t->evals[i].elapsed);
    for (size_t i = 0; i < t->nrebench; i++)
      hi = fmax(hi, t->rebench[i].elapsed);
  }
  if (hi <= lo)
    hi = lo + 1;
  double step = nice_step(hi - lo, 6);
  if (panel == 0 && step < 1)
    step = 1;
  double pad = (hi - lo) * 0.02;
  xs.d0 = lo - pad;
  xs.d1 = hi + pad;
  xs.p0 = x0;
  xs.p1 = x1;
  xs.log = false;

  put(s, "<g class=\"panel\">\n");
  put(s,
      "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\" "
      "text-anchor=\"middle\">%s</text>\n",
      x0 + PLOT_W / 2, PLOT_TOP - 42,
      panel == 0 ? "best so far by evaluation"
                 : "best so far by elapsed time");
  put(s,
      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
      "stroke=\"#999\"/>\n",
      x0, PLOT_TOP, PLOT_W, PLOT_BOTTOM - PLOT_TOP);
  if (ch->has_y)
    draw_y_axis(s, &ch->ys, panel, ch->ylo, ch->yhi);
  else
    put(s,
        "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\" "
        "fill=\"#666\">no evaluation succeeded</text>\n",
        x0 + PLOT_W / 2, (PLOT_TOP + PLOT_BOTTOM) / 2);
  draw_x_axis(s, &xs, panel, step,
              panel == 0 ? "evaluation" : "elapsed (s)");

  /* Failures have no time, so they sit above the plot, one row per kind
   * that occurs: in a dense trace a shared row would show only the colour
   * drawn last. */
  int row = 0;
  for (int k = 1; k < HELION_REPORT_NOUTCOMES; k++) {
    if (ch->sum->count[k] == 0)
      continue;
    double y = PLOT_TOP - 7 - 8 * row++;
    put(s,
        "<text x=\"%d\" y=\"%.1f\" font-size=\"9\" text-anchor=\"end\" "
        "fill=\"%s\">%s</text>\n",
        x0 - 6, y + 3, outcome_colours[k], outcome_names[k]);
    put(s, "<g stroke=\"%s\" stroke-width=\"1.3\" fill=\"none\">\n",
        outcome_colours[k]);
    for (size_t i = 0; i < t->nevals; i++) {
      const helion_report_eval_t *e = &t->evals[i];
      if ((int)e->outcome != k)
        continue;
      double x = scale_map(&xs, x_of_eval(e, panel));
      if (thin_take(&ch->grid, k, x, y, panel))
        put_cross(s, k, x, y);
    }
    put(s, "</g>\n");
  }
  if (!ch->has_y) {
    put(s, "</g>\n");
    return;
  }

  put(s, "<g fill=\"%s\" fill-opacity=\"%.2f\" stroke=\"none\">\n",
      outcome_colours[0], ch->dot_opacity);
  for (size_t i = 0; i < t->nevals; i++) {
    const helion_report_eval_t *e = &t->evals[i];
    if (e->outcome != HELION_REPORT_OK)
      continue;
    double x = scale_map(&xs, x_of_eval(e, panel));
    double y = scale_map(&ch->ys, e->ms);
    if (thin_take(&ch->grid, 0, x, y, panel))
      put(s, "<circle class=\"ok\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>\n", x,
          y, ch->dot_r);
  }
  put(s, "</g>\n");

  put(s, "<g stroke=\"#ff7f0e\" stroke-width=\"1.3\" fill=\"none\">\n");
  for (size_t i = 0; i < t->nrebench; i++) {
    const helion_report_rebench_t *r = &t->rebench[i];
    double x = scale_map(&xs, panel == 0 ? (double)r->after_evaluation
                                         : r->elapsed);
    double y = scale_map(&ch->ys, r->ms);
    if (thin_take(&ch->grid, HELION_REPORT_NOUTCOMES, x, y, panel))
      put_diamond(s, x, y);
  }
  put(s, "</g>\n");

  if (nsteps > 0) {
    put(s,
        "<path class=\"best\" fill=\"none\" stroke=\"#2ca02c\" "
        "stroke-width=\"2\" d=\"M%.1f %.1f",
        scale_map(&xs, steps[0].x), scale_map(&ch->ys, steps[0].ms));
    for (size_t i = 1; i < nsteps; i++)
      put(s, "H%.1fV%.1f", scale_map(&xs, steps[i].x),
          scale_map(&ch->ys, steps[i].ms));
    /* The best holds until the last evaluation. */
    put(s, "H%.1f\"/>\n", scale_map(&xs, hi));
  }

  if (!isnan(t->optimum_ms)) {
    double y = scale_map(&ch->ys, t->optimum_ms);
    char v[48];
    snprintf(v, sizeof v, "%.4g", t->optimum_ms);
    put(s,
        "<line class=\"optimum\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
        "stroke=\"#444\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\n"
        "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
        "fill=\"#444\">optimum %s ms</text>\n",
        x0, y, x1, y, x1 - 4, y - 4, v);
  }
  put(s, "</g>\n");
}

/* Where the next legend entry goes; entries wrap onto a new row. */
typedef struct legend_pos {
  int x, y;
} legend_pos;

enum { LEGEND_X = 100, LEGEND_Y = 515, LEGEND_ROW = 20 };

/* One legend entry. Its width is estimated (about 6.5 px a character at
 * font-size 12), which is enough to keep entries from overlapping. */
static void legend_item(svg *s, legend_pos *lp, const char *mark,
                        const char *label) {
  int w = 14 + (int)(strlen(label) * 13 / 2) + 22;
  if (lp->x > LEGEND_X && lp->x + w > SVG_W - 20) {
    lp->x = LEGEND_X;
    lp->y += LEGEND_ROW;
  }
  put(s, "<g transform=\"translate(%d %d)\">%s</g>", lp->x, lp->y, mark);
  put(s, "<text x=\"%d\" y=\"%d\" font-size=\"12\">", lp->x + 12,
      lp->y + 4);
  put_text(s, label);
  put(s, "</text>\n");
  lp->x += w;
}

/* Draws the legend; returns the baseline of its last row. */
static int draw_legend(svg *s, const chart *ch,
                       const helion_report_summary_t *sum) {
  char label[96], mark[200];
  legend_pos lp = {LEGEND_X, LEGEND_Y};
  put(s, "<g class=\"legend\">\n");
  snprintf(mark, sizeof mark,
           "<circle r=\"3.5\" fill=\"%s\" fill-opacity=\"0.7\"/>",
           outcome_colours[0]);
  snprintf(label, sizeof label, "ok (%zu)", sum->count[0]);
  legend_item(s, &lp, mark, label);
  for (int k = 1; k < HELION_REPORT_NOUTCOMES; k++) {
    if (sum->count[k] == 0)
      continue;
    snprintf(mark, sizeof mark,
             "<path d=\"M-3.5 -3.5l7 7m0 -7l-7 7\" stroke=\"%s\" "
             "stroke-width=\"1.4\"/>",
             outcome_colours[k]);
    snprintf(label, sizeof label, "%s failure (%zu)", outcome_names[k],
             sum->count[k]);
    legend_item(s, &lp, mark, label);
  }
  if (sum->nrebench) {
    snprintf(label, sizeof label, "rebenchmark, not in best so far (%zu)",
             sum->nrebench);
    legend_item(s, &lp,
                "<path d=\"M0 -4l4 4l-4 4l-4 -4z\" fill=\"none\" "
                "stroke=\"#ff7f0e\" stroke-width=\"1.3\"/>",
                label);
  }
  legend_item(s, &lp,
              "<line x1=\"-7\" y1=\"0\" x2=\"7\" y2=\"0\" "
              "stroke=\"#2ca02c\" stroke-width=\"2\"/>",
              "best so far");
  if (!isnan(ch->t->optimum_ms))
    legend_item(s, &lp,
                "<line x1=\"-7\" y1=\"0\" x2=\"7\" y2=\"0\" "
                "stroke=\"#444\" stroke-dasharray=\"4 2\"/>",
                "optimum");
  if (ch->grid.on)
    legend_item(s, &lp, "", "(overlapping marks drawn once)");
  put(s, "</g>\n");
  return lp.y;
}

/* The one-line summary under the title. */
static helion_status summary_line(const helion_report_summary_t *sum,
                                  const helion_report_trace_t *t,
                                  helion_buf_t *b) {
  helion_status rc = helion_buf_appendf(
      b, "%zu evaluation%s, %zu failed", sum->nevals,
      sum->nevals == 1 ? "" : "s", sum->nfailed);
  if (!rc && sum->nfailed) {
    const char *sep = " (";
    for (int k = 1; k < HELION_REPORT_NOUTCOMES && !rc; k++) {
      if (!sum->count[k])
        continue;
      rc = helion_buf_appendf(b, "%s%zu %s", sep, sum->count[k],
                              outcome_names[k]);
      sep = ", ";
    }
    if (!rc)
      rc = helion_buf_putc(b, ')');
  }
  if (!rc && sum->nrebench)
    rc = helion_buf_appendf(b, ", %zu rebenchmark%s", sum->nrebench,
                            sum->nrebench == 1 ? "" : "s");
  if (!rc && !isnan(sum->best_ms))
    rc = helion_buf_appendf(b, "; best %.4g ms at evaluation %lld (%.1f s)",
                            sum->best_ms, (long long)sum->best_evaluation,
                            sum->best_elapsed);
  if (!rc && isnan(sum->best_ms))
    rc = helion_buf_puts(b, "; no evaluation succeeded");
  if (!rc && !isnan(sum->ratio_to_optimum))
    rc = helion_buf_appendf(b, "; %.3fx the optimum %.4g ms",
                            sum->ratio_to_optimum, t->optimum_ms);
  return rc;
}

static helion_status default_title(const helion_report_trace_t *t,
                                   const char *origin, helion_buf_t *b) {
  helion_status rc = HELION_OK;
  if (!t->algorithm && !t->landscape && !t->has_seed) {
    const char *base = origin ? strrchr(origin, '/') : NULL;
    return helion_buf_appendf(b, "Search trace %s",
                              base ? base + 1 : origin ? origin : "");
  }
  rc = helion_buf_puts(b, t->algorithm ? t->algorithm : "Search");
  if (!rc && t->landscape)
    rc = helion_buf_appendf(b, " on %s", t->landscape);
  if (!rc && t->has_seed)
    rc = helion_buf_appendf(b, ", seed %lld", (long long)t->seed);
  return rc;
}

/* Chooses the y scale from every plotted time. */
static void choose_y(chart *ch) {
  const helion_report_trace_t *t = ch->t;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < t->nevals; i++) {
    if (t->evals[i].outcome != HELION_REPORT_OK)
      continue;
    lo = fmin(lo, t->evals[i].ms);
    hi = fmax(hi, t->evals[i].ms);
  }
  for (size_t i = 0; i < t->nrebench; i++) {
    lo = fmin(lo, t->rebench[i].ms);
    hi = fmax(hi, t->rebench[i].ms);
  }
  if (!isnan(t->optimum_ms)) {
    lo = fmin(lo, t->optimum_ms);
    hi = fmax(hi, t->optimum_ms);
  }
  ch->has_y = lo <= hi;
  if (!ch->has_y)
    return;
  ch->ys.p0 = PLOT_BOTTOM;
  ch->ys.p1 = PLOT_TOP;
  /* Beyond 10x a linear axis crushes the interesting end (the fast configs)
   * into a few pixels. */
  ch->ys.log = hi / lo > 10;
  if (ch->ys.log) {
    double l0 = log10(lo), l1 = log10(hi);
    double pad = (l1 - l0) * 0.04;
    ch->ys.d0 = l0 - pad;
    ch->ys.d1 = l1 + pad;
  } else {
    if (hi == lo) {
      lo *= 0.9;
      hi *= 1.1;
    }
    double pad = (hi - lo) * 0.04;
    ch->ys.d0 = lo - pad;
    ch->ys.d1 = hi + pad;
  }
  ch->ylo = lo;
  ch->yhi = hi;
}

helion_status helion_report_svg(const helion_report_trace_t *t,
                                const helion_report_options_t *opt,
                                helion_buf_t *out, helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_report_step_t *steps[2] = {NULL, NULL};
  size_t nsteps[2] = {0, 0};
  helion_buf_t text;
  char *config = NULL;
  chart ch;
  svg s = {out, HELION_OK};
  helion_report_summary_t sum;
  helion_buf_init(&text, 1 << 16);
  memset(&ch, 0, sizeof ch);
  ch.t = t;

  if (t->nevals == 0) {
    rc = helion_err_set(err, HELION_ERR_INVALID,
                        "report: the trace has no evaluations to draw");
    goto out;
  }
  for (int p = 0; p < 2; p++) {
    rc = helion_report_steps(t, (helion_report_axis)p, &steps[p], &nsteps[p],
                             err);
    if (rc)
      goto out;
  }
  helion_report_summarize(t, &sum);
  ch.sum = &sum;
  choose_y(&ch);
  /* Dots shrink as they multiply so that dense regions stay readable. */
  size_t nok = sum.count[HELION_REPORT_OK];
  ch.dot_r = nok <= 300 ? 3 : nok <= 3000 ? 2 : 1.3;
  ch.dot_opacity = nok <= 300 ? 0.7 : nok <= 3000 ? 0.5 : 0.35;
  if (nok > THIN_ABOVE || sum.nfailed > THIN_ABOVE ||
      sum.nrebench > THIN_ABOVE) {
    ch.grid.cells = calloc((size_t)2 * (HELION_REPORT_NOUTCOMES + 1) *
                               GRID_W * GRID_H,
                           1);
    if (!ch.grid.cells) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "report: out of memory");
      goto out;
    }
    ch.grid.on = true;
  }

  put(&s,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"Helvetica, Arial, sans-serif\">\n",
      SVG_W, SVG_H, SVG_W, SVG_H);
  if (opt && opt->title)
    rc = helion_buf_puts(&text, opt->title);
  else
    rc = default_title(t, opt ? opt->origin : NULL, &text);
  if (rc) {
    helion_err_set(err, rc, "report: title too long");
    goto out;
  }
  put(&s, "<title>");
  put_text(&s, helion_buf_str(&text));
  put(&s, "</title>\n");
  if (t->best_config) {
    put(&s, "<desc>best config: ");
    put_text(&s, t->best_config);
    put(&s, "</desc>\n");
  }
  put(&s, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\"/>\n");
  put(&s,
      "<text class=\"title\" x=\"%d\" y=\"30\" font-size=\"18\" "
      "font-weight=\"bold\" text-anchor=\"middle\">",
      SVG_W / 2);
  put_text(&s, helion_buf_str(&text));
  put(&s, "</text>\n");

  helion_buf_reset(&text);
  if ((rc = summary_line(&sum, t, &text)) != HELION_OK) {
    helion_err_set(err, rc, "report: out of memory");
    goto out;
  }
  put(&s,
      "<text class=\"summary\" x=\"%d\" y=\"54\" font-size=\"13\" "
      "text-anchor=\"middle\">",
      SVG_W / 2);
  put_text(&s, helion_buf_str(&text));
  put(&s, "</text>\n");

  for (int p = 0; p < 2; p++)
    draw_panel(&s, &ch, p, steps[p], nsteps[p]);
  int config_y = draw_legend(&s, &ch, &sum) + 32;

  if (t->best_config) {
    config = ellipsize(t->best_config, 150);
    if (!config) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "report: out of memory");
      goto out;
    }
    put(&s,
        "<text class=\"config\" x=\"%d\" y=\"%d\" font-size=\"11\" "
        "font-family=\"monospace\" fill=\"#333\">best config: ",
        LEGEND_X, config_y);
    put_text(&s, config);
    put(&s, "</text>\n");
  }
  put(&s, "</svg>\n");
  if (s.rc == HELION_ERR_LIMIT) {
    rc = helion_err_set(err, s.rc, "report: the SVG exceeds %zu bytes",
                        out->max);
    goto out;
  }
  if (s.rc) {
    rc = helion_err_set(err, s.rc, "report: out of memory");
    goto out;
  }
out:
  free(steps[0]);
  free(steps[1]);
  free(config);
  free(ch.grid.cells);
  helion_buf_cleanup(&text);
  return rc;
}
