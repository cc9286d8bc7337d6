/*
 * test_cache_remote.c: the remote cache's parts without a server: the URL of
 * a key, the prefix as messages show it, what a GET status means, the
 * settings read from the environment (and refused), HELION_SKIP_CACHE
 * leaving no remote, the redaction of secrets, and a dead port: one
 * warning with the secrets redacted, then the remote is not asked again.
 * The requests against a real server are tests/cli/test_remote_cache.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "llm/http.h"
#include "results/cache.h"
#include "results/cache_remote.h"

#define TOKEN "tok-unit-0123456789-SECRET"
#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const vars[] = {"HELION_REMOTE_CACHE",
                                   "HELION_REMOTE_CACHE_HEADER",
                                   "HELION_REMOTE_CACHE_TIMEOUT_S",
                                   "HELION_REMOTE_CACHE_CA_BUNDLE",
                                   "HELION_REMOTE_CACHE_CLIENT_CERT",
                                   "HELION_REMOTE_CACHE_CLIENT_KEY",
                                   "CURL_CA_BUNDLE",
                                   "HELION_SKIP_CACHE",
                                   "HELION_FORCE_AUTOTUNE"};

static int clear_env(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    unsetenv(vars[i]);
  return 0;
}

static void test_cache_remote_url(void **state) {
  (void)state;
  const char *prefixes[] = {"http://h/p", "http://h/p/", "http://h/p//"};
  for (size_t i = 0; i < 3; i++) {
    char *u = helion__remote_url(prefixes[i], HASH);
    assert_non_null(u);
    assert_string_equal(u, "http://h/p/" HASH ".best_config");
    free(u);
  }
}

static void test_cache_remote_display_hides_userinfo(void **state) {
  (void)state;
  char out[128];
  helion__remote_display("https://u:pw@x@host:8/p", out, sizeof out);
  assert_string_equal(out, "https://host:8/p");
  helion__remote_display("http://host/p@q", out, sizeof out);
  assert_string_equal(out, "http://host/p@q");
  helion__remote_display("http://host", out, sizeof out);
  assert_string_equal(out, "http://host");
}

static void test_cache_remote_get_status(void **state) {
  (void)state;
  assert_int_equal(helion__remote_get_status(200), 1);
  assert_int_equal(helion__remote_get_status(404), 0);
  long other[] = {0, 201, 204, 301, 401, 403, 500, 503};
  for (size_t i = 0; i < sizeof other / sizeof *other; i++)
    assert_int_equal(helion__remote_get_status(other[i]), -1);
}

/* create() with the environment as set; returns the status. */
static helion_status create(helion_cache_remote_t **r, helion_err_t *err) {
  *r = (helion_cache_remote_t *)1;
  return helion_cache_remote_create(r, err);
}

static void test_cache_remote_settings(void **state) {
  (void)state;
  helion_cache_remote_t *r;
  helion_err_t err = {{0}};
  assert_int_equal(create(&r, &err), HELION_OK);
  assert_null(r);
  setenv("HELION_REMOTE_CACHE", "http://127.0.0.1:1/p", 1);
  setenv("HELION_REMOTE_CACHE_HEADER", "Authorization: Bearer " TOKEN, 1);
  assert_int_equal(create(&r, &err), HELION_OK);
  assert_non_null(r);
  assert_true(helion_cache_remote_alive(r));
  helion_cache_remote_destroy(r);

  const char *bad_urls[] = {"ftp://h/p", "h/p", "http://", "http:///p"};
  for (size_t i = 0; i < 4; i++) {
    setenv("HELION_REMOTE_CACHE", bad_urls[i], 1);
    assert_int_equal(create(&r, &err), HELION_ERR_USAGE);
    assert_non_null(strstr(err.msg, "HELION_REMOTE_CACHE="));
  }
  setenv("HELION_REMOTE_CACHE", "https://h/p", 1);
  const char *bad_headers[] = {"no colon " TOKEN, ": " TOKEN,
                               "Bad Name: " TOKEN, "A: " TOKEN "\r\nB: x"};
  for (size_t i = 0; i < 4; i++) {
    setenv("HELION_REMOTE_CACHE_HEADER", bad_headers[i], 1);
    assert_int_equal(create(&r, &err), HELION_ERR_USAGE);
    assert_non_null(strstr(err.msg, "HELION_REMOTE_CACHE_HEADER"));
    assert_null(strstr(err.msg, TOKEN));
  }
  unsetenv("HELION_REMOTE_CACHE_HEADER");
  const char *bad_timeouts[] = {"0", "-1", "x", "3601"};
  for (size_t i = 0; i < 4; i++) {
    setenv("HELION_REMOTE_CACHE_TIMEOUT_S", bad_timeouts[i], 1);
    assert_int_equal(create(&r, &err), HELION_ERR_USAGE);
    assert_non_null(strstr(err.msg, "HELION_REMOTE_CACHE_TIMEOUT_S"));
  }
  unsetenv("HELION_REMOTE_CACHE_TIMEOUT_S");
  setenv("HELION_REMOTE_CACHE_CA_BUNDLE", "/nonexistent/ca.pem", 1);
  assert_int_equal(create(&r, &err), HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "HELION_REMOTE_CACHE_CA_BUNDLE"));
}

