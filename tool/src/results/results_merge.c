/*
 * results_merge.c: merges results files into one whose bytes do not depend
 * on the order of the inputs (results_merge.h says the rules).
 */
#include "results/results_merge.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

void helion_merge_report_init(helion_merge_report_t *rep) {
  memset(rep, 0, sizeof(*rep));
}

void helion_merge_report_cleanup(helion_merge_report_t *rep) {
  if (!rep)
    return;
  for (size_t i = 0; i < rep->nconflicts; i++) {
    helion_merge_conflict_t *c = &rep->conflicts[i];
    free(c->device);
    free(c->cc);
    free(c->shape_text);
    cJSON_Delete(c->shape);
    free(c->kept_file);
    free(c->dropped_file);
  }
  free(rep->conflicts);
  for (size_t i = 0; i < rep->nwarnings; i++)
    free(rep->warnings[i]);
  free(rep->warnings);
  helion_merge_report_init(rep);
}

/* ------------------------------------------------------------ helpers */

/* An input in the fixed order: by the hash of its text, then by path. */
typedef struct input {
  const helion_results_t *r;
  char hash[65];
} input;

static int input_cmp(const void *pa, const void *pb) {
  const input *a = pa, *b = pb;
  int c = strcmp(a->hash, b->hash);
  return c ? c : strcmp(a->r->path, b->r->path);
}

/* One entry of one input. */
typedef struct item {
  const cJSON *e;
  size_t rank; /* its input's place in the fixed order */
  char *text;  /* canonical JSON */
  double ms;   /* +inf when not recorded */
} item;

/* Who wins a key: the faster, then the smaller text; then (identical
 * entries) the earlier input, so the sort is total. */
static int item_cmp(const void *pa, const void *pb) {
  const item *a = pa, *b = pb;
  int c = helion_results_entry_cmp(a->e, b->e);
  if (c)
    return c;
  if (a->ms != b->ms)
    return a->ms < b->ms ? -1 : 1;
  if ((c = strcmp(a->text, b->text)))
    return c;
  return (a->rank > b->rank) - (a->rank < b->rank);
}

/* The canonical one-line text of x into *out (caller frees); errors name
 * `file`. */
static helion_status canonical(const cJSON *x, const char *file, char **out,
                               helion_err_t *err) {
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_status rc = helion_json_write(x, 0, &b, err);
  if (!rc && !(*out = helion_strdup(helion_buf_str(&b))))
    rc = HELION_ERR_NOMEM;
  helion_buf_cleanup(&b);
  if (rc == HELION_ERR_NOMEM || rc == HELION_ERR_LIMIT)
    helion_err_set(err, rc, "%s: %s", file, helion_status_str(rc));
  else if (rc)
    helion_err_prefix(err, "%s: ", file);
  return rc;
}

/* Whether a and b have the same canonical text, into *out_same. */
static helion_status same_json(const cJSON *a, const cJSON *b, const char *file,
                               bool *out_same, helion_err_t *err) {
  char *ta = NULL, *tb = NULL;
  helion_status rc = canonical(a, file, &ta, err);
  if (!rc)
    rc = canonical(b, file, &tb, err);
  if (!rc)
    *out_same = strcmp(ta, tb) == 0;
  free(ta);
  free(tb);
  return rc;
}

static helion_status warn(helion_merge_report_t *rep, helion_err_t *err,
                          const char *fmt, ...) HELION_PRINTF(3, 4);

static helion_status warn(helion_merge_report_t *rep, helion_err_t *err,
                          const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  char **grown = realloc(rep->warnings, (rep->nwarnings + 1) * sizeof(*grown));
  if (grown)
    rep->warnings = grown;
  if (!grown || !(rep->warnings[rep->nwarnings] = helion_strdup(msg)))
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  rep->nwarnings++;
  return HELION_OK;
}

