/*
 * distill_report.c: the distilled matrix for people (distill.h): a text
 * table for the terminal and an SVG heat map. Both show every cell as the
 * slowdown against its shape's best, mark the selected columns and end
 * each row with the shape's slowdown under the subset. Output depends on
 * the data only (fixed formats, no dates), so reports can be diffed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/distill.h"
#include "results/report.h"

static double cell(const helion_distill_t *d, size_t s, size_t c) {
  return d->ms[s * d->nconfigs + c];
}

static double row_best(const helion_distill_t *d, size_t s) {
  double b = INFINITY;
  for (size_t c = 0; c < d->nconfigs; c++)
    b = fmin(b, cell(d, s, c));
  return b;
}

static bool is_selected(const helion_distill_t *d, size_t c) {
  for (size_t j = 0; j < d->nselected; j++)
    if (d->selected[j] == c)
      return true;
  return false;
}

/* The shape's subset slowdown; +inf when select has not run. */
static double subset_slowdown(const helion_distill_t *d, size_t s) {
  return d->slowdown ? d->slowdown[s] : INFINITY;
}

static helion_status put_shape(const helion_distill_t *d, size_t s,
                               helion_buf_t *out) {
  helion_status rc = HELION_OK;
  for (size_t k = 0; k < d->nkeys && !rc; k++)
    rc = helion_buf_appendf(out, "%s%s=%lld", k ? "," : "", d->keys[k],
                            (long long)d->shapes[s * d->nkeys + k]);
  return rc;
}

/* A slowdown in at most 6 characters: "1.23", "12.34", "123.4", ">999",
 * "-" for failed; the column's width is fixed whatever the data. */
static void fmt_slowdown(double x, char buf[16]) {
  if (!isfinite(x))
    strcpy(buf, "-");
  else if (x < 100.0)
    snprintf(buf, 16, "%.2f", x);
  else if (x < 1000.0)
    snprintf(buf, 16, "%.1f", x);
  else
    strcpy(buf, ">999");
}

static int matrix_ok(const helion_distill_t *d) {
  return d->nshapes && d->nconfigs && d->ms && d->shapes &&
         (d->nkeys == 0 || d->keys) && (d->nselected == 0 || d->selected);
}

static helion_status bad_matrix(helion_err_t *err) {
  return helion_err_set(err, HELION_ERR_INVALID,
                        "distill report: no matrix to draw (shapes, configs "
                        "and times are required)");
}

/* -------------------------------------------------------------- text -- */

enum { CELL_W = 7 };

static size_t shape_width(const helion_distill_t *d, helion_buf_t *tmp) {
  size_t w = strlen("shape");
  for (size_t s = 0; s < d->nshapes; s++) {
    helion_buf_reset(tmp);
    if (put_shape(d, s, tmp) == HELION_OK && tmp->len > w)
      w = tmp->len;
  }
  return w;
}

static helion_status text_header(const helion_distill_t *d, size_t lw,
                                 helion_buf_t *out) {
  size_t over = 0;
  for (size_t s = 0; s < d->nshapes; s++)
    over += !(subset_slowdown(d, s) <= d->threshold);
  helion_status rc = helion_buf_appendf(
      out,
      "distill: %s (cc %s), threshold %.3f: %zu of %zu configs selected; "
      "%zu of %zu shapes beyond the threshold under the subset\n",
      d->device_name ? d->device_name : "unknown device", d->cc, d->threshold,
      d->nselected, d->nconfigs, over, d->nshapes);
  if (!rc)
    rc = helion_buf_appendf(out, "%-*s", (int)lw, "shape");
  for (size_t c = 0; c < d->nconfigs && !rc; c++) {
    char name[32];
    snprintf(name, sizeof name, "C%zu%s", c, is_selected(d, c) ? "*" : "");
    rc = helion_buf_appendf(out, " %*s", CELL_W, name);
  }
  if (!rc)
    rc = helion_buf_appendf(out, " %*s\n", CELL_W, "subset");
  return rc;
}

static helion_status text_row(const helion_distill_t *d, size_t s, size_t lw,
                              helion_buf_t *out) {
  size_t start = out->len;
  helion_status rc = put_shape(d, s, out);
  if (!rc)
    rc = helion_buf_appendf(out, "%*s", (int)(lw - (out->len - start)), "");
  double best = row_best(d, s);
  for (size_t c = 0; c < d->nconfigs && !rc; c++) {
    char v[16];
    double x = cell(d, s, c);
    fmt_slowdown(x / best, v);
    /* The star hangs off the number so the digits stay aligned. */
    rc = helion_buf_appendf(out, " %*s%c", CELL_W - 1, v,
                            isfinite(x) && x == best ? '*' : ' ');
  }
  char v[16];
  fmt_slowdown(subset_slowdown(d, s), v);
  if (!rc)
    rc = helion_buf_appendf(out, " %*s\n", CELL_W, v);
  return rc;
}

