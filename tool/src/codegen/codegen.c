/*
 * codegen.c: gathers what a generated header holds (codegen.h): the
 * results' entries (stale ones reported, unparsable ones dropped), their
 * device groups, the distilled decision trees of those groups (stale or
 * foreign ones reported and left out), the distinct configs with the
 * spec's default first, and each config's NVRTC images; codegen_emit.c
 * prints them.
 */
#include "codegen/codegen_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/nvrtc_compile.h"
#include "model/config.h"
#include "util/json.h"

#define MAX_SOURCE ((size_t)16 << 20)

helion_status helion_codegen_c_string(helion_buf_t *out, const char *s) {
  helion_status rc = helion_buf_putc(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
    switch (*p) {
    case '\\':
      rc = helion_buf_puts(out, "\\\\");
      break;
    case '"':
      rc = helion_buf_puts(out, "\\\"");
      break;
    case '?': /* no trigraph can form */
      rc = helion_buf_puts(out, "\\?");
      break;
    case '\n':
      rc = helion_buf_puts(out, "\\n");
      break;
    case '\t':
      rc = helion_buf_puts(out, "\\t");
      break;
    case '\r':
      rc = helion_buf_puts(out, "\\r");
      break;
    default:
      if (*p < 0x20 || *p >= 0x7f)
        rc = helion_buf_appendf(out, "\\%03o", (unsigned)*p);
      else
        rc = helion_buf_putc(out, (char)*p);
    }
  }
  return rc ? rc : helion_buf_putc(out, '"');
}

static bool is_int_scalar(const helion_spec_arg_t *a) {
  return !a->is_pointer && a->dtype >= HELION_DT_I8 && a->dtype <= HELION_DT_U64;
}

/* Whether the expression's text is exactly `name`, spaces aside. */
static bool text_is_name(const helion_expr_t *e, const char *name) {
  const char *t = helion_expr_text(e);
  size_t n = strlen(name);
  while (*t == ' ' || *t == '\t')
    t++;
  if (strncmp(t, name, n) != 0)
    return false;
  for (t += n; *t == ' ' || *t == '\t';)
    t++;
  return *t == '\0';
}

helion_status helion_codegen_key_args(const helion_spec_t *spec, int *out_arg,
                                      helion_err_t *err) {
  for (size_t k = 0; k < spec->nkeys; k++) {
    out_arg[k] = -1;
    for (size_t i = 0; i < spec->nargs && out_arg[k] < 0; i++)
      if (is_int_scalar(&spec->args[i]) && spec->args[i].value &&
          text_is_name(spec->args[i].value, spec->keys[k]))
        out_arg[k] = (int)i;
    for (size_t i = 0; out_arg[k] < 0 && i < spec->nargs; i++)
      if (strcmp(spec->args[i].name, spec->keys[k]) == 0)
        return helion_err_set(
            err, HELION_ERR_USAGE,
            "%s: key '%s' is not the value of an integer argument, so the "
            "launcher would take it as an extra parameter, but argument '%s' "
            "has that name; give that argument the value \"%s\" or rename it",
            spec->path, spec->keys[k], spec->args[i].name, spec->keys[k]);
  }
  return HELION_OK;
}

/* ------------------------------------------------------------ gathering */

static void warn(const helion_codegen_opts_t *o, const char *fmt, ...)
    HELION_PRINTF(2, 3);
static void warn(const helion_codegen_opts_t *o, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  if (!o->warn)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  o->warn(o->warn_ud, msg);
}

static void tree_cleanup(helion__cg_tree_t *t) {
  for (size_t c = 0; t->full && c < t->d.nconfigs; c++)
    free(t->full[c]);
  free(t->full);
  free(t->config);
  helion_distill_cleanup(&t->d);
}

