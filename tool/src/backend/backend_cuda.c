/*
 * backend_cuda.c: the GPU backend: the compile pool feeds the benchmark
 * workers, overlapped; the queue, the shape's setup, the workers and the
 * statistics (see backend_cuda.h; the per-config artifacts are in
 * backend_cuda_art.c).
 */
#define _POSIX_C_SOURCE 200809L

#include "backend/backend_cuda_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/config.h"

#define SOURCE_MAX ((size_t)16 << 20)

static const helion_backend_vtable_t cuda_vtable;

/* ------------------------------------------------------------ helpers -- */

/* The compile tag of the current setup's default config (ref false) or
 * reference kernel (ref true). */
static uint64_t setup_tag(const helion_backend_cuda_t *b, bool ref) {
  return (uint64_t)UINT32_MAX << 32 |
         (uint64_t)(b->setup.serial & 0x7fffffffu) << 1 | (ref ? 1u : 0u);
}

/* Configurations submitted and not yet returned by collect(). */
static bool queue_busy(const helion_backend_cuda_t *b) {
  return b->nreturned < b->nq;
}

/* Seconds worker `w` had a job. */
static void add_busy(helion_backend_cuda_t *b, size_t w, double s) {
  b->stats.devices[w].busy_s += s;
  b->stats.gpu_busy_s += s;
}

/* --------------------------------------------------------- lifecycle -- */

static const char *path_basename(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* The GPUs to time on: `device` alone, the listed ones, or every GPU the
 * first worker sees. Starts one worker each: the first alone (it tells how
 * many GPUs there are), then the others at once; refuses ordinals beyond
 * the machine and GPUs of different models. */
static helion_status start_workers(helion_backend_cuda_t *b,
                                   const helion_backend_cuda_opts_t *o,
                                   helion_err_t *err) {
  helion_bench_client_opts_t co;
  memset(&co, 0, sizeof(co));
  co.exe = o->worker_exe;
  co.device = o->all_devices ? 0 : o->ndevices ? o->devices[0] : o->device;
  co.timeout_s = o->bench_timeout_s;
  co.timing.precision = o->rebench_precision;
  co.timing.duty = o->duty;
  helion_status rc = helion_bench_client_create(&co, &b->clients[0], err);
  if (rc)
    return rc;
  b->nclients = 1;
  const helion_gpu_info_t *first = helion_bench_client_device(b->clients[0]);
  int count = first->device_count > first->ordinal ? first->device_count
                                                   : first->ordinal + 1;
  size_t want = o->all_devices ? (size_t)count : o->ndevices ? o->ndevices : 1;
  if (want > HELION_CUDA_MAX_DEVICES)
    want = HELION_CUDA_MAX_DEVICES;
  for (size_t w = 1; w < want; w++) {
    int d = o->all_devices ? (int)w : o->devices[w];
    if (d >= count)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "--devices: GPU %d does not exist (%d visible; "
                            "pick from 0..%d)",
                            d, count, count - 1);
  }
  /* The others initialise their GPUs at once (CUDA's start-up is most of
   * a worker's); every one begun is waited for, the first error kept. */
  size_t begun = 1;
  for (; begun < want; begun++) {
    co.device = o->all_devices ? (int)begun : o->devices[begun];
    if ((rc = helion_bench_client_create_begin(&co, &b->clients[begun], err)))
      break;
  }
  b->nclients = begun;
  for (size_t w = 1; w < begun; w++) {
    helion_err_t later = {{0}}; /* after the first error: dropped */
    helion_status wrc =
        helion_bench_client_create_end(b->clients[w], rc ? &later : err);
    if (!rc)
      rc = wrc;
  }
  for (size_t w = 1; w < b->nclients && !rc; w++) {
    const helion_gpu_info_t *d = helion_bench_client_device(b->clients[w]);
    if (strcmp(d->props.name, first->props.name) != 0 ||
        d->props.cc_major != first->props.cc_major ||
        d->props.cc_minor != first->props.cc_minor)
      rc = helion_err_set(
          err, HELION_ERR_INVALID,
          "--devices: GPU %d is a %s (sm_%d%d) but GPU %d is a %s (sm_%d%d): "
          "GPUs of different models cannot share one tune (their winners "
          "differ); tune them separately with --device %d and --device %d",
          first->ordinal, first->props.name, first->props.cc_major,
          first->props.cc_minor, d->ordinal, d->props.name, d->props.cc_major,
          d->props.cc_minor, first->ordinal, d->ordinal);
  }
  return rc;
}

