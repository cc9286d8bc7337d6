/*
 * distill.h: many shapes, few configs (reference/helion-llm-and-aot.md part
 * B, DESIGN.md §2 `distill`). From a shape x config time matrix (every
 * distinct tuned winner timed on every tuned shape of one device), pick a
 * small subset of configs that keeps every shape within a threshold of its
 * own best, and fit a decision tree over the shape's key variables (and
 * their pairwise products and ratios) that maps a shape to one of them.
 * `generate` prints the tree as nested ifs; the runtime consults it after
 * the exact-shape match and before the nearest tuned shape.
 *
 * Pure computation and (de)serialisation: no GPU, no files. Measuring the
 * matrix is cli/cmd_distill.c's job.
 *
 * Features of a shape with keys k0..k(n-1), in this order (ties between
 * equally good splits go to the earlier feature, so a plain key wins over
 * a product): every key "M"; every product "M*N" (i < j); every ratio
 * "M/N" and "N/M" (i < j). Values are doubles computed exactly as the
 * generated C computes them: (double)k_i, (double)k_i * (double)k_j,
 * (double)k_i / (double)k_j; a ratio with a zero divisor is 0.
 *
 * The section a results file keeps (top-level member "distilled", an array
 * sorted by device name then compute capability, one object per device):
 *
 *   {
 *     "device": {"compute_capability": "9.0", "name": "NVIDIA H100 ..."},
 *     "keys": ["M", "N", "K"],            the spec's key order
 *     "shapes": [[4096, 4096, 4096], ...], rows of the matrix
 *     "configs": [{...minimized...}, ...], columns: the distinct winners
 *     "ms": [[0.41, null, ...], ...],      shapes x configs; null = failed
 *                                          or illegal for that shape
 *     "threshold": 1.05, "max_configs": 8, "max_depth": 6,
 *     "selected": [2, 0],                  columns, in the greedy's order
 *     "slowdown": [1.0, 1.031, ...],       per shape: the best selected
 *                                          config's time / the shape's best
 *                                          (null: no selected config runs it)
 *     "tree": {"feature": "M*N", "threshold": 1048576.0,
 *              "left": {"config": 2}, "right": {...}},
 *                                          "left" is feature <= threshold;
 *                                          a leaf's "config" is a column
 *     "source_hash": "...", "tool_version": "0.1.0"
 *   }
 */
#ifndef HELION_DISTILL_H
#define HELION_DISTILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/util.h"

#define HELION_DISTILL_THRESHOLD 1.05
#define HELION_DISTILL_MAX_CONFIGS 8
#define HELION_DISTILL_MAX_DEPTH 6
#define HELION_DISTILL_MAX_KEYS 8

/* The number of features of a shape with nkeys keys: n + n(n-1)/2 + n(n-1). */
size_t helion_distill_nfeatures(size_t nkeys);

/* Feature f's name ("M", "M*N", "M/N") from the key names; appended to out. */
helion_status helion_distill_feature_name(const char *const *keys,
                                          size_t nkeys, size_t f,
                                          helion_buf_t *out);

/* What feature f is: 0 key i; 1 the product of keys i and j; 2 the ratio
 * key i / key j; -1 no such feature. How `generate` prints it. */
int helion_distill_feature_parts(size_t nkeys, size_t f, size_t *out_i,
                                 size_t *out_j);

/* Feature f of a shape (nkeys values), as the generated C computes it. */
double helion_distill_feature(const int64_t *shape, size_t nkeys, size_t f);

/* One node of a fitted tree. Leaves have feature -1. */
typedef struct helion_distill_node {
  int feature;      /* -1: leaf */
  double threshold; /* go left when feature value <= threshold */
  int left, right;  /* node indices; -1 in a leaf */
  int config;       /* leaf: column of the matrix; -1 inside */
} helion_distill_node_t;

