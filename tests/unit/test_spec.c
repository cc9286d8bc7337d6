/*
 * test_spec.c: the kernel spec module: a full spec parsed into the expected
 * struct, Helion's defaults, every class of bad input by its exact message,
 * the space built per shape and device, shapes from the command line and the
 * assumed device properties.
 *
 * The tests run inside tests/data/specs, so a spec named "k.json" finds its
 * source "matmul.cu" there and messages start with "k.json: ".
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model/spec.h"

/* JSON in C strings: tests write ' for ", converted here. */
static char *dq(const char *text) {
  char *s = strdup(text);
  assert_non_null(s);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  return s;
}

static helion_status parse(const char *text, helion_spec_t **out,
                           helion_err_t *err) {
  char *json = dq(text);
  err->msg[0] = '\0';
  helion_status rc = helion_spec_parse(json, strlen(json), "k.json", out, err);
  free(json);
  return rc;
}

/* Parses `text`, expecting failure with exactly `msg`. */
static void expect_error(const char *text, helion_status rc, const char *msg) {
  helion_spec_t *s = NULL;
  helion_err_t err;
  helion_status got = parse(text, &s, &err);
  if (got == HELION_OK)
    helion_spec_destroy(s);
  assert_string_equal(err.msg, msg);
  assert_int_equal(got, rc);
  assert_null(s);
}

static helion_spec_t *parse_ok(const char *text) {
  helion_spec_t *s = NULL;
  helion_err_t err;
  helion_status rc = parse(text, &s, &err);
  if (rc)
    fail_msg("unexpected error: %s", err.msg);
  assert_non_null(s);
  return s;
}

/* Builds the space for shape 0 on an assumed sm_90, expecting `msg` (NULL:
 * success). */
static void expect_space(const char *text, const char *msg) {
  helion_spec_t *s = parse_ok(text);
  helion_device_props_t dev;
  helion_err_t err;
  assert_int_equal(helion_device_props_for_arch("sm_90", &dev, &err), 0);
  helion_space_t *sp = NULL;
  err.msg[0] = '\0';
  helion_status rc = helion_spec_space(s, s->shapes, &dev, &sp, &err);
  if (msg) {
    assert_int_not_equal(rc, HELION_OK);
    assert_null(sp);
    assert_string_equal(err.msg, msg);
  } else {
    if (rc)
      fail_msg("unexpected error: %s", err.msg);
    helion_space_destroy(sp);
  }
  helion_spec_destroy(s);
}

static int param_index(const helion_spec_t *s, const char *key, int index) {
  for (size_t i = 0; i < s->nparams; i++)
    if (strcmp(s->params[i].key, key) == 0 && s->params[i].index == index)
      return (int)i;
  return -1;
}

static const helion_param_t *param(const helion_spec_t *s, const char *key,
                                   int index) {
  int i = param_index(s, key, index);
  if (i < 0)
    fail_msg("no param %s[%d]", key, index);
  return &s->params[i];
}

static void check_frag(const helion_param_t *p, helion_frag_kind kind,
                       int64_t low, int64_t high, int64_t dflt) {
  assert_int_equal(p->frag.kind, kind);
  assert_int_equal(p->frag.low, low);
  assert_int_equal(p->frag.high, high);
  assert_int_equal(p->frag.dflt, dflt);
}

/* The pieces most tests build on: two keys, one block size, num_warps. */
#define HEAD                                                                   \
  "{'name':'k','source':'matmul.cu','entry':'k','key':['M','N'],"           \
  "'shapes':[{'M':64,'N':32}],"
#define SPACE                                                                  \
  "'space':{'block_sizes':[{'name':'BLOCK_M','min':16,'max':64}],"           \
  "'num_warps':{'min':1,'max':8}},"
#define LAUNCH1 "'launch':{'tiles':[1],'block':[1]}"
/* An output, without which a spec is refused (no accuracy check). */
#define OUT "'args':[{'name':'out','type':'float*','numel':'M','output':true}],"
#define OUT_ARG "{'name':'out','type':'float*','numel':1,'output':true}"
#define OUT1 "'args':[{'name':'out','type':'float*','numel':1,'output':true}],"
#define LAUNCH "'launch':{'tiles':['cdiv(M, BLOCK_M)'],'block':['32 * num_warps']}"

/* ------------------------------------------------------ a full spec */

