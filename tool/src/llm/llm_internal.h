/*
 * llm_internal.h: what llm_settings.c and llm_transport.c share and nothing
 * outside llm/ uses: the parsed HELION_LLM_EXTRA_HEADERS and the endpoint
 * URL of a provider.
 */
#ifndef HELION_LLM_INTERNAL_H
#define HELION_LLM_INTERNAL_H

#include <stddef.h>

#include "llm/llm.h"

typedef struct helion__llm_header {
  char *name;  /* as given (HTTP names are case-insensitive) */
  char *value; /* may hold a secret (a gateway token): never printed */
} helion__llm_header_t;

/*
 * Parses HELION_LLM_EXTRA_HEADERS: a JSON object of strings (or numbers) if
 * the trimmed text starts with '{', else "Name: value" lines (split at the
 * first ':', both sides trimmed, blank lines and lines without ':' skipped).
 * Refused (HELION_ERR_USAGE, naming the header but never its value): a name
 * that is not an HTTP token, a value with a line break or other control
 * character, and the headers the transport owns (Authorization, x-api-key,
 * Content-Type, Content-Length, Host, Transfer-Encoding, Expect): the key
 * belongs in HELION_LLM_API_KEY, where it is redacted from every message.
 * *out (free with helion__llm_headers_free) is written only on success;
 * NULL spec gives no headers.
 */
helion_status helion__llm_headers_parse(const char *spec,
                                        helion__llm_header_t **out,
                                        size_t *out_n, helion_err_t *err);
void helion__llm_headers_free(helion__llm_header_t *h, size_t n);

/*
 * The URL a request goes to (caller frees): base with "/v1/<endpoint>"
 * appended, unless it already ends with "/v1/<endpoint>" or "/<endpoint>"
 * (used as is) or with "/v1" (then "/<endpoint>"); reference A6.2. NULL when
 * out of memory.
 */
char *helion__llm_url(const helion_llm_settings_t *s);

#endif /* HELION_LLM_INTERNAL_H */