static void cg_cleanup(helion__cg_t *cg) {
  for (size_t i = 0; i < cg->ntrees; i++)
    tree_cleanup(&cg->trees[i]);
  free(cg->trees);
  for (size_t i = 0; i < cg->nconfigs; i++) {
    helion__cg_config_t *c = &cg->configs[i];
    for (size_t j = 0; j < c->nimages; j++)
      free(c->images[j].data);
    free(c->images);
    free(c->cells);
    free(c->full);
    free(c->min);
  }
  for (size_t i = 0; i < cg->ngroups; i++)
    free(cg->groups[i].name);
  for (size_t i = 0; i < cg->nentries; i++) {
    free(cg->entries[i].shape);
    free(cg->entries[i].full);
  }
  free(cg->configs);
  free(cg->groups);
  free(cg->entries);
  for (size_t r = 0; cg->restrictions && r < cg->spec->nrestrictions; r++)
    helion_expr_destroy(cg->restrictions[r]);
  free(cg->restrictions);
  helion_space_destroy(cg->space);
}

static helion_status make_space(helion__cg_t *cg, helion_err_t *err) {
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = cg->spec->params;
  o.nparams = cg->spec->nparams;
  helion_status rc = helion_space_create(&o, &cg->space, err);
  if (rc) {
    helion_err_prefix(err, "%s: ", cg->spec->path);
    return rc;
  }
  const helion_expr_scope_t scope = {
      (const char *const *)cg->spec->scope_names, cg->spec->nscope};
  cg->restrictions =
      calloc(cg->spec->nrestrictions + 1, sizeof(*cg->restrictions));
  if (!cg->restrictions)
    return HELION_ERR_NOMEM;
  for (size_t r = 0; !rc && r < cg->spec->nrestrictions; r++)
    if ((rc = helion_expr_parse(cg->spec->restrictions[r], &scope,
                                &cg->restrictions[r], err)))
      helion_err_prefix(err, "%s: restrictions[%zu]: ", cg->spec->path, r);
  return rc;
}

/* The config's canonical full JSON from the cells (caller frees). */
static char *config_text(const helion__cg_t *cg, const int64_t *cells,
                         bool minimize) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  if (helion_config_to_json(cg->space, cells, minimize, &b)) {
    helion_buf_cleanup(&b);
    return NULL;
  }
  return helion_buf_take(&b);
}

/* Index of the group (name, cc), or -1. */
static long find_group(const helion__cg_t *cg, const char *name, int major,
                       int minor) {
  for (size_t g = 0; g < cg->ngroups; g++)
    if (strcmp(cg->groups[g].name, name) == 0 &&
        cg->groups[g].cc_major == major && cg->groups[g].cc_minor == minor)
      return (long)g;
  return -1;
}

/* Index of the group (name, cc), added when new. */
static helion_status group_of(helion__cg_t *cg, const helion_device_props_t *d,
                              size_t *out) {
  long found = find_group(cg, d->name, d->cc_major, d->cc_minor);
  if (found >= 0) {
    *out = (size_t)found;
    return HELION_OK;
  }
  helion__cg_group_t *ng =
      realloc(cg->groups, (cg->ngroups + 1) * sizeof(*ng));
  if (!ng)
    return HELION_ERR_NOMEM;
  cg->groups = ng;
  ng[cg->ngroups].name = helion_strdup(d->name);
  ng[cg->ngroups].cc_major = d->cc_major;
  ng[cg->ngroups].cc_minor = d->cc_minor;
  if (!ng[cg->ngroups].name)
    return HELION_ERR_NOMEM;
  *out = cg->ngroups++;
  return HELION_OK;
}

/* "NVIDIA H100 80GB HBM3 (9.0) M=64,N=128" for messages. */
static void entry_label(const cJSON *e, const helion_device_props_t *d,
                        char *out, size_t n) {
  helion_buf_t b;
  helion_buf_init(&b, 4096);
  helion_results_shape_str(e, &b);
  snprintf(out, n, "%s (%d.%d) %s", d->name, d->cc_major, d->cc_minor,
           helion_buf_str(&b));
  helion_buf_cleanup(&b);
}

