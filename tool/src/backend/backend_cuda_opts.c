/*
 * backend_cuda_opts.c: the GPU backend's options from the environment
 * (helion_backend_cuda_opts_init) and --devices (see backend_cuda.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "backend/backend_cuda.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_BENCH_TIMEOUT_S 30.0

static helion_status env_flag_default(const char *name, bool dflt, bool *out,
                                      helion_err_t *err) {
  const char *v = getenv(name);
  if (!v || !v[0]) {
    *out = dflt;
    return HELION_OK;
  }
  if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on") ||
      !strcmp(v, "yes")) {
    *out = true;
    return HELION_OK;
  }
  if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "off") ||
      !strcmp(v, "no")) {
    *out = false;
    return HELION_OK;
  }
  return helion_err_set(err, HELION_ERR_USAGE,
                        "%s='%s': expected 1 or 0 (on or off)", name, v);
}

helion_status helion_backend_cuda_opts_init(helion_backend_cuda_opts_t *o,
                                            helion_err_t *err) {
  memset(o, 0, sizeof(*o));
  o->bench_timeout_s = DEFAULT_BENCH_TIMEOUT_S;
  o->slow_cutoff = 2.0;
  helion_status rc = helion_compile_pool_opts_init(&o->pool, err);
  if (rc)
    return rc;
  if ((rc = env_flag_default("HELION_AUTOTUNE_ADAPTIVE_TIMEOUT", true,
                             &o->adaptive_timeout, err)) ||
      (rc = env_flag_default("HELION_AUTOTUNE_EARLY_STOP", true, &o->early_stop,
                             err)) ||
      (rc = env_flag_default("HELION_AUTOTUNE_ACCURACY_CHECK", true,
                             &o->accuracy_check, err)))
    return rc;
  double x;
  bool ok;
  const char *v =
      helion_env_number("HELION_AUTOTUNE_BENCHMARK_TIMEOUT", &x, &ok);
  if (v) {
    if (!ok || !(x > 0) || !isfinite(x))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_BENCHMARK_TIMEOUT='%s': expected "
                            "positive seconds, e.g. 30",
                            v);
    o->bench_timeout_s = x;
  }
  v = getenv("HELION_BENCH_WORKER");
  if (v && v[0]) {
    if (access(v, X_OK) != 0)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_BENCH_WORKER='%s': not an executable "
                            "file (%s); unset it to use helion-tune itself",
                            v, strerror(errno));
    o->worker_exe = v;
  }
  if ((v = helion_env_number("HELION_AUTOTUNE_REBENCH_PRECISION", &x, &ok))) {
    if (!ok || !(x >= 0) || !(x < 1))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_REBENCH_PRECISION='%s': expected "
                            "a relative error in [0, 1), e.g. 0.005 (0 turns "
                            "the early stop off)",
                            v);
    /* runner.h: 0 means the default, < 0 off. */
    o->rebench_precision = x > 0 ? x : -1;
  }
  if ((v = helion_env_number("HELION_AUTOTUNE_SLOW_CUTOFF", &x, &ok))) {
    if (!ok || !(x == 0 || (x >= 1.5 && isfinite(x))))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_SLOW_CUTOFF='%s': expected 0 "
                            "(off) or a factor >= 1.5 (above the "
                            "rebenchmark threshold), e.g. 2",
                            v);
    o->slow_cutoff = x;
  }
  if ((v = helion_env_number("HELION_AUTOTUNE_DUTY_CYCLE", &x, &ok))) {
    if (!ok || !(x >= 0.1 && x <= 1))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_DUTY_CYCLE='%s': expected the "
                            "share of the timing the GPU works, in [0.1, 1], "
                            "e.g. 0.5 (1: no rests, back to back)",
                            v);
    o->duty = x;
  }
  return HELION_OK;
}

helion_status helion_backend_cuda_parse_devices(const char *text,
                                                helion_backend_cuda_opts_t *o,
                                                helion_err_t *err) {
  if (!strcmp(text, "all")) {
    o->all_devices = true;
    o->ndevices = 0;
    o->device = 0;
    return HELION_OK;
  }
  size_t n = 0;
  const char *p = text;
  for (;;) {
    char *end = NULL;
    errno = 0;
    long v = (*p >= '0' && *p <= '9') ? strtol(p, &end, 10) : -1;
    if (v < 0 || errno || v > 1024 || (*end != ',' && *end != '\0'))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "--devices: '%s' is not 'all' or a list of "
                            "device ordinals such as 0,1",
                            text);
    for (size_t i = 0; i < n; i++)
      if (o->devices[i] == (int)v)
        return helion_err_set(err, HELION_ERR_USAGE,
                              "--devices: '%s' names GPU %ld twice", text, v);
    if (n == HELION_CUDA_MAX_DEVICES)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "--devices: '%s' names more than %d GPUs", text,
                            HELION_CUDA_MAX_DEVICES);
    o->devices[n++] = (int)v;
    if (*end == '\0')
      break;
    p = end + 1;
  }
  o->ndevices = n;
  o->all_devices = false;
  o->device = o->devices[0];
  return HELION_OK;
}
