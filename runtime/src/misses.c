/*
 * misses.c: helion_miss, which makes the dispatcher's fallbacks visible.
 *
 * HELION_LOG_MISSES=1 logs the first miss of each kernel to stderr, with the
 * command that tunes the shape. HELION_RECORD_MISSES=FILE appends each
 * distinct (kernel, device, shape) once per process to FILE as one JSON line,
 * which `helion-tune tune SPEC --shapes-from FILE` reads. Both are read once
 * per process. Nothing here fails a call: a problem is one line on stderr.
 *
 * Thread safety: one process-wide mutex guards every kernel's miss record
 * and the warn-once flags. Only the miss path takes it; a call served by its
 * device's exact entry never calls helion_miss.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helion/runtime.h"
#include "kernel_state.h"

/* Distinct missed shapes recorded per kernel and process; past this, one
 * warning and no more records (a loop over random sizes must not fill the
 * disk). The hash table has twice as many slots, so probes stay short. */
#define MAX_SHAPES 4096
#define TABLE_SLOTS (2 * MAX_SHAPES)

/* A record line: the escaped device name (6 bytes per byte at worst) plus the
 * keys and values fit with room to spare for any sane kernel. */
#define LINE_MAX_BYTES 8192

typedef struct miss_record {
  int logged;      /* the stderr line of HELION_LOG_MISSES was written */
  int full_warned; /* MAX_SHAPES reached and said so */
  unsigned count;  /* shapes recorded */
  unsigned cap;    /* entries allocated */
  const helion_device_t **devices; /* per shape */
  int64_t *shapes;                 /* count * nkeys values */
  uint32_t *table; /* TABLE_SLOTS; 0 empty, else shape index + 1 */
} miss_record_t;

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static int log_misses;
/* A copy: the environment's string goes away if the application changes the
 * variable. Never freed. */
static const char *record_path;

static pthread_mutex_t miss_lock = PTHREAD_MUTEX_INITIALIZER;
static int write_warned, memory_warned; /* under miss_lock */

static void env_read(void) {
  const char *v = getenv("HELION_LOG_MISSES");
  log_misses = v && *v && strcmp(v, "0") != 0;
  v = getenv("HELION_RECORD_MISSES");
  record_path = v && *v ? strdup(v) : NULL;
  if (v && *v && !record_path)
    fprintf(stderr, "helion: out of memory; HELION_RECORD_MISSES ignored\n");
}

/* ----------------------------------------------------------------- text */

/* A bounded string; `overflow` once anything did not fit. */
typedef struct text {
  char *buf;
  size_t len, cap;
  int overflow;
} text_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
text_printf(text_t *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  if (w < 0 || (size_t)w >= t->cap - t->len) {
    t->overflow = 1;
    t->buf[t->len] = '\0';
    return;
  }
  t->len += (size_t)w;
}

/* s as a JSON string, quotes included. */
static void text_json_string(text_t *t, const char *s) {
  text_printf(t, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      text_printf(t, "\\%c", *p);
    else if (*p < 0x20)
      text_printf(t, "\\u%04x", *p);
    else
      text_printf(t, "%c", *p);
  }
  text_printf(t, "\"");
}

/* "M=5,N=7": the form --shape takes. */
static void text_shape(text_t *t, const helion_kernel_desc_t *k,
                       const int64_t *v) {
  for (unsigned i = 0; i < k->nkeys; i++)
    text_printf(t, "%s%s=%" PRId64, i ? "," : "", k->keys[i], v[i]);
}

static const char *pick_name(helion_pick p) {
  switch (p) {
  case HELION_PICK_EXACT:
    return "exact";
  case HELION_PICK_NEAREST:
    return "nearest";
  case HELION_PICK_TREE:
    return "tree";
  case HELION_PICK_DEFAULT:
    return "default";
  case HELION_PICK_NONE:
    break;
  }
  return "none";
}

/* ------------------------------------------------------------ stderr line */

