/*
 * llm_parse.c: turns a model's reply into configurations of the space
 * (reference A5): finds the JSON in the text (the whole text, fenced
 * blocks, balanced brackets), accepts Python-literal spellings, and checks
 * every config against the space (helion_config_from_json, normalize, the
 * restrictions). Nothing in a reply can crash it: the text is cut at
 * PARSE_MAX_TEXT bytes, bracket scans are iterative and bounded, and cJSON
 * refuses nesting beyond 1000 levels.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"
#include "model/config.h"
#include "model/space.h"
#include "util/json.h"
#include "util/util.h"

/* Replies longer than this are read only up to here (a real reply is a few
 * KiB; the rest is lost, never an error). */
#define PARSE_MAX_TEXT ((size_t)1 << 20)
/* Candidate texts tried before giving up, and balanced-bracket scans (each
 * may walk the whole text). */
#define PARSE_MAX_CANDIDATES 64
#define PARSE_MAX_SCANS 32
/* Items of a list looked at (valid, rejected or duplicate). */
#define PARSE_MAX_ITEMS 4096

/* ------------------------------------------------- Python literal repair */

static bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/*
 * Rewrites text[0, n) into out as JSON: single-quoted strings become
 * double-quoted ones, the bare words None/True/False become null/true/false,
 * and a comma right before a closing bracket is dropped. Inside
 * double-quoted strings nothing changes.
 */
static helion_status pythonish_to_json(const char *text, size_t n,
                                       helion_buf_t *out) {
  helion_status rc = HELION_OK;
  size_t i = 0;
  while (i < n && !rc) {
    char c = text[i];
    if (c == '"' || c == '\'') {
      char q = c;
      rc = helion_buf_putc(out, '"');
      i++;
      while (i < n && !rc && text[i] != q) {
        char d = text[i];
        if (d == '\\' && i + 1 < n) {
          if (q == '\'' && text[i + 1] == '\'') {
            rc = helion_buf_putc(out, '\'');
          } else {
            rc = helion_buf_append(out, text + i, 2);
          }
          i += 2;
          continue;
        }
        if (q == '\'' && d == '"')
          rc = helion_buf_puts(out, "\\\"");
        else
          rc = helion_buf_putc(out, d);
        i++;
      }
      if (i < n && !rc) {
        rc = helion_buf_putc(out, '"');
        i++;
      }
      continue;
    }
    if (c == ',') {
      size_t j = i + 1;
      while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
                       text[j] == '\r'))
        j++;
      if (j < n && (text[j] == ']' || text[j] == '}')) {
        i++;
        continue;
      }
    }
    if (is_word(c) && (i == 0 || !is_word(text[i - 1]))) {
      size_t j = i;
      while (j < n && is_word(text[j]))
        j++;
      size_t len = j - i;
      const char *rep = NULL;
      if (len == 4 && memcmp(text + i, "None", 4) == 0)
        rep = "null";
      else if (len == 4 && memcmp(text + i, "True", 4) == 0)
        rep = "true";
      else if (len == 5 && memcmp(text + i, "False", 5) == 0)
        rep = "false";
      rc = rep ? helion_buf_puts(out, rep) : helion_buf_append(out, text + i, len);
      i = j;
      continue;
    }
    rc = helion_buf_putc(out, c);
    i++;
  }
  return rc;
}

/* ----------------------------------------------------- finding the JSON */

typedef struct span {
  size_t off, len;
} span_t;

typedef struct candidates {
  span_t items[PARSE_MAX_CANDIDATES];
  size_t n;
} candidates_t;

