/*
 * cache_remote.h: the remote layer of the best-config cache (DESIGN.md §7,
 * scale-out; the layout of ccache's HTTP storage): `GET` and `PUT` of
 * `{prefix}/<sha256>.best_config` over plain HTTP(S), so a fleet shares what
 * any machine tuned. cache.c reads through it on a local miss and writes
 * back after a local write; the checks of a body are cache.c's.
 *
 * Environment (read by helion_cache_remote_create):
 *   HELION_REMOTE_CACHE          http://host/prefix or https://host/prefix;
 *                                unset or empty: no remote.
 *   HELION_REMOTE_CACHE_HEADER   one "Name: value" header sent with every
 *                                request ("Authorization: Bearer <token>");
 *                                the value never appears in a message.
 *   HELION_REMOTE_CACHE_TIMEOUT_S  whole request limit, seconds (default 10;
 *                                the connection gets min(2, this)).
 *   HELION_REMOTE_CACHE_CA_BUNDLE (then CURL_CA_BUNDLE),
 *   HELION_REMOTE_CACHE_CLIENT_CERT, HELION_REMOTE_CACHE_CLIENT_KEY:
 *                                TLS trust and client identity, read as the
 *                                LLM transport reads its own (llm/http.h);
 *                                verification is never off.
 *
 * Failures of the remote are never errors of the run: the first one (no
 * connection, a timeout, an HTTP status other than 200/404 for a GET or
 * 2xx for a PUT, a body that is not a best_config) is logged once as
 * "remote cache <url>: <why>; going on with the local cache", and the
 * remote is not asked again by that helion_cache_remote_t.
 *
 * Thread-safety: one remote is used by one thread at a time (the "given up"
 * flag is not locked); separate remotes are independent.
 */
#ifndef HELION_CACHE_REMOTE_H
#define HELION_CACHE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

#define HELION_REMOTE_CACHE_DEFAULT_TIMEOUT_S 10.0
#define HELION_REMOTE_CACHE_CONNECT_S 2.0

typedef struct helion_cache_remote helion_cache_remote_t;

/*
 * Reads the environment above. *out = NULL when HELION_REMOTE_CACHE is
 * unset or empty. Free with helion_cache_remote_destroy(). HELION_ERR_USAGE
 * naming the variable (never the header's value) for a URL that is not
 * http(s)://host..., a header that is not "Name: value" or holds a line
 * break, a timeout that is not a number in (0, 3600], or an unreadable TLS
 * file; HELION_ERR_NOMEM.
 */
helion_status helion_cache_remote_create(helion_cache_remote_t **out,
                                         helion_err_t *err);
/* Frees the remote (its secret zeroed first); NULL ok. */
void helion_cache_remote_destroy(helion_cache_remote_t *r);

/* Whether the remote is still asked (false after its first failure). */
bool helion_cache_remote_alive(const helion_cache_remote_t *r);

/*
 * GET {prefix}/<hash>.best_config. On 200 *out_body (NUL-terminated, caller
 * frees with free()) and *out_len are set; on 404, after a failure, or when
 * the remote has given up, *out_body = NULL. Errors: HELION_ERR_NOMEM only.
 */
helion_status helion_cache_remote_get(helion_cache_remote_t *r,
                                      const char *hash, char **out_body,
                                      size_t *out_len, helion_err_t *err);

/* PUT the body to {prefix}/<hash>.best_config; a failure is the one
 * warning. Errors: HELION_ERR_NOMEM only. */
helion_status helion_cache_remote_put(helion_cache_remote_t *r,
                                      const char *hash, const char *body,
                                      size_t len, helion_err_t *err);

/* Gives up on the remote with the one warning (a body that cache.c found
 * not to be a best_config): "GET <hash>.best_config: <why>". */
void helion_cache_remote_fail(helion_cache_remote_t *r, const char *hash,
                              const char *why);

/* ------------------------------------------------ parts, for the tests */

/* `{prefix}/<hash>.best_config` (one '/' between them whatever the prefix
 * ends with); caller frees. NULL when out of memory. */
char *helion__remote_url(const char *prefix, const char *hash);

/* The prefix as messages show it: without "user:password@". Writes at most
 * cap bytes. */
void helion__remote_display(const char *prefix, char *out, size_t cap);

/* What a GET's HTTP status means: 1 found (200), 0 a plain miss (404), -1
 * a failure of the remote (anything else). */
int helion__remote_get_status(long status);

#endif /* HELION_CACHE_REMOTE_H */