static const char *str_at(const cJSON *o, const char *key) {
  const char *s =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  return s ? s : "";
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted member names of object `o`, comma-separated, into out. */
static helion_status names_of(const cJSON *o, helion_buf_t *out) {
  size_t n = 0, i = 0;
  for (const cJSON *m = cJSON_IsObject(o) ? o->child : NULL; m; m = m->next)
    n++;
  const char **names = malloc((n + 1) * sizeof(*names));
  if (!names)
    return HELION_ERR_NOMEM;
  for (const cJSON *m = cJSON_IsObject(o) ? o->child : NULL; m; m = m->next)
    names[i++] = m->string;
  qsort(names, n, sizeof(*names), cmp_str);
  helion_status rc = HELION_OK;
  for (i = 0; i < n && !rc; i++)
    rc = helion_buf_appendf(out, "%s%s", i ? "," : "", names[i]);
  free(names);
  return rc;
}

/* ------------------------------------------------------------ the kernel */

/* What makes entries of one kernel: shape key names, parameter names. */
typedef struct kernel_sig {
  helion_buf_t keys, params;
} kernel_sig;

static helion_status sig_of(const cJSON *e, kernel_sig *s) {
  helion_buf_init(&s->keys, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&s->params, HELION_BUF_DEFAULT_MAX);
  helion_status rc =
      names_of(cJSON_GetObjectItemCaseSensitive(e, "shape"), &s->keys);
  if (!rc)
    rc = names_of(cJSON_GetObjectItemCaseSensitive(e, "best_config"),
                  &s->params);
  return rc;
}

static void sig_cleanup(kernel_sig *s) {
  helion_buf_cleanup(&s->keys);
  helion_buf_cleanup(&s->params);
}

/* Refuses entries of another kernel than the first entry's; warns once per
 * input about entries of another source hash. */
static helion_status check_kernel(const input *in, size_t n,
                                  helion_merge_report_t *rep,
                                  helion_err_t *err) {
  const cJSON *ref = NULL;
  const char *ref_file = NULL;
  kernel_sig rs, s;
  helion_status rc = HELION_OK;
  helion_buf_init(&rs.keys, 0);
  helion_buf_init(&rs.params, 0);
  for (size_t i = 0; i < n && !rc; i++) {
    bool warned = false;
    for (size_t j = 0; j < in[i].r->nentries && !rc; j++) {
      const cJSON *e = in[i].r->entries[j];
      if (!ref) {
        ref = e;
        ref_file = in[i].r->path;
        if ((rc = sig_of(e, &rs)))
          break;
        continue;
      }
      if ((rc = sig_of(e, &s))) {
        sig_cleanup(&s);
        break;
      }
      const char *what = NULL, *a = NULL, *b = NULL;
      if (strcmp(helion_buf_str(&rs.keys), helion_buf_str(&s.keys))) {
        what = "shape keys";
        a = helion_buf_str(&rs.keys);
        b = helion_buf_str(&s.keys);
      } else if (strcmp(helion_buf_str(&rs.params),
                        helion_buf_str(&s.params))) {
        what = "parameters";
        a = helion_buf_str(&rs.params);
        b = helion_buf_str(&s.params);
      }
      if (what)
        rc = helion_err_set(
            err, HELION_ERR_INVALID,
            "%s and %s hold entries of different kernels (%s %s vs %s): "
            "merge only the results files of one spec; if the kernel's "
            "parameters changed, merge the new files alone into a new file "
            "and re-tune what is missing",
            ref_file, in[i].r->path, what, a, b);
      sig_cleanup(&s);
      const char *h0 = str_at(ref, "source_hash"),
                 *h = str_at(e, "source_hash");
      if (!rc && !warned && strcmp(h0, h)) {
        warned = true;
        rc = warn(rep, err,
                  "%s holds entries tuned on another version of the kernel "
                  "than %s (source_hash %.12s vs %.12s); they are kept: "
                  "`helion-tune results SPEC` marks the stale ones",
                  in[i].r->path, ref_file, h, h0);
      }
    }
  }
  sig_cleanup(&rs);
  return rc;
}

/* ------------------------------------------------------------ entries */

static helion_status add_conflict(helion_merge_report_t *rep, const item *kept,
                                  const item *dropped, const input *in,
                                  helion_err_t *err) {
  helion_merge_conflict_t *grown =
      realloc(rep->conflicts, (rep->nconflicts + 1) * sizeof(*grown));
  if (!grown)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  rep->conflicts = grown;
  helion_merge_conflict_t *c = &grown[rep->nconflicts];
  memset(c, 0, sizeof(*c));
  rep->nconflicts++;
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(kept->e, "device");
  helion_buf_t b;
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  bool ok = !helion_results_shape_str(kept->e, &b);
  c->device = helion_strdup(str_at(dev, "name"));
  c->cc = helion_strdup(str_at(dev, "compute_capability"));
  c->shape_text = ok ? helion_strdup(helion_buf_str(&b)) : NULL;
  c->shape = cJSON_Duplicate(cJSON_GetObjectItem(kept->e, "shape"), 1);
  c->kept_file = helion_strdup(in[kept->rank].r->path);
  c->dropped_file = helion_strdup(in[dropped->rank].r->path);
  c->kept_ms = isfinite(kept->ms) ? kept->ms : NAN;
  c->dropped_ms = isfinite(dropped->ms) ? dropped->ms : NAN;
  helion_buf_cleanup(&b);
  if (!c->device || !c->cc || !c->shape_text || !c->shape || !c->kept_file ||
      !c->dropped_file)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  return HELION_OK;
}

/* Collects every entry, keeps one per key, copies the kept ones (sorted)
 * into out. */
static helion_status merge_entries(const input *in, size_t n,
                                   helion_results_t *out,
                                   helion_merge_report_t *rep,
                                   helion_err_t *err) {
  size_t total = 0, k = 0;
  for (size_t i = 0; i < n; i++)
    total += in[i].r->nentries;
  if (!total)
    return HELION_OK;
  helion_status rc = HELION_OK;
  item *items = calloc(total, sizeof(*items));
  if (!items || !(out->entries = calloc(total, sizeof(*out->entries))))
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  out->cap = total;
  for (size_t i = 0; i < n && !rc; i++) {
    for (size_t j = 0; j < in[i].r->nentries && !rc; j++, k++) {
      const cJSON *e = in[i].r->entries[j];
      const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "best_ms");
      items[k].e = e;
      items[k].rank = i;
      items[k].ms = cJSON_IsNumber(ms) && isfinite(ms->valuedouble)
                        ? ms->valuedouble
                        : INFINITY;
      rc = canonical(e, in[i].r->path, &items[k].text, err);
    }
  }
  if (!rc)
    qsort(items, total, sizeof(*items), item_cmp);
  for (size_t i = 0; i < total && !rc;) {
    const item *win = &items[i];
    size_t j = i + 1;
    for (; j < total && !helion_results_entry_cmp(win->e, items[j].e); j++)
      if (strcmp(win->text, items[j].text) &&
          (rc = add_conflict(rep, win, &items[j], in, err)))
        break;
    if (!rc && !(out->entries[out->nentries] = cJSON_Duplicate(win->e, 1)))
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    if (!rc)
      out->nentries++;
    i = j;
  }
  for (size_t i = 0; items && i < total; i++)
    free(items[i].text);
  free(items);
  return rc;
}

