/* shard.c: the shard of a job array a tune runs and the partition of its
 * work items into shards (shard.h). */
#include "results/shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal number of digits only (no sign, no spaces) up to `max`, in
 * [text, end) (end NULL: to the NUL). */
static bool parse_count(const char *text, const char *end, uint64_t max,
                        uint64_t *out) {
  uint64_t v = 0;
  if (!end)
    end = text + strlen(text);
  if (text == end)
    return false;
  for (const char *p = text; p < end; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > max)
      return false;
  }
  *out = v;
  return true;
}

helion_status helion_shard_parse(const char *text, helion_shard_t *out,
                                 helion_err_t *err) {
  const char *slash = strchr(text, '/');
  uint64_t i, n;
  if (!slash)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard %s: expected I/N (0-based index I below "
                          "the shard count N, e.g. 0/4) or auto",
                          text);
  if (!parse_count(text, slash, HELION_SHARD_MAX, &i))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard %s: the index '%.*s' is not a whole number "
                          "from 0 to %d",
                          text, (int)(slash - text), text, HELION_SHARD_MAX - 1);
  if (!parse_count(slash + 1, NULL, HELION_SHARD_MAX, &n) || n == 0)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard %s: the shard count '%s' is not a whole "
                          "number from 1 to %d",
                          text, slash + 1, HELION_SHARD_MAX);
  if (i >= n)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard %s: the index %llu is not below the shard "
                          "count %llu (indices are 0-based: 0/%llu to "
                          "%llu/%llu)",
                          text, (unsigned long long)i, (unsigned long long)n,
                          (unsigned long long)n, (unsigned long long)(n - 1),
                          (unsigned long long)n);
  out->index = i;
  out->count = n;
  return HELION_OK;
}

/* Environment variable `name` as a whole number up to `max` into *out.
 * *out is left alone when it is unset and not `required`. */
static helion_status env_count(const char *name, bool required, uint64_t max,
                               const char *hint, uint64_t *out,
                               helion_err_t *err) {
  const char *v = getenv(name);
  if (!v || !*v) {
    if (!required)
      return HELION_OK;
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard auto: %s is not set; %s", name, hint);
  }
  if (!parse_count(v, NULL, max, out))
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard auto: %s='%s' is not a whole number from 0 "
                          "to %llu",
                          name, v, (unsigned long long)max);
  return HELION_OK;
}

helion_status helion_shard_from_env(uint64_t shards, helion_shard_t *out,
                                    helion_err_t *err) {
  static const char slurm_hint[] =
      "run it as a task of a Slurm job array (sbatch --array=0-7), or, in a "
      "Kubernetes Indexed Job, give --shards N (JOB_COMPLETION_INDEX is the "
      "index)";
  static const char k8s_hint[] =
      "with --shards, --shard auto reads the index of a Kubernetes Indexed "
      "Job (completionMode: Indexed sets it); elsewhere give --shard I/N";
  const uint64_t big = UINT64_C(1) << 40;
  uint64_t id = 0, count = 0, min = 0, step = 1, index;
  helion_status rc;
  if (shards) {
    if ((rc = env_count("JOB_COMPLETION_INDEX", true, big, k8s_hint, &id,
                        err)))
      return rc;
    if (id >= shards)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "--shard auto: JOB_COMPLETION_INDEX=%llu is not "
                            "below --shards %llu; set the Job's completions "
                            "to --shards",
                            (unsigned long long)id, (unsigned long long)shards);
    out->index = id;
    out->count = shards;
    return HELION_OK;
  }
  if ((rc = env_count("SLURM_ARRAY_TASK_ID", true, big, slurm_hint, &id,
                      err)) ||
      (rc = env_count("SLURM_ARRAY_TASK_COUNT", true, HELION_SHARD_MAX,
                      "it is set with SLURM_ARRAY_TASK_ID in a Slurm job "
                      "array; else give --shard I/N",
                      &count, err)) ||
      (rc = env_count("SLURM_ARRAY_TASK_MIN", false, big, "", &min, err)) ||
      (rc = env_count("SLURM_ARRAY_TASK_STEP", false, big, "", &step, err)))
    return rc;
  if (count == 0 || step == 0)
    return helion_err_set(err, HELION_ERR_USAGE,
                          "--shard auto: SLURM_ARRAY_TASK_%s is 0; it must "
                          "be at least 1",
                          count == 0 ? "COUNT" : "STEP");
  if (id < min || (id - min) % step != 0 ||
      (index = (id - min) / step) >= count)
    return helion_err_set(
        err, HELION_ERR_USAGE,
        "--shard auto: SLURM_ARRAY_TASK_ID=%llu is not one of the %llu tasks "
        "from SLURM_ARRAY_TASK_MIN=%llu in steps of %llu; submit one "
        "evenly stepped range (--array=0-7), not a list",
        (unsigned long long)id, (unsigned long long)count,
        (unsigned long long)min, (unsigned long long)step);
  out->index = index;
  out->count = count;
  return HELION_OK;
}