helion_status helion_backend_cuda_create(const helion_spec_t *spec,
                                         const helion_backend_cuda_opts_t *o,
                                         helion_backend_cuda_t **out,
                                         helion_err_t *err) {
  helion_status rc = HELION_OK;
  size_t len = 0;
  helion_backend_cuda_t *b = calloc(1, sizeof(*b));
  if (!b)
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory creating the CUDA backend");
  b->base.vt = &cuda_vtable;
  b->spec = spec;
  b->opts = *o;
  if ((rc = helion_read_file(spec->source, SOURCE_MAX, &b->source, &len, err)))
    goto out;
  b->source_name = helion_strdup(path_basename(spec->source));
  b->shape = calloc(spec->nkeys ? spec->nkeys : 1, sizeof(*b->shape));
  b->scope = calloc(spec->nscope ? spec->nscope : 1, sizeof(*b->scope));
  if (!b->source_name || !b->shape || !b->scope) {
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "out of memory creating the CUDA backend");
    goto out;
  }

  if ((rc = start_workers(b, o, err)))
    goto out;
  const helion_gpu_info_t *dev = helion_bench_client_device(b->clients[0]);
  char dev_arch[16];
  snprintf(dev_arch, sizeof(dev_arch), "sm_%d%d", dev->props.cc_major,
           dev->props.cc_minor);
  helion_nvrtc_target(o->arch ? o->arch : dev_arch, spec->arch_specific,
                      b->arch, sizeof(b->arch));
  if ((rc = helion_compile_pool_create(&o->pool, &b->pool, err)))
    goto out;
  char gpus[HELION_CUDA_MAX_DEVICES * 6] = "";
  size_t at = 0;
  for (size_t w = 0; w < b->nclients && at < sizeof(gpus); w++)
    at += (size_t)snprintf(gpus + at, sizeof(gpus) - at, "%s%d", w ? "," : "",
                           helion_bench_client_device(b->clients[w])->ordinal);
  HELION_LOG(HELION_LOG_INFO,
             "GPU%s %s: %s%s (%s, %lld SMs); %zu compile processes, compile "
             "timeout %gs",
             b->nclients > 1 ? "s" : "", gpus, b->nclients > 1 ? "each " : "",
             dev->props.name, b->arch, (long long)dev->props.num_sms,
             helion_compile_pool_jobs(b->pool),
             helion_compile_pool_timeout(b->pool));
  *out = b;
  b = NULL;
out:
  helion_backend_cuda_destroy(b);
  return rc;
}

void helion_backend_cuda_destroy(helion_backend_cuda_t *b) {
  if (!b)
    return;
  if (b->base.space)
    helion__cuda_arts_clear(b);
  helion_compile_result_cleanup(&b->setup.ref);
  helion_compile_pool_destroy(b->pool);
  for (size_t w = 0; w < b->nclients; w++)
    helion_bench_client_destroy(b->clients[w]);
  free(b->arts);
  free(b->slots);
  free(b->q);
  free(b->ready);
  free(b->finished);
  free(b->source);
  free(b->source_name);
  free(b->shape);
  free(b->scope);
  free(b);
}

const helion_gpu_info_t *
helion_backend_cuda_device(const helion_backend_cuda_t *b) {
  return helion_bench_client_device(b->clients[0]);
}

const char *helion_backend_cuda_arch(const helion_backend_cuda_t *b) {
  return b->arch;
}

helion_backend_t *helion_backend_cuda_backend(helion_backend_cuda_t *b) {
  return &b->base;
}

/* ------------------------------------------------------------- bench -- */

/* The queue holds at least `n` entries. */
static helion_status queue_reserve(helion_backend_cuda_t *b, size_t n,
                                   helion_err_t *err) {
  if (n <= b->cap_q)
    return HELION_OK;
  size_t cap = b->cap_q ? b->cap_q * 2 : 64;
  if (cap < n)
    cap = n;
  /* Each array keeps the old capacity at least, so a failure part way
   * leaves the queue usable. */
  queued *q = realloc(b->q, cap * sizeof(*q));
  if (q)
    b->q = q;
  size_t *ready = q ? realloc(b->ready, cap * sizeof(*ready)) : NULL;
  if (ready)
    b->ready = ready;
  size_t *fin = ready ? realloc(b->finished, cap * sizeof(*fin)) : NULL;
  if (!fin)
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory queueing %zu configurations", n);
  b->finished = fin;
  b->cap_q = cap;
  return HELION_OK;
}

/* After the first time the queue drains (Helion: after the initial
 * population), compiles get the adaptive deadline. */
static void adapt_once(helion_backend_cuda_t *b) {
  if (b->opts.adaptive_timeout && !b->adapted) {
    helion_compile_pool_adapt_timeout(b->pool);
    b->adapted = true;
  }
}

/* Entry `i` finished: its result is final and it waits for collect(). */
static void record(helion_backend_cuda_t *b, size_t i, helion_result_kind kind,
                   double ms) {
  queued *e = &b->q[i];
  art *a = &b->arts[e->art];
  a->kind = kind;
  a->ms = kind == HELION_RESULT_OK ? ms : INFINITY;
  e->res.kind = kind;
  e->res.ms = a->ms;
  e->res.compile_s = a->compile_s;
  b->finished[b->nfinished++] = i;
  b->stats.by_kind[kind]++;
  if (a->ms < b->best_ms)
    b->best_ms = a->ms;
}

/* A finished compile: failures are recorded and logged, successes queued
 * for the worker. */
