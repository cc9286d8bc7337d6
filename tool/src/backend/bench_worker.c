/*
 * bench_worker.c: the benchmark worker process: serves init, setup, bench,
 * rebench and shutdown jobs from its client over a socket with the GPU
 * runner (or a test's runner ops), and exits after a sticky CUDA error.
 */
#include "backend/bench_worker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/bench_wire.h"
#include "model/spec.h"

/* runner.c behind the ops table. */
static helion_status real_create(int ordinal, void **out,
                                 helion_gpu_info_t *info, helion_err_t *err) {
  return helion_runner_create(ordinal, (helion_runner_t **)out, info, err);
}
static void real_destroy(void *r) {
  helion_runner_destroy(r);
}
static helion_status real_set_args(void *r, const helion_spec_t *spec,
                                   const helion_host_args_t *args,
                                   helion_err_t *err) {
  return helion_runner_set_args(r, spec, args, err);
}
static helion_status real_load_kernel(void *r, const void *image, size_t len,
                                      const char *entry,
                                      const helion_launch_t *launch, void **out,
                                      helion_run_fail_t *fail,
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
                                           double *out_ms, uint32_t *out_rounds,
                                           helion_run_fail_t *fail,
                                           helion_err_t *err) {
  return helion_runner_time_interleaved(r, (helion_runner_kernel_t **)ks, n,
                                        repeat, t, out_ms, out_rounds, fail,
                                        err);
}

static const helion_bench_runner_ops_t real_ops = {
    real_create,        real_destroy,     real_set_args, real_load_kernel,
    real_unload_kernel, real_run_checked, real_time,     real_time_interleaved};

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
  helion__wire_enc_t e;
  helion__wire_enc_init(&e);
  helion__wire_put_u32(&e, (uint32_t)rc);
  helion__wire_put_str(&e, msg);
  (void)helion_wire_send(w->fd, HELION__REP_ERROR, e.b.data, e.b.len, NULL);
  helion_buf_cleanup(&e.b);
}

static void reply_result(worker *w, const helion_run_fail_t *fail,
                         const helion_timed_t *t) {
  helion__wire_enc_t e;
  helion_timed_t zero;
  memset(&zero, 0, sizeof(zero));
  if (!t)
    t = &zero;
  helion__wire_enc_init(&e);
  helion__wire_put_u32(&e, (uint32_t)fail->kind);
  helion__wire_put_f64(&e, fail->kind == HELION_RESULT_OK ? t->ms : INFINITY);
  helion__wire_put_f64(&e, t->min_ms);
  helion__wire_put_f64(&e, t->spread);
  helion__wire_put_u32(&e, t->reps);
  helion__wire_put_u32(&e, t->graph_k);
  helion__wire_put_u32(&e, t->copies);
  helion__wire_put_u32(&e, t->cut ? 1u : 0u);
  helion__wire_put_u32(&e, fail->sticky ? 1u : 0u);
  helion__wire_put_str(&e, fail->msg);
  helion__wire_put_u32(&e, (uint32_t)t->stop);
  helion__wire_put_f64(&e, t->load_ms);
  helion__wire_put_f64(&e, t->check_ms);
  helion__wire_put_f64(&e, t->warm_ms);
  helion__wire_put_f64(&e, t->timed_ms);
  (void)helion_wire_send(w->fd, HELION__REP_RESULT, e.b.data, e.b.len, NULL);
  helion_buf_cleanup(&e.b);
}

static void do_init(worker *w, helion__wire_dec_t *d) {
  helion_err_t err = {""};
  int ordinal = (int)helion__wire_get_u32(d);
  if (w->runner) {
    helion__wire_enc_t e;
    helion__wire_enc_init(&e);
    helion__wire_put_info(&e, &w->info);
    (void)helion_wire_send(w->fd, HELION__REP_DEVICE, e.b.data, e.b.len, NULL);
    helion_buf_cleanup(&e.b);
    return;
  }
  helion_status rc = w->ops->create(ordinal, &w->runner, &w->info, &err);
  if (rc) {
    reply_error(w, rc, err.msg);
    return;
  }
  helion__wire_enc_t e;
  helion__wire_enc_init(&e);
  helion__wire_put_info(&e, &w->info);
  (void)helion_wire_send(w->fd, HELION__REP_DEVICE, e.b.data, e.b.len, NULL);
  helion_buf_cleanup(&e.b);
}

/* Loads, checks (optionally) and times one kernel, with how long each
 * phase took in *timed. With HELION_BENCH_PROFILE=1 in the environment the
 * worker also prints them to stderr, one line per job. */
