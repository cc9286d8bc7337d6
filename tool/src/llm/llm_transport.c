/*
 * llm_transport.c: one request to an LLM provider over HTTPS with libcurl
 * (reference A6.3, A6.4, A6.6, A8, A10): the provider's JSON body built with
 * cJSON, POSTed with TLS verification always on, the model's text taken out
 * of the provider's reply shape. No retries: every failure goes back to the
 * caller (a wrong key or a missing client certificate must not be masked).
 *
 * Thread safety: curl_global_init runs once (pthread_once); each request has
 * its own easy handle and buffers. Signals: CURLOPT_NOSIGNAL, so a timeout
 * never raises SIGALRM in a threaded process.
 *
 * Secrets: the key is in the settings and in the header list of the request
 * in flight (zeroed before it is freed). The reply is redacted as soon as it
 * arrives, and every error message once more before it is returned.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm/http.h"
#include "llm/llm_internal.h"
#include "util/json.h"

/* Replies larger than this are refused (a reply holds a few configs). */
#define MAX_REPLY_BYTES ((size_t)8 << 20)
/* How much of an error reply a message quotes. */
#define EXCERPT_CHARS 300

/* ---------------------------------------------------------------- bodies */

/* The system messages joined with "\n\n" (reference A6.4: hoisted). */
static helion_status join_system(const helion_llm_message_t *msgs, size_t n,
                                 helion_buf_t *out) {
  helion_status rc = HELION_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    if (strcmp(msgs[i].role, "system") != 0)
      continue;
    if (out->len && (rc = helion_buf_puts(out, "\n\n")))
      break;
    rc = helion_buf_puts(out, msgs[i].text);
  }
  return rc;
}

/* The Claude family and version of a model name: the regex
 * ^claude-([a-z]+)-(\d+)(?:-(\d{1,2})(?=\D|$))? after anything up to the
 * last "anthropic." (reference A6.5). false when it does not match. */
static bool claude_version(const char *model, char fam[16], int *version) {
  const char *m = model, *a;
  while ((a = strstr(m, "anthropic.")))
    m = a + strlen("anthropic.");
  if (strncmp(m, "claude-", 7) != 0)
    return false;
  m += 7;
  size_t f = 0;
  while (m[f] >= 'a' && m[f] <= 'z')
    f++;
  if (f == 0 || f >= 16 || m[f] != '-' || !(m[f + 1] >= '0' && m[f + 1] <= '9'))
    return false;
  memcpy(fam, m, f);
  fam[f] = '\0';
  m += f + 1;
  int major = 0, minor = 0;
  while (*m >= '0' && *m <= '9' && major < 1000)
    major = major * 10 + (*m++ - '0');
  if (*m == '-' && m[1] >= '0' && m[1] <= '9') {
    size_t d = 1;
    while (m[1 + d] >= '0' && m[1 + d] <= '9')
      d++;
    if (d <= 2)
      minor = d == 1 ? m[1] - '0' : (m[1] - '0') * 10 + (m[2] - '0');
  }
  *version = major * 100 + minor;
  return true;
}

static int thinking_budget(const char *effort) {
  if (!strcmp(effort, "low"))
    return 1024;
  if (!strcmp(effort, "medium"))
    return 4096;
  if (!strcmp(effort, "high"))
    return 8192;
  return 24000; /* max */
}

static bool effort_set(const helion_llm_settings_t *s) {
  return s->effort && *s->effort && strcmp(s->effort, "none") != 0;
}

/* Adds a string member; false when out of memory. */
static bool add_str(cJSON *o, const char *k, const char *v) {
  return cJSON_AddStringToObject(o, k, v) != NULL;
}

static bool add_num(cJSON *o, const char *k, double v) {
  return cJSON_AddNumberToObject(o, k, v) != NULL;
}

/* OpenAI Responses: model, input, max_output_tokens, reasoning, instructions
 * (in this order, as Helion sends them). */
