/*
 * dispatch.c: the pure part of a generated launcher (runtime.h): the device
 * ladder, the shape dispatcher and its explanation. No driver, no
 * allocation, no global state except the thread's message that
 * helion_choose sets when no config can run a shape.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "helion/runtime.h"

/* Room for one "why" from a legal fn; longer reasons are cut, which only
 * shortens a message. */
#define WHY_MAX 256

static int same_cc(const helion_device_group_t *g, const helion_device_t *d) {
  return g->cc_major == d->cc_major && g->cc_minor == d->cc_minor;
}

helion_rung helion_device_ladder(const helion_kernel_desc_t *k,
                                 const helion_device_t *dev, int *out_group) {
  int cc = -1, older = -1;
  for (unsigned g = 0; g < k->ngroups; g++) {
    const helion_device_group_t *grp = &k->groups[g];
    if (same_cc(grp, dev) && strcmp(grp->name, dev->name) == 0) {
      if (out_group)
        *out_group = (int)g;
      return HELION_RUNG_DEVICE;
    }
    if (same_cc(grp, dev) && cc < 0)
      cc = (int)g;
    /* The newest older minor; among equals the first in desc order. */
    if (grp->cc_major == dev->cc_major && grp->cc_minor < dev->cc_minor &&
        (older < 0 || grp->cc_minor > k->groups[older].cc_minor))
      older = (int)g;
  }
  if (out_group)
    *out_group = cc >= 0 ? cc : older;
  return cc >= 0 ? HELION_RUNG_CC
         : older >= 0 ? HELION_RUNG_OLDER_CC
                      : HELION_RUNG_DEFAULT;
}

static double log_coord(int64_t v) { return log2((double)(v > 1 ? v : 1)); }

static double distance(const helion_kernel_desc_t *k, const int64_t *a,
                       const int64_t *b) {
  double s = 0.0;
  for (unsigned i = 0; i < k->nkeys; i++) {
    double d = log_coord(a[i]) - log_coord(b[i]);
    s += d * d;
  }
  return sqrt(s);
}

