/*
 * helion/runtime.h: the C API shared by the helion-tune tool, the headers it
 * generates and the applications that include them.
 *
 * This header never includes CUDA headers: driver handles are opaque pointers,
 * so an application builds without the CUDA Toolkit and starts on machines
 * without a GPU.
 */
#ifndef HELION_RUNTIME_H
#define HELION_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(HELION_BUILDING_SHARED)
#define HELION_EXTERN __declspec(dllexport)
#elif defined(_WIN32) && defined(HELION_USING_SHARED)
#define HELION_EXTERN __declspec(dllimport)
#elif defined(__GNUC__)
#define HELION_EXTERN __attribute__((visibility("default")))
#else
#define HELION_EXTERN
#endif

/*
 * Status codes. Numbers are fixed forever: a code is never renumbered or
 * reused. HELION_OK is 0, so `if (rc)` tests for failure. The code says what
 * kind of thing went wrong; the detail (file, JSON path, driver error name)
 * travels in a message the caller reads (see each function's contract).
 */
#define HELION_STATUS_MAP(XX)                                                  \
  XX(OK, 0, "success")                                                         \
  XX(ERR_NOMEM, 1, "out of memory")                                            \
  XX(ERR_IO, 2, "file input/output error")                                     \
  XX(ERR_PARSE, 3, "malformed input")                                          \
  XX(ERR_INVALID, 4, "invalid value")                                          \
  XX(ERR_USAGE, 5, "invalid usage")                                            \
  XX(ERR_NOT_FOUND, 6, "not found")                                            \
  XX(ERR_LIMIT, 7, "size limit exceeded")                                      \
  XX(ERR_EVAL, 8, "expression evaluation failed")                              \
  XX(ERR_NO_DRIVER, 9, "no CUDA driver found")                                 \
  XX(ERR_CUDA, 10, "CUDA driver call failed")                                  \
  XX(ERR_NVRTC, 11, "NVRTC compilation failed")                                \
  XX(ERR_TIMEOUT, 12, "timed out")                                             \
  XX(ERR_SUBPROCESS, 13, "subprocess failed")                                  \
  XX(ERR_UNSUPPORTED, 14, "not supported")                                     \
  XX(ERR_NO_CONFIG, 15, "no working configuration found")                      \
  XX(ERR_INTERRUPTED, 16, "interrupted")

typedef enum helion_status {
#define HELION_STATUS_ENUM_(name, code, msg) HELION_##name = code,
  HELION_STATUS_MAP(HELION_STATUS_ENUM_)
#undef HELION_STATUS_ENUM_
} helion_status;

/*
 * Returns a static, human-readable description of `status`; never NULL (an
 * unknown code gives "unknown status"). Thread-safe.
 */
HELION_EXTERN const char *helion_status_str(helion_status status);

/* The version of this library, "MAJOR.MINOR.PATCH". Static; thread-safe. */
HELION_EXTERN const char *helion_version(void);

#ifdef __cplusplus
}
#endif

#endif /* HELION_RUNTIME_H */
