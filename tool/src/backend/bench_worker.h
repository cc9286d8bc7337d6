/*
 * bench_worker.h: the benchmark worker process (owns the CUDA context and
 * runs every candidate kernel) and the client the tool uses to drive it.
 *
 * Why a process: an illegal address, a misaligned access or any other sticky
 * CUDA error poisons the context for good, and a kernel that never ends
 * cannot be stopped from the host. In a separate process both cost one
 * config: the worker exits (or is killed by the client's watchdog), the
 * client starts a new one, sends the setup again (the baseline is rebuilt
 * from the same seed) and the next job runs. The tool's own process never
 * creates a CUDA context, so it is never poisoned; it learns the device's
 * properties from the worker.
 *
 * Start (helion_proc_start, util/proc.h): fork, then in the child setsid()
 * (its own process group, so the watchdog can kill the group),
 * PR_SET_PDEATHSIG (it dies with the parent),
 * stdout redirected to stderr (device printf never reaches --json output),
 * and exec of `exe` (default /proc/self/exe, the running helion-tune) as
 *   <exe> __bench-worker <FD>
 * where FD is one end of a socketpair. main.c dispatches that hidden
 * subcommand to helion_bench_worker_main(); a test program that drives the
 * client does the same in its own main().
 *
 * Wire format (both directions): a 12-byte header {u32 magic 'HLBW', u32 type,
 * u32 payload length} in host byte order, then the payload (fields packed
 * with fixed sizes; strings and blobs as u32 length + bytes). Messages are at
 * most HELION_WIRE_MAX bytes. The parent sends with MSG_NOSIGNAL, so a dead
 * worker is EPIPE, never SIGPIPE.
 *
 * Jobs, one at a time:
 *   init     device ordinal -> helion_gpu_info_t (or the driver's error)
 *   setup    spec path, shape, seed, scope, baseline kernel -> argument
 *            buffers on the device, the baseline run once (its outputs kept
 *            as the expected values) and timed -> baseline ms
 *   bench    one kernel + launch -> run once checked against the baseline
 *            (outputs poisoned first), then timed -> ms or a failure
 *   rebench  n kernels + repeat -> interleaved rounds -> n medians
 *   shutdown -> the worker exits 0
 *
 * Timing (helion_runner_time): one untimed run (module load and first-launch
 * costs), then an estimate from 5 launches each after an L2 flush; kernels
 * under graph_us (10 us) are timed as CUDA graphs of K launches (K so one
 * replay takes about 0.5 ms, 8..512), the argument sets rotated through
 * `copies` device copies when they fit in L2 (so the graph does not time a
 * warm cache), one replay per repetition, time / K; longer kernels get one
 * event pair per launch. Every repetition starts with an L2 flush (a
 * cuMemsetD32Async over a buffer of max(2 x L2, 64 MiB)), which is outside
 * the events. Repetitions: Helion's do_bench rule, max(min_reps,
 * rep_ms / estimate) capped at max_reps, after max(1, warmup_ms / estimate)
 * warm-up launches; the result is the median. Under the duty cycle
 * (helion_timing_t.duty) the work runs in bursts of at most ~5 ms, each
 * followed by a rest.
 *
 * Failures (helion_bench_outcome_t.kind):
 *   RUNTIME   bad image or entry, launch error, illegal address, misaligned
 *             address, illegal instruction, any sticky error; or the worker
 *             died. Sticky ones end the worker; the next job restarts it.
 *   ACCURACY  ran, an output differs from the baseline (atol/rtol of the
 *             spec); msg has the argument, the count and the first mismatch.
 *   TIMEOUT   no answer before the job's deadline: the client kills the
 *             worker's process group; the next job restarts it.
 *
 * Deadline of a bench job (the watchdog): job.timeout_s when set, else
 *   min(opts.timeout_s, max(opts.min_timeout_s,
 *       2 s + (2 x (warmup_ms + rep_ms) / 1000 + 0.5 x baseline_ms) / duty))
 * that is, room for the timing budget plus ~500 launches of a kernel as slow
 * as the baseline, or ~10 of one 50x slower, with the duty cycle's rests
 * (timing.duty, default 0.5; opts.timeout_s defaults to 30, min_timeout_s
 * to 2).
 *
 * Threads: a client is used from one thread; it starts no threads. The
 * parent must be single-threaded when the client forks (start and restarts),
 * or at least hold no locks the child needs before exec (the child only
 * calls async-signal-safe functions before exec).
 */
