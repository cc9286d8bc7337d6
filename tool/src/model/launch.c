/* launch.c: a config's launch geometry as expression trees (launch.h). */
#include "model/launch.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model/params.h"
#include "model/spec.h"

/* The named scalar slot of the table row `d` in the spec, or NULL. */
static const helion_param_t *row_slot(const helion_spec_t *spec,
                                      const helion_param_def_t *d) {
  for (size_t i = 0; d && i < spec->nparams; i++) {
    const helion_param_t *p = &spec->params[i];
    if (p->index < 0 && p->name && strcmp(p->key, d->key) == 0)
      return p;
  }
  return NULL;
}

/* True when some choice of the pid slot is a persistent code. */
static bool can_persist(const helion_param_t *pid, int64_t code) {
  if (pid->frag.kind != HELION_FRAG_ENUM)
    return false;
  for (size_t j = 0; j < pid->frag.nchoices; j++)
    if (helion_params_choice_code(pid, (int64_t)j) >= code)
      return true;
  return false;
}

static helion_status parse_into(const helion_spec_t *spec, const char *text,
                                helion_expr_t **out, helion_err_t *err) {
  helion_expr_scope_t scope = {(const char *const *)spec->scope_names,
                               spec->nscope};
  helion_status rc = helion_expr_parse(text, &scope, out, err);
  if (rc)
    helion_err_prefix(err, "%s: the launch grid '%s': ", spec->path, text);
  return rc;
}

helion_status helion_launch_build(helion_spec_t *spec, helion_err_t *err) {
  helion_launch_grid_t g;
  memset(&g, 0, sizeof(g));
  helion_status rc = HELION_OK;
  helion_buf_t cond, total, text;
  helion_buf_init(&cond, 1 << 20);
  helion_buf_init(&total, 1 << 20);
  helion_buf_init(&text, 1 << 20);

  const helion_param_def_t *pid_row =
      helion_params_with_launch(HELION_LAUNCH_PID);
  const helion_param_t *pid = row_slot(spec, pid_row);
  const helion_param_t *mult =
      row_slot(spec, helion_params_with_launch(HELION_LAUNCH_SM_MULTIPLIER));
  bool persistent = pid && can_persist(pid, pid_row->persistent_code);
  if (persistent) {
    rc = helion_buf_appendf(&cond, "%s >= %" PRId64, pid->name,
                            pid_row->persistent_code);
    for (int d = 0; !rc && d < 3; d++)
      if (spec->tiles[d])
        rc = helion_buf_appendf(&total, "%s(%s)", total.len ? " * " : "",
                                helion_expr_text(spec->tiles[d]));
    if (!rc &&
        (rc = parse_into(spec, helion_buf_str(&cond), &g.persistent, err)))
      goto out; /* parse_into wrote the message */
  }
  for (int d = 0; !rc && d < 3; d++) {
    if (!spec->tiles[d])
      continue;
    helion_buf_reset(&text);
    const char *tiles = helion_expr_text(spec->tiles[d]);
    /* Persistent: one dimension of min(tiles, num_sms * multiplier). */
    if (persistent && d == 0)
      rc = helion_buf_appendf(&text, "%s ? min(%s, num_sms * %s) : (%s)",
                              helion_buf_str(&cond), helion_buf_str(&total),
                              mult ? mult->name : "1", tiles);
    else if (persistent)
      rc = helion_buf_appendf(&text, "%s ? 1 : (%s)", helion_buf_str(&cond),
                              tiles);
    else
      rc = helion_buf_appendf(&text, "%s", tiles);
    if (!rc && (rc = parse_into(spec, helion_buf_str(&text), &g.dim[d], err)))
      goto out; /* parse_into wrote the message */
  }
  /* What is left is the text buffers': out of memory or over their cap. */
  if (rc)
    helion_err_set(err, rc, "%s: the launch grid: %s", spec->path,
                   helion_status_str(rc));
out:
  helion_buf_cleanup(&cond);
  helion_buf_cleanup(&total);
  helion_buf_cleanup(&text);
  if (rc) {
    helion_launch_grid_cleanup(&g);
    return rc;
  }
  helion_launch_grid_cleanup(&spec->grid);
  spec->grid = g;
  return HELION_OK;
}

void helion_launch_grid_cleanup(helion_launch_grid_t *g) {
  if (!g)
    return;
  for (int d = 0; d < 3; d++)
    helion_expr_destroy(g->dim[d]);
  helion_expr_destroy(g->persistent);
  memset(g, 0, sizeof(*g));
}

