/*
 * cache_remote.c: GET and PUT of `<hash>.best_config` files on an HTTP(S)
 * server for the cache (see cache_remote.h), over llm/http.h's libcurl
 * plumbing: TLS verification always on, short timeouts, the auth header's
 * value zeroed when freed and redacted from every message.
 */
#define _POSIX_C_SOURCE 200809L
#include "results/cache_remote.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm/http.h"
#include "results/cache.h"

#define URL_SHOWN 512

struct helion_cache_remote {
  char *prefix;             /* HELION_REMOTE_CACHE as given */
  char shown[URL_SHOWN];    /* the prefix without user:password@ */
  char *header_name;        /* NULL: no header */
  char *header_value;       /* secret */
  const char *header_token; /* in header_value: its last word, also secret */
  double timeout_s;
  helion_http_tls_t tls;
  bool dead;
};

/* ------------------------------------------------------------- parts */

char *helion__remote_url(const char *prefix, const char *hash) {
  size_t p = strlen(prefix);
  while (p > 0 && prefix[p - 1] == '/')
    p--;
  size_t n = p + strlen(hash) + sizeof(HELION_CACHE_SUFFIX) + 1;
  char *u = malloc(n);
  if (u)
    snprintf(u, n, "%.*s/%s%s", (int)p, prefix, hash, HELION_CACHE_SUFFIX);
  return u;
}

void helion__remote_display(const char *prefix, char *out, size_t cap) {
  const char *scheme = strstr(prefix, "://");
  const char *host = scheme ? scheme + 3 : prefix;
  size_t auth_end = strcspn(host, "/?#");
  const char *at = memchr(host, '@', auth_end);
  /* The last '@' of the authority ends the user information. */
  for (const char *a = at; a && a < host + auth_end;
       a = memchr(a + 1, '@', (size_t)(host + auth_end - a - 1)))
    at = a;
  if (!at)
    snprintf(out, cap, "%s", prefix);
  else
    snprintf(out, cap, "%.*s%s", (int)(host - prefix), prefix, at + 1);
}

int helion__remote_get_status(long status) {
  return status == 200 ? 1 : status == 404 ? 0 : -1;
}

/* --------------------------------------------------------- lifecycle */

static helion_status parse_header(helion_cache_remote_t *r, const char *spec,
                                  helion_err_t *err) {
  const char *colon = strchr(spec, ':');
  const char *var = "HELION_REMOTE_CACHE_HEADER";
  if (!colon || colon == spec)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s: expected \"Name: value\" (e.g. "
                          "\"Authorization: Bearer <token>\")",
                          var);
  for (const char *p = spec; p < colon; p++)
    if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s: the header name is not an HTTP token", var);
  for (const char *p = colon; *p; p++)
    if ((unsigned char)*p < 0x20 && *p != '\t')
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s: the value holds a line break or another "
                            "control character",
                            var);
  const char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  size_t vlen = strlen(v);
  while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
    vlen--;
  r->header_name = malloc((size_t)(colon - spec) + 1);
  r->header_value = malloc(vlen + 1);
  if (!r->header_name || !r->header_value)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  memcpy(r->header_name, spec, (size_t)(colon - spec));
  r->header_name[colon - spec] = '\0';
  memcpy(r->header_value, v, vlen);
  r->header_value[vlen] = '\0';
  /* "Bearer <token>": the token alone is a secret too (a server may echo
   * it); a last word under 4 characters would redact ordinary text. */
  const char *sp = strrchr(r->header_value, ' ');
  if (sp && strlen(sp + 1) >= 4)
    r->header_token = sp + 1;
  return HELION_OK;
}

