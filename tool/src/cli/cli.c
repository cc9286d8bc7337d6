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

int helion_cli_is_help(const char *arg) {
  return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
