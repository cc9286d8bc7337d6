/*
 * spec.c: reads a kernel spec (DESIGN.md §3) and validates it into a
 * helion_spec_t (the parts are read by spec_space.c, spec_shapes.c and
 * spec_args.c; see spec_parse.h), and builds its configuration space for one
 * shape and device.
 *
 * Validation order matters for which error a user sees first, so the keys are
 * checked in a fixed order (not the order of the JSON text): the top-level
 * key names, name/source/entry, key and shapes, space, defaults, then every
 * expression (args, restrictions, launch) against the finished scope,
 * accuracy and reference, and last whether the source file exists. Checking
 * the file last keeps every other check reachable for inputs whose "source"
 * names no file (the fuzzer depends on that).
 */
#define _POSIX_C_SOURCE 200809L
#include "model/spec_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/params.h"

static const char *const device_prop_names[HELION_DEVICE_PROP_COUNT] = {
    HELION_DEVICE_PROP_NAMES};

/* --------------------------------------------- scope and expressions */

static helion_status build_scope(helion__spec_ctx_t *c) {
  helion_spec_t *s = c->spec;
  size_t n = s->nkeys + HELION_DEVICE_PROP_COUNT;
  for (size_t i = 0; i < s->nparams; i++)
    n += s->params[i].name != NULL;
  s->scope_names = calloc(n, sizeof(char *));
  if (!s->scope_names)
    return helion__spec_nomem(c);
  for (size_t i = 0; i < s->nkeys; i++)
    if (!(s->scope_names[s->nscope++] = helion_strdup(s->keys[i])))
      return helion__spec_nomem(c);
  for (size_t i = 0; i < s->nparams; i++)
    if (s->params[i].name &&
        !(s->scope_names[s->nscope++] = helion_strdup(s->params[i].name)))
      return helion__spec_nomem(c);
  for (size_t i = 0; i < HELION_DEVICE_PROP_COUNT; i++)
    if (!(s->scope_names[s->nscope++] = helion_strdup(device_prop_names[i])))
      return helion__spec_nomem(c);
  return HELION_OK;
}

static helion_status parse_restrictions(helion__spec_ctx_t *c,
                                        const cJSON *root) {
  helion_spec_t *s = c->spec;
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "restrictions");
  if (!r)
    return HELION_OK;
  helion__spec_path_key(c, "restrictions");
  helion_status rc =
      helion__spec_want(c, r, cJSON_IsArray(r), "an array of expressions");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(r);
  if (n > MAX_RESTRICTIONS)
    return helion__spec_fail(c, HELION_ERR_LIMIT, "%d restrictions; at most %d",
                             n, MAX_RESTRICTIONS);
  s->restrictions = calloc((size_t)n + 1, sizeof(char *));
  if (!s->restrictions)
    return helion__spec_nomem(c);
  size_t i = 0;
  for (const cJSON *it = r->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    rc = helion__spec_want(c, it, cJSON_IsString(it), "an expression string");
    if (rc)
      return rc;
    helion_expr_t *e = NULL;
    rc = helion__spec_parse_expr(c, it, &e);
    if (rc)
      return rc;
    helion_expr_destroy(e);
    s->restrictions[i] = helion_strdup(it->valuestring);
    if (!s->restrictions[i])
      return helion__spec_nomem(c);
    s->nrestrictions++;
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

static helion_status parse_dims(helion__spec_ctx_t *c, const cJSON *obj,
                                const char *key, helion_expr_t **out) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!a)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "missing required key '%s' (1 to 3 expressions)",
                             key);
  size_t mark = c->plen;
  helion__spec_path_key(c, key);
  helion_status rc = helion__spec_want(c, a, cJSON_IsArray(a),
                                       "an array of 1 to 3 "
                                       "expressions");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(a);
  if (n < 1 || n > 3)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "%d dimensions; give 1 to 3 expressions (x, y, z)",
                             n);
  size_t i = 0;
  for (const cJSON *it = a->child; it; it = it->next, i++) {
    size_t m2 = c->plen;
    helion__spec_path_index(c, i);
    rc = helion__spec_parse_expr(c, it, &out[i]);
    if (rc)
      return rc;
    helion__spec_path_reset(c, m2);
  }
  helion__spec_path_reset(c, mark);
  return HELION_OK;
}

