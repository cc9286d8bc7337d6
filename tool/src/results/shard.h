/*
 * shard.h: splitting a tune's work items, (spec, shape) pairs, into N shards
 * for the job arrays of an existing scheduler (DESIGN.md §7 "Scale-out"):
 * `helion-tune tune SPEC... --shard I/N` tunes shard I only and writes its
 * results to a fragment that `helion-tune results merge` combines.
 *
 * The partition is a pure function of the items' canonical order (specs by
 * name, then path; shapes in spec order) and their costs, so every member
 * of a job array computes the same one without talking to the others:
 *
 *   cost(item) = sum over the space's slots of ceil(log2(cardinality)),
 *                the space built for the shape on sm_90's assumed
 *                properties (the same on every machine, whatever its GPU);
 *                an integer, so no floating point can differ between hosts.
 *   assignment = greedy longest-processing-time: items by cost, highest
 *                first, ties in canonical order; each goes to the shard with
 *                the least cost so far, ties to the one with fewer items,
 *                then to the lowest shard index.
 *
 * Every item lands in exactly one shard for any N >= 1.
 */
#ifndef HELION_SHARD_H
#define HELION_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "model/space.h"
#include "util/util.h"

/* The most shards a job array may have (a sanity bound, not a limit of the
 * algorithm). */
#define HELION_SHARD_MAX 100000

typedef struct helion_shard {
  uint64_t index; /* 0-based, < count */
  uint64_t count; /* >= 1 */
} helion_shard_t;

/*
 * Parses "I/N" (decimal, I < N, 1 <= N <= HELION_SHARD_MAX) into *out.
 * HELION_ERR_USAGE with a message naming the bad part ("--shard 3/2: the
 * index 3 is not below the shard count 2").
 */
helion_status helion_shard_parse(const char *text, helion_shard_t *out,
                                 helion_err_t *err);

/*
 * `--shard auto`: the shard from the scheduler's environment.
 *   shards == 0 (no --shards): Slurm. SLURM_ARRAY_TASK_ID and
 *     SLURM_ARRAY_TASK_COUNT are required; the index is
 *     (ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, MIN taken as 0
 *     and STEP as 1 when unset, so --array=1-8 and --array=0-14:2 work.
 *   shards > 0 (--shards N): a Kubernetes Indexed Job. JOB_COMPLETION_INDEX
 *     is the index, N the count.
 * HELION_ERR_USAGE naming the variable that is missing or malformed and what
 * to set.
 */
helion_status helion_shard_from_env(uint64_t shards, helion_shard_t *out,
                                    helion_err_t *err);

/* An item's cost (see above): the bits it takes to write down any config
 * of the space. */
uint64_t helion_shard_cost(const helion_space_t *s);

/*
 * Assigns n items (costs[i] in canonical order) to `count` shards: writes
 * out_shard[i] for every i. HELION_ERR_NOMEM only.
 */
helion_status helion_shard_assign(const uint64_t *costs, size_t n,
                                  uint64_t count, uint64_t *out_shard,
                                  helion_err_t *err);

/* "<dir>/<spec_name>.shard-<I>-of-<N>.tuned.json". Caller frees; NULL on
 * OOM. */
char *helion_shard_fragment_path(const char *dir, const char *spec_name,
                                 helion_shard_t shard);

#endif /* HELION_SHARD_H */