#ifndef HELION_BENCH_WORKER_H
#define HELION_BENCH_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "model/expr.h"
#include "backend/runner.h"
#include "util/util.h"

/* The hidden subcommand that turns helion-tune into a worker. */
#define HELION_BENCH_WORKER_ARG "__bench-worker"

/*
 * The worker's main: argv = {"__bench-worker", "<fd>"}. Serves jobs until
 * shutdown or EOF (returns 0), or exits with 3 after a sticky CUDA error
 * (the result has been sent first). Returns 2 for bad arguments.
 */
int helion_bench_worker_main(int argc, char **argv);

/*
 * What the worker runs kernels with. helion_bench_worker_main uses
 * runner.c; a test double for machines without a GPU passes its own table
 * (tests/tools/fake_bench_worker.c). Each member has the contract of the
 * runner.h function it is named after (helion_runner_create, ...); the
 * handles are that implementation's runner and kernel.
 */
typedef struct helion_bench_runner_ops {
  helion_status (*create)(int ordinal, void **out, helion_gpu_info_t *info,
                          helion_err_t *err);
  void (*destroy)(void *runner);
  helion_status (*set_args)(void *runner, const helion_spec_t *spec,
                            const helion_host_args_t *args, helion_err_t *err);
  helion_status (*load_kernel)(void *runner, const void *image, size_t len,
                               const char *entry, const helion_launch_t *launch,
                               void **out, helion_run_fail_t *fail,
                               helion_err_t *err);
  void (*unload_kernel)(void *runner, void *kernel);
  helion_status (*run_checked)(void *runner, void *kernel,
                               bool keep_as_baseline, helion_run_fail_t *fail,
                               helion_err_t *err);
  helion_status (*time)(void *runner, void *kernel, const helion_timing_t *t,
                        helion_timed_t *out, helion_run_fail_t *fail,
                        helion_err_t *err);
  helion_status (*time_interleaved)(void *runner, void **kernels, size_t n,
                                    uint32_t repeat, const helion_timing_t *t,
                                    double *out_ms, uint32_t *out_rounds,
                                    helion_run_fail_t *fail,
                                    helion_err_t *err);
} helion_bench_runner_ops_t;

/* helion_bench_worker_main with another runner. */
int helion_bench_worker_main_with(int argc, char **argv,
                                  const helion_bench_runner_ops_t *ops);

/* ---------------------------------------------------------------------------
 * Client.
 */
typedef struct helion_bench_client helion_bench_client_t;

typedef struct helion_bench_client_opts {
  const char *exe;        /* worker executable; NULL = "/proc/self/exe" */
  int device;             /* CUDA device ordinal */
  double timeout_s;       /* deadline cap per job; 0 = 30 */
  double min_timeout_s;   /* deadline floor; 0 = 2 */
  double start_timeout_s; /* worker start, init and setup; 0 = 120 */
  helion_timing_t timing; /* defaults for jobs (zero fields: runner.h's) */
} helion_bench_client_opts_t;

/* A compiled kernel and how to launch it. The image is a cubin (or
 * NUL-terminated PTX); the client copies what it needs before returning. */
typedef struct helion_kernel_image {
  const void *image;
  size_t len;
  const char *entry;
  helion_launch_t launch;
} helion_kernel_image_t;

typedef struct helion_bench_setup {
  const char *spec_path; /* the worker loads the spec itself */
  const int64_t *shape;  /* spec->nkeys values */
  size_t nkeys;
  /* Scope values (spec->nscope) for numel and scalar "value" expressions:
   * helion_launch_scope() of the default config. */
  const helion_num_t *scope;
  size_t nscope;
  uint64_t seed;
  /* The baseline: the default config's kernel or the spec's reference
   * kernel; run once, its outputs are the expected values. */
  helion_kernel_image_t baseline;
} helion_bench_setup_t;

typedef struct helion_bench_job {
  helion_kernel_image_t kernel;
  bool no_check;          /* skip the accuracy check (it runs by default) */
  double timeout_s;       /* 0: the adaptive deadline above */
  helion_timing_t timing; /* zero fields: the client's opts.timing */
} helion_bench_job_t;

typedef struct helion_bench_outcome {
  helion_result_kind kind; /* OK, RUNTIME, ACCURACY or TIMEOUT */
  double ms;               /* median; +inf unless OK */
  helion_timed_t timed;    /* details of the timing (OK only) */
  double wall_s;           /* seconds the job took, as the client saw it */
  bool worker_lost;        /* the worker exited or was killed */
  char msg[512];           /* why it failed; "" when OK */
} helion_bench_outcome_t;

