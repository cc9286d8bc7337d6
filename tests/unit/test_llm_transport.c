/*
 * test_llm_transport.c: the LLM provider settings read from the environment
 * (every case sets and unsets the variables it needs), the parsing of
 * HELION_LLM_EXTRA_HEADERS, the endpoint URL, the redaction of the key, and
 * requests that fail before a reply (no server: a closed port). The requests
 * against a server are tests/cli/test_llm_transport.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "llm/llm_internal.h"

#define KEY "sk-unit-0123456789-SECRET"

static const char *const vars[] = {
    "HELION_LLM_PROVIDER",     "HELION_LLM_MODEL",
    "HELION_LLM_API_KEY",      "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",       "HELION_LLM_API_BASE",
    "OPENAI_BASE_URL",         "OPENAI_API_BASE",
    "ANTHROPIC_BASE_URL",      "HELION_LLM_EXTRA_HEADERS",
    "HELION_LLM_CA_BUNDLE",    "CURL_CA_BUNDLE",
    "HELION_LLM_CLIENT_CERT",  "HELION_LLM_CLIENT_KEY",
    "HELION_LLM_EFFORT_LEVEL", "HELION_LLM_TIMEOUT_S"};

static int clear_env(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    unsetenv(vars[i]);
  return 0;
}

static helion_llm_settings_t ok_settings(void) {
  helion_llm_settings_t s;
  helion_err_t err = {{0}};
  helion_status rc = helion_llm_settings_from_env(&s, &err);
  if (rc)
    fail_msg("settings refused: %s", err.msg);
  return s;
}

/* The settings are refused with `code`, a message holding `needle` and
 * never the key. */
static void refused(helion_status code, const char *needle) {
  helion_llm_settings_t s;
  helion_err_t err = {{0}};
  helion_status rc = helion_llm_settings_from_env(&s, &err);
  if (rc != code)
    fail_msg("expected %d, got %d: %s", (int)code, (int)rc, err.msg);
  if (!strstr(err.msg, needle))
    fail_msg("'%s' not in '%s'", needle, err.msg);
  assert_null(strstr(err.msg, KEY));
  assert_null(strstr(err.msg, "SECRET"));
}

static void test_llm_transport_defaults(void **state) {
  (void)state;
  setenv("OPENAI_API_KEY", KEY, 1);
  helion_llm_settings_t s = ok_settings();
  assert_int_equal(s.provider, HELION_LLM_OPENAI);
  assert_string_equal(s.model, "gpt-5-2");
  assert_string_equal(s.api_key, KEY);
  assert_string_equal(s.api_base, "https://api.openai.com");
  assert_string_equal(s.effort, "none");
  assert_true(s.timeout_s == 120.0);
  assert_int_equal(s.max_output_tokens, 8192);
  assert_null(s.extra_headers);
  assert_null(s.ca_bundle);
  assert_null(s.client_cert);
  assert_null(s.client_key);
  char *url = helion__llm_url(&s);
  assert_string_equal(url, "https://api.openai.com/v1/responses");
  free(url);
  helion_llm_settings_cleanup(&s);
  helion_llm_settings_cleanup(&s); /* zeroed: a second cleanup is fine */
  helion_llm_settings_cleanup(NULL);
}

