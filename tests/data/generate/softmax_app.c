/*
 * softmax_app.c: a program built against a generated softmax_tuned.h (from
 * softmax.tuned.json) and the runtime library; test_generate.sh compiles
 * and runs it. It checks what helion_softmax_choose picks for a table of
 * shapes and fake devices, the explain text, and that the launcher fails
 * cleanly without a driver. Exit 0 when everything matches, else 1 with the reasons.
 */
#define HELION_IMPLEMENTATION
#include "softmax_tuned.h"

#include <stdio.h>
#include <string.h>

#define H100 "NVIDIA H100 80GB HBM3"
#define CFG_DEFAULT "{\"block_sizes\":[1024]}"
#define CFG_4096 "{\"ROWS_PER_BLOCK\":2,\"block_sizes\":[512],\"num_warps\":8}"
#define CFG_256 "{\"ROWS_PER_BLOCK\":2,\"block_sizes\":[256],\"num_warps\":2}"
#define CFG_PERSIST                                                            \
  "{\"block_sizes\":[4096],\"num_warps\":16,\"pid_type\":\"persistent_blocked\"}"
#define BIG ((int64_t)1 << 40)

typedef struct row {
  const char *what, *dev;
  int major, minor;
  int64_t m, n;
  helion_pick pick;
  helion_rung rung;
  const char *config; /* NULL: no config (HELION_PICK_NONE) */
  unsigned skipped;
} row;

static const row rows[] = {
    {"exact", H100, 9, 0, 4096, 1024, HELION_PICK_EXACT, HELION_RUNG_DEVICE,
     CFG_4096, 0},
    {"nearest", H100, 9, 0, 4000, 1000, HELION_PICK_NEAREST,
     HELION_RUNG_DEVICE, CFG_4096, 0},
    /* 2^40 rows: the two nearer entries' grids exceed CUDA's limit; the
     * persistent config folds them. */
    {"nearest illegal -> next", H100, 9, 0, BIG, 1024, HELION_PICK_NEAREST,
     HELION_RUNG_DEVICE, CFG_PERSIST, 2},
    {"same cc, other name", "NVIDIA H100 PCIe", 9, 0, 4096, 1024,
     HELION_PICK_EXACT, HELION_RUNG_CC, CFG_4096, 0},
    {"older minor", "NVIDIA A40", 8, 6, 4096, 1024, HELION_PICK_EXACT,
     HELION_RUNG_OLDER_CC, CFG_DEFAULT, 0},
    {"unknown device -> default", "Tesla T4", 7, 5, 4096, 1024,
     HELION_PICK_DEFAULT, HELION_RUNG_DEFAULT, CFG_DEFAULT, 0},
    {"unknown device, shape no config runs", "Tesla T4", 7, 5, BIG, 1024,
     HELION_PICK_NONE, HELION_RUNG_DEFAULT, NULL, 0},
    {"M=0: no grid", H100, 9, 0, 0, 1024, HELION_PICK_NONE, HELION_RUNG_DEVICE,
     NULL, 3},
    {"M=INT64_MAX: cdiv overflows", H100, 9, 0, INT64_MAX, 1024,
     HELION_PICK_NONE, HELION_RUNG_DEVICE, NULL, 3},
    /* log2(max(v, 1)): N=-5 is as far as N=1 (16384x256 is nearest). */
    {"N<0 is a key only", H100, 9, 0, 4096, -5, HELION_PICK_NEAREST,
     HELION_RUNG_DEVICE, CFG_256, 0},
};

static helion_device_t device(const char *name, int major, int minor) {
  helion_device_t d;
  memset(&d, 0, sizeof(d));
  snprintf(d.name, sizeof(d.name), "%s", name);
  d.cc_major = major;
  d.cc_minor = minor;
  d.num_sms = 132;
  d.smem_per_block = 232448;
  d.regs_per_sm = 65536;
  return d;
}

static int check_row(const row *r) {
  helion_device_t d = device(r->dev, r->major, r->minor);
  helion_choice_t c;
  helion_status rc = helion_softmax_choose(&d, r->m, r->n, &c);
  const char *got = c.config >= 0 ? helion_softmax_desc.configs[c.config].text
                                  : NULL;
  int ok = c.pick == r->pick && c.rung == r->rung &&
           c.skipped_illegal == r->skipped &&
           (r->config ? rc == HELION_OK && got && !strcmp(got, r->config)
                      : rc != HELION_OK && c.config == -1 &&
                            strstr(helion_last_error(),
                                   "softmax: no config can run shape"));
  if (!ok)
    printf("FAIL %s: pick %d rung %d skipped %u config %s rc %d (%s)\n",
           r->what, c.pick, c.rung, c.skipped_illegal, got ? got : "none",
           rc, helion_last_error());
  return ok;
}

static int check_explain(void) {
  helion_device_t d = device(H100, 9, 0);
  char buf[4096];
  int n = helion_softmax_explain_on(&d, BIG, 1024, buf, sizeof(buf));
  int ok = n == (int)strlen(buf) &&
           strstr(buf, "pick: nearest tuned shape M=1024,N=4096") &&
           strstr(buf, "passed over: tuned shape M=4096,N=1024") &&
           strstr(buf, "launch.tiles[0] 'cdiv(M, ROWS_PER_BLOCK)' is "
                       "549755813888; allowed: 1..2147483647") &&
           strstr(buf, "config 1: " CFG_PERSIST);
  if (!ok)
    printf("FAIL explain:\n%s", buf);
  return ok;
}

int main(void) {
  int ok = 1;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    ok &= check_row(&rows[i]);
  ok &= check_explain();
  ok &= strstr(helion_softmax_provenance, "spec: softmax.json\n") != NULL;
  /* HELION_LIBCUDA_PATH=/nonexistent: the launcher must fail, not crash. */
  helion_status rc = helion_softmax(NULL, NULL, NULL, 4096, 1024);
  if (rc == HELION_OK || !strstr(helion_last_error(), "no CUDA driver found")) {
    printf("FAIL launch without a driver: rc %d, '%s'\n", rc,
           helion_last_error());
    ok = 0;
  }
  puts(ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
