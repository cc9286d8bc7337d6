/*
 * bench_worker.c: the benchmark worker process (serves init, setup, bench,
 * rebench and shutdown jobs over a socket with the GPU runner) and the
 * client that starts it, watches it with a deadline and restarts it.
 */
#define _GNU_SOURCE /* pipe2-style SOCK_CLOEXEC, prctl */
#include "backend/bench_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/spec.h"

enum {
  REQ_INIT = 1,
  REQ_SETUP = 2,
  REQ_BENCH = 3,
  REQ_REBENCH = 4,
  REQ_SHUTDOWN = 5,
  REP_DEVICE = 101,
  REP_RESULT = 102,
  REP_REBENCH = 103,
  REP_ERROR = 104,
};

/* Exit status of a worker that ended after a sticky CUDA error. */
#define EXIT_STICKY 3

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

typedef struct enc {
  helion_buf_t b;
  bool bad;
} enc;

static void enc_init(enc *e) {
  helion_buf_init(&e->b, HELION_WIRE_MAX);
  e->bad = false;
}
static void put(enc *e, const void *p, size_t n) {
  if (helion_buf_append(&e->b, p, n))
    e->bad = true;
}
static void put_u32(enc *e, uint32_t v) {
  put(e, &v, 4);
}
static void put_u64(enc *e, uint64_t v) {
  put(e, &v, 8);
}
static void put_f64(enc *e, double v) {
  put(e, &v, 8);
}
static void put_blob(enc *e, const void *p, size_t n) {
  put_u32(e, (uint32_t)n);
  put(e, p, n);
}
static void put_str(enc *e, const char *s) {
  put_blob(e, s ? s : "", s ? strlen(s) : 0);
}

typedef struct dec {
  const uint8_t *p;
  size_t len, off;
  bool bad;
} dec;

