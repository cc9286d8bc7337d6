/*
 * backend_cuda.h: the GPU backend (DESIGN.md §6): configurations compiled
 * with NVRTC in the compile pool (compile_pool.h) and timed in the isolated
 * benchmark worker (bench_worker.h), with compiles and benchmarks
 * overlapping so the GPU does not wait for NVRTC while work is queued.
 *
 * Lifecycle:
 *   helion_backend_cuda_opts_init(&o, err);          // env, then flags
 *   helion_backend_cuda_create(spec, &o, &cb, err);  // worker + pool
 *   dev = helion_backend_cuda_device(cb);            // props for the space
 *   per shape:
 *     helion_spec_space(spec, shape, &dev->props, &space, err);
 *     helion_backend_cuda_set_shape(cb, space, shape, seed, err);
 *     search against helion_backend_cuda_backend(cb);
 *     helion_backend_cuda_baseline(cb, &base_ms, err);
 *     helion_backend_cuda_stats(cb, &st);
 *   helion_backend_cuda_destroy(cb);
 *
 * bench(configs[]) computes each config's launch geometry (a launch CUDA
 * cannot make fails the config as RUNTIME), submits every compile to the
 * pool, and as compiles finish feeds their cubins, in completion order, to
 * the worker one job at a time; results land positionally. Failure kinds:
 * COMPILE (NVRTC error or a crashed compile), TIMEOUT (compile deadline or
 * the worker's watchdog), RUNTIME (launch failure, illegal address, ...),
 * ACCURACY (output differs from the baseline). Each failure is logged
 * naming the config's JSON and the reason, Helion's wording:
 *   Skipping config that failed to compile: {"BLOCK": 64, ...}:
 *     vector_add.cu(12): error: expected a ";"
 * After the first bench() call (Helion: after the initial population) the
 * adaptive compile timeout applies unless HELION_AUTOTUNE_ADAPTIVE_TIMEOUT=0.
 *
 * submit() and collect() (backend.h) are the same machinery, asynchronous:
 * submit() queues configs and starts their compiles; collect() runs the
 * loop above until one has its result and, before returning, gives every
 * free worker a compiled config, so the GPUs go on timing while the search
 * thinks. bench() is submit() and collect() until all is back. The
 * adaptive timeout starts after the first time the queue drains. While
 * configs are queued, bench(), rebench() and set_shape() refuse
 * (HELION_ERR_USAGE).
 *
 * rebench() re-times finalists side by side in the worker (interleaved
 * rounds, Helion's repeat rule for target_ms); with several GPUs, in the
 * first GPU's worker. elapsed() is wall time since the last set_shape().
 *
 * Several GPUs (opts.devices): bench() feeds every free worker from the one
 * ready queue (round robin, so each GPU gets work); the results still land
 * positionally, so the search sees the same batch whichever GPU timed what.
 * Every worker gets the setup (inputs and the baseline's outputs); a worker
 * whose GPU fails is restarted on that GPU only, the others go on, also
 * into the next shape: a GPU after the first that is still restarting then
 * takes the new setup when its restart ends, and no job before it.
 *
 * The backend keeps, per config of the current shape, the compile artifacts
 * (cubin, PTX, ptxas resource usage, compile seconds) and the latest time,
 * for codegen and reports (helion_backend_cuda_artifact).
 *
 * Not thread-safe; the process must be single-threaded (it forks).
 */
#ifndef HELION_BACKEND_CUDA_H
#define HELION_BACKEND_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "backend/bench_worker.h"
#include "backend/compile_pool.h"
#include "backend/nvrtc_compile.h"
#include "backend/runner.h"
#include "model/spec.h"
#include "util/util.h"

/* The most GPUs one backend times on (--devices). */
#define HELION_CUDA_MAX_DEVICES 64