static void test_spec_load_full(void **state) {
  (void)state;
  helion_spec_t *s = NULL;
  helion_err_t err;
  helion_status rc = helion_spec_load("matmul.json", &s, &err);
  if (rc)
    fail_msg("%s", err.msg);
  assert_string_equal(s->path, "matmul.json");
  assert_string_equal(s->dir, ".");
  assert_string_equal(s->name, "matmul");
  assert_string_equal(s->source, "matmul.cu");
  assert_string_equal(s->entry, "matmul");
  assert_string_equal(s->reference, "matmul_ref");

  assert_int_equal(s->nargs, 8);
  const helion_spec_arg_t *a = s->args;
  assert_string_equal(a[0].name, "A");
  assert_string_equal(a[0].type, "const __half*");
  assert_int_equal(a[0].dtype, HELION_DT_HALF);
  assert_true(a[0].is_pointer && a[0].is_const && !a[0].output);
  assert_int_equal(a[0].init, HELION_INIT_RANDN);
  assert_string_equal(helion_expr_text(a[0].numel), "M*K");
  assert_null(a[0].value);
  /* A floating input without init gets randn. */
  assert_string_equal(a[1].type, "const __half *");
  assert_true(a[1].is_pointer && a[1].is_const);
  assert_int_equal(a[1].init, HELION_INIT_RANDN);
  /* An output without init is poisoned later. */
  assert_true(a[2].is_pointer && !a[2].is_const && a[2].output);
  assert_int_equal(a[2].init, HELION_INIT_NONE);
  assert_int_equal(a[3].dtype, HELION_DT_I32);
  assert_int_equal(a[3].init, HELION_INIT_RANDINT);
  assert_true(a[3].init_lo == -3.0 && a[3].init_hi == 7.0);
  assert_string_equal(helion_expr_text(a[3].numel), "16");
  assert_int_equal(a[4].dtype, HELION_DT_FLOAT);
  assert_int_equal(a[4].init, HELION_INIT_CONST);
  assert_true(a[4].init_const == 0.5);
  assert_false(a[4].output);
  assert_true(!a[5].is_pointer && !a[5].is_const);
  assert_int_equal(a[5].dtype, HELION_DT_I32);
  assert_string_equal(helion_expr_text(a[5].value), "M");
  assert_null(a[5].numel);
  assert_int_equal(a[7].dtype, HELION_DT_I64);
  assert_int_equal(helion_dtype_size(a[0].dtype), 2);
  assert_string_equal(helion_dtype_name(a[7].dtype), "int64_t");

  assert_int_equal(s->nkeys, 3);
  assert_string_equal(s->keys[2], "K");
  assert_int_equal(s->nshapes, 2);
  const int64_t shapes[6] = {4096, 4096, 4096, 128, 4096, 64};
  assert_memory_equal(s->shapes, shapes, sizeof(shapes));

  /* Flat order: block_sizes, loop_orders, l2_groupings, static_ranges,
   * num_warps, num_stages, pid_type, load_eviction_policies, maxnreg, then
   * the user tunables as written. */
  static const char *const keys[] = {
      "block_sizes", "block_sizes", "block_sizes",  "loop_orders",
      "l2_groupings", "static_ranges", "static_ranges", "num_warps",
      "num_stages",  "pid_type",    "load_eviction_policies", "maxnreg",
      "SPLIT_K",     "EPILOGUE",    "UNROLL"};
  assert_int_equal(s->nparams, 15);
  for (size_t i = 0; i < 15; i++)
    assert_string_equal(s->params[i].key, keys[i]);
  const helion_param_t *p = s->params;
  /* Defaults: BLOCK_N's own 128 is overridden by "defaults". */
  check_frag(&p[0], HELION_FRAG_POW2, 16, 256, 64);
  check_frag(&p[1], HELION_FRAG_POW2, 16, 256, 64);
  check_frag(&p[2], HELION_FRAG_POW2, 16, 128, 32);
  assert_string_equal(p[1].name, "BLOCK_N");
  assert_int_equal(p[1].index, 1);
  assert_int_equal(p[1].role, HELION_ROLE_BLOCK_SIZE);
  assert_int_equal(p[3].frag.kind, HELION_FRAG_PERM);
  assert_int_equal(p[3].frag.length, 3);
  assert_null(p[3].name);
  check_frag(&p[4], HELION_FRAG_POW2, 1, 64, 1);
  assert_string_equal(p[4].name, "l2_groupings_0");
  check_frag(&p[5], HELION_FRAG_BOOL, 0, 1, 1);
  check_frag(&p[6], HELION_FRAG_BOOL, 0, 1, 0);
  assert_string_equal(p[6].name, "static_ranges_1");
  check_frag(&p[7], HELION_FRAG_POW2, 1, 16, 8);
  assert_int_equal(p[7].role, HELION_ROLE_NUM_WARPS);
  assert_int_equal(p[7].index, -1);
  /* Helion's num_stages default 1, clamped into [2, 5]. */
  check_frag(&p[8], HELION_FRAG_INT, 2, 5, 2);
  assert_int_equal(p[9].frag.kind, HELION_FRAG_ENUM);
  assert_int_equal(p[9].frag.nchoices, 3);
  assert_string_equal(p[9].frag.choices[2].s, "persistent_interleaved");
  assert_int_equal(p[9].frag.dflt, 1);
  assert_int_equal(p[10].frag.kind, HELION_FRAG_LIST);
  assert_int_equal(p[10].frag.inner, HELION_FRAG_ENUM);
  assert_int_equal(p[10].frag.length, 2);
  assert_int_equal(p[10].frag.nchoices, 3);
  assert_string_equal(p[10].frag.choices[0].s, "");
  assert_int_equal(p[10].frag.dflt, 2); /* "last" */
  assert_null(p[10].name);
  assert_int_equal(p[11].frag.choices[0].kind, HELION_VALUE_NULL);
  assert_int_equal(p[11].frag.choices[2].i, 256);
  assert_int_equal(p[11].frag.dflt, 1); /* 128 */
  check_frag(&p[12], HELION_FRAG_POW2, 1, 8, 2);
  assert_string_equal(p[12].name, "SPLIT_K");
  assert_int_equal(p[13].frag.dflt, 1); /* "relu" */
  assert_string_equal(p[13].frag.choices[1].s, "relu");
  check_frag(&p[14], HELION_FRAG_INT, 0, 3, 0); /* default: min */

  assert_int_equal(s->nrestrictions, 2);
  assert_string_equal(s->restrictions[0],
                      "BLOCK_M * BLOCK_N <= 128 * 32 * num_warps");
  assert_non_null(s->tiles[1]);
  assert_null(s->tiles[2]);
  assert_non_null(s->block[0]);
  assert_null(s->block[1]);
  assert_string_equal(helion_expr_text(s->shared_mem),
                      "(BLOCK_M + BLOCK_N) * BLOCK_K * 2 * num_stages");
  assert_true(s->atol == 0.001 && s->rtol == 0.05);

  static const char *const scope[] = {
      "M", "N", "K", "BLOCK_M", "BLOCK_N", "BLOCK_K", "l2_groupings_0",
      "static_ranges_0", "static_ranges_1", "num_warps", "num_stages",
      "pid_type", "maxnreg", "SPLIT_K", "EPILOGUE", "UNROLL", "num_sms",
      "smem_per_block", "regs_per_sm", "cc_major", "cc_minor"};
  assert_int_equal(s->nscope, 21);
  for (size_t i = 0; i < 21; i++)
    assert_string_equal(s->scope_names[i], scope[i]);

  /* The scope values of shape 1 on sm_80, then a launch expression at
   * BLOCK_M = BLOCK_N = 64: cdiv(128, 64) * cdiv(4096, 64) = 2 * 64. */
  helion_device_props_t dev;
  assert_int_equal(helion_device_props_for_arch("sm_80", &dev, &err), 0);
  helion_num_t vals[21];
  helion_spec_scope_values(s, s->shapes + 3, &dev, vals);
  assert_int_equal(vals[0].i, 128);
  assert_int_equal(vals[2].i, 64);
  assert_int_equal(vals[3].i, 0);
  assert_int_equal(vals[16].i, 108);
  assert_int_equal(vals[17].i, 166912);
  assert_int_equal(vals[18].i, 65536);
  assert_int_equal(vals[19].i, 8);
  assert_int_equal(vals[20].i, 0);
  vals[3] = helion_num_int(64);
  vals[4] = helion_num_int(64);
  helion_num_t v;
  assert_int_equal(helion_expr_eval(s->tiles[0], vals, &v, &err), 0);
  assert_false(v.is_float);
  assert_int_equal(v.i, 128);

  /* The space: the spec's params with the defaults applied. */
  helion_space_t *sp = NULL;
  rc = helion_spec_space(s, s->shapes, &dev, &sp, &err);
  if (rc)
    fail_msg("%s", err.msg);
  assert_int_equal(sp->nparams, 15);
  int64_t cells[64];
  assert_true(sp->ncells <= 64);
  helion_space_default(sp, cells);
  int bn = helion_space_find(sp, "BLOCK_N");
  assert_true(bn >= 0);
  assert_int_equal(cells[sp->cell_off[bn]], 64);
  assert_int_equal(cells[sp->cell_off[helion_space_find(sp, "SPLIT_K")]], 2);
  assert_true(helion_space_valid(sp, cells));
  helion_space_destroy(sp);
  helion_spec_destroy(s);
}

/* Helion's defaults (§1.3, §1.4) when the spec gives none. */
static void test_spec_helion_defaults(void **state) {
  (void)state;
  helion_spec_t *s = parse_ok(
      HEAD
      OUT "'space':{'block_sizes':[{'name':'BM','min':16,'max':64},"
      "{'name':'BN','min':64,'max':256}],"
      "'num_warps':{'min':8,'max':16},'num_stages':{},"
      "'l2_groupings':[{}],'range_unroll_factors':[{'max':2}],"
      "'range_num_stages':[{'min':1,'max':3}],'num_sm_multiplier':{},"
      "'num_threads':{'max':64},'flatten_loops':[false],"
      "'indexing':{'length':3,'choices':['pointer','block_ptr']},"
      "'P':{'type':'power_of_two','min':4,'max':16},"
      "'E':{'type':'enum','choices':[3,null,true,2.5]},"
      "'F':{'type':'boolean'},"
      "'L':{'type':'list','length':2,'of':{'type':'integer','min':-2,'max':2,"
      "'default':1}},"
      "'O':{'type':'permutation','length':4}},"
      "'launch':{'tiles':[1],'block':[32,2]}}");
  /* Two block sizes: 32, clamped into each one's bounds. */
  check_frag(param(s, "block_sizes", 0), HELION_FRAG_POW2, 16, 64, 32);
  check_frag(param(s, "block_sizes", 1), HELION_FRAG_POW2, 64, 256, 64);
  check_frag(param(s, "num_warps", -1), HELION_FRAG_POW2, 8, 16, 8);
  check_frag(param(s, "num_stages", -1), HELION_FRAG_INT, 1, 8, 1);
  check_frag(param(s, "l2_groupings", 0), HELION_FRAG_POW2, 1, 64, 1);
  check_frag(param(s, "range_unroll_factors", 0), HELION_FRAG_INT, 0, 2, 0);
  check_frag(param(s, "range_num_stages", 0), HELION_FRAG_INT, 1, 3, 1);
  assert_string_equal(param(s, "range_num_stages", 0)->name,
                      "range_num_stages_0");
  check_frag(param(s, "num_sm_multiplier", -1), HELION_FRAG_POW2, 1, 128, 1);
  check_frag(param(s, "num_threads", -1), HELION_FRAG_POW2, 1, 64, 64);
  assert_int_equal(param(s, "num_threads", -1)->role, HELION_ROLE_NONE);
  check_frag(param(s, "flatten_loops", 0), HELION_FRAG_BOOL, 0, 1, 0);
  const helion_param_t *ix = param(s, "indexing", -1);
  assert_int_equal(ix->frag.kind, HELION_FRAG_LIST);
  assert_int_equal(ix->frag.length, 3);
  assert_int_equal(ix->frag.nchoices, 2);
  assert_int_equal(ix->frag.dflt, 0);
  check_frag(param(s, "P", -1), HELION_FRAG_POW2, 4, 16, 4);
  const helion_param_t *e = param(s, "E", -1);
  assert_int_equal(e->frag.kind, HELION_FRAG_ENUM);
  assert_int_equal(e->frag.choices[0].kind, HELION_VALUE_INT);
  assert_int_equal(e->frag.choices[1].kind, HELION_VALUE_NULL);
  assert_int_equal(e->frag.choices[2].kind, HELION_VALUE_BOOL);
  assert_int_equal(e->frag.choices[3].kind, HELION_VALUE_FLOAT);
  assert_int_equal(e->frag.dflt, 0);
  check_frag(param(s, "F", -1), HELION_FRAG_BOOL, 0, 1, 0);
  const helion_param_t *l = param(s, "L", -1);
  assert_int_equal(l->frag.kind, HELION_FRAG_LIST);
  assert_int_equal(l->frag.inner, HELION_FRAG_INT);
  assert_int_equal(l->frag.length, 2);
  assert_int_equal(l->frag.low, -2);
  assert_int_equal(l->frag.dflt, 1);
  assert_null(l->name);
  const helion_param_t *o = param(s, "O", -1);
  assert_int_equal(o->frag.kind, HELION_FRAG_PERM);
  assert_int_equal(o->frag.length, 4);
  /* No accuracy: 1e-2 both; no reference. */
  assert_true(s->atol == 1e-2 && s->rtol == 1e-2);
  assert_null(s->reference);
  helion_spec_destroy(s);

  /* Three block sizes: 16 each (clamped up to a min of 32). */
  s = parse_ok(HEAD
               OUT "'space':{'block_sizes':[{'name':'A','min':1,'max':64},"
               "{'name':'B','min':32,'max':64},{'name':'C','min':1,'max':8}]},"
               "'launch':{'tiles':[1],'block':[32]}}");
  assert_int_equal(s->params[0].frag.dflt, 16);
  assert_int_equal(s->params[1].frag.dflt, 32);
  assert_int_equal(s->params[2].frag.dflt, 8);
  helion_spec_destroy(s);

  /* No key, no shapes, no args, no space: one shape of no values (and,
   * with no output, accuracy opted out explicitly). */
  s = parse_ok("{'name':'k','source':'matmul.cu','entry':'k',"
               "'accuracy':{'check':false},"
               "'launch':{'tiles':['num_sms'],'block':[128]}}");
  assert_false(s->accuracy_check);
  assert_int_equal(s->nkeys, 0);
  assert_int_equal(s->nshapes, 1);
  assert_int_equal(s->nparams, 0);
  assert_int_equal(s->nargs, 0);
  assert_int_equal(s->nscope, HELION_DEVICE_PROP_COUNT);
  helion_spec_destroy(s);
}