static void test_llm_transport_key_order(void **state) {
  (void)state;
  setenv("OPENAI_API_KEY", "sk-openai", 1);
  setenv("HELION_LLM_API_KEY", KEY, 1);
  helion_llm_settings_t s = ok_settings();
  assert_string_equal(s.api_key, KEY);
  helion_llm_settings_cleanup(&s);
  setenv("HELION_LLM_API_KEY", "", 1); /* empty: the provider's own */
  s = ok_settings();
  assert_string_equal(s.api_key, "sk-openai");
  helion_llm_settings_cleanup(&s);
  /* Another provider's key is not used. */
  unsetenv("OPENAI_API_KEY");
  setenv("ANTHROPIC_API_KEY", KEY, 1);
  refused(HELION_ERR_USAGE, "set HELION_LLM_API_KEY or OPENAI_API_KEY");
  setenv("HELION_LLM_MODEL", "claude-opus-4-7", 1);
  s = ok_settings();
  assert_int_equal(s.provider, HELION_LLM_ANTHROPIC);
  assert_string_equal(s.api_key, KEY);
  assert_string_equal(s.api_base, "https://api.anthropic.com");
  helion_llm_settings_cleanup(&s);
  unsetenv("ANTHROPIC_API_KEY");
  refused(HELION_ERR_USAGE, "set HELION_LLM_API_KEY or ANTHROPIC_API_KEY");
  /* A key with a line break would inject a header. */
  setenv("HELION_LLM_API_KEY", KEY "\r\nX-Evil: 1", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_API_KEY holds a control character");
}

static void test_llm_transport_provider(void **state) {
  (void)state;
  setenv("HELION_LLM_API_KEY", KEY, 1);
  static const struct {
    const char *provider, *model, *sent;
    helion_llm_provider want;
  } cases[] = {
      {NULL, "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5",
       HELION_LLM_ANTHROPIC},
      {NULL, "Claude-3-5-haiku", "Claude-3-5-haiku", HELION_LLM_ANTHROPIC},
      {NULL, "openai/gpt-5.4", "gpt-5.4", HELION_LLM_OPENAI},
      {NULL, "o3-mini", "o3-mini", HELION_LLM_OPENAI},
      {NULL, "codex-mini", "codex-mini", HELION_LLM_OPENAI},
      {NULL, "openai-chat/llama-3", "llama-3", HELION_LLM_OPENAI_CHAT},
      {" OpenAI_Responses ", "my-model", "my-model", HELION_LLM_OPENAI},
      {"openai-responses", "anthropic/x", "x", HELION_LLM_OPENAI},
      {"ANTHROPIC", "openai/some", "some", HELION_LLM_ANTHROPIC},
      {"openai-chat", "openai/gpt-oss-120b", "openai/gpt-oss-120b",
       HELION_LLM_OPENAI_CHAT},
      {"openai_chat", "openai-chat/m", "m", HELION_LLM_OPENAI_CHAT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    if (cases[i].provider)
      setenv("HELION_LLM_PROVIDER", cases[i].provider, 1);
    else
      unsetenv("HELION_LLM_PROVIDER");
    setenv("HELION_LLM_MODEL", cases[i].model, 1);
    helion_llm_settings_t s = ok_settings();
    assert_int_equal(s.provider, cases[i].want);
    assert_string_equal(s.model, cases[i].sent);
    helion_llm_settings_cleanup(&s);
  }
  unsetenv("HELION_LLM_PROVIDER");
  setenv("HELION_LLM_MODEL", "llama-3-70b", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_MODEL=llama-3-70b: cannot tell its "
                            "provider from the name; set HELION_LLM_PROVIDER");
  setenv("HELION_LLM_MODEL", "bedrock/us.anthropic.claude-sonnet-4-6", 1);
  refused(HELION_ERR_UNSUPPORTED, "Bedrock is not supported");
  setenv("HELION_LLM_MODEL", "vertex/claude-opus-4-7", 1);
  refused(HELION_ERR_UNSUPPORTED, "Vertex is not supported");
  setenv("HELION_LLM_MODEL", "gpt-5", 1);
  const char *clouds[] = {"vertex",  "google_vertex", "vertex-anthropic",
                          "bedrock", "aws-bedrock",   "aws_bedrock"};
  for (size_t i = 0; i < 6; i++) {
    setenv("HELION_LLM_PROVIDER", clouds[i], 1);
    refused(HELION_ERR_UNSUPPORTED, "is not supported by helion-tune");
  }
  setenv("HELION_LLM_PROVIDER", "gemini", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_PROVIDER=gemini: expected openai, "
                            "anthropic or openai-chat");
  setenv("HELION_LLM_PROVIDER", "openai", 1);
  setenv("HELION_LLM_MODEL", "openai/", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_MODEL=openai/: expected a model name");
}

static void test_llm_transport_chat_without_key(void **state) {
  (void)state;
  setenv("HELION_LLM_PROVIDER", "openai-chat", 1);
  setenv("HELION_LLM_MODEL", "local", 1);
  setenv("HELION_LLM_API_BASE", "http://gpu-node-7:8000/v1/", 1);
  helion_llm_settings_t s = ok_settings();
  assert_string_equal(s.api_key, "");
  assert_string_equal(s.api_base, "http://gpu-node-7:8000/v1");
  char *url = helion__llm_url(&s);
  assert_string_equal(url, "http://gpu-node-7:8000/v1/chat/completions");
  free(url);
  helion_llm_settings_cleanup(&s);
  /* With a key, plain HTTP only to a loopback host. */
  setenv("OPENAI_API_KEY", KEY, 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_API_BASE=http://gpu-node-7:8000/v1/: "
                            "plain http:// would send the API key "
                            "unencrypted");
  const char *loop[] = {"http://127.0.0.1:8000", "http://localhost",
                        "http://[::1]:80/x"};
  for (size_t i = 0; i < 3; i++) {
    setenv("HELION_LLM_API_BASE", loop[i], 1);
    s = ok_settings();
    helion_llm_settings_cleanup(&s);
  }
  setenv("HELION_LLM_API_BASE", "http://127.0.0.1.evil.example", 1);
  s = ok_settings(); /* "127." prefix: a loopback address by its name */
  helion_llm_settings_cleanup(&s);
  setenv("HELION_LLM_API_BASE", "http://localhost.evil.example", 1);
  refused(HELION_ERR_USAGE, "plain http://");
  setenv("HELION_LLM_API_BASE", "ftp://host", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_API_BASE=ftp://host: expected an "
                            "https:// URL");
  setenv("HELION_LLM_API_BASE", "https://host/x?y=1", 1);
  refused(HELION_ERR_USAGE, "no spaces, query or fragment");
}

static void test_llm_transport_base_order(void **state) {
  (void)state;
  setenv("HELION_LLM_API_KEY", KEY, 1);
  setenv("OPENAI_API_BASE", "https://c.example", 1);
  helion_llm_settings_t s = ok_settings();
  assert_string_equal(s.api_base, "https://c.example");
  helion_llm_settings_cleanup(&s);
  setenv("OPENAI_BASE_URL", "https://b.example//", 1);
  s = ok_settings();
  assert_string_equal(s.api_base, "https://b.example");
  helion_llm_settings_cleanup(&s);
  setenv("HELION_LLM_API_BASE", "", 1); /* empty falls through */
  s = ok_settings();
  assert_string_equal(s.api_base, "https://b.example");
  helion_llm_settings_cleanup(&s);
  setenv("HELION_LLM_API_BASE", "https://a.example/", 1);
  s = ok_settings();
  assert_string_equal(s.api_base, "https://a.example");
  helion_llm_settings_cleanup(&s);
  /* Anthropic reads its own variable, not OpenAI's. */
  unsetenv("HELION_LLM_API_BASE");
  setenv("HELION_LLM_MODEL", "claude-sonnet-4-5", 1);
  s = ok_settings();
  assert_string_equal(s.api_base, "https://api.anthropic.com");
  helion_llm_settings_cleanup(&s);
  setenv("ANTHROPIC_BASE_URL", "https://proxy.example/anthropic/v1/messages",
         1);
  s = ok_settings();
  char *url = helion__llm_url(&s);
  assert_string_equal(url, "https://proxy.example/anthropic/v1/messages");
  free(url);
  helion_llm_settings_cleanup(&s);
}

static void test_llm_transport_url(void **state) {
  (void)state;
  static const struct {
    helion_llm_provider p;
    const char *base, *url;
  } cases[] = {
      {HELION_LLM_OPENAI, "https://h", "https://h/v1/responses"},
      {HELION_LLM_OPENAI, "https://h/v1", "https://h/v1/responses"},
      {HELION_LLM_OPENAI, "https://h/v1/responses", "https://h/v1/responses"},
      {HELION_LLM_OPENAI, "https://h/openai/responses",
       "https://h/openai/responses"},
      {HELION_LLM_OPENAI, "https://h/api/", "https://h/api/v1/responses"},
      {HELION_LLM_ANTHROPIC, "https://h/v1", "https://h/v1/messages"},
      {HELION_LLM_ANTHROPIC, "https://h/messages", "https://h/messages"},
      {HELION_LLM_OPENAI_CHAT, "https://h", "https://h/v1/chat/completions"},
      {HELION_LLM_OPENAI_CHAT, "https://h/v1/chat/completions",
       "https://h/v1/chat/completions"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    helion_llm_settings_t s;
    memset(&s, 0, sizeof s);
    s.provider = cases[i].p;
    s.api_base = (char *)cases[i].base;
    char *url = helion__llm_url(&s);
    assert_string_equal(url, cases[i].url);
    free(url);
  }
}

static void test_llm_transport_effort_timeout(void **state) {
  (void)state;
  setenv("HELION_LLM_API_KEY", KEY, 1);
  static const char *const in[] = {"HIGH", " low ", "Medium", "max", "none",
                                   "0",    "False", "no",     "off", ""};
  static const char *const out[] = {"high", "low",  "medium", "max",  "none",
                                    "none", "none", "none",   "none", "none"};
  for (size_t i = 0; i < 10; i++) {
    setenv("HELION_LLM_EFFORT_LEVEL", in[i], 1);
    helion_llm_settings_t s = ok_settings();
    assert_string_equal(s.effort, out[i]);
    helion_llm_settings_cleanup(&s);
  }
  setenv("HELION_LLM_EFFORT_LEVEL", "extreme", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_EFFORT_LEVEL=extreme: expected none, "
                            "low, medium, high or max");
  unsetenv("HELION_LLM_EFFORT_LEVEL");
  setenv("HELION_LLM_TIMEOUT_S", "0.25", 1);
  helion_llm_settings_t s = ok_settings();
  assert_true(s.timeout_s == 0.25);
  helion_llm_settings_cleanup(&s);
  const char *bad[] = {"0", "-1", "abc", "inf", "nan", "10s", "1e9"};
  for (size_t i = 0; i < 7; i++) {
    setenv("HELION_LLM_TIMEOUT_S", bad[i], 1);
    refused(HELION_ERR_USAGE, "HELION_LLM_TIMEOUT_S=");
  }
}

static void test_llm_transport_extra_headers(void **state) {
  (void)state;
  helion__llm_header_t *h = NULL;
  size_t n = 0;
  helion_err_t err = {{0}};
  assert_int_equal(
      helion__llm_headers_parse(
          " {\"X-A\": \"1\", \"X-B\": 2, \" X-C \": \" c \"}", &h, &n, &err),
      HELION_OK);
  assert_int_equal(n, 3);
  assert_string_equal(h[0].name, "X-A");
  assert_string_equal(h[0].value, "1");
  assert_string_equal(h[1].value, "2");
  assert_string_equal(h[2].name, "X-C");
  assert_string_equal(h[2].value, "c");
  helion__llm_headers_free(h, n);
  assert_int_equal(
      helion__llm_headers_parse("X-A: a: b\n\nno colon here\r\n  X-B :  \r\n",
                                &h, &n, &err),
      HELION_OK);
  assert_int_equal(n, 2);
  assert_string_equal(h[0].value, "a: b");
  assert_string_equal(h[1].name, "X-B");
  assert_string_equal(h[1].value, "");
  helion__llm_headers_free(h, n);
  assert_int_equal(helion__llm_headers_parse(NULL, &h, &n, &err), HELION_OK);
  assert_int_equal(n, 0);
  helion__llm_headers_free(h, n);

  /* Refused through the settings: the message names the header, never the
   * value. */
  setenv("HELION_LLM_API_KEY", KEY, 1);
  static const struct {
    const char *spec, *needle;
  } bad[] = {
      {"Authorization: Bearer " KEY, "header 'Authorization' is set by "
                                     "helion-tune itself"},
      {"{\"x-api-key\": \"" KEY "\"}", "header 'x-api-key' is set by"},
      {"content-TYPE: text/plain", "header 'content-TYPE' is set by"},
      {"Host: " KEY, "header 'Host' is set by"},
      {"Bad Name: " KEY, "header 'Bad Name': not a valid HTTP header name"},
      {"{\"X-A\": [\"" KEY "\"]}", "header 'X-A': the value is array"},
      {"{\"X-A\": \"a\\nX-Evil: " KEY "\"}",
       "the value of header 'X-A' holds a "
       "control character"},
      {"{\"X-A\": \"" KEY "\"", "starts with '{' but is not a JSON object"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv("HELION_LLM_EXTRA_HEADERS", bad[i].spec, 1);
    refused(HELION_ERR_USAGE, bad[i].needle);
  }
  setenv("HELION_LLM_EXTRA_HEADERS", "X-Tenant: t1", 1);
  helion_llm_settings_t s = ok_settings();
  assert_string_equal(s.extra_headers, "X-Tenant: t1");
  helion_llm_settings_cleanup(&s);
}

static void test_llm_transport_tls_files(void **state) {
  (void)state;
  setenv("HELION_LLM_API_KEY", KEY, 1);
  char dir[] = "/tmp/helion_llm_unit.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char pem[64];
  snprintf(pem, sizeof pem, "%s/ca.pem", dir);
  FILE *f = fopen(pem, "w");
  assert_non_null(f);
  fputs("not checked here\n", f);
  fclose(f);
  setenv("CURL_CA_BUNDLE", pem, 1);
  helion_llm_settings_t s = ok_settings();
  assert_string_equal(s.ca_bundle, pem);
  helion_llm_settings_cleanup(&s);
  setenv("HELION_LLM_CA_BUNDLE", "/nonexistent/ca.pem", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_CA_BUNDLE=/nonexistent/ca.pem: "
                            "cannot read it");
  unsetenv("HELION_LLM_CA_BUNDLE");
  setenv("HELION_LLM_CLIENT_KEY", pem, 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_CLIENT_KEY is set without "
                            "HELION_LLM_CLIENT_CERT");
  setenv("HELION_LLM_CLIENT_CERT", "/nonexistent/c.pem", 1);
  refused(HELION_ERR_USAGE, "HELION_LLM_CLIENT_CERT=/nonexistent/c.pem");
  setenv("HELION_LLM_CLIENT_CERT", pem, 1);
  s = ok_settings();
  assert_string_equal(s.client_cert, pem);
  assert_string_equal(s.client_key, pem);
  helion_llm_settings_cleanup(&s);
  unlink(pem);
  rmdir(dir);
}

static void test_llm_transport_redact(void **state) {
  (void)state;
  helion_llm_settings_t s;
  memset(&s, 0, sizeof s);
  s.api_key = (char *)KEY;
  char buf[200] = "a " KEY " b " KEY KEY " c sk-unit-0123";
  helion_llm_redact(&s, buf);
  assert_string_equal(buf,
                      "a [redacted] b [redacted][redacted] c sk-unit-0123");
  s.api_key = (char *)"abc"; /* shorter than the mark: the text must not grow */
  strcpy(buf, "xabcx abc");
  helion_llm_redact(&s, buf);
  assert_string_equal(buf, "x***x ***");
  s.api_key = (char *)"";
  helion_llm_redact(&s, buf);
  assert_string_equal(buf, "x***x ***");
  helion_llm_redact(NULL, buf);
  helion_llm_redact(&s, NULL);
}

static void test_llm_transport_request_errors(void **state) {
  (void)state;
  setenv("HELION_LLM_API_KEY", KEY, 1);
  setenv("HELION_LLM_API_BASE", "http://127.0.0.1:1", 1);
  setenv("HELION_LLM_TIMEOUT_S", "5", 1);
  helion_llm_settings_t s = ok_settings();
  helion_err_t err = {{0}};
  char *text = NULL;
  helion_llm_message_t msgs[] = {{"system", "s"}, {"user", "hello"}};
  helion_status rc = helion_llm_request(&s, msgs, 2, &text, &err);
  assert_int_equal(rc, HELION_ERR_IO);
  assert_null(text);
  const char *want = "request to http://127.0.0.1:1/v1/responses failed: ";
  if (strncmp(err.msg, want, strlen(want)) != 0)
    fail_msg("unexpected message: %s", err.msg);
  assert_null(strstr(err.msg, KEY));
  /* Messages the request refuses before any network. */
  assert_int_equal(helion_llm_request(&s, msgs, 1, &text, &err),
                   HELION_ERR_USAGE);
  assert_string_equal(err.msg, "an LLM request needs a user message");
  helion_llm_message_t bad[] = {{"tool", "x"}};
  assert_int_equal(helion_llm_request(&s, bad, 1, &text, &err),
                   HELION_ERR_USAGE);
  assert_non_null(strstr(err.msg, "LLM message 0: expected a role"));
  helion_llm_settings_cleanup(&s);
  assert_int_equal(helion_llm_request(&s, msgs, 2, &text, &err),
                   HELION_ERR_USAGE);
  assert_null(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, clear_env, clear_env)
      T(test_llm_transport_defaults),
      T(test_llm_transport_key_order),
      T(test_llm_transport_provider),
      T(test_llm_transport_chat_without_key),
      T(test_llm_transport_base_order),
      T(test_llm_transport_url),
      T(test_llm_transport_effort_timeout),
      T(test_llm_transport_extra_headers),
      T(test_llm_transport_tls_files),
      T(test_llm_transport_redact),
      T(test_llm_transport_request_errors),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