static helion_status parse_launch(helion__spec_ctx_t *c, const cJSON *root) {
  static const char *const keys[] = {"tiles", "block", "shared_mem"};
  helion_spec_t *s = c->spec;
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "launch");
  if (!l)
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "missing required key 'launch' (tiles and block of the grid)");
  helion__spec_path_key(c, "launch");
  helion_status rc = helion__spec_want(c, l, cJSON_IsObject(l), "an object");
  if (!rc)
    rc = helion__spec_check_keys(c, l, keys, 3);
  if (!rc)
    rc = parse_dims(c, l, "tiles", s->tiles);
  if (!rc)
    rc = parse_dims(c, l, "block", s->block);
  if (rc)
    return rc;
  const cJSON *sm = cJSON_GetObjectItemCaseSensitive(l, "shared_mem");
  if (sm) {
    helion__spec_path_key(c, "shared_mem");
    rc = helion__spec_parse_expr(c, sm, &s->shared_mem);
    if (rc)
      return rc;
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

/*
 * Without an output there is nothing to compare, and every config would
 * count as correct: a spec has to mark its outputs or say "check": false.
 */
static helion_status check_outputs(helion__spec_ctx_t *c) {
  const helion_spec_t *s = c->spec;
  size_t out = s->nargs;
  for (size_t i = 0; i < s->nargs && out == s->nargs; i++)
    if (s->args[i].output)
      out = i;
  if (s->accuracy_check && out == s->nargs) {
    helion__spec_path_key(c, "args");
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "no argument is marked \"output\": true, so no config's result "
        "would be checked; mark the kernel's outputs, or opt out explicitly "
        "with \"accuracy\": {\"check\": false}");
  }
  if (!s->accuracy_check && out < s->nargs) {
    helion__spec_path_key(c, "accuracy");
    helion__spec_path_key(c, "check");
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "false, but args[%zu] (%s) is an output; remove \"check\" to compare "
        "outputs, or remove \"output\"",
        out, s->args[out].name);
  }
  return HELION_OK;
}

static helion_status parse_accuracy(helion__spec_ctx_t *c, const cJSON *root) {
  static const char *const keys[] = {"atol", "rtol", "check"};
  helion_spec_t *s = c->spec;
  s->atol = 1e-2;
  s->rtol = 1e-2;
  s->accuracy_check = true;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "accuracy");
  if (!a)
    return check_outputs(c);
  helion__spec_path_key(c, "accuracy");
  helion_status rc = helion__spec_want(c, a, cJSON_IsObject(a), "an object");
  if (!rc)
    rc = helion__spec_check_keys(c, a, keys, 3);
  if (rc)
    return rc;
  const cJSON *chk = cJSON_GetObjectItemCaseSensitive(a, "check");
  if (chk) {
    helion__spec_path_key(c, "check");
    rc = helion__spec_want(c, chk, cJSON_IsBool(chk), "a boolean");
    if (rc)
      return rc;
    s->accuracy_check = cJSON_IsTrue(chk);
    helion__spec_path_reset(c, 0);
    helion__spec_path_key(c, "accuracy");
  }
  double *dst[2] = {&s->atol, &s->rtol};
  for (int i = 0; i < 2; i++) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(a, keys[i]);
    if (!it)
      continue;
    size_t mark = c->plen;
    helion__spec_path_key(c, keys[i]);
    rc = helion__spec_want(c, it, cJSON_IsNumber(it), "a number");
    if (rc)
      return rc;
    if (!(it->valuedouble >= 0) || !isfinite(it->valuedouble))
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "%g is negative; use a tolerance >= 0",
                               it->valuedouble);
    *dst[i] = it->valuedouble;
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return check_outputs(c);
}

/* ------------------------------------------------------------- entry */

static const char *const top_keys[] = {
    "name",     "source",    "entry",        "args",   "key",
    "shapes",   "space",     "restrictions", "launch", "accuracy",
    "defaults", "reference", "arch_specific"};