static void on_compiled(helion_backend_cuda_t *b, helion_compile_result_t *r,
                        helion_buf_t *js) {
  size_t i = (size_t)(r->tag & 0xffffffffu);
  art *a = &b->arts[b->q[i].art];
  helion__cuda_art_take_compile(a, r);
  switch (r->status) {
  case HELION_COMPILE_OK:
    b->ready[b->nready++] = i;
    return;
  case HELION_COMPILE_FAILED: {
    char line[512];
    helion_nvrtc_first_error(r->out.log, r->msg, line, sizeof(line));
    HELION_LOG(HELION_LOG_WARN,
               "Skipping config that failed to compile: %s: %s",
               helion__cuda_config_str(b, a->cells, js), line);
    HELION_LOG(HELION_LOG_DEBUG, "NVRTC log:\n%s",
               r->out.log ? r->out.log : "");
    record(b, i, HELION_RESULT_COMPILE, INFINITY);
    return;
  }
  case HELION_COMPILE_CRASHED:
    HELION_LOG(HELION_LOG_WARN, "Skipping config whose compile crashed: %s: %s",
               helion__cuda_config_str(b, a->cells, js), r->msg);
    record(b, i, HELION_RESULT_COMPILE, INFINITY);
    return;
  case HELION_COMPILE_TIMEOUT:
    HELION_LOG(HELION_LOG_WARN, "Timeout after %.1fs compiling %s%s",
               r->seconds, helion__cuda_config_str(b, a->cells, js),
               r->sigkill ? " (SIGKILL required)" : "");
    b->stats.compile_timeouts++;
    record(b, i, HELION_RESULT_TIMEOUT, INFINITY);
    return;
  }
}

/* A finished bench job of entry `i`. */
static void on_benched(helion_backend_cuda_t *b, size_t i,
                       const helion_bench_outcome_t *o, helion_buf_t *js) {
  const art *a = &b->arts[b->q[i].art];
  const int64_t *cells = a->cells;
  const helion_timed_t *t = &o->timed;
  b->stats.load_s += t->load_ms / 1e3;
  b->stats.check_s += t->check_ms / 1e3;
  b->stats.warm_s += t->warm_ms / 1e3;
  b->stats.timed_s += t->timed_ms / 1e3;
  switch (o->kind) {
  case HELION_RESULT_OK:
    b->stats.by_stop[t->stop]++;
    HELION_LOG(HELION_LOG_DEBUG,
               "config %s: %.4f ms (%u reps, %s), compile %.2f s, worker "
               "%.1f ms: load %.1f, check %.1f, warm-up %.1f, timing %.1f",
               helion__cuda_config_str(b, cells, js), o->ms, t->reps,
               helion_timing_stop_name(t->stop), a->compile_s, o->wall_s * 1e3,
               t->load_ms, t->check_ms, t->warm_ms, t->timed_ms);
    break;
  case HELION_RESULT_ACCURACY:
    HELION_LOG(HELION_LOG_WARN,
               "Skipping config with accuracy mismatch: %s: %s",
               helion__cuda_config_str(b, cells, js), o->msg);
    break;
  case HELION_RESULT_TIMEOUT:
    HELION_LOG(HELION_LOG_WARN, "Benchmark worker timed out for %s: %s",
               helion__cuda_config_str(b, cells, js), o->msg);
    break;
  default:
    HELION_LOG(HELION_LOG_WARN,
               "Skipping config that triggered a runtime error in the "
               "benchmark worker: %s: %s",
               helion__cuda_config_str(b, cells, js), o->msg);
    break;
  }
  record(b, i, o->kind, o->ms);
}

/* Sends ready config `a` to worker `w`; `more` says whether another
 * compiled config is still waiting for a worker. */
static helion_status submit_bench(helion_backend_cuda_t *b, size_t w,
                                  const art *a, bool more, helion_err_t *err) {
  helion_bench_job_t job;
  memset(&job, 0, sizeof(job));
  job.kernel.image = a->cubin;
  job.kernel.len = a->cubin_size;
  job.kernel.entry = b->spec->entry;
  job.kernel.launch = a->launch;
  job.no_check = !b->opts.accuracy_check;
  /* Cut a slow config short only when another compiled one waits for a
   * worker; otherwise the GPU has nothing better to do than time it in
   * full. */
  if (b->opts.slow_cutoff > 0 && isfinite(b->best_ms) && more)
    job.timing.cutoff_ms = b->opts.slow_cutoff * b->best_ms;
  /* The fastest time so far over every GPU. */
  if (b->opts.early_stop && isfinite(b->best_ms))
    job.timing.incumbent_ms = b->best_ms;
  return helion_bench_client_submit(b->clients[w], &job, err);
}

/* Feeds every free worker from the ready queue, round robin from the one
 * after the last fed, so each GPU gets work even when compiles finish one
 * at a time. */
static helion_status feed_workers(helion_backend_cuda_t *b, helion_err_t *err) {
  const size_t nw = b->nclients, first = b->next_worker % nw;
  for (size_t k = 0; k < nw && b->ready_head < b->nready; k++) {
    size_t w = (first + k) % nw;
    if (b->jobs[w].busy || b->jobs[w].restarting)
      continue;
    size_t i = b->ready[b->ready_head++];
    helion_status rc = submit_bench(b, w, &b->arts[b->q[i].art],
                                    b->ready_head < b->nready, err);
    if (rc)
      return rc;
    b->jobs[w] = (worker_job){true, i, helion_now(), false};
    b->next_worker = w + 1;
  }
  return HELION_OK;
}

