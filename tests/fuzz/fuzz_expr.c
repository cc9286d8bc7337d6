/*
 * fuzz_expr.c: libFuzzer target for the expression language. Any input is
 * parsed (as a NUL-terminated copy) against a small scope, evaluated with two
 * sets of slot values, printed as C with and without a slot-name callback,
 * and freed; the sanitizers catch crashes, overflow and leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/expr.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"M", "N", "BLOCK_M", "x", "zero"};

static const char *slot_name(void *ud, size_t slot) {
  (void)ud;
  static const char *const printed[] = {"s->M", "s->N", "s->BLOCK_M", "s->x",
                                        "s->zero"};
  return printed[slot];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const helion_expr_scope_t scope = {names, 5};
  const helion_num_t slots[2][5] = {
      {helion_num_int(4096), helion_num_int(-7), helion_num_int(64),
       helion_num_float(0.5), helion_num_int(0)},
      {helion_num_int(INT64_MAX), helion_num_int(INT64_MIN),
       helion_num_int(-1), helion_num_float(-1e308), helion_num_float(0.0)},
  };
  helion_expr_t *e = NULL;
  helion_err_t err = {{0}};
  helion_buf_t out;
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  helion_buf_init(&out, (size_t)4 << 20);
  if (helion_expr_parse(text, &scope, &e, &err) == HELION_OK) {
    for (int s = 0; s < 2; s++) {
      helion_num_t v;
      (void)helion_expr_eval(e, slots[s], &v, &err);
    }
    (void)helion_expr_uses(e, 2);
    if (strcmp(helion_expr_text(e), text) != 0)
      abort();
    (void)helion_expr_to_c(e, &out, NULL, NULL);
    helion_buf_reset(&out);
    (void)helion_expr_to_c(e, &out, slot_name, NULL);
    helion_expr_destroy(e);
  } else if (err.msg[0] == '\0' || strchr(err.msg, '\n')) {
    abort(); /* every failure explains itself in one line */
  }
  helion_buf_cleanup(&out);
  free(text);
  return 0;
}