/* ---------------------------------------------------- malformed input */

static void test_spec_malformed_json(void **state) {
  (void)state;
  /* Line 2, column 12 is the '}' where a value should be. */
  expect_error("{'name': 'k',\n  'entry': }", HELION_ERR_PARSE,
               "k.json:2:12: malformed JSON near '}'");
  /* Text after the object: column 14 is the 'j'. */
  expect_error("{'name':'k'} junk", HELION_ERR_PARSE,
               "k.json:1:14: malformed JSON near 'junk'");
  expect_error("[1, 2]", HELION_ERR_INVALID,
               "k.json: expected a JSON object at the top level, got array");
}

static void test_spec_unknown_keys(void **state) {
  (void)state;
  expect_error(HEAD "'spaec':{}," LAUNCH "}", HELION_ERR_INVALID,
               "k.json: spaec: unknown key; known keys are: name, source, "
               "entry, args, key, shapes, space, restrictions, launch, "
               "accuracy, defaults, reference, arch_specific; did you mean "
               "'space'?");
  expect_error(HEAD "'zzz':1," LAUNCH "}", HELION_ERR_INVALID,
               "k.json: zzz: unknown key; known keys are: name, source, "
               "entry, args, key, shapes, space, restrictions, launch, "
               "accuracy, defaults, reference, arch_specific");
  expect_error(HEAD
               OUT "'space':{'block_sizes':[{'name':'B','min':16,'mx':64}]},"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[0].mx: unknown key; known keys "
               "are: name, min, max, default; did you mean 'max'?");
  /* A near miss of a standard space key is a typo, not a user tunable. */
  expect_error(HEAD OUT "'space':{'num_warp':{'min':1,'max':8}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_warp: unknown key; did you mean "
               "'num_warps'? (a user tunable needs \"type\")");
  expect_error(HEAD OUT SPACE LAUNCH ",'launch':{}}", HELION_ERR_INVALID,
               "k.json: launch: duplicate key; give it once");
  expect_error(HEAD OUT SPACE LAUNCH ",'defaults':{'num_warp':2}}",
               HELION_ERR_INVALID,
               "k.json: defaults.num_warp: not a parameter of the space; "
               "known keys are: block_sizes, num_warps; did you mean "
               "'num_warps'?");
  expect_error(HEAD OUT SPACE LAUNCH ",'accuracy':{'atl':1}}", HELION_ERR_INVALID,
               "k.json: accuracy.atl: unknown key; known keys are: atol, "
               "rtol, check; did you mean 'atol'?");
  expect_error(HEAD "'shapes':[]," SPACE LAUNCH "}", HELION_ERR_INVALID,
               "k.json: shapes: duplicate key; give it once");
}

static void test_spec_missing_keys(void **state) {
  (void)state;
  expect_error(HEAD OUT SPACE "'accuracy':{}}", HELION_ERR_INVALID,
               "k.json: missing required key 'launch' (tiles and block of "
               "the grid)");
  expect_error("{'source':'matmul.cu'}", HELION_ERR_INVALID,
               "k.json: missing required key 'name' (a C identifier that "
               "prefixes generated symbols)");
  expect_error(HEAD OUT "'space':{'block_sizes':[{'name':'B','min':16}]}," LAUNCH
                    "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[0]: missing required key 'max'");
  expect_error(HEAD OUT SPACE "'launch':{'tiles':[1]}}", HELION_ERR_INVALID,
               "k.json: launch: missing required key 'block' (1 to 3 "
               "expressions)");
  expect_error(HEAD SPACE "'args':[{'name':'A','type':'float*'}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0]: missing required key 'numel' (the element "
               "count of a pointer, e.g. \"M*K\")");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M'],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: missing required key 'shapes' (one object per shape "
               "giving M)");
  expect_error(HEAD OUT "'space':{'X':{'min':1}}," LAUNCH "}", HELION_ERR_INVALID,
               "k.json: space.X: missing required key 'type' (one of "
               "power_of_two, integer, enum, boolean, permutation, list)");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M','N'],"
               "'shapes':[{'M':1}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: shapes[0]: missing 'N'; give every key: M, N");
}

