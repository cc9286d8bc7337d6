/*
 * runner_host.c: the host side of runner.h, plain C with no CUDA: 16-bit
 * float conversions, argument data from the run's seed, and the accuracy
 * comparison of an output with the baseline.
 */
#include "backend/runner.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * Half and bfloat16.
 */

/* A binary float with `mbits` mantissa and `ebits` exponent bits (IEEE
 * layout, 16 bits in all), rounded to nearest even straight from the double,
 * so there is no double rounding through float. */
static uint16_t small_from_double(double v, int mbits, int ebits) {
  int bias = (1 << (ebits - 1)) - 1;
  int emin = 1 - bias;
  uint16_t sign = signbit(v) ? (uint16_t)(1u << (mbits + ebits)) : 0;
  uint16_t exp_all = (uint16_t)(((1u << ebits) - 1) << mbits);
  if (isnan(v))
    return (uint16_t)(sign | exp_all | (1u << (mbits - 1)));
  double a = fabs(v);
  if (isinf(a))
    return (uint16_t)(sign | exp_all);
  if (a < ldexp(1.0, emin)) {
    /* Subnormal: a multiple of 2^(emin - mbits); rounding up to 2^mbits
     * lands exactly on the smallest normal's encoding. */
    double q = nearbyint(ldexp(a, mbits - emin));
    return (uint16_t)(sign | (uint16_t)q);
  }
  int ex;
  (void)frexp(a, &ex);
  int e = ex - 1; /* a = 1.f * 2^e */
  double r = nearbyint((ldexp(a, -e) - 1.0) * (double)(1 << mbits));
  if (r >= (double)(1 << mbits)) {
    r = 0;
    e++;
  }
  if (e > bias)
    return (uint16_t)(sign | exp_all);
  return (uint16_t)(sign | (uint16_t)((e + bias) << mbits) | (uint16_t)r);
}

static double small_to_double(uint16_t h, int mbits, int ebits) {
  int bias = (1 << (ebits - 1)) - 1;
  unsigned e = (h >> mbits) & ((1u << ebits) - 1);
  unsigned m = h & ((1u << mbits) - 1);
  double s = (h >> (mbits + ebits)) ? -1.0 : 1.0;
  if (e == (1u << ebits) - 1)
    return m ? NAN : s * INFINITY;
  if (e == 0)
    return s * ldexp((double)m, 1 - bias - mbits);
  return s * ldexp((double)(m | (1u << mbits)), (int)e - bias - mbits);
}

uint16_t helion_f16_from_double(double v) {
  return small_from_double(v, 10, 5);
}
double helion_f16_to_double(uint16_t h) {
  return small_to_double(h, 10, 5);
}
uint16_t helion_bf16_from_double(double v) {
  return small_from_double(v, 7, 8);
}
double helion_bf16_to_double(uint16_t h) {
  return small_to_double(h, 7, 8);
}

double helion_runner_load(helion_dtype t, const void *p, size_t i) {
  switch (t) {
  case HELION_DT_FLOAT:
    return ((const float *)p)[i];
  case HELION_DT_DOUBLE:
    return ((const double *)p)[i];
  case HELION_DT_HALF:
    return helion_f16_to_double(((const uint16_t *)p)[i]);
  case HELION_DT_BF16:
    return helion_bf16_to_double(((const uint16_t *)p)[i]);
  case HELION_DT_I8:
    return ((const int8_t *)p)[i];
  case HELION_DT_I16:
    return ((const int16_t *)p)[i];
  case HELION_DT_I32:
    return ((const int32_t *)p)[i];
  case HELION_DT_I64:
    return (double)((const int64_t *)p)[i];
  case HELION_DT_U8:
    return ((const uint8_t *)p)[i];
  case HELION_DT_U16:
    return ((const uint16_t *)p)[i];
  case HELION_DT_U32:
    return ((const uint32_t *)p)[i];
  case HELION_DT_U64:
    return (double)((const uint64_t *)p)[i];
  }
  return 0.0;
}

/* The integer types' ranges as doubles: [lo, hi) with hi a power of two,
 * both exact. */
