/*
 * llm.h: what the LLM-guided searches (DESIGN.md §2, `llm_*`) share: the
 * provider settings read from the environment, one request to a provider
 * (llm_transport.c, libcurl), the context a prompt is built from, and the
 * prompts and the parsing of a response (llm_prompt.c).
 *
 * Layering: llm/ sits after backend/ and before search/: it knows specs and
 * spaces (model/), never CUDA; the searches (search/search_llm.c) call it.
 *
 * Secrets: the API key lives only in helion_llm_settings_t.api_key. No
 * function here writes it to a log line, an error message or a trace; error
 * texts that quote a provider's reply pass through helion_llm_redact().
 */
#ifndef HELION_LLM_H
#define HELION_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/space.h"
#include "util/util.h"

/* ------------------------------------------------------------ transport */

typedef enum helion_llm_provider {
  HELION_LLM_OPENAI = 0,      /* OpenAI Responses: POST {base}/v1/responses */
  HELION_LLM_ANTHROPIC = 1,   /* Anthropic Messages: POST {base}/v1/messages */
  HELION_LLM_OPENAI_CHAT = 2, /* OpenAI-compatible chat completions:
                                 POST {base}/v1/chat/completions */
} helion_llm_provider;

/* Everything a request needs; strings owned (helion_llm_settings_cleanup). */
typedef struct helion_llm_settings {
  helion_llm_provider provider;
  char *model;         /* HELION_LLM_MODEL (a "provider/" prefix removed) */
  char *api_key;       /* HELION_LLM_API_KEY, else OPENAI_API_KEY or
                          ANTHROPIC_API_KEY by provider; never printed;
                          "" (no Authorization) only for openai-chat */
  char *api_base;      /* HELION_LLM_API_BASE, else the provider's own
                          variables, else the public API; no trailing '/' */
  char *extra_headers; /* HELION_LLM_EXTRA_HEADERS as given (JSON object or
                          "Name: value" lines), or NULL */
  char *ca_bundle;     /* HELION_LLM_CA_BUNDLE (then CURL_CA_BUNDLE) or NULL */
  char *client_cert;   /* HELION_LLM_CLIENT_CERT or NULL */
  char *client_key;    /* HELION_LLM_CLIENT_KEY or NULL */
  char *effort;        /* HELION_LLM_EFFORT_LEVEL: none|low|medium|high|max
                          ("none" when unset; never NULL) */
  double timeout_s;    /* HELION_LLM_TIMEOUT_S, default 120 */
  int max_output_tokens; /* default 8192 */
} helion_llm_settings_t;

/*
 * Reads the settings from the environment (the table in README and
 * reference A7). The provider is HELION_LLM_PROVIDER (openai, anthropic,
 * openai-chat; aliases as in reference A6.1) or inferred from the model
 * name. HELION_ERR_USAGE with the variable's name for a bad value, or when
 * no API key is set (naming the variables tried); HELION_ERR_UNSUPPORTED for
 * Vertex and Bedrock. No message holds the key or an extra header's value.
 * The choices Helion leaves open (plain http://, headers the transport owns,
 * TLS files that do not exist) are listed in llm_settings.c and README.
 * Never reads a network. *out is written only on success.
 */
helion_status helion_llm_settings_from_env(helion_llm_settings_t *out,
                                           helion_err_t *err);
void helion_llm_settings_cleanup(helion_llm_settings_t *s);

typedef struct helion_llm_message {
  const char *role; /* "system", "user" or "assistant" */
  const char *text;
} helion_llm_message_t;

/*
 * One request: the messages in the provider's request shape, POSTed with TLS
 * verification always on; the model's text out of the provider's response
 * shape into *out_text (caller frees). No retries. Errors (HELION_ERR_IO for
 * the network, HELION_ERR_TIMEOUT, HELION_ERR_PARSE for a reply that is not
 * the provider's shape, HELION_ERR_INVALID for an HTTP status other than
 * 2xx (redirects are not followed), HELION_ERR_LIMIT for a reply over 8 MiB,
 * HELION_ERR_USAGE for a role other than system/user/assistant or no
 * user/assistant message) carry
 * "HTTP 401 from https://host/v1/messages: <body, redacted, at most 300
 * characters>" or "request to <url> failed: <curl's reason>". The reply and
 * every message are redacted (helion_llm_redact). Thread-safe.
 */
helion_status helion_llm_request(const helion_llm_settings_t *s,
                                 const helion_llm_message_t *msgs, size_t n,
                                 char **out_text, helion_err_t *err);