static void test_spec_wrong_types(void **state) {
  (void)state;
  expect_error(HEAD OUT "'space':{'num_warps':{'min':'1','max':8}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_warps.min: expected an integer, got string");
  expect_error(HEAD OUT "'space':{'num_stages':{'min':1.5}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_stages.min: expected an integer, got 1.5");
  expect_error("{'name':7}", HELION_ERR_INVALID,
               "k.json: name: expected a string, got number");
  expect_error(HEAD SPACE "'args':{}," LAUNCH "}", HELION_ERR_INVALID,
               "k.json: args: expected an array, got object");
  expect_error(HEAD OUT "'space':{'block_sizes':{'name':'B'}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes: expected an array, got object");
  expect_error(HEAD OUT SPACE "'launch':{'tiles':[true],'block':[1]}}",
               HELION_ERR_INVALID,
               "k.json: launch.tiles[0]: expected an expression (a string or "
               "a number), got boolean");
  expect_error(HEAD OUT SPACE "'restrictions':[1]," LAUNCH "}", HELION_ERR_INVALID,
               "k.json: restrictions[0]: expected an expression string, got "
               "number");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M'],"
               "'shapes':[{'M':0}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: shapes[0].M: expected a positive integer, got 0");
  expect_error(HEAD OUT SPACE "'arch_specific':'yes'," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: arch_specific: expected a boolean, got string");
  expect_error(HEAD OUT "'space':{'static_ranges':[1]}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.static_ranges[0]: expected a boolean or "
               "{\"default\": boolean}, got number");
  expect_error(HEAD OUT "'space':{'pid_type':['flat','flatt']}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.pid_type[1]: 'flatt' is not one of flat, xyz, "
               "persistent_blocked, persistent_interleaved; did you mean "
               "'flat'?");
  expect_error(HEAD OUT "'space':{'maxnreg':[null,'x']}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.maxnreg[1]: expected null or a positive "
               "integer, got string");
  expect_error(HEAD OUT "'space':{'maxnreg':[null,0]}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.maxnreg[1]: 0 is below the least allowed "
               "value 1; use null or a positive integer");
  expect_error(HEAD OUT "'space':{'X':{'type':'pow2','min':1,'max':2}}," LAUNCH
                    "}",
               HELION_ERR_INVALID,
               "k.json: space.X.type: 'pow2' is not a type; use one of "
               "power_of_two, integer, enum, boolean, permutation, list");
  expect_error(HEAD OUT "'space':{'X':{'type':'integr','min':1,'max':2}}," LAUNCH
                    "}",
               HELION_ERR_INVALID,
               "k.json: space.X.type: 'integr' is not a type; use one of "
               "power_of_two, integer, enum, boolean, permutation, list; did "
               "you mean 'integer'?");
  expect_error(HEAD OUT SPACE LAUNCH ",'accuracy':{'atol':-1}}", HELION_ERR_INVALID,
               "k.json: accuracy.atol: -1 is negative; use a tolerance >= 0");
  expect_error(HEAD OUT SPACE LAUNCH ",'defaults':{'block_sizes':64}}",
               HELION_ERR_INVALID,
               "k.json: defaults.block_sizes: expected an array, got number");
  expect_error(HEAD OUT SPACE "'launch':{'tiles':[],'block':[1]}}",
               HELION_ERR_INVALID,
               "k.json: launch.tiles: 0 dimensions; give 1 to 3 expressions "
               "(x, y, z)");
  expect_error(HEAD OUT SPACE "'launch':{'tiles':[1],'block':[1,1,1,1]}}",
               HELION_ERR_INVALID,
               "k.json: launch.block: 4 dimensions; give 1 to 3 expressions "
               "(x, y, z)");
}

static void test_spec_bounds(void **state) {
  (void)state;
  expect_error(HEAD OUT "'space':{'num_warps':{'min':16,'max':4}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_warps: min 16 is greater than max 4; make "
               "min <= max");
  expect_error(HEAD OUT "'space':{'X':{'type':'integer','min':3,'max':-3}},"
                    LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.X: min 3 is greater than max -3; make min <= "
               "max");
  expect_error(HEAD
               OUT "'space':{'block_sizes':[{'name':'A','min':16,'max':64},"
               "{'name':'B','min':16,'max':64},"
               "{'name':'C','min':16,'max':100}]},"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[2].max: 100 is not a power of two; "
               "use 64 or 128");
  expect_error(HEAD OUT "'space':{'l2_groupings':[{'min':0}]}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.l2_groupings[0].min: 0 is not a power of two; "
               "use 1 or a larger power of two");
  expect_error(HEAD OUT "'space':{'num_warps':{'max':64}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_warps.max: 64 is above 32; use at most 32");
  expect_error(HEAD OUT "'space':{'range_num_stages':[{'min':-1}]}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.range_num_stages[0].min: -1 is below 0; use at "
               "least 0");
  expect_error(HEAD OUT "'space':{'num_warps':{'min':1,'max':8,'default':16}},"
                    LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_warps.default: 16 is outside [1, 8]; use a "
               "value between min and max");
  expect_error(HEAD OUT SPACE LAUNCH ",'defaults':{'block_sizes':[48]}}",
               HELION_ERR_INVALID,
               "k.json: defaults.block_sizes[0]: 48 is not a power of two; "
               "use 32 or 64");
  expect_error(HEAD OUT SPACE LAUNCH ",'defaults':{'block_sizes':[128]}}",
               HELION_ERR_INVALID,
               "k.json: defaults.block_sizes[0]: 128 is outside [16, 64] of "
               "space.block_sizes[0]; use a value within those bounds");
  expect_error(HEAD OUT SPACE LAUNCH ",'defaults':{'block_sizes':[16,16]}}",
               HELION_ERR_INVALID,
               "k.json: defaults.block_sizes: 2 values for 1 entries of "
               "space.block_sizes; give one per entry");
  expect_error(HEAD OUT "'space':{'pid_type':['flat','xyz']}," LAUNCH
                    ",'defaults':{'pid_type':'persistent_blocked'}}",
               HELION_ERR_INVALID,
               "k.json: defaults.pid_type: 'persistent_blocked' is not one of "
               "the choices 'flat', 'xyz'");
  expect_error(HEAD OUT "'space':{'pid_type':['flat','xyz','flat']}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.pid_type[2]: 'flat' repeats choice [0]; give "
               "each choice once");
  expect_error(HEAD OUT "'space':{'pid_type':[]}," LAUNCH "}", HELION_ERR_INVALID,
               "k.json: space.pid_type: no choices; give at least one (flat, "
               "xyz, persistent_blocked, persistent_interleaved)");
  expect_error(HEAD OUT "'space':{'loop_orders':[2,17]}," LAUNCH "}",
               HELION_ERR_LIMIT,
               "k.json: space.loop_orders[1]: a loop order of 17 loops is too "
               "long; at most 16");
  expect_error(HEAD OUT "'space':{'loop_orders':[3]}," LAUNCH
                    ",'defaults':{'loop_orders':[[1,0,2]]}}",
               HELION_ERR_INVALID,
               "k.json: defaults.loop_orders[0]: a permutation's default is "
               "the identity [0, 1, ...] of length 3; remove it or write the "
               "identity");
  expect_error(HEAD OUT "'space':{'load_eviction_policies':{'length':2}},"
                    LAUNCH ",'defaults':{'load_eviction_policies':"
                    "['first','last']}}",
               HELION_ERR_INVALID,
               "k.json: defaults.load_eviction_policies[1]: differs from "
               "element [0]; a list's default repeats one value (give a "
               "single value)");
  expect_error(HEAD OUT SPACE LAUNCH ",'accuracy':{'rtol':1e400}}",
               HELION_ERR_INVALID,
               "k.json: accuracy.rtol: inf is negative; use a tolerance >= 0");
}

static void test_spec_names(void **state) {
  (void)state;
  /* Duplicates, across keys, params and device properties. */
  expect_error(HEAD OUT "'space':{'block_sizes':[{'name':'BM','min':1,'max':2},"
                    "{'name':'M','min':1,'max':2}]},"
                    LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[1].name: 'M' is already the name of "
               "key[0]; names must be unique");
  expect_error(HEAD OUT "'space':{'block_sizes':[{'name':'BM','min':1,'max':2},"
                    "{'name':'BM','min':1,'max':2}]},"
                    LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[1].name: 'BM' is already the name "
               "of space.block_sizes[0]; names must be unique");
  expect_error(HEAD OUT "'space':{'block_sizes':[{'name':'num_warps','min':1,"
                    "'max':2}],'num_warps':{}},"
                    LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_warps: 'num_warps' is already the name of "
               "space.block_sizes[0]; names must be unique");
  expect_error(HEAD OUT "'space':{'num_sms':{'type':'boolean'}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.num_sms: 'num_sms' is already the name of a "
               "device property; names must be unique");
  expect_error(HEAD OUT "'space':{'l2_groupings':[{}],'l2_groupings_0':"
                    "{'type':'boolean'}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.l2_groupings_0: 'l2_groupings_0' is already the "
               "name of space.l2_groupings[0]; names must be unique");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k',"
               "'key':['M','M']," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: key[1]: 'M' is already the name of key[0]; names must "
               "be unique");
  expect_error(HEAD SPACE
               "'args':[{'name':'A','type':'int','value':1},"
               "{'name':'A','type':'int','value':2}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[1].name: 'A' is already the name of args[0]; "
               "names must be unique");
  expect_error(HEAD SPACE "'args':[{'name':'BLOCK_M','type':'int','value':1}],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].name: 'BLOCK_M' is already the name of "
               "space.block_sizes[0] (a -D macro); rename the argument");
  /* An argument may share a key's name: M is passed as "value": "M". */
  helion_spec_t *s = parse_ok(HEAD SPACE
                              "'args':[{'name':'M','type':'int','value':'M'},"
                              "{'name':'o','type':'float*','numel':1,'output':true}],"
                              LAUNCH "}");
  helion_spec_destroy(s);

  /* Names that are not C identifiers. */
  expect_error("{'name':'my-kernel'}", HELION_ERR_INVALID,
               "k.json: name: 'my-kernel' is not a C identifier; use letters, "
               "digits and underscores, not starting with a digit");
  expect_error("{'name':'k','source':'matmul.cu','entry':'int'}",
               HELION_ERR_INVALID,
               "k.json: entry: 'int' is a C or C++ keyword; choose another name");
  expect_error(HEAD OUT "'space':{'block_sizes':[{'name':'2x','min':1,'max':2}]},"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[0].name: '2x' is not a C "
               "identifier; use letters, digits and underscores, not "
               "starting with a digit");
  expect_error(HEAD OUT "'space':{'SPLIT-K':{'type':'boolean'}}," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space[\"SPLIT-K\"]: 'SPLIT-K' is not a C identifier; "
               "use letters, digits and underscores, not starting with a "
               "digit (a user tunable's key is its -D macro name)");
  expect_error(HEAD OUT "'space':{'E':{'type':'enum','choices':['a','b c']}},"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: space.E.choices[1]: 'b c' is not a C identifier; use "
               "letters, digits and underscores, not starting with a digit "
               "(string choices become -D values)");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M+'],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: key[0]: 'M+' is not a C identifier; use letters, "
               "digits and underscores, not starting with a digit");
}

