/* spec_shapes.c: a spec's "key" and "shapes", and shapes given as text
 * ("M=4096,N=128") on the command line. */
#define _POSIX_C_SOURCE 200809L
#include "model/spec_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ keys, shapes */

helion_status helion__spec_parse_keys(helion__spec_ctx_t *c,
                                      const cJSON *root) {
  helion_spec_t *s = c->spec;
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "key");
  if (!k)
    return HELION_OK;
  helion__spec_path_key(c, "key");
  helion_status rc =
      helion__spec_want(c, k, cJSON_IsArray(k), "an array of names");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(k);
  if (n > MAX_KEYS)
    return helion__spec_fail(c, HELION_ERR_LIMIT, "%d keys; at most %d", n,
                             MAX_KEYS);
  s->keys = calloc((size_t)n + 1, sizeof(char *));
  if (!s->keys)
    return helion__spec_nomem(c);
  size_t i = 0;
  for (const cJSON *it = k->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    const char *name = NULL;
    rc = helion__spec_get_ident(c, it, &name);
    if (rc)
      return rc;
    s->keys[i] = helion_strdup(name);
    if (!s->keys[i])
      return helion__spec_nomem(c);
    s->nkeys++;
    char owner[32];
    snprintf(owner, sizeof(owner), "key[%zu]", i);
    rc = helion__spec_register_name(c, s->keys[i], owner);
    if (rc)
      return rc;
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

helion_status helion__spec_parse_shapes(helion__spec_ctx_t *c,
                                        const cJSON *root) {
  helion_spec_t *s = c->spec;
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(root, "shapes");
  char keylist[512];
  helion__spec_join_words(keylist, sizeof(keylist),
                          (const char *const *)s->keys, s->nkeys);
  if (!sh) {
    if (s->nkeys)
      return helion__spec_fail(
          c, HELION_ERR_INVALID,
          "missing required key 'shapes' (one object per shape "
          "giving %s)",
          keylist);
    /* No shape variables: one shape with no values. */
    s->shapes = calloc(1, sizeof(int64_t));
    if (!s->shapes)
      return helion__spec_nomem(c);
    s->nshapes = 1;
    return HELION_OK;
  }
  helion__spec_path_key(c, "shapes");
  helion_status rc =
      helion__spec_want(c, sh, cJSON_IsArray(sh), "an array of objects");
  if (rc)
    return rc;
  int n = cJSON_GetArraySize(sh);
  if (n < 1)
    return helion__spec_fail(c, HELION_ERR_INVALID,
                             "no shapes; give at least one object giving %s",
                             s->nkeys ? keylist : "the keys");
  if (n > MAX_SHAPES)
    return helion__spec_fail(c, HELION_ERR_LIMIT, "%d shapes; at most %d", n,
                             MAX_SHAPES);
  s->shapes = calloc((size_t)n * s->nkeys + 1, sizeof(int64_t));
  if (!s->shapes)
    return helion__spec_nomem(c);
  size_t i = 0;
  for (const cJSON *it = sh->child; it; it = it->next, i++) {
    size_t mark = c->plen;
    helion__spec_path_index(c, i);
    rc = helion__spec_want(c, it, cJSON_IsObject(it), "an object");
    if (rc)
      return rc;
    int64_t *row = s->shapes + i * s->nkeys;
    for (const cJSON *e = it->child; e; e = e->next) {
      size_t m2 = c->plen;
      helion__spec_path_key(c, e->string);
      size_t k = 0;
      while (k < s->nkeys && strcmp(s->keys[k], e->string) != 0)
        k++;
      if (k == s->nkeys) {
        const char *near = helion__spec_suggest(
            e->string, (const char *const *)s->keys, s->nkeys);
        char nearbuf[128] = "";
        if (near)
          snprintf(nearbuf, sizeof(nearbuf), "; did you mean '%s'?", near);
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "not a key; the keys are: %s%s",
                                 s->nkeys ? keylist : "(none)", nearbuf);
      }
      if (row[k])
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "duplicate key; give it once");
      rc = helion__spec_get_pos_int(c, e, &row[k]);
      if (rc)
        return rc;
      helion__spec_path_reset(c, m2);
    }
    for (size_t k = 0; k < s->nkeys; k++)
      if (!row[k])
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "missing '%s'; give every key: %s", s->keys[k],
                                 keylist);
    for (size_t j = 0; j < i; j++)
      if (memcmp(s->shapes + j * s->nkeys, row, s->nkeys * sizeof(int64_t)) ==
          0)
        return helion__spec_fail(c, HELION_ERR_INVALID,
                                 "the same shape as shapes[%zu]; remove one",
                                 j);
    s->nshapes++;
    helion__spec_path_reset(c, mark);
  }
  helion__spec_path_reset(c, 0);
  return HELION_OK;
}

