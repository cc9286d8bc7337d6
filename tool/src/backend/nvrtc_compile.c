/*
 * nvrtc_compile.c: one NVRTC compile of a CUDA C source into cubin + PTX, with
 * the log and the entry's resource usage (see nvrtc_compile.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "backend/nvrtc_compile.h"

#include <ctype.h>
#include <nvrtc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HELION_RUNTIME_INCLUDE_DIR
#define HELION_RUNTIME_INCLUDE_DIR "runtime/include"
#endif
#ifndef HELION_CUDA_INCLUDE_DIR
#define HELION_CUDA_INCLUDE_DIR "/usr/local/cuda/include"
#endif

/* Options beyond this are a caller bug, not a configuration. */
#define OPTIONS_MAX ((size_t)1 << 20)

void helion_nvrtc_result_init(helion_nvrtc_result_t *r) {
  memset(r, 0, sizeof(*r));
}

void helion_nvrtc_result_cleanup(helion_nvrtc_result_t *r) {
  if (!r)
    return;
  free(r->cubin);
  free(r->ptx);
  free(r->log);
  memset(r, 0, sizeof(*r));
}

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && v[0] ? v : fallback;
}

/*
 * An installed tool (<prefix>/bin/helion-tune) finds the headers installed
 * beside it (<prefix>/include/helion/device.cuh); found once, then kept.
 */
static char installed_include[2048 + 16];
static pthread_once_t installed_once = PTHREAD_ONCE_INIT;

static void find_installed_include(void) {
  char exe[2048], probe[2048 + 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash)
    return;
  *slash = '\0';
  snprintf(probe, sizeof(probe), "%s/../include/helion/device.cuh", exe);
  if (access(probe, R_OK) == 0)
    snprintf(installed_include, sizeof(installed_include), "%s/../include",
             exe);
}

const char *helion_nvrtc_runtime_include_dir(void) {
  pthread_once(&installed_once, find_installed_include);
  return env_or("HELION_INCLUDE_DIR", installed_include[0]
                                          ? installed_include
                                          : HELION_RUNTIME_INCLUDE_DIR);
}

const char *helion_nvrtc_cuda_include_dir(void) {
  return env_or("HELION_CUDA_INCLUDE_DIR", HELION_CUDA_INCLUDE_DIR);
}

helion_status helion_nvrtc_version(int *out_major, int *out_minor,
                                   helion_err_t *err) {
  int major = 0, minor = 0;
  nvrtcResult r = nvrtcVersion(&major, &minor);
  if (r != NVRTC_SUCCESS)
    return helion_err_set(err, HELION_ERR_NVRTC, "nvrtcVersion failed: %s",
                          nvrtcGetErrorString(r));
  *out_major = major;
  *out_minor = minor;
  return HELION_OK;
}

void helion_nvrtc_target(const char *arch, bool specific, char *out,
                         size_t n) {
  size_t len = strlen(arch);
  bool lettered = len > 0 && islower((unsigned char)arch[len - 1]);
  snprintf(out, n, "%s%s", arch, specific && !lettered ? "a" : "");
}

/* "sm_" then 2-3 digits and an optional feature letter ("sm_90a"). */
static bool arch_valid(const char *arch) {
  if (!arch || strncmp(arch, "sm_", 3) != 0)
    return false;
  const char *p = arch + 3;
  size_t digits = 0;
  while (isdigit((unsigned char)p[digits]))
    digits++;
  if (digits < 2 || digits > 3)
    return false;
  p += digits;
  if (*p && islower((unsigned char)*p))
    p++;
  return *p == '\0';
}

static bool is_ident_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '$';
}

bool helion_nvrtc_ptx_has_entry(const char *ptx, const char *name) {
  if (!ptx || !name || !name[0])
    return false;
  size_t n = strlen(name);
  for (const char *p = strstr(ptx, ".entry"); p; p = strstr(p + 1, ".entry")) {
    const char *q = p + 6;
    if (*q != ' ' && *q != '\t')
      continue;
    while (*q == ' ' || *q == '\t')
      q++;
    if (strncmp(q, name, n) == 0 && !is_ident_char(q[n]))
      return true;
  }
  return false;
}

