/* util.c: errors, logging, progress, buffers, SHA-256, RNG and file I/O. */
#define _XOPEN_SOURCE 700 /* realpath, and POSIX 2008 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- errors */

helion_status helion_err_set(helion_err_t *err, helion_status rc,
                             const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
  }
  return rc;
}

void helion_err_prefix(helion_err_t *err, const char *fmt, ...) {
  if (!err)
    return;
  char old[HELION_ERR_MSG_MAX];
  va_list ap;
  memcpy(old, err->msg, sizeof(old));
  old[sizeof(old) - 1] = '\0';
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  size_t used = (size_t)n < sizeof(err->msg) ? (size_t)n : sizeof(err->msg) - 1;
  size_t room = sizeof(err->msg) - 1 - used;
  size_t len = strlen(old);
  if (len > room)
    len = room;
  memcpy(err->msg + used, old, len);
  err->msg[used + len] = '\0';
}

/* --------------------------------------------------------------- logging */

int helion_log_level_current = HELION_LOG_INFO;

static double log_started;
static double (*log_clock)(void *ud);
static void *log_clock_ud;

double helion_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void helion_log_start(void) { log_started = helion_now(); }

void helion_log_set_clock(double (*clock)(void *ud), void *ud) {
  log_clock = clock;
  log_clock_ud = ud;
}

double helion_log_elapsed(void) {
  if (log_clock)
    return log_clock(log_clock_ud);
  if (log_started == 0)
    helion_log_start();
  return helion_now() - log_started;
}

/* A progress line that is on screen must be erased before a log line. */
static bool progress_visible;

void helion__log(int level, const char *fmt, ...) {
  char line[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (progress_visible) {
    fputs("\r\033[K", stderr);
    progress_visible = false;
  }
  const char *tag = level == HELION_LOG_ERROR  ? "error: "
                    : level == HELION_LOG_WARN ? "warning: "
                                               : "";
  fprintf(stderr, "[%.0fs] %s%s\n", floor(helion_log_elapsed()), tag, line);
}

/* -------------------------------------------------------------- progress */

void helion_progress_begin(helion_progress_t *p, const char *desc,
                           size_t total) {
  memset(p, 0, sizeof(*p));
  p->desc = desc;
  p->total = total;
  p->started = helion_now();
  const char *env = getenv("HELION_AUTOTUNE_PROGRESS_BAR");
  if (env && strcmp(env, "1") == 0)
    p->enabled = true;
  else if (env && (strcmp(env, "0") == 0 || env[0] == '\0'))
    p->enabled = false;
  else
    p->enabled = helion_log_level_current >= HELION_LOG_INFO &&
                 isatty(STDERR_FILENO);
}

static void progress_draw(helion_progress_t *p) {
  double dt = helion_now() - p->started;
  double rate = dt > 0 ? (double)p->done / dt : 0.0;
  unsigned pct = p->total ? (unsigned)(100.0 * (double)p->done / (double)p->total) : 100;
  fprintf(stderr, "\r\033[K%s %3u%% %zu/%zu  %.1f configs/s", p->desc, pct,
          p->done, p->total, rate);
  fflush(stderr);
  progress_visible = true;
}

void helion_progress_step(helion_progress_t *p, size_t n) {
  p->done += n;
  if (!p->enabled)
    return;
  double now = helion_now();
  if (now - p->last_draw < 0.1 && p->done < p->total)
    return;
  p->last_draw = now;
  progress_draw(p);
}

void helion_progress_end(helion_progress_t *p) {
  if (p->enabled && progress_visible) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
    progress_visible = false;
  }
}

/* ---------------------------------------------------------------- buffer */

void helion_buf_init(helion_buf_t *b, size_t max) {
  memset(b, 0, sizeof(*b));
  b->max = max ? max : HELION_BUF_DEFAULT_MAX;
}

