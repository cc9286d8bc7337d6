/*
 * cuda_driver.h: the CUDA Driver API, loaded at run time.
 *
 * libcuda is never linked: helion_cuda_driver() dlopens "libcuda.so.1" (or
 * $HELION_LIBCUDA_PATH) once, resolves cuGetProcAddress, and through it every
 * entry point of HELION_CUDA_FUNCTIONS at the pinned API version
 * HELION_CUDA_API_VERSION. So the tool and applications start on machines
 * without a GPU, and one binary works with every driver since CUDA 12.0.
 *
 * Internal to the runtime and the tool (it includes cuda.h); the public
 * runtime.h never exposes CUDA types.
 */
#ifndef HELION_CUDA_DRIVER_H
#define HELION_CUDA_DRIVER_H

#include <cuda.h>
#include <cudaTypedefs.h>
#include <stddef.h>

#include "helion/runtime.h"

/* Entry points resolve as they were in CUDA 12.0 (driver 525 and later). */
#define HELION_CUDA_API_VERSION 12000

/* Every entry point used anywhere: XX(name, version of its PFN typedef). */
#define HELION_CUDA_FUNCTIONS(XX)                                              \
  XX(cuInit, 2000)                                                             \
  XX(cuDriverGetVersion, 2020)                                                 \
  XX(cuGetErrorName, 6000)                                                     \
  XX(cuGetErrorString, 6000)                                                   \
  XX(cuDeviceGet, 2000)                                                        \
  XX(cuDeviceGetCount, 2000)                                                   \
  XX(cuDeviceGetName, 2000)                                                    \
  XX(cuDeviceGetAttribute, 2000)                                               \
  XX(cuDeviceTotalMem, 3020)                                                   \
  XX(cuDevicePrimaryCtxRetain, 7000)                                           \
  XX(cuDevicePrimaryCtxRelease, 11000)                                         \
  XX(cuCtxSetCurrent, 4000)                                                    \
  XX(cuCtxGetCurrent, 4000)                                                    \
  XX(cuCtxGetDevice, 2000)                                                     \
  XX(cuCtxGetId, 12000)                                                        \
  XX(cuCtxSynchronize, 2000)                                                   \
  XX(cuModuleLoadData, 2000)                                                   \
  XX(cuModuleUnload, 2000)                                                     \
  XX(cuModuleGetFunction, 2000)                                                \
  XX(cuFuncSetAttribute, 9000)                                                 \
  XX(cuFuncGetAttribute, 2020)                                                 \
  XX(cuLaunchKernel, 4000)                                                     \
  XX(cuOccupancyMaxActiveBlocksPerMultiprocessor, 6050)                        \
  XX(cuMemAlloc, 3020)                                                         \
  XX(cuMemFree, 3020)                                                          \
  XX(cuMemGetInfo, 3020)                                                       \
  XX(cuMemcpyHtoD, 3020)                                                       \
  XX(cuMemcpyDtoH, 3020)                                                       \
  XX(cuMemcpyDtoD, 3020)                                                       \
  XX(cuMemsetD8, 3020)                                                         \
  XX(cuMemsetD32, 3020)                                                        \
  XX(cuMemsetD8Async, 3020)                                                    \
  XX(cuMemsetD32Async, 3020)                                                   \
  XX(cuStreamCreate, 2000)                                                     \
  XX(cuStreamDestroy, 4000)                                                    \
  XX(cuStreamSynchronize, 2000)                                                \
  XX(cuStreamBeginCapture, 10010)                                              \
  XX(cuStreamEndCapture, 10000)                                                \
  XX(cuGraphInstantiateWithFlags, 11040)                                       \
  XX(cuGraphLaunch, 10000)                                                     \
  XX(cuGraphExecDestroy, 10000)                                                \
  XX(cuGraphDestroy, 10000)                                                    \
  XX(cuEventCreate, 2000)                                                      \
  XX(cuEventDestroy, 4000)                                                     \
  XX(cuEventRecord, 2000)                                                      \
  XX(cuEventSynchronize, 2000)                                                 \
  XX(cuEventElapsedTime, 2000)

typedef struct helion_cuda_driver {
#define HELION_CUDA_FIELD_(name, version) PFN_##name##_v##version name;
  HELION_CUDA_FUNCTIONS(HELION_CUDA_FIELD_)
#undef HELION_CUDA_FIELD_
  int driver_version; /* cuDriverGetVersion, e.g. 13000 */
} helion_cuda_driver_t;

/*
 * The process-wide driver table, loaded and cuInit()ed on first use
 * (thread-safe; later calls return the same result). On failure returns
 * HELION_ERR_NO_DRIVER ("no CUDA driver found: ...") or HELION_ERR_CUDA and,
 * when `msg` is not NULL, writes a one-line explanation with what to do.
 * The table is never freed.
 */
helion_status helion_cuda_driver(const helion_cuda_driver_t **out, char *msg,
                                 size_t msg_len);

/*
 * Loads a table from `path` without caching or cuInit (for tests and
 * diagnostics). Same errors as helion_cuda_driver(). On success the library
 * handle stays open for the life of the process.
 */
helion_status helion_cuda_driver_load(const char *path,
                                      helion_cuda_driver_t *out, char *msg,
                                      size_t msg_len);

/*
 * "CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered" for
 * a CUresult, through the driver when it is loaded, else the number.
 * Writes at most n bytes.
 */
void helion_cuda_describe(const helion_cuda_driver_t *drv, CUresult r,
                          char *out, size_t n);

#endif /* HELION_CUDA_DRIVER_H */
