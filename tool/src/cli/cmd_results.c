/*
 * cmd_results.c: `helion-tune results SPEC`: lists the entries of a spec's
 * results file (results/results_file.h) and marks the stale ones with what
 * each would need; `helion-tune results merge` merges results files
 * (results/results_merge.h). No GPU.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/device_facts.h"
#include "cli/cli.h"
#include "results/results_file.h"
#include "results/results_merge.h"
#include "util/json.h"

#define PROG "helion-tune results"

/* clang-format off */
static void usage(FILE *f) {
  fputs("usage: " PROG " SPEC [--tuned FILE] [--json]\n"
  "       " PROG " SPEC --need [--device auto|NAME] [--shape K=V,...]...\n"
  "                          [--tuned FILE] [--json]\n"
  "       " PROG " merge FRAGMENT... (-o FILE | --into FILE) [--json]\n"
  "                          (see " PROG " merge --help)\n\n"
  "Lists the entries of the kernel's results file, the committed record of\n"
  "what `helion-tune tune` found: one entry per (device name, compute\n"
  "capability, shape), with the winning config (keys off their default), its\n"
  "speedup over the default config timed side by side, and the algorithm.\n"
  "Needs no GPU.\n\n"
  "An entry is STALE when the kernel changed since it was tuned (the source\n"
  "hash of the .cu file and helion/device.cuh differs) or its search space did\n"
  "(the spec's parameters or restrictions, or the shape is not valid any more);\n"
  "each stale entry says the command that re-tunes it. An entry tuned by\n"
  "another helion-tune version is marked too, for information: it is still\n"
  "used. A shape with no entry on your GPU runs the default config (tune it).\n\n"
  "Options:\n"
  "  --tuned FILE  the results file (default: <spec dir>/<name>.tuned.json,\n"
  "                the file `tune` writes)\n"
  "  --json        print one JSON object to stdout: {spec, file, source_hash,\n"
  "                entries: [{device, compute_capability, shape, config\n"
  "                (minimized), best_ms, default_ms, speedup, algorithm,\n"
  "                effort, seed, tool_version, stale (bool), stale_reasons\n"
  "                ([\"source\", \"space\"]), other_tool_version (bool),\n"
  "                message}]}\n"
  "  --need        also say, for each shape (--shape, repeatable; default:\n"
  "                the spec's shapes), whether the device has a CURRENT entry,\n"
  "                a STALE one or none (MISSING): what a build for that device\n"
  "                would use, and what `tune` would have to do. With --json:\n"
  "                \"need\": {device (name, or null), gpu (whether one was\n"
  "                found), compute_capability (the GPU's, \"9.0\"; \"\" without\n"
  "                one), note, shapes: [{shape, status (current|stale|\n"
  "                missing), entry_device}]}. The CMake module reads this.\n"
  "  --device D    the device --need is about: `auto` (default) asks the CUDA\n"
  "                driver for GPU 0; with no GPU, an entry of any device counts\n"
  "                (the runtime's device ladder serves it); a NAME (\"NVIDIA\n"
  "                H100 80GB HBM3\", for a cross build) counts that device's\n"
  "                entries only\n"
  "  -h, --help    this help\n\n"
  "The file is JSON with sorted keys, one entry per group of lines, so a\n"
  "re-tune changes only that entry's lines: commit it beside the spec.\n"
  "A missing file lists no entries. A malformed file is an error that names\n"
  "the line and column.\n\n"
  "Exit status: 0 success (stale entries included), 1 failure (a spec error,\n"
  "a malformed or unreadable results file), 2 usage error.\n", f);
}
/* clang-format on */

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

static double num(const cJSON *e, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key) {
  const char *s =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  return s ? s : "";
}