static void test_spec_args(void **state) {
  (void)state;
  expect_error(HEAD SPACE "'args':[{'name':'A','type':'flaot*','numel':1}],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].type: unknown type 'flaot'; use float, "
               "double, __half, __nv_bfloat16, int8_t..int64_t, "
               "uint8_t..uint64_t or int, optionally with 'const' and one "
               "'*'; did you mean 'float'?");
  expect_error(HEAD SPACE "'args':[{'name':'A','type':'float**','numel':1}],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].type: unknown type 'float*'; use float, "
               "double, __half, __nv_bfloat16, int8_t..int64_t, "
               "uint8_t..uint64_t or int, optionally with 'const' and one "
               "'*'; did you mean 'float'?");
  expect_error(HEAD SPACE
               "'args':[{'name':'A','type':'const float*','numel':1,"
               "'output':true}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].output: a pointer to const cannot be an "
               "output; drop 'const' from the type or remove 'output'");
  expect_error(HEAD SPACE
               "'args':[{'name':'n','type':'int','value':'M','init':'zeros'}],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: a scalar takes only 'value'; 'init' is "
               "for pointers");
  expect_error(HEAD SPACE "'args':[{'name':'n','type':'int'}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0]: missing required key 'value' (the scalar "
               "passed, e.g. \"M\")");
  expect_error(HEAD SPACE
               "'args':[{'name':'A','type':'float*','numel':1,'value':1}],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].value: a pointer takes 'numel' (its element "
               "count), not 'value'");
  expect_error(HEAD SPACE
               "'args':[{'name':'A','type':'float*','numel':1,"
               "'init':'randint(5,1)'}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: randint(5,1): lo is greater than hi; "
               "write randint(1,5)");
  expect_error(HEAD SPACE
               "'args':[{'name':'A','type':'float*','numel':1,"
               "'init':'randint(1)'}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: 'randint(1)' is malformed; write "
               "randint(lo,hi) with integers lo <= hi");
  expect_error(HEAD SPACE
               "'args':[{'name':'A','type':'float*','numel':1,"
               "'init':'randm'}]," LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: 'randm' is not an init; use randn, "
               "rand, randint(lo,hi), arange, zeros, ones or a number; did "
               "you mean 'randn'?");
  expect_error(HEAD SPACE "'args':[{'name':'I','type':'const int*','numel':1}],"
               LAUNCH "}",
               HELION_ERR_INVALID,
               "k.json: args[0]: missing required key 'init' (an integer "
               "input needs one, e.g. \"zeros\", \"arange\" or "
               "\"randint(0,9)\")");
  /* Every init spelled out. */
  helion_spec_t *s = parse_ok(
      HEAD SPACE
      "'args':[{'name':'a','type':'float*','numel':1,'init':'rand','output':true},"
      "{'name':'b','type':'double*','numel':1,'init':'arange'},"
      "{'name':'c','type':'uint8_t*','numel':1,'init':'zeros'},"
      "{'name':'d','type':'__nv_bfloat16*','numel':1,'init':'ones'},"
      "{'name':'e','type':'int8_t*','numel':'M * N','init':-2},"
      "{'name':'f','type':'  const   unsigned   long long * ','numel':1,"
      "'init':' randint( 0 , 1 )'},"
      "{'name':'g','type':'double','value':0.25}]," LAUNCH "}");
  assert_int_equal(s->args[0].init, HELION_INIT_RAND);
  assert_int_equal(s->args[1].init, HELION_INIT_ARANGE);
  assert_int_equal(s->args[1].dtype, HELION_DT_DOUBLE);
  assert_int_equal(s->args[2].init, HELION_INIT_ZEROS);
  assert_int_equal(s->args[2].dtype, HELION_DT_U8);
  assert_int_equal(s->args[3].init, HELION_INIT_ONES);
  assert_int_equal(s->args[3].dtype, HELION_DT_BF16);
  assert_int_equal(s->args[4].init, HELION_INIT_CONST);
  assert_true(s->args[4].init_const == -2.0);
  assert_int_equal(s->args[5].dtype, HELION_DT_U64);
  assert_true(s->args[5].is_const && s->args[5].is_pointer);
  assert_int_equal(s->args[5].init, HELION_INIT_RANDINT);
  assert_true(s->args[5].init_lo == 0.0 && s->args[5].init_hi == 1.0);
  assert_string_equal(helion_expr_text(s->args[6].value), "0.25");
  helion_spec_destroy(s);
}

/* ------------------------------------------------------- expressions */

static void test_spec_expression_errors(void **state) {
  (void)state;
  expect_error(HEAD OUT SPACE
               "'launch':{'tiles':['cdiv(M, BLOCK_Q)'],'block':[32]}}",
               HELION_ERR_NOT_FOUND,
               "k.json: launch.tiles[0]: column 9: undefined name 'BLOCK_Q'; "
               "known names: M, N, BLOCK_M, num_warps, num_sms, "
               "smem_per_block, regs_per_sm, cc_major, cc_minor");
  expect_error(HEAD OUT SPACE "'restrictions':['BLOCK_M <= 64', 'BLOCK_M <']," LAUNCH
                    "}",
               HELION_ERR_PARSE,
               "k.json: restrictions[1]: column 10: expected an expression "
               "but found end of input");
  expect_error(HEAD SPACE "'args':[{'name':'A','type':'float*','numel':'M*Q'}],"
               LAUNCH "}",
               HELION_ERR_NOT_FOUND,
               "k.json: args[0].numel: column 3: undefined name 'Q'; known "
               "names: M, N, BLOCK_M, num_warps, num_sms, smem_per_block, "
               "regs_per_sm, cc_major, cc_minor");
  expect_error(HEAD OUT SPACE "'launch':{'tiles':[1],'block':[1],'shared_mem':"
                    "'x'}}",
               HELION_ERR_NOT_FOUND,
               "k.json: launch.shared_mem: column 1: undefined name 'x'; "
               "known names: M, N, BLOCK_M, num_warps, num_sms, "
               "smem_per_block, regs_per_sm, cc_major, cc_minor");
}

/* A restriction that divides by zero for every configuration: nothing
 * satisfies it, and the message says why with the column (expr reports the
 * column where the division starts). */
