/*
 * backend_cuda_art.c: the GPU backend's artifacts: per config of the
 * current shape its compile products, launch and result, found by an open
 * addressing index on the config's cells; and the helpers that compile and
 * launch a config (see backend_cuda_internal.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "backend/backend_cuda_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"

void helion__cuda_arts_clear(helion_backend_cuda_t *b) {
  for (size_t i = 0; i < b->narts; i++) {
    free(b->arts[i].cells);
    free(b->arts[i].cubin);
    free(b->arts[i].ptx);
  }
  b->narts = 0;
  if (b->slots)
    memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}

/* The slot of `cells` in the index: its art or the empty slot to use. */
static size_t slot_of(const helion_backend_cuda_t *b, const int64_t *cells) {
  size_t mask = b->nslots - 1;
  size_t h = (size_t)helion_config_hash(b->base.space, cells) & mask;
  for (;;) {
    size_t v = b->slots[h];
    if (v == 0 || memcmp(b->arts[v - 1].cells, cells,
                         helion__cuda_ncells(b) * sizeof(int64_t)) == 0)
      return h;
    h = (h + 1) & mask;
  }
}

art *helion__cuda_art_find(const helion_backend_cuda_t *b,
                           const int64_t *cells) {
  if (!b->slots || !b->base.space)
    return NULL;
  size_t v = b->slots[slot_of(b, cells)];
  return v ? &b->arts[v - 1] : NULL;
}

art *helion__cuda_art_get(helion_backend_cuda_t *b, const int64_t *cells,
                          size_t *out_index) {
  if (b->nslots == 0 || (b->narts + 1) * 2 > b->nslots) {
    size_t n = b->nslots ? b->nslots * 2 : 256;
    size_t *s = calloc(n, sizeof(*s));
    if (!s)
      return NULL;
    free(b->slots);
    b->slots = s;
    b->nslots = n;
    for (size_t i = 0; i < b->narts; i++)
      b->slots[slot_of(b, b->arts[i].cells)] = i + 1;
  }
  size_t h = slot_of(b, cells);
  if (b->slots[h]) {
    *out_index = b->slots[h] - 1;
    return &b->arts[b->slots[h] - 1];
  }
  if (b->narts == b->cap_arts) {
    size_t cap = b->cap_arts ? b->cap_arts * 2 : 128;
    art *a = realloc(b->arts, cap * sizeof(*a));
    if (!a)
      return NULL;
    b->arts = a;
    b->cap_arts = cap;
  }
  art *a = &b->arts[b->narts];
  memset(a, 0, sizeof(*a));
  a->cells = malloc(helion__cuda_ncells(b) * sizeof(int64_t));
  if (!a->cells)
    return NULL;
  memcpy(a->cells, cells, helion__cuda_ncells(b) * sizeof(int64_t));
  a->kind = HELION_RESULT_COMPILE;
  a->ms = INFINITY;
  b->slots[h] = b->narts + 1;
  *out_index = b->narts++;
  return a;
}

/* ------------------------------------------------------------ helpers -- */

const char *helion__cuda_config_str(const helion_backend_cuda_t *b,
                                    const int64_t *cells, helion_buf_t *buf) {
  helion_buf_reset(buf);
  if (helion_config_to_json(b->base.space, cells, false, buf))
    return "{...}";
  return helion_buf_str(buf);
}

bool helion__cuda_config_launch(helion_backend_cuda_t *b, const int64_t *cells,
                                helion_launch_t *out, helion_err_t *why) {
  const helion_gpu_info_t *dev = helion_bench_client_device(b->clients[0]);
  helion_launch_scope(b->spec, b->base.space, b->shape, &dev->props, cells,
                      b->scope);
  return helion_launch_eval(b->spec, b->scope, out, why) == HELION_OK;
}

helion_status helion__cuda_submit_compile(helion_backend_cuda_t *b,
                                          const int64_t *cells,
                                          const char *entry, uint64_t tag,
                                          helion_err_t *err) {
  helion_buf_t opts;
  helion_buf_init(&opts, (size_t)1 << 20);
  helion_status rc = helion_config_defines(b->base.space, cells, &opts);
  if (rc) {
    helion_buf_cleanup(&opts);
    return helion_err_set(err, rc,
                          "cannot build the NVRTC options of a "
                          "config");
  }
  helion_nvrtc_input_t in = {b->source, b->source_name, b->arch,
                             helion_buf_str(&opts), entry};
  rc = helion_compile_pool_submit(b->pool, &in, tag, err);
  helion_buf_cleanup(&opts);
  if (rc == HELION_OK)
    b->stats.compiles++;
  return rc;
}

void helion__cuda_art_take_compile(art *a, helion_compile_result_t *r) {
  a->compile_s = r->seconds;
  a->usage = r->out.usage;
  if (r->status == HELION_COMPILE_OK) {
    free(a->cubin);
    free(a->ptx);
    a->cubin = r->out.cubin;
    a->cubin_size = r->out.cubin_size;
    a->ptx = r->out.ptx;
    a->ptx_size = r->out.ptx_size;
    r->out.cubin = NULL;
    r->out.ptx = NULL;
  }
}
