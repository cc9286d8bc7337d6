/*
 * cmd_space.c: `helion-tune space SPEC`: how big a spec's configuration space
 * is, parameter by parameter, and how much of it the restrictions remove;
 * with --list, every valid configuration of one shape with the NVRTC options
 * and launch geometry the tool would use for it (for other tuners to search
 * the same space).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/arch.h"
#include "model/config.h"
#include "model/launch.h"
#include "model/space.h"
#include "model/spec.h"
#include "util/util.h"

/* Enumerate exactly up to this many configurations, else sample. */
#define SPACE_MAX_ENUMERATE 2000000ULL
#define SPACE_DEFAULT_SAMPLES 200000ULL
/* Each sample evaluates every restriction: 10^8 is minutes, not hours. */
#define SPACE_MAX_SAMPLES 100000000ULL

static void space_usage(FILE *f) {
  fprintf(
      f,
      "usage: helion-tune space SPEC [--shape K=V,...] [--arch sm_XX]\n"
      "                         [--samples N] [--json | --list]\n\n"
      "Reports the configuration space of a kernel spec: its total size\n"
      "as an exact integer, the number of values of each parameter, and\n"
      "how many configurations the restrictions remove. Spaces of up to\n"
      "%llu configurations are counted exactly; larger ones are estimated\n"
      "from uniform samples.\n\n"
      "Options:\n"
      "  --shape K=V,...  the shape to evaluate restrictions for (default:\n"
      "                   every shape listed in the spec)\n"
      "  --arch sm_XX     device properties assumed in expressions\n"
      "                   (default sm_90); no GPU is used\n"
      "  --samples N      samples for the estimate (default %llu, at most\n"
      "                   %llu)\n"
      "  --seed S         seed of the sampling (default 0)\n"
      "  --json           print one JSON object to stdout\n"
      "  --list           print every valid configuration of one shape,\n"
      "                   one JSON object a line: \"config\" (as\n"
      "                   `tune --config` takes it), \"default\" (true for\n"
      "                   the spec's default config), \"defines\" (the -D\n"
      "                   macros, [\"BLOCK_M=128\", ...]), \"options\"\n"
      "                   (other NVRTC options: [\"--maxrregcount=128\"]\n"
      "                   or []), \"grid\" and \"block\" ([x,y,z]) and\n"
      "                   \"shared_mem\" (bytes) on the --arch device; a\n"
      "                   config that cannot launch there has them null\n"
      "                   and a \"launch_error\". Needs one shape (--shape,\n"
      "                   or a spec with one) and a space of at most %llu\n"
      "                   configurations\n"
      "  -h, --help       show this help\n\n"
      "Exit status: 0 success, 1 invalid spec, 2 usage error.\n",
      SPACE_MAX_ENUMERATE, SPACE_DEFAULT_SAMPLES, SPACE_MAX_SAMPLES,
      SPACE_MAX_ENUMERATE);
}

static const char *kind_name(const helion_param_t *p) {
  switch (p->frag.kind) {
  case HELION_FRAG_POW2:
    return "power_of_two";
  case HELION_FRAG_INT:
    return "integer";
  case HELION_FRAG_ENUM:
    return "enum";
  case HELION_FRAG_BOOL:
    return "boolean";
  case HELION_FRAG_PERM:
    return "permutation";
  case HELION_FRAG_LIST:
    return "list";
  }
  return "unknown";
}

/* "block_sizes[0] (BLOCK_M)" or "num_warps". */
static void param_label(const helion_param_t *p, char *out, size_t n) {
  if (p->index >= 0 && p->name)
    snprintf(out, n, "%s[%d] (%s)", p->key, p->index, p->name);
  else if (p->index >= 0)
    snprintf(out, n, "%s[%d]", p->key, p->index);
  else
    snprintf(out, n, "%s", p->key);
}

typedef struct space_args {
  const char *spec_path;
  const char *shape;
  const char *arch;
  uint64_t samples;
  uint64_t seed;
  bool json;
  bool list;
} space_args;

