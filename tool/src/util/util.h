/*
 * util.h: the small shared pieces of helion-tune: error messages, logging and
 * progress, a growable string buffer, SHA-256, the seeded random generator,
 * whole-file reads and atomic writes.
 *
 * Nothing here knows about specs, spaces or CUDA.
 */
#ifndef HELION_UTIL_H
#define HELION_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "helion/runtime.h"

#if defined(__GNUC__)
#define HELION_PRINTF(fmt_idx, arg_idx)                                        \
  __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define HELION_PRINTF(fmt_idx, arg_idx)
#endif

/* ---------------------------------------------------------------------------
 * Error messages. A fallible function takes a `helion_err_t *err` (may be
 * NULL) and, when it returns non-zero, has written one line into it that says
 * where (file, JSON path, column), what, and what to do.
 */
#define HELION_ERR_MSG_MAX 1024

typedef struct helion_err {
  char msg[HELION_ERR_MSG_MAX];
} helion_err_t;

/* Formats the message into `err` (if not NULL) and returns `rc`. */
helion_status helion_err_set(helion_err_t *err, helion_status rc,
                             const char *fmt, ...) HELION_PRINTF(3, 4);

/* Prepends a formatted prefix to the message already in `err` (if any). */
void helion_err_prefix(helion_err_t *err, const char *fmt, ...)
    HELION_PRINTF(2, 3);

/* ---------------------------------------------------------------------------
 * Logging. Human output goes to stderr as `[12s] message` lines, where the
 * seconds count from helion_log_start(). The level is checked before any
 * formatting happens.
 */
typedef enum helion_log_level {
  HELION_LOG_QUIET = 0,
  HELION_LOG_ERROR = 1,
  HELION_LOG_WARN = 2,
  HELION_LOG_INFO = 3,
  HELION_LOG_DEBUG = 4,
} helion_log_level;

extern int helion_log_level_current;

#define HELION_LOG(level, ...)                                                 \
  do {                                                                         \
    if ((level) <= helion_log_level_current)                                   \
      helion__log((level), __VA_ARGS__);                                       \
  } while (0)

void helion__log(int level, const char *fmt, ...) HELION_PRINTF(2, 3);

/*
 * The level HELION_AUTOTUNE_LOG_LEVEL asks for: a Python logging level as
 * Helion takes it, a number (10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 and
 * up nothing; in between rounds up to the next) or a name (DEBUG, INFO,
 * WARNING/WARN, ERROR, CRITICAL; any case). Unset or empty: `fallback`.
 * Anything else is an error naming the variable and the accepted values.
 */
helion_status helion_log_level_from_env(int fallback, int *out,
                                        helion_err_t *err);

/* Restarts the `[Ns]` clock at now. */
void helion_log_start(void);

/*
 * Replaces the clock the `[Ns]` prefix reads (for the simulator's simulated
 * seconds). NULL restores wall time since helion_log_start().
 */
void helion_log_set_clock(double (*clock)(void *ud), void *ud);

/* The seconds the `[Ns]` prefix shows now (since helion_log_start(), or
 * the clock helion_log_set_clock() installed). */
double helion_log_elapsed(void);

/* Seconds on a monotonic clock; only differences mean anything. */
double helion_now(void);

/*
 * A progress line on stderr: `<desc>  42% 42/100  12.3 configs/s`, redrawn in
 * place. It draws only when stderr is a terminal and the log level is at
 * least INFO, unless HELION_AUTOTUNE_PROGRESS_BAR says otherwise ("0" turns it
 * off, "1" forces it on).
 */
typedef struct helion_progress {
  const char *desc;
  size_t total;
  size_t done;
  double started;
  double last_draw;
  bool enabled;
} helion_progress_t;

void helion_progress_begin(helion_progress_t *p, const char *desc,
                           size_t total);
void helion_progress_step(helion_progress_t *p, size_t n);
void helion_progress_end(helion_progress_t *p);

/* ---------------------------------------------------------------------------
 * Growable, always NUL-terminated byte buffer with a size cap. Every string
 * built at run time (NVRTC options, JSON, prompts, generated code) goes
 * through it.
 */
typedef struct helion_buf {
  char *data; /* NULL until the first append; then NUL-terminated */
  size_t len;
  size_t cap;
  size_t max; /* appends beyond this fail with HELION_ERR_LIMIT */
} helion_buf_t;

#define HELION_BUF_DEFAULT_MAX ((size_t)256 << 20)

void helion_buf_init(helion_buf_t *b, size_t max);
void helion_buf_cleanup(helion_buf_t *b);
void helion_buf_reset(helion_buf_t *b); /* length 0, memory kept */
helion_status helion_buf_append(helion_buf_t *b, const void *data, size_t n);
helion_status helion_buf_puts(helion_buf_t *b, const char *s);
helion_status helion_buf_putc(helion_buf_t *b, char c);
helion_status helion_buf_appendf(helion_buf_t *b, const char *fmt, ...)
    HELION_PRINTF(2, 3);
helion_status helion_buf_vappendf(helion_buf_t *b, const char *fmt,
                                  va_list ap) HELION_PRINTF(2, 0);
/* Returns the contents ("" if empty; caller frees with free()) and empties b. */
char *helion_buf_take(helion_buf_t *b);
/* The contents as a string; "" when nothing was appended. Owned by b. */
const char *helion_buf_str(const helion_buf_t *b);

/* Appends `s` as a JSON string literal, quotes included. */
helion_status helion_buf_put_json_string(helion_buf_t *b, const char *s);

/* ---------------------------------------------------------------------------
 * SHA-256.
 */
