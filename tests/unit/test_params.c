/*
 * test_params.c: the standard parameter table: a table of fake rows flows
 * through spec parsing, the space (order, normalize rule), the -D options and
 * the launch grid with no other code knowing the rows; the built-in rows'
 * codes are the ones device.cuh defines; the persistent grid follows a
 * choice's code, not its position in the spec.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/config.h"
#include "model/launch.h"
#include "model/params.h"
#include "model/spec.h"
#include "util/util.h"

/* ------------------------------------------------------------ fixtures */

typedef struct world {
  helion_spec_t *spec;
  helion_space_t *space;
  helion_device_props_t dev;
  int64_t shape;
  helion_num_t scope[64];
} world;

static void open_world(world *w, const char *text, int64_t n) {
  helion_err_t err = {""};
  memset(w, 0, sizeof(*w));
  w->shape = n;
  if (helion_spec_parse(text, strlen(text), "k.json", &w->spec, &err))
    fail_msg("spec: %s", err.msg);
  assert_int_equal(helion_device_props_for_arch("sm_90", &w->dev, &err), 0);
  if (helion_spec_space(w->spec, &w->shape, &w->dev, &w->space, &err))
    fail_msg("space: %s", err.msg);
  assert_true(w->spec->nscope <= 64);
}

static void close_world(world *w) {
  helion_space_destroy(w->space);
  helion_spec_destroy(w->spec);
}

static helion_launch_t launch_of(world *w, const int64_t *cells) {
  helion_err_t err = {""};
  helion_launch_t l;
  helion_launch_scope(w->spec, w->space, &w->shape, &w->dev, cells, w->scope);
  if (helion_launch_eval(w->spec, w->scope, &l, &err))
    fail_msg("launch: %s", err.msg);
  return l;
}

static void set_choice(world *w, int64_t *cells, const char *key,
                       const char *choice) {
  int slot = helion_space_find(w->space, key);
  assert_true(slot >= 0);
  const helion_frag_t *f = &w->space->params[slot].frag;
  for (size_t j = 0; j < f->nchoices; j++) {
    if (f->choices[j].kind == HELION_VALUE_STR &&
        strcmp(f->choices[j].s, choice) == 0) {
      cells[w->space->cell_off[slot]] = (int64_t)j;
      return;
    }
  }
  fail_msg("no choice '%s' in %s", choice, key);
}

/* ---------------------------------------------- a table of fake rows */

static const char *const fake_modes[] = {"one", "many"};

static const helion_param_def_t fake_rows[] = {
    {.key = "fake_depth",
     .form = HELION_FORM_BOUNDS,
     .kind = HELION_FRAG_INT,
     .low = 1,
     .high = 4,
     .dflt = 2,
     .floor = 1,
     .ceil = 8,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_FAKE_DEPTH",
     .also_macro = "HL_FAKE_WIDTH",
     .also_scale = 16},
    {.key = "fake_mode",
     .form = HELION_FORM_CHOICES,
     .kind = HELION_FRAG_ENUM,
     .allow = 1u << HELION_VALUE_STR,
     .allow_words = "one, many",
     .codes = fake_modes,
     .ncodes = 2,
     .emit = HELION_EMIT_CODE,
     .macro = "HL_FAKE_MODE",
     .launch = HELION_LAUNCH_PID,
     .persistent_code = 1},
    {.key = "fake_spread",
     .form = HELION_FORM_BOUNDS,
     .kind = HELION_FRAG_POW2,
     .low = 1,
     .high = 8,
     .dflt = 1,
     .floor = 1,
     .ceil = 64,
     .emit = HELION_EMIT_MACRO,
     .macro = "HL_FAKE_SPREAD",
     .launch = HELION_LAUNCH_SM_MULTIPLIER,
     .rule = HELION_RULE_PERSISTENT_ONLY},
};

/* The fake rows in the JSON in reverse order: the table, not the text,
 * decides the flat order. "many" (code 1) comes first, so it is the
 * default and its position (0) differs from its code. */
#define FAKE_SPEC                                                              \
  "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":\"k\","                  \
  "\"args\":[{\"name\":\"y\",\"type\":\"float*\",\"numel\":\"N\","             \
  "\"output\":true},{\"name\":\"n\",\"type\":\"int\",\"value\":\"N\"}],"       \
  "\"key\":[\"N\"],\"shapes\":[{\"N\":100000}],"                               \
  "\"space\":{\"fake_spread\":{\"min\":1,\"max\":8},"                          \
  "\"fake_mode\":[\"many\",\"one\"],"                                          \
  "\"fake_depth\":{\"min\":1,\"max\":4}},"                                     \
  "\"restrictions\":[\"fake_depth * 32 <= 1024\"],"                            \
  "\"launch\":{\"tiles\":[\"cdiv(N, 32)\"],\"block\":[\"32 * fake_depth\"]}}"

static int use_fake_table(void **state) {
  (void)state;
  helion__params_set_table(fake_rows, sizeof(fake_rows) / sizeof(fake_rows[0]));
  return 0;
}

