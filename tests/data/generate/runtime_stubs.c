/*
 * runtime_stubs.c: stand-ins for the runtime functions a generated launcher
 * calls (helion_enter, helion_current_device, helion_miss, helion_launch)
 * while the runtime library does not have them yet (no
 * runtime/src/launch.c); test_generate.sh links them only then. The
 * dispatcher functions under test are the library's own.
 */
#include "helion/runtime.h"

helion_status helion_enter(const helion_kernel_desc_t *k,
                           helion_kernel_state_t *st, helion_call_t *out) {
  (void)k, (void)st, (void)out;
  return helion_fail(HELION_ERR_UNSUPPORTED, "stub");
}
helion_status helion_current_device(const helion_device_t **out) {
  (void)out;
  return helion_fail(HELION_ERR_UNSUPPORTED, "stub");
}
void helion_miss(const helion_kernel_desc_t *k, helion_kernel_state_t *st,
                 const helion_call_t *call, const int64_t *key,
                 const helion_choice_t *c) {
  (void)k, (void)st, (void)call, (void)key, (void)c;
}
helion_status helion_launch(const helion_kernel_desc_t *k,
                            const helion_call_t *call, int config,
                            const uint32_t grid[3], const uint32_t block[3],
                            uint32_t smem, void *stream, void **args) {
  (void)k, (void)call, (void)config, (void)grid, (void)block, (void)smem;
  (void)stream, (void)args;
  return helion_fail(HELION_ERR_UNSUPPORTED, "stub");
}
