/*
 * test_bench_worker.c: the benchmark worker on a real GPU: a correct kernel
 * timed twice (event-timed and graph-timed sizes), wrong answers and
 * unwritten outputs failing as accuracy, an illegal address failing as
 * runtime with the worker restarted, a kernel that never ends killed by the
 * watchdog, and an interleaved rebench; each followed by a job that must
 * succeed. Prints a table at the end. Exits 77 without a CUDA driver or
 * device.
 *
 * The program is also its own worker: the client execs /proc/self/exe with
 * the hidden __bench-worker argument, which main() hands to the worker.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/bench_worker.h"
#include "backend/nvrtc_compile.h"
#include "backend/runner.h"
#include "model/spec.h"

static const char *kernel_src =
    "extern \"C\" __global__ void vadd(const float *a, const float *b,\n"
    "                                  float *c, int n) {\n"
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (i < n) c[i] = a[i] + b[i];\n"
    "}\n"
    "extern \"C\" __global__ void wrong(const float *a, const float *b,\n"
    "                                   float *c, int n) {\n"
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (i < n) c[i] = a[i] - b[i];\n"
    "}\n"
    "extern \"C\" __global__ void half_written(const float *a,\n"
    "                                   const float *b, float *c, int n) {\n"
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (i < n / 2) c[i] = a[i] + b[i];\n"
    "}\n"
    "extern \"C\" __global__ void oob(const float *a, const float *b,\n"
    "                                 float *c, int n) {\n"
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  float *wild = (float *)(0x10 + (unsigned long long)c * 0);\n"
    "  if (i < n) wild[i] = a[i] + b[i];\n"
    "}\n"
    "extern \"C\" __global__ void hang(const float *a, const float *b,\n"
    "                                  float *c, int n) {\n"
    "  volatile const float *p = a;\n"
    "  while (p[0] == p[0]) { }\n"
    "  c[0] = b[0];\n"
    "}\n";

static const char *spec_text =
    "{\"name\": \"vadd\", \"source\": \"k.cu\", \"entry\": \"vadd\",\n"
    " \"args\": [{\"name\": \"a\", \"type\": \"const float*\", \"numel\": "
    "\"N\", \"init\": \"randn\"},\n"
    "          {\"name\": \"b\", \"type\": \"const float*\", \"numel\": "
    "\"N\", \"init\": \"randn\"},\n"
    "          {\"name\": \"c\", \"type\": \"float*\", \"numel\": \"N\", "
    "\"output\": true},\n"
    "          {\"name\": \"n\", \"type\": \"int\", \"value\": \"N\"}],\n"
    " \"key\": [\"N\"], \"shapes\": [{\"N\": 16777216}, {\"N\": 4096}],\n"
    " \"space\": {\"block_sizes\": [{\"name\": \"BLOCK\", \"min\": 32, "
    "\"max\": 1024, \"default\": 256}]},\n"
    " \"launch\": {\"tiles\": [\"cdiv(N, BLOCK)\"], \"block\": "
    "[\"BLOCK\"]},\n"
    " \"accuracy\": {\"atol\": 1e-5, \"rtol\": 1e-5}}\n";

#define NKERNELS 5
static const char *entries[NKERNELS] = {"vadd", "wrong", "half_written", "oob",
                                        "hang"};
static helion_nvrtc_result_t compiled[NKERNELS];

typedef struct row {
  char name[48];
  const char *want;
  char got[16];
  double ms;
  char detail[160];
  bool pass;
} row;

static row rows[32];
static int nrows;
static int failures;

static void add_row(const char *name, const char *want,
                    const helion_bench_outcome_t *o, bool pass,
                    const char *detail) {
  row *r = &rows[nrows++];
  snprintf(r->name, sizeof(r->name), "%s", name);
  r->want = want;
  snprintf(r->got, sizeof(r->got), "%s", helion_result_kind_name(o->kind));
  r->ms = o->ms;
  snprintf(r->detail, sizeof(r->detail), "%.159s", detail ? detail : o->msg);
  r->pass = pass;
  if (!pass)
    failures++;
  fprintf(stderr, "[%s] %s: %s %.4f ms (%.2f s) %s\n", pass ? "PASS" : "FAIL",
          name, r->got, o->ms, o->wall_s, o->msg);
}

static helion_kernel_image_t image(int which, const helion_launch_t *l) {
  helion_kernel_image_t k;
  k.image = compiled[which].cubin;
  k.len = compiled[which].cubin_size;
  k.entry = entries[which];
  k.launch = *l;
  return k;
}

static helion_bench_outcome_t bench_timing(helion_bench_client_t *c,
                                           int which, const helion_launch_t *l,
                                           double timeout_s,
                                           const helion_timing_t *t) {
  helion_bench_job_t job;
  helion_bench_outcome_t o;
  helion_err_t err = {""};
  memset(&job, 0, sizeof(job));
  memset(&o, 0, sizeof(o));
  job.kernel = image(which, l);
  job.timeout_s = timeout_s;
  job.timing = *t;
  if (helion_bench_client_bench(c, &job, &o, &err)) {
    fprintf(stderr, "bench job fault: %s\n", err.msg);
    o.kind = HELION_RESULT_COMPILE; /* never expected: fails the row */
    o.ms = INFINITY;
    snprintf(o.msg, sizeof(o.msg), "client fault: %.400s", err.msg);
  }
  return o;
}

