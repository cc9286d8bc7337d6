/*
 * bench_client.c: the tool's side of the benchmark worker: starts the
 * worker process, sends it jobs, watches each with a deadline, and kills and
 * restarts a worker that died, hung or ended after a sticky error.
 */
#include "backend/bench_worker.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/bench_wire.h"
#include "util/proc.h"

struct helion_bench_client {
  helion_bench_client_opts_t opts;
  char *exe;
  helion_proc_t proc; /* proc.pid 0 when no worker runs */
  int fd;             /* -1 when no worker runs */
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
  /* A setup sent and not yet answered (setup_begin .. setup_end), and
   * its reply's deadline. */
  bool setup_pending;
  double setup_due;
  /* The init request sent and not yet answered (create_begin ..
   * create_end, or a restart), and its reply's deadline. */
  bool init_pending;
  double init_due;
  /* A restart in progress without blocking (restart_begin .. poll): the
   * init, then the setup's replay, pending. `resend`: setup_later gave a
   * new setup while the old one's replay was out; it follows the reply. */
  bool restarting, resend;
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

/* Kills the worker's process group and reaps it; writes how it ended into
 * `how` ("" when there was no worker to reap). */
static void worker_reap(helion_bench_client_t *c, char *how, size_t n) {
  helion_proc_exit_t e;
  if (how && n)
    how[0] = '\0';
  if (helion_proc_kill_reap(&c->proc, &e) && how && n) {
    char say[96];
    snprintf(how, n, "%s%s", helion_proc_exit_str(&e, say, sizeof(say)),
             !e.signaled && e.status == HELION__BENCH_EXIT_STICKY
                 ? " (sticky CUDA error)"
                 : "");
  }
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
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
  helion_proc_opts_t o = {.argv = argv,
                          .keep_fds = &sv[1],
                          .nkeep_fds = 1,
                          .stdout_to_stderr = true};
  helion_status rc = helion_proc_start(&o, &c->proc, err);
  close(sv[1]);
  if (rc) {
    close(sv[0]);
    helion_err_prefix(err, "benchmark worker: ");
    return rc;
  }
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

/* The second half of call(): `sent` is how sending the request went;
 * waits for its reply until `deadline` (timeout_s after the send), or
 * `wait_ms` at most (-1: until the deadline; then *out_done says whether
 * the reply came). */
static helion_status reply_wait(helion_bench_client_t *c, helion_status sent,
                                double deadline, double timeout_s, int wait_ms,
                                bool *out_done, uint32_t *rtype,
                                uint8_t **payload, size_t *len,
                                helion_err_t *err) {
  bool timeout = false;
  char how[128];
  helion_status rc = sent;
  *out_done = false;
  if (!rc)
    rc = wait_reply(c, deadline, wait_ms, out_done, &timeout, rtype, payload,
                    len, err);
  if (!rc && !timeout && !*out_done && wait_ms >= 0)
    return HELION_OK; /* not yet */
  if (rc || timeout || !*out_done) {
    worker_reap(c, how, sizeof(how));
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

static helion_status call_finish(helion_bench_client_t *c, helion_status sent,
                                 double deadline, double timeout_s,
                                 uint32_t *rtype, uint8_t **payload,
                                 size_t *len, helion_err_t *err) {
  bool done;
  return reply_wait(c, sent, deadline, timeout_s, -1, &done, rtype, payload,
                    len, err);
}

/* Sends a request and waits for its reply (blocking). On a lost worker or
 * timeout returns HELION_ERR_SUBPROCESS / HELION_ERR_TIMEOUT with the
 * story. */
static helion_status call(helion_bench_client_t *c, uint32_t type,
                          const helion__wire_enc_t *e, double timeout_s,
                          uint32_t *rtype, uint8_t **payload, size_t *len,
                          helion_err_t *err) {
  helion_status sent = helion_wire_send(c->fd, type, e ? e->b.data : NULL,
                                        e ? e->b.len : 0, err);
  return call_finish(c, sent, helion_now() + timeout_s, timeout_s, rtype,
                     payload, len, err);
}

static helion_status reply_to_status(uint32_t rtype, helion__wire_dec_t *d,
                                     const char *job, helion_err_t *err) {
  if (rtype == HELION__REP_ERROR) {
    uint32_t code = helion__wire_get_u32(d);
    char *msg = helion__wire_get_str(d);
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

/* Waits for the init reply: the device's properties. `sent` is how
 * sending the init went; wait_ms as for reply_wait. */
static helion_status worker_start_finish(helion_bench_client_t *c,
                                         helion_status sent, int wait_ms,
                                         bool *out_done, helion_err_t *err) {
  uint32_t rtype = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  helion_status rc = reply_wait(c, sent, c->init_due, c->opts.start_timeout_s,
                                wait_ms, out_done, &rtype, &payload, &len, err);
  if (!rc && !*out_done)
    return HELION_OK;
  c->init_pending = false;
  if (rc)
    return rc;
  helion__wire_dec_t d = {payload, len, 0, false};
  if (rtype == HELION__REP_DEVICE) {
    helion__wire_get_info(&d, &c->info);
    if (d.bad)
      rc = helion_err_set(err, HELION_ERR_PARSE,
                          "benchmark worker: malformed device reply");
  } else {
    rc = reply_to_status(rtype, &d, "init", err);
  }
  free(payload);
  if (rc)
    worker_reap(c, NULL, 0);
  return rc;
}

/* Starts a worker and sends it the init request (its device). */
static helion_status worker_start_send(helion_bench_client_t *c,
                                       helion_err_t *err) {
  helion__wire_enc_t e;
  helion_status rc = worker_spawn(c, err);
  if (rc)
    return rc;
  helion__wire_enc_init(&e);
  helion__wire_put_u32(&e, (uint32_t)c->opts.device);
  rc = helion_wire_send(c->fd, HELION__REQ_INIT, e.b.data, e.b.len, err);
  helion_buf_cleanup(&e.b);
  c->init_due = helion_now() + c->opts.start_timeout_s;
  c->init_pending = true;
  if (rc) { /* the worker is reaped and its story told */
    bool done;
    rc = worker_start_finish(c, rc, -1, &done, err);
  }
  return rc;
}

/* Decodes a HELION__REP_RESULT into an outcome. *out_exiting: the worker ends.
 */
static bool decode_result(helion__wire_dec_t *d, helion_bench_outcome_t *o,
                          bool *out_exiting) {
  memset(o, 0, sizeof(*o));
  o->kind = (helion_result_kind)helion__wire_get_u32(d);
  o->ms = helion__wire_get_f64(d);
  o->timed.ms = o->ms;
  o->timed.min_ms = helion__wire_get_f64(d);
  o->timed.spread = helion__wire_get_f64(d);
  o->timed.reps = helion__wire_get_u32(d);
  o->timed.graph_k = helion__wire_get_u32(d);
  o->timed.copies = helion__wire_get_u32(d);
  o->timed.cut = helion__wire_get_u32(d) != 0;
  *out_exiting = helion__wire_get_u32(d) != 0;
  char *msg = helion__wire_get_str(d);
  if (msg)
    snprintf(o->msg, sizeof(o->msg), "%s", msg);
  free(msg);
  o->timed.stop = (helion_timing_stop)helion__wire_get_u32(d);
  o->timed.load_ms = helion__wire_get_f64(d);
  o->timed.check_ms = helion__wire_get_f64(d);
  o->timed.warm_ms = helion__wire_get_f64(d);
  o->timed.timed_ms = helion__wire_get_f64(d);
  if (o->timed.stop >= HELION_TIMING_STOP_COUNT)
    return false;
  if (o->kind != HELION_RESULT_OK)
    o->ms = INFINITY;
  return !d->bad && o->kind < HELION_RESULT_KIND_COUNT;
}

/* Sends the setup; setup_finish() waits for its reply. */
static helion_status setup_send(helion_bench_client_t *c, helion_err_t *err) {
  c->setup_due = helion_now() + c->opts.start_timeout_s;
  c->setup_pending = true;
  return helion_wire_send(c->fd, HELION__REQ_SETUP, (const char *)c->setup_msg,
                          c->setup_len, err);
}

/* Waits for the setup's reply (`sent`: how sending it went): the
 * baseline's time; wait_ms as for reply_wait. */
static helion_status setup_finish(helion_bench_client_t *c, helion_status sent,
                                  int wait_ms, bool *out_done, double *out_ms,
                                  helion_err_t *err) {
  uint32_t rtype = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  helion_status rc = reply_wait(c, sent, c->setup_due, c->opts.start_timeout_s,
                                wait_ms, out_done, &rtype, &payload, &len, err);
  if (!rc && !*out_done)
    return HELION_OK;
  c->setup_pending = false;
  if (rc) {
    helion_err_prefix(err, "setup: ");
    return rc;
  }
  helion__wire_dec_t d = {payload, len, 0, false};
  if (rtype == HELION__REP_RESULT) {
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
      worker_reap(c, NULL, 0);
  } else {
    rc = reply_to_status(rtype, &d, "setup", err);
  }
  free(payload);
  return rc;
}

/* A restart's error, prefixed. A worker that cannot come back is a fault
 * of the run whatever the worker called it: an invalid input there (the
 * device no longer exists, the baseline no longer runs) is not this
 * shape's, and a caller must not take the shape for untunable and go on
 * with configs still queued. */
static helion_status restart_failed(helion_status rc, helion_err_t *err) {
  helion_err_prefix(err, "restarting the benchmark worker: ");
  return rc == HELION_ERR_INVALID ? HELION_ERR_SUBPROCESS : rc;
}

/* Sends the stored setup; a failed send reaps the worker and tells its
 * story. */
static helion_status send_setup(helion_bench_client_t *c, helion_err_t *err) {
  helion_status rc = setup_send(c, err);
  if (rc) {
    bool done;
    double ms;
    rc = setup_finish(c, rc, -1, &done, &ms, err);
  }
  return rc;
}

/* One step of a restart begun by helion_bench_client_restart_begin: the
 * init reply, then the setup's replay; wait_ms as for reply_wait. */
static helion_status restart_step(helion_bench_client_t *c, int wait_ms,
                                  helion_err_t *err) {
  helion_status rc = HELION_OK;
  bool done = true;
  double ms = 0;
  if (c->init_pending &&
      !(rc = worker_start_finish(c, HELION_OK, wait_ms, &done, err)) && done &&
      c->have_setup)
    rc = send_setup(c, err);
  if (!rc && done && c->setup_pending) {
    rc = setup_finish(c, HELION_OK, wait_ms, &done, &ms, err);
    if (c->resend && (rc ? c->proc.pid > 0 : done)) {
      /* That reply was the old setup's, and whatever it said no longer
       * matters while the worker lives: now the new setup. */
      c->resend = false;
      rc = send_setup(c, err);
    } else if (!rc && done) {
      c->baseline_ms = ms; /* the watchdog's measure for this setup */
    }
  }
  if (rc || (!c->init_pending && !c->setup_pending))
    c->restarting = c->resend = false;
  return rc ? restart_failed(rc, err) : rc;
}

helion_status helion_bench_client_restart_begin(helion_bench_client_t *c,
                                                helion_err_t *err) {
  if (c->busy || c->restarting || c->proc.pid > 0)
    return HELION_OK;
  c->restarts++;
  helion_status rc = worker_start_send(c, err);
  c->restarting = rc == HELION_OK;
  return rc ? restart_failed(rc, err) : rc;
}

/* A worker ready for a job: a lost worker restarted, or a restart in
 * progress finished, blocking until the setup is replayed. */
static helion_status ensure_worker(helion_bench_client_t *c,
                                   helion_err_t *err) {
  helion_status rc = helion_bench_client_restart_begin(c, err);
  while (!rc && c->restarting)
    rc = restart_step(c, -1, err);
  return rc;
}

bool helion_bench_client_restarting(const helion_bench_client_t *c) {
  return c->restarting;
}

helion_status helion_bench_client_restart_poll(helion_bench_client_t *c,
                                               bool *out_ready,
                                               helion_err_t *err) {
  helion_status rc = HELION_OK;
  if (c->restarting)
    rc = restart_step(c, 0, err);
  *out_ready = !c->restarting;
  return rc;
}

helion_status
helion_bench_client_create_begin(const helion_bench_client_opts_t *opts,
                                 helion_bench_client_t **out,
                                 helion_err_t *err) {
  *out = NULL;
  helion_bench_client_t *c = calloc(1, sizeof(*c));
  if (!c)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (opts)
    c->opts = *opts;
  opts_defaults(&c->opts);
  c->fd = -1;
  helion_proc_init(&c->proc);
  c->exe = helion_strdup(c->opts.exe ? c->opts.exe : "/proc/self/exe");
  helion_wire_reader_init(&c->rd);
  helion_status rc =
      c->exe ? worker_start_send(c, err)
             : helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  if (rc) {
    helion_bench_client_destroy(c);
    return rc;
  }
  *out = c;
  return HELION_OK;
}

helion_status helion_bench_client_create_end(helion_bench_client_t *c,
                                             helion_err_t *err) {
  bool done;
  return worker_start_finish(c, HELION_OK, -1, &done, err);
}

helion_status helion_bench_client_create(const helion_bench_client_opts_t *opts,
                                         helion_bench_client_t **out,
                                         helion_err_t *err) {
  helion_bench_client_t *c;
  helion_status rc = helion_bench_client_create_begin(opts, &c, err);
  if (!rc && (rc = helion_bench_client_create_end(c, err))) {
    helion_bench_client_destroy(c);
    c = NULL;
  }
  *out = c;
  return rc;
}

const helion_gpu_info_t *
helion_bench_client_device(const helion_bench_client_t *c) {
  return &c->info;
}

/* Encodes setup `s` as the client's setup message (replayed after
 * restarts). */
static helion_status setup_store(helion_bench_client_t *c,
                                 const helion_bench_setup_t *s,
                                 helion_err_t *err) {
  helion__wire_enc_t e;
  helion__wire_enc_init(&e);
  helion__wire_put_str(&e, s->spec_path);
  helion__wire_put_u32(&e, (uint32_t)s->nkeys);
  helion__wire_put_u32(&e, (uint32_t)s->nscope);
  for (size_t i = 0; i < s->nkeys; i++)
    helion__wire_put_u64(&e, (uint64_t)s->shape[i]);
  for (size_t i = 0; i < s->nscope; i++) {
    helion__wire_put_u32(&e, s->scope[i].is_float ? 1u : 0u);
    helion__wire_put_u64(&e, (uint64_t)s->scope[i].i);
    helion__wire_put_f64(&e, s->scope[i].f);
  }
  helion__wire_put_u64(&e, s->seed);
  helion__wire_put_timing(&e, &c->opts.timing);
  helion__wire_put_kernel(&e, &s->baseline);
  if (e.bad) {
    helion_buf_cleanup(&e.b);
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "benchmark setup message too large");
  }
  free(c->setup_msg);
  c->setup_len = e.b.len;
  c->setup_msg = (uint8_t *)helion_buf_take(&e.b);
  return HELION_OK;
}

helion_status helion_bench_client_setup_begin(helion_bench_client_t *c,
                                              const helion_bench_setup_t *s,
                                              helion_err_t *err) {
  /* (A restart's replay may be out: ensure_worker waits for it.) */
  if (c->busy || (c->setup_pending && !c->restarting))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: setup while a job is in flight");
  helion_status rc = setup_store(c, s, err);
  if (rc)
    return rc;
  c->have_setup = c->resend = false;
  /* A lost worker restarts; one restarting finishes (with have_setup false
   * it replays nothing more; a replay already sent is waited for), so its
   * CUDA init is not thrown away and the restart counts once. */
  rc = ensure_worker(c, err);
  return rc ? rc : send_setup(c, err);
}

helion_status helion_bench_client_setup_later(helion_bench_client_t *c,
                                              const helion_bench_setup_t *s,
                                              helion_err_t *err) {
  if (!c->restarting)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: setup_later without a restart");
  helion_status rc = setup_store(c, s, err);
  if (rc)
    return rc;
  /* Sent after the init; or, with the old setup's replay out, after its
   * reply. */
  c->have_setup = true;
  c->resend = c->setup_pending;
  return HELION_OK;
}

helion_status helion_bench_client_setup_end(helion_bench_client_t *c,
                                            double *out_baseline_ms,
                                            helion_err_t *err) {
  if (!c->setup_pending)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "benchmark client: no setup was begun");
  double ms = 0;
  bool done;
  helion_status rc = setup_finish(c, HELION_OK, -1, &done, &ms, err);
  if (rc)
    return rc;
  c->have_setup = true;
  c->baseline_ms = ms;
  if (out_baseline_ms)
    *out_baseline_ms = ms;
  return HELION_OK;
}

helion_status helion_bench_client_setup(helion_bench_client_t *c,
                                        const helion_bench_setup_t *s,
                                        double *out_baseline_ms,
                                        helion_err_t *err) {
  helion_status rc = helion_bench_client_setup_begin(c, s, err);
  return rc ? rc : helion_bench_client_setup_end(c, out_baseline_ms, err);
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
  if (t.incumbent_ms == 0)
    t.incumbent_ms = dflt->incumbent_ms;
  if (t.duty <= 0)
    t.duty = dflt->duty;
  return t;
}

/* The adaptive deadline of one bench job (see the header). */
static double job_deadline_s(const helion_bench_client_t *c,
                             const helion_timing_t *t) {
  double warm = t->warmup_ms > 0 ? t->warmup_ms : 1.0;
  double rep = t->rep_ms > 0 ? t->rep_ms : 50.0;
  /* The rests of the duty cycle stretch the timing by 1 / duty. */
  double duty = t->duty > 0 && t->duty <= 1 ? t->duty : HELION_TIMING_DEFAULT_DUTY;
  double s = 2.0 + (2.0 * (warm + rep) / 1000.0 + 0.5 * c->baseline_ms) / duty;
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
  helion__wire_enc_t e;
  helion__wire_enc_init(&e);
  helion__wire_put_u32(&e, job->no_check ? 0u : 1u);
  helion__wire_put_timing(&e, &t);
  helion__wire_put_kernel(&e, &job->kernel);
  if (e.bad) {
    helion_buf_cleanup(&e.b);
    return helion_err_set(err, HELION_ERR_LIMIT,
                          "benchmark job message too large");
  }
  c->started = helion_now();
  c->deadline = c->started +
                (job->timeout_s > 0 ? job->timeout_s : job_deadline_s(c, &t));
  c->expect = HELION__REP_RESULT;
  rc = helion_wire_send(c->fd, HELION__REQ_BENCH, e.b.data, e.b.len, err);
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
  if (c->busy)
    return c->deadline;
  if (c->restarting)
    return c->init_pending ? c->init_due : c->setup_due;
  return 0;
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
    worker_reap(c, how, sizeof(how));
    o.kind = HELION_RESULT_RUNTIME;
    o.worker_lost = true;
    snprintf(o.msg, sizeof(o.msg), "benchmark worker died (%s): %.300s",
             how[0] ? how : "lost", rerr.msg);
  } else if (timeout) {
    worker_reap(c, NULL, 0);
    o.kind = HELION_RESULT_TIMEOUT;
    o.worker_lost = true;
    snprintf(o.msg, sizeof(o.msg),
             "no result within %.1f s (watchdog); benchmark worker killed",
             c->deadline - c->started);
  } else if (!done) {
    return HELION_OK;
  } else {
    helion__wire_dec_t d = {payload, len, 0, false};
    if (rtype == HELION__REP_RESULT && decode_result(&d, &o, &exiting)) {
      if (exiting) {
        worker_reap(c, how, sizeof(how));
        o.worker_lost = true;
      }
    } else if (rtype == HELION__REP_ERROR) {
      uint32_t code = helion__wire_get_u32(&d);
      char *msg = helion__wire_get_str(&d);
      o.kind = HELION_RESULT_RUNTIME;
      snprintf(o.msg, sizeof(o.msg), "%s (%s)", msg ? msg : "worker error",
               helion_status_str((helion_status)code));
      free(msg);
    } else {
      worker_reap(c, NULL, 0);
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
  helion__wire_enc_t e;
  helion__wire_enc_init(&e);
  helion__wire_put_u32(&e, repeat);
  helion__wire_put_timing(&e, &c->opts.timing);
  helion__wire_put_u32(&e, (uint32_t)n);
  for (size_t i = 0; i < n; i++)
    helion__wire_put_kernel(&e, &kernels[i]);
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
  rc =
      call(c, HELION__REQ_REBENCH, &e, deadline, &rtype, &payload, &len, &cerr);
  helion_buf_cleanup(&e.b);
  if (rc) {
    /* The worker was lost: every time of this call is +inf; the next job
     * restarts it. */
    HELION_LOG(HELION_LOG_WARN, "rebench: %s", cerr.msg);
    return HELION_OK;
  }
  helion__wire_dec_t d = {payload, len, 0, false};
  if (rtype == HELION__REP_REBENCH) {
    uint32_t m = helion__wire_get_u32(&d);
    for (uint32_t i = 0; i < m && i < n; i++)
      out_ms[i] = helion__wire_get_f64(&d);
    bool exiting = helion__wire_get_u32(&d) != 0;
    char *msg = helion__wire_get_str(&d);
    uint32_t rounds = helion__wire_get_u32(&d);
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
      worker_reap(c, NULL, 0);
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
  if (c->proc.pid > 0) {
    if (!c->busy && !c->init_pending && !c->setup_pending &&
        helion_wire_send(c->fd, HELION__REQ_SHUTDOWN, NULL, 0, NULL) ==
            HELION_OK) {
      /* Up to 5 s for a clean exit, then the group is killed. */
      bool done = false;
      (void)helion_proc_wait(&c->proc, 5.0, &done, NULL, NULL);
    }
    worker_reap(c, NULL, 0);
  }
  if (c->fd >= 0)
    close(c->fd);
  helion_wire_reader_cleanup(&c->rd);
  free(c->setup_msg);
  free(c->exe);
  free(c);
}
