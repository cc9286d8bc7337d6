/*
 * test_codegen.c: the header writer (codegen/codegen.h): the C string
 * escaper, which argument carries each shape key, and the header's text
 * for a spec (declarations, tables, determinism, the architecture rule).
 * Compiling and running generated headers is tests/cli/test_generate.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

static void expect_escaped(const char *in, const char *want) {
  helion_buf_t b;
  helion_buf_init(&b, 4096);
  assert_int_equal(helion_codegen_c_string(&b, in), HELION_OK);
  assert_string_equal(helion_buf_str(&b), want);
  helion_buf_cleanup(&b);
}

static void test_codegen_c_string(void **state) {
  (void)state;
  expect_escaped("", "\"\"");
  expect_escaped("NVIDIA H100", "\"NVIDIA H100\"");
  expect_escaped("a\"b\\c", "\"a\\\"b\\\\c\"");
  expect_escaped("*/ x /*", "\"*/ x /*\"");
  expect_escaped("l1\nl2\tt\rr", "\"l1\\nl2\\tt\\rr\"");
  /* No trigraph, and octal escapes of exactly three digits so a following
   * digit cannot extend them. */
  expect_escaped("?\?=", "\"\\?\\?=\"");
  expect_escaped("\x01" "7", "\"\\0017\"");
  expect_escaped("\xc3\xa9", "\"\\303\\251\"");
  expect_escaped("\x7f", "\"\\177\"");
}

/* A spec from text, beside the vector_add sample so its source resolves. */
static helion_spec_t *spec_from(const char *args, const char *keys) {
  char text[4096], path[1024];
  const char *dir = getenv("HELION_SOURCE_DIR");
  assert_non_null(dir);
  snprintf(path, sizeof(path), "%s/samples/vector_add/test.json", dir);
  snprintf(text, sizeof(text),
           "{\"name\": \"k\", \"source\": \"vector_add.cu\", \"entry\": "
           "\"vector_add\", \"args\": [%s], \"key\": [%s], \"shapes\": "
           "[{%s}],"
           " \"space\": {\"block_sizes\": [{\"name\": \"BLOCK\", \"min\": 32, "
           "\"max\": 1024}], \"num_warps\": {\"min\": 1, \"max\": 32}},"
           " \"launch\": {\"tiles\": [\"cdiv(N, BLOCK)\"], \"block\": "
           "[\"32 * num_warps\"]}, \"accuracy\": {\"check\": false},"
           " \"defaults\": {\"block_sizes\": [256], \"num_warps\": 4}}",
           args, keys, strchr(keys, 'M') ? "\"N\": 64, \"M\": 2" : "\"N\": 64");
  helion_spec_t *s = NULL;
  helion_err_t err = {{0}};
  if (helion_spec_parse(text, strlen(text), path, &s, &err))
    fail_msg("spec: %s", err.msg);
  return s;
}

static void test_codegen_key_args(void **state) {
  (void)state;
  helion_err_t err = {{0}};
  int at[4];
  /* N carried by the int argument n; M by none (value is not just M). */
  helion_spec_t *s = spec_from(
      "{\"name\": \"A\", \"type\": \"float*\", \"numel\": \"N\"},"
      "{\"name\": \"n\", \"type\": \"int64_t\", \"value\": \" N \"},"
      "{\"name\": \"m2\", \"type\": \"int\", \"value\": \"M * 2\"}",
      "\"N\", \"M\"");
  assert_int_equal(helion_codegen_key_args(s, at, &err), HELION_OK);
  assert_int_equal(at[0], 1);
  assert_int_equal(at[1], -1);
  helion_spec_destroy(s);
  /* A float scalar never carries a key. */
  s = spec_from("{\"name\": \"A\", \"type\": \"float*\", \"numel\": \"N\"},"
                "{\"name\": \"x\", \"type\": \"float\", \"value\": \"N\"}",
                "\"N\"");
  assert_int_equal(helion_codegen_key_args(s, at, &err), HELION_OK);
  assert_int_equal(at[0], -1);
  helion_spec_destroy(s);
  /* An extra parameter N would clash with argument N. */
  s = spec_from("{\"name\": \"A\", \"type\": \"float*\", \"numel\": \"N\"},"
                "{\"name\": \"N\", \"type\": \"int\", \"value\": \"N + 1\"}",
                "\"N\"");
  assert_int_equal(helion_codegen_key_args(s, at, &err), HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "key 'N' is not the value of an integer "
                                  "argument"));
  helion_spec_destroy(s);
}

static void test_codegen_header_text(void **state) {
  (void)state;
  helion_err_t err = {{0}};
  helion_results_t r;
  helion_codegen_opts_t o;
  helion_buf_t a, b;
  memset(&o, 0, sizeof(o));
  helion_results_init(&r);
  helion_buf_init(&a, HELION_BUF_DEFAULT_MAX);
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  helion_spec_t *s = spec_from(
      "{\"name\": \"A\", \"type\": \"const __half*\", \"numel\": \"N\"},"
      "{\"name\": \"C\", \"type\": \"float*\", \"numel\": \"N\"},"
      "{\"name\": \"n\", \"type\": \"int\", \"value\": \"N\"}",
      "\"N\", \"M\"");
  assert_int_equal(helion_results_parse("{\"entries\": [], \"format_version\""
                                        ": 1}",
                                        39, "k.tuned.json", &r, &err),
                   HELION_OK);
  /* No entries and no architecture: the caller must name one. */
  assert_int_equal(helion_codegen_header(s, &r, &o, &a, &err),
                   HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "pass --arch 90"));
  o.archs[0] = 80;
  o.narchs = 1;
  if (helion_codegen_header(s, &r, &o, &a, &err))
    fail_msg("%s", err.msg);
  const char *h = helion_buf_str(&a);
  assert_non_null(strstr(h, "helion_status helion_k(void *helion_stream, "
                            "const void *A, float *C, int32_t n, int64_t M);"));
  assert_non_null(strstr(h, "A is a pointer to __half"));
  assert_non_null(strstr(h, "helion_status helion_k_choose(const "
                            "helion_device_t *helion_dev, int64_t N, int64_t "
                            "M,"));
  assert_non_null(strstr(h, "helion_key[0] = (int64_t)n;\n"
                            "  helion_key[1] = (int64_t)M;\n"));
  assert_non_null(strstr(h, "{80, 1, 0, helion_k_image_0_1_, "));
  assert_non_null(strstr(h, "helion_x_cdiv((helion_key[0]), "));
  assert_non_null(strstr(h, "\n#ifdef HELION_IMPLEMENTATION\n"));
  assert_null(strstr(h, getenv("HELION_SOURCE_DIR")));
  /* Deterministic. */
  assert_int_equal(helion_codegen_header(s, &r, &o, &b, &err), HELION_OK);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  helion_buf_cleanup(&a);
  helion_buf_cleanup(&b);
  helion_results_cleanup(&r);
  helion_spec_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codegen_c_string),
      cmocka_unit_test(test_codegen_key_args),
      cmocka_unit_test(test_codegen_header_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