static int parse_u64(const char *flag, const char *s, uint64_t *out) {
  uint64_t v;
  if (!helion_cli_parse_u64(s, &v)) {
    fprintf(stderr,
            "helion-tune space: %s: '%s' is not a non-negative integer\n", flag,
            s);
    return HELION_EXIT_USAGE;
  }
  *out = v;
  return 0;
}

static int space_parse_args(int argc, char **argv, space_args *a) {
  memset(a, 0, sizeof(*a));
  a->arch = "sm_90";
  a->samples = SPACE_DEFAULT_SAMPLES;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    bool has_value = i + 1 < argc;
    if (helion_cli_is_help(arg)) {
      space_usage(stdout);
      return -1;
    } else if (strcmp(arg, "--json") == 0) {
      a->json = true;
    } else if (strcmp(arg, "--list") == 0) {
      a->list = true;
    } else if (strcmp(arg, "--shape") == 0 || strcmp(arg, "--arch") == 0 ||
               strcmp(arg, "--samples") == 0 || strcmp(arg, "--seed") == 0) {
      if (!has_value) {
        fprintf(stderr, "helion-tune space: %s needs a value\n", arg);
        return HELION_EXIT_USAGE;
      }
      const char *v = argv[++i];
      int rc = 0;
      if (strcmp(arg, "--shape") == 0)
        a->shape = v;
      else if (strcmp(arg, "--arch") == 0)
        a->arch = v;
      else if (strcmp(arg, "--samples") == 0)
        rc = parse_u64(arg, v, &a->samples);
      else
        rc = parse_u64(arg, v, &a->seed);
      if (rc)
        return rc;
    } else if (arg[0] == '-' && arg[1] != '\0') {
      fprintf(stderr, "helion-tune space: unknown option '%s'; see --help\n",
              arg);
      return HELION_EXIT_USAGE;
    } else if (!a->spec_path) {
      a->spec_path = arg;
    } else {
      fprintf(stderr, "helion-tune space: unexpected argument '%s'\n", arg);
      return HELION_EXIT_USAGE;
    }
  }
  if (!a->spec_path) {
    fprintf(stderr, "helion-tune space: missing SPEC; see --help\n");
    return HELION_EXIT_USAGE;
  }
  if (a->json && a->list) {
    fprintf(stderr, "helion-tune space: --json and --list exclude each "
                    "other\n");
    return HELION_EXIT_USAGE;
  }
  if (a->samples == 0 || a->samples > SPACE_MAX_SAMPLES) {
    fprintf(stderr,
            "helion-tune space: --samples %" PRIu64 ": give 1 to %llu "
            "samples (default %llu)\n",
            a->samples, SPACE_MAX_SAMPLES, SPACE_DEFAULT_SAMPLES);
    return HELION_EXIT_USAGE;
  }
  return 0;
}