/*
 * Starts the worker, initialises the device in it and reads its properties.
 * HELION_ERR_NO_DRIVER (no driver or no device: the message says which),
 * HELION_ERR_CUDA, or HELION_ERR_SUBPROCESS (cannot start the worker or it
 * died). *out is freed with helion_bench_client_destroy().
 */
helion_status helion_bench_client_create(const helion_bench_client_opts_t *opts,
                                         helion_bench_client_t **out,
                                         helion_err_t *err);

/* helion_bench_client_create in two halves, so several workers (one per
 * GPU) initialise their devices at once: begin starts the worker and sends
 * the init request (an error there leaves *out NULL); end waits for the
 * device's properties (start_timeout_s from the send), with create's
 * errors. After an error of end, only destroy is valid. */
helion_status
helion_bench_client_create_begin(const helion_bench_client_opts_t *opts,
                                 helion_bench_client_t **out,
                                 helion_err_t *err);
helion_status helion_bench_client_create_end(helion_bench_client_t *c,
                                             helion_err_t *err);

/* The device the worker uses (valid for the client's life). */
const helion_gpu_info_t *
helion_bench_client_device(const helion_bench_client_t *c);

/*
 * Sends the setup and waits (start_timeout_s) for the baseline to run.
 * The client keeps a copy and replays it after every restart. Fails with
 * HELION_ERR_INVALID when the baseline kernel fails ("baseline kernel failed:
 * runtime: CUDA_ERROR_ILLEGAL_ADDRESS ..."; the tune cannot go on), or
 * the worker's error (spec, sizes, out of memory). Writes the baseline's
 * median time.
 */
helion_status helion_bench_client_setup(helion_bench_client_t *c,
                                        const helion_bench_setup_t *setup,
                                        double *out_baseline_ms,
                                        helion_err_t *err);

/* The setup in two halves, so that several workers set up at once: begin
 * starts the worker if needed and sends the setup (a failed send is its
 * error, and then there is nothing to end); end waits for the reply
 * (start_timeout_s from the send) with helion_bench_client_setup's
 * results and errors. Nothing else may be sent to the client in between. */
helion_status helion_bench_client_setup_begin(helion_bench_client_t *c,
                                              const helion_bench_setup_t *s,
                                              helion_err_t *err);
helion_status helion_bench_client_setup_end(helion_bench_client_t *c,
                                            double *out_baseline_ms,
                                            helion_err_t *err);

/*
 * Sends a bench job (after a setup; one job in flight at a time). If the
 * worker was lost, restarts it and replays the setup first (blocking).
 * Returns non-zero only for faults of the run: no setup, a job already in
 * flight (HELION_ERR_USAGE), a restart that fails.
 */
helion_status helion_bench_client_submit(helion_bench_client_t *c,
                                         const helion_bench_job_t *job,
                                         helion_err_t *err);

/* The descriptor to poll() for POLLIN while a job is in flight or a
 * restart is in progress; -1 when no worker runs. Readable means: call
 * helion_bench_client_collect (or helion_bench_client_restart_poll). */
int helion_bench_client_fd(const helion_bench_client_t *c);

/* Absolute deadline (helion_now() seconds) of the job in flight or of the
 * restart's current step; 0 if none. An event loop should wake by then and
 * call collect (or restart_poll). */
double helion_bench_client_deadline(const helion_bench_client_t *c);

/*
 * Restarts a lost worker without blocking, so an event loop goes on with
 * the other GPUs meanwhile: begin starts the worker and sends the init
 * (nothing to do unless the worker was lost and no job is in flight);
 * poll takes the replies that have arrived, replays the setup after the
 * init, and sets *out_ready once the worker can take a job. Errors as
 * for a restart inside submit ("restarting the benchmark worker: ...").
 * Any other call finishes a restart in progress first (blocking), but
 * setup_later.
 */
helion_status helion_bench_client_restart_begin(helion_bench_client_t *c,
                                                helion_err_t *err);
helion_status helion_bench_client_restart_poll(helion_bench_client_t *c,
                                               bool *out_ready,
                                               helion_err_t *err);

/* True while a restart is in progress (restart_begin .. the poll that
 * says ready). */
bool helion_bench_client_restarting(const helion_bench_client_t *c);

