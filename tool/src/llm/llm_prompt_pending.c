/*
 * llm_prompt_pending.c: TEMPORARY placeholders for the prompt builders of
 * llm.h until branch llm-prompt delivers llm_prompt.c (then this file is
 * deleted in the merge). Minimal texts: enough for the searches and their
 * tests, nothing the real prompts promise.
 */
#include "llm/llm.h"

const char *helion_llm_system_prompt(void) {
  return "You tune GPU kernel configurations. Answer with minified JSON "
         "only: {\"configs\":[...]}.";
}

helion_status helion_llm_prompt_initial(const helion_llm_context_t *ctx,
                                        const helion_llm_state_t *state,
                                        helion_buf_t *out, helion_err_t *err) {
  (void)err;
  return helion_buf_appendf(out,
                            "## Kernel\n%s\n\n## GPU Hardware\n  Device: %s\n\n"
                            "## Task\nSuggest up to %zu configs.",
                            ctx->kernel_name ? ctx->kernel_name : "kernel",
                            ctx->device ? ctx->device : "unknown",
                            state->configs_per_round);
}

helion_status helion_llm_prompt_refine(const helion_llm_context_t *ctx,
                                       const helion_llm_state_t *state,
                                       helion_buf_t *out, helion_err_t *err) {
  (void)ctx;
  (void)err;
  return helion_buf_appendf(out,
                            "## Search State\n  Round %zu of %zu, %zu configs "
                            "tested, best %.4f ms\n\n## Task\nSuggest up to "
                            "%zu new configs.",
                            state->round, state->max_rounds,
                            state->configs_tested, state->best_ms,
                            state->configs_per_round);
}
