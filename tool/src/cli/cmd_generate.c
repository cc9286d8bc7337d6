/*
 * cmd_generate.c: `helion-tune generate SPEC -o HEADER`: writes the header
 * an application includes to launch the kernel with its tuned configs
 * (codegen/codegen.h). NVRTC only; no GPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "codegen/codegen.h"
#include "results/tune.h"

#define PROG "helion-tune generate"

/* clang-format off */
static void usage(FILE *f) {
  fputs("usage: " PROG " SPEC [--tuned FILE] [--arch 90 ...] -o HEADER\n"
  "                            [--require-fresh] [--depfile FILE]\n\n"
  "Writes HEADER (by convention <name>_tuned.h): everything a program needs to\n"
  "launch the kernel with the configs `helion-tune tune` found, without a GPU\n"
  "at build time and without the CUDA Toolkit's headers:\n"
  "  - helion_status helion_<name>(void *stream, <the spec's args>[, keys no\n"
  "    argument carries]): the typed launcher. Pointers are device pointers\n"
  "    (float *, const float *; __half and __nv_bfloat16 as void *), scalars\n"
  "    their C type. It picks the config for the call's shape and device,\n"
  "    loads the module once per context and launches on `stream`.\n"
  "  - helion_<name>_choose(dev, keys..., &choice) and\n"
  "    helion_<name>_explain(keys..., buf, len) / _explain_on(dev, ...): which\n"
  "    config a shape gets and why (exact tuned shape, nearest tuned shape in\n"
  "    log space whose config is legal, else the default; devices: the same\n"
  "    name, else the same compute capability, else an older minor of the\n"
  "    same major, else the default config).\n"
  "  - every distinct config as a cubin per architecture plus PTX of the\n"
  "    highest (newer GPUs JIT it), the spec's restrictions and launch\n"
  "    geometry as checked C (a hostile shape gives an error, never undefined\n"
  "    behaviour), and the string helion_<name>_provenance (spec, versions,\n"
  "    entries).\n\n"
  "Use it: #include \"<name>_tuned.h\" where you call the kernel; in exactly one\n"
  ".c or .cpp file write #define HELION_IMPLEMENTATION before the include;\n"
  "link the helion runtime (CMake: helion::runtime; it dlopens libcuda.so.1\n"
  "at the first call). Set HELION_LOG_MISSES=1 to hear about calls without an\n"
  "exact tuned entry, HELION_RECORD_MISSES=FILE to collect them for\n"
  "`helion-tune tune SPEC --shapes-from FILE`.\n\n"
  "Options:\n"
  "  --tuned FILE     the results file (default: <spec dir>/<name>.tuned.json);\n"
  "                   a missing or empty one gives a header with the default\n"
  "                   config only, and a warning\n"
  "  --arch N         an architecture to compile for, as 90 or sm_90; repeat\n"
  "                   for several (default: the compute capabilities of the\n"
  "                   results file's entries; with no entries, required)\n"
  "  -o, --output HEADER  the header to write (atomically; required)\n"
  "  --require-fresh  a stale entry (kernel source or search space changed\n"
  "                   since it was tuned) or one whose config no longer parses\n"
  "                   is an error, and nothing is written; without it each is\n"
  "                   one warning on stderr (stale entries are still used,\n"
  "                   unparsable ones dropped)\n"
  "  --depfile FILE   also write a Makefile-style dependency file for build\n"
  "                   tools (CMake's DEPFILE): HEADER depends on the spec,\n"
  "                   the kernel source, helion/device.cuh and the results\n"
  "                   file\n"
  "  -h, --help       this help\n\n"
  "The header depends only on its inputs (spec, kernel source, results file,\n"
  "architectures, tool and NVRTC versions): generating twice gives the same\n"
  "bytes, so it can be committed or built reproducibly.\n\n"
  "Exit status: 0 success (warnings included), 1 failure (a spec error, a\n"
  "malformed results file, a config NVRTC cannot compile, a stale entry with\n"
  "--require-fresh, the header cannot be written), 2 usage error (no --arch\n"
  "and no entries to take one from included).\n", f);
}
/* clang-format on */

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

static void print_warning(void *ud, const char *msg) {
  (void)ud;
  fprintf(stderr, PROG ": warning: %s\n", msg);
}

/* "90" or "sm_90" into 90. */
static bool parse_arch(const char *s, int *out) {
  uint64_t v;
  if (strncmp(s, "sm_", 3) == 0)
    s += 3;
  if (!helion_cli_parse_u64(s, &v) || v < 10 || v > 999)
    return false;
  *out = (int)v;
  return true;
}

static int add_arch(helion_codegen_opts_t *o, const char *val) {
  int a;
  if (!parse_arch(val, &a))
    return usage_error("--arch '%s': expected a compute capability as 90 or "
                       "sm_90",
                       val);
  for (size_t i = 0; i < o->narchs; i++)
    if (o->archs[i] == a)
      return HELION_EXIT_OK;
  if (o->narchs == HELION_CODEGEN_MAX_ARCHS)
    return usage_error("--arch: at most %d architectures",
                       HELION_CODEGEN_MAX_ARCHS);
  /* Kept ascending: the header lists images in that order. */
  size_t i = o->narchs++;
  for (; i > 0 && o->archs[i - 1] > a; i--)
    o->archs[i] = o->archs[i - 1];
  o->archs[i] = a;
  return HELION_EXIT_OK;
}