/* A problem with one entry: a warning, or the error under require_fresh. */
static helion_status entry_problem(const helion__cg_t *cg,
                                   const helion_codegen_opts_t *o,
                                   const char *label, const char *what,
                                   helion_err_t *err) {
  if (o->require_fresh)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: entry %s: %s (--require-fresh)",
                          cg->results_name, label, what);
  warn(o, "%s: entry %s: %s", cg->results_name, label, what);
  return HELION_OK;
}

/* Reads one results entry into cg->entries (or reports why not). */
static helion_status gather_entry(helion__cg_t *cg, const cJSON *e,
                                  const helion_codegen_opts_t *o,
                                  helion_err_t *err) {
  const helion_spec_t *spec = cg->spec;
  helion_device_props_t dev;
  char label[512], why[2048];
  int flags = 0;
  helion_err_t le = {{0}};
  helion_status rc;
  int64_t *cells = calloc(cg->space->ncells + 1, sizeof(*cells));
  int64_t *shape = calloc(spec->nkeys + 1, sizeof(*shape));
  char *json = NULL;
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  if (!cells || !shape) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  helion_results_entry_device(e, &dev);
  entry_label(e, &dev, label, sizeof(label));
  if ((rc = helion_results_staleness(e, spec, cg->source_hash, &flags, why,
                                     sizeof(why), err)))
    goto out;
  bool stale = flags & (HELION_STALE_SOURCE | HELION_STALE_SPACE);
  if (!helion_results_entry_shape(e, spec, shape)) {
    snprintf(why, sizeof(why), "its shape's keys are not the spec's; "
                               "dropped: re-tune the spec's shapes");
    rc = entry_problem(cg, o, label, why, err);
    goto out;
  }
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(e, "best_config");
  if (!cfg || helion_json_write(cfg, 0, &b, &le) ||
      helion_config_from_json(cg->space, helion_buf_str(&b), cells, &le)) {
    snprintf(why, sizeof(why),
             "dropped: its best_config does not parse in the current space "
             "(%s); re-tune it: helion-tune tune %s --shape ",
             cfg ? le.msg : "missing", spec->path);
    helion_buf_reset(&b);
    helion_results_shape_str(e, &b);
    snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s",
             helion_buf_str(&b));
    rc = entry_problem(cg, o, label, why, err);
    goto out;
  }
  if (stale) {
    /* One line: what is stale, what to do, and that it is still used. */
    size_t l = strlen(why);
    snprintf(why + l, sizeof(why) - l, "%s",
             o->require_fresh ? "" : " (still used until then)");
    if ((rc = entry_problem(cg, o, label, why, err)))
      goto out;
  }
  size_t group;
  helion__cg_entry_t *ne = realloc(cg->entries, (cg->nentries + 1) * sizeof(*ne));
  if (!ne || (rc = group_of(cg, &dev, &group)) ||
      !(json = config_text(cg, cells, false))) {
    if (ne)
      cg->entries = ne;
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  cg->entries = ne;
  ne[cg->nentries].group = group;
  ne[cg->nentries].config = 0;
  ne[cg->nentries].shape = shape;
  ne[cg->nentries].nkeys = spec->nkeys;
  ne[cg->nentries].full = json;
  ne[cg->nentries].stale = stale;
  cg->nentries++;
  shape = NULL;
out:
  helion_buf_cleanup(&b);
  free(cells);
  free(shape);
  return rc;
}

/* ------------------------------------------------------ distilled trees */

/* A distilled section left out: a warning, or the error under
 * require_fresh. */
static helion_status tree_problem(const helion__cg_t *cg,
                                  const helion_codegen_opts_t *o, size_t i,
                                  const char *what, helion_err_t *err) {
  if (o->require_fresh)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: distilled[%zu]: %s (--require-fresh)",
                          cg->results_name, i, what);
  warn(o, "%s: distilled[%zu]: %s; the header has no tree for it",
       cg->results_name, i, what);
  return HELION_OK;
}