static helion_bench_outcome_t bench_cut(helion_bench_client_t *c, int which,
                                        const helion_launch_t *l,
                                        double timeout_s, double cutoff_ms) {
  helion_timing_t t;
  memset(&t, 0, sizeof(t));
  t.cutoff_ms = cutoff_ms;
  return bench_timing(c, which, l, timeout_s, &t);
}

static helion_bench_outcome_t bench(helion_bench_client_t *c, int which,
                                    const helion_launch_t *l,
                                    double timeout_s) {
  return bench_cut(c, which, l, timeout_s, 0);
}

/* Setup for one shape; fills the default launch. */
static int setup_shape(helion_bench_client_t *c, const helion_spec_t *spec,
                       const char *path, int64_t n, helion_launch_t *l,
                       helion_launch_t *l128, double *baseline_ms) {
  helion_err_t err = {""};
  helion_space_t *space = NULL;
  const helion_gpu_info_t *gi = helion_bench_client_device(c);
  helion_num_t scope[64];
  if (spec->nscope > 64 ||
      helion_spec_space(spec, &n, &gi->props, &space, &err)) {
    fprintf(stderr, "space: %s\n", err.msg);
    return 1;
  }
  helion_launch_scope(spec, space, &n, &gi->props, NULL, scope);
  int rc = helion_launch_eval(spec, scope, l, &err);
  int64_t cells[8];
  helion_space_default(space, cells);
  cells[space->cell_off[helion_space_find(space, "BLOCK")]] = 128;
  helion_num_t scope128[64];
  helion_launch_scope(spec, space, &n, &gi->props, cells, scope128);
  if (!rc)
    rc = helion_launch_eval(spec, scope128, l128, &err);
  if (rc) {
    fprintf(stderr, "launch: %s\n", err.msg);
    helion_space_destroy(space);
    return 1;
  }
  helion_bench_setup_t s;
  memset(&s, 0, sizeof(s));
  s.spec_path = path;
  s.shape = &n;
  s.nkeys = 1;
  s.scope = scope;
  s.nscope = spec->nscope;
  s.seed = 1234;
  s.baseline = image(0, l);
  rc = helion_bench_client_setup(c, &s, baseline_ms, &err);
  helion_space_destroy(space);
  if (rc) {
    fprintf(stderr, "setup: %s\n", err.msg);
    return 1;
  }
  return 0;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], HELION_BENCH_WORKER_ARG) == 0)
    return helion_bench_worker_main(argc - 1, argv + 1);

  helion_err_t err = {""};
  helion_bench_client_t *c = NULL;
  helion_bench_client_opts_t opts;
  memset(&opts, 0, sizeof(opts));
  opts.exe = "/proc/self/exe";
  helion_status rc = helion_bench_client_create(&opts, &c, &err);
  if (rc == HELION_ERR_NO_DRIVER) {
    fprintf(stderr, "skipped: %s\n", err.msg);
    return 77;
  }
  if (rc) {
    fprintf(stderr, "starting the worker: %s\n", err.msg);
    return 1;
  }
  const helion_gpu_info_t *gi = helion_bench_client_device(c);
  fprintf(stderr,
          "device %d: %s, sm_%d%d, %lld SMs, %lld B smem/block opt-in, "
          "%lld regs/SM, L2 %lld MiB, driver %d\n",
          gi->ordinal, gi->props.name, gi->props.cc_major, gi->props.cc_minor,
          (long long)gi->props.num_sms, (long long)gi->props.smem_per_block,
          (long long)gi->props.regs_per_sm, (long long)(gi->l2_bytes >> 20),
          gi->driver_version);

  char dir[] = "/tmp/helion_gpu_bw_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char cu[256], js[256], arch[16];
  snprintf(cu, sizeof(cu), "%s/k.cu", dir);
  snprintf(js, sizeof(js), "%s/k.json", dir);
  write_file(cu, kernel_src);
  write_file(js, spec_text);
  snprintf(arch, sizeof(arch), "sm_%d%d", gi->props.cc_major,
           gi->props.cc_minor);
  for (int i = 0; i < NKERNELS; i++) {
    helion_nvrtc_input_t in;
    memset(&in, 0, sizeof(in));
    in.source = kernel_src;
    in.name = "k.cu";
    in.arch = arch;
    in.entry = entries[i];
    helion_nvrtc_result_init(&compiled[i]);
    if (helion_nvrtc_compile(&in, &compiled[i], &err)) {
      fprintf(stderr, "nvrtc: %s\n", err.msg);
      return 1;
    }
  }
  helion_spec_t *spec = NULL;
  if (helion_spec_load(js, &spec, &err)) {
    fprintf(stderr, "spec: %s\n", err.msg);
    return 1;
  }

  helion_launch_t l, l128;
  double base_ms = 0;
  helion_bench_outcome_t o, o2;
  char d[160];

  /* Large shape: 16M floats, 192 MiB moved: event-timed. */
  if (setup_shape(c, spec, js, 16777216, &l, &l128, &base_ms))
    return 1;
  fprintf(stderr, "baseline (N=16M): %.4f ms\n", base_ms);
  o = bench(c, 0, &l, 0);
  o2 = bench(c, 0, &l, 0);
  snprintf(d, sizeof(d), "second run %.4f ms (%+.2f%%), %u reps, graph %u",
           o2.ms, 100.0 * (o2.ms - o.ms) / o.ms, o.timed.reps, o.timed.graph_k);
  add_row("correct N=16M", "ok", &o,
          o.kind == HELION_RESULT_OK && o.ms > 0 &&
              o2.kind == HELION_RESULT_OK && o2.ms > 0,
          d);
  /* The slow cutoff: at a quarter of the kernel's time both of the first
   * two estimate launches are over it, so the estimate stops there (2
   * launches, close to the full timing); far over it changes nothing. */
  o2 = bench_cut(c, 0, &l, 0, o.ms / 4);
  snprintf(d, sizeof(d), "estimate %.4f ms (%+.1f%% of full), %u reps",
           o2.ms, 100.0 * (o2.ms - o.ms) / o.ms, o2.timed.reps);
  add_row("over the slow cutoff", "ok", &o2,
          o2.kind == HELION_RESULT_OK && o2.timed.cut && o2.timed.reps == 2 &&
              fabs(o2.ms - o.ms) < 0.2 * o.ms,
          d);
  o2 = bench_cut(c, 0, &l, 0, o.ms * 10);
  snprintf(d, sizeof(d), "%u reps", o2.timed.reps);
  add_row("under the slow cutoff", "ok", &o2,
          o2.kind == HELION_RESULT_OK && !o2.timed.cut && o2.timed.reps > 5,
          d);
  /* The duty cycle: at the default 0.5 the worker rests as long as the GPU
   * worked, so the same repetitions take about twice the wall time of
   * back-to-back timing (duty 1), and this memory-bound kernel, far from
   * the power cap, reads the same either way. */
  {
    helion_timing_t t1;
    memset(&t1, 0, sizeof(t1));
    t1.duty = 1;
    helion_bench_outcome_t full = bench_timing(c, 0, &l, 0, &t1);
    o2 = bench(c, 0, &l, 0);
    double wall = full.timed.timed_ms > 0
                      ? o2.timed.timed_ms / full.timed.timed_ms
                      : 0;
    snprintf(d, sizeof(d),
             "duty 0.5: %.4f ms, %u reps in %.1f ms; duty 1: %.4f ms, %u "
             "reps in %.1f ms (wall x%.2f; same reps within 10%%)",
             o2.ms, o2.timed.reps, o2.timed.timed_ms, full.ms, full.timed.reps,
             full.timed.timed_ms, wall);
    add_row("duty cycle", "ok", &o2,
            o2.kind == HELION_RESULT_OK && full.kind == HELION_RESULT_OK &&
                10 * abs((int)o2.timed.reps - (int)full.timed.reps) <=
                    (int)full.timed.reps &&
                wall > 1.6 &&
                wall < 2.6 && fabs(o2.ms - full.ms) < 0.03 * full.ms,
            d);
  }
  o = bench(c, 0, &l128, 0);
  snprintf(d, sizeof(d), "BLOCK=128 %.4f ms", o.ms);
  add_row("correct N=16M BLOCK=128", "ok", &o,
          o.kind == HELION_RESULT_OK && o.ms > 0, d);

  o = bench(c, 1, &l, 0);
  add_row("wrong answer", "accuracy", &o,
          o.kind == HELION_RESULT_ACCURACY && strstr(o.msg, "output c:") &&
              !o.worker_lost,
          NULL);
  o = bench(c, 2, &l, 0);
  add_row("half unwritten (poison)", "accuracy", &o,
          o.kind == HELION_RESULT_ACCURACY && strstr(o.msg, "nan, expected"), NULL);

  unsigned r0 = helion_bench_client_restarts(c);
  o = bench(c, 3, &l, 0);
  add_row("illegal address", "runtime", &o,
          o.kind == HELION_RESULT_RUNTIME && o.worker_lost, NULL);
  o = bench(c, 0, &l, 0);
  snprintf(d, sizeof(d), "after restart: %u restart(s)",
           helion_bench_client_restarts(c) - r0);
  add_row("next job after IMA", "ok", &o,
          o.kind == HELION_RESULT_OK &&
              helion_bench_client_restarts(c) == r0 + 1,
          d);

  r0 = helion_bench_client_restarts(c);
  o = bench(c, 4, &l, 3.0);
  add_row("never terminates", "timeout", &o,
          o.kind == HELION_RESULT_TIMEOUT && o.worker_lost && o.wall_s < 10,
          NULL);
  o = bench(c, 0, &l, 0);
  snprintf(d, sizeof(d), "after restart: %u restart(s)",
           helion_bench_client_restarts(c) - r0);
  add_row("next job after hang", "ok", &o,
          o.kind == HELION_RESULT_OK &&
              helion_bench_client_restarts(c) == r0 + 1,
          d);

  /* Interleaved rebench of the two block sizes. */
  {
    helion_kernel_image_t ks[2] = {image(0, &l), image(0, &l128)};
    double ms[2] = {0, 0};
    rc = helion_bench_client_rebench(c, ks, 2, 20, NULL, ms, NULL, &err);
    memset(&o, 0, sizeof(o));
    o.kind = rc == 0 && isfinite(ms[0]) && isfinite(ms[1])
                 ? HELION_RESULT_OK
                 : HELION_RESULT_RUNTIME;
    o.ms = ms[0];
    snprintf(d, sizeof(d), "BLOCK=256 %.4f ms, BLOCK=128 %.4f ms (20 rounds)",
             ms[0], ms[1]);
    add_row("rebench interleaved", "ok", &o,
            o.kind == HELION_RESULT_OK && ms[0] > 0 && ms[1] > 0, d);
  }

  /* Small shape: 4096 floats, a few microseconds: graph-timed. */
  if (setup_shape(c, spec, js, 4096, &l, &l128, &base_ms))
    return 1;
  fprintf(stderr, "baseline (N=4096): %.4f ms\n", base_ms);
  o = bench(c, 0, &l, 0);
  o2 = bench(c, 0, &l, 0);
  snprintf(d, sizeof(d),
           "second run %.5f ms (%+.2f%%), %u reps, graph %u x, %u copies",
           o2.ms, 100.0 * (o2.ms - o.ms) / o.ms, o.timed.reps, o.timed.graph_k,
           o.timed.copies);
  add_row("correct N=4096 (graph)", "ok", &o,
          o.kind == HELION_RESULT_OK && o.ms > 0 &&
              o2.kind == HELION_RESULT_OK && o.timed.graph_k > 0,
          d);
  o = bench(c, 1, &l, 0);
  add_row("wrong answer N=4096", "accuracy", &o,
          o.kind == HELION_RESULT_ACCURACY, NULL);

  helion_bench_client_destroy(c);
  helion_spec_destroy(spec);
  for (int i = 0; i < NKERNELS; i++)
    helion_nvrtc_result_cleanup(&compiled[i]);
  unlink(cu);
  unlink(js);
  rmdir(dir);

  printf("\n%-28s %-9s %-9s %12s  %s\n", "case", "want", "got", "ms", "detail");
  for (int i = 0; i < nrows; i++)
    printf("%-28s %-9s %-9s %12.5f  %s%s\n", rows[i].name, rows[i].want,
           rows[i].got, rows[i].ms,
           rows[i].pass ? "" : "FAIL: ", rows[i].detail);
  printf("%d of %d cases passed\n", nrows - failures, nrows);
  return failures ? 1 : 0;
}
