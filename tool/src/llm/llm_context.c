/*
 * llm_context.c: the context an LLM prompt is built from, read off a spec
 * (name, source text, arguments, shape) and a device's properties. `tune`
 * and `simulate --spec` both build it here, so the prompts of a real tune
 * and of a simulated one describe a kernel the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"
#include "model/arch.h"
#include "model/expr.h"
#include "model/spec.h"

/* "A: const __half* [M*K], ..., M: int = M": each argument's type and, for
 * a pointer, its element count; for a scalar, the value passed (spec
 * expressions over the shape keys, which the shape line gives values). */
static char *signature_of(const helion_spec_t *sp) {
  helion_buf_t t;
  helion_buf_init(&t, 64 << 10);
  for (size_t i = 0; i < sp->nargs; i++) {
    const helion_spec_arg_t *a = &sp->args[i];
    helion_buf_appendf(&t, "%s%s: %s", i ? ", " : "", a->name, a->type);
    if (a->is_pointer && a->numel)
      helion_buf_appendf(&t, " [%s]", helion_expr_text(a->numel));
    else if (!a->is_pointer && a->value)
      helion_buf_appendf(&t, " = %s", helion_expr_text(a->value));
  }
  return helion_buf_take(&t);
}

void helion_llm_context_init(const helion_spec_t *spec, const int64_t *shape,
                             const helion_device_props_t *dev,
                             const helion_space_t *space,
                             helion_llm_context_t *ctx,
                             helion_llm_context_text_t *text) {
  helion_buf_t t;
  helion_err_t ignored;
  size_t len;
  memset(ctx, 0, sizeof(*ctx));
  memset(text, 0, sizeof(*text));
  ctx->space = space;
  if (spec) {
    ctx->kernel_name = spec->name;
    if (spec->source && helion_read_file(spec->source, 64 << 10, &text->source,
                                         &len, &ignored))
      text->source = NULL;
    text->signature = signature_of(spec);
    if (shape) {
      helion_buf_init(&t, 4096);
      helion_spec_shape_str(spec, shape, &t);
      text->shape = helion_buf_take(&t);
    }
  }
  if (dev) {
    helion_buf_init(&t, 1024);
    helion_buf_appendf(&t,
                       "%s, sm_%d%d, %lld SMs, %lld KiB shared memory per "
                       "block, %lld registers per SM",
                       dev->name, dev->cc_major, dev->cc_minor,
                       (long long)dev->num_sms,
                       (long long)(dev->smem_per_block >> 10),
                       (long long)dev->regs_per_sm);
    text->device = helion_buf_take(&t);
  }
  ctx->source = text->source;
  ctx->signature = text->signature;
  ctx->shape = text->shape;
  ctx->device = text->device;
}

void helion_llm_context_cleanup(helion_llm_context_text_t *text) {
  if (!text)
    return;
  free(text->source);
  free(text->signature);
  free(text->shape);
  free(text->device);
  memset(text, 0, sizeof(*text));
}