/* What served the call instead of an exact entry of its device. */
static void text_reason(text_t *t, const helion_kernel_desc_t *k,
                        const helion_choice_t *c) {
  int other = c->rung == HELION_RUNG_CC || c->rung == HELION_RUNG_OLDER_CC;
  const helion_device_group_t *g =
      other && c->group >= 0 && (unsigned)c->group < k->ngroups
          ? &k->groups[c->group]
          : NULL;
  int has_entry = c->entry >= 0 && (unsigned)c->entry < k->nentries;
  if (c->rung == HELION_RUNG_DEFAULT) {
    text_printf(t, "nothing was tuned for this device or its compute "
                   "capability; the default config used");
    return;
  }
  if (c->pick == HELION_PICK_NONE) {
    text_printf(t, "no config is legal for it");
    return;
  }
  if (c->pick == HELION_PICK_DEFAULT) {
    text_printf(t, "no tuned entry's config is legal for it; the default "
                   "config used");
    return;
  }
  if (c->pick == HELION_PICK_TREE)
    text_printf(t, "the distilled decision tree's config %d", c->config);
  else
    text_printf(t, "%s tuned shape",
                c->pick == HELION_PICK_EXACT ? "the same" : "nearest");
  if (has_entry && c->pick == HELION_PICK_NEAREST) {
    text_printf(t, " ");
    text_shape(t, k, k->entries[c->entry].shape);
  }
  if (g)
    text_printf(t, " of %s (%d.%d)", g->name, g->cc_major, g->cc_minor);
  text_printf(t, " used");
}

static void log_line(const helion_kernel_desc_t *k, const helion_device_t *dev,
                     const int64_t *key, const helion_choice_t *c) {
  char buf[LINE_MAX_BYTES], spec_buf[256];
  text_t t = {buf, 0, sizeof(buf), 0};
  text_t shape = {spec_buf, 0, sizeof(spec_buf), 0};
  text_shape(&shape, k, key);
  const char *spec = k->spec ? k->spec : k->name;
  text_printf(&t, "helion: %s: shape %s on %s (%d.%d) has no tuned entry (",
              k->name, shape.buf, dev->name, dev->cc_major, dev->cc_minor);
  text_reason(&t, k, c);
  text_printf(&t, "); tune it: helion-tune tune %s --shape %s, ", spec,
              shape.buf);
  if (record_path)
    text_printf(&t,
                "or tune every recorded miss: helion-tune tune %s "
                "--shapes-from %s",
                spec, record_path);
  else
    text_printf(&t,
                "or record misses with HELION_RECORD_MISSES=FILE and "
                "helion-tune tune %s --shapes-from FILE",
                spec);
  fprintf(stderr, "%s\n", buf);
}

/* ------------------------------------------------------------- the record */

/* Devices are the same for the record when the line would say the same. */
static int device_same(const helion_device_t *a, const helion_device_t *b) {
  return a == b || (a->cc_major == b->cc_major && a->cc_minor == b->cc_minor &&
                    strcmp(a->name, b->name) == 0);
}

/* FNV-1a over the device's name and cc and the shape's values. */
static uint32_t shape_hash(const helion_device_t *dev, const int64_t *key,
                           unsigned nkeys) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)dev->name; *p; p++)
    h = (h ^ *p) * 16777619u;
  h = (h ^ (uint32_t)(dev->cc_major * 10 + dev->cc_minor)) * 16777619u;
  for (unsigned i = 0; i < nkeys; i++) {
    uint64_t v = (uint64_t)key[i];
    for (int b = 0; b < 8; b++, v >>= 8)
      h = (h ^ (uint32_t)(v & 0xff)) * 16777619u;
  }
  return h;
}

/* Room for one more shape; 0 when memory ran out. */
static int record_grow(miss_record_t *m, unsigned nkeys) {
  if (!m->table && !(m->table = calloc(TABLE_SLOTS, sizeof(*m->table))))
    return 0;
  if (m->count < m->cap)
    return 1;
  unsigned cap = m->cap ? 2 * m->cap : 64;
  const helion_device_t **devs = realloc(m->devices, cap * sizeof(*devs));
  if (!devs)
    return 0;
  m->devices = devs;
  int64_t *shapes =
      realloc(m->shapes, (size_t)cap * (nkeys ? nkeys : 1) * sizeof(*shapes));
  if (!shapes)
    return 0;
  m->shapes = shapes;
  m->cap = cap;
  return 1;
}

/* Adds (dev, key) unless present. 1: added, 0: known, -1: not added (full
 * or out of memory, said once). */