/* Reports one shape; appends a JSON object to `json` when it is not NULL. */
static helion_status report_shape(const helion_spec_t *spec,
                                  const int64_t *shape,
                                  const helion_device_props_t *dev,
                                  const space_args *a, helion_buf_t *json,
                                  helion_err_t *err) {
  helion_space_t *space = NULL;
  helion_buf_t size;
  helion_buf_init(&size, 0);
  helion_status rc = helion_spec_space(spec, shape, dev, &space, err);
  if (rc)
    goto out;
  rc = helion_space_size_str(space, &size);
  if (rc)
    goto out;

  helion_rng_t rng;
  helion_rng_seed(&rng, a->seed);
  double valid_fraction = 0;
  bool exact = false;
  helion_space_count_valid(space, &rng, SPACE_MAX_ENUMERATE, a->samples,
                           &valid_fraction, &exact);
  /* The total is exact; removed = total * (1 - valid fraction), rounded. */
  double total = strtod(helion_buf_str(&size), NULL);
  double removed = total * (1.0 - valid_fraction);
  if (exact)
    removed = floor(removed + 0.5);

  char shape_text[512] = "";
  size_t used = 0;
  for (size_t k = 0; k < spec->nkeys && used < sizeof(shape_text); k++)
    used += (size_t)snprintf(shape_text + used, sizeof(shape_text) - used,
                             "%s%s=%" PRId64, k ? "," : "", spec->keys[k],
                             shape[k]);

  if (!json) {
    fprintf(stderr, "%s, shape %s, %s:\n", spec->name, shape_text, dev->name);
    fprintf(stderr, "  %-36s %-13s %s\n", "parameter", "kind", "values");
    for (size_t i = 0; i < space->nparams; i++) {
      char label[256];
      param_label(&space->params[i], label, sizeof(label));
      fprintf(stderr, "  %-36s %-13s %" PRIu64 "\n", label,
              kind_name(&space->params[i]),
              helion_space_slot_cardinality(space, i));
    }
    fprintf(stderr, "  total size:        %s\n", helion_buf_str(&size));
    if (exact)
      fprintf(stderr,
              "  restrictions:      remove %.0f (%.2f%%), %.0f valid "
              "(counted exactly)\n",
              removed, 100.0 * (1.0 - valid_fraction), total - removed);
    else
      fprintf(stderr,
              "  restrictions:      remove about %.3g (%.2f%%), about %.3g "
              "valid (estimated from %" PRIu64 " samples)\n",
              removed, 100.0 * (1.0 - valid_fraction), total - removed,
              a->samples);
    goto out;
  }

  rc = helion_buf_puts(json, "{\"shape\":{");
  for (size_t k = 0; !rc && k < spec->nkeys; k++) {
    rc = helion_buf_appendf(json, "%s", k ? "," : "");
    if (!rc)
      rc = helion_buf_put_json_string(json, spec->keys[k]);
    if (!rc)
      rc = helion_buf_appendf(json, ":%" PRId64, shape[k]);
  }
  if (!rc)
    rc = helion_buf_puts(json, "},\"parameters\":[");
  for (size_t i = 0; !rc && i < space->nparams; i++) {
    const helion_param_t *p = &space->params[i];
    rc = helion_buf_appendf(json, "%s{\"key\":", i ? "," : "");
    if (!rc)
      rc = helion_buf_put_json_string(json, p->key);
    if (!rc)
      rc = helion_buf_appendf(json, ",\"index\":%d,\"name\":", p->index);
    if (!rc && p->name)
      rc = helion_buf_put_json_string(json, p->name);
    else if (!rc)
      rc = helion_buf_puts(json, "null");
    if (!rc)
      rc = helion_buf_appendf(
          json, ",\"kind\":\"%s\",\"cardinality\":%" PRIu64 "}", kind_name(p),
          helion_space_slot_cardinality(space, i));
  }
  if (!rc)
    rc = helion_buf_puts(json, "],\"size\":");
  if (!rc)
    rc = helion_buf_put_json_string(json, helion_buf_str(&size));
  if (!rc)
    rc = helion_buf_appendf(json,
                            ",\"valid_fraction\":%.17g,\"valid_exact\":%s,"
                            "\"removed_by_restrictions\":%.17g,"
                            "\"samples\":%" PRIu64 "}",
                            valid_fraction, exact ? "true" : "false", removed,
                            exact ? (uint64_t)0 : a->samples);
out:
  helion_buf_cleanup(&size);
  helion_space_destroy(space);
  return rc;
}

/* State of one --list: the line being built and the first fault. */
typedef struct list_ud {
  const helion_spec_t *spec;
  const int64_t *shape;
  const helion_device_props_t *dev;
  helion_num_t *scope; /* spec->nscope values */
  helion_buf_t line;
  helion_buf_t opts;
  helion_status rc;
} list_ud_t;

/* Appends `v` as the JSON array [v0,v1,v2]. */
static helion_status put_dim3(helion_buf_t *b, const uint32_t v[3]) {
  return helion_buf_appendf(b, "[%" PRIu32 ",%" PRIu32 ",%" PRIu32 "]", v[0],
                            v[1], v[2]);
}