/* Empties the queue; compiles still out for its entries are ignored when
 * they come back (a new generation, which skips UINT32_MAX: setup tags). */
static void queue_reset(helion_backend_cuda_t *b) {
  b->nq = b->nfinished = b->nreturned = 0;
  b->ready_head = b->nready = 0;
  b->generation = (b->generation + 1) % UINT32_MAX;
}

/* A compile of the current setup is back: the default config's goes into
 * its art, the reference kernel's is kept for the workers' setup. A
 * failure fails the setup (the shape cannot be tuned). */
static void setup_compiled(helion_backend_cuda_t *b, helion_compile_result_t *r,
                           helion_buf_t *js) {
  bool ref = r->tag & 1;
  if (!b->setup.pending || r->tag != setup_tag(b, ref))
    return; /* an abandoned shape's */
  if (r->status != HELION_COMPILE_OK && b->setup.fail == HELION_OK) {
    char line[512];
    helion_nvrtc_first_error(r->out.log, r->msg, line, sizeof(line));
    if (ref)
      b->setup.fail =
          helion_err_set(&b->setup.why, HELION_ERR_INVALID,
                         "%s: reference kernel '%s' failed to compile: %s",
                         b->spec->path, b->spec->reference, line);
    else
      b->setup.fail = helion_err_set(
          &b->setup.why, HELION_ERR_INVALID,
          "%s: default config failed to compile: %s: %s", b->spec->path,
          helion__cuda_config_str(b, b->arts[b->setup.def_art].cells, js),
          line);
  }
  if (ref) {
    b->setup.ref = *r;
    memset(r, 0, sizeof(*r)); /* moved */
    b->setup.ref_done = true;
  } else {
    helion__cuda_art_take_compile(&b->arts[b->setup.def_art], r);
    b->setup.def_done = true;
  }
}

/* Takes every finished compile: the setup's, and the queue entries' of the
 * current generation. */
static void take_compiles(helion_backend_cuda_t *b, helion_buf_t *js) {
  helion_compile_result_t r;
  while (helion_compile_pool_take(b->pool, &r)) {
    b->stats.compile_s += r.seconds;
    if ((r.tag >> 32) == UINT32_MAX)
      setup_compiled(b, &r, js);
    else if ((r.tag >> 32) == (b->generation & 0xffffffffu) &&
             (r.tag & 0xffffffffu) < b->nq)
      on_compiled(b, &r, js);
    helion_compile_result_cleanup(&r);
  }
}

/* One turn of the event loop: waits for a compile, a worker's answer or the
 * nearest deadline, then takes every compile and job that finished. */
static helion_status queue_step(helion_backend_cuda_t *b, helion_buf_t *js,
                                helion_err_t *err) {
  const size_t nw = b->nclients;
  int fds[HELION_CUDA_MAX_DEVICES];
  size_t nidle = 0, nfds = 0;
  bool lost = false;
  double wait_s = -1;
  for (size_t w = 0; w < nw; w++) {
    fds[w] = -1;
    if (!b->jobs[w].busy && !b->jobs[w].restarting) {
      nidle++;
      continue;
    }
    double dl = helion_bench_client_deadline(b->clients[w]);
    double ws = dl > 0 ? dl - helion_now() + 0.01 : 0.05;
    if (ws < 0)
      ws = 0;
    if (wait_s < 0 || ws < wait_s)
      wait_s = ws;
    fds[w] = helion_bench_client_fd(b->clients[w]);
    nfds += fds[w] >= 0;
    lost |= fds[w] < 0;
  }
  bool waiting_for_nvrtc =
      nidle > 0 && helion_compile_pool_outstanding(b->pool) > 0;
  double w0 = helion_now();
  /* A busy client without a descriptor (it is restarting) is polled
   * below with a short wait instead, when nothing else can wake us. */
  int collect_wait_ms = 0;
  helion_status rc = HELION_OK;
  if (lost && (wait_s < 0 || wait_s > 0.05))
    wait_s = 0.05;
  if (lost && nfds == 0 && helion_compile_pool_outstanding(b->pool) == 0)
    collect_wait_ms = 50;
  else if ((rc = helion_compile_pool_wait(b->pool, wait_s, fds, nw, NULL, err)))
    return rc;
  if (waiting_for_nvrtc)
    b->stats.gpu_idle_wait_s += (double)nidle * (helion_now() - w0);

  take_compiles(b, js);
  for (size_t w = 0; w < nw; w++) {
    worker_job *job = &b->jobs[w];
    const int gpu = helion_bench_client_device(b->clients[w])->ordinal;
    if (job->restarting) {
      bool ready = false;
      if ((rc = helion_bench_client_restart_poll(b->clients[w], &ready, err))) {
        helion_err_prefix(err, "GPU %d: ", gpu);
        return rc;
      }
      if (ready) {
        job->restarting = false;
        HELION_LOG(HELION_LOG_INFO, "GPU %d: benchmark worker restarted", gpu);
      }
    }
    if (!job->busy)
      continue;
    bool done = false;
    helion_bench_outcome_t o;
    if ((rc = helion_bench_client_collect(
             b->clients[w], fds[w] < 0 ? collect_wait_ms : 0, &done, &o, err)))
      return rc;
    if (!done)
      continue;
    add_busy(b, w, helion_now() - job->since);
    b->stats.devices[w].configs++;
    job->busy = false;
    on_benched(b, job->q, &o, js);
    /* A lost worker restarts at once, without holding up the others. */
    if (o.worker_lost) {
      if ((rc = helion_bench_client_restart_begin(b->clients[w], err))) {
        helion_err_prefix(err, "GPU %d: ", gpu);
        return rc;
      }
      job->restarting = true;
    }
  }
  return HELION_OK;
}

