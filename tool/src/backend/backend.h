/*
 * backend.h: the interface every source of measurements implements (the
 * simulator, the GPU). Searches see only this: batches of configurations in,
 * one result per configuration out, plus re-timing of a set of finalists.
 * Backends never know which search calls them.
 */
#ifndef HELION_BACKEND_H
#define HELION_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/space.h"
#include "util/util.h"

/* How a configuration ended. Anything but OK has ms = +inf: a failed config
 * is data, not an error. */
typedef enum helion_result_kind {
  HELION_RESULT_OK = 0,
  HELION_RESULT_COMPILE = 1,  /* did not compile (or compile crashed) */
  HELION_RESULT_RUNTIME = 2,  /* launch failed, illegal address, ... */
  HELION_RESULT_ACCURACY = 3, /* ran, but the output was wrong */
  HELION_RESULT_TIMEOUT = 4,  /* compile or run exceeded its deadline */
} helion_result_kind;

#define HELION_RESULT_KIND_COUNT 5

/* "ok", "compile", "runtime", "accuracy", "timeout". */
const char *helion_result_kind_name(helion_result_kind k);

typedef struct helion_bench_result {
  helion_result_kind kind;
  double ms;        /* median time; +inf unless kind == OK */
  double compile_s; /* seconds spent compiling (0 if unknown) */
} helion_bench_result_t;

typedef struct helion_backend helion_backend_t;

typedef struct helion_backend_vtable {
  /*
   * Compiles and times `n` configurations (n * space->ncells cells, already
   * normalized and valid). Writes out[i] for each. Returns non-zero only for
   * a fault of the run itself (the backend is broken), never for a config.
   */
  helion_status (*bench)(helion_backend_t *b, const int64_t *configs, size_t n,
                         helion_bench_result_t *out, helion_err_t *err);
  /*
   * Re-times `n` configurations that were benchmarked before, side by side
   * (interleaved where the backend can), for about `target_ms` in total.
   * Writes the new median time per config (+inf if it now fails).
   */
  helion_status (*rebench)(helion_backend_t *b, const int64_t *configs,
                           size_t n, double target_ms, double *out_ms,
                           helion_err_t *err);
  /*
   * Asynchronous benchmarking, for searches that propose new configurations
   * while earlier ones are still compiling or being timed (both NULL where a
   * backend has none). submit() queues `n` configurations (normalized,
   * valid, none queued already) under the caller's tags and returns at once;
   * their compiles start. collect() waits until at least one queued
   * configuration has its result and writes up to `max` finished ones, in
   * the order they finished (tags[i], out[i]); with nothing queued it writes
   * *got = 0 at once. elapsed() after collect() is the time the last
   * written result finished. bench() and rebench() refuse to run while
   * configurations are queued (HELION_ERR_USAGE).
   */
  helion_status (*submit)(helion_backend_t *b, const int64_t *configs, size_t n,
                          const uint64_t *tags, helion_err_t *err);
  helion_status (*collect)(helion_backend_t *b, size_t max, uint64_t *tags,
                           helion_bench_result_t *out, size_t *got,
                           helion_err_t *err);
  /* Seconds since the backend was created: wall clock, or the simulated
   * clock of a replayed landscape. */
  double (*elapsed)(helion_backend_t *b);
  void (*destroy)(helion_backend_t *b);
} helion_backend_vtable_t;

struct helion_backend {
  const helion_backend_vtable_t *vt;
  const helion_space_t *space; /* the space configs belong to (not owned) */
};

static inline helion_status helion_backend_bench(helion_backend_t *b,
                                                 const int64_t *configs,
                                                 size_t n,
                                                 helion_bench_result_t *out,
                                                 helion_err_t *err) {
  return b->vt->bench(b, configs, n, out, err);
}

static inline helion_status helion_backend_rebench(helion_backend_t *b,
                                                   const int64_t *configs,
                                                   size_t n, double target_ms,
                                                   double *out_ms,
                                                   helion_err_t *err) {
  return b->vt->rebench(b, configs, n, target_ms, out_ms, err);
}

static inline bool helion_backend_can_submit(const helion_backend_t *b) {
  return b->vt->submit && b->vt->collect;
}

static inline helion_status
helion_backend_submit(helion_backend_t *b, const int64_t *configs, size_t n,
                      const uint64_t *tags, helion_err_t *err) {
  return b->vt->submit(b, configs, n, tags, err);
}

static inline helion_status helion_backend_collect(helion_backend_t *b,
                                                   size_t max, uint64_t *tags,
                                                   helion_bench_result_t *out,
                                                   size_t *got,
                                                   helion_err_t *err) {
  return b->vt->collect(b, max, tags, out, got, err);
}

static inline double helion_backend_elapsed(helion_backend_t *b) {
  return b->vt->elapsed(b);
}

/* Accepts NULL. */
static inline void helion_backend_destroy(helion_backend_t *b) {
  if (b)
    b->vt->destroy(b);
}

#endif /* HELION_BACKEND_H */
