/*
 * forest_cli.c: fits a helion forest on a CSV file and writes its
 * predictions for another, so tests/cli/forest_vs_sklearn.py can compare it
 * with scikit-learn on the same data and hyper-parameters.
 *
 *   forest_cli classify|regress TRAIN.csv TEST.csv OUT.txt [options]
 *
 * CSV files have no header; every column is a number; the last column is the
 * label (0/1) or target, preceded by the sample weight with --weighted. OUT
 * gets one line per test row: the class-1 probability or the prediction.
 * The fit time goes to stderr as "fit_ms <ms>" (the time of the fastest of
 * --repeat fits, for measuring).
 *
 * Options: --n-estimators N, --max-depth D (0 = none), --min-samples-split
 * S, --min-samples-leaf L, --max-features sqrt|FRACTION, --criterion
 * gini|log_loss|mse, --no-bootstrap, --seed S, --weighted, --repeat R.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/forest.h"
#include "util/util.h"

typedef struct table {
  double *v; /* rows * cols */
  size_t rows, cols;
} table_t;

/* Reads a header-less numeric CSV; every row must have the same number of
 * columns. Returns 0 on success. */
static int read_csv(const char *path, table_t *t) {
  helion_err_t err;
  char *data = NULL;
  size_t len = 0, count = 0, cap = 0, rows = 0, cols = 0, ncol = 0;
  double *v = NULL;
  int rc = 1;
  if (helion_read_file(path, (size_t)1 << 30, &data, &len, &err)) {
    fprintf(stderr, "forest_cli: %s\n", err.msg);
    return 1;
  }
  for (char *s = data;;) {
    while (*s == ',' || *s == ' ' || *s == '\r')
      s++;
    if (*s == '\n' || *s == '\0') {
      if (ncol > 0) {
        if (rows == 0)
          cols = ncol;
        if (ncol != cols) {
          fprintf(stderr, "forest_cli: %s:%zu: %zu columns, expected %zu\n",
                  path, rows + 1, ncol, cols);
          goto out;
        }
        rows++;
        ncol = 0;
      }
      if (*s == '\0')
        break;
      s++;
      continue;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || errno) {
      fprintf(stderr, "forest_cli: %s:%zu: not a number at \"%.20s\"\n", path,
              rows + 1, s);
      goto out;
    }
    if (count == cap) {
      cap = cap ? 2 * cap : 1024;
      double *nv = realloc(v, cap * sizeof(*v));
      if (!nv) {
        fprintf(stderr, "forest_cli: out of memory reading %s\n", path);
        goto out;
      }
      v = nv;
    }
    v[count++] = x;
    ncol++;
    s = end;
  }
  t->v = v;
  t->rows = rows;
  t->cols = cols;
  v = NULL;
  rc = 0;
out:
  free(v);
  free(data);
  return rc;
}

static void usage(void) {
  fprintf(stderr, "usage: forest_cli classify|regress TRAIN.csv TEST.csv "
                  "OUT.txt [--n-estimators N] [--max-depth D] "
                  "[--min-samples-split S] [--min-samples-leaf L] "
                  "[--max-features sqrt|FRACTION] "
                  "[--criterion gini|log_loss|mse] [--no-bootstrap] "
                  "[--seed S] [--weighted] [--repeat R]\n");
}

