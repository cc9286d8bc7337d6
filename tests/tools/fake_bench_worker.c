/*
 * fake_bench_worker.c: a test double of the benchmark worker for machines
 * without a GPU, so CI can run `helion-tune tune` end to end: the real
 * compile pool (NVRTC), the real client with its watchdog and restarts, the
 * real wire protocol and worker loop (helion_bench_worker_main_with), and
 * only the runner (what needs CUDA) replaced.
 *
 *   HELION_BENCH_WORKER=build/tests/tools/fake_bench_worker helion-tune tune
 * SPEC
 *
 * The fake device is an sm_90 with the H200's properties. It cannot run a
 * kernel, so a kernel tells it what to do with a string in its module (a
 * __device__ char array the kernel never reads, which NVRTC keeps):
 *   "HELION_FAKE:ok"     runs, correct; time from a hash of the cubin
 *   "HELION_FAKE:us=N"   runs, correct, N microseconds
 *   "HELION_FAKE:wrong"  runs, output differs from the baseline (accuracy)
 *   "HELION_FAKE:crash"  an illegal address: a sticky runtime error, the
 *                        worker exits after its reply, as the real one does
 *   "HELION_FAKE:abort"  the worker dies without a reply (SIGABRT)
 *   "HELION_FAKE:hang"   never returns (the client's watchdog kills it)
 * No marker is "ok". tests/data/broken/broken.cu carries them; the CLI test
 * cli_tune_broken_fake runs tests/gpu/test_tune_broken.sh against this.
 *
 * Several GPUs (tests/cli/test_multi_device.sh):
 *   HELION_FAKE_DEVICES=N         N fake devices (default 1); an ordinal
 *                                 beyond them fails as the real runner does
 *   HELION_FAKE_OTHER_MODEL=K     device K is a fake A100 (sm_80), for the
 *                                 refusal of mixed models
 *   HELION_FAKE_DIE=K:J           the worker of device K aborts at its J-th
 *                                 bench job (every worker process counts
 *                                 from 1), a GPU failing whatever it runs
 *   HELION_FAKE_SETUP_MS=N        a setup (the inputs' upload) takes N ms
 *   HELION_FAKE_SETUP_LOG=FILE    each setup appends "ordinal start end
 *                                 bytes" (CLOCK_MONOTONIC seconds; the
 *                                 inputs' size, which tells the shapes
 *                                 apart) to FILE, so a test can see the
 *                                 workers' setups overlap
 *   HELION_FAKE_INIT_MS=N         a worker's device init (CUDA's start-up)
 *                                 takes N ms
 *   HELION_FAKE_INIT_LOG=FILE     the same log of every init
 *   HELION_FAKE_INIT_FAIL=K:J[:gone]
 *                                 device K's init fails from its J-th on
 *                                 (counted in HELION_FAKE_INIT_LOG): a GPU
 *                                 that does not come back after a restart
 *                                 (":gone": the device no longer exists,
 *                                 HELION_ERR_INVALID as from the runner)
 *   HELION_FAKE_JOB_MS=N, HELION_FAKE_JOB_LOG=FILE
 *                                 the same for every bench job's checked
 *                                 run (so a test sees which GPU worked
 *                                 when)
 *
 * Disagreeing measurements (tests/gpu/test_tune.sh):
 *   HELION_FAKE_PAIR_PENALTY=P    in interleaved timing of exactly two
 *                                 kernels (the shape of the final
 *                                 side-by-side: winner, default) the
 *                                 first reads (1 + P) times its time, so
 *                                 the winner can lose to the default
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/bench_worker.h"

typedef enum mode { OK, WRONG, CRASH, ABORT, HANG } mode;

typedef struct fake_runner {
  const helion_spec_t *spec;
  int ordinal;
  unsigned jobs; /* bench jobs run (checked runs that are not a baseline) */
} fake_runner;

/* An integer environment variable, or `dflt` when unset or empty. */
static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  return v && v[0] ? atoi(v) : dflt;
}

typedef struct fake_kernel {
  mode mode;
  double ms;
} fake_kernel;

/* First occurrence of needle (n bytes) in hay (len bytes), or NULL. */
static const char *find(const void *hay, size_t len, const char *needle,
                        size_t n) {
  const char *h = hay;
  for (size_t i = 0; n <= len && i + n <= len; i++)
    if (memcmp(h + i, needle, n) == 0)
      return h + i;
  return NULL;
}

/* Takes the milliseconds in variable `ms_var` (CUDA's start-up, an
 * upload), then appends "ordinal start end" (CLOCK_MONOTONIC seconds) to
 * the file in `log_var`, if set. */
