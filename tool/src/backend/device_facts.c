/*
 * device_facts.c: the GPU and software facts a tuning result depends on,
 * read from the driver without a context (see device_facts.h).
 */
#include "backend/device_facts.h"

#include <stdio.h>
#include <string.h>

#include "backend/nvrtc_compile.h"
#include "cuda_driver.h"

static helion_status cu_fail(const helion_cuda_driver_t *drv, CUresult res,
                             const char *what, helion_err_t *err) {
  char d[512];
  helion_cuda_describe(drv, res, d, sizeof(d));
  return helion_err_set(err, HELION_ERR_CUDA, "%s: %s", what, d);
}

helion_status helion_device_facts_query(int ordinal, helion_device_facts_t *out,
                                        helion_err_t *err) {
  helion_status rc;
  char msg[512] = "";
  const helion_cuda_driver_t *drv = NULL;
  helion_device_facts_t f;
  CUdevice dev;
  CUresult res;
  int count = 0;
  memset(&f, 0, sizeof(f));
  /* cuInit happens here, once per process; it creates no context, so a
   * later benchmark worker (another process) is unaffected. */
  if ((rc = helion_cuda_driver(&drv, msg, sizeof(msg))))
    return helion_err_set(err, rc, "%s", msg);
  if ((res = drv->cuDeviceGetCount(&count)))
    return cu_fail(drv, res, "cuDeviceGetCount", err);
  if (count == 0)
    return helion_err_set(err, HELION_ERR_NO_DRIVER,
                          "no CUDA device found: the driver loaded but "
                          "reports 0 devices; check nvidia-smi and "
                          "CUDA_VISIBLE_DEVICES");
  if (ordinal < 0 || ordinal >= count)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "CUDA device %d does not exist (%d visible); pick "
                          "0..%d",
                          ordinal, count, count - 1);
  if ((res = drv->cuDeviceGet(&dev, ordinal)))
    return cu_fail(drv, res, "cuDeviceGet", err);
  if ((res =
           drv->cuDeviceGetName(f.props.name, (int)sizeof(f.props.name), dev)))
    return cu_fail(drv, res, "cuDeviceGetName", err);
  /* The same attributes the benchmark worker reads (runner.c), so a space
   * built from these facts equals the one a tune builds. */
  static const struct {
    CUdevice_attribute attr;
    const char *name;
  } attrs[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability"},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability"},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count"},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
       "shared memory per block"},
      {CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR,
       "registers per SM"},
  };
  int v[5];
  for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
    if ((res = drv->cuDeviceGetAttribute(&v[i], attrs[i].attr, dev))) {
      char what[96];
      snprintf(what, sizeof(what), "cuDeviceGetAttribute(%s)", attrs[i].name);
      return cu_fail(drv, res, what, err);
    }
  }
  f.props.cc_major = v[0];
  f.props.cc_minor = v[1];
  f.props.num_sms = v[2];
  f.props.smem_per_block = v[3];
  f.props.regs_per_sm = v[4];
  f.ordinal = ordinal;
  f.driver_version = drv->driver_version;
  if ((rc = helion_nvrtc_version(&f.nvrtc_major, &f.nvrtc_minor, err)))
    return rc;
  *out = f;
  return HELION_OK;
}

helion_status helion_device_facts_from_gpu(const helion_gpu_info_t *gpu,
                                           helion_device_facts_t *out,
                                           helion_err_t *err) {
  helion_device_facts_t f;
  memset(&f, 0, sizeof(f));
  f.props = gpu->props;
  f.ordinal = gpu->ordinal;
  f.driver_version = gpu->driver_version;
  helion_status rc = helion_nvrtc_version(&f.nvrtc_major, &f.nvrtc_minor, err);
  if (rc)
    return rc;
  *out = f;
  return HELION_OK;
}

cJSON *helion_device_facts_to_json(const helion_device_facts_t *f) {
  char cc[32], drv[32], nvrtc[32];
  snprintf(cc, sizeof(cc), "%d.%d", f->props.cc_major, f->props.cc_minor);
  /* cuDriverGetVersion encodes 1000 * major + 10 * minor. */
  snprintf(drv, sizeof(drv), "%d.%d", f->driver_version / 1000,
           (f->driver_version % 1000) / 10);
  snprintf(nvrtc, sizeof(nvrtc), "%d.%d", f->nvrtc_major, f->nvrtc_minor);
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "name", f->props.name) ||
      !cJSON_AddStringToObject(o, "compute_capability", cc) ||
      !cJSON_AddNumberToObject(o, "sm_count", (double)f->props.num_sms) ||
      !cJSON_AddStringToObject(o, "driver_version", drv) ||
      !cJSON_AddStringToObject(o, "nvrtc_version", nvrtc)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