/* Gives every worker its setup (inputs, the baseline's outputs and time)
 * at once; the first GPU's baseline time is the one reported (it times the
 * finalists too). Every setup begun is waited for, so no reply is left
 * unread after a failure; the first error is the one returned. */
static helion_status setup_workers(helion_backend_cuda_t *b, double *out_ms,
                                   helion_err_t *err) {
  art *a = &b->arts[b->setup.def_art];
  helion_kernel_image_t base = {a->cubin, a->cubin_size, b->spec->entry,
                                a->launch};
  if (b->spec->reference) {
    base.image = b->setup.ref.out.cubin;
    base.len = b->setup.ref.out.cubin_size;
    base.entry = b->spec->reference;
  }
  /* Arguments are sized by the default config's scope. */
  const helion_gpu_info_t *dev = helion_bench_client_device(b->clients[0]);
  helion_launch_scope(b->spec, b->base.space, b->shape, &dev->props, NULL,
                      b->scope);
  helion_bench_setup_t setup = {b->spec->path, b->shape,        b->spec->nkeys,
                                b->scope,      b->spec->nscope, b->setup.seed,
                                base};
  helion_status rc = HELION_OK;
  size_t begun = 0;
  bool later_w[HELION_CUDA_MAX_DEVICES] = {false};
  double t0 = helion_now();
  *out_ms = INFINITY;
  for (; begun < b->nclients; begun++) {
    helion_bench_client_t *c = b->clients[begun];
    /* A GPU still restarting (its worker lost late in the last shape)
     * takes this setup when its restart ends; the others do not wait for
     * it. The first GPU's baseline is the one reported: it is waited for. */
    later_w[begun] = begun > 0 && helion_bench_client_restarting(c);
    b->jobs[begun].restarting |= later_w[begun];
    rc = later_w[begun] ? helion_bench_client_setup_later(c, &setup, err)
                        : helion_bench_client_setup_begin(c, &setup, err);
    if (rc)
      break; /* the failed one has nothing to end */
  }
  for (size_t w = 0; w < begun; w++) {
    double ms = INFINITY;
    if (later_w[w])
      continue;
    helion_err_t later = {{0}}; /* after the first error: dropped */
    helion_status wrc =
        helion_bench_client_setup_end(b->clients[w], &ms, rc ? &later : err);
    add_busy(b, w, helion_now() - t0);
    if (!rc)
      rc = wrc;
    if (w == 0)
      *out_ms = ms;
  }
  return rc;
}

/* Finishes the shape's setup if set_shape() left it running: waits for the
 * default config's (and the reference kernel's) compile, taking the queue
 * entries' compiles as they come, then sets up the workers. The default
 * config's entries held meanwhile go to the workers after. A failure
 * empties the queue and is repeated by every later call of this shape. */
static helion_status setup_finish(helion_backend_cuda_t *b, helion_err_t *err) {
  if (!b->setup.pending)
    return b->setup.fail
               ? helion_err_set(err, b->setup.fail, "%s", b->setup.why.msg)
               : HELION_OK;
  double t0 = helion_now();
  helion_status rc = HELION_OK;
  helion_buf_t js;
  helion_buf_init(&js, (size_t)1 << 20);
  while (!rc && !b->setup.fail &&
         !(b->setup.def_done && (b->setup.ref_done || !b->spec->reference)))
    if (!(rc = helion_compile_pool_wait(b->pool, -1, NULL, 0, NULL, err)))
      take_compiles(b, &js);
  if (!rc && b->setup.fail)
    rc = helion_err_set(err, b->setup.fail, "%s", b->setup.why.msg);
  double base_ms = INFINITY;
  if (!rc) {
    HELION_LOG(HELION_LOG_DEBUG,
               "Setup: default config compiled in %.2fs; the workers set up "
               "while %zu configs of the search are queued",
               b->arts[b->setup.def_art].compile_s, b->nq);
    rc = setup_workers(b, &base_ms, err);
  }
  b->setup.pending = false;
  helion_compile_result_cleanup(&b->setup.ref);
  memset(&b->setup.ref, 0, sizeof(b->setup.ref));
  if (rc) {
    b->setup.fail = rc;
    if (err)
      b->setup.why = *err;
    queue_reset(b);
    goto out;
  }
  HELION_LOG(HELION_LOG_INFO, "Baseline (%s): %.4fms",
             b->spec->reference ? b->spec->reference : "default config",
             base_ms);
  b->setup.ms = base_ms;
  b->best_ms = base_ms;
  art *a = &b->arts[b->setup.def_art];
  if (!b->spec->reference && isfinite(base_ms)) {
    /* The baseline run was the default config's bench: keep its result,
     * so a later rebench can time it again. */
    a->kind = HELION_RESULT_OK;
    a->ms = base_ms;
  }
  for (size_t i = 0; i < b->nq; i++)
    if (b->q[i].held) {
      b->q[i].held = false;
      b->ready[b->nready++] = i;
    }
out:
  helion_buf_cleanup(&js);
  b->stats.setup_s += helion_now() - t0;
  return rc;
}

