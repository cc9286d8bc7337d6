/*
 * sources.c: the files a kernel's compile reads that can change under a
 * results entry (tune.h, helion_tune_source_files): the kernel source,
 * helion/device.cuh, and every header the kernel includes with quotes that
 * is found beside the including file.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/nvrtc_compile.h"
#include "results/tune.h"

/* A kernel never needs more; a cycle or a runaway tree stops here. */
#define SOURCES_MAX 256
#define SOURCE_MAX_BYTES ((size_t)16 << 20)

typedef struct list {
  helion_source_file_t *v;
  size_t n;
} list;

static bool listed(const list *l, const char *path) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].path, path) == 0)
      return true;
  return false;
}

static helion_status add(list *l, char *path, char *name, helion_err_t *err) {
  if (!path || !name) {
    free(path);
    free(name);
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  }
  if (l->n == SOURCES_MAX) {
    helion_err_set(err, HELION_ERR_LIMIT,
                   "%s: more than %d included files; is there an include "
                   "cycle?",
                   path, SOURCES_MAX);
    free(path);
    free(name);
    return HELION_ERR_LIMIT;
  }
  l->v[l->n].path = path;
  l->v[l->n].name = name;
  l->n++;
  return HELION_OK;
}

/*
 * The quoted includes of one file, each resolved beside it; those found and
 * not listed yet are appended (and scanned in turn by the caller's loop).
 * Angle-bracket includes and quoted ones not found beside the file are the
 * toolkit's or the runtime's: they are not the kernel's to hash.
 */
static helion_status scan(list *l, size_t at, helion_err_t *err) {
  char *data = NULL;
  size_t len = 0;
  helion_status rc =
      helion_read_file(l->v[at].path, SOURCE_MAX_BYTES, &data, &len, err);
  if (rc)
    return rc;
  char *dir = helion_path_dirname(l->v[at].path);
  if (!dir)
    rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  for (char *line = data; line && !rc;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (*p == '#') {
      p++;
      while (isspace((unsigned char)*p))
        p++;
      char *q;
      if (strncmp(p, "include", 7) == 0 && (q = strchr(p + 7, '"')) &&
          strchr(q + 1, '"')) {
        *strchr(q + 1, '"') = '\0';
        char *path = helion_path_join(dir, q + 1);
        if (!path)
          rc = helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
        else if (access(path, R_OK) != 0 || listed(l, path))
          free(path);
        else
          rc = add(l, path, helion_strdup(q + 1), err);
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  free(dir);
  free(data);
  return rc;
}

helion_status helion_tune_source_files(const helion_spec_t *spec,
                                       helion_source_file_t **out,
                                       size_t *out_n, helion_err_t *err) {
  list l = {calloc(SOURCES_MAX, sizeof(helion_source_file_t)), 0};
  if (!l.v)
    return helion_err_set(err, HELION_ERR_NOMEM, "out of memory");
  const char *base = strrchr(spec->source, '/');
  helion_status rc =
      add(&l, helion_strdup(spec->source), helion_strdup(base ? base + 1 : spec->source),
          err);
  if (!rc)
    rc = add(&l,
             helion_path_join(helion_nvrtc_runtime_include_dir(),
                              "helion/device.cuh"),
             helion_strdup("helion/device.cuh"), err);
  /* Breadth first from the kernel: device.cuh (index 1) is the runtime's,
   * hashed whole but not scanned for the kernel's headers. */
  for (size_t i = 0; i < l.n && !rc; i++)
    if (i != 1)
      rc = scan(&l, i, err);
  if (rc) {
    helion_source_files_free(l.v, l.n);
    return rc;
  }
  *out = l.v;
  *out_n = l.n;
  return HELION_OK;
}

void helion_source_files_free(helion_source_file_t *files, size_t n) {
  for (size_t i = 0; files && i < n; i++) {
    free(files[i].path);
    free(files[i].name);
  }
  free(files);
}