/* Why section d cannot serve this header's group (*out_group), or "". */
static void tree_fit(const helion__cg_t *cg, const helion_distill_t *d,
                     long *out_group, char *why, size_t n) {
  const helion_spec_t *spec = cg->spec;
  int major = -1, minor = -1;
  bool keys = d->nkeys == spec->nkeys;
  for (size_t k = 0; keys && k < d->nkeys; k++)
    keys = strcmp(d->keys[k], spec->keys[k]) == 0;
  if (sscanf(d->cc, "%d.%d", &major, &minor) != 2)
    major = minor = -1;
  *out_group = find_group(cg, d->device_name, major, minor);
  why[0] = '\0';
  if (strcmp(d->source_hash, cg->source_hash) != 0)
    snprintf(why, n, "source changed since it was distilled: re-run "
                     "helion-tune distill %s", spec->path);
  else if (!keys)
    snprintf(why, n, "its keys are not the spec's (names and order): "
                     "re-run helion-tune distill %s", spec->path);
  else if (*out_group < 0)
    snprintf(why, n, "its device %s (%s) has no tuned entries here",
             d->device_name, d->cc);
  else if (!d->nnodes)
    snprintf(why, n, "it has no tree: run helion-tune distill %s",
             spec->path);
  for (size_t t = 0; !why[0] && t < cg->ntrees; t++)
    if ((long)cg->trees[t].group == *out_group)
      snprintf(why, n, "a second section for device %s (%s)",
               d->device_name, d->cc);
}

/* Reads results' "distilled"[i] into cg->trees (or reports why not):
 * every config a leaf names must parse in the current space, and is then
 * known by its full JSON, as an entry's best_config is. */
static helion_status gather_tree(helion__cg_t *cg, const cJSON *obj, size_t i,
                                 const helion_codegen_opts_t *o,
                                 helion_err_t *err) {
  helion__cg_tree_t t;
  char where[512], why[2048];
  long group = -1;
  helion_err_t le = {{0}};
  int64_t *cells = calloc(cg->space->ncells + 1, sizeof(*cells));
  memset(&t, 0, sizeof(t));
  helion_distill_init(&t.d);
  snprintf(where, sizeof(where), "%s: distilled[%zu]", cg->results_name, i);
  helion_status rc = cells ? helion_distill_from_json(obj, where, &t.d, err)
                           : HELION_ERR_NOMEM;
  if (rc)
    goto out;
  tree_fit(cg, &t.d, &group, why, sizeof(why));
  if (why[0]) {
    rc = tree_problem(cg, o, i, why, err);
    goto out;
  }
  t.group = (size_t)group;
  t.full = calloc(t.d.nconfigs + 1, sizeof(*t.full));
  t.config = calloc(t.d.nconfigs + 1, sizeof(*t.config));
  if (!t.full || !t.config) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  for (size_t n = 0; n < t.d.nnodes; n++) {
    int col = t.d.nodes[n].config;
    if (t.d.nodes[n].feature >= 0 || t.full[col])
      continue;
    if (helion_config_from_json(cg->space, t.d.configs[col], cells, &le)) {
      snprintf(why, sizeof(why),
               "its config %s does not parse in the current space (%s): "
               "re-run helion-tune distill %s",
               t.d.configs[col], le.msg, cg->spec->path);
      rc = tree_problem(cg, o, i, why, err);
      goto out;
    }
    if (!(t.full[col] = config_text(cg, cells, false))) {
      rc = HELION_ERR_NOMEM;
      goto out;
    }
  }
  helion__cg_tree_t *nt = realloc(cg->trees, (cg->ntrees + 1) * sizeof(*nt));
  if (!nt) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  cg->trees = nt;
  nt[cg->ntrees++] = t;
  memset(&t, 0, sizeof(t));
out:
  tree_cleanup(&t);
  free(cells);
  return rc;
}

