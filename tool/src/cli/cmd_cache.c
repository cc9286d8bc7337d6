/*
 * cmd_cache.c: `helion-tune cache ls|show|rm`: lists, prints and deletes the
 * entries of the local best-config cache (results/cache.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "results/cache.h"
#include "util/json.h"

#define PROG "helion-tune cache"

/* The help text is kept as it prints, one source line per output line. */
/* clang-format off */
static void usage(FILE *f) {
  fputs("usage: " PROG " ls [--dir DIR]\n"
  "       " PROG " show KEY [--dir DIR]\n"
  "       " PROG " rm KEY|--all [--dir DIR]\n\n"
  "The local cache holds the best config `helion-tune tune` found per kernel,\n"
  "shape and device, one <sha256>.best_config JSON file per key; a second tune\n"
  "of the same key prints the cached entry and starts no GPU work.\n\n"
  "Commands:\n"
  "  ls          one line per entry, newest first: key prefix, kernel, shape,\n"
  "              device, best time and age (corrupt files are skipped with a\n"
  "              warning)\n"
  "  show KEY    print the entry's file (KEY: its hash or a unique prefix)\n"
  "  rm KEY      delete one entry; rm --all deletes every entry, asking\n"
  "              nothing, and prints each file it removed\n\n"
  "Options:\n"
  "  --dir DIR   the cache directory (default $HELION_CACHE_DIR, else\n"
  "              $XDG_CACHE_HOME/helion, else ~/.cache/helion)\n"
  "  -h, --help  this help\n\n"
  "What a key is made of: the kernel (spec name), the space fingerprint, the\n"
  "source hash (kernel source and helion/device.cuh), the shape, the device\n"
  "name, the driver version and the NVRTC version; with\n"
  "HELION_AUTOTUNE_CACHE=StrictLocalAutotuneCache also the tool version. The\n"
  "search (algorithm, effort, seed) is not part of it: a hit is the best config\n"
  "known whichever search found it.\n"
  "How `tune` uses it: HELION_FORCE_AUTOTUNE=1 searches again and replaces the\n"
  "entry; HELION_SKIP_CACHE=1 neither reads nor writes it. Searches that start\n"
  "from the best available configs (initial_population_strategy\n"
  "FROM_BEST_AVAILABLE, the quick effort's default) take up to\n"
  "HELION_BEST_AVAILABLE_MAX_CONFIGS (20) configs of entries with the same\n"
  "device and space, from the newest HELION_BEST_AVAILABLE_MAX_CACHE_SCAN (500)\n"
  "files, so a re-tune after a kernel edit starts from what worked.\n\n"
  "Exit status: 0 success, 1 failure (no such entry, a prefix naming several,\n"
  "a file that cannot be removed), 2 usage error.\n", f);
}
/* clang-format on */

#define usage_error(...) helion_cli_usage_error(PROG, __VA_ARGS__)

static bool is_entry_name(const char *name) {
  size_t n = strlen(name), s = strlen(HELION_CACHE_SUFFIX);
  return n > s && strcmp(name + n - s, HELION_CACHE_SUFFIX) == 0;
}

/* The entry files of `dir` whose hash starts with `prefix` (every one when
 * NULL), joined to `dir`, in *out (caller frees each and the array).
 * Returns an exit code, after printing why on failure. */
static int find_entries(const char *dir, const char *prefix, char ***out,
                        size_t *out_n) {
  char **names = NULL;
  size_t n = 0;
  int code = HELION_EXIT_OK;
  DIR *d = opendir(dir);
  if (!d) {
    if (errno != ENOENT) {
      fprintf(stderr, PROG ": %s: %s\n", dir, strerror(errno));
      code = HELION_EXIT_FAILURE;
    }
    goto out;
  }
  for (struct dirent *de; (de = readdir(d));) {
    if (!is_entry_name(de->d_name) ||
        (prefix && strncmp(de->d_name, prefix, strlen(prefix)) != 0))
      continue;
    char **p = realloc(names, (n + 1) * sizeof(*p));
    if (!p || !(p[n] = helion_path_join(dir, de->d_name))) {
      names = p ? p : names;
      fprintf(stderr, PROG ": out of memory\n");
      code = HELION_EXIT_FAILURE;
      goto out;
    }
    names = p;
    n++;
  }
out:
  if (d)
    closedir(d);
  if (code) {
    for (size_t i = 0; i < n; i++)
      free(names[i]);
    free(names);
    return code;
  }
  *out = names;
  *out_n = n;
  return code;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* "42s", "7m", "3h", "12d". */
static void format_age(double seconds, char *out, size_t cap) {
  static const struct {
    double unit;
    char name;
  } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  if (seconds < 0)
    seconds = 0;
  for (size_t i = 0; i < 4; i++)
    if (seconds >= units[i].unit || i == 3) {
      snprintf(out, cap, "%.0f%c", seconds / units[i].unit, units[i].name);
      return;
    }
}

static const char *key_field(const cJSON *doc, const char *name) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(doc, "key"), "fields"),
      name);
  return cJSON_IsString(f) ? f->valuestring : "?";
}