static helion_status bench_one(worker *w, const helion__wire_kernel_t *k,
                               bool check, bool as_baseline,
                               const helion_timing_t *t,
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
  timed->load_ms = (t1 - t0) * 1e3;
  timed->check_ms = (t2 - t1) * 1e3;
  w->ops->unload_kernel(w->runner, rk);
  if (helion_env_flag("HELION_BENCH_PROFILE"))
    fprintf(stderr,
            "bench worker: load %.1f ms, checked run %.1f ms, timing and "
            "unload %.1f ms\n",
            (t1 - t0) * 1e3, (t2 - t1) * 1e3, (helion_now() - t2) * 1e3);
  return rc;
}

/* Returns false when the worker must exit (sticky error). */
static bool do_setup(worker *w, helion__wire_dec_t *d) {
  helion_err_t err = {""};
  helion_status rc = HELION_OK;
  helion_run_fail_t fail;
  helion_timed_t timed;
  helion__wire_kernel_t k;
  helion_timing_t t;
  int64_t *shape = NULL;
  helion_num_t *scope = NULL;
  memset(&k, 0, sizeof(k));
  memset(&fail, 0, sizeof(fail));
  memset(&timed, 0, sizeof(timed));
  char *path = helion__wire_get_str(d);
  uint32_t nkeys = helion__wire_get_u32(d);
  uint32_t nscope = helion__wire_get_u32(d);
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
    shape[i] = (int64_t)helion__wire_get_u64(d);
  for (uint32_t i = 0; i < nscope; i++) {
    scope[i].is_float = helion__wire_get_u32(d) != 0;
    scope[i].i = (int64_t)helion__wire_get_u64(d);
    scope[i].f = helion__wire_get_f64(d);
  }
  uint64_t seed = helion__wire_get_u64(d);
  helion__wire_get_timing(d, &t);
  helion__wire_get_kernel(d, &k);
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

static bool do_bench(worker *w, helion__wire_dec_t *d) {
  helion_err_t err = {""};
  helion_run_fail_t fail;
  helion_timed_t timed;
  helion_timing_t t;
  helion__wire_kernel_t k;
  memset(&fail, 0, sizeof(fail));
  memset(&timed, 0, sizeof(timed));
  bool check = helion__wire_get_u32(d) != 0;
  helion__wire_get_timing(d, &t);
  helion__wire_get_kernel(d, &k);
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

static bool do_rebench(worker *w, helion__wire_dec_t *d) {
  helion_err_t err = {""};
  helion_run_fail_t fail;
  helion_timing_t t;
  memset(&fail, 0, sizeof(fail));
  uint32_t repeat = helion__wire_get_u32(d);
  helion__wire_get_timing(d, &t);
  uint32_t n = helion__wire_get_u32(d);
  if (d->bad || n > 100000) {
    reply_error(w, HELION_ERR_PARSE, "malformed rebench message");
    return true;
  }
  helion__wire_kernel_t *ks = calloc(n + 1, sizeof(*ks));
  void **rk = calloc(n + 1, sizeof(*rk));
  double *ms = calloc(n + 1, sizeof(*ms));
  if (!ks || !rk || !ms) {
    reply_error(w, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < n; i++)
    helion__wire_get_kernel(d, &ks[i]);
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
  if (!fail.sticky && w->ops->time_interleaved(w->runner, rk, n, repeat, &t, ms,
                                               &rounds, &fail, &err)) {
    reply_error(w, HELION_ERR_CUDA, err.msg);
    goto out;
  }
  {
    helion__wire_enc_t e;
    helion__wire_enc_init(&e);
    helion__wire_put_u32(&e, n);
    for (uint32_t i = 0; i < n; i++)
      helion__wire_put_f64(&e, fail.sticky ? INFINITY : ms[i]);
    helion__wire_put_u32(&e, fail.sticky ? 1u : 0u);
    helion__wire_put_str(&e, fail.msg);
    helion__wire_put_u32(&e, rounds);
    (void)helion_wire_send(w->fd, HELION__REP_REBENCH, e.b.data, e.b.len, NULL);
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
    helion__wire_dec_t d = {payload, len, 0, false};
    bool alive = true;
    switch (type) {
    case HELION__REQ_INIT:
      do_init(&w, &d);
      break;
    case HELION__REQ_SETUP:
      alive = do_setup(&w, &d);
      break;
    case HELION__REQ_BENCH:
      alive = do_bench(&w, &d);
      break;
    case HELION__REQ_REBENCH:
      alive = do_rebench(&w, &d);
      break;
    case HELION__REQ_SHUTDOWN:
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
      _exit(HELION__BENCH_EXIT_STICKY);
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