/* The results' "distilled" sections, after the entries made the groups. */
static helion_status gather_trees(helion__cg_t *cg,
                                  const helion_results_t *results,
                                  const helion_codegen_opts_t *o,
                                  helion_err_t *err) {
  const cJSON *arr = results->root
                         ? cJSON_GetObjectItemCaseSensitive(results->root,
                                                            "distilled")
                         : NULL;
  helion_status rc = HELION_OK;
  if (!arr)
    return HELION_OK;
  if (!cJSON_IsArray(arr))
    return helion_err_set(err, HELION_ERR_PARSE,
                          "%s: distilled: want an array", cg->results_name);
  for (size_t i = 0; !rc && i < (size_t)cJSON_GetArraySize(arr); i++)
    rc = gather_tree(cg, cJSON_GetArrayItem(arr, (int)i), i, o, err);
  return rc;
}

/* -------------------------------------------------------------- configs */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds `text` to texts[*n] unless it is the default's or already there. */
static void add_text(char **texts, size_t *n, const char *def, char *text) {
  bool seen = !text || strcmp(text, def) == 0;
  for (size_t j = 0; j < *n && !seen; j++)
    seen = strcmp(texts[j], text) == 0;
  if (!seen)
    texts[(*n)++] = text;
}

/* The index of the config whose full JSON is `full`. */
static size_t config_index(const helion__cg_t *cg, const char *full) {
  for (size_t c = 0; c < cg->nconfigs; c++)
    if (strcmp(cg->configs[c].full, full) == 0)
      return c;
  return 0;
}

/* Configs: the default first, then each distinct config of an entry or a
 * tree's leaf, sorted by its full JSON; entries and leaves get their
 * config's index. */
static helion_status number_configs(helion__cg_t *cg) {
  size_t cap = cg->nentries + 1;
  for (size_t t = 0; t < cg->ntrees; t++)
    cap += cg->trees[t].d.nconfigs;
  char **texts = calloc(cap, sizeof(*texts));
  size_t n = 0;
  helion_status rc = HELION_OK;
  cg->configs = calloc(cap, sizeof(*cg->configs));
  if (!texts || !cg->configs) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  helion__cg_config_t *d = &cg->configs[0];
  cg->nconfigs = 1;
  d->cells = calloc(cg->space->ncells + 1, sizeof(*d->cells));
  if (!d->cells) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  helion_space_default(cg->space, d->cells);
  if (!(d->full = config_text(cg, d->cells, false))) {
    rc = HELION_ERR_NOMEM;
    goto out;
  }
  for (size_t i = 0; i < cg->nentries; i++)
    add_text(texts, &n, d->full, cg->entries[i].full);
  for (size_t t = 0; t < cg->ntrees; t++)
    for (size_t c = 0; c < cg->trees[t].d.nconfigs; c++)
      add_text(texts, &n, d->full, cg->trees[t].full[c]);
  qsort(texts, n, sizeof(*texts), cmp_str);
  for (size_t j = 0; j < n; j++) {
    helion__cg_config_t *c = &cg->configs[cg->nconfigs++];
    c->cells = calloc(cg->space->ncells + 1, sizeof(*c->cells));
    c->full = helion_strdup(texts[j]);
    if (!c->cells || !c->full ||
        helion_config_from_json(cg->space, c->full, c->cells, NULL)) {
      rc = HELION_ERR_NOMEM;
      goto out;
    }
  }
  for (size_t c = 0; c < cg->nconfigs; c++)
    if (!(cg->configs[c].min = config_text(cg, cg->configs[c].cells, true))) {
      rc = HELION_ERR_NOMEM;
      goto out;
    }
  for (size_t i = 0; i < cg->nentries; i++)
    cg->entries[i].config = config_index(cg, cg->entries[i].full);
  for (size_t t = 0; t < cg->ntrees; t++)
    for (size_t c = 0; c < cg->trees[t].d.nconfigs; c++)
      if (cg->trees[t].full[c])
        cg->trees[t].config[c] = config_index(cg, cg->trees[t].full[c]);
out:
  free(texts);
  return rc;
}

/* ------------------------------------------------------------- sorting */

static int cmp_group(const void *a, const void *b) {
  const helion__cg_group_t *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  if (x->cc_major != y->cc_major)
    return x->cc_major < y->cc_major ? -1 : 1;
  return x->cc_minor < y->cc_minor ? -1 : x->cc_minor > y->cc_minor;
}

