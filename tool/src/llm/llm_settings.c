/*
 * llm_settings.c: the LLM provider settings read from the environment
 * (README's table, reference A6.1, A6.2, A6.5, A6.8, A7), the parsing of
 * HELION_LLM_EXTRA_HEADERS, the endpoint URL, and the redaction of the key.
 *
 * Decisions where Helion leaves room (each is in README too):
 *  - Vertex and Bedrock are refused (HELION_ERR_UNSUPPORTED): they need
 *    cloud credentials this tool does not handle.
 *  - openai-chat (an OpenAI-compatible chat-completions server, often
 *    self-hosted) may go without a key; then no Authorization is sent. With
 *    that provider named in HELION_LLM_PROVIDER the model is sent as given
 *    ("openai/gpt-oss-120b" is a model name there), bar an "openai-chat/"
 *    prefix.
 *  - A base URL must be https://, except plain http:// to a loopback host or
 *    without a key: a key never crosses a network unencrypted.
 *  - HELION_LLM_EXTRA_HEADERS may not replace the headers the transport owns
 *    (llm_internal.h lists them).
 *  - A CA bundle or client certificate variable that is set must name a
 *    readable file: an error, not a silent fallback to the default trust.
 */
#define _POSIX_C_SOURCE 200809L
#include "llm/llm_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "llm/http.h"
#include "util/json.h"

#define DEFAULT_MODEL "gpt-5-2"
#define DEFAULT_TIMEOUT_S 120.0
#define DEFAULT_MAX_OUTPUT_TOKENS 8192

/* An environment variable's value, or NULL when unset or empty. */
static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d)
    memcpy(d, s, n + 1);
  return d;
}

/* The trimmed, lower-cased copy of s into buf (truncated to fit). */
static void lower_trim(const char *s, char *buf, size_t cap) {
  while (*s && isspace((unsigned char)*s))
    s++;
  size_t n = 0;
  while (s[n] && n + 1 < cap) {
    buf[n] = (char)tolower((unsigned char)s[n]);
    n++;
  }
  while (n > 0 && isspace((unsigned char)buf[n - 1]))
    n--;
  buf[n] = '\0';
}

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

typedef enum { PROV_NONE = -1, PROV_VERTEX = -2, PROV_BEDROCK = -3 } prov_extra;

/* HELION_LLM_PROVIDER's value to a provider (or PROV_*); -4 when unknown. */
static int provider_from_name(const char *v) {
  char b[64];
  lower_trim(v, b, sizeof b);
  if (!strcmp(b, "anthropic"))
    return HELION_LLM_ANTHROPIC;
  if (!strcmp(b, "openai") || !strcmp(b, "openai_responses") ||
      !strcmp(b, "openai-responses"))
    return HELION_LLM_OPENAI;
  if (!strcmp(b, "openai-chat") || !strcmp(b, "openai_chat") ||
      !strcmp(b, "openai-compatible") || !strcmp(b, "openai_compatible"))
    return HELION_LLM_OPENAI_CHAT;
  if (!strcmp(b, "bedrock") || !strcmp(b, "aws_bedrock") ||
      !strcmp(b, "aws-bedrock"))
    return PROV_BEDROCK;
  if (!strcmp(b, "vertex") || !strcmp(b, "vertex_anthropic") ||
      !strcmp(b, "vertex-anthropic") || !strcmp(b, "google_vertex"))
    return PROV_VERTEX;
  return -4;
}

/* The provider a model name implies (reference A6.1), or PROV_NONE. */
static int provider_from_model(const char *model) {
  char m[256];
  lower_trim(model, m, sizeof m);
  if (starts_with(m, "bedrock/"))
    return PROV_BEDROCK;
  if (starts_with(m, "vertex/"))
    return PROV_VERTEX;
  if (starts_with(m, "openai-chat/"))
    return HELION_LLM_OPENAI_CHAT;
  if (starts_with(m, "claude") || starts_with(m, "anthropic/"))
    return HELION_LLM_ANTHROPIC;
  static const char *const openai[] = {"gpt-", "chatgpt-", "codex",  "o1",
                                       "o3",   "o4",       "openai/"};
  for (size_t i = 0; i < sizeof openai / sizeof *openai; i++)
    if (starts_with(m, openai[i]))
      return HELION_LLM_OPENAI;
  return PROV_NONE;
}

