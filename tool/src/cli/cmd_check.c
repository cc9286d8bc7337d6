/*
 * cmd_check.c: `helion-tune check SPEC`: validates a kernel spec, builds its
 * configuration space for every shape (which catches restrictions no
 * configuration satisfies) and NVRTC-compiles the default configuration,
 * all without a GPU.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/config.h"
#include "backend/nvrtc_compile.h"
#include "model/space.h"
#include "model/spec.h"
#include "util/util.h"

#define CHECK_SOURCE_MAX ((size_t)16 << 20)

static void check_usage(FILE *f) {
  fprintf(f,
          "usage: helion-tune check SPEC [--arch sm_XX] [--shape K=V,...]\n"
          "                         [--json] [--quiet]\n\n"
          "Checks a kernel spec without a GPU: parses and validates the JSON,\n"
          "builds the configuration space for each shape with the device\n"
          "properties assumed for the architecture (so restrictions that no\n"
          "configuration satisfies, or a default that breaks them, are\n"
          "found), then compiles the default configuration with NVRTC and\n"
          "checks that the entry kernel exists. Compile errors are shown with\n"
          "NVRTC's full log, whose lines read '<file>(<line>): error: ...'.\n\n"
          "Options:\n"
          "  --arch sm_XX     architecture to compile for and whose device\n"
          "                   properties expressions see (default sm_90)\n"
          "  --shape K=V,...  check only this shape (every key once) instead\n"
          "                   of every shape the spec lists\n"
          "  --json           print one JSON object to stdout\n"
          "  --quiet          print only errors\n"
          "  -h, --help       show this help\n\n"
          "Environment:\n"
          "  HELION_INCLUDE_DIR       directory holding helion/device.cuh\n"
          "  HELION_CUDA_INCLUDE_DIR  directory holding cuda_fp16.h\n\n"
          "Exit status: 0 the spec is valid and its default config compiles,\n"
          "1 invalid spec or compile failure, 2 usage error.\n");
}

typedef struct check_args {
  const char *spec_path;
  const char *arch;
  const char *shape;
  bool json;
  bool quiet;
} check_args;

/* 0 to go on, -1 after --help, else an exit code. */
static int check_parse_args(int argc, char **argv, check_args *a) {
  memset(a, 0, sizeof(*a));
  a->arch = "sm_90";
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (helion_cli_is_help(arg)) {
      check_usage(stdout);
      return -1;
    } else if (strcmp(arg, "--json") == 0) {
      a->json = true;
    } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
      a->quiet = true;
    } else if (strcmp(arg, "--arch") == 0 || strcmp(arg, "--shape") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "helion-tune check: %s needs a value\n", arg);
        return HELION_EXIT_USAGE;
      }
      if (strcmp(arg, "--arch") == 0)
        a->arch = argv[++i];
      else
        a->shape = argv[++i];
    } else if (strncmp(arg, "--arch=", 7) == 0) {
      a->arch = arg + 7;
    } else if (strncmp(arg, "--shape=", 8) == 0) {
      a->shape = arg + 8;
    } else if (arg[0] == '-' && arg[1] != '\0') {
      fprintf(stderr, "helion-tune check: unknown option '%s'; see --help\n",
              arg);
      return HELION_EXIT_USAGE;
    } else if (!a->spec_path) {
      a->spec_path = arg;
    } else {
      fprintf(stderr, "helion-tune check: unexpected argument '%s'\n", arg);
      return HELION_EXIT_USAGE;
    }
  }
  if (!a->spec_path) {
    fprintf(stderr, "helion-tune check: missing SPEC; see --help\n");
    return HELION_EXIT_USAGE;
  }
  return 0;
}

/* "N=1048576" or "M=4096,N=1024". */
static void shape_text(const helion_spec_t *spec, const int64_t *shape,
                       char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t k = 0; k < spec->nkeys && used < n; k++)
    used += (size_t)snprintf(out + used, n - used, "%s%s=%" PRId64,
                             k ? "," : "", spec->keys[k], shape[k]);
}

/* Prints the log's warning lines, which a successful compile may carry. */
static void print_warnings(const char *log) {
  const char *line = log;
  while (line && *line) {
    const char *nl = strchr(line, '\n');
    int len = (int)(nl ? (size_t)(nl - line) : strlen(line));
    if (len > 0 && len < 4096) {
      char tmp[4096];
      memcpy(tmp, line, (size_t)len);
      tmp[len] = '\0';
      if (strstr(tmp, "warning"))
        HELION_LOG(HELION_LOG_WARN, "%s", tmp);
    }
    line += len + (nl ? 1 : 0);
  }
}