/* One entry's --json object; NULL when out of memory. */
static cJSON *entry_summary(const cJSON *e, int flags, const char *why) {
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(e, "device");
  double best = num(e, "best_ms"), def = num(e, "default_ms");
  cJSON *o = cJSON_CreateObject(), *reasons = NULL;
  cJSON *shape = cJSON_Duplicate(cJSON_GetObjectItem(e, "shape"), 1);
  cJSON *cfg =
      cJSON_Duplicate(cJSON_GetObjectItem(e, "best_config_minimized"), 1);
  cJSON *seed = cJSON_Duplicate(cJSON_GetObjectItem(e, "seed"), 1);
  bool ok = o && shape && cfg && seed;
  if (ok) {
    cJSON_AddItemToObject(o, "shape", shape);
    cJSON_AddItemToObject(o, "config", cfg);
    cJSON_AddItemToObject(o, "seed", seed);
    shape = cfg = seed = NULL;
  }
  ok = ok && cJSON_AddStringToObject(o, "device", str(dev, "name")) &&
       cJSON_AddStringToObject(o, "compute_capability",
                               str(dev, "compute_capability")) &&
       (isfinite(best) ? cJSON_AddNumberToObject(o, "best_ms", best)
                       : cJSON_AddNullToObject(o, "best_ms")) &&
       (isfinite(def) ? cJSON_AddNumberToObject(o, "default_ms", def)
                      : cJSON_AddNullToObject(o, "default_ms")) &&
       (isfinite(def / best) ? cJSON_AddNumberToObject(o, "speedup", def / best)
                             : cJSON_AddNullToObject(o, "speedup")) &&
       cJSON_AddStringToObject(o, "algorithm", str(e, "algorithm")) &&
       cJSON_AddStringToObject(o, "effort", str(e, "effort")) &&
       cJSON_AddStringToObject(o, "tool_version", str(e, "tool_version")) &&
       cJSON_AddBoolToObject(
           o, "stale", (flags & (HELION_STALE_SOURCE | HELION_STALE_SPACE))) &&
       (reasons = cJSON_AddArrayToObject(o, "stale_reasons")) &&
       cJSON_AddBoolToObject(o, "other_tool_version",
                             flags & HELION_STALE_TOOL) &&
       cJSON_AddStringToObject(o, "message", why);
  if (ok && (flags & HELION_STALE_SOURCE))
    ok = cJSON_AddItemToArray(reasons, cJSON_CreateString("source"));
  if (ok && (flags & HELION_STALE_SPACE))
    ok = cJSON_AddItemToArray(reasons, cJSON_CreateString("space"));
  cJSON_Delete(shape);
  cJSON_Delete(cfg);
  cJSON_Delete(seed);
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* One entry as lines of the human listing. */
static void print_entry(FILE *f, const cJSON *e, int flags, const char *why) {
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(e, "device");
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_results_shape_str(e, &b);
  double best = num(e, "best_ms"), def = num(e, "default_ms");
  fprintf(f, "%s%s (%s) %s: ",
          flags & (HELION_STALE_SOURCE | HELION_STALE_SPACE) ? "STALE " : "",
          str(dev, "name"), str(dev, "compute_capability"), helion_buf_str(&b));
  if (isfinite(best))
    fprintf(f, "%.4gms", best);
  else
    fputs("time unknown", f);
  if (isfinite(def / best))
    fprintf(f, " (default %.4gms, %.2fx)", def, def / best);
  fprintf(f, ", %s %s\n", str(e, "algorithm"), str(e, "effort"));
  helion_buf_reset(&b);
  const cJSON *cfg = cJSON_GetObjectItem(e, "best_config_minimized");
  if (cfg && !helion_json_write(cfg, 0, &b, NULL))
    fprintf(f, "    config %s\n", helion_buf_str(&b));
  if (*why)
    fprintf(f, "    %s\n", why);
  helion_buf_cleanup(&b);
}

/* At most this many --shape flags (a spec holds at most as many shapes). */
#define NEED_MAX_SHAPES 256

typedef enum need_status { NEED_MISSING, NEED_STALE, NEED_CURRENT } need_status;
static const char *const need_names[] = {"missing", "stale", "current"};

/*
 * What `device` (NULL: any) has for `shape`: the best status among its
 * entries of that shape (current over stale), and the entry's device.
 */
static helion_status need_one(const helion_spec_t *spec,
                              const helion_results_t *r, const char *hash,
                              const char *device, const int64_t *shape,
                              need_status *out, const char **out_device,
                              helion_err_t *err) {
  int64_t v[64];
  char why[4096];
  *out = NEED_MISSING;
  *out_device = NULL;
  for (size_t i = 0; i < r->nentries && *out != NEED_CURRENT; i++) {
    const cJSON *e = r->entries[i];
    const char *name = str(cJSON_GetObjectItemCaseSensitive(e, "device"), "name");
    if ((device && strcmp(device, name) != 0) || spec->nkeys > 64 ||
        !helion_results_entry_shape(e, spec, v) ||
        memcmp(v, shape, spec->nkeys * sizeof(int64_t)) != 0)
      continue;
    int fl = 0;
    helion_status rc =
        helion_results_staleness(e, spec, hash, &fl, why, sizeof(why), err);
    if (rc)
      return rc;
    need_status st = fl & (HELION_STALE_SOURCE | HELION_STALE_SPACE)
                         ? NEED_STALE
                         : NEED_CURRENT;
    if (st > *out) {
      *out = st;
      *out_device = name;
    }
  }
  return HELION_OK;
}

/*
 * --need: per shape, what the device has. `device` "auto" asks the driver;
 * no GPU then means any device's entry counts. Prints lines to stderr, or
 * adds "need" to `root` for --json.
 */
static helion_status report_need(const helion_spec_t *spec,
                                 const helion_results_t *r, const char *hash,
                                 const char *device, const char *const *texts,
                                 size_t ntexts, cJSON *root,
                                 helion_err_t *err) {
  helion_device_facts_t facts;
  helion_err_t gpu_err = {{0}};
  bool gpu = false;
  char note[sizeof(gpu_err.msg) + 64] = "";
  if (strcmp(device, "auto") == 0) {
    gpu = helion_device_facts_query(0, &facts, &gpu_err) == HELION_OK;
    device = gpu ? facts.props.name : NULL;
    if (!gpu)
      snprintf(note, sizeof(note),
               "no GPU (%s): an entry of any device counts", gpu_err.msg);
  }
  char cc[16] = "";
  if (gpu)
    snprintf(cc, sizeof(cc), "%d.%d", facts.props.cc_major,
             facts.props.cc_minor);
  size_t n = ntexts ? ntexts : spec->nshapes;
  int64_t *shapes = calloc(n * spec->nkeys + 1, sizeof(int64_t));
  cJSON *need = root ? cJSON_AddObjectToObject(root, "need") : NULL;
  cJSON *list = need ? cJSON_AddArrayToObject(need, "shapes") : NULL;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = HELION_OK;
  if (!shapes || (root && (!list ||
                           !(device ? cJSON_AddStringToObject(need, "device", device)
                                    : cJSON_AddNullToObject(need, "device")) ||
                           !cJSON_AddBoolToObject(need, "gpu", gpu) ||
                           !cJSON_AddStringToObject(need, "compute_capability",
                                                    cc) ||
                           !cJSON_AddStringToObject(need, "note", note))))
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < ntexts && !rc; i++)
    if ((rc = helion_spec_parse_shape(spec, texts[i],
                                      shapes + i * spec->nkeys, err)))
      rc = helion_err_set(err, HELION_ERR_USAGE, "--shape: %s", err->msg);
  if (!ntexts && !rc)
    memcpy(shapes, spec->shapes, n * spec->nkeys * sizeof(int64_t));
  if (!root && !rc && *note)
    fprintf(stderr, "%s\n", note);
  for (size_t i = 0; i < n && !rc; i++) {
    const int64_t *sh = shapes + i * spec->nkeys;
    need_status st;
    const char *found;
    if ((rc = need_one(spec, r, hash, device, sh, &st, &found, err)))
      break;
    helion_buf_reset(&b);
    if ((rc = helion_spec_shape_str(spec, sh, &b))) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      break;
    }
    if (!root) {
      fprintf(stderr, "need %s on %s: %s\n", helion_buf_str(&b),
              device ? device : "any device", need_names[st]);
      continue;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(list, o) ||
        !cJSON_AddStringToObject(o, "shape", helion_buf_str(&b)) ||
        !cJSON_AddStringToObject(o, "status", need_names[st]) ||
        !(found ? cJSON_AddStringToObject(o, "entry_device", found)
                : cJSON_AddNullToObject(o, "entry_device")))
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  helion_buf_cleanup(&b);
  free(shapes);
  return rc;
}