static helion_status unsupported_cloud(int p, helion_err_t *err) {
  return helion_err_set(
      err, HELION_ERR_UNSUPPORTED,
      "HELION_LLM_PROVIDER/HELION_LLM_MODEL: %s is not supported by "
      "helion-tune (it needs cloud credentials this tool does not handle); "
      "use anthropic, openai or openai-chat (an OpenAI-compatible server, "
      "HELION_LLM_API_BASE naming it)",
      p == PROV_VERTEX ? "Vertex" : "Bedrock");
}

/* The model name as sent: the provider prefixes Helion strips removed. */
static const char *strip_model_prefix(const char *model, bool keep_slashes) {
  static const char *const prefixes[] = {"openai-chat/", "anthropic/",
                                         "openai/"};
  size_t n = keep_slashes ? 1 : 3;
  for (size_t i = 0; i < n; i++) {
    size_t k = strlen(prefixes[i]);
    if (strncasecmp(model, prefixes[i], k) == 0)
      return model + k;
  }
  return model;
}

static bool is_loopback_host(const char *url) {
  const char *h = strstr(url, "://");
  h = h ? h + 3 : url;
  const char *at = strpbrk(h, "@/");
  if (at && *at == '@')
    h = at + 1;
  size_t n = strcspn(h, "/?#");
  char host[256];
  if (n >= sizeof host)
    return false;
  memcpy(host, h, n);
  host[n] = '\0';
  if (host[0] == '[')
    return starts_with(host, "[::1]");
  char *colon = strchr(host, ':');
  if (colon)
    *colon = '\0';
  return !strcasecmp(host, "localhost") || starts_with(host, "127.");
}

/* The file a TLS variable names must be readable. */
static helion_status read_effort(char **out, helion_err_t *err) {
  const char *v = getenv("HELION_LLM_EFFORT_LEVEL");
  char b[32];
  lower_trim(v ? v : "", b, sizeof b);
  const char *level = NULL;
  if (!*b || !strcmp(b, "none") || !strcmp(b, "0") || !strcmp(b, "false") ||
      !strcmp(b, "no") || !strcmp(b, "off"))
    level = "none";
  static const char *const levels[] = {"low", "medium", "high", "max"};
  for (size_t i = 0; i < 4 && !level; i++)
    if (!strcmp(b, levels[i]))
      level = levels[i];
  if (!level)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "HELION_LLM_EFFORT_LEVEL=%s: expected none, low, "
                          "medium, high or max (0/false/no/off mean none)",
                          v);
  *out = dup_str(level);
  return *out ? HELION_OK
              : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
}

static helion_status read_timeout(double *out, helion_err_t *err) {
  const char *v = env_nonempty("HELION_LLM_TIMEOUT_S");
  if (!v) {
    *out = DEFAULT_TIMEOUT_S;
    return HELION_OK;
  }
  char *end = NULL;
  errno = 0;
  double t = strtod(v, &end);
  while (end && isspace((unsigned char)*end))
    end++;
  if (errno || end == v || *end || !isfinite(t) || t <= 0 || t > 86400)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "HELION_LLM_TIMEOUT_S=%s: expected seconds, a "
                          "number above 0 and at most 86400 (default 120)",
                          v);
  *out = t;
  return HELION_OK;
}