static int cache_ls(const char *dir) {
  helion_cache_item_t *items = NULL;
  size_t n = 0;
  helion_err_t err = {{0}};
  if (helion_cache_list(dir, 0, &items, &n, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_FAILURE;
  }
  if (n)
    printf("%-12s  %-16s  %-24s  %-24s  %10s  %s\n", "KEY", "KERNEL", "SHAPE",
           "DEVICE", "BEST_MS", "AGE");
  double now = (double)time(NULL);
  for (size_t i = 0; i < n; i++) {
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(items[i].doc, "entry"), "best_ms");
    char age[32], best[32] = "-";
    format_age(now - items[i].mtime, age, sizeof(age));
    if (cJSON_IsNumber(ms))
      snprintf(best, sizeof(best), "%.4f", ms->valuedouble);
    printf("%.12s  %-16s  %-24s  %-24s  %10s  %s\n", items[i].hash,
           key_field(items[i].doc, "kernel"), key_field(items[i].doc, "shape"),
           key_field(items[i].doc, "hardware"), best, age);
  }
  fprintf(stderr, "%zu entr%s in %s\n", n, n == 1 ? "y" : "ies", dir);
  helion_cache_items_free(items, n);
  return HELION_EXIT_OK;
}

/* The one entry KEY names; prints why not and returns 1 otherwise. */
static int resolve(const char *dir, const char *key, char **out) {
  char **names = NULL;
  size_t n = 0;
  int code = find_entries(dir, key, &names, &n);
  if (code)
    return code;
  if (n == 1) {
    *out = names[0];
    free(names);
    return HELION_EXIT_OK;
  }
  if (n == 0)
    fprintf(stderr, PROG ": no entry '%s' in %s; `" PROG " ls` lists them\n",
            key, dir);
  else
    fprintf(stderr,
            PROG ": '%s' names %zu entries in %s; give more of the "
                 "key\n",
            key, n, dir);
  free_names(names, n);
  return HELION_EXIT_FAILURE;
}

static int cache_show(const char *dir, const char *key) {
  char *path = NULL, *data = NULL;
  size_t len = 0;
  helion_err_t err = {{0}};
  int code = resolve(dir, key, &path);
  if (code)
    return code;
  if (helion_read_file(path, HELION_CACHE_FILE_MAX, &data, &len, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    code = HELION_EXIT_FAILURE;
  } else {
    fwrite(data, 1, len, stdout);
    if (len && data[len - 1] != '\n')
      putchar('\n');
  }
  free(data);
  free(path);
  return code;
}

static int remove_one(const char *path) {
  if (unlink(path) != 0) {
    fprintf(stderr, PROG ": cannot remove %s: %s\n", path, strerror(errno));
    return HELION_EXIT_FAILURE;
  }
  printf("removed %s\n", path);
  return HELION_EXIT_OK;
}

static int cache_rm(const char *dir, const char *key) {
  char **names = NULL, *one = NULL;
  size_t n = 0;
  int code;
  if (key) {
    if (!(code = resolve(dir, key, &one)))
      code = remove_one(one);
    free(one);
    return code;
  }
  if ((code = find_entries(dir, NULL, &names, &n)))
    return code;
  size_t removed = 0;
  for (size_t i = 0; i < n; i++)
    if (remove_one(names[i]))
      code = HELION_EXIT_FAILURE;
    else
      removed++;
  fprintf(stderr, "removed %zu entr%s from %s\n", removed,
          removed == 1 ? "y" : "ies", dir);
  free_names(names, n);
  return code;
}

int helion_cmd_cache(int argc, char **argv) {
  static const char *const valued[] = {"--dir", NULL};
  static const char *const boolean[] = {"--all", NULL};
  static const helion_cli_flags_t flags = {valued, boolean};
  const char *action = NULL, *key = NULL, *dir = NULL;
  bool all = false;
  for (int i = 1; i < argc;) {
    const char *flag, *val;
    if (helion_cli_is_help(argv[i])) {
      usage(stdout);
      return HELION_EXIT_OK;
    }
    int rc = helion_cli_next(PROG, argc, argv, &i, &flags, &flag, &val);
    if (rc)
      return rc;
    if (!flag && !action)
      action = val;
    else if (!flag && !key)
      key = val;
    else if (!flag)
      return usage_error("unexpected argument '%s'", val);
    else if (strcmp(flag, "--dir") == 0 && !*val)
      return usage_error("--dir: empty directory name");
    else if (strcmp(flag, "--dir") == 0)
      dir = val;
    else
      all = true;
  }
  if (!action)
    return usage_error("missing command: ls, show or rm");
  bool ls = strcmp(action, "ls") == 0, show = strcmp(action, "show") == 0;
  bool rm = strcmp(action, "rm") == 0;
  if (!ls && !show && !rm)
    return usage_error("unknown command '%s': ls, show or rm", action);
  if (ls && key)
    return usage_error("ls takes no KEY");
  if (all && !rm)
    return usage_error("--all goes with rm");
  if ((show || (rm && !all)) && !key)
    return usage_error("%s: missing KEY (a hash or a prefix of one; `" PROG
                       " ls` lists them)",
                       action);
  if (rm && all && key)
    return usage_error("rm: KEY or --all, not both");
  if (key && (!*key || strspn(key, "0123456789abcdef") != strlen(key)))
    return usage_error("KEY '%s': expected lowercase hex (a hash or a "
                       "prefix of one)",
                       key);

  helion_cache_t c;
  helion_err_t err = {{0}};
  if (helion_cache_init(&c, dir, &err)) {
    fprintf(stderr, PROG ": %s\n", err.msg);
    return HELION_EXIT_USAGE;
  }
  int code = ls     ? cache_ls(c.dir)
             : show ? cache_show(c.dir, key)
                    : cache_rm(c.dir, all ? NULL : key);
  helion_cache_cleanup(&c);
  return code;
}