static void get(dec *d, void *out, size_t n) {
  if (d->bad || d->len - d->off < n) {
    d->bad = true;
    memset(out, 0, n);
    return;
  }
  memcpy(out, d->p + d->off, n);
  d->off += n;
}
static uint32_t get_u32(dec *d) {
  uint32_t v;
  get(d, &v, 4);
  return v;
}
static uint64_t get_u64(dec *d) {
  uint64_t v;
  get(d, &v, 8);
  return v;
}
static double get_f64(dec *d) {
  double v;
  get(d, &v, 8);
  return v;
}
/* A pointer into the payload (not copied) and its length. */
static const uint8_t *get_blob(dec *d, size_t *n) {
  uint32_t len = get_u32(d);
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
static char *get_str(dec *d) {
  size_t n;
  const uint8_t *p = get_blob(d, &n);
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

static void put_launch(enc *e, const helion_launch_t *l) {
  for (int i = 0; i < 3; i++)
    put_u32(e, l->grid[i]);
  for (int i = 0; i < 3; i++)
    put_u32(e, l->block[i]);
  put_u32(e, l->shared_mem);
}
static void get_launch(dec *d, helion_launch_t *l) {
  for (int i = 0; i < 3; i++)
    l->grid[i] = get_u32(d);
  for (int i = 0; i < 3; i++)
    l->block[i] = get_u32(d);
  l->shared_mem = get_u32(d);
}
static void put_kernel(enc *e, const helion_kernel_image_t *k) {
  put_blob(e, k->image, k->len);
  put_str(e, k->entry);
  put_launch(e, &k->launch);
}
/* The image and entry point into the payload; entry is copied into `entry`
 * (malloc'd). */
typedef struct kernel_in {
  const uint8_t *image;
  size_t len;
  char *entry;
  helion_launch_t launch;
} kernel_in;
static void get_kernel(dec *d, kernel_in *k) {
  k->image = get_blob(d, &k->len);
  k->entry = get_str(d);
  get_launch(d, &k->launch);
}
static void put_timing(enc *e, const helion_timing_t *t) {
  put_f64(e, t->warmup_ms);
  put_f64(e, t->rep_ms);
  put_f64(e, t->graph_us);
  put_u32(e, t->min_reps);
  put_u32(e, t->max_reps);
  put_f64(e, t->precision);
  put_f64(e, t->cutoff_ms);
}
static void get_timing(dec *d, helion_timing_t *t) {
  t->warmup_ms = get_f64(d);
  t->rep_ms = get_f64(d);
  t->graph_us = get_f64(d);
  t->min_reps = get_u32(d);
  t->max_reps = get_u32(d);
  t->precision = get_f64(d);
  t->cutoff_ms = get_f64(d);
}
static void put_info(enc *e, const helion_gpu_info_t *in) {
  put_str(e, in->props.name);
  put_u32(e, (uint32_t)in->props.cc_major);
  put_u32(e, (uint32_t)in->props.cc_minor);
  put_u64(e, (uint64_t)in->props.num_sms);
  put_u64(e, (uint64_t)in->props.smem_per_block);
  put_u64(e, (uint64_t)in->props.regs_per_sm);
  put_u32(e, (uint32_t)in->ordinal);
  put_u32(e, (uint32_t)in->driver_version);
  put_u64(e, (uint64_t)in->l2_bytes);
  put_u64(e, (uint64_t)in->total_mem);
  put_u64(e, (uint64_t)in->max_threads_per_block);
  put_u64(e, (uint64_t)in->smem_per_block_default);
}
static void get_info(dec *d, helion_gpu_info_t *in) {
  memset(in, 0, sizeof(*in));
  size_t n;
  const uint8_t *name = get_blob(d, &n);
  if (n >= sizeof(in->props.name))
    n = sizeof(in->props.name) - 1;
  if (name)
    memcpy(in->props.name, name, n);
  in->props.cc_major = (int)get_u32(d);
  in->props.cc_minor = (int)get_u32(d);
  in->props.num_sms = (int64_t)get_u64(d);
  in->props.smem_per_block = (int64_t)get_u64(d);
  in->props.regs_per_sm = (int64_t)get_u64(d);
  in->ordinal = (int)get_u32(d);
  in->driver_version = (int)get_u32(d);
  in->l2_bytes = (int64_t)get_u64(d);
  in->total_mem = (int64_t)get_u64(d);
  in->max_threads_per_block = (int64_t)get_u64(d);
  in->smem_per_block_default = (int64_t)get_u64(d);
}

/* ---------------------------------------------------------------------------
 * The worker.
 */

/* runner.c behind the ops table. */
static helion_status real_create(int ordinal, void **out,
                                 helion_gpu_info_t *info, helion_err_t *err) {
  return helion_runner_create(ordinal, (helion_runner_t **)out, info, err);
}
static void real_destroy(void *r) { helion_runner_destroy(r); }
static helion_status real_set_args(void *r, const helion_spec_t *spec,
                                   const helion_host_args_t *args,
                                   helion_err_t *err) {
  return helion_runner_set_args(r, spec, args, err);
}
static helion_status real_load_kernel(void *r, const void *image, size_t len,
                                      const char *entry,
                                      const helion_launch_t *launch,
                                      void **out, helion_run_fail_t *fail,
                                      helion_err_t *err) {
  return helion_runner_load_kernel(r, image, len, entry, launch,
                                   (helion_runner_kernel_t **)out, fail, err);
}
static void real_unload_kernel(void *r, void *k) {
  helion_runner_unload_kernel(r, k);
}
static helion_status real_run_checked(void *r, void *k, bool keep_as_baseline,
                                      helion_run_fail_t *fail,
                                      helion_err_t *err) {
  return helion_runner_run_checked(r, k, keep_as_baseline, fail, err);
}
static helion_status real_time(void *r, void *k, const helion_timing_t *t,
                               helion_timed_t *out, helion_run_fail_t *fail,
                               helion_err_t *err) {
  return helion_runner_time(r, k, t, out, fail, err);
}
static helion_status real_time_interleaved(void *r, void **ks, size_t n,
                                           uint32_t repeat,
                                           const helion_timing_t *t,
                                           double *out_ms,
                                           uint32_t *out_rounds,
                                           helion_run_fail_t *fail,
                                           helion_err_t *err) {
  return helion_runner_time_interleaved(r, (helion_runner_kernel_t **)ks, n,
                                        repeat, t, out_ms, out_rounds, fail,
                                        err);
}

static const helion_bench_runner_ops_t real_ops = {
    real_create,      real_destroy,       real_set_args,
    real_load_kernel, real_unload_kernel, real_run_checked,
    real_time,        real_time_interleaved};

typedef struct worker {
  int fd;
  const helion_bench_runner_ops_t *ops;
  void *runner;
  helion_gpu_info_t info;
  helion_spec_t *spec;
  helion_host_args_t host;
  bool ready; /* setup done */
} worker;

static void reply_error(worker *w, helion_status rc, const char *msg) {
  enc e;
  enc_init(&e);
  put_u32(&e, (uint32_t)rc);
  put_str(&e, msg);
  (void)helion_wire_send(w->fd, REP_ERROR, e.b.data, e.b.len, NULL);
  helion_buf_cleanup(&e.b);
}

static void reply_result(worker *w, const helion_run_fail_t *fail,
                         const helion_timed_t *t) {
  enc e;
  helion_timed_t zero;
  memset(&zero, 0, sizeof(zero));
  if (!t)
    t = &zero;
  enc_init(&e);
  put_u32(&e, (uint32_t)fail->kind);
  put_f64(&e, fail->kind == HELION_RESULT_OK ? t->ms : INFINITY);
  put_f64(&e, t->min_ms);
  put_f64(&e, t->spread);
  put_u32(&e, t->reps);
  put_u32(&e, t->graph_k);
  put_u32(&e, t->copies);
  put_u32(&e, t->cut ? 1u : 0u);
  put_u32(&e, fail->sticky ? 1u : 0u);
  put_str(&e, fail->msg);
  (void)helion_wire_send(w->fd, REP_RESULT, e.b.data, e.b.len, NULL);
  helion_buf_cleanup(&e.b);
}

static void do_init(worker *w, dec *d) {
  helion_err_t err = {""};
  int ordinal = (int)get_u32(d);
  if (w->runner) {
    enc e;
    enc_init(&e);
    put_info(&e, &w->info);
    (void)helion_wire_send(w->fd, REP_DEVICE, e.b.data, e.b.len, NULL);
    helion_buf_cleanup(&e.b);
    return;
  }
  helion_status rc = w->ops->create(ordinal, &w->runner, &w->info, &err);
  if (rc) {
    reply_error(w, rc, err.msg);
    return;
  }
  enc e;
  enc_init(&e);
  put_info(&e, &w->info);
  (void)helion_wire_send(w->fd, REP_DEVICE, e.b.data, e.b.len, NULL);
  helion_buf_cleanup(&e.b);
}

/* Loads, checks (optionally) and times one kernel. With
 * HELION_BENCH_PROFILE=1 in the environment the worker prints how long each
 * phase took to stderr, one line per job (for tuning the tuner). */
static helion_status bench_one(worker *w, const kernel_in *k, bool check,
                               bool as_baseline, const helion_timing_t *t,
                               helion_run_fail_t *fail, helion_timed_t *timed,
                               helion_err_t *err) {
  void *rk = NULL;
  double t0 = helion_now(), t1 = t0, t2 = t0;
  helion_status rc = w->ops->load_kernel(w->runner, k->image, k->len, k->entry,
                                         &k->launch, &rk, fail, err);
  if (rc || fail->kind)
    return rc;
  t1 = t2 = helion_now();
  if (check || as_baseline) {
    rc = w->ops->run_checked(w->runner, rk, as_baseline, fail, err);
    t2 = helion_now();
    if (rc || fail->kind)
      goto out;
  }
  rc = w->ops->time(w->runner, rk, t, timed, fail, err);
out:
  w->ops->unload_kernel(w->runner, rk);
  if (helion_env_flag("HELION_BENCH_PROFILE"))
    fprintf(stderr,
            "bench worker: load %.1f ms, checked run %.1f ms, timing and "
            "unload %.1f ms\n",
            (t1 - t0) * 1e3, (t2 - t1) * 1e3, (helion_now() - t2) * 1e3);
  return rc;
}

/* Returns false when the worker must exit (sticky error). */
static bool do_setup(worker *w, dec *d) {
  helion_err_t err = {""};
  helion_status rc = HELION_OK;
  helion_run_fail_t fail;
  helion_timed_t timed;
  kernel_in k;
  helion_timing_t t;
  int64_t *shape = NULL;
  helion_num_t *scope = NULL;
  memset(&k, 0, sizeof(k));
  memset(&fail, 0, sizeof(fail));
  memset(&timed, 0, sizeof(timed));
  char *path = get_str(d);
  uint32_t nkeys = get_u32(d);
  uint32_t nscope = get_u32(d);
  if (d->bad || nkeys > 4096 || nscope > 65536) {
    reply_error(w, HELION_ERR_PARSE, "malformed setup message");
    goto out;
  }
  shape = calloc(nkeys + 1, sizeof(*shape));
  scope = calloc(nscope + 1, sizeof(*scope));
  if (!shape || !scope) {
    reply_error(w, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < nkeys; i++)
    shape[i] = (int64_t)get_u64(d);
  for (uint32_t i = 0; i < nscope; i++) {
    scope[i].is_float = get_u32(d) != 0;
    scope[i].i = (int64_t)get_u64(d);
    scope[i].f = get_f64(d);
  }
  uint64_t seed = get_u64(d);
  get_timing(d, &t);
  get_kernel(d, &k);
  if (d->bad) {
    reply_error(w, HELION_ERR_PARSE, "malformed setup message");
    goto out;
  }
  if (!w->runner) {
    reply_error(w, HELION_ERR_USAGE, "setup before init");
    goto out;
  }
  w->ready = false;
  helion_host_args_cleanup(&w->host);
  helion_spec_destroy(w->spec);
  w->spec = NULL;
  if ((rc = helion_spec_load(path, &w->spec, &err)))
    goto fault;
  if (nkeys != w->spec->nkeys || nscope != w->spec->nscope) {
    rc = helion_err_set(&err, HELION_ERR_INVALID,
                        "%s: setup gave %u shape values and %u scope values; "
                        "the spec has %zu keys and %zu scope names",
                        path, nkeys, nscope, w->spec->nkeys, w->spec->nscope);
    goto fault;
  }
  if ((rc = helion_host_args_init(w->spec, scope, seed, &w->host, &err)))
    goto fault;
  if ((rc = w->ops->set_args(w->runner, w->spec, &w->host, &err)))
    goto fault;
  rc = bench_one(w, &k, false, true, &t, &fail, &timed, &err);
  if (rc)
    goto fault;
  w->ready = fail.kind == HELION_RESULT_OK;
  reply_result(w, &fail, &timed);
  goto out;
fault:
  reply_error(w, rc, err.msg);
out:
  free(path);
  free(shape);
  free(scope);
  free(k.entry);
  return !fail.sticky;
}

static bool do_bench(worker *w, dec *d) {
  helion_err_t err = {""};
  helion_run_fail_t fail;
  helion_timed_t timed;
  helion_timing_t t;
  kernel_in k;
  memset(&fail, 0, sizeof(fail));
  memset(&timed, 0, sizeof(timed));
  bool check = get_u32(d) != 0;
  get_timing(d, &t);
  get_kernel(d, &k);
  if (d->bad)
    reply_error(w, HELION_ERR_PARSE, "malformed bench message");
  else if (!w->ready)
    reply_error(w, HELION_ERR_USAGE, "bench before a successful setup");
  else if (bench_one(w, &k, check, false, &t, &fail, &timed, &err))
    reply_error(w, HELION_ERR_CUDA, err.msg);
  else
    reply_result(w, &fail, &timed);
  free(k.entry);
  return !fail.sticky;
}

static bool do_rebench(worker *w, dec *d) {
  helion_err_t err = {""};
  helion_run_fail_t fail;
  helion_timing_t t;
  memset(&fail, 0, sizeof(fail));
  uint32_t repeat = get_u32(d);
  get_timing(d, &t);
  uint32_t n = get_u32(d);
  if (d->bad || n > 100000) {
    reply_error(w, HELION_ERR_PARSE, "malformed rebench message");
    return true;
  }
  kernel_in *ks = calloc(n + 1, sizeof(*ks));
  void **rk = calloc(n + 1, sizeof(*rk));
  double *ms = calloc(n + 1, sizeof(*ms));
  if (!ks || !rk || !ms) {
    reply_error(w, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < n; i++)
    get_kernel(d, &ks[i]);
  if (d->bad) {
    reply_error(w, HELION_ERR_PARSE, "malformed rebench message");
    goto out;
  }
  if (!w->ready) {
    reply_error(w, HELION_ERR_USAGE, "rebench before a successful setup");
    goto out;
  }
  for (uint32_t i = 0; i < n && !fail.sticky; i++) {
    helion_run_fail_t f1;
    if (w->ops->load_kernel(w->runner, ks[i].image, ks[i].len, ks[i].entry,
                            &ks[i].launch, &rk[i], &f1, &err)) {
      reply_error(w, HELION_ERR_CUDA, err.msg);
      goto out;
    }
    if (f1.sticky)
      fail = f1;
  }
  uint32_t rounds = 0;
  if (!fail.sticky &&
      w->ops->time_interleaved(w->runner, rk, n, repeat, &t, ms, &rounds,
                               &fail, &err)) {
    reply_error(w, HELION_ERR_CUDA, err.msg);
    goto out;
  }
  {
    enc e;
    enc_init(&e);
    put_u32(&e, n);
    for (uint32_t i = 0; i < n; i++)
      put_f64(&e, fail.sticky ? INFINITY : ms[i]);
    put_u32(&e, fail.sticky ? 1u : 0u);
    put_str(&e, fail.msg);
    put_u32(&e, rounds);
    (void)helion_wire_send(w->fd, REP_REBENCH, e.b.data, e.b.len, NULL);
    helion_buf_cleanup(&e.b);
  }
out:
  for (uint32_t i = 0; ks && rk && i < n; i++) {
    if (!fail.sticky)
      w->ops->unload_kernel(w->runner, rk[i]);
    free(ks[i].entry);
  }
  free(ks);
  free(rk);
  free(ms);
  return !fail.sticky;
}

int helion_bench_worker_main(int argc, char **argv) {
  return helion_bench_worker_main_with(argc, argv, &real_ops);
}

int helion_bench_worker_main_with(int argc, char **argv,
                                  const helion_bench_runner_ops_t *ops) {
  if (argc != 2) {
    fprintf(stderr, "usage: helion-tune %s FD (internal)\n",
            HELION_BENCH_WORKER_ARG);
    return 2;
  }
  char *end = NULL;
  long fd = strtol(argv[1], &end, 10);
  if (!end || *end || fd < 0 || fd > 1 << 20) {
    fprintf(stderr, "helion-tune %s: bad descriptor '%s'\n",
            HELION_BENCH_WORKER_ARG, argv[1]);
    return 2;
  }
  worker w;
  memset(&w, 0, sizeof(w));
  w.fd = (int)fd;
  w.ops = ops;
  helion_wire_reader_t rd;
  helion_wire_reader_init(&rd);
  int code = 0;
  for (;;) {
    bool done = false;
    uint32_t type = 0;
    uint8_t *payload = NULL;
    size_t len = 0;
    if (helion_wire_read(&rd, w.fd, true, &done, &type, &payload, &len, NULL) ||
        !done)
      break; /* the parent is gone */
    dec d = {payload, len, 0, false};
    bool alive = true;
    switch (type) {
    case REQ_INIT:
      do_init(&w, &d);
      break;
    case REQ_SETUP:
      alive = do_setup(&w, &d);
      break;
    case REQ_BENCH:
      alive = do_bench(&w, &d);
      break;
    case REQ_REBENCH:
      alive = do_rebench(&w, &d);
      break;
    case REQ_SHUTDOWN:
      free(payload);
      goto out;
    default:
      reply_error(&w, HELION_ERR_PARSE, "unknown benchmark job type");
      break;
    }
    free(payload);
    if (!alive) {
      /* The context is poisoned: leave without touching CUDA again (its
       * teardown could hang or fault); the driver cleans up the process. */
      _exit(EXIT_STICKY);
    }
  }
out:
  helion_wire_reader_cleanup(&rd);
  helion_host_args_cleanup(&w.host);
  helion_spec_destroy(w.spec);
  if (w.runner)
    w.ops->destroy(w.runner);
  close(w.fd);
  return code;
}

/* ---------------------------------------------------------------------------
 * The client.
 */

struct helion_bench_client {
  helion_bench_client_opts_t opts;
  char *exe;
  pid_t pid; /* 0 when no worker runs */
  int fd;    /* -1 when no worker runs */
  helion_gpu_info_t info;
  /* The setup message, replayed after restarts. */
  uint8_t *setup_msg;
  size_t setup_len;
  bool have_setup;
  double baseline_ms;
  /* The job in flight. */
  bool busy;
  uint32_t expect; /* reply type */
  double started, deadline;
  helion_wire_reader_t rd;
  unsigned restarts;
};

static void opts_defaults(helion_bench_client_opts_t *o) {
  if (o->timeout_s <= 0)
    o->timeout_s = 30;
  if (o->min_timeout_s <= 0)
    o->min_timeout_s = 2;
  if (o->min_timeout_s > o->timeout_s)
    o->min_timeout_s = o->timeout_s;
  if (o->start_timeout_s <= 0)
    o->start_timeout_s = 120;
}

/* Kills the worker's process group and reaps it; writes how it ended. */
static void worker_reap(helion_bench_client_t *c, bool kill_it, char *how,
                        size_t n) {
  if (how && n)
    how[0] = '\0';
  if (c->pid > 0) {
    int st = 0;
    if (kill_it) {
      kill(-c->pid, SIGKILL);
      kill(c->pid, SIGKILL);
    }
    pid_t r;
    do
      r = waitpid(c->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    if (how && r == c->pid) {
      if (WIFEXITED(st))
        snprintf(how, n, "exited with status %d%s", WEXITSTATUS(st),
                 WEXITSTATUS(st) == EXIT_STICKY ? " (sticky CUDA error)" : "");
      else if (WIFSIGNALED(st))
        snprintf(how, n, "killed by signal %d", WTERMSIG(st));
    }
  }
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->pid = 0;
  c->busy = false;
  helion_wire_reader_cleanup(&c->rd);
  helion_wire_reader_init(&c->rd);
}

static helion_status worker_spawn(helion_bench_client_t *c, helion_err_t *err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return helion_err_set(err, HELION_ERR_SUBPROCESS,
                          "benchmark worker: socketpair failed: %s",
                          strerror(errno));
  /* Everything the child needs is prepared before fork: between fork and
   * exec it calls only async-signal-safe functions. */
  char fdstr[16];
  snprintf(fdstr, sizeof(fdstr), "%d", sv[1]);
  char *argv[] = {c->exe, (char *)HELION_BENCH_WORKER_ARG, fdstr, NULL};
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return helion_err_set(err, HELION_ERR_SUBPROCESS,
                          "benchmark worker: fork failed: %s", strerror(e));
  }
  if (pid == 0) {
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    int flags = fcntl(sv[1], F_GETFD);
    if (flags >= 0)
      fcntl(sv[1], F_SETFD, flags & ~FD_CLOEXEC);
    dup2(2, 1);
    signal(SIGPIPE, SIG_DFL);
    execv(c->exe, argv);
    _exit(127);
  }
  close(sv[1]);
  c->pid = pid;
  c->fd = sv[0];
  helion_wire_reader_init(&c->rd);
  return HELION_OK;
}

/* Waits for one reply until `deadline`. *out_timeout when it passed. */
static helion_status wait_reply(helion_bench_client_t *c, double deadline,
                                int wait_ms, bool *out_done, bool *out_timeout,
                                uint32_t *type, uint8_t **payload, size_t *len,
                                helion_err_t *err) {
  *out_done = false;
  *out_timeout = false;
  double until = wait_ms < 0 ? deadline : helion_now() + wait_ms / 1000.0;
  if (until > deadline)
    until = deadline;
  for (;;) {
    helion_status rc = helion_wire_read(&c->rd, c->fd, false, out_done, type,
                                        payload, len, err);
    if (rc || *out_done)
      return rc;
    double now = helion_now();
    if (now >= deadline) {
      *out_timeout = true;
      return HELION_OK;
    }
    if (now >= until)
      return HELION_OK;
    double left_ms = (until - now) * 1000.0;
    struct pollfd pf = {c->fd, POLLIN, 0};
    int r = poll(&pf, 1, left_ms > 1e6 ? 1000000 : (int)ceil(left_ms));
    if (r < 0 && errno != EINTR)
      return helion_err_set(err, HELION_ERR_IO, "poll failed: %s",
                            strerror(errno));
  }
}

/* Sends a request and waits for its reply (blocking). On a lost worker or
 * timeout returns HELION_ERR_SUBPROCESS / HELION_ERR_TIMEOUT with the
 * story. */
static helion_status call(helion_bench_client_t *c, uint32_t type, const enc *e,
                          double timeout_s, uint32_t *rtype, uint8_t **payload,
                          size_t *len, helion_err_t *err) {
  bool done = false, timeout = false;
  char how[128];
  helion_status rc = helion_wire_send(c->fd, type, e ? e->b.data : NULL,
                                      e ? e->b.len : 0, err);
  if (!rc)
    rc = wait_reply(c, helion_now() + timeout_s, -1, &done, &timeout, rtype,
                    payload, len, err);
  if (rc || timeout || !done) {
    worker_reap(c, true, how, sizeof(how));
    if (timeout)
      return helion_err_set(err, HELION_ERR_TIMEOUT,
                            "benchmark worker gave no answer within %.0f s "
                            "and was killed",
                            timeout_s);
    helion_err_prefix(err, "benchmark worker %s: ", how[0] ? how : "lost");
    return HELION_ERR_SUBPROCESS;
  }
  return HELION_OK;
}

static helion_status reply_to_status(uint32_t rtype, dec *d, const char *job,
                                     helion_err_t *err) {
  if (rtype == REP_ERROR) {
    uint32_t code = get_u32(d);
    char *msg = get_str(d);
    helion_status rc =
        helion_err_set(err, code ? (helion_status)code : HELION_ERR_SUBPROCESS,
                       "%s", msg ? msg : "benchmark worker error");
    free(msg);
    return rc;
  }
  return helion_err_set(err, HELION_ERR_PARSE,
                        "benchmark worker: unexpected reply %u to %s", rtype,
                        job);
}

/* Starts a worker and runs init. */
static helion_status worker_start(helion_bench_client_t *c, helion_err_t *err) {
  uint32_t rtype = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  enc e;
  helion_status rc = worker_spawn(c, err);
  if (rc)
    return rc;
  enc_init(&e);
  put_u32(&e, (uint32_t)c->opts.device);
  rc = call(c, REQ_INIT, &e, c->opts.start_timeout_s, &rtype, &payload, &len,
            err);
  helion_buf_cleanup(&e.b);
  if (rc)
    return rc;
  dec d = {payload, len, 0, false};
  if (rtype == REP_DEVICE) {
    get_info(&d, &c->info);
    if (d.bad)
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "benchmark worker: malformed device reply");
  } else {
    rc = reply_to_status(rtype, &d, "init", err);
  }
  free(payload);
  if (rc)
    worker_reap(c, true, NULL, 0);
  return rc;
}

/* Decodes a REP_RESULT into an outcome. *out_exiting: the worker ends. */
static bool decode_result(dec *d, helion_bench_outcome_t *o,
                          bool *out_exiting) {
  memset(o, 0, sizeof(*o));
  o->kind = (helion_result_kind)get_u32(d);
  o->ms = get_f64(d);
  o->timed.ms = o->ms;
  o->timed.min_ms = get_f64(d);
  o->timed.spread = get_f64(d);
  o->timed.reps = get_u32(d);
  o->timed.graph_k = get_u32(d);
  o->timed.copies = get_u32(d);
  o->timed.cut = get_u32(d) != 0;
  *out_exiting = get_u32(d) != 0;
  char *msg = get_str(d);
  if (msg)
    snprintf(o->msg, sizeof(o->msg), "%s", msg);
  free(msg);
  if (o->kind != HELION_RESULT_OK)
    o->ms = INFINITY;
  return !d->bad && o->kind < HELION_RESULT_KIND_COUNT;
}

/* Replays the setup on a fresh worker. */
static helion_status run_setup(helion_bench_client_t *c, double *out_ms,
                               helion_err_t *err) {
  uint32_t rtype = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  enc e;
  e.b.data = (char *)c->setup_msg;
  e.b.len = c->setup_len;
  helion_status rc = call(c, REQ_SETUP, &e, c->opts.start_timeout_s, &rtype,
                          &payload, &len, err);
  if (rc) {
    helion_err_prefix(err, "setup: ");
    return rc;
  }
  dec d = {payload, len, 0, false};
  if (rtype == REP_RESULT) {
    helion_bench_outcome_t o;
    bool exiting = false;
    if (!decode_result(&d, &o, &exiting)) {
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "benchmark worker: malformed setup reply");
    } else if (o.kind != HELION_RESULT_OK) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "baseline kernel failed: %s: %s; the default "
                          "config must run correctly (or give the spec a "
                          "\"reference\" kernel)",
                          helion_result_kind_name(o.kind), o.msg);
    } else {
      *out_ms = o.ms;
    }
    if (exiting)
      worker_reap(c, true, NULL, 0);
  } else {
    rc = reply_to_status(rtype, &d, "setup", err);
  }
  free(payload);
  return rc;
}