typedef struct helion_backend_cuda_opts {
  int device; /* CUDA ordinal; with several devices, the first of them */
  /* Several GPUs (--devices): one benchmark worker per GPU, all fed from
   * the one compile pool; a config is timed on whichever worker is free,
   * and the finalists (rebench(): rebenchmarks, final verification, the
   * winner against the default) side by side on the first GPU only, so a
   * winner never mixes two GPUs' clocks. ndevices 0: `device` alone.
   * all_devices: every GPU the worker sees (devices[] unused). GPUs of
   * different models are refused at create. */
  int devices[HELION_CUDA_MAX_DEVICES];
  size_t ndevices;
  bool all_devices;
  /* NULL: /proc/self/exe (helion-tune itself); HELION_BENCH_WORKER, run as
   * `EXE __bench-worker FD` (tests/tools/fake_bench_worker.c is one) */
  const char *worker_exe;
  helion_compile_pool_opts_t pool; /* compile processes and deadline */
  bool adaptive_timeout;  /* HELION_AUTOTUNE_ADAPTIVE_TIMEOUT, default on */
  double bench_timeout_s; /* worker deadline cap per config;
                             HELION_AUTOTUNE_BENCHMARK_TIMEOUT, default 30 */
  bool accuracy_check;    /* HELION_AUTOTUNE_ACCURACY_CHECK, default on */
  /* Rebenchmarks and the final verification stop once every median is known
   * to this relative standard error (runner.h, helion_timing_t.precision);
   * HELION_AUTOTUNE_REBENCH_PRECISION, default 0.005; -1 runs Helion's fixed
   * rounds (the variable set to 0). */
  double rebench_precision;
  /* A config whose first estimate is over this factor times the fastest
   * time of the shape so far is not timed further (runner.h,
   * helion_timing_t.cutoff_ms) when another compiled config is waiting for
   * the worker; HELION_AUTOTUNE_SLOW_CUTOFF, default 2; 0 times every
   * config in full, as Helion does. */
  double slow_cutoff;
  /* Search timings stop early against the fastest time so far (runner.h,
   * helion_timing_t.incumbent_ms); HELION_AUTOTUNE_EARLY_STOP, default on;
   * 0 times every config for the full 50 ms, as Helion does. */
  bool early_stop;
  /* The share of the timing the GPU works: after each burst of timed work
   * the worker rests (runner.h, helion_timing_t.duty);
   * HELION_AUTOTUNE_DUTY_CYCLE, default 0.5; 1 times back to back. */
  double duty;
  const char *arch; /* NULL: sm_<major><minor> of the device */
} helion_backend_cuda_opts_t;

/*
 * Defaults, then the environment (HELION_AUTOTUNE_PRECOMPILE_JOBS,
 * HELION_AUTOTUNE_COMPILE_TIMEOUT, HELION_AUTOTUNE_ADAPTIVE_TIMEOUT,
 * HELION_AUTOTUNE_BENCHMARK_TIMEOUT, HELION_AUTOTUNE_ACCURACY_CHECK,
 * HELION_AUTOTUNE_REBENCH_PRECISION, HELION_AUTOTUNE_SLOW_CUTOFF,
 * HELION_BENCH_WORKER).
 * A malformed value is HELION_ERR_USAGE naming the variable.
 */
helion_status helion_backend_cuda_opts_init(helion_backend_cuda_opts_t *o,
                                            helion_err_t *err);

/*
 * Parses a --devices value into o->devices/ndevices (and o->device, the
 * first) or o->all_devices: "all", or distinct ordinals "0,1,3". A bad
 * list, a duplicate or more than HELION_CUDA_MAX_DEVICES is
 * HELION_ERR_USAGE naming the value. Ordinals are checked against the
 * machine at create.
 */
helion_status helion_backend_cuda_parse_devices(const char *text,
                                                helion_backend_cuda_opts_t *o,
                                                helion_err_t *err);

typedef struct helion_backend_cuda helion_backend_cuda_t;

/*
 * Reads the spec's source, starts the benchmark worker on opts->device (a
 * worker per GPU with several devices) and creates the compile pool.
 * `spec` is borrowed and must outlive the backend. Errors:
 * HELION_ERR_NO_DRIVER ("no CUDA driver found: ..."), HELION_ERR_CUDA,
 * HELION_ERR_SUBPROCESS, HELION_ERR_IO (source), HELION_ERR_INVALID (an
 * ordinal beyond the machine's GPUs, or GPUs of two models: the message
 * names both and says to tune each with --device N).
 */
helion_status helion_backend_cuda_create(const helion_spec_t *spec,
                                         const helion_backend_cuda_opts_t *o,
                                         helion_backend_cuda_t **out,
                                         helion_err_t *err);

/* Accepts NULL. Kills running compiles and stops the worker. */
void helion_backend_cuda_destroy(helion_backend_cuda_t *b);

/* The device as the worker saw it (the first, with several). */
const helion_gpu_info_t *
helion_backend_cuda_device(const helion_backend_cuda_t *b);
/* "sm_90" */
const char *helion_backend_cuda_arch(const helion_backend_cuda_t *b);

/*
 * Switches to one shape: `space` (borrowed; from helion_spec_space for this
 * shape and the device's props) and `shape` (spec->nkeys values, copied).
 * Forgets the previous shape's artifacts and statistics, restarts the
 * elapsed() clock and starts the setup: the default config's compile (and
 * the reference kernel's) goes to the pool first and returns at once, so
 * the search's first configs compile beside it. The first collect() (or
 * bench()), rebench() or helion_backend_cuda_baseline() finishes the setup:
 * waits for those compiles and sends every worker its setup (arguments
 * from `seed`, the baseline = the spec's reference kernel or else the
 * default config). Compiles of an abandoned queue or an earlier setup that
 * have not started are dropped. A default config that cannot launch is
 * HELION_ERR_INVALID here; one that does not compile or run is
 * HELION_ERR_INVALID ("default config failed to compile: ...") from the
 * call that finishes the setup and from every call after it, until the
 * next set_shape: the tune of this shape cannot go on. HELION_ERR_USAGE
 * while configurations are queued (submit() without their collect()).
 */