/* The decimal number right before `phrase` in [line, line+len), or -1. */
static int64_t number_before(const char *line, size_t len, const char *phrase) {
  size_t plen = strlen(phrase);
  for (size_t i = 0; i + plen <= len; i++) {
    if (memcmp(line + i, phrase, plen) != 0)
      continue;
    size_t end = i;
    while (end > 0 && line[end - 1] == ' ')
      end--;
    size_t start = end;
    while (start > 0 && isdigit((unsigned char)line[start - 1]))
      start--;
    if (start == end)
      return -1;
    int64_t v = 0;
    for (size_t k = start; k < end && v < INT64_MAX / 10 - 10; k++)
      v = v * 10 + (line[k] - '0');
    return v;
  }
  return -1;
}

/* The decimal number right after `phrase` in the line, or -1. */
static int64_t number_after(const char *line, size_t len, const char *phrase) {
  size_t plen = strlen(phrase);
  for (size_t i = 0; i + plen <= len; i++) {
    if (memcmp(line + i, phrase, plen) != 0)
      continue;
    size_t k = i + plen;
    if (k >= len || !isdigit((unsigned char)line[k]))
      return -1;
    int64_t v = 0;
    for (;
         k < len && isdigit((unsigned char)line[k]) && v < INT64_MAX / 10 - 10;
         k++)
      v = v * 10 + (line[k] - '0');
    return v;
  }
  return -1;
}

/* When the line names a function ("Function properties for f", "Compiling
 * entry function 'f' for ..."), returns whether that function is `entry`;
 * otherwise returns `current` unchanged. */
static bool track_function(const char *line, size_t len, const char *entry,
                           bool current) {
  static const char props[] = "Function properties for ";
  static const char compiling[] = "Compiling entry function '";
  size_t n = strlen(entry);
  for (size_t i = 0; i < len; i++) {
    size_t rest = len - i;
    if (rest >= sizeof(props) - 1 &&
        memcmp(line + i, props, sizeof(props) - 1) == 0) {
      const char *name = line + i + sizeof(props) - 1;
      size_t nlen = rest - (sizeof(props) - 1);
      while (nlen > 0 && isspace((unsigned char)name[nlen - 1]))
        nlen--;
      return nlen == n && memcmp(name, entry, n) == 0;
    }
    if (rest >= sizeof(compiling) - 1 &&
        memcmp(line + i, compiling, sizeof(compiling) - 1) == 0) {
      const char *name = line + i + sizeof(compiling) - 1;
      size_t nlen = rest - (sizeof(compiling) - 1);
      return nlen > n && memcmp(name, entry, n) == 0 && name[n] == '\'';
    }
  }
  return current;
}

bool helion_nvrtc_parse_usage(const char *log, const char *entry,
                              helion_nvrtc_usage_t *out) {
  if (!log || !entry || !entry[0])
    return false;
  helion_nvrtc_usage_t u;
  memset(&u, 0, sizeof(u));
  bool in_entry = false;
  const char *line = log;
  while (*line) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    in_entry = track_function(line, len, entry, in_entry);
    if (in_entry) {
      int64_t v;
      if ((v = number_before(line, len, "bytes stack frame")) >= 0)
        u.stack_bytes = v;
      if ((v = number_before(line, len, "bytes spill stores")) >= 0)
        u.spill_stores = v;
      if ((v = number_before(line, len, "bytes spill loads")) >= 0)
        u.spill_loads = v;
      if ((v = number_after(line, len, "Used ")) >= 0 &&
          number_before(line, len, "registers") == v) {
        u.registers = (int)v;
        u.known = true;
        if ((v = number_before(line, len, "bytes smem")) >= 0)
          u.smem_bytes = v;
      }
    }
    line += len + (nl ? 1 : 0);
  }
  if (!u.known)
    return false;
  *out = u;
  return true;
}

/* Appends prefix + value plus the terminating NUL to the packed list. */
static helion_status add_option(helion_buf_t *opts, size_t *count,
                                const char *prefix, const char *value) {
  helion_status rc = helion_buf_puts(opts, prefix);
  if (!rc)
    rc = helion_buf_puts(opts, value);
  if (!rc)
    rc = helion_buf_putc(opts, '\0');
  if (!rc)
    (*count)++;
  return rc;
}

/* Condenses a log into one line for an error message: its error lines
 * joined by "; ", or the whole log when none says "error". */