static bool int_range(helion_dtype t, double *lo, double *hi) {
  static const struct {
    helion_dtype t;
    double lo, hi;
  } r[] = {
      {HELION_DT_I8, -0x1p7, 0x1p7},    {HELION_DT_I16, -0x1p15, 0x1p15},
      {HELION_DT_I32, -0x1p31, 0x1p31}, {HELION_DT_I64, -0x1p63, 0x1p63},
      {HELION_DT_U8, 0, 0x1p8},         {HELION_DT_U16, 0, 0x1p16},
      {HELION_DT_U32, 0, 0x1p32},       {HELION_DT_U64, 0, 0x1p64},
  };
  for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++)
    if (r[k].t == t) {
      *lo = r[k].lo;
      *hi = r[k].hi;
      return true;
    }
  return false;
}

bool helion_runner_store(helion_dtype t, void *p, size_t i, double v) {
  double lo, hi;
  if (int_range(t, &lo, &hi)) {
    /* Rounded to nearest, never wrapped or saturated. */
    v = nearbyint(v);
    if (!(v >= lo && v < hi))
      return false;
  } else if (isfinite(v) && t != HELION_DT_DOUBLE) {
    /* A finite value stays finite (no overflow to infinity). */
    double back = t == HELION_DT_FLOAT  ? (double)(float)v
                  : t == HELION_DT_HALF ? helion_f16_to_double(
                                              helion_f16_from_double(v))
                                        : helion_bf16_to_double(
                                              helion_bf16_from_double(v));
    if (!isfinite(back))
      return false;
  }
  switch (t) {
  case HELION_DT_FLOAT:
    ((float *)p)[i] = (float)v;
    break;
  case HELION_DT_DOUBLE:
    ((double *)p)[i] = v;
    break;
  case HELION_DT_HALF:
    ((uint16_t *)p)[i] = helion_f16_from_double(v);
    break;
  case HELION_DT_BF16:
    ((uint16_t *)p)[i] = helion_bf16_from_double(v);
    break;
  case HELION_DT_I8:
    ((int8_t *)p)[i] = (int8_t)v;
    break;
  case HELION_DT_U8:
    ((uint8_t *)p)[i] = (uint8_t)v;
    break;
  case HELION_DT_I16:
    ((int16_t *)p)[i] = (int16_t)v;
    break;
  case HELION_DT_U16:
    ((uint16_t *)p)[i] = (uint16_t)v;
    break;
  case HELION_DT_I32:
    ((int32_t *)p)[i] = (int32_t)v;
    break;
  case HELION_DT_U32:
    ((uint32_t *)p)[i] = (uint32_t)v;
    break;
  case HELION_DT_I64:
    ((int64_t *)p)[i] = (int64_t)v;
    break;
  case HELION_DT_U64:
    ((uint64_t *)p)[i] = (uint64_t)v;
    break;
  }
  return true;
}

const char *helion_timing_stop_name(helion_timing_stop s) {
  static const char *const names[HELION_TIMING_STOP_COUNT] = {"full", "settled",
                                                              "slower", "cut"};
  return (unsigned)s < HELION_TIMING_STOP_COUNT ? names[s] : "?";
}

/* ---------------------------------------------------------------------------
 * Argument data.
 */

uint64_t helion_runner_arg_seed(uint64_t seed, size_t arg_index) {
  return seed + ((uint64_t)arg_index + 1) * 0x9E3779B97F4A7C15ull;
}

uint64_t helion_runner_block_seed(uint64_t arg_seed, size_t block) {
  return block == 0 ? arg_seed
                    : arg_seed ^ ((uint64_t)block * 0xD1B54A32D192ED03ull);
}