/* Replaces every occurrence of the settings' API key in buf (NUL-ended) with
 * "[redacted]" (in place; the text only shrinks or stays: a key shorter than
 * that mark becomes as many '*'). An empty key or NULL s or buf: nothing. */
void helion_llm_redact(const helion_llm_settings_t *s, char *buf);

/* ------------------------------------------------------ prompt, parsing */

/* What a prompt says about the kernel and the machine; borrowed strings. */
typedef struct helion_llm_context {
  const char *kernel_name;
  const char *source;      /* kernel source text, or NULL (a landscape) */
  const char *signature;   /* "X: const float* [M*N], ..." or NULL */
  const char *shape;       /* "M=4096,N=1024" or NULL */
  const char *device;      /* "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, ..." */
  const helion_space_t *space;
} helion_llm_context_t;

struct helion_spec;
struct helion_device_props;

/* The strings a context built by helion_llm_context_init points to; owned,
 * freed by helion_llm_context_cleanup. */
typedef struct helion_llm_context_text {
  char *source, *signature, *shape, *device;
} helion_llm_context_text_t;

/*
 * What `tune` and `simulate --spec` tell a prompt about the kernel
 * (llm_context.c): with a spec, its name, its source text (up to 64 KiB;
 * NULL when unreadable: the prompt then says so), its arguments
 * ("A: const __half* [M*K], ..., M: int = M") and, when `shape` is not
 * NULL (spec->nkeys values), the shape ("M=4096,N=4096,K=4096"); with
 * `dev`, the device ("NVIDIA H100 ..., sm_90, 132 SMs, ..."). `space` is
 * the space the search measures. Any of spec, shape, dev may be NULL: the
 * fields they would fill stay NULL and the caller may set them. *ctx
 * borrows from *text (zeroed here; freed with helion_llm_context_cleanup)
 * and from spec and space. Allocation failures leave a field NULL (the
 * prompt is context, not a result).
 */
void helion_llm_context_init(const struct helion_spec *spec,
                             const int64_t *shape,
                             const struct helion_device_props *dev,
                             const helion_space_t *space,
                             helion_llm_context_t *ctx,
                             helion_llm_context_text_t *text);

/* Frees what helion_llm_context_init wrote to *text (NULL or zeroed: no-op). */
void helion_llm_context_cleanup(helion_llm_context_text_t *text);

/* One measured config the refinement prompt reports. */
typedef struct helion_llm_result {
  const int64_t *cells; /* space->ncells values */
  double ms;            /* +inf for a failure */
  const char *failure;  /* "compile", "runtime", "accuracy", "timeout" or
                           NULL */
} helion_llm_result_t;

/* The search state a refinement prompt reports (reference A4.3). */
typedef struct helion_llm_state {
  size_t round, max_rounds;
  size_t configs_tested;
  double best_ms, default_ms;
  const helion_llm_result_t *results; /* every result so far */
  size_t nresults;
  size_t configs_per_round; /* how many configs to ask for */
} helion_llm_state_t;

/* The system prompt (static text, our own words). */
const char *helion_llm_system_prompt(void);

/* The first user prompt (reference A4.2) and a refinement prompt (A4.3),
 * appended to out, each bounded (sections truncated to fit 64 KiB). */
helion_status helion_llm_prompt_initial(const helion_llm_context_t *ctx,
                                        const helion_llm_state_t *state,
                                        helion_buf_t *out, helion_err_t *err);
helion_status helion_llm_prompt_refine(const helion_llm_context_t *ctx,
                                       const helion_llm_state_t *state,
                                       helion_buf_t *out, helion_err_t *err);

/* What parsing a response found. */
typedef struct helion_llm_parsed {
  int64_t *cells; /* nconfigs * space->ncells, owned (free()) */
  size_t nconfigs;
  size_t rejected;  /* configs that did not validate against the space */
  size_t duplicates;
  char why[256];    /* the first rejection's reason, or "" */
} helion_llm_parsed_t;

/*
 * Extracts configs from a model's text (reference A5): JSON from plain
 * text or fenced blocks, {"configs": [...]} or a bare list, Python-literal
 * spellings (True/False/None, single quotes) accepted; each sparse config
 * merged onto the space's default, validated (helion_config_from_json plus
 * the space's restrictions), deduplicated; at most `max` kept. A text with
 * no configs is not an error: nconfigs 0. HELION_ERR_NOMEM only.
 */
helion_status helion_llm_parse(const helion_space_t *space, const char *text,
                               size_t max, helion_llm_parsed_t *out,
                               helion_err_t *err);
void helion_llm_parsed_cleanup(helion_llm_parsed_t *p);

#endif /* HELION_LLM_H */
