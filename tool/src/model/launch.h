/*
 * launch.h: the launch geometry of a config (grid, block, dynamic shared
 * memory) as expression trees over the spec's scope, and their evaluation.
 *
 * The spec gives "tiles", "block" and "shared_mem"; the parameter table
 * (params.h) says what the standard parameters do to the grid: a
 * HELION_LAUNCH_PID parameter (pid_type) at a persistent code folds the
 * tiles into one dimension of min(tiles, num_sms * <the
 * HELION_LAUNCH_SM_MULTIPLIER parameter>) blocks. helion_launch_build turns
 * both into one expression per grid dimension, so the tool evaluates the
 * same trees codegen prints as C (helion_expr_to_c); the rule is written
 * once, here. Scope values are the spec's (helion_launch_scope): names are
 * bound when the trees are parsed, never looked up by position.
 */
#ifndef HELION_LAUNCH_H
#define HELION_LAUNCH_H

#include <stdint.h>

#include "model/expr.h"
#include "model/space.h"
#include "util/util.h"

struct helion_spec;
struct helion_device_props;

/* CUDA's limits on a launch. */
#define HELION_LAUNCH_GRID_X_MAX 2147483647
#define HELION_LAUNCH_GRID_YZ_MAX 65535
#define HELION_LAUNCH_BLOCK_XY_MAX 1024
#define HELION_LAUNCH_BLOCK_Z_MAX 64
#define HELION_LAUNCH_THREADS_MAX 1024

typedef struct helion_launch {
  uint32_t grid[3];    /* blocks per dimension; unused dims are 1 */
  uint32_t block[3];   /* threads per dimension; unused dims are 1 */
  uint32_t shared_mem; /* dynamic shared memory, bytes */
} helion_launch_t;

/* The grid's expressions, owned by the spec (helion_spec_t.grid). */
typedef struct helion_launch_grid {
  /* Blocks per dimension (NULL: 1). */
  helion_expr_t *dim[3];
  /* True (non-zero) when the config's grid is persistent; NULL when the
   * spec has no parameter that can make it so. */
  helion_expr_t *persistent;
} helion_launch_grid_t;

/*
 * Builds spec->grid from spec->tiles and the parameter table, parsed against
 * the spec's scope. Called by the spec parser once "launch" is read.
 * HELION_ERR_NOMEM, or the parser's error for a tree that does not parse
 * (a table row naming a parameter the scope lacks).
 */
helion_status helion_launch_build(struct helion_spec *spec, helion_err_t *err);

/* Frees the trees; accepts a zeroed struct. */
void helion_launch_grid_cleanup(helion_launch_grid_t *g);

/*
 * The scope values (spec->nscope of them) for one shape, device and config:
 * the shape's keys, each named param's helion_space_slot_number() from
 * `cells` (NULL: the space's default), then the device properties. `space`
 * must be the spec's space (helion_spec_space).
 */
void helion_launch_scope(const struct helion_spec *spec,
                         const helion_space_t *space, const int64_t *shape,
                         const struct helion_device_props *dev,
                         const int64_t *cells, helion_num_t *out);

/*
 * The geometry of the config whose scope is `scope` (helion_launch_scope).
 * Each tiles[d] must be >= 1 (and within CUDA's grid limit of dimension d
 * unless the grid is persistent); then the grid, block and shared memory are
 * evaluated and checked against CUDA's limits. Fails with HELION_ERR_EVAL
 * (the expression's error, prefixed with "launch.tiles[0]: ") or
 * HELION_ERR_INVALID for a value CUDA cannot launch ("launch.block[0]:
 * 'BLOCK * 16' evaluates to 2048; CUDA allows 1..1024"). Callers treat a
 * failure as the config failing, not as a fault of the run.
 */
helion_status helion_launch_eval(const struct helion_spec *spec,
                                 const helion_num_t *scope,
                                 helion_launch_t *out, helion_err_t *err);

#endif /* HELION_LAUNCH_H */