void helion_buf_cleanup(helion_buf_t *b) {
  if (!b)
    return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void helion_buf_reset(helion_buf_t *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

static helion_status buf_reserve(helion_buf_t *b, size_t extra) {
  if (extra > b->max || b->len > b->max - extra)
    return HELION_ERR_LIMIT;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return HELION_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p)
    return HELION_ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  return HELION_OK;
}

helion_status helion_buf_append(helion_buf_t *b, const void *data, size_t n) {
  helion_status rc = buf_reserve(b, n);
  if (rc)
    return rc;
  if (n)
    memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  return HELION_OK;
}

helion_status helion_buf_puts(helion_buf_t *b, const char *s) {
  return helion_buf_append(b, s, strlen(s));
}

helion_status helion_buf_putc(helion_buf_t *b, char c) {
  return helion_buf_append(b, &c, 1);
}

helion_status helion_buf_vappendf(helion_buf_t *b, const char *fmt,
                                  va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return HELION_ERR_INVALID;
  helion_status rc = buf_reserve(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return HELION_OK;
}

helion_status helion_buf_appendf(helion_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  helion_status rc = helion_buf_vappendf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *helion_buf_take(helion_buf_t *b) {
  char *s = b->data;
  if (!s)
    s = helion_strdup("");
  b->data = NULL;
  b->len = b->cap = 0;
  return s;
}

const char *helion_buf_str(const helion_buf_t *b) {
  return b->data ? b->data : "";
}

helion_status helion_buf_put_json_string(helion_buf_t *b, const char *s) {
  helion_status rc = helion_buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
    switch (*p) {
    case '"':
      rc = helion_buf_puts(b, "\\\"");
      break;
    case '\\':
      rc = helion_buf_puts(b, "\\\\");
      break;
    case '\n':
      rc = helion_buf_puts(b, "\\n");
      break;
    case '\r':
      rc = helion_buf_puts(b, "\\r");
      break;
    case '\t':
      rc = helion_buf_puts(b, "\\t");
      break;
    default:
      if (*p < 0x20)
        rc = helion_buf_appendf(b, "\\u%04x", *p);
      else
        rc = helion_buf_putc(b, (char)*p);
    }
  }
  if (!rc)
    rc = helion_buf_putc(b, '"');
  return rc;
}

/* ---------------------------------------------------------------- sha256 */

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(helion_sha256_t *h, const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h->state[0], b = h->state[1], c = h->state[2], d = h->state[3];
  uint32_t e = h->state[4], f = h->state[5], g = h->state[6], k = h->state[7];
  for (int i = 0; i < 64; i++) {
    uint32_t s1 = ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = k + s1 + ch + sha256_k[i] + w[i];
    uint32_t s0 = ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + maj;
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h->state[0] += a;
  h->state[1] += b;
  h->state[2] += c;
  h->state[3] += d;
  h->state[4] += e;
  h->state[5] += f;
  h->state[6] += g;
  h->state[7] += k;
}

void helion_sha256_init(helion_sha256_t *h) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                 0xa54ff53a, 0x510e527f, 0x9b05688c,
                                 0x1f83d9ab, 0x5be0cd19};
  memcpy(h->state, iv, sizeof(iv));
  h->bits = 0;
  h->fill = 0;
}

void helion_sha256_update(helion_sha256_t *h, const void *data, size_t n) {
  const uint8_t *p = data;
  h->bits += (uint64_t)n * 8;
  while (n) {
    size_t take = 64 - h->fill;
    if (take > n)
      take = n;
    memcpy(h->block + h->fill, p, take);
    h->fill += take;
    p += take;
    n -= take;
    if (h->fill == 64) {
      sha256_block(h, h->block);
      h->fill = 0;
    }
  }
}

void helion_sha256_final(helion_sha256_t *h, uint8_t out[32]) {
  uint64_t bits = h->bits;
  uint8_t pad = 0x80;
  helion_sha256_update(h, &pad, 1);
  pad = 0;
  while (h->fill != 56)
    helion_sha256_update(h, &pad, 1);
  uint8_t len[8];
  for (int i = 0; i < 8; i++)
    len[i] = (uint8_t)(bits >> (56 - 8 * i));
  helion_sha256_update(h, len, 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(h->state[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h->state[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h->state[i] >> 8);
    out[4 * i + 3] = (uint8_t)h->state[i];
  }
}

void helion_sha256_hex(const void *data, size_t n, char out[65]) {
  helion_sha256_t h;
  uint8_t d[32];
  helion_sha256_init(&h);
  helion_sha256_update(&h, data, n);
  helion_sha256_final(&h, d);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ------------------------------------------------------------------- rng */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void helion_rng_seed(helion_rng_t *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t helion_rng_next(helion_rng_t *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64(s[3], 45);
  return result;
}

uint64_t helion_rng_below(helion_rng_t *r, uint64_t n) {
  /* Reject the low values that would make `x % n` favour small results. */
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = helion_rng_next(r);
    if (x >= threshold)
      return x % n;
  }
}

int64_t helion_rng_range(helion_rng_t *r, int64_t lo, int64_t hi) {
  uint64_t span = (uint64_t)hi - (uint64_t)lo;
  if (span == UINT64_MAX)
    return (int64_t)helion_rng_next(r);
  return (int64_t)((uint64_t)lo + helion_rng_below(r, span + 1));
}

double helion_rng_double(helion_rng_t *r) {
  return (double)(helion_rng_next(r) >> 11) * 0x1.0p-53;
}

double helion_rng_normal(helion_rng_t *r) {
  double u1 = helion_rng_double(r);
  double u2 = helion_rng_double(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void helion_rng_shuffle(helion_rng_t *r, void *base, size_t n, size_t size) {
  unsigned char *p = base;
  unsigned char tmp[256];
  if (size > sizeof(tmp) || n < 2)
    return;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = (size_t)helion_rng_below(r, (uint64_t)i + 1);
    if (j == i)
      continue;
    memcpy(tmp, p + i * size, size);
    memcpy(p + i * size, p + j * size, size);
    memcpy(p + j * size, tmp, size);
  }
}

/* ----------------------------------------------------------------- files */

helion_status helion_read_file(const char *path, size_t max, char **out_data,
                               size_t *out_len, helion_err_t *err) {
  helion_status rc = HELION_OK;
  char *data = NULL;
  size_t len = 0, cap = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return helion_err_set(err, HELION_ERR_IO, "%s: cannot open: %s", path,
                          strerror(errno));
  for (;;) {
    if (cap - len < 4096 + 1) {
      size_t ncap = cap ? cap * 2 : 65536;
      char *p = realloc(data, ncap);
      if (!p) {
        rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", path);
        goto out;
      }
      data = p;
      cap = ncap;
    }
    size_t n = fread(data + len, 1, cap - len - 1, f);
    len += n;
    if (len > max) {
      rc = helion_err_set(err, HELION_ERR_LIMIT,
                          "%s: larger than the %zu-byte limit", path, max);
      goto out;
    }
    if (n == 0) {
      if (ferror(f)) {
        rc = helion_err_set(err, HELION_ERR_IO, "%s: read error: %s", path,
                            strerror(errno));
        goto out;
      }
      break;
    }
  }
  data[len] = '\0';
  *out_data = data;
  *out_len = len;
  data = NULL;
out:
  free(data);
  fclose(f);
  return rc;
}

/* Writes all of data to fd, continuing short writes and EINTR. */
static helion_status write_all(int fd, const char *what, const void *data,
                               size_t len, helion_err_t *err) {
  const char *p = data;
  size_t left = len;
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return helion_err_set(err, HELION_ERR_IO, "%s: write failed: %s", what,
                            strerror(errno));
    p += n;
    left -= (size_t)n;
  }
  return HELION_OK;
}

/* Writes through to a device, FIFO or socket: no temporary, no rename. */
static helion_status write_through(const char *path, const void *data,
                                   size_t len, helion_err_t *err) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return helion_err_set(err, HELION_ERR_IO, "%s: cannot open: %s", path,
                          strerror(errno));
  helion_status rc = write_all(fd, path, data, len, err);
  if (close(fd) != 0 && rc == HELION_OK)
    rc = helion_err_set(err, HELION_ERR_IO, "%s: close failed: %s", path,
                        strerror(errno));
  return rc;
}

helion_status helion_write_file_atomic(const char *path, const void *data,
                                       size_t len, helion_err_t *err) {
  helion_status rc = HELION_OK;
  char *real = NULL, *dir = NULL, *tmp = NULL;
  int fd = -1;
  struct stat st, lst;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return helion_err_set(err, HELION_ERR_IO, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode))
      return write_through(path, data, len, err);
    /* A link to a regular file: the temporary goes next to the file it
     * points at, and the rename replaces that file, not the link. */
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) &&
        !(real = realpath(path, NULL)))
      return helion_err_set(err, HELION_ERR_IO, "%s: cannot resolve: %s", path,
                            strerror(errno));
  } else if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
    return helion_err_set(err, HELION_ERR_IO,
                          "%s: a symbolic link to a missing file; write to "
                          "the file itself",
                          path);
  }
  const char *target = real ? real : path;
  dir = helion_path_dirname(target);
  size_t tlen = strlen(target) + 32;
  tmp = malloc(tlen);
  if (!dir || !tmp) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", path);
    goto out;
  }
  snprintf(tmp, tlen, "%s.tmp.XXXXXX", target);
  fd = mkstemp(tmp);
  if (fd < 0) {
    rc = helion_err_set(err, HELION_ERR_IO,
                        "%s: cannot create a temporary file: %s", path,
                        strerror(errno));
    goto out;
  }
  if ((rc = write_all(fd, path, data, len, err)))
    goto out;
  /* Files in the cache and results are read by other users' builds too. */
  if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
    rc = helion_err_set(err, HELION_ERR_IO, "%s: cannot flush: %s", path,
                        strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = helion_err_set(err, HELION_ERR_IO, "%s: close failed: %s", path,
                        strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, target) != 0) {
    rc = helion_err_set(err, HELION_ERR_IO, "%s: cannot replace: %s", path,
                        strerror(errno));
    goto out;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
out:
  if (fd >= 0) {
    close(fd);
  }
  if (rc && tmp)
    unlink(tmp);
  free(tmp);
  free(dir);
  free(real);
  return rc;
}

