/*
 * arch.h: the properties of a device that spec expressions see (num_sms,
 * smem_per_block, ...), and the values assumed for an architecture when no
 * GPU is asked (check, space).
 */
#ifndef HELION_ARCH_H
#define HELION_ARCH_H

#include <stdint.h>

#include "util/util.h"

typedef struct helion_device_props {
  char name[256];
  int cc_major, cc_minor;
  int64_t num_sms;
  int64_t smem_per_block; /* opt-in maximum, bytes */
  int64_t regs_per_sm;
} helion_device_props_t;

/* Properties assumed for an architecture when no GPU is asked (check,
 * space): sm_90 gives an H100-class part (132 SMs, 227 KiB shared memory per
 * block, 65536 registers). HELION_ERR_INVALID for an unknown "sm_XX". */
helion_status helion_device_props_for_arch(const char *arch,
                                           helion_device_props_t *out,
                                           helion_err_t *err);

/* Names of device properties as expressions see them, in the order
 * helion_spec_device_values() writes them. */
#define HELION_DEVICE_PROP_NAMES                                               \
  "num_sms", "smem_per_block", "regs_per_sm", "cc_major", "cc_minor"
#define HELION_DEVICE_PROP_COUNT 5

#endif /* HELION_ARCH_H */