/*
 * Appends "defines":[...],"options":[...] from helion_config_defines' lines:
 * "-DNAME=V" lines go to defines without the -D, every other line (such as
 * --maxrregcount) to options, so a tuner that writes its own #defines can
 * still pass the rest to NVRTC.
 */
static helion_status put_defines(helion_buf_t *b, const char *opts) {
  helion_status rc = HELION_OK;
  for (int pass = 0; pass < 2 && !rc; pass++) {
    rc = helion_buf_puts(b, pass ? "],\"options\":[" : "\"defines\":[");
    bool first = true;
    for (const char *p = opts; *p && !rc;) {
      const char *end = strchr(p, '\n');
      size_t n = end ? (size_t)(end - p) : strlen(p);
      bool define = n > 2 && p[0] == '-' && p[1] == 'D';
      if (n > 0 && define == (pass == 0)) {
        char item[1024];
        size_t skip = define ? 2 : 0;
        size_t len = n - skip < sizeof(item) - 1 ? n - skip : sizeof(item) - 1;
        memcpy(item, p + skip, len);
        item[len] = '\0';
        rc = helion_buf_puts(b, first ? "" : ",");
        if (!rc)
          rc = helion_buf_put_json_string(b, item);
        first = false;
      }
      p += n + (end ? 1 : 0);
    }
  }
  if (!rc)
    rc = helion_buf_putc(b, ']');
  return rc;
}

/* Prints one valid configuration's line; stops the enumeration on a fault. */
static bool list_visit(const helion_space_t *space, const int64_t *cells,
                       void *ud) {
  list_ud_t *L = ud;
  helion_buf_reset(&L->line);
  helion_buf_reset(&L->opts);
  helion_status rc = helion_buf_puts(&L->line, "{\"config\":");
  if (!rc)
    rc = helion_config_to_json(space, cells, false, &L->line);
  if (!rc)
    rc = helion_config_defines(space, cells, &L->opts);
  if (!rc) {
    bool is_default = memcmp(cells, space->default_cells,
                             space->ncells * sizeof(*cells)) == 0;
    rc = helion_buf_appendf(&L->line, ",\"default\":%s,",
                            is_default ? "true" : "false");
  }
  if (!rc)
    rc = put_defines(&L->line, helion_buf_str(&L->opts));
  if (rc) {
    L->rc = rc;
    return true;
  }
  /* The geometry exactly as the GPU backend computes it (config_launch). */
  helion_launch_t launch;
  helion_err_t why = {{0}};
  helion_launch_scope(L->spec, space, L->shape, L->dev, cells, L->scope);
  if (helion_launch_eval(L->spec, L->scope, &launch, &why) == HELION_OK) {
    rc = helion_buf_puts(&L->line, ",\"grid\":");
    if (!rc)
      rc = put_dim3(&L->line, launch.grid);
    if (!rc)
      rc = helion_buf_puts(&L->line, ",\"block\":");
    if (!rc)
      rc = put_dim3(&L->line, launch.block);
    if (!rc)
      rc = helion_buf_appendf(&L->line, ",\"shared_mem\":%" PRIu32 "}\n",
                              launch.shared_mem);
  } else {
    rc = helion_buf_puts(&L->line, ",\"grid\":null,\"block\":null,"
                                   "\"shared_mem\":null,\"launch_error\":");
    if (!rc)
      rc = helion_buf_put_json_string(&L->line, why.msg);
    if (!rc)
      rc = helion_buf_puts(&L->line, "}\n");
  }
  if (rc) {
    L->rc = rc;
    return true;
  }
  fputs(helion_buf_str(&L->line), stdout);
  return false;
}

