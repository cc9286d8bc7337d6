/*
 * backend_cuda_internal.h: what the GPU backend's files share (not for other
 * modules, which see backend_cuda.h): the backend's state, and the
 * artifacts of the current shape's configs with the helpers that compile
 * and launch a config (backend_cuda_art.c). backend_cuda.c runs the queue,
 * the setup and the workers; backend_cuda_opts.c reads the options.
 */
#ifndef HELION_BACKEND_CUDA_INTERNAL_H
#define HELION_BACKEND_CUDA_INTERNAL_H

#include "backend/backend_cuda.h"

/* One configuration of the current shape. */
typedef struct art {
  int64_t *cells;
  uint8_t *cubin;
  size_t cubin_size;
  char *ptx;
  size_t ptx_size;
  helion_nvrtc_usage_t usage;
  double compile_s;
  helion_result_kind kind;
  double ms;
  helion_launch_t launch;
} art;

/* One configuration of the queue (submit() or bench()). Whether it is done
 * and whether collect() returned it is where it stands in `finished`. */
typedef struct queued {
  size_t art;   /* index into arts */
  uint64_t tag; /* the caller's */
  helion_bench_result_t res;
  bool held; /* the default config, waiting for the setup's compile */
} queued;

/* A benchmark worker's job in flight. */
typedef struct worker_job {
  bool busy;
  size_t q; /* its entry in the queue */
  double since;
  /* Its worker was lost and restarts (init, setup replay) while the
   * other GPUs go on; no job until it is ready. */
  bool restarting;
} worker_job;

struct helion_backend_cuda {
  helion_backend_t base; /* first: the vtable's functions cast back */
  const helion_spec_t *spec;
  helion_backend_cuda_opts_t opts;
  char arch[16];
  char *source;      /* the .cu text */
  char *source_name; /* its file name, as NVRTC logs cite it */
  helion_compile_pool_t *pool;
  /* One worker per GPU; the first also times the finalists (rebench). */
  helion_bench_client_t *clients[HELION_CUDA_MAX_DEVICES];
  size_t nclients;
  size_t next_worker; /* round robin of bench() */

  /* The current shape. */
  int64_t *shape;
  helion_num_t *scope; /* spec->nscope scratch */
  double clock0;
  bool adapted;
  art *arts;
  size_t narts, cap_arts;
  size_t *slots; /* index + 1 into arts; 0 = empty */
  size_t nslots;
  helion_cuda_stats_t stats;
  double best_ms; /* fastest OK time of this shape (the baseline's first) */

  /* The shape's setup. set_shape() only starts the compiles of the
   * default config and the reference kernel, so they run in the pool
   * beside the search's first compiles; the first collect(), rebench() or
   * baseline() waits for them and gives every worker its inputs and the
   * baseline (setup_finish). Its compile tags carry UINT32_MAX where queue
   * entries carry the generation (which never reaches it) and `serial`,
   * which tells this shape's compiles from an abandoned earlier shape's. */
  struct {
    bool pending;    /* started, not finished */
    uint32_t serial; /* of the current shape's setup */
    uint64_t seed;
    size_t def_art;          /* the default config's art */
    bool def_done, ref_done; /* their compiles are back */
    helion_compile_result_t ref;
    double ms;          /* the baseline's time; +inf until known */
    helion_status fail; /* not OK: every later call repeats why */
    helion_err_t why;
  } setup;
  uint32_t setup_serial; /* setups started so far */

  /* The queue of configurations being compiled and timed: filled by
   * submit() (bench() submits too), emptied by collect(). It starts over
   * once collect() has returned every entry. Compile tags are
   * (generation << 32) | entry, and the generation changes whenever the
   * queue starts over, so a compile left over from an entry abandoned by
   * an error is never taken for a later entry. */
  queued *q;
  size_t nq, cap_q;
  size_t *ready; /* compiled entries waiting for a worker, in order */
  size_t ready_head, nready;
  size_t *finished; /* entries in the order they finished */
  size_t nfinished;
  size_t nreturned; /* finished[0 .. nreturned) went back to the caller */
  uint64_t generation;
  worker_job jobs[HELION_CUDA_MAX_DEVICES];
};

/* --------------------------------------------- backend_cuda_art.c -- */

static inline size_t helion__cuda_ncells(const helion_backend_cuda_t *b) {
  return b->base.space->ncells;
}

/* Frees every art of the shape and empties the index. */
void helion__cuda_arts_clear(helion_backend_cuda_t *b);

/* The art of `cells`; NULL if it has none. */
art *helion__cuda_art_find(const helion_backend_cuda_t *b,
                           const int64_t *cells);

/* The art of `cells`, created (kind COMPILE, ms +inf) when new. NULL on
 * out of memory. Pointers into arts move when it grows: callers keep
 * indices across calls. */
art *helion__cuda_art_get(helion_backend_cuda_t *b, const int64_t *cells,
                          size_t *out_index);

/* Moves the compile products into the art. */
void helion__cuda_art_take_compile(art *a, helion_compile_result_t *r);

/* The config as canonical JSON, for log lines ("{...}" if it cannot be
 * formatted). Owned by `buf`. */
const char *helion__cuda_config_str(const helion_backend_cuda_t *b,
                                    const int64_t *cells, helion_buf_t *buf);

/* The config's launch geometry; false (with the reason) when CUDA could
 * not launch it. */
bool helion__cuda_config_launch(helion_backend_cuda_t *b, const int64_t *cells,
                                helion_launch_t *out, helion_err_t *why);

/* Sends the config's compile (kernel `entry`) to the pool under `tag`. */
helion_status helion__cuda_submit_compile(helion_backend_cuda_t *b,
                                          const int64_t *cells,
                                          const char *entry, uint64_t tag,
                                          helion_err_t *err);

#endif /* HELION_BACKEND_CUDA_INTERNAL_H */