static helion_status parse_ident_key(helion__spec_ctx_t *c, const cJSON *root,
                                     const char *key, bool required,
                                     const char *what, char **out) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
  if (!it) {
    if (required)
      return helion__spec_fail(c, HELION_ERR_INVALID,
                               "missing required key '%s' (%s)", key, what);
    return HELION_OK;
  }
  helion__spec_path_key(c, key);
  const char *v = NULL;
  helion_status rc = helion__spec_get_ident(c, it, &v);
  if (rc)
    return rc;
  *out = helion_strdup(v);
  if (!*out)
    return helion__spec_nomem(c);
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

static helion_status parse_source(helion__spec_ctx_t *c, const cJSON *root,
                                  const char **rel) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "source");
  if (!it)
    return helion__spec_fail(
        c, HELION_ERR_INVALID,
        "missing required key 'source' (the .cu file, relative to "
        "the spec)");
  helion__spec_path_key(c, "source");
  helion_status rc = helion__spec_want(c, it, cJSON_IsString(it), "a string");
  if (rc)
    return rc;
  if (!it->valuestring[0])
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "empty; name the .cu file, relative to the spec");
  c->spec->source = helion_path_join(c->spec->dir, it->valuestring);
  if (!c->spec->source)
    return helion__spec_nomem(c);
  *rel = it->valuestring;
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

static helion_status check_source(helion__spec_ctx_t *c, const char *rel) {
  struct stat st;
  const char *src = c->spec->source;
  if (stat(src, &st) == 0 && S_ISREG(st.st_mode))
    return HELION_OK;
  bool exists = stat(src, &st) == 0;
  char shown[4096 + 64];
  char cwd[4096];
  if (src[0] != '/' && getcwd(cwd, sizeof(cwd)))
    snprintf(shown, sizeof(shown), "%s/%s", cwd, src);
  else
    snprintf(shown, sizeof(shown), "%s", src);
  char r[64];
  helion__spec_show(r, sizeof(r), rel);
  helion__spec_path_key(c, "source");
  if (exists)
    return helion__spec_fail(
        c, HELION_ERR_NOT_FOUND,
        "'%s' is not a regular file (%s); name the .cu file", r, shown);
  return helion__spec_fail(c, HELION_ERR_NOT_FOUND,
                           "'%s' not found (looked in %s)", r, shown);
}

helion_status helion_spec_parse(const char *text, size_t len, const char *path,
                                helion_spec_t **out, helion_err_t *err) {
  if (!text || !path || !out)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_parse: missing text, path or out");
  cJSON *root = NULL;
  helion__spec_ctx_t *c = NULL;
  helion_spec_t *s = NULL;
  const char *rel = NULL;
  helion_status rc = helion_json_parse(text, len, path, &root, err);
  if (rc)
    return rc;
  c = calloc(1, sizeof(*c));
  s = calloc(1, sizeof(*s));
  if (!c || !s) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", path);
    goto out;
  }
  c->file = path;
  c->err = err;
  c->spec = s;
  for (size_t i = 0; i < HELION_DEVICE_PROP_COUNT; i++) {
    c->names[i].name = device_prop_names[i];
    snprintf(c->names[i].owner, sizeof(c->names[i].owner), "a device property");
  }
  c->nnames = HELION_DEVICE_PROP_COUNT;
  s->path = helion_strdup(path);
  s->dir = helion_path_dirname(path);
  s->params = calloc(MAX_PARAMS, sizeof(helion_param_t));
  if (!s->path || !s->dir || !s->params) {
    rc = helion__spec_nomem(c);
    goto out;
  }
  if (!cJSON_IsObject(root)) {
    rc = helion__spec_fail(c, HELION_ERR_INVALID,
                           "expected a JSON object at the top level, got %s",
                           helion_json_type_name(root));
    goto out;
  }
  rc = helion__spec_check_keys(c, root, top_keys,
                               sizeof(top_keys) / sizeof(top_keys[0]));
  if (!rc)
    rc = parse_ident_key(c, root, "name", true,
                         "a C identifier that prefixes generated symbols",
                         &s->name);
  if (!rc)
    rc = parse_source(c, root, &rel);
  if (!rc)
    rc = parse_ident_key(c, root, "entry", true,
                         "the extern \"C\" __global__ function", &s->entry);
  if (!rc)
    rc = helion__spec_parse_keys(c, root);
  if (!rc)
    rc = helion__spec_parse_shapes(c, root);
  if (!rc)
    rc = helion__spec_parse_space(c, root);
  if (!rc)
    rc = helion__spec_parse_defaults(c, root);
  if (!rc)
    rc = build_scope(c);
  if (!rc)
    rc = helion__spec_parse_args(c, root);
  if (!rc)
    rc = parse_restrictions(c, root);
  if (!rc)
    rc = parse_launch(c, root);
  if (!rc)
    rc = helion_launch_build(s, err);
  if (!rc)
    rc = parse_accuracy(c, root);
  if (!rc)
    rc = parse_ident_key(c, root, "reference", false,
                         "a reference kernel's entry", &s->reference);
  if (!rc && s->reference && strcmp(s->reference, s->entry) == 0) {
    helion__spec_path_key(c, "reference");
    rc = helion__spec_fail(
        c, HELION_ERR_INVALID,
        "'%s' is the entry itself; name a different kernel or remove "
        "'reference'",
        s->reference);
  }
  if (!rc) {
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(root, "arch_specific");
    if (as) {
      helion__spec_path_key(c, "arch_specific");
      rc = helion__spec_want(c, as, cJSON_IsBool(as), "a boolean");
      s->arch_specific = cJSON_IsTrue(as);
      helion__spec_path_reset(c, 0);
    }
  }
  if (!rc)
    rc = check_source(c, rel);