static void pretend_work(int ordinal, const char *ms_var, const char *log_var,
                         long long tag) {
  double t0 = helion_now();
  int ms = env_int(ms_var, 0);
  if (ms > 0) {
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0) {
    }
  }
  const char *log = getenv(log_var);
  FILE *f = log && log[0] ? fopen(log, "a") : NULL;
  if (f) {
    fprintf(f, "%d %.6f %.6f", ordinal, t0, helion_now());
    if (tag >= 0)
      fprintf(f, " %lld", tag);
    fputc('\n', f);
    fclose(f);
  }
}

/* Lines of the init log (HELION_FAKE_INIT_LOG) for `ordinal`: the inits
 * of that device so far, this one included. */
static int inits_logged(int ordinal) {
  const char *log = getenv("HELION_FAKE_INIT_LOG");
  FILE *f = log && log[0] ? fopen(log, "r") : NULL;
  int n = 0, o;
  double a, b;
  while (f && fscanf(f, "%d %lf %lf", &o, &a, &b) == 3)
    n += o == ordinal;
  if (f)
    fclose(f);
  return n;
}

static helion_status fake_create(int ordinal, void **out,
                                 helion_gpu_info_t *info, helion_err_t *err) {
  pretend_work(ordinal, "HELION_FAKE_INIT_MS", "HELION_FAKE_INIT_LOG", -1);
  int fail_dev = -1, fail_from = 0, nth, tail = 0;
  const char *ff = getenv("HELION_FAKE_INIT_FAIL");
  if (ff && sscanf(ff, "%d:%d%n", &fail_dev, &fail_from, &tail) == 2 &&
      fail_dev == ordinal && (nth = inits_logged(ordinal)) >= fail_from) {
    /* ":gone": as the runner says of an ordinal that no longer exists. */
    if (strcmp(ff + tail, ":gone") == 0)
      return helion_err_set(err, HELION_ERR_INVALID,
                            "CUDA device %d does not exist (fake: device "
                            "%d's init number %d)",
                            ordinal, ordinal, nth);
    return helion_err_set(err, HELION_ERR_CUDA,
                          "cuInit: CUDA_ERROR_UNKNOWN (fake: device %d's "
                          "init number %d fails)",
                          ordinal, nth);
  }
  int count = env_int("HELION_FAKE_DEVICES", 1);
  if (ordinal < 0 || ordinal >= count)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "CUDA device %d does not exist (%d visible); pick "
                          "0..%d (fake)",
                          ordinal, count, count - 1);
  fake_runner *r = calloc(1, sizeof(*r));
  if (!r)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  r->ordinal = ordinal;
  memset(info, 0, sizeof(*info));
  bool other = env_int("HELION_FAKE_OTHER_MODEL", -1) == ordinal;
  snprintf(info->props.name, sizeof(info->props.name), "%s",
           other ? "fake A100 (test double, no CUDA)"
                 : "fake H200 (test double, no CUDA)");
  info->props.cc_major = other ? 8 : 9;
  info->props.cc_minor = 0;
  info->device_count = count;
  info->props.num_sms = 132;
  info->props.smem_per_block = 232448;
  info->props.regs_per_sm = 65536;
  info->ordinal = ordinal;
  info->driver_version = 13000;
  info->l2_bytes = 60 << 20;
  info->total_mem = (int64_t)141 << 30;
  info->max_threads_per_block = 1024;
  info->smem_per_block_default = 49152;
  *out = r;
  return HELION_OK;
}

static void fake_destroy(void *r) { free(r); }

static helion_status fake_set_args(void *r, const helion_spec_t *spec,
                                   const helion_host_args_t *args,
                                   helion_err_t *err) {
  (void)err;
  ((fake_runner *)r)->spec = spec;
  /* The inputs' size tells one shape's setup from another's. */
  pretend_work(((fake_runner *)r)->ordinal, "HELION_FAKE_SETUP_MS",
               "HELION_FAKE_SETUP_LOG", (long long)args->total_bytes);
  return HELION_OK;
}

static helion_status fake_load_kernel(void *r, const void *image, size_t len,
                                      const char *entry,
                                      const helion_launch_t *launch,
                                      void **out, helion_run_fail_t *fail,
                                      helion_err_t *err) {
  (void)r;
  (void)launch;
  memset(fail, 0, sizeof(*fail));
  *out = NULL;
  if (!find(image, len, entry, strlen(entry))) {
    fail->kind = HELION_RESULT_RUNTIME;
    snprintf(fail->msg, sizeof(fail->msg),
             "kernel '%s' not in the module: CUDA_ERROR_NOT_FOUND (fake)",
             entry);
    return HELION_OK;
  }
  fake_kernel *k = calloc(1, sizeof(*k));
  if (!k)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  /* FNV-1a of the image: a stable time in [0.1, 0.2) ms per cubin. */
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ ((const uint8_t *)image)[i]) * 1099511628211ull;
  k->ms = 0.1 + (double)(h % 1000) / 10000.0;
  static const char tag[] = "HELION_FAKE:";
  const char *m = find(image, len, tag, sizeof(tag) - 1);
  if (m) {
    const char *v = m + sizeof(tag) - 1;
    size_t room = len - (size_t)(v - (const char *)image);
    if (room >= 5 && memcmp(v, "wrong", 5) == 0)
      k->mode = WRONG;
    else if (room >= 5 && memcmp(v, "crash", 5) == 0)
      k->mode = CRASH;
    else if (room >= 5 && memcmp(v, "abort", 5) == 0)
      k->mode = ABORT;
    else if (room >= 4 && memcmp(v, "hang", 4) == 0)
      k->mode = HANG;
    else if (room >= 4 && memcmp(v, "us=", 3) == 0)
      k->ms = atof(v + 3) / 1000.0;
  }
  *out = k;
  return HELION_OK;
}