/*
 * The setup for a client that is restarting, without waiting for it: the
 * restart sends this setup once the worker is up (after the reply to a
 * replay of the old setup already sent, if one was) and ends with its
 * reply, so restart_poll says ready only for the new setup. Its baseline
 * time is not reported; a setup that fails there fails the restart.
 * HELION_ERR_USAGE unless the client is restarting.
 */
helion_status helion_bench_client_setup_later(helion_bench_client_t *c,
                                              const helion_bench_setup_t *s,
                                              helion_err_t *err);

/* True while a job is in flight. */
bool helion_bench_client_busy(const helion_bench_client_t *c);

/*
 * Collects the in-flight job's result, waiting at most `wait_ms` (0: only
 * what is readable now; -1: until done). *out_done says whether *out was
 * written. Past the deadline the worker is killed and the outcome is
 * TIMEOUT; a worker that dies gives RUNTIME ("benchmark worker died: killed
 * by signal 11"). Non-zero only for faults of the run (no job in flight:
 * HELION_ERR_USAGE).
 */
helion_status helion_bench_client_collect(helion_bench_client_t *c, int wait_ms,
                                          bool *out_done,
                                          helion_bench_outcome_t *out,
                                          helion_err_t *err);

/* submit + collect(-1). */
helion_status helion_bench_client_bench(helion_bench_client_t *c,
                                        const helion_bench_job_t *job,
                                        helion_bench_outcome_t *out,
                                        helion_err_t *err);

/*
 * Times `n` kernels side by side: `repeat` rounds, each running every kernel
 * once (L2 flushed before each), per-kernel median to out_ms[i]. A kernel
 * that fails gives +inf for every kernel of this call when it took the
 * worker down (the worker is restarted on the next job), else +inf for it
 * alone. Blocking; deadline: the sum of the deadlines of n bench jobs scaled
 * by the rounds. `repeat` 0 = helion_bench_rebench_repeat(200, slowest known
 * time), which needs the times: pass them in `prev_ms` (may be NULL). The
 * rounds stop early once every median is known to opts.timing.precision
 * (runner.h); the rounds run go to *out_rounds (may be NULL).
 */
helion_status helion_bench_client_rebench(helion_bench_client_t *c,
                                          const helion_kernel_image_t *kernels,
                                          size_t n, uint32_t repeat,
                                          const double *prev_ms, double *out_ms,
                                          uint32_t *out_rounds,
                                          helion_err_t *err);

/* Helion's interleaved_bench rule: min(20000, max(3, target_ms / max_ms)),
 * 1000 when max_ms is not finite or <= 0. */
uint32_t helion_bench_rebench_repeat(double target_ms, double max_ms);

/* Worker restarts so far (after crashes, sticky errors and timeouts). */
unsigned helion_bench_client_restarts(const helion_bench_client_t *c);

/* Asks the worker to exit (waits up to 5 s, then kills it) and frees. Accepts
 * NULL. */
void helion_bench_client_destroy(helion_bench_client_t *c);

/* ---------------------------------------------------------------------------
 * Wire framing (used by both sides; exposed for tests).
 */
#define HELION_WIRE_MAGIC 0x57424c48u /* "HLBW" read as little-endian bytes */
#define HELION_WIRE_MAX ((size_t)1 << 30)

/* Writes one message, all of it (retrying short writes and EINTR). */
helion_status helion_wire_send(int fd, uint32_t type, const void *payload,
                               size_t len, helion_err_t *err);

/* Incremental reader of one message at a time from a (possibly
 * non-blocking) descriptor. */
typedef struct helion_wire_reader {
  uint8_t head[12];
  size_t head_have;
  uint8_t *body; /* malloc'd; ownership passes out with the message */
  size_t body_len, body_have;
  uint32_t type;
} helion_wire_reader_t;

void helion_wire_reader_init(helion_wire_reader_t *r);
void helion_wire_reader_cleanup(helion_wire_reader_t *r);

/*
 * Reads what is available (stops at EAGAIN) or, with `block`, until one
 * message is complete. When one is complete writes *out_done = true, the
 * type, the payload (caller frees with free(); NULL when empty) and its
 * length, and resets the reader. End of file gives HELION_ERR_IO ("benchmark
 * worker closed the connection"); a bad magic or size HELION_ERR_PARSE.
 */
helion_status helion_wire_read(helion_wire_reader_t *r, int fd, bool block,
                               bool *out_done, uint32_t *out_type,
                               uint8_t **out_payload, size_t *out_len,
                               helion_err_t *err);

#endif /* HELION_BENCH_WORKER_H */
