/*
 * test_results_merge.c: merging results files (results/results_merge.h) on
 * fragments made from the real entries of samples/app/tuned/softmax.tuned.json
 * (shape and best_ms varied): a union of disjoint fragments, the faster entry
 * winning a conflict with both sides reported, the tie rule, identical
 * entries, unknown members, the distilled section, the one-kernel check, and
 * byte-identical output for every order of the inputs.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/results_file.h"
#include "results/results_merge.h"
#include "util/json.h"

/* A sample results file of the source tree, loaded. */
static void load_sample(const char *rel, helion_results_t *r) {
  const char *src = getenv("HELION_SOURCE_DIR");
  assert_non_null(src);
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", src, rel);
  helion_err_t err = {{0}};
  helion_results_init(r);
  if (helion_results_load(path, r, &err))
    fail_msg("%s", err.msg);
  assert_true(r->nentries >= 2);
}

/* Softmax's sample entry i (0 or 1), a copy to vary: shape M set to m (0
 * keeps it), best_ms to ms (0 keeps it). */
static cJSON *entry(int i, int64_t m, double ms) {
  helion_results_t r;
  load_sample("samples/app/tuned/softmax.tuned.json", &r);
  cJSON *e = cJSON_Duplicate(r.entries[i], 1);
  helion_results_cleanup(&r);
  assert_non_null(e);
  if (m)
    cJSON_ReplaceItemInObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e, "shape"), "M",
        cJSON_CreateNumber((double)m));
  if (ms)
    cJSON_ReplaceItemInObjectCaseSensitive(e, "best_ms",
                                           cJSON_CreateNumber(ms));
  return e;
}

/*
 * A results file named `path` holding the given entries (owned: freed here)
 * and the top-level members of `extra` (a JSON object text, or NULL), made
 * through its text so that it is loaded as a file would be.
 */
static void frag(helion_results_t *r, const char *path, const char *extra,
                 cJSON *const *entries, size_t n) {
  cJSON *root = extra ? cJSON_Parse(extra) : cJSON_CreateObject();
  assert_non_null(root);
  cJSON_AddNumberToObject(root, "format_version", 1);
  cJSON *arr = cJSON_AddArrayToObject(root, "entries");
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(arr, entries[i]);
  helion_buf_t t;
  helion_buf_init(&t, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_json_write(root, 2, &t, NULL), HELION_OK);
  cJSON_Delete(root);
  helion_err_t err = {{0}};
  helion_results_init(r);
  if (helion_results_parse(helion_buf_str(&t), t.len, path, r, &err))
    fail_msg("%s", err.msg);
  helion_buf_cleanup(&t);
}

/* Merges the n inputs (in the given order) and returns the written text;
 * caller frees. */
static char *merge_text(const helion_results_t *const *in, size_t n,
                        helion_merge_report_t *rep) {
  helion_results_t out;
  helion_results_init(&out);
  helion_merge_report_t local;
  helion_merge_report_init(&local);
  helion_err_t err = {{0}};
  if (helion_results_merge(in, n, "out.tuned.json", &out, rep ? rep : &local,
                           &err))
    fail_msg("%s", err.msg);
  helion_buf_t t;
  helion_buf_init(&t, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_results_write(&out, &t, NULL), HELION_OK);
  char *s = strdup(helion_buf_str(&t));
  helion_buf_cleanup(&t);
  helion_results_cleanup(&out);
  helion_merge_report_cleanup(&local);
  return s;
}

/* Merges a and b, in that order when `swap` is 0, else b then a, into out
 * and rep (both initialised here). */
static void merge2(const helion_results_t *a, const helion_results_t *b,
                   int swap, helion_results_t *out,
                   helion_merge_report_t *rep) {
  const helion_results_t *in[2] = {swap ? b : a, swap ? a : b};
  helion_results_init(out);
  helion_merge_report_init(rep);
  assert_int_equal(helion_results_merge(in, 2, "o.json", out, rep, NULL),
                   HELION_OK);
}

static double best_ms_of(const cJSON *e) {
  return cJSON_GetObjectItemCaseSensitive(e, "best_ms")->valuedouble;
}

static void test_results_merge_union(void **state) {
  (void)state;
  helion_results_t a, b, c, out;
  cJSON *ea[] = {entry(0, 0, 0)}, *eb[] = {entry(1, 0, 0)},
        *ec[] = {entry(0, 65536, 0), entry(1, 65536, 0)};
  frag(&a, "a.json", NULL, ea, 1);
  frag(&b, "b.json", NULL, eb, 1);
  frag(&c, "c.json", NULL, ec, 2);
  const helion_results_t *in[] = {&c, &a, &b};
  helion_merge_report_t rep;
  helion_merge_report_init(&rep);
  helion_results_init(&out);
  assert_int_equal(helion_results_merge(in, 3, "o.json", &out, &rep, NULL),
                   HELION_OK);
  assert_int_equal(out.nentries, 4);
  assert_int_equal(rep.nconflicts, 0);
  assert_int_equal(rep.nwarnings, 0);
  assert_string_equal(out.path, "o.json");
  for (size_t i = 1; i < out.nentries; i++)
    assert_true(helion_results_entry_cmp(out.entries[i - 1], out.entries[i]) <
                0);
  helion_merge_report_cleanup(&rep);
  helion_results_cleanup(&out);
  helion_results_cleanup(&a);
  helion_results_cleanup(&b);
  helion_results_cleanup(&c);
}