/* ------------------------------------------------------------ distilled */

typedef struct element {
  const cJSON *x;
  size_t rank;
  const char *name, *cc;
} element;

static int element_cmp(const void *pa, const void *pb) {
  const element *a = pa, *b = pb;
  int c = strcmp(a->name, b->name);
  if (!c)
    c = strcmp(a->cc, b->cc);
  return c ? c : (a->rank > b->rank) - (a->rank < b->rank);
}

/* Whether the merged entries of device (name, cc) are exactly those that
 * input r holds for it, into *out_same: if not, its distilled element
 * predates them. */
static helion_status same_device_entries(const helion_results_t *merged,
                                         const helion_results_t *r,
                                         const char *name, const char *cc,
                                         bool *out_same, helion_err_t *err) {
  size_t nm = 0, nr = 0, same = 0;
  helion_status rc = HELION_OK;
  for (size_t i = 0; i < r->nentries; i++) {
    const cJSON *dev =
        cJSON_GetObjectItemCaseSensitive(r->entries[i], "device");
    nr += !strcmp(str_at(dev, "name"), name) &&
          !strcmp(str_at(dev, "compute_capability"), cc);
  }
  for (size_t i = 0, j = 0; i < merged->nentries && !rc; i++) {
    const cJSON *e = merged->entries[i];
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(e, "device");
    bool eq = false;
    if (strcmp(str_at(dev, "name"), name) ||
        strcmp(str_at(dev, "compute_capability"), cc))
      continue;
    nm++;
    /* Both are sorted: walk r's entries along. */
    while (j < r->nentries && helion_results_entry_cmp(r->entries[j], e) < 0)
      j++;
    if (j < r->nentries && !helion_results_entry_cmp(r->entries[j], e))
      rc = same_json(r->entries[j], e, r->path, &eq, err);
    same += eq;
  }
  *out_same = nm == nr && same == nm;
  return rc;
}

