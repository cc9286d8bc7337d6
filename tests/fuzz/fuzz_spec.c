/*
 * fuzz_spec.c: libFuzzer target for the kernel spec parser. Every input goes
 * through helion_spec_parse; one that parses is then used the way the tool
 * uses a spec (scope values, a shape string, the space of its first shape on
 * an assumed sm_90), so those paths see fuzzed specs too.
 *
 * The source-exists check: the spec's path lies in a temporary directory
 * that holds a real "k.cu", and the seeds name it, so inputs can parse all
 * the way. The parser also checks the source last, so inputs naming any
 * other file still reach every other check before failing there.
 *
 * Besides ASan/UBSan findings, it aborts when an error message is empty or
 * spans more than one line (messages are one line by contract).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char spec_path[128];
static char cu_path[128];

static void cleanup(void) {
  unlink(cu_path);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  snprintf(dir, sizeof(dir), "/tmp/helion_fuzz_spec.XXXXXX");
  if (!mkdtemp(dir))
    abort();
  snprintf(cu_path, sizeof(cu_path), "%s/k.cu", dir);
  snprintf(spec_path, sizeof(spec_path), "%s/k.json", dir);
  FILE *f = fopen(cu_path, "w");
  if (!f)
    abort();
  fputs("extern \"C\" __global__ void k() {}\n", f);
  fclose(f);
  atexit(cleanup);
  return 0;
}

static void check_message(const helion_err_t *err) {
  if (!err->msg[0] || strchr(err->msg, '\n'))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  helion_spec_t *s = NULL;
  helion_err_t err;
  err.msg[0] = '\0';
  if (helion_spec_parse((const char *)data, size, spec_path, &s, &err)) {
    check_message(&err);
    return 0;
  }
  helion_device_props_t dev;
  if (helion_device_props_for_arch("sm_90", &dev, &err))
    abort();
  helion_num_t *vals = calloc(s->nscope + 1, sizeof(*vals));
  if (!vals)
    abort();
  helion_spec_scope_values(s, s->shapes, &dev, vals);
  free(vals);

  /* The first shape written back as "M=1,N=2" must parse to itself. */
  char text[4096];
  size_t used = 0;
  text[0] = '\0';
  for (size_t i = 0; i < s->nkeys && used < sizeof(text); i++)
    used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s=%lld",
                             i ? "," : "", s->keys[i],
                             (long long)s->shapes[i]);
  int64_t shape[64];
  if (used < sizeof(text)) {
    if (helion_spec_parse_shape(s, text, shape, &err))
      abort();
    if (s->nkeys && memcmp(shape, s->shapes, s->nkeys * sizeof(int64_t)))
      abort();
  }

  helion_space_t *sp = NULL;
  if (helion_spec_space(s, s->shapes, &dev, &sp, &err))
    check_message(&err);
  else
    helion_space_destroy(sp);
  helion_spec_destroy(s);
  return 0;
}