/* Everything distill knows about one device's shapes. Owned arrays. */
typedef struct helion_distill {
  char *device_name;
  char cc[16]; /* "9.0" */
  char **keys;
  size_t nkeys;
  int64_t *shapes; /* nshapes * nkeys */
  size_t nshapes;
  char **configs; /* minimized config JSON texts, one per column */
  size_t nconfigs;
  double *ms; /* nshapes * nconfigs, row-major; +inf = failed/illegal */
  double threshold;
  size_t max_configs;
  unsigned max_depth;
  size_t *selected; /* columns, greedy order */
  size_t nselected;
  double *slowdown; /* nshapes; +inf when no selected config runs it */
  helion_distill_node_t *nodes; /* nodes[0] is the root; none: no tree */
  size_t nnodes;
  char source_hash[65];
  char tool_version[32];
} helion_distill_t;

void helion_distill_init(helion_distill_t *d);
void helion_distill_cleanup(helion_distill_t *d);

/*
 * The greedy subset (Helion's max_slowdown goal): repeatedly add the
 * column that leaves the most shapes within d->threshold of their own best
 * (ties: the lower geometric-mean slowdown, then the lower column), until
 * every shape is within it or d->max_configs columns are chosen. A shape no
 * column runs (all +inf) is left out of the counts and reported with
 * slowdown +inf. Fills d->selected and d->slowdown and drops any tree
 * (fitted to an earlier subset). HELION_ERR_INVALID for an empty matrix,
 * a threshold below 1, max_configs 0, a time neither positive nor +inf,
 * or a matrix where no config runs any shape.
 */
helion_status helion_distill_select(helion_distill_t *d, helion_err_t *err);

/*
 * Fits the tree over the selected columns (after helion_distill_select):
 * a node is a leaf when one selected config keeps every shape in it within
 * the threshold of that shape's best among the selected, or at
 * d->max_depth, or with fewer than 2 shapes, or when no feature separates
 * its shapes; otherwise it splits where the summed log slowdown of the two
 * children's best single configs is least. A split never costs more than
 * the node (each child can keep its config), and it is taken even at equal
 * cost: that is how a middle regime (A, B, A along one feature) is reached.
 * A config that fails on some shapes costs more than one that fails on
 * none, then the fewer failures the better. Thresholds lie
 * halfway between adjacent feature values in log space (the geometric
 * mean), so a shape between two tuned ones goes to the nearer in ratio.
 * A leaf's config is the selected column with the least summed log
 * slowdown over its shapes (ties: the earlier in d->selected). Shapes no
 * selected config runs are left out. HELION_ERR_INVALID without a subset.
 */
helion_status helion_distill_fit(helion_distill_t *d, helion_err_t *err);

/* The column the tree gives a shape; -1 without a tree. */
int helion_distill_predict(const helion_distill_t *d, const int64_t *shape);

/* The "distilled" array element described above, and back. from_json
 * checks every field (HELION_ERR_PARSE, the message starting with `where`
 * and naming the member), including that the tree's features and columns
 * exist; on failure d may hold part of it (helion_distill_cleanup frees). */
helion_status helion_distill_to_json(const helion_distill_t *d, cJSON **out,
                                     helion_err_t *err);
helion_status helion_distill_from_json(const cJSON *obj, const char *where,
                                       helion_distill_t *d, helion_err_t *err);

/*
 * The report: the matrix as a text table (shapes as rows, configs as
 * columns, each cell the slowdown against the shape's best, '*' on the
 * shape's best, '-' for failed; the selected columns marked; each shape's
 * slowdown under the subset), appended to out.
 */
helion_status helion_distill_report_text(const helion_distill_t *d,
                                         helion_buf_t *out, helion_err_t *err);

/*
 * An SVG heat map of the same matrix (shapes by configs, colour = slowdown
 * against the shape's best, selected columns outlined, a legend), appended
 * to out. Deterministic text.
 */
helion_status helion_distill_report_svg(const helion_distill_t *d,
                                        helion_buf_t *out, helion_err_t *err);

#endif /* HELION_DISTILL_H */