typedef struct helion_sha256 {
  uint32_t state[8];
  uint64_t bits;
  uint8_t block[64];
  size_t fill;
} helion_sha256_t;

void helion_sha256_init(helion_sha256_t *h);
void helion_sha256_update(helion_sha256_t *h, const void *data, size_t n);
void helion_sha256_final(helion_sha256_t *h, uint8_t out[32]);
/* One-shot digest as 64 lowercase hex characters plus NUL. */
void helion_sha256_hex(const void *data, size_t n, char out[65]);

/* ---------------------------------------------------------------------------
 * Seeded random generator (xoshiro256**, seeded through splitmix64). All
 * randomness of a run flows from one of these: the same seed gives the same
 * sequence on every machine and compiler.
 */
typedef struct helion_rng {
  uint64_t s[4];
} helion_rng_t;

void helion_rng_seed(helion_rng_t *r, uint64_t seed);
uint64_t helion_rng_next(helion_rng_t *r);
/* Uniform in [0, n); n must be > 0. Unbiased (rejection sampling). */
uint64_t helion_rng_below(helion_rng_t *r, uint64_t n);
/* Uniform in [lo, hi], both inclusive; lo <= hi. */
int64_t helion_rng_range(helion_rng_t *r, int64_t lo, int64_t hi);
/* Uniform double in [0, 1) with 53 random bits. */
double helion_rng_double(helion_rng_t *r);
/* Standard normal (Box-Muller; one value per call, deterministic). */
double helion_rng_normal(helion_rng_t *r);
/* Fisher-Yates shuffle of n elements of `size` bytes each. */
void helion_rng_shuffle(helion_rng_t *r, void *base, size_t n, size_t size);

/* ---------------------------------------------------------------------------
 * Files.
 */

/*
 * Reads the whole file. On success *out_data is NUL-terminated (caller frees
 * with free()) and *out_len excludes the NUL. Files over `max` bytes fail with
 * HELION_ERR_LIMIT. The message names the path.
 */
helion_status helion_read_file(const char *path, size_t max, char **out_data,
                               size_t *out_len, helion_err_t *err);

/*
 * Writes `data` to `path` atomically: a temporary file in the same directory,
 * fsync, rename over `path`, fsync of the directory. A crash leaves either the
 * old file or the new one, never a torn one.
 * A path that names something other than a regular file (/dev/stdout,
 * /dev/null, a FIFO, a terminal) is written through, in place: renaming a
 * file over it would replace the device node or the link with a regular
 * file, and a stream has no "old version" to keep. A symbolic link to a
 * regular file replaces the file it points at (the link stays a link); a
 * link to nothing, or a directory, is refused (HELION_ERR_IO).
 */
helion_status helion_write_file_atomic(const char *path, const void *data,
                                       size_t len, helion_err_t *err);

/*
 * Writes one record (a whole line, newline included) to `f` with one
 * write(2) after flushing what `f` buffered, so a reader, or a crash or an
 * interrupt, sees the line whole or not at all (short writes are continued;
 * only a crash in between can cut the last line). HELION_ERR_IO with
 * strerror.
 */
helion_status helion_file_write_record(FILE *f, const char *line, size_t len,
                                       helion_err_t *err);

/*
 * Refuses an output file that is one of the command's inputs, so a run never
 * overwrites what it reads: HELION_ERR_USAGE "<flag> <out>: that is the
 * <input_names[i]> this command reads; choose another file" when `out` and
 * inputs[i] are the same file (same device and inode, which also catches
 * symbolic and hard links). An output that does not exist yet, and NULL
 * inputs, pass. input_names[i] names inputs[i] ("landscape", "spec").
 */
helion_status helion_output_check(const char *flag, const char *out,
                                  const char *const *inputs,
                                  const char *const *input_names, size_t n,
                                  helion_err_t *err);

/*
 * Checks, without creating anything, that `path` could be opened for
 * writing now: an existing file must be writable and not a directory; a new
 * one needs an existing, writable directory. Lets a command refuse an output
 * it could not write before it spends minutes on the work.
 * HELION_ERR_IO "<flag> <path>: <why>".
 */
helion_status helion_path_check_writable(const char *flag, const char *path,
                                         helion_err_t *err);

/* The directory part of `path` ("." if none). Caller frees. NULL on OOM. */
char *helion_path_dirname(const char *path);
/* Joins dir and rel unless rel is absolute. Caller frees. NULL on OOM. */
char *helion_path_join(const char *dir, const char *rel);

/* ---------------------------------------------------------------------------
 * Small helpers.
 */

/* True for [A-Za-z_][A-Za-z0-9_]* that is not a C11 or C++20 keyword. */
bool helion_is_c_identifier(const char *s);
/* strdup that returns NULL on NULL input. */
char *helion_strdup(const char *s);
/* True when v is a positive power of two. */
bool helion_is_pow2(int64_t v);
/* floor(log2(v)) for v >= 1. */
int helion_log2_floor(uint64_t v);
/* Parses an environment variable as an int64; false if unset or malformed. */
bool helion_env_int(const char *name, int64_t *out);
/* Environment variable `name` as a number: NULL when unset or empty;
 * otherwise its text, with *out the value and *ok whether all of the text is
 * one (no trailing characters, no overflow, not NaN). Callers check the
 * range and name the text in their error. */
const char *helion_env_number(const char *name, double *out, bool *ok);
/* Truthy env var: set and not "", "0", "false", "no", "off". */
bool helion_env_flag(const char *name);

#endif /* HELION_UTIL_H */