static int use_builtin_table(void **state) {
  (void)state;
  helion__params_set_table(NULL, 0);
  return 0;
}

static void test_params_fake_rows_reach_spec_and_space(void **state) {
  (void)state;
  world w;
  open_world(&w, FAKE_SPEC, 100000);
  /* Table order, named like their keys, defaults from the rows. */
  assert_int_equal(w.space->nparams, 3);
  assert_string_equal(w.space->params[0].key, "fake_depth");
  assert_string_equal(w.space->params[1].key, "fake_mode");
  assert_string_equal(w.space->params[2].key, "fake_spread");
  assert_int_equal(w.space->default_cells[0], 2);
  assert_int_equal(w.space->default_cells[2], 1);
  /* The built-in keys are not standard under this table: without "type"
   * num_warps is an unknown key, and a typo of a fake key is caught. */
  helion_err_t err = {""};
  helion_spec_t *s = NULL;
  const char *typo = "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":"
                     "\"k\",\"space\":{\"fake_dept\":{\"min\":1,\"max\":2}},"
                     "\"launch\":{\"tiles\":[1],\"block\":[1]}}";
  assert_int_equal(helion_spec_parse(typo, strlen(typo), "k.json", &s, &err),
                   HELION_ERR_INVALID);
  assert_non_null(strstr(err.msg, "did you mean 'fake_depth'"));
  /* The row's value range holds: 16 is over fake_depth's ceiling 8. */
  const char *over = "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":"
                     "\"k\",\"space\":{\"fake_depth\":{\"min\":1,\"max\":16}},"
                     "\"launch\":{\"tiles\":[1],\"block\":[1]}}";
  assert_int_equal(helion_spec_parse(over, strlen(over), "k.json", &s, &err),
                   HELION_ERR_INVALID);
  assert_string_equal(err.msg, "k.json: space.fake_depth.max: 16 is above 8; "
                               "use at most 8");
  /* The normalize rule: a non-persistent grid resets fake_spread. */
  int64_t cells[8];
  helion_space_default(w.space, cells);
  set_choice(&w, cells, "fake_mode", "one");
  cells[2] = 4;
  helion_space_normalize(w.space, cells);
  assert_int_equal(cells[2], 1);
  set_choice(&w, cells, "fake_mode", "many");
  cells[2] = 4;
  helion_space_normalize(w.space, cells);
  assert_int_equal(cells[2], 4);
  close_world(&w);
}

static void test_params_fake_rows_reach_defines(void **state) {
  (void)state;
  world w;
  open_world(&w, FAKE_SPEC, 100000);
  helion_buf_t b;
  helion_buf_init(&b, 1 << 16);
  int64_t cells[8];
  helion_space_default(w.space, cells);
  cells[0] = 3;
  assert_int_equal(helion_config_defines(w.space, cells, &b), HELION_OK);
  /* "many" is choice 0 but code 1; HL_FAKE_WIDTH = 3 * 16. */
  assert_string_equal(helion_buf_str(&b), "-DHL_FAKE_DEPTH=3\n"
                                          "-DHL_FAKE_WIDTH=48\n"
                                          "-DHL_FAKE_MODE=1\n"
                                          "-DHL_FAKE_SPREAD=1\n");
  helion_buf_cleanup(&b);
  close_world(&w);
}

static void test_params_fake_rows_reach_launch(void **state) {
  (void)state;
  world w;
  open_world(&w, FAKE_SPEC, 100000);
  int64_t cells[8];
  helion_space_default(w.space, cells);
  /* Persistent by default ("many"): min(3125 tiles, 132 SMs * 1). */
  helion_launch_t l = launch_of(&w, cells);
  assert_int_equal(l.grid[0], 132);
  assert_int_equal(l.block[0], 64);
  cells[2] = 8;
  l = launch_of(&w, cells);
  assert_int_equal(l.grid[0], 1056);
  /* "one" (code 0): one block per tile. */
  set_choice(&w, cells, "fake_mode", "one");
  l = launch_of(&w, cells);
  assert_int_equal(l.grid[0], 3125);
  /* The rule reads the table's names; printed as C it is the text codegen
   * will emit. */
  helion_buf_t b;
  helion_buf_init(&b, 1 << 16);
  assert_int_equal(helion_expr_to_c(w.spec->grid.dim[0], &b, NULL, NULL),
                   HELION_OK);
  assert_non_null(strstr(helion_buf_str(&b), "fake_mode"));
  assert_non_null(strstr(helion_buf_str(&b), "fake_spread"));
  assert_non_null(strstr(helion_buf_str(&b), "num_sms"));
  helion_buf_cleanup(&b);
  close_world(&w);
}

/* ------------------------------------------------------ built-in table */

/* The value device.cuh gives macro `name`, or -1 when it has none. */
static long device_cuh_define(const char *text, const char *name) {
  char pat[192];
  snprintf(pat, sizeof(pat), "#define %s ", name);
  const char *p = strstr(text, pat);
  if (!p)
    return -1;
  return strtol(p + strlen(pat), NULL, 10);
}

