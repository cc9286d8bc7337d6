/* arch.c: the device properties assumed for an architecture when no GPU
 * is asked (check, space). */
#include "model/arch.h"

#include <stdio.h>
#include <string.h>

/* --------------------------------------------------------- device table */

static const struct {
  int arch; /* major * 10 + minor */
  int64_t num_sms;
  int64_t smem_per_block;
  const char *part; /* the part the numbers are taken from */
} arch_table[] = {
    {70, 80, 98304, "V100"},        {72, 8, 98304, "Xavier"},
    {75, 40, 65536, "T4"},          {80, 108, 166912, "A100"},
    {86, 82, 101376, "RTX 3090"},   {87, 16, 166912, "Orin"},
    {89, 128, 101376, "RTX 4090"},  {90, 132, 232448, "H100"},
    {100, 148, 232448, "B200"},     {103, 148, 232448, "B300"},
    {120, 170, 101376, "RTX 5090"}, {121, 48, 101376, "GB10"},
};

helion_status helion_device_props_for_arch(const char *arch,
                                           helion_device_props_t *out,
                                           helion_err_t *err) {
  char known[256] = "";
  size_t n = sizeof(arch_table) / sizeof(arch_table[0]);
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(known);
    snprintf(known + used, sizeof(known) - used, "%ssm_%d", i ? ", " : "",
             arch_table[i].arch);
  }
  if (!arch || !out)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "helion_device_props_for_arch: no architecture");
  /* "sm_90", "sm_90a" and "sm_100f" name the same table row. */
  const char *p = arch;
  int num = 0, digits = 0;
  if (strncmp(p, "sm_", 3) == 0) {
    for (p += 3; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
      num = num * 10 + (*p - '0');
    if (*p == 'a' || *p == 'f')
      p++;
  }
  for (size_t i = 0; digits >= 2 && *p == '\0' && i < n; i++) {
    if (arch_table[i].arch != num)
      continue;
    helion_device_props_t d;
    memset(&d, 0, sizeof(d));
    snprintf(d.name, sizeof(d.name), "%.32s (assumed)", arch);
    d.cc_major = num / 10;
    d.cc_minor = num % 10;
    d.num_sms = arch_table[i].num_sms;
    d.smem_per_block = arch_table[i].smem_per_block;
    d.regs_per_sm = 65536;
    *out = d;
    return HELION_OK;
  }
  char shown[48];
  size_t k = 0;
  for (const char *q = arch; *q && k < 40; q++)
    shown[k++] = (*q >= 0x20 && *q < 0x7f && *q != '\'') ? *q : '?';
  shown[k] = '\0';
  return helion_err_set(err, HELION_ERR_INVALID,
                        "unknown architecture '%s'; use one of %s", shown,
                        known);
}