out:
  cJSON_Delete(root);
  free(c);
  if (rc) {
    helion__spec_one_line(err);
    helion_spec_destroy(s);
    return rc;
  }
  *out = s;
  return HELION_OK;
}

helion_status helion_spec_load(const char *path, helion_spec_t **out,
                               helion_err_t *err) {
  if (!path || !out)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_load: missing path or out");
  char *text = NULL;
  size_t len = 0;
  helion_status rc = helion_read_file(path, SPEC_MAX_BYTES, &text, &len, err);
  if (rc)
    return rc;
  rc = helion_spec_parse(text, len, path, out, err);
  free(text);
  /* Loud on every load: results from this spec are unchecked. */
  if (!rc && !(*out)->accuracy_check)
    HELION_LOG(HELION_LOG_WARN,
               "%s: \"accuracy\": {\"check\": false}: outputs are not "
               "compared, so every config counts as correct",
               path);
  return rc;
}

void helion_spec_destroy(helion_spec_t *s) {
  if (!s)
    return;
  free(s->path);
  free(s->dir);
  free(s->name);
  free(s->source);
  free(s->entry);
  free(s->reference);
  for (size_t i = 0; i < s->nargs; i++) {
    free(s->args[i].name);
    free(s->args[i].type);
    helion_expr_destroy(s->args[i].numel);
    helion_expr_destroy(s->args[i].value);
  }
  free(s->args);
  for (size_t i = 0; i < s->nkeys; i++)
    free(s->keys[i]);
  free(s->keys);
  free(s->shapes);
  for (size_t i = 0; i < s->nparams; i++)
    helion_param_cleanup(&s->params[i]);
  free(s->params);
  for (size_t i = 0; i < s->nrestrictions; i++)
    free(s->restrictions[i]);
  free(s->restrictions);
  for (int i = 0; i < 3; i++) {
    helion_expr_destroy(s->tiles[i]);
    helion_expr_destroy(s->block[i]);
  }
  helion_expr_destroy(s->shared_mem);
  helion_launch_grid_cleanup(&s->grid);
  for (size_t i = 0; i < s->nscope; i++)
    free(s->scope_names[i]);
  free(s->scope_names);
  free(s);
}

/* ------------------------------------------------------ scope values */