static void test_spec_division_by_zero(void **state) {
  (void)state;
  /* BLOCK_M takes 16, 32, 64: three configurations. */
  expect_space(HEAD OUT SPACE "'restrictions':['BLOCK_M / 0 > 1']," LAUNCH "}",
               "k.json: restrictions[0] 'BLOCK_M / 0 > 1': no configuration "
               "satisfies it (checked all 3 configurations); at the default "
               "configuration it fails: column 1: division by zero");
  /* One that divides by zero only at the default (BLOCK_M = 32) is the
   * default's fault. */
  expect_space(HEAD OUT SPACE "'restrictions':['M / (BLOCK_M - 32) > 0']," LAUNCH
                    "}",
               "k.json: defaults: the default configuration violates "
               "restrictions[0] 'M / (BLOCK_M - 32) > 0' (column 1: division "
               "by zero); set \"defaults\" to one that satisfies it");
  /* A launch expression at the default configuration. */
  expect_space(HEAD OUT SPACE
               "'launch':{'tiles':['1 + M / (BLOCK_M - 32)'],'block':[32]}}",
               "k.json: launch.tiles[0]: column 5: division by zero "
               "(evaluating the default configuration for shape M=64, N=32)");
  /* The same expression is fine at the default; a caller evaluating it for
   * BLOCK_M = 16 gets the error. */
  helion_spec_t *s = parse_ok(HEAD OUT SPACE
                              "'launch':{'tiles':['M / (BLOCK_M - 16)'],"
                              "'block':[32]}}");
  helion_device_props_t dev;
  helion_err_t err;
  assert_int_equal(helion_device_props_for_arch("sm_90", &dev, &err), 0);
  helion_space_t *sp = NULL;
  assert_int_equal(helion_spec_space(s, s->shapes, &dev, &sp, &err), 0);
  helion_space_destroy(sp);
  helion_num_t vals[16], v = helion_num_int(-1);
  assert_int_equal(s->nscope, 9);
  helion_spec_scope_values(s, s->shapes, &dev, vals);
  vals[2] = helion_num_int(32); /* BLOCK_M */
  assert_int_equal(helion_expr_eval(s->tiles[0], vals, &v, &err), 0);
  assert_int_equal(v.i, 4); /* 64 / 16 */
  vals[2] = helion_num_int(16);
  assert_int_equal(helion_expr_eval(s->tiles[0], vals, &v, &err),
                   HELION_ERR_EVAL);
  assert_string_equal(err.msg, "column 1: division by zero");
  helion_spec_destroy(s);
}

static void test_spec_unsatisfiable_restriction(void **state) {
  (void)state;
  expect_space(HEAD OUT SPACE "'restrictions':['BLOCK_M <= 64', "
                    "'BLOCK_M * 2 <= 0']," LAUNCH "}",
               "k.json: restrictions[1] 'BLOCK_M * 2 <= 0': no configuration "
               "satisfies it (checked all 3 configurations)");
  /* Satisfiable, but not by the default BLOCK_M = 32. */
  expect_space(HEAD OUT SPACE "'restrictions':['BLOCK_M >= 64']," LAUNCH "}",
               "k.json: defaults: the default configuration violates "
               "restrictions[0] 'BLOCK_M >= 64'; set \"defaults\" to one that "
               "satisfies it");
  /* ... and fixed by "defaults". */
  expect_space(HEAD OUT SPACE "'restrictions':['BLOCK_M >= 64']," LAUNCH
                    ",'defaults':{'block_sizes':[64]}}",
               NULL);
  /* Shape and device values reach the restrictions: 64 * M = 4096 fits the
   * 232448 bytes of sm_90 ... */
  expect_space(HEAD OUT SPACE "'restrictions':['BLOCK_M * M <= smem_per_block']," LAUNCH
                    "}",
               NULL);
  /* ... but no BLOCK_M makes 16 * 64 * 1000 fit. */
  expect_space(HEAD OUT SPACE "'restrictions':['BLOCK_M * M * 1000 <= "
                    "smem_per_block']," LAUNCH "}",
               "k.json: restrictions[0] 'BLOCK_M * M * 1000 <= "
               "smem_per_block': no configuration satisfies it (checked all "
               "3 configurations)");
  /* The launch at the default must have at least one tile. */
  expect_space(HEAD OUT SPACE "'launch':{'tiles':['M / 128'],'block':[32]}}",
               "k.json: launch.tiles[0]: 'M / 128' is 0 for the default "
               "configuration and shape M=64, N=32; the grid needs at least "
               "1 tile");
}

/* Slot checks of helion_space_create come back under "space." (a spec
 * changed after parsing reaches them). */
static void test_spec_space_errors_prefixed(void **state) {
  (void)state;
  helion_spec_t *s = parse_ok(HEAD OUT SPACE LAUNCH "}");
  helion_device_props_t dev;
  helion_err_t err;
  assert_int_equal(helion_device_props_for_arch("sm_90", &dev, &err), 0);
  s->params[0].frag.high = 100;
  helion_space_t *sp = NULL;
  assert_int_equal(helion_spec_space(s, s->shapes, &dev, &sp, &err),
                   HELION_ERR_INVALID);
  assert_null(sp);
  assert_string_equal(err.msg, "k.json: space.block_sizes[0].max: 100 is not "
                               "a power of two; use 64 or 128");
  helion_spec_destroy(s);
}

/* ------------------------------------------------- issue 12 classes */

/* Class 1: every value fits its C type exactly or is refused, never
 * narrowed: JSON integers beyond 2^53 - 1, scalar values at the default
 * configuration of every shape, inits. */
static void test_spec_values_never_narrow(void **state) {
  (void)state;
  /* 9007199254740993 reads as ...992: beyond the exact range. */
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M'],"
               "'shapes':[{'M':9007199254740993}]}",
               HELION_ERR_INVALID,
               "k.json: shapes[0].M: 9007199254740992 is too large; integers "
               "must be within +-9007199254740991, the range JSON numbers "
               "hold exactly");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M'],"
               "'shapes':[{'M':1e308}]}",
               HELION_ERR_INVALID,
               "k.json: shapes[0].M: 1e+308 is too large; "
               "integers must be within +-9007199254740991, the range JSON "
               "numbers hold exactly");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k','key':['M'],"
               "'shapes':[{'M':1.5}]}",
               HELION_ERR_INVALID,
               "k.json: shapes[0].M: expected an integer, got 1.5");
  /* A shape of 2^31 passed as an int. */
#define NARROW_HEAD                                                            \
  "{'name':'k','source':'matmul.cu','entry':'k','key':['M','N'],"              \
  "'shapes':[{'M':64,'N':32},{'M':2147483648,'N':32}],"
  const char *text =
      NARROW_HEAD "'args':[{'name':'m','type':'int','value':'M'}," OUT_ARG "],"
      LAUNCH1 "}";
  helion_spec_t *s = parse_ok(text);
  helion_device_props_t dev;
  helion_err_t err;
  helion_space_t *sp = NULL;
  assert_int_equal(helion_device_props_for_arch("sm_90", &dev, &err), 0);
  assert_int_equal(helion_spec_space(s, s->shapes, &dev, &sp, &err), 0);
  helion_space_destroy(sp);
  sp = NULL;
  assert_int_equal(helion_spec_space(s, s->shapes + 2, &dev, &sp, &err),
                   HELION_ERR_INVALID);
  assert_null(sp);
  assert_string_equal(err.msg,
                      "k.json: shape M=2147483648, N=32: args[0] (m).value: "
                      "'M': 2147483648 does not fit int32_t "
                      "(-2147483648..2147483647); use a wider type (at the "
                      "default configuration)");
  helion_spec_destroy(s);
  /* The same at the first shape, for each kind of value. */
  static const struct {
    const char *arg;
    const char *msg;
  } bad[] = {
      {"{'name':'a','type':'int','value':1.5}",
       "k.json: shape M=64, N=32: args[0] (a).value: '1.5': 1.5 is not an "
       "integer, which int32_t needs; give an integer or use a floating type "
       "(at the default configuration)"},
      {"{'name':'a','type':'uint8_t','value':'M * 4'}",
       "k.json: shape M=64, N=32: args[0] (a).value: 'M * 4': 256 does not "
       "fit uint8_t (0..255); use a wider type (at the default "
       "configuration)"},
      {"{'name':'a','type':'unsigned','value':'N - 33'}",
       "k.json: shape M=64, N=32: args[0] (a).value: 'N - 33': -1 does not "
       "fit uint32_t (0..4294967295); use a wider type (at the default "
       "configuration)"},
      {"{'name':'a','type':'float','value':'1e39'}",
       "k.json: shape M=64, N=32: args[0] (a).value: '1e39': 1e+39 "
       "is beyond float's range (+-3.40282e+38); use a wider type (at the "
       "default configuration)"},
      {"{'name':'a','type':'float','value':16777217}",
       "k.json: shape M=64, N=32: args[0] (a).value: '16777217': the integer "
       "16777217 is not exactly a float (its significand has 24 bits); use a "
       "wider type (at the default configuration)"},
      {"{'name':'a','type':'const int8_t*','numel':'M * 4','init':'arange'}",
       "k.json: shape M=64, N=32: args[0] (a).numel: 'M * 4' is 256, so "
       "\"arange\" reaches 255: 255 does not fit int8_t (-128..127); use a "
       "wider type (at the default configuration)"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char spec[1024];
    snprintf(spec, sizeof(spec), "%s'args':[%s," OUT_ARG "],%s}", NARROW_HEAD,
             bad[i].arg, LAUNCH1);
    expect_space(spec, bad[i].msg);
  }
  /* What fits stays accepted: a fraction rounds for float as C reads a
   * literal; 2^24 is exact; int64_t takes 2^31. */
  expect_space(NARROW_HEAD "'args':[{'name':'a','type':'float','value':1e-6},"
               "{'name':'b','type':'float','value':16777216},"
               "{'name':'c','type':'int64_t','value':'M * 65536'},"
               "{'name':'d','type':'const int8_t*','numel':128,"
               "'init':'arange'}," OUT_ARG "]," LAUNCH1 "}",
               NULL);
  /* Inits: a constant or randint bounds out of the element type, random
   * fractions for integers. */
  expect_error(HEAD "'args':[{'name':'a','type':'uint8_t*','numel':1,"
               "'init':300}," OUT_ARG "]," LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: 300 does not fit uint8_t (0..255); use "
               "a wider type");
  expect_error(HEAD "'args':[{'name':'a','type':'const int8_t*','numel':1,"
               "'init':'randint(0, 200)'}," OUT_ARG "]," LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: 200 does not fit int8_t (-128..127); "
               "use a wider type");
  expect_error(HEAD "'args':[{'name':'a','type':'const int*','numel':1,"
               "'init':'randn'}," OUT_ARG "]," LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: 'randn' gives fractions, which int32_t "
               "elements cannot hold; use randint(lo,hi), arange, zeros, ones "
               "or an integer");
  expect_error(HEAD "'args':[{'name':'a','type':'__half*','numel':1,"
               "'init':1e6}," OUT_ARG "]," LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: args[0].init: the integer 1000000 is not exactly a "
               "__half (its significand has 11 bits); use a wider type");
  /* An enum choice beyond the exact range. */
  expect_error(HEAD "'space':{'E':{'type':'enum','choices':[1,"
               "9007199254740993]}}," OUT LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: space.E.choices[1]: 9007199254740992 is too large; "
               "integers must be within +-9007199254740991, the range JSON "
               "numbers hold exactly");
}

