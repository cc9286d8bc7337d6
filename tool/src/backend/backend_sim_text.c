/*
 * backend_sim_text.c: turns a landscape's bytes (plain or gzipped JSON) into
 * a cJSON tree for backend_sim_landscape.c, refusing what is not a landscape
 * before it costs memory: text beyond a hard cap (checked while inflating,
 * so a gzip bomb never gets allocated) and telling "out of memory" apart
 * from "malformed JSON".
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "backend/backend_sim_internal.h"
#include "util/json.h"

#define MIB ((size_t)1 << 20)
/* cJSON refuses deeper nesting; so does the well-formedness check. */
#define JSON_MAX_DEPTH 1000

/* The message for text beyond the cap (the reason for the cap in words). */
static helion_status too_big(const char *name, size_t max,
                             helion_err_t *err) {
  return helion_err_set(err, HELION_ERR_LIMIT,
                        "%s: unpacks to more than %zu MiB; the largest known "
                        "landscape (gemm_RTX_3090) is 16 MiB of text, so this "
                        "is not a landscape (a gzip bomb?)",
                        name, max / MIB);
}

/* Inflates gzip data (concatenated members are one file, as gzip -c a b
 * makes them), refusing more than `max` bytes of output as soon as they
 * appear: the buffer never grows past max + 1 bytes. */
static helion_status gunzip(const char *name, const unsigned char *in,
                            size_t len, size_t max, char **out_text,
                            size_t *out_len, helion_err_t *err) {
  helion_status rc = HELION_OK;
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  size_t cap = max > 65536 && len < (max - 65536) / 4 ? len * 4 + 65536
                                                       : max + 1;
  size_t olen = 0;
  char *o = malloc(cap);
  if (!o || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    free(o);
    return helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
  }
  zs.next_in = (unsigned char *)in;
  zs.avail_in = len > UINT_MAX ? UINT_MAX : (uInt)len;
  for (;;) {
    if (olen > max) {
      rc = too_big(name, max, err);
      goto out;
    }
    if (cap - olen < 2) {
      size_t ncap = cap > max / 2 ? max + 2 : cap * 2;
      char *p = realloc(o, ncap);
      if (!p) {
        rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
        goto out;
      }
      o = p;
      cap = ncap;
    }
    /* One byte stays free for the NUL; one byte past max shows the cap. */
    size_t room = cap - olen - 1;
    zs.next_out = (unsigned char *)o + olen;
    zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
    uInt before = zs.avail_out;
    int zr = inflate(&zs, Z_NO_FLUSH);
    olen += before - zs.avail_out;
    size_t used = (size_t)(zs.next_in - in);
    if (zr == Z_STREAM_END) {
      if (len - used >= 2 && in[used] == 0x1f && in[used + 1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: corrupt gzip data at byte %zu: %s", name, used,
                          zs.msg ? zs.msg : "bad data");
      goto out;
    }
    if (zr == Z_MEM_ERROR) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
      goto out;
    }
    if (zs.avail_in == 0 && used < len) /* more than 4 GiB of input */
      zs.avail_in = len - used > UINT_MAX ? UINT_MAX : (uInt)(len - used);
    /* Z_OK or Z_BUF_ERROR: with all input consumed and room left, the
     * stream stopped before its end. */
    if (used == len && zs.avail_out > 0) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "%s: truncated gzip data after %zu bytes (%zu bytes "
                          "decompressed); the file is incomplete, copy it "
                          "again",
                          name, len, olen);
      goto out;
    }
  }
  if (olen > max) {
    rc = too_big(name, max, err);
    goto out;
  }
  o[olen] = '\0';
  *out_text = o;
  *out_len = olen;
  o = NULL;
out:
  inflateEnd(&zs);
  free(o);
  return rc;
}

/* ------------------------------------------------ well-formed JSON check */

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