static helion_status text_legend(const helion_distill_t *d, helion_buf_t *out) {
  helion_status rc = helion_buf_puts(
      out, "cells: time / the shape's best; * the shape's best; - failed or "
           "illegal; subset: the best selected config's slowdown\n"
           "selected, in the order chosen:");
  for (size_t j = 0; j < d->nselected && !rc; j++)
    rc = helion_buf_appendf(out, " C%zu", d->selected[j]);
  if (!rc)
    rc = helion_buf_puts(out, d->nselected ? "\n" : " none\n");
  /* Names padded to the widest ("C11*") so the texts line up. */
  char widest[32];
  int w = snprintf(widest, sizeof widest, "C%zu*", d->nconfigs - 1);
  for (size_t c = 0; c < d->nconfigs && !rc; c++) {
    char name[32];
    snprintf(name, sizeof name, "C%zu%s", c, is_selected(d, c) ? "*" : "");
    rc = helion_buf_appendf(out, "  %-*s %s\n", w, name,
                            d->configs && d->configs[c] ? d->configs[c] : "?");
  }
  return rc;
}

helion_status helion_distill_report_text(const helion_distill_t *d,
                                         helion_buf_t *out, helion_err_t *err) {
  if (!matrix_ok(d))
    return bad_matrix(err);
  helion_buf_t tmp;
  helion_buf_init(&tmp, 1 << 16);
  size_t lw = shape_width(d, &tmp);
  helion_buf_cleanup(&tmp);
  helion_status rc = text_header(d, lw, out);
  for (size_t s = 0; s < d->nshapes && !rc; s++)
    rc = text_row(d, s, lw, out);
  if (!rc)
    rc = text_legend(d, out);
  if (rc)
    return helion_err_set(err, rc, "distill report: the text is too large");
  return HELION_OK;
}

/* --------------------------------------------------------------- svg -- */

enum {
  SVG_CW = 44,    /* cell width */
  SVG_CH = 20,    /* cell height */
  SVG_CHAR_W = 7, /* a 12px label character, roughly */
  SVG_TOP = 70,   /* title and column labels */
  SVG_GAP = 12,   /* between the matrix and the subset column */
};

/* The fill of a slowdown: dark green at 1, yellow at sqrt(2), red at 2 and
 * beyond (even steps in log space), grey for failed. */