static void device_values(const helion_device_props_t *dev, helion_num_t *out) {
  out[0] = helion_num_int(dev->num_sms);
  out[1] = helion_num_int(dev->smem_per_block);
  out[2] = helion_num_int(dev->regs_per_sm);
  out[3] = helion_num_int(dev->cc_major);
  out[4] = helion_num_int(dev->cc_minor);
}

void helion_spec_scope_values(const helion_spec_t *spec, const int64_t *shape,
                              const helion_device_props_t *dev,
                              helion_num_t *out) {
  size_t i = 0;
  for (; i < spec->nkeys; i++)
    out[i] = helion_num_int(shape[i]);
  for (; i + HELION_DEVICE_PROP_COUNT < spec->nscope; i++)
    out[i] = helion_num_int(0);
  device_values(dev, out + i);
}

/* A named slot's value at its default, as helion_space_slot_number gives it. */
static helion_num_t default_number(const helion_param_t *p) {
  const helion_frag_t *f = &p->frag;
  if (f->kind != HELION_FRAG_ENUM)
    return helion_num_int(f->dflt);
  if (f->dflt < 0 || (size_t)f->dflt >= f->nchoices)
    return helion_num_int(0);
  const helion_value_t *v = &f->choices[f->dflt];
  switch (v->kind) {
  case HELION_VALUE_BOOL:
  case HELION_VALUE_INT:
    return helion_num_int(v->i);
  case HELION_VALUE_FLOAT:
    return helion_num_float(v->f);
  case HELION_VALUE_STR:
    return helion_num_int(helion_params_choice_code(p, f->dflt));
  case HELION_VALUE_NULL:
    break;
  }
  return helion_num_int(0);
}