static helion_status ensure_worker(helion_bench_client_t *c,
                                   helion_err_t *err) {
  if (c->pid > 0)
    return HELION_OK;
  c->restarts++;
  helion_status rc = worker_start(c, err);
  if (!rc && c->have_setup) {
    double ms = 0;
    rc = run_setup(c, &ms, err);
  }
  if (rc)
    helion_err_prefix(err, "restarting the benchmark worker: ");
  return rc;
}

helion_status helion_bench_client_create(const helion_bench_client_opts_t *opts,
                                         helion_bench_client_t **out,
                                         helion_err_t *err) {
  helion_bench_client_t *c = calloc(1, sizeof(*c));
  if (!c)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (opts)
    c->opts = *opts;
  opts_defaults(&c->opts);
  c->fd = -1;
  c->exe = helion_strdup(c->opts.exe ? c->opts.exe : "/proc/self/exe");
  helion_wire_reader_init(&c->rd);
  helion_status rc =
      c->exe ? worker_start(c, err)
             : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (rc) {
    helion_bench_client_destroy(c);
    return rc;
  }
  *out = c;
  return HELION_OK;
}

const helion_gpu_info_t *
helion_bench_client_device(const helion_bench_client_t *c) {
  return &c->info;
}

helion_status helion_bench_client_setup(helion_bench_client_t *c,
                                        const helion_bench_setup_t *s,
                                        double *out_baseline_ms,
                                        helion_err_t *err) {
  if (c->busy)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: setup while a job is in flight");
  enc e;
  enc_init(&e);
  put_str(&e, s->spec_path);
  put_u32(&e, (uint32_t)s->nkeys);
  put_u32(&e, (uint32_t)s->nscope);
  for (size_t i = 0; i < s->nkeys; i++)
    put_u64(&e, (uint64_t)s->shape[i]);
  for (size_t i = 0; i < s->nscope; i++) {
    put_u32(&e, s->scope[i].is_float ? 1u : 0u);
    put_u64(&e, (uint64_t)s->scope[i].i);
    put_f64(&e, s->scope[i].f);
  }
  put_u64(&e, s->seed);
  put_timing(&e, &c->opts.timing);
  put_kernel(&e, &s->baseline);
  if (e.bad) {
    helion_buf_cleanup(&e.b);
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "benchmark setup message too large");
  }
  free(c->setup_msg);
  c->setup_len = e.b.len;
  c->setup_msg = (uint8_t *)helion_buf_take(&e.b);
  c->have_setup = false;
  helion_status rc = HELION_OK;
  if (c->pid <= 0)
    rc = ensure_worker(c, err);
  double ms = 0;
  if (!rc)
    rc = run_setup(c, &ms, err);
  if (rc)
    return rc;
  c->have_setup = true;
  c->baseline_ms = ms;
  if (out_baseline_ms)
    *out_baseline_ms = ms;
  return HELION_OK;
}

