/* cli.c: what several subcommands share: loading a spec with its assumed
 * device and an optional --shape. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "search/search.h"
#include "model/spec.h"

int helion_cli_load_spec(const char *cmd, const char *spec_path,
                         const char *arch, const char *shape,
                         helion_spec_t **out_spec,
                         helion_device_props_t *out_dev, int64_t **out_shape) {
  helion_err_t err = {{0}};
  helion_spec_t *spec = NULL;
  int64_t *values = NULL;
  helion_device_props_t dev;

  if (arch && helion_device_props_for_arch(arch, &dev, &err)) {
    fprintf(stderr, "helion-tune %s: --arch: %s\n", cmd, err.msg);
    return HELION_EXIT_USAGE;
  }
  helion_status rc = helion_spec_load(spec_path, &spec, &err);
  if (rc) {
    fprintf(stderr, "helion-tune %s: %s\n", cmd,
            rc == HELION_ERR_NOMEM ? "out of memory" : err.msg);
    return HELION_EXIT_FAILURE;
  }
  if (shape) {
    values = calloc(spec->nkeys ? spec->nkeys : 1, sizeof(int64_t));
    if (!values) {
      fprintf(stderr, "helion-tune %s: out of memory\n", cmd);
      helion_spec_destroy(spec);
      return HELION_EXIT_FAILURE;
    }
    if (helion_spec_parse_shape(spec, shape, values, &err)) {
      fprintf(stderr, "helion-tune %s: --shape: %s\n", cmd, err.msg);
      free(values);
      helion_spec_destroy(spec);
      return HELION_EXIT_USAGE;
    }
  }
  *out_spec = spec;
  if (out_dev && arch)
    *out_dev = dev;
  *out_shape = values;
  return HELION_EXIT_OK;
}

bool helion_cli_parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+')
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return false;
  *out = (uint64_t)v;
  return true;
}

bool helion_cli_parse_pos_double(const char *s, double *out) {
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v > 0) || !isfinite(v))
    return false;
  *out = v;
  return true;
}

int helion_cli_usage_error(const char *prog, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun '%s --help' for the options.\n", prog);
  return HELION_EXIT_USAGE;
}

void helion_cli_print_algorithms(FILE *f) {
  for (size_t i = 0; i < helion_search_algo_count(); i++) {
    const helion_search_algo_t *a = helion_search_algo_at(i);
    fprintf(f, "                          %-28s %s\n", a->name, a->summary);
  }
}

/* "3", "0.1", "true", "from_random": a default as --set takes it. */
static void print_value(FILE *f, const helion_opt_decl_t *d,
                        helion_opt_value_t v) {
  switch (d->type) {
  case HELION_OPT_INT:
    fprintf(f, "%lld", (long long)v.i);
    return;
  case HELION_OPT_DOUBLE:
    fprintf(f, "%g", v.d);
    return;
  case HELION_OPT_BOOL:
    fputs(v.i ? "true" : "false", f);
    return;
  case HELION_OPT_ENUM:
    fputs(d->choices[v.i], f);
    return;
  }
}

static void print_table(FILE *f, const char *title,
                        const helion_opt_decl_t *tab, size_t n) {
  fprintf(f, "%s:\n", title);
  for (size_t i = 0; i < n; i++) {
    const helion_opt_decl_t *d = &tab[i];
    fprintf(f, "  %-28s ", d->name);
    print_value(f, d, d->full);
    if (memcmp(&d->full, &d->quick, sizeof(d->full)) != 0) {
      fputs(" (quick: ", f);
      print_value(f, d, d->quick);
      fputc(')', f);
    }
    if (d->type == HELION_OPT_INT || d->type == HELION_OPT_DOUBLE)
      fprintf(f, " in [%g, %g]%s", d->min, d->max, d->clamp ? ", clamped" : "");
    if (d->env)
      fprintf(f, "  $%s", d->env);
    fprintf(f, "\n      %s\n", d->help);
  }
}

void helion_cli_print_search_options(FILE *f, const char *algorithm) {
  print_table(f, "Options of every search", helion_search_driver_opt_at(0),
              helion_search_driver_opt_count());
  for (size_t i = 0; i < helion_search_algo_count(); i++) {
    const helion_search_algo_t *a = helion_search_algo_at(i);
    if (a->nopts == 0 || (algorithm && strcmp(algorithm, a->name) != 0))
      continue;
    char title[96];
    snprintf(title, sizeof(title), "\nOptions of %s", a->name);
    print_table(f, title, a->opts, a->nopts);
  }
}

int helion_cli_is_help(const char *arg) {
  return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