/* Appends {"N": 1048576, ...}. */
static helion_status json_shape(helion_buf_t *j, const helion_spec_t *spec,
                                const int64_t *shape) {
  helion_status rc = helion_buf_putc(j, '{');
  for (size_t k = 0; !rc && k < spec->nkeys; k++) {
    if (k)
      rc = helion_buf_putc(j, ',');
    if (!rc)
      rc = helion_buf_put_json_string(j, spec->keys[k]);
    if (!rc)
      rc = helion_buf_appendf(j, ":%" PRId64, shape[k]);
  }
  if (!rc)
    rc = helion_buf_putc(j, '}');
  return rc;
}

int helion_cmd_check(int argc, char **argv) {
  check_args a;
  int prc = check_parse_args(argc, argv, &a);
  if (prc < 0)
    return HELION_EXIT_OK;
  if (prc)
    return prc;

  int exit_code = HELION_EXIT_FAILURE;
  int saved_level = helion_log_level_current;
  helion_err_t err = {{0}};
  helion_spec_t *spec = NULL;
  helion_space_t *space = NULL;
  int64_t *one_shape = NULL, *cells = NULL;
  char *source = NULL;
  size_t source_len = 0;
  helion_buf_t json, size, defines;
  helion_nvrtc_result_t res;
  helion_device_props_t dev;
  helion_buf_init(&json, 0);
  helion_buf_init(&size, 0);
  helion_buf_init(&defines, 0);
  helion_nvrtc_result_init(&res);
  helion_status rc = HELION_OK;

  if (a.quiet && helion_log_level_current > HELION_LOG_ERROR)
    helion_log_level_current = HELION_LOG_ERROR;
  helion_log_start();
  double t0 = helion_now();

  exit_code = helion_cli_load_spec("check", a.spec_path, a.arch, a.shape, &spec,
                                   &dev, &one_shape);
  if (exit_code != HELION_EXIT_OK)
    goto out;
  exit_code = HELION_EXIT_FAILURE;
  HELION_LOG(HELION_LOG_INFO, "%s: spec '%s', entry %s, %zu parameters",
             a.spec_path, spec->name, spec->entry, spec->nparams);

  if (a.json) {
    rc = helion_buf_puts(&json, "{\"spec\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, a.spec_path);
    if (!rc)
      rc = helion_buf_puts(&json, ",\"name\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, spec->name);
    if (!rc)
      rc = helion_buf_puts(&json, ",\"entry\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, spec->entry);
    if (!rc)
      rc = helion_buf_puts(&json, ",\"arch\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, a.arch);
    if (!rc)
      rc = helion_buf_appendf(&json, ",\"params\":%zu,\"shapes\":[",
                              spec->nparams);
    if (rc)
      goto fail;
  }

  /* Every shape's space must build; the first one's default config is the
   * one compiled (defines do not depend on the shape, the space does). */
  size_t nshapes = one_shape ? 1 : spec->nshapes;
  for (size_t s = 0; s < nshapes; s++) {
    const int64_t *shape =
        one_shape ? one_shape : spec->shapes + s * spec->nkeys;
    helion_space_t *sp = NULL;
    char text[512];
    shape_text(spec, shape, text, sizeof(text));
    rc = helion_spec_space(spec, shape, &dev, &sp, &err);
    if (rc) {
      /* The message starts with the spec's path; the shape goes last. */
      char msg[HELION_ERR_MSG_MAX];
      memcpy(msg, err.msg, sizeof(msg));
      msg[sizeof(msg) - 1] = '\0';
      if (!strstr(msg, "shape ")) /* unless it names the shape itself */
        helion_err_set(&err, rc, "%s (shape %s)", msg, text);
      goto fail;
    }
    helion_buf_reset(&size);
    rc = helion_space_size_str(sp, &size);
    if (!rc && a.json) {
      rc = helion_buf_puts(&json, s ? ",{\"shape\":" : "{\"shape\":");
      if (!rc)
        rc = json_shape(&json, spec, shape);
      if (!rc)
        rc = helion_buf_puts(&json, ",\"space_size\":");
      if (!rc)
        rc = helion_buf_put_json_string(&json, helion_buf_str(&size));
      if (!rc)
        rc = helion_buf_putc(&json, '}');
    }
    HELION_LOG(HELION_LOG_INFO, "shape %s: space of %s configurations", text,
               helion_buf_str(&size));
    if (!space)
      space = sp;
    else
      helion_space_destroy(sp);
    if (rc)
      goto fail;
  }
  if (!space) {
    rc = helion_err_set(&err, HELION_ERR_INVALID,
                        "%s: no shapes to check; list some in \"shapes\" or "
                        "pass --shape",
                        a.spec_path);
    goto fail;
  }

  cells = calloc(space->ncells ? space->ncells : 1, sizeof(int64_t));
  if (!cells) {
    rc = helion_err_set(&err, HELION_ERR_NOMEM, "out of memory");
    goto fail;
  }
  helion_space_default(space, cells);
  rc = helion_config_defines(space, cells, &defines);
  if (rc) {
    rc = helion_err_set(&err, rc,
                        "%s: building the default config's "
                        "options: %s",
                        a.spec_path, helion_status_str(rc));
    goto fail;
  }
  rc = helion_read_file(spec->source, CHECK_SOURCE_MAX, &source, &source_len,
                        &err);
  if (rc)
    goto fail;

  char target[24];
  helion_nvrtc_target(a.arch, spec->arch_specific, target, sizeof(target));
  helion_nvrtc_input_t in = {source, spec->source, target,
                             helion_buf_str(&defines), spec->entry};
  rc = helion_nvrtc_compile(&in, &res, &err);
  if (rc) {
    fprintf(stderr, "helion-tune check: %s\n", err.msg);
    /* The full log: every error with its file(line) and source excerpt. */
    if (res.log && res.log[0])
      fprintf(stderr, "%s%s", res.log,
              res.log[strlen(res.log) - 1] == '\n' ? "" : "\n");
    if (rc == HELION_ERR_NVRTC)
      fprintf(stderr, "helion-tune check: default config options:\n%s",
              helion_buf_str(&defines));
    if (a.json) {
      helion_buf_reset(&json);
      rc = helion_buf_puts(&json, "{\"ok\":false,\"error\":");
      if (!rc)
        rc = helion_buf_put_json_string(&json, err.msg);
      if (!rc)
        rc = helion_buf_puts(&json, ",\"log\":");
      if (!rc)
        rc = helion_buf_put_json_string(&json, res.log ? res.log : "");
      if (!rc)
        rc = helion_buf_puts(&json, "}\n");
      if (!rc)
        fputs(helion_buf_str(&json), stdout);
    }
    goto out;
  }
  print_warnings(res.log);
  if (spec->reference &&
      !helion_nvrtc_ptx_has_entry(res.ptx, spec->reference)) {
    rc = helion_err_set(&err, HELION_ERR_NOT_FOUND,
                        "%s: reference: entry '%s' not found in %s; is "
                        "it declared extern \"C\" __global__?",
                        a.spec_path, spec->reference, spec->source);
    goto fail;
  }

  double seconds = helion_now() - t0;
  if (res.usage.known)
    HELION_LOG(HELION_LOG_INFO,
               "compiled the default config for %s in %.2fs: %d registers, "
               "%" PRId64 " bytes shared memory, %" PRId64
               " bytes spilled (stores)",
               target, res.seconds, res.usage.registers, res.usage.smem_bytes,
               res.usage.spill_stores);
  else
    HELION_LOG(HELION_LOG_INFO, "compiled the default config for %s in %.2fs",
               target, res.seconds);
  HELION_LOG(HELION_LOG_INFO, "%s: ok (%.2fs)", spec->name, seconds);
  if (!spec->accuracy_check)
    HELION_LOG(HELION_LOG_WARN,
               "%s: \"accuracy\": {\"check\": false}: tune will count "
               "every config as correct; mark the outputs with \"output\": "
               "true to compare them",
               spec->name);

  if (a.json) {
    rc = helion_buf_appendf(&json,
                            "],\"compile\":{\"ok\":true,\"seconds\":%.3f,"
                            "\"cubin_bytes\":%zu",
                            res.seconds, res.cubin_size);
    if (!rc && res.usage.known)
      rc = helion_buf_appendf(
          &json,
          ",\"registers\":%d,\"smem_bytes\":%" PRId64
          ",\"stack_bytes\":%" PRId64 ",\"spill_stores\":%" PRId64
          ",\"spill_loads\":%" PRId64,
          res.usage.registers, res.usage.smem_bytes, res.usage.stack_bytes,
          res.usage.spill_stores, res.usage.spill_loads);
    if (!rc)
      rc = helion_buf_puts(&json, ",\"defines\":");
    if (!rc)
      rc = helion_buf_put_json_string(&json, helion_buf_str(&defines));
    if (!rc)
      rc = helion_buf_appendf(&json, "},\"ok\":true,\"seconds\":%.3f}\n",
                              seconds);
    if (rc)
      goto fail;
    fputs(helion_buf_str(&json), stdout);
  }
  exit_code = HELION_EXIT_OK;
  goto out;

fail:
  if (rc == HELION_ERR_NOMEM || rc == HELION_ERR_LIMIT)
    fprintf(stderr, "helion-tune check: %s\n", helion_status_str(rc));
  else
    fprintf(stderr, "helion-tune check: %s\n", err.msg);
  if (a.json) {
    helion_buf_reset(&json);
    if (!helion_buf_puts(&json, "{\"ok\":false,\"error\":") &&
        !helion_buf_put_json_string(&json, err.msg) &&
        !helion_buf_puts(&json, "}\n"))
      fputs(helion_buf_str(&json), stdout);
  }
out:
  helion_log_level_current = saved_level;
  helion_nvrtc_result_cleanup(&res);
  helion_buf_cleanup(&defines);
  helion_buf_cleanup(&size);
  helion_buf_cleanup(&json);
  free(source);
  free(cells);
  free(one_shape);
  helion_space_destroy(space);
  helion_spec_destroy(spec);
  return exit_code;
}
