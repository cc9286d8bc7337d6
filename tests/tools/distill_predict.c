/*
 * distill_predict.c: what the tool's own tree (helion_distill_predict) gives
 * the shapes of one "distilled" section, for test_generate.sh to hold
 * the generated dispatcher against.
 *
 *   distill_predict SPEC RESULTS.tuned.json INDEX
 *
 * Prints "device MAJOR MINOR NAME", then one line per shape: its key values
 * and the predicted column's config as the generated header's config table
 * spells it (parsed in the spec's space, minimized), "-" without a tree.
 * The shapes: the section's training shapes; each with one key at a
 * node's threshold (floor and ceil, for keys, products and ratios); a
 * log-spaced grid per key (with 0, -1 and 2^40); and seeded random ones.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "results/distill.h"
#include "results/results_file.h"

#define NRANDOM 3000

typedef struct ctx {
  const helion_distill_t *d;
  helion_space_t *space;
  char **names; /* per column: the header's text, NULL until needed */
  int bad;
} ctx;

static const char *column_text(ctx *c, int col) {
  if (c->names[col])
    return c->names[col];
  int64_t *cells = calloc(c->space->ncells + 1, sizeof(*cells));
  helion_buf_t b;
  helion_err_t err = {{0}};
  helion_buf_init(&b, HELION_BUF_DEFAULT_MAX);
  if (!cells ||
      helion_config_from_json(c->space, c->d->configs[col], cells, &err) ||
      helion_config_to_json(c->space, cells, true, &b)) {
    fprintf(stderr, "distill_predict: column %d: %s\n", col, err.msg);
    c->bad = 1;
    helion_buf_cleanup(&b);
    free(cells);
    return "?";
  }
  free(cells);
  c->names[col] = helion_buf_take(&b);
  return c->names[col];
}

static void put(ctx *c, const int64_t *shape) {
  int col = helion_distill_predict(c->d, shape);
  for (size_t k = 0; k < c->d->nkeys; k++)
    printf("%lld ", (long long)shape[k]);
  printf("%s\n", col < 0 ? "-" : column_text(c, col));
}

/* Each training shape with key i moved so that the node's feature lands
 * on (or just by) its threshold. */
static void put_edges(ctx *c) {
  const helion_distill_t *d = c->d;
  int64_t s[HELION_DISTILL_MAX_KEYS];
  for (size_t n = 0; n < d->nnodes; n++) {
    if (d->nodes[n].feature < 0)
      continue;
    size_t i, j;
    int kind = helion_distill_feature_parts(d->nkeys,
                                            (size_t)d->nodes[n].feature, &i, &j);
    double t = d->nodes[n].threshold;
    for (size_t r = 0; r < d->nshapes; r++) {
      const int64_t *row = &d->shapes[r * d->nkeys];
      double other = (double)row[j];
      double want = kind == 0   ? t
                    : kind == 1 ? (other ? t / other : 0.0)
                                : t * other;
      for (int up = 0; up < 2 && fabs(want) < 0x1p62; up++) {
        memcpy(s, row, d->nkeys * sizeof(*s));
        s[i] = (int64_t)(up ? ceil(want) : floor(want));
        put(c, s);
      }
    }
  }
}

/* Every combination of the grid's values over the keys (two keys: a
 * square; more: only as far as 20000 shapes). */
static void put_grid(ctx *c) {
  int64_t vals[128];
  size_t nv = 0;
  vals[nv++] = -1;
  vals[nv++] = 0;
  for (int h = 0; h <= 80; h++)
    vals[nv++] = (int64_t)llround(pow(2.0, h / 2.0));
  size_t nk = c->d->nkeys, total = 1;
  for (size_t k = 0; k < nk && total <= 20000; k++)
    total *= nv;
  if (total > 20000)
    return;
  int64_t s[HELION_DISTILL_MAX_KEYS];
  for (size_t x = 0; x < total; x++) {
    size_t y = x;
    for (size_t k = 0; k < nk; k++, y /= nv)
      s[k] = vals[y % nv];
    put(c, s);
  }
}

static void put_random(ctx *c) {
  uint64_t st = 0x9e3779b97f4a7c15u;
  int64_t s[HELION_DISTILL_MAX_KEYS];
  for (int n = 0; n < NRANDOM; n++) {
    for (size_t k = 0; k < c->d->nkeys; k++) {
      st ^= st << 13, st ^= st >> 7, st ^= st << 17;
      s[k] = (int64_t)llround(pow(2.0, (double)(st % 4001) / 100.0));
    }
    put(c, s);
  }
}

static helion_status make_space(const helion_spec_t *spec,
                                helion_space_t **out, helion_err_t *err) {
  helion_space_opts_t o;
  memset(&o, 0, sizeof(o));
  o.params = spec->params;
  o.nparams = spec->nparams;
  return helion_space_create(&o, out, err);
}

int main(int argc, char **argv) {
  helion_spec_t *spec = NULL;
  helion_results_t r;
  helion_distill_t d;
  helion_err_t err = {{0}};
  ctx c = {&d, NULL, NULL, 0};
  int code = 1;
  if (argc != 4) {
    fprintf(stderr, "usage: distill_predict SPEC RESULTS INDEX\n");
    return 2;
  }
  helion_results_init(&r);
  helion_distill_init(&d);
  const cJSON *sec = NULL;
  if (helion_spec_load(argv[1], &spec, &err) ||
      helion_results_load(argv[2], &r, &err) ||
      make_space(spec, &c.space, &err))
    goto fail;
  sec = cJSON_GetArrayItem(
      cJSON_GetObjectItemCaseSensitive(r.root, "distilled"), atoi(argv[3]));
  if (helion_distill_from_json(sec, "distilled", &d, &err))
    goto fail;
  if (!(c.names = calloc(d.nconfigs, sizeof(*c.names))))
    goto out;
  int major = 0, minor = 0;
  sscanf(d.cc, "%d.%d", &major, &minor);
  printf("device %d %d %s\n", major, minor, d.device_name);
  for (size_t s = 0; s < d.nshapes; s++)
    put(&c, &d.shapes[s * d.nkeys]);
  put_edges(&c);
  put_grid(&c);
  put_random(&c);
  code = c.bad;
  goto out;
fail:
  fprintf(stderr, "distill_predict: %s\n", err.msg);
out:
  for (size_t i = 0; c.names && i < d.nconfigs; i++)
    free(c.names[i]);
  free(c.names);
  helion_space_destroy(c.space);
  helion_distill_cleanup(&d);
  helion_results_cleanup(&r);
  helion_spec_destroy(spec);
  return code;
}
