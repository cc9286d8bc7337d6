/*
 * codegen_priv.h: what codegen.c (gathering configs, entries and images)
 * hands codegen_emit.c (printing the header); internal to codegen/.
 */
#ifndef HELION_CODEGEN_PRIV_H
#define HELION_CODEGEN_PRIV_H

#include <stdint.h>

#include "codegen/codegen.h"
#include "model/space.h"
#include "results/distill.h"

typedef struct helion__cg_image {
  int sm, is_ptx, arch_specific;
  uint8_t *data; /* PTX: the NUL included in size */
  size_t size;
} helion__cg_image_t;

typedef struct helion__cg_config {
  int64_t *cells; /* the parse space's cells */
  char *full;     /* every key: what configs are deduplicated by */
  char *min;      /* keys off their default: the text in messages */
  helion__cg_image_t *images;
  size_t nimages;
} helion__cg_config_t;

typedef struct helion__cg_group {
  char *name;
  int cc_major, cc_minor;
} helion__cg_group_t;

typedef struct helion__cg_entry {
  size_t group, config;
  int64_t *shape; /* nkeys values */
  size_t nkeys;   /* the spec's, here so entries sort without it */
  char *full;     /* its config, until configs are numbered */
  bool stale;
} helion__cg_entry_t;

/* A distilled decision tree (results/distill.h) the header prints. */
typedef struct helion__cg_tree {
  size_t group;       /* index into groups */
  helion_distill_t d; /* its leaves name columns of d.configs */
  char **full;        /* per column: full JSON; NULL when no leaf uses it */
  size_t *config;     /* per column: its index into configs */
} helion__cg_tree_t;

typedef struct helion__cg {
  const helion_spec_t *spec;
  /* The spec's params without restrictions: a config's cells, JSON,
   * defines and slot values do not depend on the shape. */
  helion_space_t *space;
  /* The spec's restrictions parsed against its scope, as the launch trees
   * are, so one names table prints both. */
  helion_expr_t **restrictions;
  helion__cg_config_t *configs; /* [0]: the spec's default */
  size_t nconfigs;
  helion__cg_group_t *groups;
  size_t ngroups;
  helion__cg_entry_t *entries;
  size_t nentries;
  helion__cg_tree_t *trees; /* sorted by group, one per group at most */
  size_t ntrees;
  int archs[HELION_CODEGEN_MAX_ARCHS];
  size_t narchs;
  int key_arg[64];
  char source_hash[65];
  int nvrtc_major, nvrtc_minor;
  const char *results_name; /* the results file's base name */
} helion__cg_t;

/* Appends the whole header text for a gathered kernel. */
helion_status helion__cg_emit(const helion__cg_t *cg, helion_buf_t *out,
                              helion_err_t *err);

#endif /* HELION_CODEGEN_PRIV_H */