static bool body_openai(const helion_llm_settings_t *s,
                        const helion_llm_message_t *msgs, size_t n,
                        const char *system, cJSON *root) {
  cJSON *input;
  if (!add_str(root, "model", s->model) ||
      !(input = cJSON_AddArrayToObject(root, "input")))
    return false;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(msgs[i].role, "system"))
      continue;
    bool assistant = !strcmp(msgs[i].role, "assistant");
    cJSON *item = cJSON_CreateObject(), *content, *part;
    if (!item || !cJSON_AddItemToArray(input, item))
      return cJSON_Delete(item), false;
    if (!add_str(item, "role", msgs[i].role) ||
        !(content = cJSON_AddArrayToObject(item, "content")) ||
        !(part = cJSON_CreateObject()) ||
        !cJSON_AddItemToArray(content, part) ||
        !add_str(part, "type", assistant ? "output_text" : "input_text") ||
        !add_str(part, "text", msgs[i].text))
      return false;
  }
  if (!add_num(root, "max_output_tokens", s->max_output_tokens))
    return false;
  if (effort_set(s)) {
    const char *e = s->effort;
    if (!strcmp(e, "max"))
      e = (!strcmp(s->model, "gpt-5.1-codex-max") ||
           !strcmp(s->model, "gpt-5.4") || !strcmp(s->model, "gpt-5.5"))
              ? "xhigh"
              : "high";
    cJSON *r = cJSON_AddObjectToObject(root, "reasoning");
    if (!r || !add_str(r, "effort", e))
      return false;
  }
  return !*system || add_str(root, "instructions", system);
}

/* Anthropic Messages: model, messages, max_tokens, thinking/output_config or
 * temperature, system. */
static bool body_anthropic(const helion_llm_settings_t *s,
                           const helion_llm_message_t *msgs, size_t n,
                           const char *system, cJSON *root) {
  cJSON *arr;
  if (!add_str(root, "model", s->model) ||
      !(arr = cJSON_AddArrayToObject(root, "messages")))
    return false;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(msgs[i].role, "system"))
      continue;
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddItemToArray(arr, m))
      return cJSON_Delete(m), false;
    if (!add_str(m, "role", msgs[i].role) ||
        !add_str(m, "content", msgs[i].text))
      return false;
  }
  char fam[16] = "";
  int version = 0;
  bool known = claude_version(s->model, fam, &version);
  bool thinking = effort_set(s);
  int budget = thinking ? thinking_budget(s->effort) : 0;
  if (!add_num(root, "max_tokens", (double)budget + s->max_output_tokens))
    return false;
  if (thinking) {
    bool adaptive = known && ((!strcmp(fam, "opus") && version >= 405) ||
                              (!strcmp(fam, "sonnet") && version >= 406));
    cJSON *t = cJSON_AddObjectToObject(root, "thinking");
    if (!t)
      return false;
    if (adaptive) {
      cJSON *oc;
      if (!add_str(t, "type", "adaptive") ||
          !(oc = cJSON_AddObjectToObject(root, "output_config")) ||
          !add_str(oc, "effort", s->effort))
        return false;
    } else if (!add_str(t, "type", "enabled") ||
               !add_num(t, "budget_tokens", budget)) {
      return false;
    }
  } else if (!(known && !strcmp(fam, "opus") && version >= 407) &&
             !add_num(root, "temperature", 0.3)) {
    return false; /* opus >= 4.7 rejects a temperature */
  }
  return !*system || add_str(root, "system", system);
}

/* OpenAI-compatible chat completions: model, messages (the system text
 * first), max_tokens. No effort: servers differ in what they accept. */
static bool body_chat(const helion_llm_settings_t *s,
                      const helion_llm_message_t *msgs, size_t n,
                      const char *system, cJSON *root) {
  cJSON *arr;
  if (!add_str(root, "model", s->model) ||
      !(arr = cJSON_AddArrayToObject(root, "messages")))
    return false;
  for (size_t i = 0; i <= n; i++) {
    const char *role = i == 0 ? "system" : msgs[i - 1].role;
    const char *text = i == 0 ? system : msgs[i - 1].text;
    if ((i == 0 && !*system) || (i > 0 && !strcmp(role, "system")))
      continue;
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddItemToArray(arr, m))
      return cJSON_Delete(m), false;
    if (!add_str(m, "role", role) || !add_str(m, "content", text))
      return false;
  }
  return add_num(root, "max_tokens", s->max_output_tokens);
}