/* Merges the "distilled" arrays per device into out->root. */
static helion_status merge_distilled(const input *in, size_t n,
                                     helion_results_t *out,
                                     helion_merge_report_t *rep,
                                     helion_err_t *err) {
  size_t total = 0, k = 0;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    const cJSON *a =
        cJSON_GetObjectItemCaseSensitive(in[i].r->root, "distilled");
    any = any || a;
    total += (size_t)cJSON_GetArraySize(a);
  }
  if (!any)
    return HELION_OK;
  helion_status rc = HELION_OK;
  element *els = calloc(total + 1, sizeof(*els));
  cJSON *arr = cJSON_AddArrayToObject(out->root, "distilled");
  if (!els || !arr)
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n && !rc; i++) {
    const cJSON *a =
        cJSON_GetObjectItemCaseSensitive(in[i].r->root, "distilled");
    for (const cJSON *x = a ? a->child : NULL; x; x = x->next, k++) {
      const cJSON *dev = cJSON_GetObjectItemCaseSensitive(x, "device");
      els[k] = (element){x, i, str_at(dev, "name"),
                         str_at(dev, "compute_capability")};
    }
  }
  if (!rc && total)
    qsort(els, total, sizeof(*els), element_cmp);
  for (size_t i = 0; i < total && !rc;) {
    size_t j = i + 1;
    bool same = true;
    for (; j < total && !rc && !strcmp(els[i].name, els[j].name) &&
           !strcmp(els[i].cc, els[j].cc);
         j++)
      if (same && /* one warning per device */
          !(rc = same_json(els[i].x, els[j].x, in[els[j].rank].r->path, &same,
                           err)) &&
          !same)
        rc = warn(rep, err,
                  "the distilled element of %s (%s) differs between %s and "
                  "%s: kept %s's; run `helion-tune distill` again",
                  els[i].name, els[i].cc, in[els[i].rank].r->path,
                  in[els[j].rank].r->path, in[els[i].rank].r->path);
    cJSON *copy = rc ? NULL : cJSON_Duplicate(els[i].x, 1);
    if (!rc && (!copy || !cJSON_AddItemToArray(arr, copy))) {
      cJSON_Delete(copy);
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    }
    if (!rc &&
        !(rc = same_device_entries(out, in[els[i].rank].r, els[i].name,
                                   els[i].cc, &same, err)) &&
        !same)
      rc = warn(rep, err,
                "the merge changed the entries of %s (%s) after its "
                "distilled element was fitted (kept from %s): run "
                "`helion-tune distill` again to include them",
                els[i].name, els[i].cc, in[els[i].rank].r->path);
    i = j;
  }
  free(els);
  return rc;
}

/* ------------------------------------------------------------ top level */

/* The other top-level members: kept when the inputs agree, else the first
 * input's with a warning. "distilled" as an array is merge_distilled's. */
static helion_status merge_members(const input *in, size_t n,
                                   helion_results_t *out,
                                   helion_merge_report_t *rep,
                                   helion_err_t *err) {
  helion_status rc = HELION_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    const cJSON *root = in[i].r->root; /* NULL for a file not there yet */
    for (const cJSON *m = root ? root->child : NULL; m && !rc; m = m->next) {
      if (cJSON_GetObjectItemCaseSensitive(out->root, m->string) ||
          (strcmp(m->string, "distilled") == 0 && cJSON_IsArray(m)))
        continue;       /* taken from an earlier input, or merged per device */
      bool same = true; /* one warning per member */
      for (size_t j = i + 1; j < n && !rc && same; j++) {
        const cJSON *o =
            cJSON_GetObjectItemCaseSensitive(in[j].r->root, m->string);
        if (o && !(rc = same_json(m, o, in[j].r->path, &same, err)) && !same)
          rc = warn(rep, err,
                    "top-level member \"%s\" differs between %s and %s: kept "
                    "%s's",
                    m->string, in[i].r->path, in[j].r->path, in[i].r->path);
      }
      cJSON *copy = rc ? NULL : cJSON_Duplicate(m, 1);
      if (!rc &&
          (!copy || !cJSON_AddItemToObject(out->root, m->string, copy))) {
        cJSON_Delete(copy);
        rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      }
    }
  }
  return rc;
}

helion_status helion_results_merge(const helion_results_t *const *inputs,
                                   size_t n, const char *out_path,
                                   helion_results_t *out,
                                   helion_merge_report_t *rep,
                                   helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_results_t m;
  helion_merge_report_t mr;
  helion_results_init(&m);
  helion_merge_report_init(&mr);
  helion_buf_t text;
  helion_buf_init(&text, HELION_BUF_DEFAULT_MAX);
  input *in = calloc(n + 1, sizeof(*in));
  if (!in || !(m.path = helion_strdup(out_path)) ||
      !(m.root = cJSON_CreateObject())) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    in[i].r = inputs[i];
    helion_buf_reset(&text);
    if ((rc = helion_results_write(inputs[i], &text, err)))
      goto out;
    helion_sha256_hex(helion_buf_str(&text), text.len, in[i].hash);
  }
  qsort(in, n, sizeof(*in), input_cmp);
  if ((rc = check_kernel(in, n, &mr, err)) ||
      (rc = merge_entries(in, n, &m, &mr, err)) ||
      (rc = merge_members(in, n, &m, &mr, err)) ||
      (rc = merge_distilled(in, n, &m, &mr, err)))
    goto out;
out:
  helion_buf_cleanup(&text);
  free(in);
  if (rc) {
    helion_results_cleanup(&m);
    helion_merge_report_cleanup(&mr);
    return rc;
  }
  helion_results_cleanup(out);
  *out = m;
  helion_merge_report_cleanup(rep);
  *rep = mr;
  return HELION_OK;
}