static void test_results_merge_conflict_keeps_faster(void **state) {
  (void)state;
  helion_results_t fast, slow;
  cJSON *ef[] = {entry(0, 0, 0.5), entry(1, 0, 0)};
  cJSON *es[] = {entry(0, 0, 0.25)};
  /* The slower one must win on time alone, not on its text. */
  cJSON_ReplaceItemInObjectCaseSensitive(ef[0], "algorithm",
                                         cJSON_CreateString("AAA"));
  frag(&slow, "slow.json", NULL, ef, 2);
  frag(&fast, "fast.json", NULL, es, 1);
  for (int order = 0; order < 2; order++) {
    helion_results_t out;
    helion_merge_report_t rep;
    merge2(&slow, &fast, order, &out, &rep);
    assert_int_equal(out.nentries, 2);
    assert_int_equal(rep.nconflicts, 1);
    const helion_merge_conflict_t *c = &rep.conflicts[0];
    assert_string_equal(c->kept_file, "fast.json");
    assert_string_equal(c->dropped_file, "slow.json");
    assert_true(c->kept_ms == 0.25 && c->dropped_ms == 0.5);
    assert_string_equal(c->device, "NVIDIA H100 80GB HBM3");
    assert_string_equal(c->cc, "9.0");
    assert_non_null(strstr(c->shape_text, "M="));
    assert_non_null(c->shape);
    const cJSON *kept = NULL;
    for (size_t i = 0; i < out.nentries; i++)
      if (!helion_results_entry_cmp(out.entries[i], fast.entries[0]))
        kept = out.entries[i];
    assert_non_null(kept);
    assert_true(best_ms_of(kept) == 0.25);
    helion_results_cleanup(&out);
    helion_merge_report_cleanup(&rep);
  }
  helion_results_cleanup(&fast);
  helion_results_cleanup(&slow);
}

/* The canonical one-line text of an entry; caller frees. */
static char *text_of(const cJSON *e) {
  helion_buf_t t;
  helion_buf_init(&t, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_json_write(e, 0, &t, NULL), HELION_OK);
  char *s = strdup(helion_buf_str(&t));
  helion_buf_cleanup(&t);
  return s;
}

static void test_results_merge_tie_smaller_text(void **state) {
  (void)state;
  helion_results_t x, y;
  cJSON *ex[] = {entry(0, 0, 0.125)}, *ey[] = {entry(0, 0, 0.125)};
  cJSON_ReplaceItemInObjectCaseSensitive(ex[0], "configs_tested",
                                         cJSON_CreateNumber(79));
  cJSON_ReplaceItemInObjectCaseSensitive(ey[0], "configs_tested",
                                         cJSON_CreateNumber(80));
  /* Name the file of the smaller text last, so neither the path order nor
   * the argument order can pick it by accident. */
  frag(&x, "z.json", NULL, ex, 1);
  frag(&y, "a.json", NULL, ey, 1);
  char *tx = text_of(x.entries[0]), *ty = text_of(y.entries[0]);
  assert_true(strcmp(tx, ty) < 0);
  for (int order = 0; order < 2; order++) {
    helion_results_t out;
    helion_merge_report_t rep;
    merge2(&y, &x, order, &out, &rep);
    assert_int_equal(out.nentries, 1);
    char *to = text_of(out.entries[0]);
    assert_string_equal(to, tx);
    free(to);
    assert_int_equal(rep.nconflicts, 1);
    assert_string_equal(rep.conflicts[0].kept_file, "z.json");
    assert_string_equal(rep.conflicts[0].dropped_file, "a.json");
    helion_results_cleanup(&out);
    helion_merge_report_cleanup(&rep);
  }
  free(tx);
  free(ty);
  helion_results_cleanup(&x);
  helion_results_cleanup(&y);
}