/* --------------------------------------------------------------- headers */

typedef struct header_list {
  helion__llm_header_t *h; /* borrowed names and values */
  size_t n;
} header_list_t;

/* The provider's headers, then the extra ones (an extra header with the name
 * of a provider header, anthropic-version say, replaces it). */
static helion_status build_headers(const helion_llm_settings_t *s,
                                   struct curl_slist **out, helion_err_t *err) {
  helion__llm_header_t *extra = NULL;
  size_t nextra = 0;
  helion_status rc =
      helion__llm_headers_parse(s->extra_headers, &extra, &nextra, err);
  if (rc)
    return rc;
  char *auth = NULL;
  struct {
    const char *name, *value;
  } base[4];
  size_t nbase = 0;
  const char *key = s->api_key ? s->api_key : "";
  if (s->provider == HELION_LLM_ANTHROPIC) {
    base[nbase].name = "content-type";
    base[nbase++].value = "application/json";
    base[nbase].name = "anthropic-version";
    base[nbase++].value = "2023-06-01";
    base[nbase].name = "x-api-key";
    base[nbase++].value = key;
  } else {
    if (*key) {
      size_t len = strlen(key) + 8;
      if (!(auth = malloc(len))) {
        rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
        goto out;
      }
      snprintf(auth, len, "Bearer %s", key);
      base[nbase].name = "Authorization";
      base[nbase++].value = auth;
    }
    base[nbase].name = "Content-Type";
    base[nbase++].value = "application/json";
  }
  struct curl_slist *l = NULL;
  bool ok = true;
  for (size_t i = 0; i < nbase && ok; i++) {
    const char *v = base[i].value;
    for (size_t j = 0; j < nextra; j++)
      if (!strcasecmp(extra[j].name, base[i].name))
        v = extra[j].value;
    ok = helion_http_header_add(&l, base[i].name, v);
  }
  for (size_t j = 0; j < nextra && ok; j++) {
    bool replaced = false;
    for (size_t i = 0; i < nbase; i++)
      replaced = replaced || !strcasecmp(extra[j].name, base[i].name);
    /* Later duplicates of one name win, as in a dict. */
    for (size_t k = j + 1; k < nextra; k++)
      replaced = replaced || !strcasecmp(extra[j].name, extra[k].name);
    if (!replaced)
      ok = helion_http_header_add(&l, extra[j].name, extra[j].value);
  }
  /* No "Expect: 100-continue" round trip; the reply is JSON. */
  ok = ok && helion_http_header_add(&l, "Expect", "") &&
       helion_http_header_add(&l, "Accept", "application/json");
  if (!ok) {
    helion_http_headers_free(l);
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  *out = l;
out:
  if (auth) {
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  helion__llm_headers_free(extra, nextra);
  return rc;
}

/* ----------------------------------------------------------------- reply */

typedef struct reply {
  helion_buf_t body;
  bool too_big;
} reply_t;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
  reply_t *r = ud;
  size_t n = size * nmemb;
  if (helion_buf_append(&r->body, p, n)) {
    r->too_big = true;
    return 0; /* curl stops with CURLE_WRITE_ERROR */
  }
  return n;
}

/* At most EXCERPT_CHARS bytes of an (already redacted) text on one line,
 * cut at a UTF-8 character boundary. */
static void excerpt(const char *text, char out[EXCERPT_CHARS + 4]) {
  size_t n = 0;
  bool space = false;
  const char *p = text;
  for (; *p && n < EXCERPT_CHARS; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x20 || c == 0x7f) {
      if (!space && n > 0)
        out[n++] = ' ';
      space = true;
      continue;
    }
    space = false;
    out[n++] = (char)c;
  }
  bool cut = *p != '\0';
  if (cut && ((unsigned char)*p & 0xC0) == 0x80) {
    /* Cut inside a character: drop its first bytes too. */
    while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
      n--;
    if (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0xC0)
      n--;
  }
  while (n > 0 && out[n - 1] == ' ')
    n--;
  if (cut) {
    memcpy(out + n, "...", 3);
    n += 3;
  }
  out[n] = '\0';
}