void helion_launch_scope(const helion_spec_t *spec, const helion_space_t *space,
                         const int64_t *shape, const helion_device_props_t *dev,
                         const int64_t *cells, helion_num_t *out) {
  helion_spec_scope_values(spec, shape, dev, out);
  if (!cells)
    cells = space->default_cells;
  size_t k = spec->nkeys;
  for (size_t i = 0; i < space->nparams && i < spec->nparams; i++)
    if (spec->params[i].name && k < spec->nscope)
      out[k++] = helion_space_slot_number(space, i, cells);
}

/* Evaluates an integer launch expression into [lo, hi]. */
static helion_status eval_dim(const helion_expr_t *e, const helion_num_t *scope,
                              const char *what, int64_t lo, int64_t hi,
                              int64_t *out, helion_err_t *err) {
  helion_num_t v;
  helion_status rc = helion_expr_eval(e, scope, &v, err);
  if (rc) {
    helion_err_prefix(err, "%s: ", what);
    return rc;
  }
  if (v.is_float)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: '%s' evaluates to %g; it must be an integer",
                          what, helion_expr_text(e), v.f);
  if (v.i < lo || v.i > hi)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: '%s' evaluates to %lld; CUDA allows %lld..%lld",
                          what, helion_expr_text(e), (long long)v.i,
                          (long long)lo, (long long)hi);
  *out = v.i;
  return HELION_OK;
}

helion_status helion_launch_eval(const helion_spec_t *spec,
                                 const helion_num_t *scope,
                                 helion_launch_t *out, helion_err_t *err) {
  static const int64_t grid_max[3] = {HELION_LAUNCH_GRID_X_MAX,
                                      HELION_LAUNCH_GRID_YZ_MAX,
                                      HELION_LAUNCH_GRID_YZ_MAX};
  static const int64_t block_max[3] = {HELION_LAUNCH_BLOCK_XY_MAX,
                                       HELION_LAUNCH_BLOCK_XY_MAX,
                                       HELION_LAUNCH_BLOCK_Z_MAX};
  helion_launch_t l;
  helion_status rc = HELION_OK;
  char what[64];
  int64_t v;
  for (int d = 0; d < 3; d++)
    l.grid[d] = l.block[d] = 1;
  l.shared_mem = 0;
  bool persistent = false;
  if (spec->grid.persistent) {
    helion_num_t p;
    rc = helion_expr_eval(spec->grid.persistent, scope, &p, err);
    if (rc)
      return rc;
    persistent = helion_num_truthy(p);
  }
  /* Each tile count on its own first, so a message names the spec's
   * expression; a persistent grid folds the tiles into one dimension, so
   * only their product (below) is bounded then. */
  for (int d = 0; d < 3; d++) {
    if (!spec->tiles[d])
      continue;
    snprintf(what, sizeof(what), "launch.tiles[%d]", d);
    rc = eval_dim(spec->tiles[d], scope, what, 1,
                  persistent ? INT64_MAX : grid_max[d], &v, err);
    if (rc)
      return rc;
  }
  for (int d = 0; d < 3; d++) {
    if (!spec->grid.dim[d])
      continue;
    snprintf(what, sizeof(what), "launch.tiles (grid dimension %d)", d);
    rc = eval_dim(spec->grid.dim[d], scope, what, 1, grid_max[d], &v, err);
    if (rc)
      return rc;
    l.grid[d] = (uint32_t)v;
  }
  int64_t threads = 1;
  for (int d = 0; d < 3; d++) {
    if (!spec->block[d])
      continue;
    snprintf(what, sizeof(what), "launch.block[%d]", d);
    rc = eval_dim(spec->block[d], scope, what, 1, block_max[d], &v, err);
    if (rc)
      return rc;
    l.block[d] = (uint32_t)v;
    threads *= v;
  }
  if (threads > HELION_LAUNCH_THREADS_MAX)
    return helion_err_set(err, HELION_ERR_INVALID,
                          "launch.block: %lld threads per block; CUDA allows "
                          "at most %d",
                          (long long)threads, HELION_LAUNCH_THREADS_MAX);
  if (spec->shared_mem) {
    rc = eval_dim(spec->shared_mem, scope, "launch.shared_mem", 0,
                  (int64_t)UINT32_MAX, &v, err);
    if (rc)
      return rc;
    l.shared_mem = (uint32_t)v;
  }
  *out = l;
  return HELION_OK;
}