/* The key (never in a message: only the variables' names are). */
static helion_status read_key(helion_llm_provider p, char **out,
                              helion_err_t *err) {
  const char *own =
      p == HELION_LLM_ANTHROPIC ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
  const char *var = "HELION_LLM_API_KEY";
  const char *key = env_nonempty(var);
  if (!key) {
    var = own;
    key = env_nonempty(own);
  }
  if (!key) {
    if (p != HELION_LLM_OPENAI_CHAT)
      return helion_err_set(
          err, HELION_ERR_USAGE,
          "no API key for the %s provider: set HELION_LLM_API_KEY or %s "
          "(both are unset or empty)",
          p == HELION_LLM_ANTHROPIC ? "anthropic" : "openai", own);
    key = ""; /* a self-hosted server without authentication */
  }
  for (const char *c = key; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s holds a control character (a line break?); "
                            "set it to the key alone",
                            var);
  *out = dup_str(key);
  return *out ? HELION_OK
              : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
}

static helion_status read_base(helion_llm_provider p, const char *key,
                               char **out, helion_err_t *err) {
  const char *var = "HELION_LLM_API_BASE";
  const char *base = env_nonempty(var);
  static const char *const openai_vars[] = {"OPENAI_BASE_URL",
                                            "OPENAI_API_BASE"};
  if (!base && p == HELION_LLM_ANTHROPIC) {
    var = "ANTHROPIC_BASE_URL";
    base = env_nonempty(var);
  }
  for (size_t i = 0; !base && p != HELION_LLM_ANTHROPIC && i < 2; i++) {
    var = openai_vars[i];
    base = env_nonempty(var);
  }
  if (!base)
    base = p == HELION_LLM_ANTHROPIC ? "https://api.anthropic.com"
                                     : "https://api.openai.com";
  bool https = strncasecmp(base, "https://", 8) == 0;
  bool http = strncasecmp(base, "http://", 7) == 0;
  if (!https && !http)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s=%s: expected an https:// URL", var, base);
  if (http && *key && !is_loopback_host(base))
    return helion_err_set(
        err, HELION_ERR_USAGE,
        "%s=%s: plain http:// would send the API key unencrypted; use "
        "https:// (http:// is accepted for a loopback host, or without a key)",
        var, base);
  if (strpbrk(base, " \t\r\n?#"))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "%s=%s: a base URL has no spaces, query or "
                          "fragment",
                          var, base);
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/')
    n--;
  char *b = malloc(n + 1);
  if (!b)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  memcpy(b, base, n);
  b[n] = '\0';
  *out = b;
  return HELION_OK;
}

/* The CA bundle and client certificate (llm/http.c reads them the same way
 * for every HTTP client of the tool). */
static helion_status read_tls(helion_llm_settings_t *s, helion_err_t *err) {
  helion_http_tls_t t;
  helion_status rc = helion_http_tls_from_env("HELION_LLM", &t, err);
  if (rc)
    return rc;
  s->ca_bundle = t.ca_bundle;
  s->client_cert = t.client_cert;
  s->client_key = t.client_key;
  return HELION_OK;
}