helion_status helion_file_write_record(FILE *f, const char *line, size_t len,
                                       helion_err_t *err) {
  if (fflush(f) != 0)
    return helion_err_set(err, HELION_ERR_IO, "cannot write: %s",
                          strerror(errno));
  return write_all(fileno(f), "cannot write", line, len, err);
}

helion_status helion_output_check(const char *flag, const char *out,
                                  const char *const *inputs,
                                  const char *const *input_names, size_t n,
                                  helion_err_t *err) {
  struct stat so, si;
  if (!out || stat(out, &so) != 0)
    return HELION_OK;
  for (size_t i = 0; i < n; i++)
    if (inputs[i] && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "%s %s: that is the %s this command reads (%s); "
                            "writing it would destroy it; choose another file",
                            flag, out, input_names[i], inputs[i]);
  return HELION_OK;
}

helion_status helion_path_check_writable(const char *flag, const char *path,
                                         helion_err_t *err) {
  struct stat st;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return helion_err_set(err, HELION_ERR_IO, "%s %s: is a directory", flag,
                            path);
    if (access(path, W_OK) != 0)
      return helion_err_set(err, HELION_ERR_IO, "%s %s: cannot write: %s", flag,
                            path, strerror(errno));
    return HELION_OK;
  }
  char *dir = helion_path_dirname(path);
  if (!dir)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  helion_status rc = HELION_OK;
  if (stat(dir, &st) != 0)
    rc = helion_err_set(err, HELION_ERR_IO,
                        "%s %s: cannot create it: the directory %s: %s", flag,
                        path, dir, strerror(errno));
  else if (!S_ISDIR(st.st_mode))
    rc = helion_err_set(err, HELION_ERR_IO,
                        "%s %s: cannot create it: %s is not a directory", flag,
                        path, dir);
  else if (access(dir, W_OK | X_OK) != 0)
    rc = helion_err_set(err, HELION_ERR_IO, "%s %s: cannot create it in %s: %s",
                        flag, path, dir, strerror(errno));
  free(dir);
  return rc;
}

