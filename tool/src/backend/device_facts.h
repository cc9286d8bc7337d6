/*
 * device_facts.h: what a tuning result depends on about the GPU and its
 * software (DESIGN.md §7): device name, compute capability, SM count, the
 * properties a spec's space is built from, the driver version and NVRTC's
 * version. A results-file entry and a cache key are made of these.
 *
 * Two sources, the same struct:
 *   helion_device_facts_query()     asks the driver directly (dlopen through
 *                                   runtime/src/cuda_driver.h, cuInit only);
 *                                   no context, no compile pool, no benchmark
 *                                   worker, so a cache hit costs no GPU start.
 *   helion_device_facts_from_gpu()  takes what the benchmark worker reported
 *                                   when a tune has started it anyway.
 *
 * Thread-safety: both are safe to call from any thread (the driver table is
 * loaded once, process-wide); a facts struct is plain data.
 */
#ifndef HELION_DEVICE_FACTS_H
#define HELION_DEVICE_FACTS_H

#include <cjson/cJSON.h>

#include "backend/runner.h"
#include "model/spec.h"
#include "util/util.h"

typedef struct helion_device_facts {
  /* name, compute capability, SM count, opt-in shared memory per block and
   * registers per SM: enough for helion_spec_space() */
  helion_device_props_t props;
  int ordinal;        /* CUDA device ordinal */
  int driver_version; /* cuDriverGetVersion: 12080 is CUDA 12.8 */
  int nvrtc_major, nvrtc_minor;
} helion_device_facts_t;

/*
 * Queries device `ordinal` through the CUDA driver (loaded with dlopen,
 * $HELION_LIBCUDA_PATH honoured) and NVRTC's version. Creates no context.
 * Writes *out only on success. Errors: HELION_ERR_NO_DRIVER ("no CUDA driver
 * found: ..." or "no CUDA device found: ..."), HELION_ERR_INVALID (no such
 * ordinal, naming the visible range), HELION_ERR_CUDA (a driver call failed,
 * named), HELION_ERR_NVRTC.
 */
helion_status helion_device_facts_query(int ordinal, helion_device_facts_t *out,
                                        helion_err_t *err);

/*
 * The facts of the device the benchmark worker opened (`gpu`, from
 * helion_backend_cuda_device()) plus NVRTC's version. Writes *out only on
 * success; HELION_ERR_NVRTC when NVRTC cannot say its version.
 */
helion_status helion_device_facts_from_gpu(const helion_gpu_info_t *gpu,
                                           helion_device_facts_t *out,
                                           helion_err_t *err);

/*
 * The facts as a JSON object, every field present:
 *   {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0",
 *    "sm_count": 132, "driver_version": "12.8", "nvrtc_version": "12.8"}
 * (versions as "major.minor", the way CUDA names them). NULL when out of
 * memory. The caller frees it with cJSON_Delete(), or owns it through the
 * tree it is added to.
 */
cJSON *helion_device_facts_to_json(const helion_device_facts_t *f);

#endif /* HELION_DEVICE_FACTS_H */