/* ------------------------------------------------------------------ merge */

#define MPROG "helion-tune results merge"

/* clang-format off */
static void merge_usage(FILE *f) {
  fputs("usage: " MPROG " FRAGMENT... -o FILE [--json]\n"
  "       " MPROG " FRAGMENT... --into FILE [--json]\n\n"
  "Merges results files into one: the fragments that the shards of a tune\n"
  "write (`tune --shard I/N` writes <name>.shard-<I>-of-<N>.tuned.json), and,\n"
  "with --into, the committed <name>.tuned.json they go into (its entries are\n"
  "inputs too; a FILE not there yet starts empty). The same inputs in any\n"
  "order give the same bytes. Needs no GPU.\n\n"
  "Options:\n"
  "  -o FILE      write the merge to FILE (not one of the FRAGMENTs)\n"
  "  --into FILE  merge the FRAGMENTs into FILE, in place\n"
  "  --json       print one JSON object to stdout: {file, entries (count),\n"
  "               inputs (count), conflicts: [{device, compute_capability,\n"
  "               shape, kept: {file, best_ms}, dropped: {file, best_ms}}],\n"
  "               warnings: [...]}\n"
  "  -h, --help   this help\n\n"
  "Rules:\n"
  "  - One entry per (device name, compute capability, shape), copied whole\n"
  "    (members this tool does not know included). Identical entries are\n"
  "    one entry. Two different entries for one key are a conflict: the\n"
  "    one with the smaller best_ms is kept (no best_ms counts as slowest);\n"
  "    equal times keep the entry whose JSON text (sorted keys, one line)\n"
  "    is bytewise smaller. Each conflict is one line on stderr naming the\n"
  "    key, both files and both times.\n"
  "  - The inputs must be of one kernel: every entry must have the same\n"
  "    shape keys and the same parameter names (best_config) as the others;\n"
  "    files of different specs are refused. Entries tuned on another version\n"
  "    of the kernel (another source_hash) are kept with a warning: after a\n"
  "    job array they are older entries of the committed file, and\n"
  "    `" PROG " SPEC` marks the stale ones, with the command to re-tune.\n"
  "    Stale entries are merged as they are. If the kernel's parameters\n"
  "    changed, merge the new fragments alone with -o and re-tune the rest.\n"
  "  - Inputs are taken in an order of their own: by the SHA-256 of their\n"
  "    text, then by path. Top-level members other than \"entries\" are kept\n"
  "    when the inputs agree; when they differ, the first input's is kept\n"
  "    with a warning. The \"distilled\" section is merged per device the same\n"
  "    way; a device whose entries the merge changed keeps its tree with a\n"
  "    warning to run `helion-tune distill` again.\n\n"
  "Nothing is written when any input is missing, unreadable, malformed or of\n"
  "a newer format_version, or the inputs are of different kernels; FILE is\n"
  "replaced atomically, so it is either the old file or the whole merge.\n\n"
  "Exit status: 0 success (conflicts and warnings included), 1 failure,\n"
  "2 usage error (no FRAGMENT, neither or both of -o and --into, -o naming\n"
  "an input).\n", f);
}
/* clang-format on */