/* Elements [from, to) of block `block` (from and to inside it). */
static bool fill_block(helion_dtype t, helion_init_kind init, double lo,
                       double hi, double c, uint64_t arg_seed, void *out,
                       size_t from, size_t to) {
  bool ok = true;
  helion_rng_t rng;
  helion_rng_seed(&rng, helion_runner_block_seed(
                            arg_seed, from / HELION_RUNNER_FILL_BLOCK));
  for (size_t i = from; i < to; i++) {
    double v = 0.0;
    switch (init) {
    case HELION_INIT_RANDN:
      v = helion_rng_normal(&rng);
      break;
    case HELION_INIT_RAND:
      v = helion_rng_double(&rng);
      break;
    case HELION_INIT_RANDINT:
      v = (double)helion_rng_range(&rng, (int64_t)lo, (int64_t)hi);
      break;
    case HELION_INIT_ARANGE:
      v = (double)i;
      break;
    case HELION_INIT_ZEROS:
      v = 0.0;
      break;
    case HELION_INIT_ONES:
      v = 1.0;
      break;
    case HELION_INIT_CONST:
      v = c;
      break;
    case HELION_INIT_NONE:
      break;
    }
    ok &= helion_runner_store(t, out, i, v);
  }
  return ok;
}

/* Threads filling one argument, blocks dealt round robin. */
#define FILL_MAX_THREADS 16

typedef struct fill_job {
  helion_dtype t;
  helion_init_kind init;
  double lo, hi, c;
  uint64_t arg_seed;
  void *out;
  size_t numel, first, stride;
  bool ok;
} fill_job;

static void *fill_thread(void *arg) {
  fill_job *j = arg;
  j->ok = true;
  for (size_t b = j->first; b * HELION_RUNNER_FILL_BLOCK < j->numel;
       b += j->stride) {
    size_t from = b * HELION_RUNNER_FILL_BLOCK;
    size_t to = from + HELION_RUNNER_FILL_BLOCK < j->numel
                    ? from + HELION_RUNNER_FILL_BLOCK
                    : j->numel;
    j->ok &= fill_block(j->t, j->init, j->lo, j->hi, j->c, j->arg_seed, j->out,
                        from, to);
  }
  return NULL;
}

bool helion_runner_fill(helion_dtype t, helion_init_kind init, double lo,
                        double hi, double c, uint64_t seed, size_t arg_index,
                        void *out, size_t numel) {
  if (init == HELION_INIT_NONE) {
    memset(out, 0xFF, numel * helion_dtype_size(t));
    return true;
  }
  size_t blocks =
      (numel + HELION_RUNNER_FILL_BLOCK - 1) / HELION_RUNNER_FILL_BLOCK;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t nt = cpus > 1 ? (size_t)cpus : 1;
  if (nt > FILL_MAX_THREADS)
    nt = FILL_MAX_THREADS;
  if (nt > blocks)
    nt = blocks ? blocks : 1;
  fill_job jobs[FILL_MAX_THREADS];
  pthread_t th[FILL_MAX_THREADS];
  bool started[FILL_MAX_THREADS] = {false};
  for (size_t k = 0; k < nt; k++) {
    jobs[k] = (fill_job){.t = t,
                         .init = init,
                         .lo = lo,
                         .hi = hi,
                         .c = c,
                         .arg_seed = helion_runner_arg_seed(seed, arg_index),
                         .out = out,
                         .numel = numel,
                         .first = k,
                         .stride = nt,
                         .ok = true};
    /* Thread 0 is this one; a thread that cannot start leaves its blocks
     * to this one too (same bytes either way). */
    if (k > 0)
      started[k] = pthread_create(&th[k], NULL, fill_thread, &jobs[k]) == 0;
  }
  bool ok = true;
  for (size_t k = 0; k < nt; k++) {
    if (k == 0 || !started[k])
      fill_thread(&jobs[k]);
    else
      pthread_join(th[k], NULL);
    ok &= jobs[k].ok;
  }
  return ok;
}

void helion_host_args_cleanup(helion_host_args_t *a) {
  if (!a)
    return;
  for (size_t i = 0; i < a->nargs; i++)
    free(a->args[i].data);
  free(a->args);
  memset(a, 0, sizeof(*a));
}