static int same_shape(const helion_kernel_desc_t *k, const int64_t *a,
                      const int64_t *b) {
  for (unsigned i = 0; i < k->nkeys; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

static int legal(const helion_kernel_desc_t *k, unsigned config,
                 const helion_device_t *dev, const int64_t *key, char *why,
                 size_t len) {
  if (why && len)
    why[0] = '\0';
  return k->legal((int)config, dev, key, why, len);
}

/* Whether entry i comes before the pick (nearer, or as near and earlier):
 * every such entry of the group was passed over as illegal. */
static int before_pick(const helion_kernel_desc_t *k, const int64_t *key,
                       unsigned i, const helion_choice_t *c) {
  if (c->entry < 0)
    return 1;
  double d = distance(k, k->entries[i].shape, key);
  return d < c->distance || (d == c->distance && (int)i < c->entry);
}

/* The config the distilled tree gives the shape in the rung's group, or -1
 * (no tree, no group, the group has no tree, or no such config). */
static int tree_config(const helion_kernel_desc_t *k, int group,
                       const int64_t *key) {
  if (!k->tree || group < 0)
    return -1;
  int t = k->tree((unsigned)group, key);
  return t >= 0 && (unsigned)t < k->nconfigs ? t : -1;
}

/*
 * The choice without side effects: returns 0 and fills *c, or returns -1
 * with c->pick == HELION_PICK_NONE and the default's reason in why.
 */
static int choose(const helion_kernel_desc_t *k, const helion_device_t *dev,
                  const int64_t *key, helion_choice_t *c, char *why,
                  size_t len) {
  memset(c, 0, sizeof(*c));
  c->entry = -1;
  c->rung = helion_device_ladder(k, dev, &c->group);
  for (unsigned i = 0; c->group >= 0 && i < k->nentries; i++) {
    const helion_entry_desc_t *e = &k->entries[i];
    if ((int)e->group == c->group && same_shape(k, e->shape, key) &&
        legal(k, e->config, dev, key, NULL, 0)) {
      c->pick = HELION_PICK_EXACT;
      c->entry = (int)i;
      c->config = (int)e->config;
      return 0;
    }
  }
  /* The distilled tree serves a shape that was not tuned; when its config
   * is illegal here, the nearest tuned shape does (explain says so). */
  int t = tree_config(k, c->group, key);
  if (t >= 0 && legal(k, (unsigned)t, dev, key, NULL, 0)) {
    c->pick = HELION_PICK_TREE;
    c->config = t;
    return 0;
  }
  /* Nearest legal: an entry is tested only when it would improve the
   * pick, so the result is the least (distance, index) among legal ones. */
  for (unsigned i = 0; c->group >= 0 && i < k->nentries; i++) {
    const helion_entry_desc_t *e = &k->entries[i];
    if ((int)e->group != c->group)
      continue;
    double d = distance(k, e->shape, key);
    if ((c->entry < 0 || d < c->distance) &&
        legal(k, e->config, dev, key, NULL, 0)) {
      c->entry = (int)i;
      c->distance = d;
    }
  }
  for (unsigned i = 0; c->group >= 0 && i < k->nentries; i++)
    if ((int)k->entries[i].group == c->group && before_pick(k, key, i, c))
      c->skipped_illegal++;
  if (c->entry >= 0) {
    c->pick = HELION_PICK_NEAREST;
    c->config = (int)k->entries[c->entry].config;
    return 0;
  }
  c->distance = 0.0;
  if (legal(k, k->default_config, dev, key, why, len)) {
    c->pick = HELION_PICK_DEFAULT;
    c->config = (int)k->default_config;
    return 0;
  }
  c->pick = HELION_PICK_NONE;
  c->config = -1;
  return -1;
}

/* ----------------------------------------------------- bounded text out */

/* snprintf into a fixed buffer that keeps counting past its end. */
typedef struct text {
  char *buf;
  size_t len;
  size_t need;
} text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...) {
  va_list ap;
  size_t room = t->need < t->len ? t->len - t->need : 0;
  va_start(ap, fmt);
  int n = vsnprintf(room ? t->buf + t->need : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    t->need += (size_t)n;
}

static void put_shape(text *t, const helion_kernel_desc_t *k,
                      const int64_t *v) {
  for (unsigned i = 0; i < k->nkeys; i++)
    put(t, "%s%s=%lld", i ? "," : "", k->keys[i], (long long)v[i]);
}

helion_status helion_choose(const helion_kernel_desc_t *k,
                            const helion_device_t *dev, const int64_t *key,
                            helion_choice_t *out) {
  char why[WHY_MAX], shape[256];
  if (choose(k, dev, key, out, why, sizeof(why)) == 0)
    return HELION_OK;
  text t = {shape, sizeof(shape), 0};
  put_shape(&t, k, key);
  return helion_fail(HELION_ERR_INVALID,
                     "%s: no config can run shape %s on %s: the default "
                     "config breaks '%s'; tune this shape (helion-tune tune "
                     "%s --shape %s) or relax the spec",
                     k->name, shape, dev->name, why, k->spec, shape);
}

static void put_rung(text *t, const helion_kernel_desc_t *k,
                     const helion_choice_t *c) {
  static const char *const what[] = {"exact device", "same compute capability",
                                     "older minor of the same major"};
  if (c->rung == HELION_RUNG_DEFAULT) {
    put(t, "device rung: default (%s)\n",
        k->ngroups ? "no tuned entries serve this device"
                   : "the kernel has no tuned entries");
    return;
  }
  const helion_device_group_t *g = &k->groups[c->group];
  put(t, "device rung: %s (entries of %s %d.%d)\n", what[c->rung], g->name,
      g->cc_major, g->cc_minor);
}

/* One line per entry passed over: its shape and why its config is
 * illegal; at most a few, then a count. */
static void put_skipped(text *t, const helion_kernel_desc_t *k,
                        const helion_device_t *dev, const int64_t *key,
                        const helion_choice_t *c) {
  enum { SHOWN = 3 };
  unsigned n = 0;
  char why[WHY_MAX];
  for (unsigned i = 0; i < k->nentries && n < SHOWN; i++) {
    const helion_entry_desc_t *e = &k->entries[i];
    if ((int)e->group != c->group || !before_pick(k, key, i, c))
      continue;
    legal(k, e->config, dev, key, why, sizeof(why));
    put(t, "passed over: tuned shape ");
    put_shape(t, k, e->shape);
    put(t, " (config %u), illegal here: %s\n", e->config, why);
    n++;
  }
  if (c->skipped_illegal > n)
    put(t, "passed over: %u more tuned shapes with illegal configs\n",
        c->skipped_illegal - n);
}

int helion_explain(const helion_kernel_desc_t *k, const helion_device_t *dev,
                   const int64_t *key, char *buf, size_t len) {
  text t = {buf, len, 0};
  helion_choice_t c;
  char why[WHY_MAX];
  if (buf && len)
    buf[0] = '\0';
  int rc = choose(k, dev, key, &c, why, sizeof(why));
  put(&t, "%s ", k->name);
  put_shape(&t, k, key);
  put(&t, " on %s (%d.%d): ", dev->name, dev->cc_major, dev->cc_minor);
  put_rung(&t, k, &c);
  if (rc) {
    put(&t, "pick: none: no config can run this shape; the default config "
            "breaks '%s'\n",
        why);
  } else if (c.pick == HELION_PICK_TREE) {
    put(&t, "pick: the distilled decision tree (config %d)\n", c.config);
  } else if (c.pick == HELION_PICK_DEFAULT) {
    put(&t, "pick: the default config (%s)\n",
        c.group < 0 ? "no tuned entries for this device"
                    : "no tuned entry of the group is legal for this shape");
  } else {
    put(&t, "pick: %s tuned shape ",
        c.pick == HELION_PICK_EXACT ? "exact" : "nearest");
    put_shape(&t, k, k->entries[c.entry].shape);
    if (c.pick == HELION_PICK_NEAREST)
      put(&t, " (distance %.1f)", c.distance);
    put(&t, ", its config is legal here\n");
  }
  int tree = c.pick == HELION_PICK_EXACT || c.pick == HELION_PICK_TREE
                 ? -1
                 : tree_config(k, c.group, key);
  if (tree >= 0) {
    legal(k, (unsigned)tree, dev, key, why, sizeof(why));
    put(&t, "passed over: the distilled tree's config %d, illegal here: %s\n",
        tree, why);
  }
  if (c.skipped_illegal)
    put_skipped(&t, k, dev, key, &c);
  if (!rc)
    put(&t, "config %d: %s\n", c.config, k->configs[c.config].text);
  return t.need > (size_t)0x7fffffff ? 0x7fffffff : (int)t.need;
}