helion_status helion_llm_settings_from_env(helion_llm_settings_t *out,
                                           helion_err_t *err) {
  helion_llm_settings_t s;
  memset(&s, 0, sizeof s);
  s.timeout_s = DEFAULT_TIMEOUT_S;
  s.max_output_tokens = DEFAULT_MAX_OUTPUT_TOKENS;
  helion_status rc = HELION_OK;

  const char *model = env_nonempty("HELION_LLM_MODEL");
  if (!model)
    model = DEFAULT_MODEL;
  const char *pv = env_nonempty("HELION_LLM_PROVIDER");
  int p;
  if (pv) {
    p = provider_from_name(pv);
    if (p == -4) {
      rc = helion_err_set(err, HELION_ERR_USAGE,
                          "HELION_LLM_PROVIDER=%s: expected openai, "
                          "anthropic or openai-chat",
                          pv);
      goto out;
    }
  } else {
    p = provider_from_model(model);
    if (p == PROV_NONE) {
      rc = helion_err_set(
          err, HELION_ERR_USAGE,
          "HELION_LLM_MODEL=%s: cannot tell its provider from the name; set "
          "HELION_LLM_PROVIDER to openai, anthropic or openai-chat",
          model);
      goto out;
    }
  }
  if (p == PROV_VERTEX || p == PROV_BEDROCK) {
    rc = unsupported_cloud(p, err);
    goto out;
  }
  s.provider = (helion_llm_provider)p;
  const char *sent =
      strip_model_prefix(model, pv && s.provider == HELION_LLM_OPENAI_CHAT);
  if (!*sent || strpbrk(sent, "\r\n")) {
    rc = helion_err_set(err, HELION_ERR_USAGE,
                        "HELION_LLM_MODEL=%s: expected a model name", model);
    goto out;
  }
  if (!(s.model = dup_str(sent))) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = read_key(s.provider, &s.api_key, err)) ||
      (rc = read_base(s.provider, s.api_key, &s.api_base, err)) ||
      (rc = read_effort(&s.effort, err)) ||
      (rc = read_timeout(&s.timeout_s, err)) || (rc = read_tls(&s, err)))
    goto out;

  const char *extra = env_nonempty("HELION_LLM_EXTRA_HEADERS");
  if (extra) {
    helion__llm_header_t *h = NULL;
    size_t nh = 0;
    if ((rc = helion__llm_headers_parse(extra, &h, &nh, err)))
      goto out;
    helion__llm_headers_free(h, nh);
    if (!(s.extra_headers = dup_str(extra))) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
      goto out;
    }
  }
  *out = s;
  return HELION_OK;
out:
  helion_llm_settings_cleanup(&s);
  return rc;
}

void helion_llm_settings_cleanup(helion_llm_settings_t *s) {
  if (!s)
    return;
  if (s->api_key) /* no copy of the key outlives the settings */
    memset(s->api_key, 0, strlen(s->api_key));
  free(s->model);
  free(s->api_key);
  free(s->api_base);
  free(s->extra_headers);
  free(s->ca_bundle);
  free(s->client_cert);
  free(s->client_key);
  free(s->effort);
  memset(s, 0, sizeof *s);
}

void helion_llm_redact(const helion_llm_settings_t *s, char *buf) {
  if (s)
    helion_http_redact(s->api_key, buf);
}

/* ------------------------------------------------------- extra headers */

static bool is_token_char(unsigned char c) {
  return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static helion_status add_header(const char *name, size_t nlen,
                                const char *value, size_t vlen,
                                helion__llm_header_t **h, size_t *n,
                                size_t *cap, helion_err_t *err) {
  static const char *const owned[] = {
      "authorization", "x-api-key",         "content-type", "content-length",
      "host",          "transfer-encoding", "expect"};
  if (nlen == 0)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "HELION_LLM_EXTRA_HEADERS: a header without a name");
  for (size_t i = 0; i < nlen; i++)
    if (!is_token_char((unsigned char)name[i]))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_LLM_EXTRA_HEADERS: header '%.*s': not a "
                            "valid HTTP header name",
                            (int)(nlen > 80 ? 80 : nlen), name);
  for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
    if (strlen(owned[i]) == nlen && !strncasecmp(owned[i], name, nlen))
      return helion_err_set(
          err, HELION_ERR_USAGE,
          "HELION_LLM_EXTRA_HEADERS: header '%.*s' is set by helion-tune "
          "itself; the API key goes in HELION_LLM_API_KEY (which is kept out "
          "of every message)",
          (int)nlen, name);
  for (size_t i = 0; i < vlen; i++)
    if (((unsigned char)value[i] < 0x20 && value[i] != '\t') ||
        value[i] == 0x7f)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_LLM_EXTRA_HEADERS: the value of header "
                            "'%.*s' holds a control character",
                            (int)nlen, name);
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    helion__llm_header_t *g = realloc(*h, nc * sizeof *g);
    if (!g)
      return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    *h = g;
    *cap = nc;
  }
  char *nm = malloc(nlen + 1), *vl = malloc(vlen + 1);
  if (!nm || !vl) {
    free(nm);
    free(vl);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  memcpy(nm, name, nlen);
  nm[nlen] = '\0';
  memcpy(vl, value, vlen);
  vl[vlen] = '\0';
  (*h)[*n].name = nm;
  (*h)[*n].value = vl;
  (*n)++;
  return HELION_OK;
}

