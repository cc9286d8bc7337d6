/*
 * http.h: the libcurl plumbing every HTTP client of the tool shares (the LLM
 * transport, llm_transport.c, and the remote cache, results/cache_remote.c),
 * so TLS, secrets and limits are handled one way: curl's global start-up
 * once, header lists whose lines are zeroed before they are freed, the
 * options every request gets (TLS verification always on, http/https only,
 * no redirects, no signals, timeouts), the CA bundle and client certificate
 * read from the environment, and the redaction of a secret from a text.
 *
 * Thread-safety: every function may be called from any thread; a CURL
 * handle or header list is the caller's and not shared.
 */
#ifndef HELION_HTTP_H
#define HELION_HTTP_H

#include <stdbool.h>

#include <curl/curl.h>

#include "util/util.h"

/* Where TLS trust and the client's identity come from; NULL: none (the
 * system's CA store, no client certificate). Owned by whoever filled it. */
typedef struct helion_http_tls {
  char *ca_bundle;   /* PEM file of trusted CAs */
  char *client_cert; /* PEM client certificate (may hold the key too) */
  char *client_key;  /* PEM key of client_cert, or NULL */
} helion_http_tls_t;

/*
 * Reads <prefix>_CA_BUNDLE (then CURL_CA_BUNDLE), <prefix>_CLIENT_CERT and
 * <prefix>_CLIENT_KEY (empty means unset) into *out, each an owned copy (free
 * with helion_http_tls_cleanup). HELION_ERR_USAGE naming the variable when a
 * named file cannot be read or a key is given without a certificate;
 * HELION_ERR_NOMEM. *out is written only on success.
 */
helion_status helion_http_tls_from_env(const char *prefix,
                                       helion_http_tls_t *out,
                                       helion_err_t *err);
/* Frees what helion_http_tls_from_env() filled; accepts a zeroed struct. */
void helion_http_tls_cleanup(helion_http_tls_t *t);

/* curl_global_init, once per process. HELION_ERR_IO when libcurl does not
 * start. */
helion_status helion_http_start(helion_err_t *err);

/* Appends "name: value" to the list (an empty value as "name;", curl's
 * spelling, which removes a header curl would add). The temporary line is
 * zeroed. false when out of memory (the list is as it was). */
bool helion_http_header_add(struct curl_slist **l, const char *name,
                            const char *value);
/* Zeroes every line (they may hold a secret) and frees the list; NULL ok. */
void helion_http_headers_free(struct curl_slist *l);

/*
 * The options every request of the tool gets: the URL, no signals, curl's
 * message into errbuf (CURL_ERROR_SIZE bytes), http and https only, no
 * redirects, the user agent, TLS verification of the peer and its name
 * (never off), `tls` (may be NULL), and the timeouts in milliseconds (at
 * least 1). Returns the first option curl refused, or CURLE_OK.
 */
CURLcode helion_http_setopts(CURL *curl, const char *url, char *errbuf,
                             const helion_http_tls_t *tls, double connect_s,
                             double total_s);

/*
 * Replaces every occurrence of `secret` in buf (NUL-terminated) by
 * "[redacted]", or by as many '*' as the secret has characters when it is
 * shorter, so the text never grows. NULL or empty secret or buf: nothing.
 */
void helion_http_redact(const char *secret, char *buf);

#endif /* HELION_HTTP_H */