uint64_t helion_shard_cost(const helion_space_t *s) {
  uint64_t bits = 0;
  for (size_t i = 0; i < s->nparams; i++) {
    uint64_t c = helion_space_slot_cardinality(s, i);
    bits += c > 1 ? (uint64_t)helion_log2_floor(c - 1) + 1 : 0;
  }
  return bits;
}

/* The shards as a binary min-heap on (load, index), so the next item's
 * shard is found in log N steps: N can be large and items few. */
typedef struct bin {
  uint64_t load, items, index;
} bin;

/* Least cost, then fewest items (so items of cost 0 spread too), then the
 * lowest index. */
static bool bin_less(const bin *a, const bin *b) {
  if (a->load != b->load)
    return a->load < b->load;
  if (a->items != b->items)
    return a->items < b->items;
  return a->index < b->index;
}

static void heap_sift_down(bin *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && bin_less(&h[l], &h[m]))
      m = l;
    if (r < n && bin_less(&h[r], &h[m]))
      m = r;
    if (m == i)
      return;
    bin t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

/* Items by cost, highest first, then in canonical order: qsort is not
 * stable, so the index is the second key. */
typedef struct ranked {
  uint64_t cost;
  size_t item;
} ranked;

static int ranked_cmp(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->cost != b->cost)
    return a->cost > b->cost ? -1 : 1;
  return a->item < b->item ? -1 : a->item > b->item;
}

helion_status helion_shard_assign(const uint64_t *costs, size_t n,
                                  uint64_t count, uint64_t *out_shard,
                                  helion_err_t *err) {
  /* Only the `n` least-loaded shards can ever receive an item. */
  size_t nbins = count < n ? (size_t)count : n;
  bin *h = calloc(nbins ? nbins : 1, sizeof(*h));
  ranked *r = calloc(n ? n : 1, sizeof(*r));
  if (!h || !r) {
    free(h);
    free(r);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  /* Every load is 0: indices in order are already a heap. */
  for (size_t b = 0; b < nbins; b++)
    h[b].index = b;
  for (size_t i = 0; i < n; i++) {
    r[i].cost = costs[i];
    r[i].item = i;
  }
  qsort(r, n, sizeof(*r), ranked_cmp);
  for (size_t i = 0; i < n; i++) {
    out_shard[r[i].item] = h[0].index;
    h[0].load += r[i].cost;
    h[0].items++;
    heap_sift_down(h, nbins, 0);
  }
  free(h);
  free(r);
  return HELION_OK;
}

char *helion_shard_fragment_path(const char *dir, const char *spec_name,
                                 helion_shard_t shard) {
  char *name = NULL, *path;
  int len = snprintf(NULL, 0, "%s.shard-%llu-of-%llu.tuned.json", spec_name,
                     (unsigned long long)shard.index,
                     (unsigned long long)shard.count);
  if (len < 0 || !(name = malloc((size_t)len + 1)))
    return NULL;
  snprintf(name, (size_t)len + 1, "%s.shard-%llu-of-%llu.tuned.json",
           spec_name, (unsigned long long)shard.index,
           (unsigned long long)shard.count);
  path = helion_path_join(dir, name);
  free(name);
  return path;
}