helion_status helion_host_args_init(const helion_spec_t *spec,
                                    const helion_num_t *scope, uint64_t seed,
                                    helion_host_args_t *out,
                                    helion_err_t *err) {
  helion_status rc = HELION_OK;
  helion_host_args_t a;
  memset(&a, 0, sizeof(a));
  a.args = calloc(spec->nargs ? spec->nargs : 1, sizeof(*a.args));
  if (!a.args)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  a.nargs = spec->nargs;
  for (size_t i = 0; i < spec->nargs; i++) {
    const helion_spec_arg_t *sa = &spec->args[i];
    helion_host_arg_t *ha = &a.args[i];
    size_t esize = helion_dtype_size(sa->dtype);
    helion_num_t v;
    ha->is_pointer = sa->is_pointer;
    const helion_expr_t *e = sa->is_pointer ? sa->numel : sa->value;
    const char *field = sa->is_pointer ? "numel" : "value";
    if (!e) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "args[%zu] (%s): no \"%s\"; give the argument one", i,
                          sa->name, field);
      goto out;
    }
    rc = helion_expr_eval(e, scope, &v, err);
    if (rc) {
      helion_err_prefix(err, "args[%zu] (%s).%s: ", i, sa->name, field);
      goto out;
    }
    /* The kernel gets exactly the spec's values or the run fails. */
    rc = helion_spec_arg_check(sa, v, err);
    if (rc) {
      helion_err_prefix(err, "args[%zu] (%s).", i, sa->name);
      goto out;
    }
    if (!sa->is_pointer) {
      ha->bytes = esize;
      if (sa->dtype == HELION_DT_FLOAT) {
        float f = (float)helion_num_as_double(v);
        memcpy(&ha->scalar, &f, sizeof(f));
      } else if (sa->dtype == HELION_DT_DOUBLE) {
        double d = helion_num_as_double(v);
        memcpy(&ha->scalar, &d, sizeof(d));
      } else {
        /* Integers (and half types) go through the element store so a
         * scalar converts exactly like an array element. */
        uint8_t tmp[8] = {0};
        if (!v.is_float && esize == 8)
          memcpy(tmp, &v.i, 8); /* exact beyond 2^53 */
        else
          (void)helion_runner_store(sa->dtype, tmp, 0,
                                    helion_num_as_double(v)); /* checked */
        memcpy(&ha->scalar, tmp, 8);
      }
      continue;
    }
    if (v.is_float) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "args[%zu] (%s).numel: evaluates to %g; an element "
                          "count must be an integer",
                          i, sa->name, v.f);
      goto out;
    }
    if (v.i < 0) {
      rc = helion_err_set(err, HELION_ERR_INVALID,
                          "args[%zu] (%s).numel: evaluates to %lld; an element "
                          "count must be >= 0",
                          i, sa->name, (long long)v.i);
      goto out;
    }
    if ((uint64_t)v.i > HELION_RUNNER_MAX_ARG_BYTES / esize) {
      rc = helion_err_set(err, HELION_ERR_LIMIT,
                          "args[%zu] (%s).numel: %lld elements of %zu bytes "
                          "exceed the %zu GiB limit of one argument",
                          i, sa->name, (long long)v.i, esize,
                          HELION_RUNNER_MAX_ARG_BYTES >> 30);
      goto out;
    }
    ha->numel = (size_t)v.i;
    ha->bytes = ha->numel * esize;
    a.total_bytes += ha->bytes;
    if (ha->bytes) {
      ha->data = malloc(ha->bytes);
      if (!ha->data) {
        rc = helion_err_set(err, HELION_ERR_NOMEM,
                            "args[%zu] (%s): out of memory for %zu bytes", i,
                            sa->name, ha->bytes);
        goto out;
      }
      if (!helion_runner_fill(sa->dtype, sa->init, sa->init_lo, sa->init_hi,
                              sa->init_const, seed, i, ha->data,
                              ha->numel)) {
        rc = helion_err_set(err, HELION_ERR_INVALID,
                            "args[%zu] (%s).init: a value does not fit %s; "
                            "give an init within the type's range",
                            i, sa->name, helion_dtype_name(sa->dtype));
        goto out;
      }
    }
  }
  *out = a;
  memset(&a, 0, sizeof(a));
out:
  helion_host_args_cleanup(&a);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Accuracy.
 */

