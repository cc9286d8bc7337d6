/*
 * backend_sim_internal.h: the simulator's state, shared by the landscape
 * reader (backend_sim_landscape.c) and the replaying backend
 * (backend_sim.c). Internal to backend/.
 */
#ifndef HELION_BACKEND_SIM_INTERNAL_H
#define HELION_BACKEND_SIM_INTERNAL_H

#include "backend/backend_sim.h"
#include "util/json.h"

/* No record: what a lookup of an absent configuration returns. */
#define HELION__SIM_NO_REC SIZE_MAX

/* The sorted, distinct values of one parameter and the kind of its slot. */
typedef struct pvals {
  char *key;
  helion_value_t *v;
  size_t n;
  helion_frag_kind kind;
} pvals_t;

typedef struct rec {
  helion_result_kind kind;
  double ms;
  double compile_s;
  double cost_s;
  size_t runs_off;
  size_t nruns;
} rec_t;

struct helion_sim {
  helion_backend_t base; /* first: the backend view is the sim itself */
  helion_space_t *space;
  pvals_t *pv;
  size_t nparams; /* = cells per configuration */
  int64_t *cells; /* nrec * nparams */
  rec_t *recs;
  size_t nrec;
  double *runs;
  size_t nruns, capruns;
  size_t *table; /* open addressing: record index or NO_REC */
  size_t tmask;
  double *sorted; /* times of all valid records, ascending, failures +inf */
  size_t kind_count[HELION_RESULT_KIND_COUNT];
  size_t opt_rec;
  unsigned char *visited;
  size_t nvisited;
  double clock;
  bool noise;
  size_t compile_jobs; /* helion_sim_opts_t.compile_jobs */
  double *slot_free;   /* compile_jobs: when each compile slot frees */
  double gpu_free;     /* compile_jobs: when the GPU ends its last timing */
  struct sim_entry *queue; /* submitted configs, in submission order */
  size_t nqueue, qcap, nreturned;
  helion_rng_t rng;
  const char *format;
  char *device_name;
  char *kernel_name;
};

/*
 * Reads the landscape in data[0..len) (the bytes of the file `path`, plain
 * or gzipped JSON, at most `max` bytes of text once unpacked) into sim: the
 * parameters (sim->pv), the records and their lookup table, sim->format and
 * the names. Leaves sorted, visited, the optimum and the space to the
 * caller. On failure a message naming the path (and JSON path) is in err;
 * HELION_ERR_NOMEM may come without one. What it allocated is freed by
 * helion__sim_landscape_cleanup.
 */
helion_status helion__sim_read(helion_sim_t *sim, const char *path,
                               const char *data, size_t len, size_t max,
                               helion_err_t *err);

/*
 * data[0..len) as JSON, gunzipped first when it starts with gzip's magic
 * bytes (backend_sim_text.c). More than `max` bytes of text is refused
 * (HELION_ERR_LIMIT) while inflating; cJSON running out of memory on
 * well-formed text is HELION_ERR_NOMEM, not a parse error. Messages start
 * with `name`; positions in a gzipped file count in its unpacked text.
 */
helion_status helion__sim_parse(const char *name, const char *data, size_t len,
                                size_t max, cJSON **out, helion_err_t *err);

/* Builds sim->space from the parameters, its filter accepting exactly the
 * recorded configurations. */
helion_status helion__sim_build_space(helion_sim_t *sim, const char *path,
                                      helion_err_t *err);

/* The record of a configuration's cells, or HELION__SIM_NO_REC. */
size_t helion__sim_find_rec(const helion_sim_t *sim, const int64_t *cells);

/* Frees what helion__sim_read and helion__sim_build_space allocated (not
 * the sim itself). Accepts a partly read sim. */
void helion__sim_landscape_cleanup(helion_sim_t *sim);

#endif /* HELION_BACKEND_SIM_INTERNAL_H */