static void test_params_codes_match_device_cuh(void **state) {
  (void)state;
  const char *src = getenv("HELION_SOURCE_DIR");
  char path[4096];
  snprintf(path, sizeof(path), "%s/runtime/include/helion/device.cuh",
           src ? src : ".");
  char *text = NULL;
  size_t len = 0;
  helion_err_t err = {""};
  if (helion_read_file(path, 1 << 20, &text, &len, &err))
    fail_msg("%s", err.msg);
  /* Each coded row's code i is device.cuh's <prefix><NAME> (the empty
   * eviction policy is HL_EVICT_NORMAL). */
  static const struct {
    const char *key, *prefix;
  } coded[] = {{"pid_type", "HL_PID_"},
               {"load_eviction_policies", "HL_EVICT_"}};
  size_t checked = 0;
  for (size_t r = 0; r < sizeof(coded) / sizeof(coded[0]); r++) {
    const helion_param_def_t *d = helion_params_find(coded[r].key);
    assert_non_null(d);
    assert_non_null(d->codes);
    for (size_t i = 0; i < d->ncodes; i++) {
      char name[128];
      const char *code = d->codes[i][0] ? d->codes[i] : "normal";
      size_t n = (size_t)snprintf(name, sizeof(name), "%s", coded[r].prefix);
      for (; *code && n + 1 < sizeof(name); code++)
        name[n++] = (char)toupper((unsigned char)*code);
      name[n] = '\0';
      long v = device_cuh_define(text, name);
      if (v != (long)i)
        fail_msg("%s: device.cuh defines %s as %ld, the table's code is %zu",
                 coded[r].key, name, v, i);
      checked++;
    }
  }
  assert_int_equal(checked, 7);
  /* And every macro a row emits has a default in device.cuh, so a kernel
   * compiles without the tool. */
  size_t rows = 0;
  const helion_param_def_t *t = helion_params_table(&rows);
  for (size_t i = 0; i < rows; i++) {
    if (!t[i].macro)
      continue;
    char name[160];
    bool seq =
        t[i].form != HELION_FORM_BOUNDS && t[i].form != HELION_FORM_CHOICES;
    snprintf(name, sizeof(name), seq ? "#ifndef %s_0" : "#ifndef %s\n",
             t[i].macro);
    if (!strstr(text, name))
      fail_msg("device.cuh has no default for %s (row %s)", t[i].macro,
               t[i].key);
  }
  free(text);
}

static void test_params_persistent_follows_the_code(void **state) {
  (void)state;
  /* The spec lists persistent_interleaved first: position 0, code 3. */
  const char *text =
      "{\"name\":\"k\",\"source\":\"matmul.cu\",\"entry\":\"k\","
      "\"args\":[{\"name\":\"y\",\"type\":\"float*\",\"numel\":\"N\","
      "\"output\":true}],"
      "\"key\":[\"N\"],\"shapes\":[{\"N\":100000}],"
      "\"space\":{\"block_sizes\":[{\"name\":\"B\",\"min\":32,\"max\":32}],"
      "\"pid_type\":[\"persistent_interleaved\",\"flat\"]},"
      "\"restrictions\":[\"pid_type != 1\"],"
      "\"launch\":{\"tiles\":[\"cdiv(N, B)\"],\"block\":[\"B\"]}}";
  world w;
  open_world(&w, text, 100000);
  int64_t cells[8];
  helion_space_default(w.space, cells);
  /* Default persistent_interleaved: min(3125, 132 * 1) (no multiplier). */
  assert_int_equal(launch_of(&w, cells).grid[0], 132);
  /* The restriction sees codes: "pid_type != 1" (not xyz) holds for both. */
  assert_true(helion_space_valid(w.space, cells));
  set_choice(&w, cells, "pid_type", "flat");
  assert_true(helion_space_valid(w.space, cells));
  assert_int_equal(launch_of(&w, cells).grid[0], 3125);
  helion_buf_t b;
  helion_buf_init(&b, 1 << 16);
  assert_int_equal(helion_config_defines(w.space, cells, &b), HELION_OK);
  assert_non_null(strstr(helion_buf_str(&b), "-DHL_PID_TYPE=0\n"));
  helion_buf_cleanup(&b);
  close_world(&w);
}

int main(void) {
  const char *data = getenv("HELION_TEST_DATA");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/specs", data ? data : "tests/data");
  if (chdir(dir) != 0) {
    fprintf(stderr, "test_params: cannot enter %s\n", dir);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          test_params_fake_rows_reach_spec_and_space, use_fake_table,
          use_builtin_table),
      cmocka_unit_test_setup_teardown(test_params_fake_rows_reach_defines,
                                      use_fake_table, use_builtin_table),
      cmocka_unit_test_setup_teardown(test_params_fake_rows_reach_launch,
                                      use_fake_table, use_builtin_table),
      cmocka_unit_test(test_params_codes_match_device_cuh),
      cmocka_unit_test(test_params_persistent_follows_the_code),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
