/*
 * nvrtc_compile.h: compiles one CUDA C source for one architecture with NVRTC
 * into a cubin plus its PTX, the program log and the entry's resource usage.
 *
 * Every compile gets the same base options: --gpu-architecture=sm_XX (so a
 * cubin comes out, not only PTX), -std=c++17, -default-device, include paths
 * for the runtime's device helpers (helion/device.cuh) and for the CUDA
 * headers (cuda_fp16.h, cuda_bf16.h), and --ptxas-options=-v so that the log
 * reports registers, spills and shared memory. The caller adds the config's
 * options (helion_config_defines: "-DBLOCK=64\n-DHL_NUM_WARPS=4\n...").
 *
 * Include directories: the runtime headers come from $HELION_INCLUDE_DIR,
 * else <dir of the executable>/../include when it holds helion/device.cuh
 * (an installed tool),
 * else the build's HELION_RUNTIME_INCLUDE_DIR; the CUDA headers from
 * $HELION_CUDA_INCLUDE_DIR, else the build's HELION_CUDA_INCLUDE_DIR.
 *
 * Thread-safe: each call owns its NVRTC program; nothing is shared.
 *
 * (The file is not called nvrtc.h because tool/src is on the include path
 * and would then hide the toolkit's <nvrtc.h>.)
 */
#ifndef HELION_NVRTC_COMPILE_H
#define HELION_NVRTC_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* What one compile asks for. Only source, name and arch are required. */
typedef struct helion_nvrtc_input {
  const char *source; /* CUDA C text, NUL-terminated */
  const char *name;   /* file name NVRTC's log lines cite ("vector_add.cu") */
  const char *arch;   /* "sm_90", "sm_80", "sm_90a", ... */
  /* Extra options, one per line (the format of helion_config_defines);
   * blank lines are skipped. NULL for none. */
  const char *options;
  /* An extern "C" __global__ function that must be in the PTX; its
   * resource usage is parsed from the log. NULL skips both. */
  const char *entry;
} helion_nvrtc_input_t;

/* Resource usage of the entry as ptxas reported it. */
typedef struct helion_nvrtc_usage {
  bool known;           /* false when the log had no line for the entry */
  int registers;        /* per thread */
  int64_t smem_bytes;   /* static shared memory per block */
  int64_t stack_bytes;  /* stack frame per thread */
  int64_t spill_stores; /* bytes */
  int64_t spill_loads;  /* bytes */
} helion_nvrtc_usage_t;

/*
 * The outcome of one compile. Zero it (helion_nvrtc_result_init) before the
 * call; free what it holds with helion_nvrtc_result_cleanup().
 */
typedef struct helion_nvrtc_result {
  uint8_t *cubin; /* malloc'd */
  size_t cubin_size;
  char *ptx;       /* malloc'd, NUL-terminated */
  size_t ptx_size; /* excludes the NUL */
  char *log;       /* malloc'd, NUL-terminated; "" when NVRTC said nothing */
  helion_nvrtc_usage_t usage;
  double seconds; /* wall time of nvrtcCompileProgram */
} helion_nvrtc_result_t;

void helion_nvrtc_result_init(helion_nvrtc_result_t *r);
/* Frees everything r holds and zeroes it; accepts a zeroed result. */
void helion_nvrtc_result_cleanup(helion_nvrtc_result_t *r);

/*
 * Compiles in->source for in->arch with the base options plus in->options.
 *
 * On success fills *out (cubin, PTX, log, usage, seconds). Errors, all one
 * line in err:
 *   HELION_ERR_INVALID  arch is not "sm_<digits>[letter]", or source/name
 *                       missing: "arch 'x': expected sm_XX, e.g. sm_90";
 *   HELION_ERR_NVRTC    an NVRTC call failed; the message names the call,
 *                       carries nvrtcGetErrorString and the log's error lines
 *                       ("vector_add.cu: NVRTC compile for sm_90 failed
 *                       (NVRTC_ERROR_COMPILATION): vector_add.cu(12): error:
 *                       expected a \";\"");
 *   HELION_ERR_NOT_FOUND the entry is not in the PTX: "entry 'x' not found in
 *                       vector_add.cu; is it declared extern \"C\"
 * __global__?"; HELION_ERR_NOMEM, HELION_ERR_LIMIT (options over 1 MiB). One
 * exception to "out-parameters only on success": when the compile step itself
 * fails, out->log is set to NVRTC's full log (and nothing else), because that
 * log is what the user needs to see. Thread-safe.
 */
helion_status helion_nvrtc_compile(const helion_nvrtc_input_t *in,
                                   helion_nvrtc_result_t *out,
                                   helion_err_t *err);

/*
 * Parses ptxas' verbose lines for `entry` out of an NVRTC log:
 *   ptxas info    : Function properties for <entry>
 *   ptxas         .     0 bytes stack frame, 8 bytes spill stores, ...
 *   ptxas info    : Used 40 registers, used 1 barriers, 1024 bytes smem
 * Returns false (and leaves *out alone) when the log has no "Used N
 * registers" line for the entry.
 */
bool helion_nvrtc_parse_usage(const char *log, const char *entry,
                              helion_nvrtc_usage_t *out);

/* The target a spec compiles for on `arch` ("sm_90"): with `specific` (the
 * spec's "arch_specific") the architecture-specific one ("sm_90a"), else
 * `arch` itself. An arch that already ends in a letter is kept. */
void helion_nvrtc_target(const char *arch, bool specific, char *out,
                         size_t n);

/* True when the PTX text defines `.entry <name>` (or `.visible .entry`). */
bool helion_nvrtc_ptx_has_entry(const char *ptx, const char *name);

/* The first line of an NVRTC log that says "error" (at most 400 bytes),
 * else `fallback`, else "unknown error", into out[n]: what a failed
 * compile's one-line message quotes. */
void helion_nvrtc_first_error(const char *log, const char *fallback, char *out,
                              size_t n);

/* The include directories the compile uses (env override, else the build's
 * default). Static or environment strings; do not free. */
const char *helion_nvrtc_runtime_include_dir(void);
const char *helion_nvrtc_cuda_include_dir(void);

/* NVRTC's version ("13.0") into out. HELION_ERR_NVRTC if it cannot say. */
helion_status helion_nvrtc_version(int *out_major, int *out_minor,
                                   helion_err_t *err);

#endif /* HELION_NVRTC_COMPILE_H */