/* Appends `path` to a Makefile rule, escaped as make reads it. */
static helion_status dep_path(helion_buf_t *b, const char *path) {
  helion_status rc = helion_buf_putc(b, ' ');
  for (const char *c = path; *c && !rc; c++) {
    if (*c == '$')
      rc = helion_buf_putc(b, '$');
    else if (*c == ' ' || *c == '#' || *c == '\\')
      rc = helion_buf_putc(b, '\\');
    if (!rc)
      rc = helion_buf_putc(b, *c);
  }
  return rc;
}

/*
 * --depfile: "HEADER: spec <the kernel's files> [results]", so a build tool
 * regenerates the header when any input changes; the kernel's files are
 * those its entries' source hash covers (helion_tune_source_files). The
 * results file is listed only when it exists (a missing prerequisite would
 * stop make).
 */
static helion_status write_depfile(const char *depfile, const char *header,
                                   const char *spec_path,
                                   const helion_spec_t *spec,
                                   const char *results, helion_err_t *err) {
  helion_source_file_t *files = NULL;
  size_t n = 0;
  helion_status rc = helion_tune_source_files(spec, &files, &n, err);
  if (rc)
    return rc;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  rc = dep_path(&b, header);
  if (!rc)
    rc = helion_buf_putc(&b, ':');
  if (!rc)
    rc = dep_path(&b, spec_path);
  for (size_t i = 0; i < n && !rc; i++)
    rc = dep_path(&b, files[i].path);
  if (!rc && access(results, F_OK) == 0)
    rc = dep_path(&b, results);
  if (!rc)
    rc = helion_buf_putc(&b, '\n');
  if (rc)
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  else
    rc = helion_write_file_atomic(depfile, b.data + 1, b.len - 1, err);
  helion_buf_cleanup(&b);
  helion_source_files_free(files, n);
  return rc;
}

int helion_cmd_generate(int argc, char **argv) {
  static const char *const valued[] = {"--tuned",  "--arch",    "-o",
                                       "--output", "--depfile", NULL};
  static const char *const boolean[] = {"--require-fresh", NULL};
  static const helion_cli_flags_t flags = {valued, boolean};
  const char *spec_path = NULL, *tuned = NULL, *out_path = NULL,
             *depfile = NULL;
  helion_codegen_opts_t opts;
  memset(&opts, 0, sizeof(opts));
  opts.warn = print_warning;
  for (int i = 1; i < argc;) {
    const char *flag, *val;
    if (helion_cli_is_help(argv[i])) {
      usage(stdout);
      return HELION_EXIT_OK;
    }
    int rc = helion_cli_next(PROG, argc, argv, &i, &flags, &flag, &val);
    if (rc)
      return rc;
    if (!flag && spec_path)
      return usage_error("unexpected argument '%s' (one SPEC only)", val);
    if (!flag)
      spec_path = val;
    else if (strcmp(flag, "--tuned") == 0)
      tuned = val;
    else if (strcmp(flag, "--arch") == 0 && (rc = add_arch(&opts, val)))
      return rc;
    else if (strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0)
      out_path = val;
    else if (strcmp(flag, "--require-fresh") == 0)
      opts.require_fresh = true;
    else if (strcmp(flag, "--depfile") == 0 && !*(depfile = val))
      return usage_error("--depfile: empty file name");
  }
  if (!spec_path)
    return usage_error("missing SPEC");
  if (!out_path || !*out_path)
    return usage_error("missing -o HEADER (the header to write)");
  if (tuned && !*tuned)
    return usage_error("--tuned: empty file name");

  int code = HELION_EXIT_FAILURE;
  helion_spec_t *spec = NULL;
  helion_results_t r;
  helion_results_init(&r);
  helion_err_t err = {{0}};
  char *path = NULL;
  helion_buf_t out;
  helion_buf_init(&out, HELION_BUF_DEFAULT_MAX);
  int64_t *no_shape = NULL;
  if ((code = helion_cli_load_spec("generate", spec_path, NULL, NULL, &spec,
                                   NULL, &no_shape)))
    goto out;
  code = HELION_EXIT_FAILURE;
  path = tuned ? helion_strdup(tuned) : helion_results_default_path(spec);
  const char *inputs[] = {spec_path, path, spec->source};
  const char *names[] = {"spec", "results file", "kernel source"};
  if (!path) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  if (helion_output_check("-o", out_path, inputs, names, 3, &err) ||
      helion_path_check_writable("-o", out_path, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    code = HELION_EXIT_USAGE;
    goto out;
  }
  helion_status rc = helion_results_load(path, &r, &err);
  if (!rc)
    rc = helion_codegen_header(spec, &r, &opts, &out, &err);
  if (!rc)
    rc = helion_write_file_atomic(out_path, out.data, out.len, &err);
  if (!rc && depfile)
    rc = write_depfile(depfile, out_path, spec_path, spec, path, &err);
  if (rc) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    code = rc == HELION_ERR_USAGE ? HELION_EXIT_USAGE : HELION_EXIT_FAILURE;
    goto out;
  }
  fprintf(stderr, PROG ": wrote %s (%zu entries from %s)\n", out_path,
          r.nentries, path);
  code = HELION_EXIT_OK;
out:
  helion_buf_cleanup(&out);
  free(path);
  helion_results_cleanup(&r);
  helion_spec_destroy(spec);
  return code;
}