char *helion_path_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return helion_strdup(".");
  if (slash == path)
    return helion_strdup("/");
  size_t n = (size_t)(slash - path);
  char *d = malloc(n + 1);
  if (!d)
    return NULL;
  memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

char *helion_path_join(const char *dir, const char *rel) {
  if (rel[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
    return helion_strdup(rel);
  size_t n = strlen(dir) + strlen(rel) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", dir, rel);
  return p;
}

/* ----------------------------------------------------------------- misc */

bool helion_is_c_identifier(const char *s) {
  static const char *const keywords[] = {
      "auto",     "break",    "case",     "char",         "const",
      "continue", "default",  "do",       "double",       "else",
      "enum",     "extern",   "float",    "for",          "goto",
      "if",       "inline",   "int",      "long",         "register",
      "restrict", "return",   "short",    "signed",       "sizeof",
      "static",   "struct",   "switch",   "typedef",      "union",
      "unsigned", "void",     "volatile", "while",        "_Alignas",
      "_Alignof", "_Atomic",  "_Bool",    "_Complex",     "_Generic",
      "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
      /* C++ (kernels are CUDA C++, generated headers compile as C++). */
      "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool",
      "catch", "char8_t", "char16_t", "char32_t", "class", "compl",
      "concept", "consteval", "constexpr", "constinit", "const_cast",
      "co_await", "co_return", "co_yield", "decltype", "delete",
      "dynamic_cast", "explicit", "export", "false", "friend", "mutable",
      "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator",
      "or", "or_eq", "private", "protected", "public", "reinterpret_cast",
      "requires", "static_assert", "static_cast", "template", "this",
      "thread_local", "throw", "true", "try", "typeid", "typename", "using",
      "virtual", "wchar_t", "xor", "xor_eq"};
  if (!s || !s[0])
    return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
        s[0] == '_'))
    return false;
  for (const char *p = s + 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
    if (strcmp(s, keywords[i]) == 0)
      return false;
  return true;
}

char *helion_strdup(const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

bool helion_is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

int helion_log2_floor(uint64_t v) {
  int r = -1;
  while (v) {
    v >>= 1;
    r++;
  }
  return r;
}

bool helion_env_int(const char *name, int64_t *out) {
  const char *s = getenv(name);
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

const char *helion_env_number(const char *name, double *out, bool *ok) {
  const char *s = getenv(name);
  if (!s || !*s)
    return NULL;
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  *ok = !errno && !*end && !isnan(*out);
  return s;
}

helion_status helion_log_level_from_env(int fallback, int *out,
                                        helion_err_t *err) {
  static const struct {
    const char *name;
    int level;
  } names[] = {{"DEBUG", HELION_LOG_DEBUG}, {"INFO", HELION_LOG_INFO},
               {"WARNING", HELION_LOG_WARN}, {"WARN", HELION_LOG_WARN},
               {"ERROR", HELION_LOG_ERROR},  {"CRITICAL", HELION_LOG_QUIET}};
  const char *s = getenv("HELION_AUTOTUNE_LOG_LEVEL");
  *out = fallback;
  if (!s || !*s)
    return HELION_OK;
  int64_t v;
  if (helion_env_int("HELION_AUTOTUNE_LOG_LEVEL", &v)) {
    *out = v <= 10   ? HELION_LOG_DEBUG
           : v <= 20 ? HELION_LOG_INFO
           : v <= 30 ? HELION_LOG_WARN
           : v <= 40 ? HELION_LOG_ERROR
                     : HELION_LOG_QUIET;
    return HELION_OK;
  }
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcasecmp(s, names[i].name) == 0) {
      *out = names[i].level;
      return HELION_OK;
    }
  return helion_err_set(err, HELION_ERR_USAGE,
                        "HELION_AUTOTUNE_LOG_LEVEL='%s': expected DEBUG, INFO, "
                        "WARNING, ERROR, CRITICAL or a number (10, 20, 30, "
                        "40, 50)",
                        s);
}

bool helion_env_flag(const char *name) {
  const char *s = getenv(name);
  if (!s || !*s)
    return false;
  return strcmp(s, "0") != 0 && strcmp(s, "false") != 0 &&
         strcmp(s, "no") != 0 && strcmp(s, "off") != 0;
}