static void test_results_merge_identical_not_conflict(void **state) {
  (void)state;
  helion_results_t a, b;
  cJSON *ea[] = {entry(0, 0, 0), entry(1, 0, 0)}, *eb[] = {entry(1, 0, 0)};
  frag(&a, "a.json", NULL, ea, 2);
  frag(&b, "b.json", NULL, eb, 1);
  const helion_results_t *in[] = {&b, &a};
  helion_merge_report_t rep;
  helion_merge_report_init(&rep);
  char *s = merge_text(in, 2, &rep);
  assert_int_equal(rep.nconflicts, 0);
  assert_int_equal(rep.nwarnings, 0);
  /* The merge of a file with a part of itself is the file. */
  helion_buf_t t;
  helion_buf_init(&t, HELION_BUF_DEFAULT_MAX);
  assert_int_equal(helion_results_write(&a, &t, NULL), HELION_OK);
  assert_string_equal(s, helion_buf_str(&t));
  helion_buf_cleanup(&t);
  free(s);
  helion_merge_report_cleanup(&rep);
  helion_results_cleanup(&a);
  helion_results_cleanup(&b);
}

static void test_results_merge_unknown_members(void **state) {
  (void)state;
  helion_results_t a, b, c;
  cJSON *ea[] = {entry(0, 0, 0)}, *eb[] = {entry(1, 0, 0)},
        *ec[] = {entry(0, 2048, 0)};
  cJSON_AddStringToObject(ea[0], "future_entry_member", "kept");
  frag(&a, "a.json", "{\"agreed\": [1, 2], \"disputed\": \"from a\"}", ea, 1);
  frag(&b, "b.json", "{\"agreed\": [1, 2], \"disputed\": \"from b\"}", eb, 1);
  frag(&c, "c.json", "{\"only_c\": {\"x\": true}}", ec, 1);
  const helion_results_t *in[] = {&a, &b, &c};
  helion_merge_report_t rep;
  helion_merge_report_init(&rep);
  char *s = merge_text(in, 3, &rep);
  assert_non_null(strstr(s, "\"future_entry_member\": \"kept\""));
  assert_non_null(strstr(s, "\"agreed\": ["));
  assert_non_null(strstr(s, "\"only_c\": {"));
  assert_non_null(strstr(s, "\"disputed\": \"from "));
  assert_int_equal(rep.nwarnings, 1);
  assert_non_null(strstr(rep.warnings[0], "\"disputed\""));
  assert_non_null(strstr(rep.warnings[0], "a.json"));
  assert_non_null(strstr(rep.warnings[0], "b.json"));
  free(s);
  helion_merge_report_cleanup(&rep);
  helion_results_cleanup(&a);
  helion_results_cleanup(&b);
  helion_results_cleanup(&c);
}

/* The H100 element of the distilled sample, with its threshold set. */
static char *distilled_json(double threshold) {
  helion_results_t r;
  load_sample("tests/data/generate/softmax_distilled.tuned.json", &r);
  cJSON *a = cJSON_GetObjectItemCaseSensitive(r.root, "distilled");
  assert_true(cJSON_GetArraySize(a) == 2);
  cJSON *x = cJSON_Duplicate(cJSON_GetArrayItem(a, 1), 1);
  cJSON_ReplaceItemInObjectCaseSensitive(x, "threshold",
                                         cJSON_CreateNumber(threshold));
  cJSON *root = cJSON_CreateObject();
  cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "distilled"), x);
  char *s = text_of(root);
  cJSON_Delete(root);
  helion_results_cleanup(&r);
  return s;
}

static void test_results_merge_distilled(void **state) {
  (void)state;
  char *d1 = distilled_json(1.05), *d2 = distilled_json(1.10);
  helion_results_t a, b, c;
  cJSON *ea[] = {entry(0, 0, 0)}, *eb[] = {entry(0, 0, 0)},
        *ec[] = {entry(0, 2048, 0)}; /* H100, as the element */
  frag(&a, "a.json", d1, ea, 1);
  frag(&b, "b.json", d1, eb, 1);
  frag(&c, "c.json", d2, ec, 1);
  /* Agreeing elements over the same entries: no warning. */
  const helion_results_t *same[] = {&b, &a};
  helion_merge_report_t rep;
  helion_merge_report_init(&rep);
  char *s = merge_text(same, 2, &rep);
  assert_int_equal(rep.nwarnings, 0);
  assert_non_null(strstr(s, "\"distilled\": ["));
  free(s);
  /* A different element, and entries the merge added: warned, one kept. */
  const helion_results_t *all[] = {&c, &a, &b};
  s = merge_text(all, 3, &rep);
  assert_int_equal(rep.nwarnings, 2);
  assert_non_null(strstr(rep.warnings[0], "distilled element"));
  assert_non_null(strstr(rep.warnings[1], "helion-tune distill"));
  helion_results_t back;
  helion_results_init(&back);
  assert_int_equal(helion_results_parse(s, strlen(s), "o", &back, NULL), 0);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                       back.root, "distilled")),
                   1);
  helion_results_cleanup(&back);
  free(s);
  free(d1);
  free(d2);
  helion_merge_report_cleanup(&rep);
  helion_results_cleanup(&a);
  helion_results_cleanup(&b);
  helion_results_cleanup(&c);
}