static int record_add(miss_record_t *m, const helion_kernel_desc_t *k,
                      const helion_device_t *dev, const int64_t *key) {
  unsigned nkeys = k->nkeys;
  uint32_t i = shape_hash(dev, key, nkeys) % TABLE_SLOTS;
  for (; m->table && m->table[i]; i = (i + 1) % TABLE_SLOTS) {
    unsigned at = m->table[i] - 1;
    if (device_same(m->devices[at], dev) &&
        memcmp(&m->shapes[(size_t)at * nkeys], key, nkeys * sizeof(*key)) == 0)
      return 0;
  }
  if (m->count == MAX_SHAPES) {
    if (!m->full_warned)
      fprintf(stderr,
              "helion: %s: more than %d distinct missed shapes in this "
              "process; recording no more of them to %s\n",
              k->name, MAX_SHAPES, record_path);
    m->full_warned = 1;
    return -1;
  }
  if (!record_grow(m, nkeys)) {
    if (!memory_warned)
      fprintf(stderr,
              "helion: out of memory; missed shapes are no longer "
              "recorded to %s\n",
              record_path);
    memory_warned = 1;
    return -1;
  }
  /* i is the empty slot the probe ended on, or the hash's own slot of a
   * table record_grow just allocated. */
  m->devices[m->count] = dev;
  memcpy(&m->shapes[(size_t)m->count * nkeys], key, nkeys * sizeof(*key));
  m->table[i] = ++m->count;
  return 1;
}

/* The documented JSON line, keys sorted, newline included. */
static void record_line(text_t *t, const helion_kernel_desc_t *k,
                        const helion_device_t *dev, const int64_t *key,
                        const helion_choice_t *c) {
  text_printf(t, "{\"cc\":\"%d.%d\",\"device\":", dev->cc_major, dev->cc_minor);
  text_json_string(t, dev->name);
  text_printf(t, ",\"kernel\":");
  text_json_string(t, k->name);
  text_printf(t, ",\"pick\":\"%s\",\"shape\":{", pick_name(c->pick));
  for (unsigned i = 0; i < k->nkeys; i++) {
    text_printf(t, "%s", i ? "," : "");
    text_json_string(t, k->keys[i]);
    text_printf(t, ":%" PRId64, key[i]);
  }
  text_printf(t, "}}\n");
}

/* Appends the line with one write(2): O_APPEND makes each write land whole
 * at the end, so processes recording to one file never interleave lines.
 * The file is opened per line (lines are rare), so a rotated or deleted
 * file is simply recreated. */
static void record_write(const char *line, size_t len) {
  const char *why = NULL;
  int err = 0;
  int fd;
  do
    fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    why = "cannot open it";
    err = errno;
  } else {
    ssize_t n;
    do
      n = write(fd, line, len);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len) {
      why = "cannot write to it";
      err = n < 0 ? errno : ENOSPC;
    }
    close(fd);
  }
  if (why && !write_warned)
    fprintf(stderr,
            "helion: HELION_RECORD_MISSES=%s: %s (%s); missed shapes are not "
            "recorded\n",
            record_path, why, strerror(err));
  if (why)
    write_warned = 1;
}

static void record(miss_record_t *m, const helion_kernel_desc_t *k,
                   const helion_device_t *dev, const int64_t *key,
                   const helion_choice_t *c) {
  if (record_add(m, k, dev, key) != 1)
    return;
  char buf[LINE_MAX_BYTES];
  text_t t = {buf, 0, sizeof(buf), 0};
  record_line(&t, k, dev, key, c);
  if (t.overflow) {
    fprintf(stderr,
            "helion: %s: a missed shape's record is longer than %d "
            "bytes; not recorded\n",
            k->name, LINE_MAX_BYTES);
    return;
  }
  record_write(buf, t.len);
}

/* ------------------------------------------------------------- the entry */

void helion_miss(const helion_kernel_desc_t *k, helion_kernel_state_t *st,
                 const helion_call_t *call, const int64_t *key,
                 const helion_choice_t *c) {
  pthread_once(&env_once, env_read);
  if (!log_misses && !record_path)
    return;
  if (!k || !st || !call || !call->device || !key || !c)
    return;
  /* helion_kernel_get may set the thread's message; a miss never fails the
   * call, so keep the caller's message as it was. */
  helion__kernel_t *kern = __atomic_load_n(&st->impl, __ATOMIC_ACQUIRE);
  if (!kern) {
    char saved[1024];
    snprintf(saved, sizeof(saved), "%s", helion_last_error());
    helion_status rc = helion__kernel_get(k, st, &kern);
    helion_fail(HELION_OK, "%s", saved);
    if (rc)
      return;
  }
  pthread_mutex_lock(&miss_lock);
  miss_record_t *m = kern->misses;
  if (!m && (m = calloc(1, sizeof(*m))))
    kern->misses = m;
  if (!m) {
    if (!memory_warned)
      fprintf(stderr, "helion: out of memory; misses are not reported\n");
    memory_warned = 1;
  } else {
    if (log_misses && !m->logged) {
      m->logged = 1;
      log_line(k, call->device, key, c);
    }
    if (record_path)
      record(m, k, call->device, key, c);
  }
  pthread_mutex_unlock(&miss_lock);
}