static helion_timing_t merge_timing(const helion_timing_t *job,
                                    const helion_timing_t *dflt) {
  helion_timing_t t = *job;
  if (t.warmup_ms <= 0)
    t.warmup_ms = dflt->warmup_ms;
  if (t.rep_ms <= 0)
    t.rep_ms = dflt->rep_ms;
  if (t.graph_us <= 0)
    t.graph_us = dflt->graph_us;
  if (!t.min_reps)
    t.min_reps = dflt->min_reps;
  if (!t.max_reps)
    t.max_reps = dflt->max_reps;
  if (t.precision == 0)
    t.precision = dflt->precision;
  if (t.cutoff_ms == 0)
    t.cutoff_ms = dflt->cutoff_ms;
  return t;
}

/* The adaptive deadline of one bench job (see the header). */
static double job_deadline_s(const helion_bench_client_t *c,
                             const helion_timing_t *t) {
  double warm = t->warmup_ms > 0 ? t->warmup_ms : 1.0;
  double rep = t->rep_ms > 0 ? t->rep_ms : 50.0;
  double s = 2.0 + 2.0 * (warm + rep) / 1000.0 + 0.5 * c->baseline_ms;
  if (s < c->opts.min_timeout_s)
    s = c->opts.min_timeout_s;
  if (s > c->opts.timeout_s)
    s = c->opts.timeout_s;
  return s;
}

