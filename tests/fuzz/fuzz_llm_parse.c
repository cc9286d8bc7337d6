/*
 * fuzz_llm_parse.c: libFuzzer target for the parsing of a model's reply.
 * Every input, as text, goes through helion_llm_parse on a small space
 * (block sizes, num_warps, an enum, a restriction); every config it returns
 * must be valid in that space, the counts must add up, and the reason of a
 * rejection must be one NUL-ended line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"
#include "model/space.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static helion_space_t *space;

static helion_param_t param(const char *key, int index, const char *name,
                            helion_frag_kind kind, int64_t lo, int64_t hi,
                            int64_t d) {
  helion_param_t p;
  memset(&p, 0, sizeof(p));
  p.key = (char *)key;
  p.index = index;
  p.name = (char *)name;
  p.frag.kind = kind;
  p.frag.low = lo;
  p.frag.high = hi;
  p.frag.dflt = d;
  p.frag.length = 1;
  return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  static helion_value_t choices[3] = {{HELION_VALUE_STR, 0, 0, "flat"},
                                      {HELION_VALUE_STR, 0, 0, "persistent"},
                                      {HELION_VALUE_NULL, 0, 0, NULL}};
  helion_param_t ps[4] = {
      param("block_sizes", 0, "BLOCK_M", HELION_FRAG_POW2, 16, 256, 64),
      param("block_sizes", 1, "BLOCK_N", HELION_FRAG_POW2, 16, 256, 64),
      param("num_warps", -1, "num_warps", HELION_FRAG_POW2, 1, 32, 4),
      param("mode", -1, "mode", HELION_FRAG_ENUM, 0, 0, 0),
  };
  ps[0].role = ps[1].role = HELION_ROLE_BLOCK_SIZE;
  ps[2].role = HELION_ROLE_NUM_WARPS;
  ps[3].frag.choices = choices;
  ps[3].frag.nchoices = 3;
  const char *restr[1] = {"BLOCK_M * BLOCK_N <= 256 * 32 * num_warps"};
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = ps;
  o.nparams = 4;
  o.restrictions = restr;
  o.nrestrictions = 1;
  if (helion_space_create(&o, &space, NULL))
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  helion_llm_parsed_t p;
  size_t max = size ? data[0] % 8 : 3;
  if (helion_llm_parse(space, text, max, &p, NULL) == HELION_OK) {
    if (p.nconfigs > max || (p.nconfigs && !p.cells))
      abort();
    for (size_t i = 0; i < p.nconfigs; i++)
      if (!helion_space_valid(space, p.cells + i * space->ncells))
        abort();
    if (p.rejected && (!p.why[0] || strchr(p.why, '\n')))
      abort();
    if (!p.rejected && p.why[0])
      abort();
  }
  helion_llm_parsed_cleanup(&p);
  free(text);
  return 0;
}