/* `space --list`: every valid configuration of one shape, a line each. */
static helion_status list_shape(const helion_spec_t *spec, const int64_t *shape,
                                const helion_device_props_t *dev,
                                helion_err_t *err) {
  helion_space_t *space = NULL;
  list_ud_t L = {spec, shape, dev, NULL, {0}, {0}, HELION_OK};
  helion_buf_init(&L.line, 0);
  helion_buf_init(&L.opts, 0);
  helion_status rc = helion_spec_space(spec, shape, dev, &space, err);
  if (rc)
    goto out;
  L.scope = calloc(spec->nscope ? spec->nscope : 1, sizeof(*L.scope));
  if (!L.scope) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  rc = helion_space_enumerate_valid(space, SPACE_MAX_ENUMERATE, list_visit, &L);
  if (rc == HELION_ERR_LIMIT) {
    helion_buf_t size;
    helion_buf_init(&size, 0);
    helion_space_size_str(space, &size);
    rc = helion_err_set(err, HELION_ERR_LIMIT,
                        "--list: the space has %s configurations, more than "
                        "the %llu it can enumerate; narrow the spec's space",
                        helion_buf_str(&size), SPACE_MAX_ENUMERATE);
    helion_buf_cleanup(&size);
    goto out;
  }
  if (!rc)
    rc = L.rc;
  if (rc)
    helion_err_set(err, rc, "--list: %s", helion_status_str(rc));
out:
  free(L.scope);
  helion_buf_cleanup(&L.line);
  helion_buf_cleanup(&L.opts);
  helion_space_destroy(space);
  return rc;
}

int helion_cmd_space(int argc, char **argv) {
  space_args a;
  int prc = space_parse_args(argc, argv, &a);
  if (prc < 0)
    return HELION_EXIT_OK;
  if (prc)
    return prc;

  int exit_code = HELION_EXIT_FAILURE;
  helion_err_t err = {{0}};
  helion_spec_t *spec = NULL;
  int64_t *one_shape = NULL;
  helion_buf_t json;
  helion_buf_init(&json, 0);
  helion_device_props_t dev;

  helion_status rc = HELION_OK;
  exit_code = helion_cli_load_spec("space", a.spec_path, a.arch, a.shape, &spec,
                                   &dev, &one_shape);
  if (exit_code != HELION_EXIT_OK)
    goto out;
  exit_code = HELION_EXIT_FAILURE;
  if (a.list) {
    if (!one_shape && spec->nshapes != 1) {
      fprintf(stderr,
              "helion-tune space: --list needs one shape: the spec has %zu; "
              "give --shape K=V,...\n",
              spec->nshapes);
      exit_code = HELION_EXIT_USAGE;
      goto out;
    }
    rc = list_shape(spec, one_shape ? one_shape : spec->shapes, &dev, &err);
    if (rc)
      goto fail;
    exit_code = HELION_EXIT_OK;
    goto out;
  }
  if (a.json) {
    rc = helion_buf_puts(&json, "{\"spec\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, spec->name);
    if (!rc)
      rc = helion_buf_puts(&json, ",\"device\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, dev.name);
    if (!rc)
      rc = helion_buf_puts(&json, ",\"shapes\":[");
    if (rc)
      goto fail;
  }
  size_t nshapes = one_shape ? 1 : spec->nshapes;
  for (size_t s = 0; s < nshapes; s++) {
    const int64_t *shape =
        one_shape ? one_shape : spec->shapes + s * spec->nkeys;
    if (a.json && s > 0 && (rc = helion_buf_putc(&json, ',')))
      goto fail;
    rc = report_shape(spec, shape, &dev, &a, a.json ? &json : NULL, &err);
    if (rc)
      goto fail;
  }
  if (a.json) {
    if ((rc = helion_buf_puts(&json, "]}\n")))
      goto fail;
    fputs(helion_buf_str(&json), stdout);
  }
  exit_code = HELION_EXIT_OK;
  goto out;
fail:
  /* A buffer's NOMEM or LIMIT leaves no message; --list's LIMIT has one. */
  if ((rc == HELION_ERR_NOMEM || rc == HELION_ERR_LIMIT) && !err.msg[0])
    fprintf(stderr, "helion-tune space: %s\n", helion_status_str(rc));
  else
    fprintf(stderr, "helion-tune space: %s\n", err.msg);
out:
  helion_buf_cleanup(&json);
  free(one_shape);
  helion_spec_destroy(spec);
  return exit_code;
}