static void test_results_merge_other_kernel(void **state) {
  (void)state;
  helion_results_t soft, rms, old, out;
  load_sample("samples/app/tuned/rmsnorm.tuned.json", &rms);
  cJSON *es[] = {entry(0, 0, 0)}, *eo[] = {entry(1, 0, 0)};
  frag(&soft, "soft.json", NULL, es, 1);
  /* rmsnorm has softmax's shape keys (M, N) but other parameters. */
  const helion_results_t *in[] = {&soft, &rms};
  helion_merge_report_t rep;
  helion_merge_report_init(&rep);
  helion_results_init(&out);
  helion_err_t err = {{0}};
  assert_int_equal(helion_results_merge(in, 2, "o.json", &out, &rep, &err),
                   HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "soft.json"));
  assert_non_null(strstr(err.msg, "rmsnorm.tuned.json"));
  assert_non_null(strstr(err.msg, "different kernels"));
  assert_int_equal(out.nentries, 0);
  /* Another source hash of the same kernel: kept, with a warning. */
  cJSON_ReplaceItemInObjectCaseSensitive(eo[0], "source_hash",
                                         cJSON_CreateString("0123456789ab"));
  frag(&old, "old.json", NULL, eo, 1);
  in[1] = &old;
  assert_int_equal(helion_results_merge(in, 2, "o.json", &out, &rep, &err),
                   HELION_OK);
  assert_int_equal(out.nentries, 2);
  assert_int_equal(rep.nwarnings, 1);
  assert_non_null(strstr(rep.warnings[0], "another version of the kernel"));
  helion_merge_report_cleanup(&rep);
  helion_results_cleanup(&out);
  helion_results_cleanup(&soft);
  helion_results_cleanup(&rms);
  helion_results_cleanup(&old);
}

/* Merges every permutation of p[k..n) (p[0..k) fixed) and compares each
 * text with want. */
static void permute(const helion_results_t **p, size_t k, size_t n,
                    const char *want, size_t *count) {
  if (k == n) {
    char *s = merge_text(p, n, NULL);
    assert_string_equal(s, want);
    free(s);
    (*count)++;
    return;
  }
  for (size_t i = k; i < n; i++) {
    const helion_results_t *t = p[k];
    p[k] = p[i];
    p[i] = t;
    permute(p, k + 1, n, want, count);
    p[i] = p[k];
    p[k] = t;
  }
}

static void test_results_merge_order_independent(void **state) {
  (void)state;
  char *d1 = distilled_json(1.05), *d2 = distilled_json(1.2);
  helion_results_t f[4];
  /* Overlapping keys with conflicts (faster, tie, identical), top-level
   * members that disagree, distilled elements that disagree. */
  cJSON *e0[] = {entry(0, 0, 0.3), entry(1, 0, 0)};
  cJSON *e1[] = {entry(0, 0, 0.2), entry(1, 8192, 0)};
  cJSON *e2[] = {entry(0, 0, 0.2), entry(1, 0, 0)};
  cJSON *e3[] = {entry(1, 8192, 0), entry(0, 512, 0)};
  cJSON_ReplaceItemInObjectCaseSensitive(e2[0], "effort",
                                         cJSON_CreateString("full"));
  cJSON_ReplaceItemInObjectCaseSensitive(e3[0], "wall_seconds",
                                         cJSON_CreateNumber(1));
  frag(&f[0], "f0.json", d1, e0, 2);
  frag(&f[1], "f1.json", "{\"note\": \"one\"}", e1, 2);
  frag(&f[2], "f2.json", d2, e2, 2);
  frag(&f[3], "f3.json", "{\"note\": \"two\"}", e3, 2);
  const helion_results_t *p[] = {&f[0], &f[1], &f[2], &f[3]};
  helion_merge_report_t rep;
  helion_merge_report_init(&rep);
  char *want = merge_text(p, 4, &rep);
  assert_true(rep.nconflicts >= 3);
  size_t count = 0;
  permute(p, 0, 4, want, &count);
  assert_int_equal(count, 24);
  free(want);
  free(d1);
  free(d2);
  helion_merge_report_cleanup(&rep);
  for (size_t i = 0; i < 4; i++)
    helion_results_cleanup(&f[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_results_merge_union),
      cmocka_unit_test(test_results_merge_conflict_keeps_faster),
      cmocka_unit_test(test_results_merge_tie_smaller_text),
      cmocka_unit_test(test_results_merge_identical_not_conflict),
      cmocka_unit_test(test_results_merge_unknown_members),
      cmocka_unit_test(test_results_merge_distilled),
      cmocka_unit_test(test_results_merge_other_kernel),
      cmocka_unit_test(test_results_merge_order_independent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