helion_status helion_bench_client_submit(helion_bench_client_t *c,
                                         const helion_bench_job_t *job,
                                         helion_err_t *err) {
  if (c->busy)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: a job is already in flight");
  if (!c->have_setup)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: bench before setup");
  helion_status rc = ensure_worker(c, err);
  if (rc)
    return rc;
  helion_timing_t t = merge_timing(&job->timing, &c->opts.timing);
  enc e;
  enc_init(&e);
  put_u32(&e, job->no_check ? 0u : 1u);
  put_timing(&e, &t);
  put_kernel(&e, &job->kernel);
  if (e.bad) {
    helion_buf_cleanup(&e.b);
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "benchmark job message too large");
  }
  c->started = helion_now();
  c->deadline = c->started +
                (job->timeout_s > 0 ? job->timeout_s : job_deadline_s(c, &t));
  c->expect = REP_RESULT;
  rc = helion_wire_send(c->fd, REQ_BENCH, e.b.data, e.b.len, err);
  helion_buf_cleanup(&e.b);
  /* A worker that died between jobs shows up at collect as a lost worker,
   * so a failed send still leaves a job in flight to collect. */
  c->busy = true;
  (void)rc;
  return HELION_OK;
}

int helion_bench_client_fd(const helion_bench_client_t *c) {
  return c->fd;
}