static int cmp_entry(const void *a, const void *b) {
  const helion__cg_entry_t *x = a, *y = b;
  if (x->group != y->group)
    return x->group < y->group ? -1 : 1;
  for (size_t k = 0; k < x->nkeys; k++)
    if (x->shape[k] != y->shape[k])
      return x->shape[k] < y->shape[k] ? -1 : 1;
  return 0;
}

static int cmp_tree(const void *a, const void *b) {
  const helion__cg_tree_t *x = a, *y = b;
  return x->group < y->group ? -1 : x->group > y->group;
}

/* The group's index after sorting. */
static size_t new_group(const helion__cg_t *cg, const helion__cg_group_t *old,
                        size_t g) {
  for (size_t n = 0; n < cg->ngroups; n++)
    if (cmp_group(&cg->groups[n], &old[g]) == 0)
      return n;
  return g;
}

/* Sorts groups (name, then cc), entries (group, then shape) and trees
 * (group). */
static helion_status sort_tables(helion__cg_t *cg) {
  helion__cg_group_t *old = malloc((cg->ngroups + 1) * sizeof(*old));
  if (!old)
    return HELION_ERR_NOMEM;
  /* Without entries the arrays are NULL, which memcpy and qsort refuse
   * even for a length of 0. */
  if (cg->ngroups) {
    memcpy(old, cg->groups, cg->ngroups * sizeof(*old));
    qsort(cg->groups, cg->ngroups, sizeof(*cg->groups), cmp_group);
  }
  for (size_t i = 0; i < cg->nentries; i++)
    cg->entries[i].group = new_group(cg, old, cg->entries[i].group);
  for (size_t t = 0; t < cg->ntrees; t++)
    cg->trees[t].group = new_group(cg, old, cg->trees[t].group);
  free(old);
  if (cg->ntrees)
    qsort(cg->trees, cg->ntrees, sizeof(*cg->trees), cmp_tree);
  if (cg->nentries)
    qsort(cg->entries, cg->nentries, sizeof(*cg->entries), cmp_entry);
  return HELION_OK;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* The --arch list, else the compute capabilities of the entries. */
static helion_status pick_archs(helion__cg_t *cg,
                                const helion_codegen_opts_t *o,
                                helion_err_t *err) {
  for (size_t i = 0; i < o->narchs; i++)
    cg->archs[cg->narchs++] = o->archs[i];
  for (size_t g = 0; !o->narchs && g < cg->ngroups; g++) {
    int a = cg->groups[g].cc_major * 10 + cg->groups[g].cc_minor;
    bool seen = false;
    for (size_t i = 0; i < cg->narchs; i++)
      seen = seen || cg->archs[i] == a;
    if (!seen && cg->narchs < HELION_CODEGEN_MAX_ARCHS)
      cg->archs[cg->narchs++] = a;
  }
  if (!cg->narchs)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: no architecture to compile for: %s has no "
                          "entries to take compute capabilities from; pass "
                          "--arch 90 (sm_90), once per architecture",
                          cg->spec->path, cg->results_name);
  qsort(cg->archs, cg->narchs, sizeof(int), cmp_int);
  return HELION_OK;
}

/* ------------------------------------------------------------ compiling */

static helion_status add_image(helion__cg_config_t *c, int sm, int is_ptx,
                               int specific, const void *data, size_t size) {
  helion__cg_image_t *ni =
      realloc(c->images, (c->nimages + 1) * sizeof(*ni));
  if (!ni)
    return HELION_ERR_NOMEM;
  c->images = ni;
  helion__cg_image_t *im = &ni[c->nimages];
  im->sm = sm;
  im->is_ptx = is_ptx;
  im->arch_specific = specific;
  im->size = size;
  im->data = malloc(size ? size : 1);
  if (!im->data)
    return HELION_ERR_NOMEM;
  memcpy(im->data, data, size);
  c->nimages++;
  return HELION_OK;
}