/* Folds element i into the mismatch summary (the rule of runner.h). */
static void compare_one(double a, double e, size_t i, double atol, double rtol,
                        helion_mismatch_t *m) {
  bool ok;
  if (isnan(a) || isnan(e))
    ok = false;
  else if (isinf(a) || isinf(e))
    ok = a == e;
  else
    ok = fabs(a - e) <= atol + rtol * fabs(e);
  if (ok)
    return;
  if (m->count == 0) {
    m->first = i;
    m->actual = a;
    m->expected = e;
  }
  m->count++;
}

size_t helion_runner_compare(helion_dtype t, const void *actual,
                             const void *expected, size_t numel, double atol,
                             double rtol, helion_mismatch_t *out) {
  helion_mismatch_t m;
  memset(&m, 0, sizeof(m));
  for (size_t i = 0; i < numel; i++)
    compare_one(helion_runner_load(t, actual, i),
                helion_runner_load(t, expected, i), i, atol, rtol, &m);
  if (out)
    *out = m;
  return m.count;
}

/* ------------------------------------------------- timing statistics -- */

/* Moves the k-th smallest of v[0..n) (k < n) to v[k], with nothing larger
 * before it and nothing smaller after it (Hoare's selection): an order
 * statistic in linear expected time, where sorting would cost n log n. */
static void select_kth(double *v, size_t n, size_t k) {
  long lo = 0, hi = (long)n - 1, kk = (long)k;
  while (lo < hi) {
    double pivot = v[lo + (hi - lo) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        double t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (kk <= j)
      hi = j;
    else if (kk >= i)
      lo = i;
    else
      return;
  }
}

/* The median of v[0..n) and its standard error, 0.93 * IQR / sqrt(n), by
 * selection into tmp: this runs every 10 rounds of a rebenchmark, over up
 * to 20,000 times per kernel. The quartiles and the median as median() and
 * the sorted-index rule of helion_runner_time define them. */
static void median_se(const double *v, size_t n, double *tmp, double *out_med,
                      double *out_se) {
  size_t q1 = n / 4, mid = n / 2, q3 = (3 * n) / 4 < n ? (3 * n) / 4 : n - 1;
  memcpy(tmp, v, n * sizeof(*v));
  select_kth(tmp, n, q3);
  select_kth(tmp, q3 + 1, mid); /* everything before q3 is <= tmp[q3] */
  double med = tmp[mid];
  if (n % 2 == 0) {
    double lower = tmp[0]; /* the largest of tmp[0..mid) */
    for (size_t i = 1; i < mid; i++)
      if (tmp[i] > lower)
        lower = tmp[i];
    med = 0.5 * (lower + med);
  }
  if (q1 < mid)
    select_kth(tmp, mid, q1);
  *out_med = med;
  *out_se = 0.93 * (tmp[q3] - tmp[q1]) / sqrt((double)n);
}

bool helion_runner_median_settled(const double *v, size_t n, double precision,
                                  double *tmp) {
  double med, se;
  if (n == 0)
    return false;
  median_se(v, n, tmp, &med, &se);
  return med > 0 && se <= precision * med;
}

/* The repetitions before SETTLED counts. */
#define STOP_MIN_SETTLED 20
/* How much slower than the incumbent a config must clearly be. */
#define STOP_SLOWER_MARGIN 0.01

helion_timing_stop helion_runner_stop_rule(const double *v, size_t n,
                                           double incumbent_ms,
                                           double precision, double *tmp) {
  double med, se;
  if (n < HELION_TIMING_STOP_CHUNK)
    return HELION_TIMING_FULL;
  median_se(v, n, tmp, &med, &se);
  if (!(med > 0))
    return HELION_TIMING_FULL;
  if (incumbent_ms > 0 &&
      med - 3.0 * se > incumbent_ms * (1.0 + STOP_SLOWER_MARGIN))
    return HELION_TIMING_SLOWER;
  if (precision > 0 && n >= STOP_MIN_SETTLED && se <= precision * med)
    return HELION_TIMING_SETTLED;
  return HELION_TIMING_FULL;
}