static int hex4(const char *p, const char *e) {
  int v = 0;
  for (int i = 0; i < 4; i++, p++) {
    if (p >= e)
      return -1;
    char c = *p;
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Past the string at p (on its opening quote); NULL when malformed. */
static const char *scan_string(const char *p, const char *e) {
  for (p++; p < e && *p != '"'; p++) {
    if ((unsigned char)*p < 0x20)
      return NULL;
    if (*p != '\\')
      continue;
    if (++p >= e)
      return NULL;
    if (*p != 'u') {
      if (!strchr("\"\\/bfnrt", *p) || *p == '\0')
        return NULL;
      continue;
    }
    int u = hex4(p + 1, e);
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
      return NULL;
    p += 4;
    if (u >= 0xD800 && u <= 0xDBFF) { /* a pair's first half needs its second */
      int lo = e - p > 2 && p[1] == '\\' && p[2] == 'u' ? hex4(p + 3, e) : -1;
      if (lo < 0xDC00 || lo > 0xDFFF)
        return NULL;
      p += 6;
    }
  }
  return p < e ? p + 1 : NULL;
}

static const char *scan_digits(const char *p, const char *e) {
  const char *s = p;
  while (p < e && *p >= '0' && *p <= '9')
    p++;
  return p > s ? p : NULL;
}

static const char *scan_number(const char *p, const char *e) {
  if (*p == '-')
    p++;
  if (!(p = scan_digits(p, e)))
    return NULL;
  if (p < e && *p == '.' && !(p = scan_digits(p + 1, e)))
    return NULL;
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-'))
      p++;
    p = scan_digits(p, e);
  }
  return p;
}

/*
 * Whether text is one strict JSON value, as deep as cJSON allows. When
 * cJSON refuses text this accepts, cJSON ran out of memory. Stricter than
 * cJSON (no BOM, no control characters as white space) errs on the side of
 * "malformed", the message an out-of-memory got before.
 */
static bool json_well_formed(const char *p, size_t len) {
  const char *e = p + len;
  char stack[JSON_MAX_DEPTH];
  size_t depth = 0;
  p = skip_ws(p, e);
value:
  if (p >= e)
    return false;
  if (*p == '{' || *p == '[') {
    if (depth == JSON_MAX_DEPTH)
      return false;
    stack[depth++] = *p;
    p = skip_ws(p + 1, e);
    if (p < e && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
      depth--;
      p++;
      goto after;
    }
    if (stack[depth - 1] == '[')
      goto value;
    goto member;
  }
  if (*p == '"')
    p = scan_string(p, e);
  else if (*p == '-' || (*p >= '0' && *p <= '9'))
    p = scan_number(p, e);
  else if (e - p >= 4 && (!memcmp(p, "true", 4) || !memcmp(p, "null", 4)))
    p += 4;
  else if (e - p >= 5 && !memcmp(p, "false", 5))
    p += 5;
  else
    return false;
  if (!p)
    return false;
after:
  p = skip_ws(p, e);
  if (depth == 0)
    return p == e || *p == '\0';
  if (p < e && *p == ',') {
    p = skip_ws(p + 1, e);
    if (stack[depth - 1] == '[')
      goto value;
    goto member;
  }
  if (p < e && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
    depth--;
    p++;
    goto after;
  }
  return false;
member:
  if (p >= e || *p != '"' || !(p = scan_string(p, e)))
    return false;
  p = skip_ws(p, e);
  if (p >= e || *p != ':')
    return false;
  p = skip_ws(p + 1, e);
  goto value;
}

/* ------------------------------------------------------------ parse */

helion_status helion__sim_parse(const char *name, const char *data, size_t len,
                                size_t max, cJSON **out, helion_err_t *err) {
  helion_status rc = HELION_OK;
  char *inflated = NULL;
  const char *text = data;
  size_t tlen = len;
  helion_buf_t origin;
  helion_buf_init(&origin, 0);
  /* Gzip by its magic bytes, whatever the file is called. */
  if (len >= 2 && (unsigned char)data[0] == 0x1f &&
      (unsigned char)data[1] == 0x8b) {
    rc = gunzip(name, (const unsigned char *)data, len, max, &inflated, &tlen,
                err);
    if (rc)
      goto out;
    text = inflated;
    helion_buf_appendf(&origin, "%s (decompressed)", name);
  } else {
    if (len > max) {
      rc = too_big(name, max, err);
      goto out;
    }
    helion_buf_puts(&origin, name);
  }
  rc = helion_json_parse(text, tlen, helion_buf_str(&origin), out, err);
  if (rc == HELION_ERR_PARSE && json_well_formed(text, tlen))
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "%s: out of memory while parsing its %zu MiB of JSON",
                        name, (tlen + MIB - 1) / MIB);
out:
  free(inflated);
  helion_buf_cleanup(&origin);
  return rc;
}