helion_status helion_backend_cuda_set_shape(helion_backend_cuda_t *b,
                                            const helion_space_t *space,
                                            const int64_t *shape, uint64_t seed,
                                            helion_err_t *err);

/* The baseline's time (+inf if it did not run), finishing the setup first
 * if nothing has yet; its errors are set_shape's. */
helion_status helion_backend_cuda_baseline(helion_backend_cuda_t *b,
                                           double *out_ms, helion_err_t *err);

/* The helion_backend_t searches drive (owned by b; never destroy it with
 * helion_backend_destroy, which would free b). */
helion_backend_t *helion_backend_cuda_backend(helion_backend_cuda_t *b);

/* What the backend kept about one configuration of the current shape. */
typedef struct helion_cuda_artifact {
  const int64_t *cells;
  const uint8_t *cubin; /* NULL unless it compiled */
  size_t cubin_size;
  const char *ptx; /* NULL unless it compiled */
  size_t ptx_size;
  helion_nvrtc_usage_t usage;
  double compile_s;
  helion_result_kind kind; /* its latest outcome */
  double ms;               /* its latest time, +inf if failed */
} helion_cuda_artifact_t;

/* The artifacts of a config (normalized cells), or false if never seen.
 * Pointers stay valid until the next set_shape or destroy. */
bool helion_backend_cuda_artifact(const helion_backend_cuda_t *b,
                                  const int64_t *cells,
                                  helion_cuda_artifact_t *out);

/* One GPU's share of the current shape. */
typedef struct helion_cuda_device_stats {
  int ordinal;
  size_t configs;    /* bench jobs it ran (each config once) */
  double busy_s;     /* seconds its worker had a job */
  unsigned restarts; /* its worker's restarts (since create) */
} helion_cuda_device_stats_t;

/* Counters of the current shape. */
typedef struct helion_cuda_stats {
  size_t configs; /* configs through bench() or submit() */
  size_t by_kind[HELION_RESULT_KIND_COUNT];
  size_t compile_timeouts; /* of by_kind[TIMEOUT]: compile deadline */
  size_t compiles;         /* compile children run */
  /* The compile processes' share of the wall time: seconds of every
   * compile that ended (summed over the processes, wasted ones too), and
   * how many may run at once. compile_s / (compile_jobs x wall_s) under 1
   * with the GPU waiting for NVRTC means the search left processes idle. */
  double compile_s;
  size_t compile_jobs;
  double compile_use; /* compile_s / (compile_jobs x wall_s), 0 if none */
  /* Configs timed, by why their timing ended (runner.h). */
  size_t by_stop[HELION_TIMING_STOP_COUNT];
  /* Where the shape's wall time went, in seconds. The worker's phases
   * (load_s ... timed_s) are its own clock; the rest the tuner's. */
  double setup_s;   /* set_shape: default compile, worker setup */
  double bench_s;   /* inside bench(), submit() and collect() */
  double rebench_s; /* inside rebench() (final verification too) */
  double load_s;    /* module loads of bench jobs */
  double check_s;   /* checked runs (poison, run, compare) */
  double warm_s;    /* first launch, estimate, graph, warm-up */
  double timed_s;   /* timed repetitions */
  /* Seconds the workers had a job (setup, bench or rebench), summed over
   * the GPUs: the GPUs' share of the wall time. */
  double gpu_busy_s;
  /* Worker-seconds inside bench() or collect() when a worker had no job
   * while compiles were outstanding: GPUs waiting for NVRTC. */
  double gpu_idle_wait_s;
  /* 1 - gpu_busy_s / (wall time since set_shape x GPUs): the GPUs idle for
   * any reason (compiles, the search's own work, the tuner) */
  double gpu_idle_fraction;
  double compile_timeout_s; /* the compile deadline now */
  unsigned worker_restarts; /* summed over the GPUs */
  size_t ndevices;          /* the GPUs timed on, the first one first */
  helion_cuda_device_stats_t devices[HELION_CUDA_MAX_DEVICES];
  double wall_s; /* since set_shape */
} helion_cuda_stats_t;

void helion_backend_cuda_stats(const helion_backend_cuda_t *b,
                               helion_cuda_stats_t *out);

#endif /* HELION_BACKEND_CUDA_H */