/* Class 2: with no output nothing would be compared, so every config would
 * count as correct: refused unless opted out explicitly. */
static void test_spec_accuracy_not_skipped_silently(void **state) {
  (void)state;
  const char *msg = "k.json: args: no argument is marked \"output\": true, so "
                    "no config's result would be checked; mark the kernel's "
                    "outputs, or opt out explicitly with \"accuracy\": "
                    "{\"check\": false}";
  expect_error(HEAD SPACE LAUNCH "}", HELION_ERR_INVALID, msg);
  expect_error(HEAD SPACE "'args':[]," LAUNCH "}", HELION_ERR_INVALID, msg);
  expect_error(HEAD SPACE "'args':[{'name':'a','type':'const float*',"
               "'numel':'M'},{'name':'b','type':'float*','numel':'M'}],"
               LAUNCH "}",
               HELION_ERR_INVALID, msg);
  expect_error(HEAD SPACE OUT LAUNCH ",'accuracy':{'check':false}}",
               HELION_ERR_INVALID,
               "k.json: accuracy.check: false, but args[0] (out) is an "
               "output; remove \"check\" to compare outputs, or remove "
               "\"output\"");
  expect_error(HEAD SPACE LAUNCH ",'accuracy':{'check':'no'}}",
               HELION_ERR_INVALID,
               "k.json: accuracy.check: expected a boolean, got string");
  helion_spec_t *s =
      parse_ok(HEAD SPACE LAUNCH ",'accuracy':{'check':false}}");
  assert_false(s->accuracy_check);
  helion_spec_destroy(s);
  s = parse_ok(HEAD SPACE OUT LAUNCH ",'accuracy':{'check':true}}");
  assert_true(s->accuracy_check);
  helion_spec_destroy(s);
}

/* Class 3: names that would rename the tool's macros or CUDA's. */
static void test_spec_reserved_names(void **state) {
  (void)state;
  expect_error(HEAD OUT "'space':{'block_sizes':[{'name':'HL_NUM_WARPS',"
               "'min':16,'max':64}]}," LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: space.block_sizes[0].name: 'HL_NUM_WARPS' is a "
               "reserved name: the HL_ prefix is the tool's own -D macros; "
               "choose another name");
  expect_error(HEAD OUT "'space':{'__CUDA_ARCH__':{'type':'boolean'}},"
               LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: space.__CUDA_ARCH__: '__CUDA_ARCH__' is a reserved "
               "name: names starting with '__' are reserved to the compiler "
               "(__CUDA_ARCH__, __CUDACC__, ...); choose another name (a user "
               "tunable's key is its -D macro name)");
  expect_error(HEAD OUT "'space':{'HELION_X':{'type':'boolean'}}," LAUNCH1
               "}",
               HELION_ERR_INVALID,
               "k.json: space.HELION_X: 'HELION_X' is a reserved name: the "
               "HELION_ prefix is the tool's own macros; choose another name "
               "(a user tunable's key is its -D macro name)");
  expect_error(HEAD OUT "'space':{'blockIdx':{'type':'boolean'}}," LAUNCH1
               "}",
               HELION_ERR_INVALID,
               "k.json: space.blockIdx: 'blockIdx' is a reserved name: it is "
               "a CUDA built-in variable; choose another name (a user "
               "tunable's key is its -D macro name)");
  expect_error("{'name':'k','source':'matmul.cu','entry':'k',"
               "'key':['threadIdx']}",
               HELION_ERR_INVALID,
               "k.json: key[0]: 'threadIdx' is a reserved name: it is a CUDA "
               "built-in variable; choose another name");
  expect_error(HEAD "'args':[{'name':'warpSize','type':'int','value':1}],"
               LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: args[0].name: 'warpSize' is a reserved name: it is a "
               "CUDA built-in variable; choose another name");
  expect_error(HEAD "'args':[{'name':'CUDART_PI','type':'int','value':1}],"
               LAUNCH1 "}",
               HELION_ERR_INVALID,
               "k.json: args[0].name: 'CUDART_PI' is a reserved name: the "
               "CUDART_ prefix is the constants of CUDA's math_constants.h; "
               "choose another name");
  /* Near misses stay allowed. */
  helion_spec_t *s = parse_ok(HEAD OUT "'space':{'hl_x':{'type':'boolean'},"
                              "'_x':{'type':'boolean'},'HLX':"
                              "{'type':'boolean'}}," LAUNCH1 "}");
  helion_spec_destroy(s);
}

/* Class 4: the default configuration of every shape launches within CUDA's
 * limits and the device's shared memory; `check` and `tune` both build the
 * space through helion_spec_space. */
static void test_spec_default_launch_limits(void **state) {
  (void)state;
  expect_space(HEAD OUT SPACE "'launch':{'tiles':[1],'block':['64 * M']}}",
               "k.json: shape M=64, N=32: launch.block[0]: '64 * M' evaluates "
               "to 4096; CUDA allows 1..1024 at the default configuration; "
               "change the launch expressions or the defaults");
  expect_space(HEAD OUT SPACE "'launch':{'tiles':[1],'block':[32, 32, 2]}}",
               "k.json: shape M=64, N=32: launch.block: 2048 threads per "
               "block; CUDA allows at most 1024 at the default configuration; "
               "change the launch expressions or the defaults");
  expect_space(HEAD OUT SPACE "'launch':{'tiles':[1, 'M * 1024'],"
               "'block':[32]}}",
               "k.json: shape M=64, N=32: launch.tiles[1]: 'M * 1024' "
               "evaluates to 65536; CUDA allows 1..65535 at the default "
               "configuration; change the launch expressions or the defaults");
  expect_space(HEAD OUT SPACE "'launch':{'tiles':[1],'block':[32],"
               "'shared_mem':'10485760'}}",
               "k.json: shape M=64, N=32: launch.shared_mem: '10485760' is "
               "10485760 bytes of dynamic shared memory at the default "
               "configuration; sm_90 allows at most 232448 per block; change "
               "the expression or the defaults");
  /* At the limit is fine. */
  expect_space(HEAD OUT SPACE "'launch':{'tiles':[1],'block':[1024],"
               "'shared_mem':'smem_per_block'}}",
               NULL);
}