/* Appends the text entries of `arr` (objects of type "text" or
 * "output_text" with a string "text"). */
static helion_status collect_text(const cJSON *arr, helion_buf_t *out,
                                  bool *found) {
  const cJSON *it = NULL;
  cJSON_ArrayForEach(it, arr) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(it, "text");
    if (!cJSON_IsString(type) || !cJSON_IsString(text))
      continue;
    if (strcmp(type->valuestring, "text") != 0 &&
        strcmp(type->valuestring, "output_text") != 0)
      continue;
    *found = true;
    helion_status rc = helion_buf_puts(out, text->valuestring);
    if (rc)
      return rc;
  }
  return HELION_OK;
}

/* The model's text out of a provider's reply (reference A6.6). */
static helion_status extract_text(const helion_llm_settings_t *s,
                                  const cJSON *root, helion_buf_t *out,
                                  bool *found) {
  helion_status rc = HELION_OK;
  if (s->provider == HELION_LLM_OPENAI) {
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "output")) {
      if ((rc = collect_text(cJSON_GetObjectItemCaseSensitive(it, "content"),
                             out, found)))
        return rc;
    }
    const cJSON *ot = cJSON_GetObjectItemCaseSensitive(root, "output_text");
    if (!*found && cJSON_IsString(ot)) {
      *found = true;
      rc = helion_buf_puts(out, ot->valuestring);
    }
  } else if (s->provider == HELION_LLM_ANTHROPIC) {
    rc = collect_text(cJSON_GetObjectItemCaseSensitive(root, "content"), out,
                      found);
  } else {
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(choices, 0), "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (cJSON_IsString(content)) {
      *found = true;
      rc = helion_buf_puts(out, content->valuestring);
    } else if (cJSON_IsArray(content)) {
      rc = collect_text(content, out, found);
    }
  }
  return rc;
}

static const char *reply_shape(helion_llm_provider p) {
  return p == HELION_LLM_OPENAI      ? "output[].content[] entries of type "
                                       "output_text"
         : p == HELION_LLM_ANTHROPIC ? "content[] blocks of type text"
                                     : "choices[0].message.content";
}

/* --------------------------------------------------------------- request */

static helion_status check_messages(const helion_llm_message_t *msgs, size_t n,
                                    helion_err_t *err) {
  size_t talk = 0;
  for (size_t i = 0; i < n; i++) {
    const char *r = msgs[i].role;
    if (!r || !msgs[i].text ||
        (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant")))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "LLM message %zu: expected a role of system, "
                            "user or assistant and a text",
                            i);
    talk += strcmp(r, "system") != 0;
  }
  if (talk == 0)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "an LLM request needs a user message");
  return HELION_OK;
}

helion_status helion_llm_request(const helion_llm_settings_t *s,
                                 const helion_llm_message_t *msgs, size_t n,
                                 char **out_text, helion_err_t *err) {
  helion_status rc = HELION_OK;
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  cJSON *body = NULL, *reply_json = NULL;
  char *body_text = NULL, *url = NULL;
  helion_buf_t system, text;
  reply_t reply;
  char curl_err[CURL_ERROR_SIZE];
  curl_err[0] = '\0';
  helion_buf_init(&system, (size_t)1 << 26);
  helion_buf_init(&text, MAX_REPLY_BYTES);
  helion_buf_init(&reply.body, MAX_REPLY_BYTES);
  reply.too_big = false;

  if (!s || !s->model || !s->api_base || !out_text) {
    rc = helion_err_set(err, HELION_ERR_USAGE,
                        "helion_llm_request: settings not read "
                        "(helion_llm_settings_from_env)");
    goto out;
  }
  if ((rc = check_messages(msgs, n, err)))
    goto out;
  if ((rc = helion_http_start(err)))
    goto out;
  if (!(url = helion__llm_url(s))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }

  /* The body. */
  if (join_system(msgs, n, &system)) {
    rc = helion_err_set(err, HELION_ERR_LIMIT, "the system prompt is too long");
    goto out;
  }
  body = cJSON_CreateObject();
  bool built = body != NULL;
  const char *sys = helion_buf_str(&system);
  if (built && s->provider == HELION_LLM_OPENAI)
    built = body_openai(s, msgs, n, sys, body);
  else if (built && s->provider == HELION_LLM_ANTHROPIC)
    built = body_anthropic(s, msgs, n, sys, body);
  else if (built)
    built = body_chat(s, msgs, n, sys, body);
  if (!built || !(body_text = cJSON_PrintUnformatted(body))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = build_headers(s, &headers, err)))
    goto out;

  if (!(curl = curl_easy_init())) {
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "request to %s failed: libcurl could not start one",
                        url);
    goto out;
  }
  helion_http_tls_t tls = {s->ca_bundle, s->client_cert, s->client_key};
  CURLcode cc = helion_http_setopts(curl, url, curl_err, &tls, s->timeout_s,
                                    s->timeout_s);