#define merge_usage_error(...) helion_cli_usage_error(MPROG, __VA_ARGS__)

static cJSON *ms_json(double ms) {
  return isfinite(ms) ? cJSON_CreateNumber(ms) : cJSON_CreateNull();
}

/* One conflict as the --json object; NULL when out of memory. */
static cJSON *conflict_json(const helion_merge_conflict_t *c) {
  cJSON *o = cJSON_CreateObject(), *kept = NULL, *dropped = NULL;
  cJSON *shape = cJSON_Duplicate(c->shape, 1);
  bool ok = o && shape && cJSON_AddItemToObject(o, "shape", shape);
  if (!ok)
    cJSON_Delete(shape);
  ok = ok && cJSON_AddStringToObject(o, "device", c->device) &&
       cJSON_AddStringToObject(o, "compute_capability", c->cc) &&
       (kept = cJSON_AddObjectToObject(o, "kept")) &&
       (dropped = cJSON_AddObjectToObject(o, "dropped")) &&
       cJSON_AddStringToObject(kept, "file", c->kept_file) &&
       cJSON_AddItemToObject(kept, "best_ms", ms_json(c->kept_ms)) &&
       cJSON_AddStringToObject(dropped, "file", c->dropped_file) &&
       cJSON_AddItemToObject(dropped, "best_ms", ms_json(c->dropped_ms));
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static void print_ms(FILE *f, double ms) {
  if (isfinite(ms))
    fprintf(f, "%.6gms", ms);
  else
    fputs("no time", f);
}

/* The --json summary into out. */
static helion_status merge_summary(const char *file, size_t nentries,
                                   size_t ninputs,
                                   const helion_merge_report_t *rep,
                                   helion_buf_t *out, helion_err_t *err) {
  cJSON *root = cJSON_CreateObject(), *list = NULL, *warns = NULL;
  bool ok = root && cJSON_AddStringToObject(root, "file", file) &&
            cJSON_AddNumberToObject(root, "entries", (double)nentries) &&
            cJSON_AddNumberToObject(root, "inputs", (double)ninputs) &&
            (list = cJSON_AddArrayToObject(root, "conflicts")) &&
            (warns = cJSON_AddArrayToObject(root, "warnings"));
  for (size_t i = 0; ok && i < rep->nconflicts; i++) {
    cJSON *c = conflict_json(&rep->conflicts[i]);
    ok = c && cJSON_AddItemToArray(list, c);
    if (!ok)
      cJSON_Delete(c);
  }
  for (size_t i = 0; ok && i < rep->nwarnings; i++)
    ok = cJSON_AddItemToArray(warns, cJSON_CreateString(rep->warnings[i]));
  helion_status rc =
      ok ? helion_json_write(root, 0, out, err)
         : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (!rc)
    rc = helion_buf_putc(out, '\n');
  cJSON_Delete(root);
  return rc;
}

/* Drops the load error's advice about `--tuned FILE`, a flag merge does
 * not have; the rest of the message (what is wrong, what to do) stays. */
static void drop_tuned_hint(char *msg) {
  char *at = strstr(msg, " or pass another --tuned FILE");
  if (!at)
    return;
  size_t cut = strlen(" or pass another --tuned FILE");
  if (at > msg && at[-1] == ',')
    at--, cut++;
  memmove(at, at + cut, strlen(at + cut) + 1);
}

static int merge_main(int argc, char **argv) {
  static const char *const valued[] = {"-o", "--into", NULL};
  static const char *const boolean[] = {"--json", NULL};
  static const helion_cli_flags_t flags = {valued, boolean};
  const char *out_path = NULL, *into = NULL;
  bool json = false;
  const char **files = calloc((size_t)argc + 1, sizeof(*files));
  size_t nfiles = 0, nin = 0;
  if (!files) {
    fprintf(stderr, MPROG ": out of memory\n");
    return HELION_EXIT_FAILURE;
  }
  int code = HELION_EXIT_OK;
  for (int i = 1; i < argc && !code;) {
    const char *flag, *val;
    if (helion_cli_is_help(argv[i])) {
      merge_usage(stdout);
      free(files);
      return HELION_EXIT_OK;
    }
    if ((code = helion_cli_next(MPROG, argc, argv, &i, &flags, &flag, &val)))
      break;
    if (!flag)
      files[nfiles++] = val;
    else if (strcmp(flag, "--json") == 0)
      json = true;
    else if (!*val)
      code = merge_usage_error("%s: empty file name", flag);
    else if ((strcmp(flag, "-o") == 0 ? out_path : into) != NULL)
      code = merge_usage_error("%s: given twice", flag);
    else if (strcmp(flag, "-o") == 0)
      out_path = val;
    else
      into = val;
  }
  if (!code && !nfiles)
    code = merge_usage_error("missing FRAGMENT (the results files to merge)");
  else if (!code && !out_path == !into)
    code = merge_usage_error("give one of -o FILE (a new file) and --into "
                             "FILE (merge into it in place)");
  if (code) {
    free(files);
    return code;
  }

  helion_err_t err = {{0}};
  helion_results_t *res = calloc(nfiles + 1, sizeof(*res));
  const helion_results_t **ptrs = calloc(nfiles + 1, sizeof(*ptrs));
  const char **names = calloc(nfiles + 1, sizeof(*names));
  helion_results_t merged;
  helion_merge_report_t rep;
  helion_results_init(&merged);
  helion_merge_report_init(&rep);
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
  code = HELION_EXIT_FAILURE;
  if (!res || !ptrs || !names) {
    fprintf(stderr, MPROG ": out of memory\n");
    goto out;
  }
  for (size_t i = 0; i < nfiles; i++)
    names[i] = "FRAGMENT";
  if (out_path &&
      helion_output_check("-o", out_path, files, names, nfiles, &err)) {
    fprintf(stderr, MPROG ": %s\n", err.msg);
    code = HELION_EXIT_USAGE;
    goto out;
  }
  if (into)
    files[nfiles++] = into; /* its entries are inputs too */
  for (nin = 0; nin < nfiles; nin++) {
    struct stat st;
    helion_results_init(&res[nin]);
    ptrs[nin] = &res[nin];
    /* A missing fragment is a typo or a shard that failed: never an empty
     * input. Only --into FILE may not be there yet. */
    if (files[nin] != into && stat(files[nin], &st) != 0) {
      fprintf(stderr,
              MPROG ": %s: %s; check the name, or re-run the shard that "
                    "writes it; nothing written\n",
              files[nin], strerror(errno));
      goto out;
    }
    if (helion_results_load(files[nin], &res[nin], &err)) {
      drop_tuned_hint(err.msg);
      fprintf(stderr, MPROG ": %s; nothing written\n", err.msg);
      nin++;
      goto out;
    }
  }
  const char *dest = out_path ? out_path : into;
  if (helion_results_merge(ptrs, nin, dest, &merged, &rep, &err) ||
      helion_results_write(&merged, &text, &err) ||
      helion_write_file_atomic(dest, helion_buf_str(&text), text.len, &err)) {
    fprintf(stderr, MPROG ": %s; nothing written\n", err.msg);
    goto out;
  }
  for (size_t i = 0; i < rep.nwarnings; i++)
    fprintf(stderr, MPROG ": warning: %s\n", rep.warnings[i]);
  for (size_t i = 0; i < rep.nconflicts; i++) {
    const helion_merge_conflict_t *c = &rep.conflicts[i];
    fprintf(stderr, "conflict: %s (%s) %s: kept %s (", c->device, c->cc,
            c->shape_text, c->kept_file);
    print_ms(stderr, c->kept_ms);
    fprintf(stderr, "), dropped %s (", c->dropped_file);
    print_ms(stderr, c->dropped_ms);
    fprintf(stderr, ")%s\n",
            c->kept_ms == c->dropped_ms
                ? ", equal times: kept the smaller JSON text"
                : "");
  }
  fprintf(stderr, "merged %zu file%s into %s: %zu entr%s, %zu conflict%s\n",
          nin, nin == 1 ? "" : "s", dest, merged.nentries,
          merged.nentries == 1 ? "y" : "ies", rep.nconflicts,
          rep.nconflicts == 1 ? "" : "s");
  if (json) {
    helion_buf_reset(&text);
    if (merge_summary(dest, merged.nentries, nin, &rep, &text, &err)) {
      fprintf(stderr, MPROG ": cannot print the summary: %s\n", err.msg);
      goto out;
    }
    fputs(helion_buf_str(&text), stdout);
    fflush(stdout);
  }
  code = HELION_EXIT_OK;
out:
  for (size_t i = 0; res && i < nin; i++)
    helion_results_cleanup(&res[i]);
  free(res);
  free(ptrs);
  free(names);
  free(files);
  helion_results_cleanup(&merged);
  helion_merge_report_cleanup(&rep);
  helion_buf_cleanup(&text);
  return code;
}

int helion_cmd_results(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "merge") == 0)
    return merge_main(argc - 1, argv + 1);
  static const char *const valued[] = {"--tuned", "--device", "--shape", NULL};
  static const char *const boolean[] = {"--json", "--need", NULL};
  static const helion_cli_flags_t flags = {valued, boolean};
  const char *spec_path = NULL, *tuned = NULL, *device = "auto";
  const char *shapes[NEED_MAX_SHAPES];
  size_t nshapes = 0;
  bool json = false, need = false, need_flags = false;
  for (int i = 1; i < argc;) {
    const char *flag, *val;
    if (helion_cli_is_help(argv[i])) {
      usage(stdout);
      return HELION_EXIT_OK;
    }
    int rc = helion_cli_next(PROG, argc, argv, &i, &flags, &flag, &val);
    if (rc)
      return rc;
    if (!flag) {
      if (spec_path)
        return usage_error("unexpected argument '%s' (one SPEC only)", val);
      spec_path = val;
    } else if (strcmp(flag, "--tuned") == 0) {
      if (!*val)
        return usage_error("--tuned: empty file name");
      tuned = val;
    } else if (strcmp(flag, "--device") == 0) {
      if (!*val)
        return usage_error("--device: empty; give `auto` or a device name");
      device = val;
      need_flags = true;
    } else if (strcmp(flag, "--shape") == 0) {
      if (nshapes == NEED_MAX_SHAPES)
        return usage_error("--shape: at most %d shapes", NEED_MAX_SHAPES);
      shapes[nshapes++] = val;
      need_flags = true;
    } else if (strcmp(flag, "--need") == 0) {
      need = true;
    } else {
      json = true;
    }
  }
  if (!spec_path)
    return usage_error("missing SPEC");
  if (need_flags && !need)
    return usage_error("--device and --shape belong to --need");

  int code = HELION_EXIT_FAILURE;
  helion_spec_t *spec = NULL;
  helion_results_t r;
  helion_results_init(&r);
  helion_err_t err = {{0}};
  char hash[65], why[4096];
  char *path = NULL;
  cJSON *root = NULL, *list = NULL;
  helion_buf_t out;
  helion_buf_init(&out, HELION_BUF_DEFAULT_MAX);
  int64_t *no_shape = NULL; /* no --shape: stays NULL */
  if ((code = helion_cli_load_spec("results", spec_path, NULL, NULL, &spec,
                                   NULL, &no_shape)))
    goto out;
  code = HELION_EXIT_FAILURE;
  path = tuned ? helion_strdup(tuned) : helion_results_default_path(spec);
  root = cJSON_CreateObject();
  if (!path || !root || !(list = cJSON_AddArrayToObject(root, "entries"))) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  if (helion_results_load(path, &r, &err) ||
      helion_tune_source_hash(spec, hash, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    goto out;
  }
  size_t nstale = 0;
  if (!json)
    fprintf(stderr, "%s: %zu entr%s\n", path, r.nentries,
            r.nentries == 1 ? "y" : "ies");
  for (size_t i = 0; i < r.nentries; i++) {
    int fl = 0;
    if (helion_results_staleness(r.entries[i], spec, hash, &fl, why,
                                 sizeof(why), &err)) {
      fprintf(stderr, PROG ": %s\n", err.msg);
      goto out;
    }
    nstale += (fl & (HELION_STALE_SOURCE | HELION_STALE_SPACE)) != 0;
    if (!json) {
      print_entry(stderr, r.entries[i], fl, why);
      continue;
    }
    cJSON *o = entry_summary(r.entries[i], fl, why);
    if (!o || !cJSON_AddItemToArray(list, o)) {
      cJSON_Delete(o);
      fprintf(stderr, PROG ": out of memory\n");
      goto out;
    }
  }
  helion_status nrc = need ? report_need(spec, &r, hash, device, shapes,
                                         nshapes, json ? root : NULL, &err)
                            : HELION_OK;
  if (nrc) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    code = nrc == HELION_ERR_USAGE ? HELION_EXIT_USAGE : HELION_EXIT_FAILURE;
    goto out;
  }
  if (!json) {
    if (!r.nentries)
      fprintf(stderr, "no entries yet: helion-tune tune %s records them\n",
              spec_path);
    else if (nstale)
      fprintf(stderr, "%zu of %zu entries stale\n", nstale, r.nentries);
  } else {
    if (!cJSON_AddStringToObject(root, "spec", spec->name) ||
        !cJSON_AddStringToObject(root, "file", path) ||
        !cJSON_AddStringToObject(root, "source_hash", hash) ||
        helion_json_write(root, 0, &out, &err) || helion_buf_putc(&out, '\n')) {
      fprintf(stderr, PROG ": cannot print the result: %s\n", err.msg);
      goto out;
    }
    fputs(helion_buf_str(&out), stdout);
    fflush(stdout);
  }
  code = HELION_EXIT_OK;
out:
  helion_buf_cleanup(&out);
  cJSON_Delete(root);
  free(path);
  helion_results_cleanup(&r);
  helion_spec_destroy(spec);
  return code;
}
