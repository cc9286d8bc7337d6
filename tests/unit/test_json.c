/*
 * test_json.c: the JSON module's writer: key order, number format, layout,
 * refusals, and that what it writes parses back to the same tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Parses `text`, writes it back with `indent`, and checks the output. */
static void rewrite(const char *text, int indent, const char *want) {
  cJSON *root = NULL;
  helion_err_t err = {{0}};
  assert_int_equal(helion_json_parse(text, strlen(text), "t", &root, &err),
                   HELION_OK);
  helion_buf_t b;
  helion_buf_init(&b, 0);
  assert_int_equal(helion_json_write(root, indent, &b, &err), HELION_OK);
  assert_string_equal(helion_buf_str(&b), want);
  helion_buf_cleanup(&b);
  cJSON_Delete(root);
}

static void test_json_write_sorts_keys_at_every_depth(void **state) {
  (void)state;
  rewrite("{\"b\": 1, \"a\": {\"z\": [3, {\"y\": 1, \"x\": 2}], \"B\": null}}", 0,
          "{\"a\": {\"B\": null, \"z\": [3, {\"x\": 2, \"y\": 1}]}, \"b\": 1}");
}

static void test_json_write_number_forms(void **state) {
  (void)state;
  /* Integral values print as integers up to 2^53; other values in the
   * shortest %g form that reads back exactly. */
  rewrite("[0, -0.0, 5.0, -3, 9007199254740992, 1e20, 0.1, 0.30000000000000004,"
          " 2.5e-300, 1.7976931348623157e308]",
          0,
          "[0, 0, 5, -3, 9007199254740992, 1e+20, 0.1, 0.30000000000000004, "
          "2.5e-300, 1.7976931348623157e+308]");
}

static void test_json_write_numbers_read_back_exactly(void **state) {
  (void)state;
  /* Random doubles over many magnitudes survive write + parse bit for bit. */
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double v = ldexp((double)(x >> 11) / 9007199254740992.0, (int)(x % 200) - 100);
    if (x & 1)
      v = -v;
    cJSON *n = cJSON_CreateNumber(v);
    helion_buf_t b;
    helion_buf_init(&b, 0);
    helion_err_t err = {{0}};
    assert_int_equal(helion_json_write(n, 0, &b, &err), HELION_OK);
    assert_true(strtod(helion_buf_str(&b), NULL) == v);
    helion_buf_cleanup(&b);
    cJSON_Delete(n);
  }
}

static void test_json_write_indent_layout(void **state) {
  (void)state;
  rewrite("{\"b\": [1, 2], \"a\": {}, \"c\": []}", 2,
          "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": []\n}");
}

static void test_json_write_escapes_strings(void **state) {
  (void)state;
  rewrite("[\"a\\\"b\\\\c\\n\\u0001\"]", 0, "[\"a\\\"b\\\\c\\n\\u0001\"]");
}

static void test_json_write_refuses_non_finite_and_repeated_keys(void **state) {
  (void)state;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, 0);
  cJSON *a = cJSON_CreateArray();
  cJSON_AddItemToArray(a, cJSON_CreateNumber(INFINITY));
  assert_int_equal(helion_json_write(a, 0, &b, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "inf"));
  cJSON_Delete(a);

  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "k", 1);
  cJSON_AddNumberToObject(o, "k", 2);
  helion_buf_reset(&b);
  assert_int_equal(helion_json_write(o, 0, &b, &err), HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "'k' twice"));
  cJSON_Delete(o);
  helion_buf_cleanup(&b);
}

static void test_json_write_reports_buffer_limit(void **state) {
  (void)state;
  helion_err_t err = {{0}};
  helion_buf_t b;
  helion_buf_init(&b, 8);
  cJSON *s = cJSON_CreateString("longer than eight bytes");
  assert_int_not_equal(helion_json_write(s, 0, &b, &err), HELION_OK);
  assert_non_null(strstr(err.msg, "writing JSON"));
  cJSON_Delete(s);
  helion_buf_cleanup(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_write_sorts_keys_at_every_depth),
      cmocka_unit_test(test_json_write_number_forms),
      cmocka_unit_test(test_json_write_numbers_read_back_exactly),
      cmocka_unit_test(test_json_write_indent_layout),
      cmocka_unit_test(test_json_write_escapes_strings),
      cmocka_unit_test(test_json_write_refuses_non_finite_and_repeated_keys),
      cmocka_unit_test(test_json_write_reports_buffer_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