int main(int argc, char **argv) {
  int rc = 1;
  table_t tr = {0}, te = {0};
  double *X = NULL, *y = NULL, *w = NULL, *Xt = NULL, *pred = NULL;
  helion_forest_t *f = NULL;
  helion_err_t err;
  helion_forest_params_t p;
  bool weighted = false;
  long repeat = 1;

  if (argc < 5) {
    usage();
    return 2;
  }
  if (strcmp(argv[1], "classify") == 0) {
    helion_forest_params_lfbo(&p);
  } else if (strcmp(argv[1], "regress") == 0) {
    helion_forest_params_de_hybrid(&p);
  } else {
    usage();
    return 2;
  }
  for (int a = 5; a < argc; a++) {
    const char *opt = argv[a];
    const char *val = a + 1 < argc ? argv[a + 1] : NULL;
    if (strcmp(opt, "--no-bootstrap") == 0) {
      p.bootstrap = false;
      continue;
    }
    if (strcmp(opt, "--weighted") == 0) {
      weighted = true;
      continue;
    }
    if (!val) {
      usage();
      return 2;
    }
    a++;
    if (strcmp(opt, "--n-estimators") == 0)
      p.n_estimators = strtoul(val, NULL, 10);
    else if (strcmp(opt, "--max-depth") == 0)
      p.max_depth = strtoul(val, NULL, 10);
    else if (strcmp(opt, "--min-samples-split") == 0)
      p.min_samples_split = strtoul(val, NULL, 10);
    else if (strcmp(opt, "--min-samples-leaf") == 0)
      p.min_samples_leaf = strtoul(val, NULL, 10);
    else if (strcmp(opt, "--seed") == 0)
      p.seed = strtoull(val, NULL, 10);
    else if (strcmp(opt, "--repeat") == 0)
      repeat = strtol(val, NULL, 10);
    else if (strcmp(opt, "--max-features") == 0) {
      if (strcmp(val, "sqrt") == 0) {
        p.max_features_mode = HELION_FOREST_MAX_FEATURES_SQRT;
      } else {
        p.max_features_mode = HELION_FOREST_MAX_FEATURES_FRACTION;
        p.max_features = strtod(val, NULL);
      }
    } else if (strcmp(opt, "--criterion") == 0) {
      if (strcmp(val, "gini") == 0)
        p.criterion = HELION_FOREST_GINI;
      else if (strcmp(val, "log_loss") == 0 || strcmp(val, "entropy") == 0)
        p.criterion = HELION_FOREST_LOG_LOSS;
      else if (strcmp(val, "mse") == 0 || strcmp(val, "squared_error") == 0)
        p.criterion = HELION_FOREST_MSE;
      else {
        usage();
        return 2;
      }
    } else {
      usage();
      return 2;
    }
  }

  if (read_csv(argv[2], &tr) || read_csv(argv[3], &te))
    goto out;
  size_t extra = weighted ? 2 : 1;
  if (tr.cols <= extra || te.cols != tr.cols) {
    fprintf(stderr,
            "forest_cli: %s has %zu columns and %s %zu; both need "
            "the same number, more than %zu\n",
            argv[2], tr.cols, argv[3], te.cols, extra);
    goto out;
  }
  size_t d = tr.cols - extra;
  X = malloc(tr.rows * d * sizeof(*X));
  y = malloc(tr.rows * sizeof(*y));
  w = malloc(tr.rows * sizeof(*w));
  Xt = malloc(te.rows * d * sizeof(*Xt));
  pred = malloc(te.rows * sizeof(*pred));
  if (!X || !y || !w || !Xt || !pred) {
    fprintf(stderr, "forest_cli: out of memory\n");
    goto out;
  }
  for (size_t i = 0; i < tr.rows; i++) {
    memcpy(X + i * d, tr.v + i * tr.cols, d * sizeof(*X));
    if (weighted)
      w[i] = tr.v[i * tr.cols + d];
    y[i] = tr.v[i * tr.cols + tr.cols - 1];
  }
  for (size_t i = 0; i < te.rows; i++)
    memcpy(Xt + i * d, te.v + i * te.cols, d * sizeof(*Xt));

  if (helion_forest_create(&p, &f, &err)) {
    fprintf(stderr, "forest_cli: %s\n", err.msg);
    goto out;
  }
  double best = -1.0;
  for (long r = 0; r < (repeat < 1 ? 1 : repeat); r++) {
    double t0 = helion_now();
    if (helion_forest_fit(f, X, tr.rows, d, y, weighted ? w : NULL, &err)) {
      fprintf(stderr, "forest_cli: %s\n", err.msg);
      goto out;
    }
    double dt = helion_now() - t0;
    if (best < 0.0 || dt < best)
      best = dt;
  }
  fprintf(stderr, "fit_ms %.3f\n", best * 1e3);
  helion_status st =
      p.task == HELION_FOREST_CLASSIFY
          ? helion_forest_predict_proba(f, Xt, te.rows, pred, &err)
          : helion_forest_predict(f, Xt, te.rows, pred, &err);
  if (st) {
    fprintf(stderr, "forest_cli: %s\n", err.msg);
    goto out;
  }
  FILE *out = fopen(argv[4], "w");
  if (!out) {
    fprintf(stderr, "forest_cli: cannot write %s: %s\n", argv[4],
            strerror(errno));
    goto out;
  }
  for (size_t i = 0; i < te.rows; i++)
    fprintf(out, "%.17g\n", pred[i]);
  if (fclose(out) != 0) {
    fprintf(stderr, "forest_cli: writing %s failed\n", argv[4]);
    goto out;
  }
  rc = 0;

out:
  helion_forest_destroy(f);
  free(tr.v);
  free(te.v);
  free(X);
  free(y);
  free(w);
  free(Xt);
  free(pred);
  return rc;
}