/* "M=4096, N=128" for messages. */
static void shape_text(const helion_spec_t *s, const int64_t *shape, char *out,
                       size_t n) {
  size_t used = 0;
  out[0] = '\0';
  if (!s->nkeys)
    snprintf(out, n, "(no keys)");
  for (size_t i = 0; i < s->nkeys && used + 1 < n; i++) {
    int w = snprintf(out + used, n - used, "%s%s=%lld", i ? ", " : "",
                     s->keys[i], (long long)shape[i]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

/*
 * Evaluates `e` at the default configuration; fails when it errors or, with
 * `min_int` >= 0, when it is not an integer >= min_int.
 */
static helion_status check_at_default(const helion_spec_t *s,
                                      const helion_expr_t *e, const char *where,
                                      const helion_num_t *vals,
                                      const char *shape, int64_t min_int,
                                      const char *what, helion_err_t *err) {
  helion_err_t e2;
  e2.msg[0] = '\0';
  helion_num_t v;
  helion_status rc = helion_expr_eval(e, vals, &v, &e2);
  if (rc)
    return helion_err_set(err, rc,
                          "%s: %s: %s (evaluating the default configuration "
                          "for shape %s)",
                          s->path, where, e2.msg, shape);
  if (min_int < 0)
    return HELION_OK;
  if (v.is_float)
    return helion_err_set(err, HELION_ERR_EVAL,
                          "%s: %s: '%s' is %g for the default configuration "
                          "and shape %s, not an integer; %s",
                          s->path, where, helion_expr_text(e), v.f, shape,
                          what);
  if (v.i < min_int)
    return helion_err_set(err, HELION_ERR_EVAL,
                          "%s: %s: '%s' is %lld for the default "
                          "configuration and shape %s; %s",
                          s->path, where, helion_expr_text(e), (long long)v.i,
                          shape, what);
  return HELION_OK;
}

/*
 * The default configuration's launch within CUDA's limits and the device's:
 * what `tune` would otherwise find only when the baseline fails to launch.
 */
static helion_status check_launch(const helion_spec_t *spec,
                                  const helion_space_t *space,
                                  const int64_t *shape,
                                  const helion_device_props_t *dev,
                                  const char *shp, helion_err_t *err) {
  helion_num_t *scope = calloc(spec->nscope + 1, sizeof(helion_num_t));
  if (!scope)
    return helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory",
                          spec->path);
  helion_launch_t l;
  helion_err_t e;
  e.msg[0] = '\0';
  helion_launch_scope(spec, space, shape, dev, NULL, scope);
  helion_status rc = helion_launch_eval(spec, scope, &l, &e);
  free(scope);
  if (rc)
    return helion_err_set(err, rc,
                          "%s: shape %s: %s at the default configuration; "
                          "change the launch expressions or the defaults",
                          spec->path, shp, e.msg);
  if ((int64_t)l.shared_mem > dev->smem_per_block)
    return helion_err_set(
        err, HELION_ERR_INVALID,
        "%s: shape %s: launch.shared_mem: '%s' is %u bytes of dynamic shared "
        "memory at the default configuration; sm_%d%d allows at most %lld "
        "per block; change the expression or the defaults",
        spec->path, shp, helion_expr_text(spec->shared_mem), l.shared_mem,
        dev->cc_major, dev->cc_minor, (long long)dev->smem_per_block);
  return HELION_OK;
}

/*
 * An argument at the default configuration: its expression evaluates (an
 * element count to an integer >= 0) and gives exactly what the spec says
 * (helion_spec_arg_check: no value narrowed to the argument's type).
 */
static helion_status check_arg(const helion_spec_t *spec, size_t i,
                               const helion_num_t *vals, const char *shp,
                               helion_err_t *err) {
  const helion_spec_arg_t *a = &spec->args[i];
  const helion_expr_t *e = a->numel ? a->numel : a->value;
  char where[64];
  snprintf(where, sizeof(where), "args[%zu].%s", i,
           a->numel ? "numel" : "value");
  helion_status rc =
      check_at_default(spec, e, where, vals, shp, a->numel ? 0 : -1,
                       "an element count cannot be negative", err);
  if (rc)
    return rc;
  helion_num_t v;
  helion_err_t e2;
  e2.msg[0] = '\0';
  rc = helion_expr_eval(e, vals, &v, &e2);
  if (!rc)
    rc = helion_spec_arg_check(a, v, &e2);
  if (rc)
    return helion_err_set(err, rc,
                          "%s: shape %s: args[%zu] (%s).%s (at the default "
                          "configuration)",
                          spec->path, shp, i, a->name, e2.msg);
  return HELION_OK;
}

/* True when a message of helion_space_create starts with a param's key
 * ("block_sizes[2].max: ..."), which lives under "space" in the spec. */
static bool names_param(const helion_spec_t *spec, const char *msg) {
  for (size_t i = 0; i < spec->nparams; i++) {
    size_t n = strlen(spec->params[i].key);
    if (strncmp(msg, spec->params[i].key, n) == 0 &&
        (msg[n] == '[' || msg[n] == '.' || msg[n] == ':'))
      return true;
  }
  return false;
}

/*
 * When no configuration satisfies restrictions[i] and it cannot even be
 * evaluated at the default configuration ("BLOCK_M / 0 > 1"), says why: the
 * evaluation error with its column.
 */
static void explain_restriction(const helion_spec_t *spec,
                                const helion_num_t *vals, helion_err_t *err) {
  size_t r = 0;
  const char *p;
  if (strncmp(err->msg, "restrictions[", 13) != 0 ||
      !strstr(err->msg, "no configuration satisfies"))
    return;
  for (p = err->msg + 13; *p >= '0' && *p <= '9' && r < MAX_RESTRICTIONS; p++)
    r = r * 10 + (size_t)(*p - '0');
  if (*p != ']' || r >= spec->nrestrictions)
    return;
  helion_expr_scope_t scope = {(const char *const *)spec->scope_names,
                               spec->nscope};
  helion_expr_t *e = NULL;
  helion_err_t e2;
  helion_num_t v;
  if (helion_expr_parse(spec->restrictions[r], &scope, &e, NULL))
    return;
  if (helion_expr_eval(e, vals, &v, &e2) == HELION_OK) {
    helion_expr_destroy(e);
    return;
  }
  helion_expr_destroy(e);
  size_t used = strlen(err->msg);
  snprintf(err->msg + used, sizeof(err->msg) - used,
           "; at the default configuration it fails: %s", e2.msg);
}

helion_status helion_spec_space(const helion_spec_t *spec, const int64_t *shape,
                                const helion_device_props_t *dev,
                                helion_space_t **out, helion_err_t *err) {
  if (!spec || !dev || !out || (spec->nkeys && !shape))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_space: missing spec, shape, device or "
                          "out");
  helion_status rc = HELION_OK;
  helion_space_t *space = NULL;
  size_t nextra = spec->nkeys + HELION_DEVICE_PROP_COUNT;
  const char **names = calloc(nextra, sizeof(char *));
  helion_num_t *extra = calloc(nextra, sizeof(helion_num_t));
  helion_num_t *vals = calloc(spec->nscope + 1, sizeof(helion_num_t));
  char shp[512];
  shape_text(spec, shape, shp, sizeof(shp));
  if (!names || !extra || !vals) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", spec->path);
    goto out;
  }
  for (size_t i = 0; i < spec->nkeys; i++) {
    names[i] = spec->keys[i];
    extra[i] = helion_num_int(shape[i]);
  }
  for (size_t i = 0; i < HELION_DEVICE_PROP_COUNT; i++)
    names[spec->nkeys + i] = device_prop_names[i];
  device_values(dev, extra + spec->nkeys);

  /* The scope at the default configuration. */
  helion_spec_scope_values(spec, shape, dev, vals);
  for (size_t i = 0, k = spec->nkeys; i < spec->nparams; i++)
    if (spec->params[i].name)
      vals[k++] = default_number(&spec->params[i]);

  helion_space_opts_t opts;
  memset(&opts, 0, sizeof(opts));
  opts.params = spec->params;
  opts.nparams = spec->nparams;
  opts.restrictions = (const char *const *)spec->restrictions;
  opts.nrestrictions = spec->nrestrictions;
  opts.extra_names = names;
  opts.extra_values = extra;
  opts.nextra = nextra;
  opts.regs_per_sm = dev->regs_per_sm;
  rc = helion_space_create(&opts, &space, err);
  if (rc) {
    /* Slot messages start with the param's key; restriction and default
     * messages with their own top-level key. */
    if (err && (strncmp(err->msg, "restrictions", 12) == 0 ||
                strncmp(err->msg, "defaults", 8) == 0))
      explain_restriction(spec, vals, err);
    helion_err_prefix(err, "%s: %s", spec->path,
                      err && names_param(spec, err->msg) ? "space." : "");
    goto out;
  }

  /* The default configuration is the baseline: it has to launch. */
  for (int d = 0; d < 3; d++) {
    char where[64];
    if (spec->tiles[d]) {
      snprintf(where, sizeof(where), "launch.tiles[%d]", d);
      rc = check_at_default(spec, spec->tiles[d], where, vals, shp, 1,
                            "the grid needs at least 1 tile", err);
      if (rc)
        goto out;
    }
    if (spec->block[d]) {
      snprintf(where, sizeof(where), "launch.block[%d]", d);
      rc = check_at_default(spec, spec->block[d], where, vals, shp, 1,
                            "a block needs at least 1 thread", err);
      if (rc)
        goto out;
    }
  }
  if (spec->shared_mem) {
    rc = check_at_default(spec, spec->shared_mem, "launch.shared_mem", vals,
                          shp, 0, "shared memory cannot be negative", err);
    if (rc)
      goto out;
  }
  rc = check_launch(spec, space, shape, dev, shp, err);
  if (rc)
    goto out;
  for (size_t i = 0; i < spec->nargs; i++) {
    rc = check_arg(spec, i, vals, shp, err);
    if (rc)
      goto out;
  }
out:
  free(names);
  free(extra);
  free(vals);
  if (rc) {
    helion__spec_one_line(err);
    helion_space_destroy(space);
    return rc;
  }
  *out = space;
  return HELION_OK;
}

helion_status helion_spec_shape_str(const helion_spec_t *spec,
                                    const int64_t *shape, helion_buf_t *out) {
  helion_status rc = HELION_OK;
  for (size_t k = 0; k < spec->nkeys && !rc; k++)
    rc = helion_buf_appendf(out, "%s%s=%lld", k ? "," : "", spec->keys[k],
                            (long long)shape[k]);
  return rc;
}
