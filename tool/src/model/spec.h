/*
 * spec.h: the kernel spec (DESIGN.md §3), parsed from JSON and validated
 * into a typed struct.
 *
 * Every error is one line: "<file>: <json path>: <what>; <what to do>", e.g.
 * "k.json: space.block_sizes[2].max: 100 is not a power of two; use 64 or 128".
 * Expression errors add the column: "k.json: launch.tiles[0]: column 9:
 * undefined name 'BLOCK_Q'; known names: M, N, K, BLOCK_M, ...".
 */
#ifndef HELION_SPEC_H
#define HELION_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/arch.h"
#include "model/expr.h"
#include "model/launch.h"
#include "model/space.h"
#include "util/util.h"

/* The longest name (kernel, argument, key, parameter) a spec may use. */
#define HELION_SPEC_NAME_MAX 48

typedef enum helion_dtype {
  HELION_DT_FLOAT = 0,
  HELION_DT_DOUBLE,
  HELION_DT_HALF, /* __half */
  HELION_DT_BF16, /* __nv_bfloat16 */
  HELION_DT_I8,
  HELION_DT_I16,
  HELION_DT_I32,
  HELION_DT_I64,
  HELION_DT_U8,
  HELION_DT_U16,
  HELION_DT_U32,
  HELION_DT_U64,
} helion_dtype;

/* Size in bytes and C spelling ("__nv_bfloat16", "int32_t"). */
size_t helion_dtype_size(helion_dtype t);
const char *helion_dtype_name(helion_dtype t);

/*
 * Whether `v` is a value of type `t` as it stands: an integer type takes an
 * integer within its range (2147483648 is refused for int32_t, 1.5 for any
 * integer type); a floating type takes an integer only when exact and a
 * fraction within its range (rounded to the nearest value, as C reads a
 * literal; a non-zero value that would become 0 is refused). Nothing is ever
 * narrowed: HELION_ERR_INVALID with "2147483648 does not fit int32_t
 * (-2147483648..2147483647); use a wider type".
 */
helion_status helion_dtype_check(helion_dtype t, helion_num_t v,
                                 helion_err_t *err);

typedef enum helion_init_kind {
  HELION_INIT_NONE = 0, /* outputs without "init": poisoned before runs */
  HELION_INIT_RANDN,
  HELION_INIT_RAND,
  HELION_INIT_RANDINT, /* uniform integers in [lo, hi] */
  HELION_INIT_ARANGE,
  HELION_INIT_ZEROS,
  HELION_INIT_ONES,
  HELION_INIT_CONST,
} helion_init_kind;

typedef struct helion_spec_arg {
  char *name;      /* C identifier */
  char *type;      /* as written: "const __half*" */
  helion_dtype dtype;
  bool is_pointer;
  bool is_const;   /* pointer to const: an input */
  bool output;     /* compared against the baseline */
  helion_expr_t *numel; /* pointers: element count (spec scope) */
  helion_expr_t *value; /* scalars: the value passed (spec scope) */
  helion_init_kind init;
  double init_lo, init_hi; /* RANDINT bounds */
  double init_const;       /* CONST */
} helion_spec_arg_t;

/*
 * Whether argument `a` evaluated to `v` (a scalar's value, a pointer's
 * element count) gives the kernel exactly what the spec says: the scalar's
 * value fits its type (helion_dtype_check) and an "arange" init's last value,
 * numel - 1, fits the element type. Fails with HELION_ERR_INVALID and
 * "value: 'N': 2147483648 does not fit int32_t (...)"; callers add where.
 */
helion_status helion_spec_arg_check(const helion_spec_arg_t *a,
                                    helion_num_t v, helion_err_t *err);

typedef struct helion_spec {
  char *path;   /* as given */
  char *dir;    /* directory of path */
  char *name;   /* C identifier */
  char *source; /* resolved path of the .cu file */
  char *entry;  /* extern "C" __global__ function */
  char *reference; /* entry of a reference kernel in the same source, or NULL */
  /* "arch_specific": true compiles for the architecture-specific target
   * (sm_90a rather than sm_90): features such as wgmma that later
   * architectures do not carry. */
  bool arch_specific;

  helion_spec_arg_t *args;
  size_t nargs;

  char **keys; /* shape variables */
  size_t nkeys;
  int64_t *shapes; /* nshapes * nkeys values, in key order */
  size_t nshapes;

  helion_param_t *params; /* flat slots, defaults applied; see space.h */
  size_t nparams;
  char **restrictions;
  size_t nrestrictions;

  /* Launch geometry: up to 3 dimensions each; absent dims are NULL. */
  helion_expr_t *tiles[3];
  helion_expr_t *block[3];
  helion_expr_t *shared_mem; /* NULL: 0 bytes of dynamic shared memory */
  /* The grid those give, with the parameter table's persistent-grid rule
   * (model/launch.h). */
  helion_launch_grid_t grid;

  double atol, rtol; /* defaults 1e-2 / 1e-2 */
  /* "accuracy": {"check": false}: the spec has no output to compare, said
   * explicitly (every config then counts as correct; the loader warns). A
   * spec without an output and without this is refused. */
  bool accuracy_check;

  /* The scope every spec expression was parsed with: key names, then the
   * named params (in flat order), then HELION_DEVICE_PROP_NAMES. */
  char **scope_names;
  size_t nscope;
} helion_spec_t;

/*
 * Reads and validates the spec at `path` (the source file must exist; it is
 * not compiled here). *out is freed with helion_spec_destroy().
 */
helion_status helion_spec_load(const char *path, helion_spec_t **out,
                               helion_err_t *err);

/* The same from text; `path` names it in messages and anchors "source". */
helion_status helion_spec_parse(const char *text, size_t len,
                                const char *path, helion_spec_t **out,
                                helion_err_t *err);

void helion_spec_destroy(helion_spec_t *spec);

/*
 * Fills `out` (spec->nscope values) with the scope values for one shape
 * (spec->nkeys values) and device; params' slots are left as 0 (the space
 * fills them per config).
 */
void helion_spec_scope_values(const helion_spec_t *spec, const int64_t *shape,
                              const helion_device_props_t *dev,
                              helion_num_t *out);

/*
 * Builds the configuration space of the spec for one shape on one device:
 * the spec's params, its restrictions, and the shape variables and device
 * properties as extra names. Errors are prefixed with the spec's path.
 */
helion_status helion_spec_space(const helion_spec_t *spec,
                                const int64_t *shape,
                                const helion_device_props_t *dev,
                                helion_space_t **out, helion_err_t *err);

/*
 * Parses "M=4096,N=128,K=64" into spec->nkeys values (every key exactly
 * once). Errors name the offending part.
 */
helion_status helion_spec_parse_shape(const helion_spec_t *spec,
                                      const char *text, int64_t *out,
                                      helion_err_t *err);

/*
 * Appends a shape as "M=4096,N=128" (the form --shape takes) to `out`.
 * HELION_ERR_NOMEM or HELION_ERR_LIMIT when `out` cannot grow.
 */
helion_status helion_spec_shape_str(const helion_spec_t *spec,
                                    const int64_t *shape, helion_buf_t *out);

#endif /* HELION_SPEC_H */
