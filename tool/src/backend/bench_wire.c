/*
 * bench_wire.c: the bytes between the benchmark worker and its client: the
 * message framing (bench_worker.h) and the payload codec (bench_wire.h).
 */
#include "backend/bench_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * Framing.
 */

static helion_status send_all(int fd, const void *p, size_t n,
                              helion_err_t *err) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK)
      w = write(fd, b, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct pollfd pf = {fd, POLLOUT, 0};
        (void)poll(&pf, 1, 1000);
        continue;
      }
      return helion_err_set(err, HELION_ERR_IO,
                            "benchmark worker connection: write failed: %s",
                            strerror(errno));
    }
    b += w;
    n -= (size_t)w;
  }
  return HELION_OK;
}

helion_status helion_wire_send(int fd, uint32_t type, const void *payload,
                               size_t len, helion_err_t *err) {
  if (len > HELION_WIRE_MAX)
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "benchmark message of %zu bytes exceeds the %zu "
                          "byte limit",
                          len, HELION_WIRE_MAX);
  uint32_t head[3] = {HELION_WIRE_MAGIC, type, (uint32_t)len};
  helion_status rc = send_all(fd, head, sizeof(head), err);
  if (!rc && len)
    rc = send_all(fd, payload, len, err);
  return rc;
}

void helion_wire_reader_init(helion_wire_reader_t *r) {
  memset(r, 0, sizeof(*r));
}

void helion_wire_reader_cleanup(helion_wire_reader_t *r) {
  if (!r)
    return;
  free(r->body);
  memset(r, 0, sizeof(*r));
}

helion_status helion_wire_read(helion_wire_reader_t *r, int fd, bool block,
                               bool *out_done, uint32_t *out_type,
                               uint8_t **out_payload, size_t *out_len,
                               helion_err_t *err) {
  *out_done = false;
  for (;;) {
    uint8_t *dst;
    size_t want;
    if (r->head_have < sizeof(r->head)) {
      dst = r->head + r->head_have;
      want = sizeof(r->head) - r->head_have;
    } else {
      dst = r->body + r->body_have;
      want = r->body_len - r->body_have;
    }
    if (want) {
      ssize_t got = recv(fd, dst, want, block ? 0 : MSG_DONTWAIT);
      if (got < 0 && errno == ENOTSOCK)
        got = read(fd, dst, want);
      if (got < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          if (!block)
            return HELION_OK;
          struct pollfd pf = {fd, POLLIN, 0};
          (void)poll(&pf, 1, -1);
          continue;
        }
        return helion_err_set(err, HELION_ERR_IO,
                              "benchmark worker connection: read failed: %s",
                              strerror(errno));
      }
      if (got == 0)
        return helion_err_set(err, HELION_ERR_IO,
                              "benchmark worker closed the connection");
      if (r->head_have < sizeof(r->head)) {
        r->head_have += (size_t)got;
        if (r->head_have < sizeof(r->head))
          continue;
        uint32_t head[3];
        memcpy(head, r->head, sizeof(head));
        if (head[0] != HELION_WIRE_MAGIC || head[2] > HELION_WIRE_MAX)
          return helion_err_set(err, HELION_ERR_PARSE,
                                "benchmark worker connection: bad message "
                                "header (magic 0x%08x, length %u)",
                                head[0], head[2]);
        r->type = head[1];
        r->body_len = head[2];
        r->body_have = 0;
        if (r->body_len) {
          r->body = malloc(r->body_len);
          if (!r->body)
            return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
        }
      } else {
        r->body_have += (size_t)got;
      }
      if (r->body_have < r->body_len)
        continue;
    }
    /* Complete. */
    *out_done = true;
    *out_type = r->type;
    *out_payload = r->body;
    *out_len = r->body_len;
    r->body = NULL;
    r->head_have = r->body_len = r->body_have = 0;
    return HELION_OK;
  }
}

/* ---------------------------------------------------------------------------
 * Payload encoding: fixed-size fields in host order, strings and blobs as
 * u32 length + bytes.
 */

void helion__wire_enc_init(helion__wire_enc_t *e) {
  helion_buf_init(&e->b, HELION_WIRE_MAX);
  e->bad = false;
}
static void wire_put(helion__wire_enc_t *e, const void *p, size_t n) {
  if (helion_buf_append(&e->b, p, n))
    e->bad = true;
}
void helion__wire_put_u32(helion__wire_enc_t *e, uint32_t v) {
  wire_put(e, &v, 4);
}
void helion__wire_put_u64(helion__wire_enc_t *e, uint64_t v) {
  wire_put(e, &v, 8);
}
void helion__wire_put_f64(helion__wire_enc_t *e, double v) {
  wire_put(e, &v, 8);
}
void helion__wire_put_blob(helion__wire_enc_t *e, const void *p, size_t n) {
  helion__wire_put_u32(e, (uint32_t)n);
  wire_put(e, p, n);
}
void helion__wire_put_str(helion__wire_enc_t *e, const char *s) {
  helion__wire_put_blob(e, s ? s : "", s ? strlen(s) : 0);
}