static void cand_add(candidates_t *c, size_t off, size_t len) {
  if (c->n >= PARSE_MAX_CANDIDATES || len == 0)
    return;
  for (size_t i = 0; i < c->n; i++)
    if (c->items[i].off == off && c->items[i].len == len)
      return;
  c->items[c->n].off = off;
  c->items[c->n].len = len;
  c->n++;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text without leading and trailing white space. */
static void add_stripped(candidates_t *c, const char *t, size_t off,
                         size_t len) {
  while (len && is_space(t[off])) {
    off++;
    len--;
  }
  while (len && is_space(t[off + len - 1]))
    len--;
  cand_add(c, off, len);
}

static bool ascii_ieq(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = (char)(x - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

/* The body of every ``` fence (an optional "json" or "python" tag, any
 * case, on the opening line), in order. An unclosed last fence counts to
 * the end of the text (a reply cut by the token limit). */
static void add_fences(candidates_t *c, const char *t, size_t n) {
  size_t i = 0;
  while (i + 3 <= n && c->n < PARSE_MAX_CANDIDATES) {
    const char *f = strstr(t + i, "```");
    if (!f || (size_t)(f - t) + 3 > n)
      return;
    size_t start = (size_t)(f - t) + 3;
    if (start + 4 <= n && ascii_ieq(t + start, "json", 4))
      start += 4;
    else if (start + 6 <= n && ascii_ieq(t + start, "python", 6))
      start += 6;
    const char *e = strstr(t + start, "```");
    size_t end = e ? (size_t)(e - t) : n;
    add_stripped(c, t, start, end - start);
    i = e ? end + 3 : n;
  }
}

/* From the opener at t[at], the end (exclusive) of its balanced block, or
 * 0 when it does not close. Strings ('"' or '\'', a backslash escaping one
 * character) are skipped; only the opener's bracket kind is counted. */
static size_t balanced_end(const char *t, size_t n, size_t at) {
  char open = t[at], close = open == '{' ? '}' : ']';
  size_t depth = 0;
  char q = 0;
  for (size_t i = at; i < n; i++) {
    char ch = t[i];
    if (q) {
      if (ch == '\\')
        i++;
      else if (ch == q)
        q = 0;
    } else if (ch == '"' || ch == '\'') {
      /* An apostrophe between letters is prose ("don't"), not a quote. */
      if (!(ch == '\'' && i > at && is_word(t[i - 1]) && i + 1 < n &&
            is_word(t[i + 1])))
        q = ch;
    } else if (ch == open) {
      depth++;
    } else if (ch == close && --depth == 0) {
      return i + 1;
    }
  }
  return 0;
}

/* The first balanced block of `open`, retrying from the next opener when
 * one does not close (at most PARSE_MAX_SCANS tries): its span, len 0 for
 * none. */
static span_t first_balanced(const char *t, size_t n, char open) {
  span_t s = {0, 0};
  size_t scans = 0;
  for (const char *p = memchr(t, open, n); p && scans < PARSE_MAX_SCANS;
       scans++) {
    size_t at = (size_t)(p - t);
    size_t end = balanced_end(t, n, at);
    if (end) {
      s.off = at;
      s.len = end - at;
      return s;
    }
    p = at + 1 < n ? memchr(t + at + 1, open, n - at - 1) : NULL;
  }
  return s;
}

/* The first balanced {...} and [...] blocks, the one that starts first
 * tried first (a bare list of objects is not read as its first object).
 * `retried`: only blocks found after an opener that never closed (inside a
 * cut reply: tried after the salvage); else only blocks at first openers. */
static void add_balanced(candidates_t *c, const char *t, size_t n,
                         bool retried) {
  span_t o = first_balanced(t, n, '{');
  span_t a = first_balanced(t, n, '[');
  const char *fo = memchr(t, '{', n), *fa = memchr(t, '[', n);
  if (o.len && (o.off != (size_t)(fo - t)) != retried)
    o.len = 0;
  if (a.len && (a.off != (size_t)(fa - t)) != retried)
    a.len = 0;
  if (a.len && (!o.len || a.off < o.off)) {
    cand_add(c, a.off, a.len);
    cand_add(c, o.off, o.len);
  } else {
    cand_add(c, o.off, o.len);
    cand_add(c, a.off, a.len);
  }
}

/* Parses t[off, off+len) after the Python repair; NULL when it is not
 * JSON. *nomem is set on allocation failure. */
static cJSON *try_parse(const char *t, size_t off, size_t len, bool *nomem) {
  helion_buf_t b;
  helion_buf_init(&b, PARSE_MAX_TEXT * 2 + 16);
  cJSON *root = NULL;
  if (pythonish_to_json(t + off, len, &b)) {
    *nomem = true;
  } else if (b.len) {
    helion_err_t err;
    if (helion_json_parse(b.data, b.len, "reply", &root, &err))
      root = NULL;
  }
  helion_buf_cleanup(&b);
  return root;
}

/* The list of configs a parsed value gives: {"configs": [...]} -> that
 * array; a list -> itself; any other object -> itself as one config.
 * NULL for anything else. */
static const cJSON *config_list(const cJSON *root) {
  if (cJSON_IsArray(root))
    return root;
  if (!cJSON_IsObject(root))
    return NULL;
  const cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(root, "configs");
  if (cfgs)
    return cJSON_IsArray(cfgs) ? cfgs : NULL;
  return root->child ? root : NULL;
}

/*
 * Salvage for a reply cut short: inside the first '[' (after "configs" when
 * the text names it), every complete {...} element, wrapped into a list.
 * NULL when none.
 */
static cJSON *salvage(const char *t, size_t n, bool *nomem) {
  const char *k = strstr(t, "\"configs\"");
  if (!k)
    k = strstr(t, "'configs'");
  size_t from = k ? (size_t)(k - t) : 0;
  const char *lb = memchr(t + from, '[', n - from);
  if (!lb)
    return NULL;
  cJSON *list = cJSON_CreateArray();
  if (!list) {
    *nomem = true;
    return NULL;
  }
  size_t i = (size_t)(lb - t) + 1;
  size_t items = 0;
  while (i < n && items < PARSE_MAX_ITEMS) {
    while (i < n && (is_space(t[i]) || t[i] == ','))
      i++;
    if (i >= n || t[i] != '{')
      break;
    size_t end = balanced_end(t, n, i);
    if (!end)
      break;
    cJSON *one = try_parse(t, i, end - i, nomem);
    if (!one)
      break;
    cJSON_AddItemToArray(list, one);
    items++;
    i = end;
  }
  if (!items) {
    cJSON_Delete(list);
    return NULL;
  }
  return list;
}

/* ----------------------------------------------------------- validation */

static void set_why(helion_llm_parsed_t *p, size_t item, const char *msg) {
  if (p->why[0])
    return;
  snprintf(p->why, sizeof(p->why), "configs[%zu]: %s", item, msg);
}

helion_status helion_llm_parse(const helion_space_t *space, const char *text,
                               size_t max, helion_llm_parsed_t *out,
                               helion_err_t *err) {
  helion_status rc = HELION_OK;
  memset(out, 0, sizeof(*out));
  cJSON *root = NULL;
  int64_t *cells = NULL;
  size_t nc = space->ncells ? space->ncells : 1;
  bool nomem = false;
  if (!text)
    text = "";
  size_t n = strnlen(text, PARSE_MAX_TEXT);

  candidates_t cands;
  cands.n = 0;
  add_stripped(&cands, text, 0, n);
  add_fences(&cands, text, n);
  add_balanced(&cands, text, n, false);
  const cJSON *list = NULL;
  for (size_t i = 0; i < cands.n && !list && !nomem; i++) {
    root = try_parse(text, cands.items[i].off, cands.items[i].len, &nomem);
    list = config_list(root);
    if (!list) {
      cJSON_Delete(root);
      root = NULL;
    }
  }
  if (!list && !nomem && n) {
    root = salvage(text, n, &nomem);
    list = root;
  }
  if (!list && !nomem && n) {
    cands.n = 0;
    add_balanced(&cands, text, n, true);
    for (size_t i = 0; i < cands.n && !list && !nomem; i++) {
      root = try_parse(text, cands.items[i].off, cands.items[i].len, &nomem);
      list = config_list(root);
      if (!list) {
        cJSON_Delete(root);
        root = NULL;
      }
    }
  }
  if (nomem)
    goto nomem;
  if (!list)
    goto out;

  size_t nitems = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 1;
  if (nitems > PARSE_MAX_ITEMS)
    nitems = PARSE_MAX_ITEMS;
  size_t cap = max < nitems ? max : nitems;
  cells = malloc((cap ? cap : 1) * nc * sizeof(*cells));
  int64_t *one = malloc(nc * sizeof(*one));
  if (!cells || !one) {
    free(one);
    goto nomem;
  }
  const cJSON *item = cJSON_IsArray(list) ? list->child : list;
  for (size_t idx = 0; item && idx < nitems && out->nconfigs < cap;
       idx++, item = item->next) {
    if (!cJSON_IsObject(item)) {
      char msg[96];
      snprintf(msg, sizeof(msg), "expected an object, got %s",
               helion_json_type_name(item));
      set_why(out, idx, msg);
      out->rejected++;
      continue;
    }
    char *json = cJSON_PrintUnformatted(item);
    if (!json) {
      free(one);
      goto nomem;
    }
    helion_err_t cerr;
    cerr.msg[0] = '\0';
    helion_status crc = helion_config_from_json(space, json, one, &cerr);
    free(json);
    if (crc == HELION_ERR_NOMEM) {
      free(one);
      goto nomem;
    }
    if (crc) {
      set_why(out, idx, cerr.msg);
      out->rejected++;
      continue;
    }
    helion_space_normalize(space, one);
    ptrdiff_t bad = helion_space_first_violation(space, one);
    if (bad >= 0) {
      char msg[224];
      if ((size_t)bad < helion_space_restriction_count(space))
        snprintf(msg, sizeof(msg), "violates restriction '%s'",
                 helion_space_restriction_text(space, (size_t)bad));
      else
        snprintf(msg, sizeof(msg), "not a configuration this space accepts");
      set_why(out, idx, msg);
      out->rejected++;
      continue;
    }
    bool dup = false;
    for (size_t k = 0; k < out->nconfigs && !dup; k++)
      dup = memcmp(cells + k * nc, one, space->ncells * sizeof(*one)) == 0;
    if (dup) {
      out->duplicates++;
      continue;
    }
    memcpy(cells + out->nconfigs * nc, one, space->ncells * sizeof(*one));
    out->nconfigs++;
  }
  free(one);
  out->cells = cells;
  cells = NULL;
  goto out;
nomem:
  rc = helion_err_set(err, HELION_ERR_NOMEM,
                      "out of memory parsing the model's reply");
  free(out->cells);
  memset(out, 0, sizeof(*out));
out:
  free(cells);
  cJSON_Delete(root);
  return rc;
}

void helion_llm_parsed_cleanup(helion_llm_parsed_t *p) {
  if (!p)
    return;
  free(p->cells);
  memset(p, 0, sizeof(*p));
}
