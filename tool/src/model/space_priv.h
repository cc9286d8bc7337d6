/*
 * space_priv.h: what the files of the space module share (internal to
 * model/space*.c): the private part of helion_space_t and the helpers the
 * construction (space_build.c) borrows from the operations (space.c).
 */
#ifndef HELION_SPACE_PRIV_H
#define HELION_SPACE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/space.h"

/* Satisfiability checks enumerate a restriction's own parameters when they
 * span at most this many combinations, and sample this many otherwise. */
#define RESTRICTION_CHECK_LIMIT 100000u
/* Longest permutation or list (cells per slot) a space accepts. */
#define MAX_SLOT_LENGTH 4096u
/* Scopes up to this size are evaluated from a stack copy (thread-safe). */
#define STACK_SCOPE 256u

struct helion_space_priv {
  helion_expr_t **restr;
  size_t nrestr;
  const char **scope_names; /* param names (owned by params), then extras */
  char **extra_names;       /* owned copies */
  size_t nextra;
  size_t nscope;
  helion_num_t *scope_template; /* extras filled, params 0 */
  int *param_scope;             /* per slot: scope index or -1 */
  helion_num_t *scratch;        /* for scopes larger than STACK_SCOPE */
  helion_space_filter_fn filter;
  void *filter_ud;
  int64_t regs_per_sm;
  /* Slots the normalize rules of the parameter table act on (-1: none):
   * the persistent-grid enum (HELION_LAUNCH_PID), the slot reset unless the
   * grid is persistent, the register count. */
  int pid_slot, smm_slot, maxnreg_slot;
  int64_t persistent_code; /* the pid row's first persistent code */
  /* Per slot with string choices: each choice's integer value in
   * expressions (helion_params_choice_code), or NULL for none. */
  int64_t **str_codes;
};

/* a * b, or UINT64_MAX when it overflows. */
uint64_t helion__space_sat_mul(uint64_t a, uint64_t b);
/* The kind of one element of a slot (a LIST's inner kind). */
helion_frag_kind helion__space_elem_kind(const helion_frag_t *f);
/* Encoded features of one element. */
size_t helion__space_elem_dim(const helion_frag_t *f, helion_frag_kind k);
/* Restriction r at scope values `vals`; false on an evaluation error. */
bool helion__space_restriction_holds(const helion_space_t *s, size_t r,
                                     const helion_num_t *vals);
/* The scope values of a config (template, then each named slot). */
void helion__space_fill_scope(const helion_space_t *s, const int64_t *cells,
                              helion_num_t *vals);
/* Calls visit for every combination of the values of `slots` (the other
 * cells as in `cells`), stopping early when visit returns true; returns true
 * when a visit did. */
bool helion__space_enumerate_slots(
    const helion_space_t *s, const size_t *slots, size_t nslots, int64_t *cells,
    bool (*visit)(const helion_space_t *s, const int64_t *cells, void *ud),
    void *ud);

#endif /* HELION_SPACE_PRIV_H */