double helion_bench_client_deadline(const helion_bench_client_t *c) {
  return c->busy ? c->deadline : 0;
}

bool helion_bench_client_busy(const helion_bench_client_t *c) {
  return c->busy;
}

helion_status helion_bench_client_collect(helion_bench_client_t *c, int wait_ms,
                                          bool *out_done,
                                          helion_bench_outcome_t *out,
                                          helion_err_t *err) {
  helion_bench_outcome_t o;
  bool done = false, timeout = false, exiting = false;
  uint32_t rtype = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  char how[128];
  helion_err_t rerr = {""};
  *out_done = false;
  if (!c->busy)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: no job in flight");
  memset(&o, 0, sizeof(o));
  helion_status rc = wait_reply(c, c->deadline, wait_ms, &done, &timeout,
                                &rtype, &payload, &len, &rerr);
  if (rc) {
    /* The worker died: the config that was running killed it. */
    worker_reap(c, true, how, sizeof(how));
    o.kind = HELION_RESULT_RUNTIME;
    o.worker_lost = true;
    snprintf(o.msg, sizeof(o.msg), "benchmark worker died (%s): %.300s",
             how[0] ? how : "lost", rerr.msg);
  } else if (timeout) {
    worker_reap(c, true, NULL, 0);
    o.kind = HELION_RESULT_TIMEOUT;
    o.worker_lost = true;
    snprintf(o.msg, sizeof(o.msg),
             "no result within %.1f s (watchdog); benchmark worker killed",
             c->deadline - c->started);
  } else if (!done) {
    return HELION_OK;
  } else {
    dec d = {payload, len, 0, false};
    if (rtype == REP_RESULT && decode_result(&d, &o, &exiting)) {
      if (exiting) {
        worker_reap(c, true, how, sizeof(how));
        o.worker_lost = true;
      }
    } else if (rtype == REP_ERROR) {
      uint32_t code = get_u32(&d);
      char *msg = get_str(&d);
      o.kind = HELION_RESULT_RUNTIME;
      snprintf(o.msg, sizeof(o.msg), "%s (%s)", msg ? msg : "worker error",
               helion_status_str((helion_status)code));
      free(msg);
    } else {
      worker_reap(c, true, NULL, 0);
      o.kind = HELION_RESULT_RUNTIME;
      o.worker_lost = true;
      snprintf(o.msg, sizeof(o.msg),
               "malformed reply from the benchmark "
               "worker; restarted");
    }
    free(payload);
  }
  if (o.kind != HELION_RESULT_OK)
    o.ms = INFINITY;
  o.wall_s = helion_now() - c->started;
  c->busy = false;
  *out = o;
  *out_done = true;
  return HELION_OK;
}