helion_status helion_backend_cuda_set_shape(helion_backend_cuda_t *b,
                                            const helion_space_t *space,
                                            const int64_t *shape, uint64_t seed,
                                            helion_err_t *err) {
  /* Queued entries point into the artifacts this forgets. */
  if (queue_busy(b))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "set_shape while configurations are queued");
  double t0 = helion_now();
  helion_status rc = HELION_OK;
  helion_buf_t js;
  helion_buf_init(&js, (size_t)1 << 20);
  int64_t *cells = NULL;
  helion_err_t why = {{0}};

  if (b->base.space)
    helion__cuda_arts_clear(b);
  /* Nothing is queued, so every compile not started yet is an abandoned
   * queue's or an earlier setup's: this shape's must not wait for them. */
  size_t dropped = helion_compile_pool_cancel_queued(b->pool);
  if (dropped)
    HELION_LOG(HELION_LOG_DEBUG,
               "Dropped %zu compiles no shape waits for any more", dropped);
  helion_compile_result_cleanup(&b->setup.ref);
  memset(&b->setup, 0, sizeof(b->setup));
  b->setup.serial = ++b->setup_serial;
  b->setup.seed = seed;
  b->setup.ms = INFINITY;
  b->best_ms = INFINITY;
  b->base.space = space;
  memcpy(b->shape, shape, b->spec->nkeys * sizeof(*shape));
  memset(&b->stats, 0, sizeof(b->stats));
  b->stats.ndevices = b->nclients;
  for (size_t w = 0; w < b->nclients; w++)
    b->stats.devices[w].ordinal =
        helion_bench_client_device(b->clients[w])->ordinal;
  b->clock0 = t0;

  cells = malloc(space->ncells * sizeof(*cells));
  if (!cells) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  helion_space_default(space, cells);
  helion_launch_t launch;
  if (!helion__cuda_config_launch(b, cells, &launch, &why)) {
    rc = helion_err_set(
        err, HELION_ERR_INVALID, "%s: default config %s cannot launch: %s",
        b->spec->path, helion__cuda_config_str(b, cells, &js), why.msg);
    goto out;
  }
  art *a = helion__cuda_art_get(b, cells, &b->setup.def_art);
  if (!a) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
    goto out;
  }
  a->launch = launch;
  /* First in the pool's queue, so the first to start. */
  if ((rc = helion__cuda_submit_compile(b, cells, b->spec->entry,
                                        setup_tag(b, false), err)) ||
      (b->spec->reference &&
       (rc = helion__cuda_submit_compile(b, cells, b->spec->reference,
                                         setup_tag(b, true), err))))
    goto out;
  b->setup.pending = true;
out:
  if (rc) {
    /* The workers still hold the last shape's inputs: nothing of this
     * shape may be timed against them. */
    b->setup.fail = rc;
    if (err)
      b->setup.why = *err;
  }
  b->stats.setup_s = helion_now() - t0;
  helion_buf_cleanup(&js);
  free(cells);
  return rc;
}

helion_status helion_backend_cuda_baseline(helion_backend_cuda_t *b,
                                           double *out_ms, helion_err_t *err) {
  *out_ms = INFINITY;
  if (!b->base.space)
    return helion_err_set(err, HELION_ERR_USAGE, "baseline before set_shape");
  helion_status rc = setup_finish(b, err);
  if (rc == HELION_OK)
    *out_ms = b->setup.ms;
  return rc;
}