static void wire_get(helion__wire_dec_t *d, void *out, size_t n) {
  if (d->bad || d->len - d->off < n) {
    d->bad = true;
    memset(out, 0, n);
    return;
  }
  memcpy(out, d->p + d->off, n);
  d->off += n;
}
uint32_t helion__wire_get_u32(helion__wire_dec_t *d) {
  uint32_t v;
  wire_get(d, &v, 4);
  return v;
}
uint64_t helion__wire_get_u64(helion__wire_dec_t *d) {
  uint64_t v;
  wire_get(d, &v, 8);
  return v;
}
double helion__wire_get_f64(helion__wire_dec_t *d) {
  double v;
  wire_get(d, &v, 8);
  return v;
}
/* A pointer into the payload (not copied) and its length. */
const uint8_t *helion__wire_get_blob(helion__wire_dec_t *d, size_t *n) {
  uint32_t len = helion__wire_get_u32(d);
  if (d->bad || d->len - d->off < len) {
    d->bad = true;
    *n = 0;
    return NULL;
  }
  const uint8_t *p = d->p + d->off;
  d->off += len;
  *n = len;
  return p;
}
/* A malloc'd NUL-terminated copy. */
char *helion__wire_get_str(helion__wire_dec_t *d) {
  size_t n;
  const uint8_t *p = helion__wire_get_blob(d, &n);
  char *s = malloc(n + 1);
  if (!s) {
    d->bad = true;
    return NULL;
  }
  if (n)
    memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static void put_launch(helion__wire_enc_t *e, const helion_launch_t *l) {
  for (int i = 0; i < 3; i++)
    helion__wire_put_u32(e, l->grid[i]);
  for (int i = 0; i < 3; i++)
    helion__wire_put_u32(e, l->block[i]);
  helion__wire_put_u32(e, l->shared_mem);
}
static void get_launch(helion__wire_dec_t *d, helion_launch_t *l) {
  for (int i = 0; i < 3; i++)
    l->grid[i] = helion__wire_get_u32(d);
  for (int i = 0; i < 3; i++)
    l->block[i] = helion__wire_get_u32(d);
  l->shared_mem = helion__wire_get_u32(d);
}
void helion__wire_put_kernel(helion__wire_enc_t *e,
                             const helion_kernel_image_t *k) {
  helion__wire_put_blob(e, k->image, k->len);
  helion__wire_put_str(e, k->entry);
  put_launch(e, &k->launch);
}
void helion__wire_get_kernel(helion__wire_dec_t *d, helion__wire_kernel_t *k) {
  k->image = helion__wire_get_blob(d, &k->len);
  k->entry = helion__wire_get_str(d);
  get_launch(d, &k->launch);
}
void helion__wire_put_timing(helion__wire_enc_t *e, const helion_timing_t *t) {
  helion__wire_put_f64(e, t->warmup_ms);
  helion__wire_put_f64(e, t->rep_ms);
  helion__wire_put_f64(e, t->graph_us);
  helion__wire_put_u32(e, t->min_reps);
  helion__wire_put_u32(e, t->max_reps);
  helion__wire_put_f64(e, t->precision);
  helion__wire_put_f64(e, t->cutoff_ms);
  helion__wire_put_f64(e, t->incumbent_ms);
  helion__wire_put_f64(e, t->duty);
}
void helion__wire_get_timing(helion__wire_dec_t *d, helion_timing_t *t) {
  t->warmup_ms = helion__wire_get_f64(d);
  t->rep_ms = helion__wire_get_f64(d);
  t->graph_us = helion__wire_get_f64(d);
  t->min_reps = helion__wire_get_u32(d);
  t->max_reps = helion__wire_get_u32(d);
  t->precision = helion__wire_get_f64(d);
  t->cutoff_ms = helion__wire_get_f64(d);
  t->incumbent_ms = helion__wire_get_f64(d);
  t->duty = helion__wire_get_f64(d);
}
void helion__wire_put_info(helion__wire_enc_t *e, const helion_gpu_info_t *in) {
  helion__wire_put_str(e, in->props.name);
  helion__wire_put_u32(e, (uint32_t)in->props.cc_major);
  helion__wire_put_u32(e, (uint32_t)in->props.cc_minor);
  helion__wire_put_u64(e, (uint64_t)in->props.num_sms);
  helion__wire_put_u64(e, (uint64_t)in->props.smem_per_block);
  helion__wire_put_u64(e, (uint64_t)in->props.regs_per_sm);
  helion__wire_put_u32(e, (uint32_t)in->ordinal);
  helion__wire_put_u32(e, (uint32_t)in->driver_version);
  helion__wire_put_u64(e, (uint64_t)in->l2_bytes);
  helion__wire_put_u64(e, (uint64_t)in->total_mem);
  helion__wire_put_u64(e, (uint64_t)in->max_threads_per_block);
  helion__wire_put_u64(e, (uint64_t)in->smem_per_block_default);
  helion__wire_put_u32(e, (uint32_t)in->device_count);
}
void helion__wire_get_info(helion__wire_dec_t *d, helion_gpu_info_t *in) {
  memset(in, 0, sizeof(*in));
  size_t n;
  const uint8_t *name = helion__wire_get_blob(d, &n);
  if (n >= sizeof(in->props.name))
    n = sizeof(in->props.name) - 1;
  if (name)
    memcpy(in->props.name, name, n);
  in->props.cc_major = (int)helion__wire_get_u32(d);
  in->props.cc_minor = (int)helion__wire_get_u32(d);
  in->props.num_sms = (int64_t)helion__wire_get_u64(d);
  in->props.smem_per_block = (int64_t)helion__wire_get_u64(d);
  in->props.regs_per_sm = (int64_t)helion__wire_get_u64(d);
  in->ordinal = (int)helion__wire_get_u32(d);
  in->driver_version = (int)helion__wire_get_u32(d);
  in->l2_bytes = (int64_t)helion__wire_get_u64(d);
  in->total_mem = (int64_t)helion__wire_get_u64(d);
  in->max_threads_per_block = (int64_t)helion__wire_get_u64(d);
  in->smem_per_block_default = (int64_t)helion__wire_get_u64(d);
  in->device_count = (int)helion__wire_get_u32(d);
}
