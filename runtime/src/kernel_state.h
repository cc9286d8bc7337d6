/*
 * kernel_state.h: the runtime's state of one kernel, behind
 * helion_kernel_state_t::impl. launch.c builds and reads it (context slots,
 * loaded functions); misses.c keeps its record of missed shapes in it.
 * Internal to the runtime.
 */
#ifndef HELION_KERNEL_STATE_H
#define HELION_KERNEL_STATE_H

#include <pthread.h>
#include <stdatomic.h>

#include "cuda_driver.h"
#include "helion/runtime.h"

/* Contexts one kernel can serve in a process. A slot is never reused (a
 * destroyed context keeps its slot), so this bounds the contexts created over
 * the process's life that launched the kernel. */
#define HELION_MAX_CONTEXTS 32

struct helion__kernel;

/* One CUDA context's view of a kernel. Every field but `functions` is
 * written once, before helion__kernel_t::nslots publishes the slot. */
typedef struct helion__ctx_slot {
  unsigned long long ctx_id; /* cuCtxGetId: never reused, unlike addresses */
  const helion_device_t *device; /* process-wide cache, never freed */
  const helion_cuda_driver_t *drv;
  struct helion__kernel *kernel;
  /* One per config: NULL until loaded, then published with a release store
   * under kernel->lock and read with acquire loads. Never freed. */
  _Atomic(CUfunction) *functions;
} helion__ctx_slot_t;

typedef struct helion__kernel {
  /* Serialises the slow paths of this kernel: adding a slot, loading a
   * module. Never taken on the hot path. */
  pthread_mutex_t lock;
  /* Slots [0, nslots) are complete; release store after filling one. */
  _Atomic unsigned nslots;
  helion__ctx_slot_t slots[HELION_MAX_CONTEXTS];
  /* misses.c's record of this kernel's misses; only touched under its
   * process-wide mutex. */
  void *misses;
} helion__kernel_t;

/*
 * The state of kernel k (`st->impl`), created on first use: published once
 * under a process-wide mutex, read with an acquire load. Never freed: a
 * generated header's state lives as long as the process. HELION_ERR_NOMEM
 * (with the thread's message) when it cannot be allocated.
 */
helion_status helion__kernel_get(const helion_kernel_desc_t *k,
                                 helion_kernel_state_t *st,
                                 helion__kernel_t **out);

#endif /* HELION_KERNEL_STATE_H */