static helion_status cuda_submit(helion_backend_t *base, const int64_t *configs,
                                 size_t n, const uint64_t *tags,
                                 helion_err_t *err) {
  helion_backend_cuda_t *b = (helion_backend_cuda_t *)base;
  if (b->setup.fail)
    return helion_err_set(err, b->setup.fail, "%s", b->setup.why.msg);
  const size_t nc = helion__cuda_ncells(b);
  double t0 = helion_now();
  helion_buf_t js;
  helion_buf_init(&js, (size_t)1 << 20);
  helion_status rc = queue_reserve(b, b->nq + n, err);
  for (size_t i = 0; i < n && !rc; i++) {
    const int64_t *cells = configs + i * nc;
    const size_t qi = b->nq;
    queued *e = &b->q[qi];
    e->tag = tags[i];
    e->res = (helion_bench_result_t){HELION_RESULT_COMPILE, INFINITY, 0};
    e->held = false;
    art *a = helion__cuda_art_get(b, cells, &e->art);
    if (!a) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory in bench");
      break;
    }
    b->nq++;
    b->stats.configs++;
    helion_err_t why = {{0}};
    helion_launch_t launch;
    if (!helion__cuda_config_launch(b, cells, &launch, &why)) {
      HELION_LOG(HELION_LOG_WARN, "Skipping config that cannot launch: %s: %s",
                 helion__cuda_config_str(b, cells, &js), why.msg);
      record(b, qi, HELION_RESULT_RUNTIME, INFINITY);
      continue;
    }
    a->launch = launch;
    if (a->cubin) /* compiled before */
      b->ready[b->nready++] = qi;
    else if (b->setup.pending && e->art == b->setup.def_art)
      e->held = true; /* its compile is the setup's */
    else if ((rc = helion__cuda_submit_compile(
                  b, cells, b->spec->entry,
                  (b->generation & 0xffffffffu) << 32 | qi, err))) {
      /* Not queued after all: collect() must not wait for it. */
      b->nq--;
      b->stats.configs--;
    }
  }
  b->stats.bench_s += helion_now() - t0;
  helion_buf_cleanup(&js);
  return rc;
}

/* Nothing can finish: no compile out or waiting to be taken, no compiled
 * config waiting, no worker timing or restarting; collect would wait
 * forever. */
static bool stalled(const helion_backend_cuda_t *b) {
  if (helion_compile_pool_outstanding(b->pool) > 0 ||
      helion_compile_pool_ready(b->pool) > 0 || b->ready_head < b->nready)
    return false;
  for (size_t w = 0; w < b->nclients; w++)
    if (b->jobs[w].busy || b->jobs[w].restarting)
      return false;
  return true;
}

static helion_status cuda_collect(helion_backend_t *base, size_t max,
                                  uint64_t *tags, helion_bench_result_t *out,
                                  size_t *got, helion_err_t *err) {
  helion_backend_cuda_t *b = (helion_backend_cuda_t *)base;
  *got = 0;
  /* Its own phase (setup_s), not the collect's. */
  helion_status rc = setup_finish(b, err);
  if (rc || !queue_busy(b))
    return rc;
  double t0 = helion_now();
  helion_buf_t js;
  helion_buf_init(&js, (size_t)1 << 20);
  while (b->nfinished == b->nreturned) {
    if ((rc = feed_workers(b, err)))
      goto out;
    if (stalled(b)) {
      rc = helion_err_set(err, HELION_ERR_USAGE,
                          "CUDA backend: %zu configurations queued but none "
                          "is compiling, waiting for a GPU or being timed "
                          "(a bug: please report it)",
                          b->nq - b->nfinished);
      goto out;
    }
    if ((rc = queue_step(b, &js, err)))
      goto out;
  }
  /* The GPUs go on timing while the caller thinks about the results. */
  if ((rc = feed_workers(b, err)))
    goto out;
  size_t k = 0;
  for (; k < max && b->nreturned < b->nfinished; k++) {
    const queued *e = &b->q[b->finished[b->nreturned++]];
    tags[k] = e->tag;
    out[k] = e->res;
  }
  *got = k;
  if (!queue_busy(b)) {
    /* Drained: start over, so the queue does not grow forever. */
    queue_reset(b);
    adapt_once(b);
  }
out:
  b->stats.bench_s += helion_now() - t0;
  helion_buf_cleanup(&js);
  return rc;
}

/* submit() everything, then collect() until all is back. */
static helion_status cuda_bench(helion_backend_t *base, const int64_t *configs,
                                size_t n, helion_bench_result_t *out,
                                helion_err_t *err) {
  helion_backend_cuda_t *b = (helion_backend_cuda_t *)base;
  helion_status rc = HELION_OK;
  double t0 = helion_now();
  const double busy0 = b->stats.gpu_busy_s, idle0 = b->stats.gpu_idle_wait_s;
  if (queue_busy(b))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "bench while configurations are queued");
  uint64_t *tags = calloc(n ? n : 1, sizeof(*tags));
  helion_bench_result_t *res = calloc(n ? n : 1, sizeof(*res));
  if (!tags || !res) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory in bench");
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    tags[i] = i;
  if ((rc = cuda_submit(base, configs, n, tags, err)))
    goto out;
  /* submit() copied the tags: the arrays take collect()'s answers now. */
  for (size_t have = 0, got = 0; have < n; have += got)
    if ((rc = cuda_collect(base, n - have, tags + have, res + have, &got, err)))
      goto out;
  for (size_t k = 0; k < n; k++)
    out[tags[k]] = res[k];
  HELION_LOG(HELION_LOG_DEBUG,
             "bench: %zu configs in %.2fs (workers busy %.2fs, waiting for "
             "NVRTC %.2fs)",
             n, helion_now() - t0, b->stats.gpu_busy_s - busy0,
             b->stats.gpu_idle_wait_s - idle0);
  adapt_once(b); /* also after an empty first call, as before */