/* ------------------------------------------------------------- shapes */

/* helion__spec_show() for the text between `from` and `to`. */
static void show_span(char *out, size_t n, const char *from, const char *to) {
  char tmp[64];
  size_t len = (size_t)(to - from);
  if (len >= sizeof(tmp))
    len = sizeof(tmp) - 1;
  memcpy(tmp, from, len);
  tmp[len] = '\0';
  helion__spec_show(out, n, tmp);
}

helion_status helion_spec_parse_shape(const helion_spec_t *spec,
                                      const char *text, int64_t *out,
                                      helion_err_t *err) {
  if (!spec || !text || (!out && spec->nkeys))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_spec_parse_shape: missing spec, text or "
                          "out");
  char shown[80];
  helion__spec_show(shown, sizeof(shown), text);
  char keylist[512];
  helion__spec_join_words(keylist, sizeof(keylist),
                          (const char *const *)spec->keys, spec->nkeys);
  int64_t vals[MAX_KEYS];
  bool seen[MAX_KEYS] = {false};
  const char *p = text;
  while (*p == ' ')
    p++;
  while (*p) {
    const char *part = p;
    const char *eq = NULL;
    while (*p && *p != ',') {
      if (*p == '=' && !eq)
        eq = p;
      p++;
    }
    const char *end = p;
    if (*p == ',')
      p++;
    while (*p == ' ')
      p++;
    char piece[80];
    show_span(piece, sizeof(piece), part, end);
    if (!eq)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': '%s' is not NAME=VALUE; give every "
                            "key once, e.g. %s=...",
                            shown, piece, spec->nkeys ? spec->keys[0] : "M");
    const char *n0 = part, *n1 = eq;
    while (n0 < n1 && *n0 == ' ')
      n0++;
    while (n1 > n0 && n1[-1] == ' ')
      n1--;
    size_t k = 0;
    while (k < spec->nkeys &&
           !(strlen(spec->keys[k]) == (size_t)(n1 - n0) &&
             strncmp(spec->keys[k], n0, (size_t)(n1 - n0)) == 0))
      k++;
    char name[64];
    show_span(name, sizeof(name), n0, n1);
    if (k == spec->nkeys)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': unknown key '%s'; the keys are %s",
                            shown, name, spec->nkeys ? keylist : "(none)");
    if (seen[k])
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': %s is given twice; give it once",
                            shown, spec->keys[k]);
    const char *v0 = eq + 1, *v1 = end;
    while (v0 < v1 && *v0 == ' ')
      v0++;
    while (v1 > v0 && v1[-1] == ' ')
      v1--;
    int64_t v = 0;
    bool ok = v0 < v1, big = false;
    for (const char *q = v0; ok && q < v1; q++) {
      int d = *q - '0';
      /* Up to 2^53 - 1, the largest value a spec's JSON gives exactly. */
      if (d < 0 || d > 9)
        ok = false;
      else if (big || v > (JSON_INT_MAX - d) / 10)
        big = true;
      else
        v = v * 10 + d;
    }
    char val[64];
    show_span(val, sizeof(val), v0, v1);
    if (ok && big)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': %s: '%s' is too large; a shape value "
                            "is at most %lld (2^53 - 1, what a spec's JSON "
                            "holds exactly)",
                            shown, spec->keys[k], val, (long long)JSON_INT_MAX);
    if (!ok || v < 1)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': %s: '%s' is not a positive integer",
                            shown, spec->keys[k], val);
    seen[k] = true;
    vals[k] = v;
  }
  for (size_t k = 0; k < spec->nkeys; k++)
    if (!seen[k])
      return helion_err_set(err, HELION_ERR_USAGE,
                            "shape '%s': missing %s; give every key: %s", shown,
                            spec->keys[k], keylist);
  if (spec->nkeys)
    memcpy(out, vals, spec->nkeys * sizeof(int64_t));
  return HELION_OK;
}