static void log_summary(const char *log, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (int pass = 0; pass < 2 && used == 0; pass++) {
    const char *line = log;
    while (*line) {
      const char *nl = strchr(line, '\n');
      size_t len = nl ? (size_t)(nl - line) : strlen(line);
      while (len > 0 && isspace((unsigned char)line[len - 1]))
        len--;
      bool take = len > 0;
      if (take && pass == 0) {
        /* Only the diagnostic lines, not the source excerpt under them. */
        char tmp[512];
        size_t tl = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
        memcpy(tmp, line, tl);
        tmp[tl] = '\0';
        take =
            strstr(tmp, "error") != NULL && strstr(tmp, "detected in the "
                                                        "compilation") == NULL;
      }
      if (take && used + 3 < cap) {
        if (used) {
          memcpy(out + used, "; ", 2);
          used += 2;
        }
        size_t n = len < cap - used - 1 ? len : cap - used - 1;
        memcpy(out + used, line, n);
        used += n;
        out[used] = '\0';
      }
      line += (nl ? (size_t)(nl - line) + 1 : strlen(line));
    }
  }
}

/* Fetches the program log into a malloc'd string. */
static helion_status get_log(nvrtcProgram prog, const char *name, char **out,
                             helion_err_t *err) {
  size_t n = 0;
  nvrtcResult r = nvrtcGetProgramLogSize(prog, &n);
  if (r != NVRTC_SUCCESS)
    return helion_err_set(err, HELION_ERR_NVRTC,
                          "%s: nvrtcGetProgramLogSize failed: %s", name,
                          nvrtcGetErrorString(r));
  char *log = malloc(n + 1);
  if (!log)
    return helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", name);
  log[0] = '\0';
  if (n > 0) {
    r = nvrtcGetProgramLog(prog, log);
    if (r != NVRTC_SUCCESS) {
      free(log);
      return helion_err_set(err, HELION_ERR_NVRTC,
                            "%s: nvrtcGetProgramLog failed: %s", name,
                            nvrtcGetErrorString(r));
    }
  }
  log[n] = '\0';
  *out = log;
  return HELION_OK;
}