out:
  free(tags);
  free(res);
  return rc;
}

static helion_status cuda_rebench(helion_backend_t *base,
                                  const int64_t *configs, size_t n,
                                  double target_ms, double *out_ms,
                                  helion_err_t *err) {
  helion_backend_cuda_t *b = (helion_backend_cuda_t *)base;
  if (queue_busy(b))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "rebench while configurations are queued");
  helion_status rc = setup_finish(b, err);
  if (rc)
    return rc;
  const size_t nc = helion__cuda_ncells(b);
  helion_kernel_image_t *ks = calloc(n ? n : 1, sizeof(*ks));
  double *prev = calloc(n ? n : 1, sizeof(*prev));
  double *got = calloc(n ? n : 1, sizeof(*got));
  size_t *which = calloc(n ? n : 1, sizeof(*which));
  double *res = calloc(n ? n : 1, sizeof(*res));
  size_t k = 0;
  double max_ms = 0;
  if (!ks || !prev || !got || !which || !res) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory in rebench");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    res[i] = INFINITY;
    art *a = helion__cuda_art_find(b, configs + i * nc);
    if (!a || !a->cubin || a->kind != HELION_RESULT_OK)
      continue;
    ks[k].image = a->cubin;
    ks[k].len = a->cubin_size;
    ks[k].entry = b->spec->entry;
    ks[k].launch = a->launch;
    prev[k] = a->ms;
    if (isfinite(a->ms) && a->ms > max_ms)
      max_ms = a->ms;
    which[k++] = i;
  }
  if (k > 0) {
    uint32_t repeat = helion_bench_rebench_repeat(
        target_ms > 0 ? target_ms : 200, max_ms > 0 ? max_ms : INFINITY);
    double t0 = helion_now();
    uint32_t rounds = 0;
    /* The first GPU alone: finalists are compared on one clock. */
    rc = helion_bench_client_rebench(b->clients[0], ks, k, repeat, prev, got,
                                     &rounds, err);
    b->stats.rebench_s += helion_now() - t0;
    add_busy(b, 0, helion_now() - t0);
    if (rc)
      goto out;
    HELION_LOG(HELION_LOG_DEBUG,
               "rebench: %zu configs, %u of %u rounds (target %g ms) in %.2fs",
               k, rounds, repeat, target_ms, helion_now() - t0);
    for (size_t j = 0; j < k; j++) {
      res[which[j]] = got[j];
      art *a = helion__cuda_art_find(b, configs + which[j] * nc);
      if (a)
        a->ms = got[j];
    }
  }
  memcpy(out_ms, res, n * sizeof(*out_ms));
out:
  free(ks);
  free(prev);
  free(got);
  free(which);
  free(res);
  return rc;
}

static double cuda_elapsed(helion_backend_t *base) {
  helion_backend_cuda_t *b = (helion_backend_cuda_t *)base;
  return helion_now() - b->clock0;
}

static void cuda_destroy(helion_backend_t *base) {
  helion_backend_cuda_destroy((helion_backend_cuda_t *)base);
}

static const helion_backend_vtable_t cuda_vtable = {
    .bench = cuda_bench,
    .rebench = cuda_rebench,
    .submit = cuda_submit,
    .collect = cuda_collect,
    .elapsed = cuda_elapsed,
    .destroy = cuda_destroy,
};

/* ------------------------------------------------------------ queries -- */

bool helion_backend_cuda_artifact(const helion_backend_cuda_t *b,
                                  const int64_t *cells,
                                  helion_cuda_artifact_t *out) {
  const art *a = helion__cuda_art_find(b, cells);
  if (!a)
    return false;
  out->cells = a->cells;
  out->cubin = a->cubin;
  out->cubin_size = a->cubin_size;
  out->ptx = a->ptx;
  out->ptx_size = a->ptx_size;
  out->usage = a->usage;
  out->compile_s = a->compile_s;
  out->kind = a->kind;
  out->ms = a->ms;
  return true;
}

void helion_backend_cuda_stats(const helion_backend_cuda_t *b,
                               helion_cuda_stats_t *out) {
  *out = b->stats;
  /* Over the shape's whole wall time (setup, benchmarks, rebenchmarks and
   * the search's own work), like the configs per second of `tune`. */
  double wall = helion_now() - b->clock0;
  out->wall_s = wall;
  double gpu_wall = wall * (double)(b->nclients ? b->nclients : 1);
  out->gpu_idle_fraction = gpu_wall > 0 && b->stats.gpu_busy_s < gpu_wall
                               ? 1 - b->stats.gpu_busy_s / gpu_wall
                               : 0;
  out->compile_timeout_s = helion_compile_pool_timeout(b->pool);
  out->compile_jobs = helion_compile_pool_jobs(b->pool);
  double cap = (double)out->compile_jobs * wall;
  out->compile_use = cap > 0 ? b->stats.compile_s / cap : 0;
  out->worker_restarts = 0;
  for (size_t w = 0; w < b->nclients; w++) {
    out->devices[w].restarts = helion_bench_client_restarts(b->clients[w]);
    out->worker_restarts += out->devices[w].restarts;
  }
}
