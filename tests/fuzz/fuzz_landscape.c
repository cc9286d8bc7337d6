/*
 * fuzz_landscape.c: libFuzzer target for the landscape readers (Kernel
 * Tuner's cache format and T4, plain or gzipped: the reader tells them apart
 * by content). Every input goes through helion_sim_load_buffer; one that
 * loads is then used the way simulate uses it (the optimum and its record,
 * the random-sampling baseline, a bench and a rebench of the optimum), so
 * those paths see fuzzed landscapes too.
 *
 * Size caps: inputs over 256 KiB are skipped and text is capped at 8 MiB
 * unpacked (the reader refuses more, as it refuses 256 MiB for real), so a
 * gzip bomb costs the fuzzer at most a few hundred MiB of cJSON tree.
 *
 * Besides ASan/UBSan findings, it aborts when an error message is empty or
 * spans more than one line, when a loaded landscape's optimum is not a
 * finite time > 0, or when a ratio the baseline gives is NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT ((size_t)256 << 10)
#define MAX_TEXT ((size_t)8 << 20)

/* What simulate does with a landscape it loaded. */
static void use(helion_sim_t *sim) {
  const helion_space_t *sp = helion_sim_space(sim);
  int64_t *cells = calloc(sp->ncells ? sp->ncells : 1, sizeof(int64_t));
  if (!cells)
    abort();
  double opt = helion_sim_optimum(sim, cells);
  if (!(opt > 0) || !isfinite(opt))
    abort();
  helion_sim_record_t r;
  if (!helion_sim_lookup(sim, cells, &r) || r.kind != HELION_RESULT_OK)
    abort();
  helion_err_t err;
  double ratio;
  size_t n = helion_sim_valid_count(sim);
  if (helion_sim_random_expectation(sim, n < 3 ? 1 : n / 3, 0.5, &ratio,
                                    &err) != HELION_OK ||
      isnan(ratio) || ratio < 1)
    abort();
  if (isnan(helion_sim_random_within(sim, 5, 1.05)))
    abort();
  helion_backend_t *b = helion_sim_backend(sim);
  helion_bench_result_t res;
  double ms;
  if (b->vt->bench(b, cells, 1, &res, &err) != HELION_OK ||
      b->vt->rebench(b, cells, 1, 100.0, &ms, &err) != HELION_OK ||
      !(ms > 0) || !isfinite(ms))
    abort();
  free(cells);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT)
    return 0;
  helion_sim_t *sim = NULL;
  helion_err_t err = {{0}};
  helion_sim_opts_t opts = {size % 2 == 0, size};
  helion_status rc = helion_sim_load_buffer("fuzz.json", data, size, MAX_TEXT,
                                            &opts, &sim, &err);
  if (rc == HELION_OK) {
    use(sim);
    helion_sim_destroy(sim);
  } else if (err.msg[0] == '\0' || strchr(err.msg, '\n')) {
    abort();
  }
  return 0;
}