static void test_spec_missing_source(void **state) {
  (void)state;
  char cwd[4096], msg[4200];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  snprintf(msg, sizeof(msg),
           "k.json: source: 'kk.cu' not found (looked in %s/kk.cu)", cwd);
  expect_error("{'name':'k','source':'kk.cu','entry':'k'," OUT1 LAUNCH1 "}",
               HELION_ERR_NOT_FOUND, msg);
  /* Relative to the spec's directory, not the working directory. */
  helion_spec_t *s = NULL;
  helion_err_t err;
  char *json = dq("{'name':'k','source':'matmul.cu','entry':'k'," OUT1 LAUNCH1 "}");
  assert_int_equal(helion_spec_parse(json, strlen(json), "/nonexistent/k.json",
                                     &s, &err),
                   HELION_ERR_NOT_FOUND);
  assert_string_equal(err.msg,
                      "/nonexistent/k.json: source: 'matmul.cu' not found "
                      "(looked in /nonexistent/matmul.cu)");
  /* A directory is not a source. */
  free(json);
  json = dq("{'name':'k','source':'.','entry':'k'," OUT1 LAUNCH1 "}");
  snprintf(msg, sizeof(msg),
           "k.json: source: '.' is not a regular file (%s/.); name the .cu "
           "file",
           cwd);
  assert_int_equal(helion_spec_parse(json, strlen(json), "k.json", &s, &err),
                   HELION_ERR_NOT_FOUND);
  assert_string_equal(err.msg, msg);
  free(json);
  /* A spec file that is not there. */
  assert_int_equal(helion_spec_load("nope.json", &s, &err), HELION_ERR_IO);
  assert_string_equal(err.msg,
                      "nope.json: cannot open: No such file or directory");
}

/* ---------------------------------------------------- shapes, devices */

static void test_spec_parse_shape(void **state) {
  (void)state;
  helion_spec_t *s = NULL;
  helion_err_t err;
  assert_int_equal(helion_spec_load("matmul.json", &s, &err), 0);
  int64_t v[3] = {0, 0, 0};
  assert_int_equal(helion_spec_parse_shape(s, "M=4096,N=128,K=64", v, &err),
                   0);
  assert_int_equal(v[0], 4096);
  assert_int_equal(v[1], 128);
  assert_int_equal(v[2], 64);
  assert_int_equal(helion_spec_parse_shape(s, " K = 1, M=2 ,N=3", v, &err), 0);
  assert_int_equal(v[0], 2);
  assert_int_equal(v[1], 3);
  assert_int_equal(v[2], 1);
  struct {
    const char *text, *msg;
  } bad[] = {
      {"M=1,N=2", "shape 'M=1,N=2': missing K; give every key: M, N, K"},
      {"M=1,N=2,K=3,Q=4", "shape 'M=1,N=2,K=3,Q=4': unknown key 'Q'; the keys "
                          "are M, N, K"},
      {"M=1,M=2,N=1,K=1", "shape 'M=1,M=2,N=1,K=1': M is given twice; give "
                          "it once"},
      {"M=1,N=12x,K=1", "shape 'M=1,N=12x,K=1': N: '12x' is not a positive "
                        "integer"},
      {"M=0,N=1,K=1", "shape 'M=0,N=1,K=1': M: '0' is not a positive "
                      "integer"},
      {"M=1,N=1,K=", "shape 'M=1,N=1,K=': K: '' is not a positive integer"},
      {"M,N=1,K=1", "shape 'M,N=1,K=1': 'M' is not NAME=VALUE; give every "
                    "key once, e.g. M=..."},
      {"M=99999999999999999999,N=1,K=1",
       "shape 'M=99999999999999999999,N=1,K=1': M: '99999999999999999999' is "
       "too large; a shape value is at most 9007199254740991 (2^53 - 1, what "
       "a spec's JSON holds exactly)"},
      {"M=9007199254740993,N=1,K=1",
       "shape 'M=9007199254740993,N=1,K=1': M: '9007199254740993' is too "
       "large; a shape value is at most 9007199254740991 (2^53 - 1, what a "
       "spec's JSON holds exactly)"},
      {"M=1.5,N=1,K=1", "shape 'M=1.5,N=1,K=1': M: '1.5' is not a positive "
                        "integer"},
      {"M=1e308,N=1,K=1", "shape 'M=1e308,N=1,K=1': M: '1e308' is not a "
                          "positive integer"},
      {"", "shape '': missing M; give every key: M, N, K"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v[0] = 7;
    assert_int_equal(helion_spec_parse_shape(s, bad[i].text, v, &err),
                     HELION_ERR_USAGE);
    assert_string_equal(err.msg, bad[i].msg);
    assert_int_equal(v[0], 7); /* untouched on failure */
  }
  helion_spec_destroy(s);
}

static void test_spec_device_props(void **state) {
  (void)state;
  helion_device_props_t d;
  helion_err_t err;
  assert_int_equal(helion_device_props_for_arch("sm_90", &d, &err), 0);
  assert_string_equal(d.name, "sm_90 (assumed)");
  assert_int_equal(d.cc_major, 9);
  assert_int_equal(d.cc_minor, 0);
  assert_int_equal(d.num_sms, 132);
  assert_int_equal(d.smem_per_block, 232448); /* 227 KiB */
  assert_int_equal(d.regs_per_sm, 65536);
  assert_int_equal(helion_device_props_for_arch("sm_80", &d, &err), 0);
  assert_int_equal(d.num_sms, 108);
  assert_int_equal(d.smem_per_block, 166912); /* 163 KiB */
  assert_int_equal(helion_device_props_for_arch("sm_89", &d, &err), 0);
  assert_int_equal(d.num_sms, 128);
  assert_int_equal(d.smem_per_block, 101376); /* 99 KiB */
  assert_int_equal(d.cc_minor, 9);
  assert_int_equal(helion_device_props_for_arch("sm_100a", &d, &err), 0);
  assert_string_equal(d.name, "sm_100a (assumed)");
  assert_int_equal(d.cc_major, 10);
  assert_int_equal(d.cc_minor, 0);
  assert_int_equal(d.num_sms, 148);
  assert_int_equal(helion_device_props_for_arch("sm_70", &d, &err), 0);
  assert_int_equal(d.num_sms, 80);
  assert_int_equal(helion_device_props_for_arch("sm_120", &d, &err), 0);
  assert_int_equal(d.cc_major, 12);
  const char *unknown = "unknown architecture 'sm_42'; use one of sm_70, "
                        "sm_72, sm_75, sm_80, sm_86, sm_87, sm_89, sm_90, "
                        "sm_100, sm_103, sm_120, sm_121";
  assert_int_equal(helion_device_props_for_arch("sm_42", &d, &err),
                   HELION_ERR_INVALID);
  assert_string_equal(err.msg, unknown);
  assert_int_equal(helion_device_props_for_arch("sm_90x", &d, &err),
                   HELION_ERR_INVALID);
  assert_int_equal(helion_device_props_for_arch("90", &d, &err),
                   HELION_ERR_INVALID);
}

int main(void) {
  const char *data = getenv("HELION_TEST_DATA");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/specs", data ? data : "tests/data");
  if (chdir(dir) != 0) {
    fprintf(stderr, "test_spec: cannot enter %s\n", dir);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spec_load_full),
      cmocka_unit_test(test_spec_helion_defaults),
      cmocka_unit_test(test_spec_malformed_json),
      cmocka_unit_test(test_spec_unknown_keys),
      cmocka_unit_test(test_spec_missing_keys),
      cmocka_unit_test(test_spec_wrong_types),
      cmocka_unit_test(test_spec_bounds),
      cmocka_unit_test(test_spec_names),
      cmocka_unit_test(test_spec_args),
      cmocka_unit_test(test_spec_expression_errors),
      cmocka_unit_test(test_spec_division_by_zero),
      cmocka_unit_test(test_spec_unsatisfiable_restriction),
      cmocka_unit_test(test_spec_space_errors_prefixed),
      cmocka_unit_test(test_spec_values_never_narrow),
      cmocka_unit_test(test_spec_accuracy_not_skipped_silently),
      cmocka_unit_test(test_spec_reserved_names),
      cmocka_unit_test(test_spec_default_launch_limits),
      cmocka_unit_test(test_spec_missing_source),
      cmocka_unit_test(test_spec_parse_shape),
      cmocka_unit_test(test_spec_device_props),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