static void fake_unload_kernel(void *r, void *k) {
  (void)r;
  free(k);
}

static helion_status fake_run_checked(void *r, void *kp, bool keep_as_baseline,
                                      helion_run_fail_t *fail,
                                      helion_err_t *err) {
  (void)err;
  const fake_kernel *k = kp;
  fake_runner *fr = r;
  memset(fail, 0, sizeof(*fail));
  if (!keep_as_baseline) {
    const char *die = getenv("HELION_FAKE_DIE");
    int dev = -1, at = 0;
    fr->jobs++;
    if (die && sscanf(die, "%d:%d", &dev, &at) == 2 && dev == fr->ordinal &&
        (unsigned)at == fr->jobs)
      abort();
    pretend_work(fr->ordinal, "HELION_FAKE_JOB_MS", "HELION_FAKE_JOB_LOG", -1);
  }
  switch (k->mode) {
  case OK:
    break;
  case WRONG:
    if (!keep_as_baseline) {
      fail->kind = HELION_RESULT_ACCURACY;
      snprintf(fail->msg, sizeof(fail->msg),
               "output %s: every element differs beyond the tolerance (fake)",
               ((fake_runner *)r)->spec ? ((fake_runner *)r)->spec->name : "?");
    }
    break;
  case CRASH:
    fail->kind = HELION_RESULT_RUNTIME;
    fail->sticky = true;
    snprintf(fail->msg, sizeof(fail->msg),
             "running the kernel: CUDA_ERROR_ILLEGAL_ADDRESS: an illegal "
             "memory access was encountered (fake)");
    break;
  case ABORT:
    abort();
  case HANG:
    for (;;)
      pause();
  }
  return HELION_OK;
}

static helion_status fake_time(void *r, void *kp, const helion_timing_t *t,
                               helion_timed_t *out, helion_run_fail_t *fail,
                               helion_err_t *err) {
  (void)r;
  (void)err;
  const fake_kernel *k = kp;
  memset(fail, 0, sizeof(*fail));
  memset(out, 0, sizeof(*out));
  out->ms = out->min_ms = k->ms;
  out->copies = 1;
  out->cut = t && t->cutoff_ms > 0 && k->ms > t->cutoff_ms;
  out->reps = out->cut ? 5 : 50;
  /* The real stop rule's outcome on exact times: no spread. */
  if (out->cut)
    out->stop = HELION_TIMING_CUT;
  else if (t && t->incumbent_ms > 0 && k->ms > t->incumbent_ms * 1.01)
    out->stop = HELION_TIMING_SLOWER, out->reps = 10;
  return HELION_OK;
}

static helion_status fake_time_interleaved(void *r, void **ks, size_t n,
                                           uint32_t repeat,
                                           const helion_timing_t *t,
                                           double *out_ms,
                                           uint32_t *out_rounds,
                                           helion_run_fail_t *fail,
                                           helion_err_t *err) {
  (void)r;
  (void)t;
  (void)err;
  memset(fail, 0, sizeof(*fail));
  const char *pen = getenv("HELION_FAKE_PAIR_PENALTY");
  for (size_t i = 0; i < n; i++)
    out_ms[i] = ks[i] ? ((fake_kernel *)ks[i])->ms : INFINITY;
  if (n == 2 && pen && pen[0])
    out_ms[0] *= 1 + atof(pen);
  if (out_rounds)
    *out_rounds = repeat < 10 ? repeat : 10;
  return HELION_OK;
}

static const helion_bench_runner_ops_t fake_ops = {
    fake_create,      fake_destroy,       fake_set_args,
    fake_load_kernel, fake_unload_kernel, fake_run_checked,
    fake_time,        fake_time_interleaved};

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], HELION_BENCH_WORKER_ARG) == 0)
    return helion_bench_worker_main_with(argc - 1, argv + 1, &fake_ops);
  fprintf(stderr,
          "fake_bench_worker: a test double of helion-tune's benchmark "
          "worker;\nrun `HELION_BENCH_WORKER=%s helion-tune tune SPEC`\n",
          argv[0]);
  return 2;
}