static void test_cache_remote_skip_cache_has_none(void **state) {
  (void)state;
  helion_cache_t c;
  helion_err_t err = {{0}};
  setenv("HELION_REMOTE_CACHE", "http://127.0.0.1:1/p", 1);
  assert_int_equal(helion_cache_init(&c, "/tmp/x", &err), HELION_OK);
  assert_non_null(c.remote);
  helion_cache_cleanup(&c);
  setenv("HELION_FORCE_AUTOTUNE", "1", 1);
  assert_int_equal(helion_cache_init(&c, "/tmp/x", &err), HELION_OK);
  assert_non_null(c.remote); /* FORCE still writes */
  helion_cache_cleanup(&c);
  setenv("HELION_SKIP_CACHE", "1", 1);
  assert_int_equal(helion_cache_init(&c, "/tmp/x", &err), HELION_OK);
  assert_null(c.remote);
  helion_cache_cleanup(&c);
}

static void test_cache_remote_redact(void **state) {
  (void)state;
  char a[] = "x " TOKEN " y " TOKEN;
  helion_http_redact(TOKEN, a);
  assert_string_equal(a, "x [redacted] y [redacted]");
  char b[] = "ab abc";
  helion_http_redact("abc", b);
  assert_string_equal(b, "ab ***");
  char c[] = "same";
  helion_http_redact(NULL, c);
  helion_http_redact("", c);
  assert_string_equal(c, "same");
}

/* Runs fn with stderr going to a file; returns what it wrote (caller
 * frees). */
static char *capture_stderr(void (*fn)(void *), void *ud) {
  char path[] = "/tmp/helion_remote_unit.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn(ud);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  off_t n = lseek(fd, 0, SEEK_END);
  char *text = calloc((size_t)n + 1, 1);
  assert_non_null(text);
  assert_int_equal(pread(fd, text, (size_t)n, 0), n);
  close(fd);
  unlink(path);
  return text;
}

static void two_gets_and_a_put(void *ud) {
  helion_cache_remote_t *r = ud;
  helion_err_t err = {{0}};
  char *body = (char *)1;
  size_t len = 1;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(helion_cache_remote_get(r, HASH, &body, &len, &err),
                     HELION_OK);
    assert_null(body);
    assert_int_equal(len, 0);
  }
  assert_int_equal(helion_cache_remote_put(r, HASH, "{}", 2, &err), HELION_OK);
}

static void test_cache_remote_dead_port_warns_once(void **state) {
  (void)state;
  helion_cache_remote_t *r;
  helion_err_t err = {{0}};
  /* The token in the URL's path too: the warning shows the URL, so it is
   * where redaction must work. */
  setenv("HELION_REMOTE_CACHE", "http://127.0.0.1:1/" TOKEN, 1);
  setenv("HELION_REMOTE_CACHE_HEADER", "Authorization: Bearer " TOKEN, 1);
  setenv("HELION_REMOTE_CACHE_TIMEOUT_S", "2", 1);
  assert_int_equal(create(&r, &err), HELION_OK);
  char *text = capture_stderr(two_gets_and_a_put, r);
  assert_false(helion_cache_remote_alive(r));
  assert_null(strstr(text, TOKEN));
  const char *w = strstr(text, "remote cache http://127.0.0.1:1/[redacted]: "
                               "GET " HASH ".best_config: ");
  assert_non_null(w);
  assert_non_null(strstr(w, "; going on with the local cache"));
  assert_null(strstr(w + 1, "remote cache")); /* once */
  free(text);
  helion_cache_remote_destroy(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cache_remote_url),
      cmocka_unit_test(test_cache_remote_display_hides_userinfo),
      cmocka_unit_test(test_cache_remote_get_status),
      cmocka_unit_test_setup_teardown(test_cache_remote_settings, clear_env,
                                      clear_env),
      cmocka_unit_test_setup_teardown(test_cache_remote_skip_cache_has_none,
                                      clear_env, clear_env),
      cmocka_unit_test(test_cache_remote_redact),
      cmocka_unit_test_setup_teardown(test_cache_remote_dead_port_warns_once,
                                      clear_env, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