static void trim_span(const char **s, size_t *n) {
  while (*n > 0 && isspace((unsigned char)**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
    (*n)--;
}

helion_status helion__llm_headers_parse(const char *spec,
                                        helion__llm_header_t **out,
                                        size_t *out_n, helion_err_t *err) {
  helion__llm_header_t *h = NULL;
  size_t n = 0, cap = 0;
  helion_status rc = HELION_OK;
  cJSON *root = NULL;
  const char *t = spec ? spec : "";
  while (isspace((unsigned char)*t))
    t++;
  if (*t == '{') {
    helion_err_t jerr;
    if (helion_json_parse(t, strlen(t), "HELION_LLM_EXTRA_HEADERS", &root,
                          &jerr)) {
      /* cJSON's excerpt could quote a token: name the variable only. */
      rc = helion_err_set(err, HELION_ERR_USAGE,
                          "HELION_LLM_EXTRA_HEADERS: starts with '{' but is "
                          "not a JSON object of strings");
      goto out;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, root) {
      char num[64];
      const char *v = NULL;
      if (cJSON_IsString(it)) {
        v = it->valuestring;
      } else if (cJSON_IsNumber(it)) {
        snprintf(num, sizeof num, "%.17g", it->valuedouble);
        v = num;
      } else {
        rc = helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_LLM_EXTRA_HEADERS: header '%.80s': the "
                            "value is %s, expected a string",
                            it->string, helion_json_type_name(it));
        goto out;
      }
      const char *nm = it->string;
      size_t nl = strlen(nm), vl = strlen(v);
      trim_span(&nm, &nl);
      trim_span(&v, &vl);
      if ((rc = add_header(nm, nl, v, vl, &h, &n, &cap, err)))
        goto out;
    }
  } else {
    for (const char *line = t; *line;) {
      size_t len = strcspn(line, "\n");
      const char *colon = memchr(line, ':', len);
      if (colon) {
        const char *nm = line, *v = colon + 1;
        size_t nl = (size_t)(colon - line), vl = len - nl - 1;
        trim_span(&nm, &nl);
        trim_span(&v, &vl);
        if ((rc = add_header(nm, nl, v, vl, &h, &n, &cap, err)))
          goto out;
      }
      line += len;
      if (*line == '\n')
        line++;
    }
  }
  *out = h;
  *out_n = n;
  h = NULL;
  n = 0;
out:
  cJSON_Delete(root);
  helion__llm_headers_free(h, n);
  return rc;
}

void helion__llm_headers_free(helion__llm_header_t *h, size_t n) {
  for (size_t i = 0; h && i < n; i++) {
    if (h[i].value)
      memset(h[i].value, 0, strlen(h[i].value));
    free(h[i].name);
    free(h[i].value);
  }
  free(h);
}

char *helion__llm_url(const helion_llm_settings_t *s) {
  const char *ep = s->provider == HELION_LLM_ANTHROPIC ? "messages"
                   : s->provider == HELION_LLM_OPENAI  ? "responses"
                                                       : "chat/completions";
  const char *base = s->api_base ? s->api_base : "";
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/')
    n--;
  char v1ep[64], slashep[64];
  snprintf(v1ep, sizeof v1ep, "/v1/%s", ep);
  snprintf(slashep, sizeof slashep, "/%s", ep);
  const char *tail = "";
  if (ends_with(base, n, v1ep) || ends_with(base, n, slashep))
    tail = "";
  else if (ends_with(base, n, "/v1"))
    tail = slashep;
  else
    tail = v1ep;
  size_t tn = strlen(tail);
  char *u = malloc(n + tn + 1);
  if (!u)
    return NULL;
  memcpy(u, base, n);
  memcpy(u + n, tail, tn + 1);
  return u;
}