helion_status helion_bench_client_bench(helion_bench_client_t *c,
                                        const helion_bench_job_t *job,
                                        helion_bench_outcome_t *out,
                                        helion_err_t *err) {
  bool done = false;
  helion_status rc = helion_bench_client_submit(c, job, err);
  while (!rc && !done)
    rc = helion_bench_client_collect(c, -1, &done, out, err);
  return rc;
}

uint32_t helion_bench_rebench_repeat(double target_ms, double max_ms) {
  if (!(max_ms > 0) || isinf(max_ms))
    return 1000;
  double r = target_ms / max_ms;
  if (r < 3)
    return 3;
  if (r > 20000)
    return 20000;
  return (uint32_t)r;
}

helion_status helion_bench_client_rebench(helion_bench_client_t *c,
                                          const helion_kernel_image_t *kernels,
                                          size_t n, uint32_t repeat,
                                          const double *prev_ms, double *out_ms,
                                          uint32_t *out_rounds,
                                          helion_err_t *err) {
  uint32_t rtype = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  helion_status rc;
  if (c->busy)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: rebench while a job is in "
                          "flight");
  if (!c->have_setup)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: rebench before setup");
  for (size_t i = 0; i < n; i++)
    out_ms[i] = INFINITY;
  if (n == 0)
    return HELION_OK;
  double sum_ms = 0, max_ms = 0;
  for (size_t i = 0; i < n; i++) {
    double p = prev_ms && isfinite(prev_ms[i]) ? prev_ms[i] : c->baseline_ms;
    sum_ms += p;
    if (p > max_ms)
      max_ms = p;
  }
  if (repeat == 0)
    repeat = helion_bench_rebench_repeat(200.0, prev_ms ? max_ms : INFINITY);
  if ((rc = ensure_worker(c, err)))
    return rc;
  enc e;
  enc_init(&e);
  put_u32(&e, repeat);
  put_timing(&e, &c->opts.timing);
  put_u32(&e, (uint32_t)n);
  for (size_t i = 0; i < n; i++)
    put_kernel(&e, &kernels[i]);
  if (e.bad) {
    helion_buf_cleanup(&e.b);
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "benchmark rebench message too large");
  }
  /* Each round costs the kernels plus a flush each (~0.1 ms); warm-up and
   * loading cost about a bench job per kernel. */
  double deadline = (double)n * job_deadline_s(c, &c->opts.timing) +
                    3.0 * repeat * (sum_ms + 0.1 * (double)n) / 1000.0;
  if (deadline > 10 * c->opts.timeout_s + 60)
    deadline = 10 * c->opts.timeout_s + 60;
  helion_err_t cerr = {""};
  rc = call(c, REQ_REBENCH, &e, deadline, &rtype, &payload, &len, &cerr);
  helion_buf_cleanup(&e.b);
  if (rc) {
    /* The worker was lost: every time of this call is +inf; the next job
     * restarts it. */
    HELION_LOG(HELION_LOG_WARN, "rebench: %s", cerr.msg);
    return HELION_OK;
  }
  dec d = {payload, len, 0, false};
  if (rtype == REP_REBENCH) {
    uint32_t m = get_u32(&d);
    for (uint32_t i = 0; i < m && i < n; i++)
      out_ms[i] = get_f64(&d);
    bool exiting = get_u32(&d) != 0;
    char *msg = get_str(&d);
    uint32_t rounds = get_u32(&d);
    if (out_rounds)
      *out_rounds = rounds;
    if (d.bad || m != n) {
      for (size_t i = 0; i < n; i++)
        out_ms[i] = INFINITY;
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "benchmark worker: malformed rebench reply");
    } else if (exiting) {
      HELION_LOG(HELION_LOG_WARN, "rebench: %s; worker restarts",
                 msg ? msg : "");
      worker_reap(c, true, NULL, 0);
    }
    free(msg);
  } else {
    helion_err_t werr = {""};
    reply_to_status(rtype, &d, "rebench", &werr);
    HELION_LOG(HELION_LOG_WARN, "rebench: %s", werr.msg);
  }
  free(payload);
  return rc;
}

unsigned helion_bench_client_restarts(const helion_bench_client_t *c) {
  return c->restarts;
}

void helion_bench_client_destroy(helion_bench_client_t *c) {
  if (!c)
    return;
  if (c->pid > 0) {
    if (!c->busy &&
        helion_wire_send(c->fd, REQ_SHUTDOWN, NULL, 0, NULL) == HELION_OK) {
      /* Up to 5 s for a clean exit, then the group is killed. */
      for (int i = 0; i < 500; i++) {
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid || (r < 0 && errno != EINTR)) {
          c->pid = 0;
          break;
        }
        usleep(10000);
      }
    }
    worker_reap(c, true, NULL, 0);
  }
  if (c->fd >= 0)
    close(c->fd);
  helion_wire_reader_cleanup(&c->rd);
  free(c->setup_msg);
  free(c->exe);
  free(c);
}