static void slowdown_colour(double x, char buf[8]) {
  static const double stops[3][3] = {
      {0x1a, 0x7f, 0x37}, {0xf2, 0xd4, 0x3d}, {0xd1, 0x24, 0x2f}};
  if (!isfinite(x)) {
    strcpy(buf, "#bdbdbd");
    return;
  }
  double t = log(fmax(x, 1.0)) / log(2.0);
  t = fmin(t, 1.0) * 2.0;
  int i = t >= 1.0 ? 1 : 0;
  double u = t - i;
  int rgb[3];
  for (int k = 0; k < 3; k++)
    rgb[k] = (int)lround(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * u);
  snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* Dark text on the light middle of the scale, white on the ends. */
static const char *text_colour(double x) {
  if (!isfinite(x))
    return "#000";
  double t = log(fmax(x, 1.0)) / log(2.0);
  return t > 0.25 && t < 0.8 ? "#000" : "#fff";
}

typedef struct grid {
  const helion_distill_t *d;
  helion_buf_t *out;
  helion_status rc;
  int left; /* x of the first column */
} grid;

static void gput(grid *g, const char *fmt, ...) HELION_PRINTF(2, 3);
static void gput(grid *g, const char *fmt, ...) {
  if (g->rc)
    return;
  va_list ap;
  va_start(ap, fmt);
  g->rc = helion_buf_vappendf(g->out, fmt, ap);
  va_end(ap);
}

static void gtext(grid *g, const char *s) {
  if (!g->rc)
    g->rc = helion_report_put_xml_text(g->out, s);
}

/* One coloured cell with its value written in it and as a tooltip. */
static void draw_cell(grid *g, const char *cls, int x, int y, double v,
                      bool star) {
  char fill[8], txt[16];
  slowdown_colour(v, fill);
  fmt_slowdown(v, txt);
  gput(g,
       "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
       "fill=\"%s\"><title>%s%s</title></rect>\n",
       cls, x, y, SVG_CW, SVG_CH, fill, txt, star ? " (best)" : "");
  gput(g,
       "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" "
       "fill=\"%s\">%s%s</text>\n",
       x + SVG_CW / 2, y + 14, text_colour(v), txt, star ? "*" : "");
}

static void draw_row(grid *g, size_t s, helion_buf_t *label) {
  const helion_distill_t *d = g->d;
  int y = SVG_TOP + (int)s * SVG_CH;
  helion_buf_reset(label);
  if (!g->rc)
    g->rc = put_shape(d, s, label);
  gput(g, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">",
       g->left - 6, y + 14);
  gtext(g, helion_buf_str(label));
  gput(g, "</text>\n");
  double best = row_best(d, s);
  for (size_t c = 0; c < d->nconfigs; c++) {
    double x = cell(d, s, c);
    draw_cell(g, "cell", g->left + (int)c * SVG_CW, y, x / best,
              isfinite(x) && x == best);
  }
  draw_cell(g, "subset", g->left + (int)d->nconfigs * SVG_CW + SVG_GAP, y,
            subset_slowdown(d, s), false);
}

static void draw_columns(grid *g) {
  const helion_distill_t *d = g->d;
  int h = (int)d->nshapes * SVG_CH;
  for (size_t c = 0; c < d->nconfigs; c++) {
    int x = g->left + (int)c * SVG_CW;
    bool sel = is_selected(d, c);
    gput(g,
         "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\"%s>"
         "C%zu</text>\n",
         x + SVG_CW / 2, SVG_TOP - 6, sel ? " font-weight=\"bold\"" : "", c);
    if (sel)
      gput(g,
           "<rect class=\"selected\" x=\"%d\" y=\"%d\" width=\"%d\" "
           "height=\"%d\" fill=\"none\" stroke=\"#000\" "
           "stroke-width=\"2.5\"/>\n",
           x, SVG_TOP, SVG_CW, h);
  }
  gput(g,
       "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">"
       "subset</text>\n",
       g->left + (int)d->nconfigs * SVG_CW + SVG_GAP + SVG_CW / 2, SVG_TOP - 6);
}

/* The colour scale and the config texts, below the matrix, starting at y. */
static void draw_legend(grid *g, int y) {
  static const double marks[] = {1.0, 1.1, 1.25, 1.5, 2.0};
  const helion_distill_t *d = g->d;
  gput(g, "<g class=\"legend\" font-size=\"11\">\n");
  for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
    char fill[8];
    slowdown_colour(marks[i], fill);
    gput(g,
         "<rect class=\"key\" x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
         "fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s%.2f</text>\n",
         10 + (int)i * 70, y, fill, 28 + (int)i * 70, y + 11,
         i + 1 == sizeof marks / sizeof *marks ? "&#8805;" : "", marks[i]);
  }
  char grey[8];
  slowdown_colour(INFINITY, grey);
  gput(g,
       "<rect class=\"key\" x=\"360\" y=\"%d\" width=\"14\" height=\"14\" "
       "fill=\"%s\"/><text x=\"378\" y=\"%d\">failed</text>\n",
       y, grey, y + 11);
  gput(g,
       "<text x=\"460\" y=\"%d\">outlined: selected; *: the shape&apos;s "
       "best</text>\n",
       y + 11);
  for (size_t c = 0; c < d->nconfigs; c++) {
    gput(g, "<text x=\"10\" y=\"%d\">C%zu%s ", y + 34 + (int)c * 16, c,
         is_selected(d, c) ? "*" : "");
    gtext(g, d->configs && d->configs[c] ? d->configs[c] : "?");
    gput(g, "</text>\n");
  }
  gput(g, "</g>\n");
}

helion_status helion_distill_report_svg(const helion_distill_t *d,
                                        helion_buf_t *out, helion_err_t *err) {
  if (!matrix_ok(d))
    return bad_matrix(err);
  helion_buf_t label;
  helion_buf_init(&label, 1 << 16);
  grid g = {d, out, HELION_OK, 0};
  g.left = 16 + (int)shape_width(d, &label) * SVG_CHAR_W;
  int grid_bottom = SVG_TOP + (int)d->nshapes * SVG_CH;
  int width = g.left + (int)(d->nconfigs + 1) * SVG_CW + SVG_GAP + 16;
  /* The config texts under the legend (11px, ~6px a character). */
  for (size_t c = 0; d->configs && c < d->nconfigs; c++) {
    int w = 60 + 6 * (int)(d->configs[c] ? strlen(d->configs[c]) : 1);
    width = w > width ? w : width;
  }
  width = width < 560 ? 560 : width;
  int height = grid_bottom + 56 + (int)d->nconfigs * 16;
  gput(&g,
       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
       "font-family=\"Helvetica, Arial, sans-serif\">\n",
       width, height, width, height);
  gput(&g, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\"/>\n");
  gput(&g, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">");
  gtext(&g, d->device_name ? d->device_name : "unknown device");
  gput(&g, " (cc ");
  gtext(&g, d->cc);
  gput(&g, "): %zu of %zu configs selected, threshold %.3f</text>\n",
       d->nselected, d->nconfigs, d->threshold);
  for (size_t s = 0; s < d->nshapes; s++)
    draw_row(&g, s, &label);
  draw_columns(&g);
  draw_legend(&g, grid_bottom + 16);
  gput(&g, "</svg>\n");
  helion_buf_cleanup(&label);
  if (g.rc)
    return helion_err_set(err, g.rc, "distill report: the SVG is too large");
  return HELION_OK;
}