helion_status helion_cache_remote_create(helion_cache_remote_t **out,
                                         helion_err_t *err) {
  const char *url = getenv("HELION_REMOTE_CACHE");
  const char *header = getenv("HELION_REMOTE_CACHE_HEADER");
  helion_status rc = HELION_OK;
  *out = NULL;
  if (!url || !*url)
    return HELION_OK;
  helion_cache_remote_t *r = calloc(1, sizeof *r);
  if (!r)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  helion__remote_display(url, r->shown, sizeof r->shown);
  size_t scheme = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
  if (!scheme || !url[scheme] || url[scheme] == '/') {
    rc = helion_err_set(err, HELION_ERR_USAGE,
                        "HELION_REMOTE_CACHE='%s': expected "
                        "http://host/prefix or https://host/prefix",
                        r->shown);
    goto out;
  }
  double t = HELION_REMOTE_CACHE_DEFAULT_TIMEOUT_S;
  bool ok;
  const char *text =
      helion_env_number("HELION_REMOTE_CACHE_TIMEOUT_S", &t, &ok);
  if (text && (!ok || !(t > 0) || t > 3600)) {
    rc = helion_err_set(err, HELION_ERR_USAGE,
                        "HELION_REMOTE_CACHE_TIMEOUT_S='%s': expected "
                        "seconds in (0, 3600]",
                        text);
    goto out;
  }
  r->timeout_s = t;
  if (!(r->prefix = helion_strdup(url))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((header && *header && (rc = parse_header(r, header, err))) ||
      (rc = helion_http_tls_from_env("HELION_REMOTE_CACHE", &r->tls, err)))
    goto out;
  *out = r;
  r = NULL;
out:
  helion_cache_remote_destroy(r);
  return rc;
}

void helion_cache_remote_destroy(helion_cache_remote_t *r) {
  if (!r)
    return;
  if (r->header_value)
    memset(r->header_value, 0, strlen(r->header_value));
  free(r->header_value);
  free(r->header_name);
  free(r->prefix);
  helion_http_tls_cleanup(&r->tls);
  free(r);
}

bool helion_cache_remote_alive(const helion_cache_remote_t *r) {
  return r && !r->dead;
}

/* ----------------------------------------------------------- requests */

/* Gives up on the remote with its one warning, "remote cache <url>: <what>
 * <hash>.best_config: <why>; going on with the local cache", the secrets
 * redacted. */
static void give_up(helion_cache_remote_t *r, const char *what,
                    const char *hash, const char *why) {
  if (!r || r->dead)
    return;
  r->dead = true;
  helion_buf_t m;
  helion_buf_init(&m, HELION_BUF_DEFAULT_MAX);
  if (helion_buf_appendf(&m,
                         "remote cache %s: %s %s%s: %s; going on with the "
                         "local cache",
                         r->shown, what, hash, HELION_CACHE_SUFFIX, why) ||
      !m.data) {
    HELION_LOG(HELION_LOG_WARN,
               "remote cache %s: out of memory; going on "
               "with the local cache",
               r->shown);
  } else {
    helion_http_redact(r->header_value, m.data);
    helion_http_redact(r->header_token, m.data);
    HELION_LOG(HELION_LOG_WARN, "%s", m.data);
  }
  helion_buf_cleanup(&m);
}

void helion_cache_remote_fail(helion_cache_remote_t *r, const char *hash,
                              const char *why) {
  give_up(r, "GET", hash, why);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
  helion_buf_t *b = ud;
  size_t n = size * nmemb;
  return helion_buf_append(b, p, n) ? 0 : n;
}

/* One request: GET (body NULL) or PUT. *out_status is the HTTP status, or 0
 * after a failure that was reported (the remote is then dead). */
static helion_status request(helion_cache_remote_t *r, const char *hash,
                             const char *body, size_t len, helion_buf_t *reply,
                             long *out_status, helion_err_t *err) {
  const char *what = body ? "PUT" : "GET";
  char curl_err[CURL_ERROR_SIZE] = "", why[HELION_ERR_MSG_MAX];
  struct curl_slist *headers = NULL;
  CURL *curl = NULL;
  helion_status rc = HELION_OK;
  char *url = helion__remote_url(r->prefix, hash);
  *out_status = 0;
  if (!url) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  helion_err_t serr = {{0}};
  if (helion_http_start(&serr)) {
    give_up(r, what, hash, serr.msg);
    goto out;
  }
  bool ok = (!r->header_name || helion_http_header_add(&headers, r->header_name,
                                                       r->header_value)) &&
            helion_http_header_add(&headers, "Expect", "") &&
            (!body || helion_http_header_add(&headers, "Content-Type",
                                             "application/json"));
  if (!ok || !(curl = curl_easy_init())) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  double connect_s = r->timeout_s < HELION_REMOTE_CACHE_CONNECT_S
                         ? r->timeout_s
                         : HELION_REMOTE_CACHE_CONNECT_S;
  CURLcode cc = helion_http_setopts(curl, url, curl_err, &r->tls, connect_s,
                                    r->timeout_s);
#define SET(opt, val)                                                          \
  if (cc == CURLE_OK)                                                          \
  cc = curl_easy_setopt(curl, opt, val)
  SET(CURLOPT_HTTPHEADER, headers);
  SET(CURLOPT_WRITEFUNCTION, on_data);
  SET(CURLOPT_WRITEDATA, reply);
  if (body) {
    SET(CURLOPT_CUSTOMREQUEST, "PUT");
    SET(CURLOPT_POSTFIELDS, body);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
#undef SET
  if (cc == CURLE_OK)
    cc = curl_easy_perform(curl);
  long status = 0;
  if (cc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (cc == CURLE_OPERATION_TIMEDOUT)
    snprintf(why, sizeof why,
             "no reply within %g s (HELION_REMOTE_CACHE_TIMEOUT_S)",
             r->timeout_s);
  else if (cc == CURLE_WRITE_ERROR)
    snprintf(why, sizeof why, "the reply is over %zu MiB",
             HELION_CACHE_FILE_MAX >> 20);
  else if (cc != CURLE_OK)
    snprintf(why, sizeof why, "%s",
             curl_err[0] ? curl_err : curl_easy_strerror(cc));
  if (cc != CURLE_OK) {
    give_up(r, what, hash, why);
    goto out;
  }
  *out_status = status;
out:
  if (curl)
    curl_easy_cleanup(curl);
  helion_http_headers_free(headers);
  free(url);
  return rc;
}

helion_status helion_cache_remote_get(helion_cache_remote_t *r,
                                      const char *hash, char **out_body,
                                      size_t *out_len, helion_err_t *err) {
  helion_buf_t reply;
  helion_buf_init(&reply, HELION_CACHE_FILE_MAX);
  long status = 0;
  helion_status rc = HELION_OK;
  *out_body = NULL;
  *out_len = 0;
  if (!helion_cache_remote_alive(r) ||
      (rc = request(r, hash, NULL, 0, &reply, &status, err)) || !status)
    goto out;
  int found = helion__remote_get_status(status);
  if (found < 0) {
    char why[64];
    snprintf(why, sizeof why, "HTTP %ld", status);
    give_up(r, "GET", hash, why);
  } else if (found) {
    size_t n = reply.len;
    if (!(*out_body = helion_buf_take(&reply)))
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    else
      *out_len = n;
  }
out:
  helion_buf_cleanup(&reply);
  return rc;
}

helion_status helion_cache_remote_put(helion_cache_remote_t *r,
                                      const char *hash, const char *body,
                                      size_t len, helion_err_t *err) {
  helion_buf_t reply;
  helion_buf_init(&reply, HELION_CACHE_FILE_MAX);
  long status = 0;
  helion_status rc = HELION_OK;
  if (!helion_cache_remote_alive(r) ||
      (rc = request(r, hash, body, len, &reply, &status, err)) || !status)
    goto out;
  if (status < 200 || status > 299) {
    char why[64];
    snprintf(why, sizeof why, "HTTP %ld", status);
    give_up(r, "PUT", hash, why);
  } else {
    HELION_LOG(HELION_LOG_DEBUG, "Stored %s%s in the remote cache %s", hash,
               HELION_CACHE_SUFFIX, r->shown);
  }
out:
  helion_buf_cleanup(&reply);
  return rc;
}