#define SET(opt, val)                                                          \
  if (cc == CURLE_OK)                                                          \
  cc = curl_easy_setopt(curl, opt, val)
  SET(CURLOPT_POST, 1L);
  SET(CURLOPT_POSTFIELDS, body_text);
  SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body_text));
  SET(CURLOPT_HTTPHEADER, headers);
  SET(CURLOPT_ACCEPT_ENCODING, ""); /* the size bound counts decoded bytes */
  SET(CURLOPT_WRITEFUNCTION, on_data);
  SET(CURLOPT_WRITEDATA, &reply);
#undef SET
  if (cc != CURLE_OK) {
    rc = helion_err_set(err, HELION_ERR_UNSUPPORTED,
                        "request to %s failed: this libcurl refused an "
                        "option: %s",
                        url, curl_easy_strerror(cc));
    goto out;
  }

  cc = curl_easy_perform(curl);
  /* Nothing of the key leaves this function, the reply included. */
  if (reply.body.data)
    helion_llm_redact(s, reply.body.data);
  if (reply.too_big) {
    rc = helion_err_set(err, HELION_ERR_LIMIT,
                        "reply from %s is over %zu MiB; not read", url,
                        MAX_REPLY_BYTES >> 20);
    goto out;
  }
  if (cc == CURLE_OPERATION_TIMEDOUT) {
    rc = helion_err_set(err, HELION_ERR_TIMEOUT,
                        "request to %s failed: no complete reply within %g s "
                        "(HELION_LLM_TIMEOUT_S)",
                        url, s->timeout_s);
    goto out;
  }
  if (cc != CURLE_OK) {
    rc = helion_err_set(err, HELION_ERR_IO, "request to %s failed: %s", url,
                        curl_err[0] ? curl_err : curl_easy_strerror(cc));
    goto out;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  const char *rbody = helion_buf_str(&reply.body);
  char ex[EXCERPT_CHARS + 4];
  if (status < 200 || status > 299) {
    excerpt(rbody, ex);
    rc = helion_err_set(err, HELION_ERR_INVALID, "HTTP %ld from %s: %s", status,
                        url, ex);
    goto out;
  }
  if ((rc = helion_json_parse(rbody, reply.body.len, url, &reply_json, err)))
    goto out;
  if (!cJSON_IsObject(reply_json)) {
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "unexpected JSON payload from %s: %s, expected an "
                        "object",
                        url, helion_json_type_name(reply_json));
    goto out;
  }
  bool found = false;
  if (extract_text(s, reply_json, &text, &found)) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (!found) {
    excerpt(rbody, ex);
    rc = helion_err_set(err, HELION_ERR_PARSE,
                        "no text in the reply from %s (expected %s): %s", url,
                        reply_shape(s->provider), ex);
    goto out;
  }
  *out_text = helion_buf_take(&text);
  if (!*out_text)
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");

out:
  if (rc && err)
    helion_llm_redact(s, err->msg);
  if (curl)
    curl_easy_cleanup(curl);
  helion_http_headers_free(headers);
  cJSON_Delete(body);
  cJSON_Delete(reply_json);
  cJSON_free(body_text);
  free(url);
  helion_buf_cleanup(&system);
  helion_buf_cleanup(&text);
  helion_buf_cleanup(&reply.body);
  return rc;
}