helion_status helion_nvrtc_compile(const helion_nvrtc_input_t *in,
                                   helion_nvrtc_result_t *out,
                                   helion_err_t *err) {
  helion_status rc = HELION_OK;
  nvrtcProgram prog = NULL;
  helion_buf_t opts;
  const char **argv = NULL;
  char *log = NULL, *ptx = NULL;
  uint8_t *cubin = NULL;
  size_t nopts = 0, ptx_size = 0, cubin_size = 0;
  nvrtcResult r;
  helion_buf_init(&opts, OPTIONS_MAX);

  if (!in || !in->source || !in->name || !in->name[0])
    return helion_err_set(err, HELION_ERR_INVALID,
                          "NVRTC compile: source text and file name required");
  if (!arch_valid(in->arch))
    return helion_err_set(err, HELION_ERR_INVALID,
                          "%s: arch '%s': expected sm_XX, e.g. sm_90", in->name,
                          in->arch ? in->arch : "(null)");

  /* Base options, then the caller's, packed NUL-separated into one buffer;
   * pointers into it are taken once it stops growing. */
  rc = add_option(&opts, &nopts, "--gpu-architecture=", in->arch);
  if (!rc)
    rc = add_option(&opts, &nopts, "-std=c++17", "");
  if (!rc)
    rc = add_option(&opts, &nopts, "-default-device", "");
  if (!rc)
    rc = add_option(&opts, &nopts,
                    "--include-path=", helion_nvrtc_runtime_include_dir());
  if (!rc)
    rc = add_option(&opts, &nopts,
                    "--include-path=", helion_nvrtc_cuda_include_dir());
  if (!rc)
    rc = add_option(&opts, &nopts, "--ptxas-options=-v", "");
  for (const char *p = in->options; !rc && p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    size_t b = 0, e = len;
    while (b < e && isspace((unsigned char)p[b]))
      b++;
    while (e > b && isspace((unsigned char)p[e - 1]))
      e--;
    if (e > b) {
      rc = helion_buf_append(&opts, p + b, e - b);
      if (!rc)
        rc = helion_buf_putc(&opts, '\0');
      if (!rc)
        nopts++;
    }
    p += len + (nl ? 1 : 0);
  }
  if (rc) {
    rc = helion_err_set(err, rc, "%s: NVRTC options: %s", in->name,
                        helion_status_str(rc));
    goto out;
  }
  argv = malloc(nopts * sizeof(*argv));
  if (!argv) {
    rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", in->name);
    goto out;
  }
  {
    const char *p = opts.data;
    for (size_t i = 0; i < nopts; i++) {
      argv[i] = p;
      p += strlen(p) + 1;
    }
  }

  r = nvrtcCreateProgram(&prog, in->source, in->name, 0, NULL, NULL);
  if (r != NVRTC_SUCCESS) {
    prog = NULL;
    rc = helion_err_set(err, HELION_ERR_NVRTC,
                        "%s: nvrtcCreateProgram failed: %s", in->name,
                        nvrtcGetErrorString(r));
    goto out;
  }
  double t0 = helion_now();
  r = nvrtcCompileProgram(prog, (int)nopts, argv);
  double seconds = helion_now() - t0;
  rc = get_log(prog, in->name, &log, err);
  if (rc)
    goto out;
  if (r != NVRTC_SUCCESS) {
    char summary[HELION_ERR_MSG_MAX];
    log_summary(log, summary, sizeof(summary));
    rc = helion_err_set(err, HELION_ERR_NVRTC,
                        "%s: NVRTC compile for %s failed (%s): %s", in->name,
                        in->arch, nvrtcGetErrorString(r),
                        summary[0] ? summary : "(empty log)");
    /* The documented exception: the log goes out with the failure. */
    free(out->log);
    out->log = log;
    log = NULL;
    goto out;
  }

  r = nvrtcGetPTXSize(prog, &ptx_size);
  if (r == NVRTC_SUCCESS) {
    ptx = malloc(ptx_size + 1);
    if (!ptx) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", in->name);
      goto out;
    }
    r = nvrtcGetPTX(prog, ptx);
  }
  if (r != NVRTC_SUCCESS) {
    rc = helion_err_set(err, HELION_ERR_NVRTC, "%s: nvrtcGetPTX failed: %s",
                        in->name, nvrtcGetErrorString(r));
    goto out;
  }
  /* NVRTC counts the terminating NUL in the size. */
  ptx[ptx_size] = '\0';
  ptx_size = strlen(ptx);

  r = nvrtcGetCUBINSize(prog, &cubin_size);
  if (r == NVRTC_SUCCESS) {
    cubin = malloc(cubin_size ? cubin_size : 1);
    if (!cubin) {
      rc = helion_err_set(err, HELION_ERR_NOMEM, "%s: out of memory", in->name);
      goto out;
    }
    r = nvrtcGetCUBIN(prog, (char *)cubin);
  }
  if (r != NVRTC_SUCCESS || cubin_size == 0) {
    rc = helion_err_set(
        err, HELION_ERR_NVRTC, "%s: nvrtcGetCUBIN failed for %s: %s", in->name,
        in->arch, r != NVRTC_SUCCESS ? nvrtcGetErrorString(r) : "empty cubin");
    goto out;
  }

  if (in->entry && !helion_nvrtc_ptx_has_entry(ptx, in->entry)) {
    rc = helion_err_set(
        err, HELION_ERR_NOT_FOUND,
        "entry '%s' not found in %s; is it declared extern \"C\" __global__?",
        in->entry, in->name);
    goto out;
  }

  helion_nvrtc_usage_t usage;
  memset(&usage, 0, sizeof(usage));
  if (in->entry)
    helion_nvrtc_parse_usage(log, in->entry, &usage);

  helion_nvrtc_result_cleanup(out);
  out->cubin = cubin;
  out->cubin_size = cubin_size;
  out->ptx = ptx;
  out->ptx_size = ptx_size;
  out->log = log;
  out->usage = usage;
  out->seconds = seconds;
  cubin = NULL;
  ptx = NULL;
  log = NULL;

out:
  if (prog) {
    r = nvrtcDestroyProgram(&prog);
    /* Everything the caller needs is already copied out; a failed destroy
     * leaks one program and is not worth failing a good compile for. */
    (void)r;
  }
  free(cubin);
  free(ptx);
  free(log);
  free(argv);
  helion_buf_cleanup(&opts);
  return rc;
}

void helion_nvrtc_first_error(const char *log, const char *fallback, char *out,
                              size_t n) {
  const char *p = log;
  while (p && *p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *hit = NULL;
    for (size_t k = 0; k + 6 <= len && !hit; k++)
      if (memcmp(p + k, "error", 5) == 0)
        hit = p + k;
    if (hit) {
      while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
        len--;
      snprintf(out, n, "%.*s", (int)(len < 400 ? len : 400), p);
      return;
    }
    p = eol ? eol + 1 : NULL;
  }
  snprintf(out, n, "%s", fallback && *fallback ? fallback : "unknown error");
}
