/*
 * http.c: the libcurl plumbing shared by the tool's HTTP clients (see
 * http.h): global start-up, secret-zeroing header lists, the common options
 * with TLS verification always on, TLS settings from the environment, and
 * redaction.
 */
#define _POSIX_C_SOURCE 200809L
#include "llm/http.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void) {
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

helion_status helion_http_start(helion_err_t *err) {
  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK)
    return helion_err_set(err, HELION_ERR_IO, "libcurl did not start: %s",
                          curl_easy_strerror(global_rc));
  return HELION_OK;
}

static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

static helion_status check_file(const char *var, const char *path,
                                helion_err_t *err) {
  if (access(path, R_OK) != 0)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s=%s: cannot read it (%s); name a PEM file or "
                          "unset the variable",
                          var, path, strerror(errno));
  return HELION_OK;
}

helion_status helion_http_tls_from_env(const char *prefix,
                                       helion_http_tls_t *out,
                                       helion_err_t *err) {
  char ca_var[96], cert_var[96], key_var[96];
  snprintf(ca_var, sizeof ca_var, "%s_CA_BUNDLE", prefix);
  snprintf(cert_var, sizeof cert_var, "%s_CLIENT_CERT", prefix);
  snprintf(key_var, sizeof key_var, "%s_CLIENT_KEY", prefix);
  const char *var = ca_var;
  const char *ca = env_nonempty(var);
  if (!ca) {
    var = "CURL_CA_BUNDLE";
    ca = env_nonempty(var);
  }
  helion_status rc = HELION_OK;
  if (ca && (rc = check_file(var, ca, err)))
    return rc;
  const char *cert = env_nonempty(cert_var);
  const char *key = env_nonempty(key_var);
  if (key && !cert)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s is set without %s; set both (or the "
                          "certificate alone, a PEM holding both)",
                          key_var, cert_var);
  if ((cert && (rc = check_file(cert_var, cert, err))) ||
      (key && (rc = check_file(key_var, key, err))))
    return rc;
  helion_http_tls_t t = {NULL, NULL, NULL};
  if ((ca && !(t.ca_bundle = helion_strdup(ca))) ||
      (cert && !(t.client_cert = helion_strdup(cert))) ||
      (key && !(t.client_key = helion_strdup(key)))) {
    helion_http_tls_cleanup(&t);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  *out = t;
  return HELION_OK;
}

void helion_http_tls_cleanup(helion_http_tls_t *t) {
  if (!t)
    return;
  free(t->ca_bundle);
  free(t->client_cert);
  free(t->client_key);
  memset(t, 0, sizeof *t);
}

bool helion_http_header_add(struct curl_slist **l, const char *name,
                            const char *value) {
  size_t len = strlen(name) + strlen(value) + 3;
  char *line = malloc(len);
  if (!line)
    return false;
  if (*value)
    snprintf(line, len, "%s: %s", name, value);
  else
    snprintf(line, len, "%s;", name);
  struct curl_slist *nl = curl_slist_append(*l, line);
  memset(line, 0, len);
  free(line);
  if (!nl)
    return false;
  *l = nl;
  return true;
}

void helion_http_headers_free(struct curl_slist *l) {
  for (struct curl_slist *p = l; p; p = p->next)
    if (p->data)
      memset(p->data, 0, strlen(p->data));
  curl_slist_free_all(l);
}

static long to_ms(double s) {
  double ms = ceil(s * 1000.0);
  return ms < 1 ? 1 : ms > 86400000.0 ? 86400000L : (long)ms;
}

CURLcode helion_http_setopts(CURL *curl, const char *url, char *errbuf,
                             const helion_http_tls_t *tls, double connect_s,
                             double total_s) {
  CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                          \
  if (cc == CURLE_OK)                                                          \
  cc = curl_easy_setopt(curl, opt, val)
  SET(CURLOPT_URL, url);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SET(CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is an error, not a hop */
  SET(CURLOPT_USERAGENT, "helion-tune/" HELION_VERSION_STRING);
  SET(CURLOPT_TIMEOUT_MS, to_ms(total_s));
  SET(CURLOPT_CONNECTTIMEOUT_MS, to_ms(connect_s));
  /* Verification is never off: the peer's chain and its name (VERIFYHOST 2
   * is libcurl's "check the name"; 1 means the same since 7.66). */
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  if (tls && tls->ca_bundle)
    SET(CURLOPT_CAINFO, tls->ca_bundle);
  if (tls && tls->client_cert) {
    SET(CURLOPT_SSLCERT, tls->client_cert);
    SET(CURLOPT_SSLCERTTYPE, "PEM");
    SET(CURLOPT_SSLKEY, tls->client_key ? tls->client_key : tls->client_cert);
    SET(CURLOPT_SSLKEYTYPE, "PEM");
  }
#undef SET
  return cc;
}

void helion_http_redact(const char *secret, char *buf) {
  if (!secret || !buf)
    return;
  size_t k = strlen(secret);
  if (k == 0)
    return;
  static const char mark[] = "[redacted]";
  size_t m = k >= sizeof mark - 1 ? sizeof mark - 1 : k;
  char *w = buf;
  for (char *r = buf; *r;) {
    if (strncmp(r, secret, k) == 0) {
      for (size_t i = 0; i < m; i++)
        *w++ = k < sizeof mark - 1 ? '*' : mark[i];
      r += k;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
}
