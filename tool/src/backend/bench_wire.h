/*
 * bench_wire.h: what the benchmark worker and its client both speak, beyond
 * the framing in bench_worker.h: the message types and the payload codec.
 * Internal to backend/ (bench_wire.c, bench_worker.c, bench_client.c).
 *
 * Payloads are fixed-size fields in host order (both ends are the same
 * binary on the same machine), strings and blobs as u32 length + bytes.
 * Encoding never fails mid-way: an encoder that ran out of room (the
 * HELION_WIRE_MAX cap) or memory sets `bad` and the caller checks it once.
 * Decoding likewise: reading past the end sets `bad` and yields zeros.
 * Threads: an encoder or decoder belongs to one thread.
 */
#ifndef HELION_BENCH_WIRE_H
#define HELION_BENCH_WIRE_H

#include "backend/bench_worker.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  HELION__REQ_INIT = 1,
  HELION__REQ_SETUP = 2,
  HELION__REQ_BENCH = 3,
  HELION__REQ_REBENCH = 4,
  HELION__REQ_SHUTDOWN = 5,
  HELION__REP_DEVICE = 101,
  HELION__REP_RESULT = 102,
  HELION__REP_REBENCH = 103,
  HELION__REP_ERROR = 104,
};

/* Exit status of a worker that ended after a sticky CUDA error. */
#define HELION__BENCH_EXIT_STICKY 3

typedef struct helion__wire_enc {
  helion_buf_t b;
  bool bad;
} helion__wire_enc_t;

typedef struct helion__wire_dec {
  const uint8_t *p;
  size_t len, off;
  bool bad;
} helion__wire_dec_t;

/* The image and entry point into the payload; entry is copied into `entry`
 * (malloc'd). */
typedef struct helion__wire_kernel {
  const uint8_t *image;
  size_t len;
  char *entry;
  helion_launch_t launch;
} helion__wire_kernel_t;

/* An empty encoder capped at HELION_WIRE_MAX; free e->b with
 * helion_buf_cleanup (or take it with helion_buf_take). */
void helion__wire_enc_init(helion__wire_enc_t *e);
void helion__wire_put_u32(helion__wire_enc_t *e, uint32_t v);
void helion__wire_put_u64(helion__wire_enc_t *e, uint64_t v);
void helion__wire_put_f64(helion__wire_enc_t *e, double v);
void helion__wire_put_blob(helion__wire_enc_t *e, const void *p, size_t n);
/* NULL encodes as "". */
void helion__wire_put_str(helion__wire_enc_t *e, const char *s);
void helion__wire_put_kernel(helion__wire_enc_t *e,
                             const helion_kernel_image_t *k);
void helion__wire_put_timing(helion__wire_enc_t *e, const helion_timing_t *t);
void helion__wire_put_info(helion__wire_enc_t *e, const helion_gpu_info_t *in);

uint32_t helion__wire_get_u32(helion__wire_dec_t *d);
uint64_t helion__wire_get_u64(helion__wire_dec_t *d);
double helion__wire_get_f64(helion__wire_dec_t *d);
/* A pointer into the payload (not copied) and its length. */
const uint8_t *helion__wire_get_blob(helion__wire_dec_t *d, size_t *n);
/* A NUL-terminated copy; the caller frees it with free(). NULL (and `bad`)
 * when out of memory. */
char *helion__wire_get_str(helion__wire_dec_t *d);
/* k->image points into the payload; the caller frees k->entry. */
void helion__wire_get_kernel(helion__wire_dec_t *d, helion__wire_kernel_t *k);
void helion__wire_get_timing(helion__wire_dec_t *d, helion_timing_t *t);
void helion__wire_get_info(helion__wire_dec_t *d, helion_gpu_info_t *in);

#ifdef __cplusplus
}
#endif

#endif /* HELION_BENCH_WIRE_H */
