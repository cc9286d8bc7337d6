/*
 * nvrtc_reuse.c: what one NVRTC compile costs in a fresh forked process
 * (the compile pool until the ninth session: a fork per compile) against a
 * process that compiled before (the pool since: one long-lived process per
 * slot). Each compile gets a distinct -D so no cache can answer it.
 *
 *   build/tests/nvrtc_reuse samples/softmax/softmax.cu 9 [NVRTC options...]
 *
 * (built by tests/CMakeLists.txt; by hand: cc -O2 tests/bench/nvrtc_reuse.c
 * -I/usr/local/cuda/include -L/usr/local/cuda/lib64 -lnvrtc).
 *
 * Prints, per mode, the median and the fastest of N compiles (wall seconds
 * of nvrtcCompileProgram; for the fork mode the wall from fork to reaped
 * child). Options are passed as they are (e.g. --gpu-architecture=sm_90
 * -std=c++17 -default-device --include-path=runtime/include
 * --include-path=/usr/local/cuda/include --ptxas-options=-v); try
 * --gpu-architecture=compute_90 (no ptxas), -fdevice-syntax-only (front
 * end only) or --pch to see where a compile's time goes.
 */
#define _POSIX_C_SOURCE 200809L

#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPTS 62

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *src, *name;
static const char **opts;
static int nopts;

/* Compiles with -DHELION_BENCH_NTH=nth added; exits on any failure. */
static void compile(int nth) {
  char def[48];
  snprintf(def, sizeof(def), "-DHELION_BENCH_NTH=%d", nth);
  const char *o[MAX_OPTS + 1];
  memcpy(o, opts, (size_t)nopts * sizeof(*o));
  o[nopts] = def;
  nvrtcProgram p;
  if (nvrtcCreateProgram(&p, src, name, 0, NULL, NULL) != NVRTC_SUCCESS) {
    fprintf(stderr, "nvrtcCreateProgram failed\n");
    exit(1);
  }
  nvrtcResult r = nvrtcCompileProgram(p, nopts + 1, o);
  if (r != NVRTC_SUCCESS) {
    size_t n = 0;
    nvrtcGetProgramLogSize(p, &n);
    char *log = malloc(n + 1);
    if (log && nvrtcGetProgramLog(p, log) == NVRTC_SUCCESS)
      fprintf(stderr, "%s\n", log);
    fprintf(stderr, "compile failed: %s\n", nvrtcGetErrorString(r));
    exit(1);
  }
  nvrtcDestroyProgram(&p);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void report(const char *mode, double *t, int n) {
  qsort(t, (size_t)n, sizeof(*t), cmp);
  printf("%-10s %s: median %.3f s, fastest %.3f s (%d compiles)\n", mode, name,
         t[n / 2], t[0], n);
}

int main(int argc, char **argv) {
  if (argc < 3 || argc - 3 > MAX_OPTS) {
    fprintf(stderr, "usage: %s FILE.cu N [NVRTC options...]\n", argv[0]);
    return 2;
  }
  name = argv[1];
  FILE *f = fopen(name, "rb");
  if (!f) {
    perror(name);
    return 1;
  }
  char *text = malloc(1 << 24);
  size_t len = text ? fread(text, 1, (1 << 24) - 1, f) : 0;
  fclose(f);
  if (!text || len == 0) {
    fprintf(stderr, "%s: empty or unreadable\n", name);
    return 1;
  }
  text[len] = '\0';
  src = text;
  int n = atoi(argv[2]);
  if (n < 1 || n > 1000) {
    fprintf(stderr, "N: 1 to 1000\n");
    return 2;
  }
  opts = (const char **)(argv + 3);
  nopts = argc - 3;
  double *t = malloc((size_t)n * sizeof(*t));
  if (!t)
    return 1;
  int nth = 0;

  /* A fresh process per compile, its parent never having compiled. */
  for (int k = 0; k < n; k++, nth++) {
    double t0 = now();
    pid_t c = fork();
    if (c < 0) {
      perror("fork");
      return 1;
    }
    if (c == 0) {
      compile(nth);
      _exit(0);
    }
    int st;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "compile child failed\n");
      return 1;
    }
    t[k] = now() - t0;
  }
  report("fork", t, n);

  /* One process: a first compile, then the N timed. */
  compile(nth++);
  for (int k = 0; k < n; k++, nth++) {
    double t0 = now();
    compile(nth);
    t[k] = now() - t0;
  }
  report("reused", t, n);
  free(t);
  free(text);
  return 0;
}