/* A cubin per architecture; PTX of the highest too, for newer GPUs to
 * JIT, unless the spec is arch-specific (sm_90a PTX runs on 9.0 only). */
static helion_status compile_config(helion__cg_t *cg, size_t ci,
                                    const char *source, const char *file,
                                    helion_err_t *err) {
  const helion_spec_t *spec = cg->spec;
  helion__cg_config_t *c = &cg->configs[ci];
  helion_buf_t defs;
  helion_buf_init(&defs, 1 << 20);
  helion_status rc = helion_config_defines(cg->space, c->cells, &defs);
  for (size_t a = 0; !rc && a < cg->narchs; a++) {
    char arch[32], target[32];
    snprintf(arch, sizeof(arch), "sm_%d", cg->archs[a]);
    helion_nvrtc_target(arch, spec->arch_specific, target, sizeof(target));
    helion_nvrtc_input_t in = {source, file, target, helion_buf_str(&defs),
                               spec->entry};
    helion_nvrtc_result_t r;
    helion_nvrtc_result_init(&r);
    rc = helion_nvrtc_compile(&in, &r, err);
    if (rc)
      helion_err_prefix(err, "%s: config %zu %s: ", spec->path, ci, c->min);
    if (!rc)
      rc = add_image(c, cg->archs[a], 0, spec->arch_specific, r.cubin,
                     r.cubin_size);
    if (!rc && a + 1 == cg->narchs && !spec->arch_specific)
      rc = add_image(c, cg->archs[a], 1, 0, r.ptx, r.ptx_size + 1);
    helion_nvrtc_result_cleanup(&r);
  }
  helion_buf_cleanup(&defs);
  return rc;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static helion_status compile_all(helion__cg_t *cg, helion_err_t *err) {
  char *source = NULL;
  size_t len = 0;
  helion_status rc =
      helion_read_file(cg->spec->source, MAX_SOURCE, &source, &len, err);
  for (size_t c = 0; !rc && c < cg->nconfigs; c++)
    rc = compile_config(cg, c, source, base_name(cg->spec->source), err);
  free(source);
  return rc;
}

helion_status helion_codegen_header(const helion_spec_t *spec,
                                    const helion_results_t *results,
                                    const helion_codegen_opts_t *opts,
                                    helion_buf_t *out, helion_err_t *err) {
  helion__cg_t cg;
  memset(&cg, 0, sizeof(cg));
  cg.spec = spec;
  cg.results_name = base_name(results->path ? results->path : "results");
  helion_status rc = HELION_OK;
  if (spec->nkeys > sizeof(cg.key_arg) / sizeof(cg.key_arg[0]))
    return helion_err_set(err, HELION_ERR_LIMIT, "%s: too many keys",
                          spec->path);
  if ((rc = helion_codegen_key_args(spec, cg.key_arg, err)) ||
      (rc = make_space(&cg, err)) ||
      (rc = helion_tune_source_hash(spec, cg.source_hash, err)) ||
      (rc = helion_nvrtc_version(&cg.nvrtc_major, &cg.nvrtc_minor, err)))
    goto out;
  for (size_t i = 0; !rc && i < results->nentries; i++)
    rc = gather_entry(&cg, results->entries[i], opts, err);
  if (rc || (rc = gather_trees(&cg, results, opts, err)))
    goto out;
  if (!cg.nentries)
    warn(opts, "%s: no tuned entries: every call uses the default config; "
               "tune with helion-tune tune %s",
         cg.results_name, spec->path);
  if ((rc = number_configs(&cg)) || (rc = sort_tables(&cg)) ||
      (rc = pick_archs(&cg, opts, err)) || (rc = compile_all(&cg, err)))
    goto out;
  rc = helion__cg_emit(&cg, out, err);
out:
  if (rc == HELION_ERR_NOMEM && !err->msg[0])
    helion_err_set(err, rc, "%s: out of memory", spec->path);
  cg_cleanup(&cg);
  return rc;
}
