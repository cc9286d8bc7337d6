/*
 * compile_pool.c: NVRTC compiles in long-lived forked processes under
 * deadlines, polled without blocking (see compile_pool.h).
 */
#define _POSIX_C_SOURCE 200809L /* fileno, pread */

#include "backend/compile_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/proc.h"

#define RESULT_MAGIC 0x50434c48u /* "HLCP" */
#define DEFAULT_TIMEOUT_S 60.0
#define DEFAULT_GRACE_S 1.0
/* A result file bigger than this is a broken child, not a kernel. */
#define RESULT_MAX ((size_t)1 << 30)
/* A compile process is replaced after this many compiles, so nothing NVRTC
 * may keep between programs grows without bound. */
#define SERVER_MAX_JOBS 256

typedef struct job {
  uint64_t tag;
  char *source, *name, *arch, *options, *entry;
  double started, deadline, term_at;
  bool timed_out, sigkill;
  struct job *next;
} job;

/* A compile process: it waits for a byte on its end of `ctl`, reads the
 * job from `xfer`, compiles it, writes the result over it and answers with
 * a byte (job and result take turns, so one file serves both). Its end of
 * `ctl` is the only one, so `ctl` reads end-of-file once it is gone. */
typedef struct server {
  helion_proc_t proc;
  int ctl;       /* the parent's end of the socket pair; -1: no process */
  int child_ctl; /* the child's end (the parent's copy closed at start) */
  FILE *xfer;
  size_t served; /* compiles it finished */
} server;

typedef struct done_node {
  helion_compile_result_t r;
  struct done_node *next;
} done_node;

struct helion_compile_pool {
  size_t jobs;
  double timeout_s, initial_timeout_s, grace_s;
  job *queue_head, *queue_tail;
  size_t nqueued;
  job **running;   /* `jobs` slots, NULL when free */
  server *servers; /* `jobs` slots: the process of each */
  size_t server_max_jobs; /* SERVER_MAX_JOBS, or the test hook's */
  size_t nrunning;
  done_node *done_head, *done_tail;
  size_t ndone;
  double *ok_times; /* compile seconds of every successful compile */
  size_t nok, ok_cap;
};

/* ------------------------------------------------------------ options -- */

helion_status helion_compile_pool_opts_init(helion_compile_pool_opts_t *o,
                                            helion_err_t *err) {
  memset(o, 0, sizeof(*o));
  o->timeout_s = DEFAULT_TIMEOUT_S;
  o->grace_s = DEFAULT_GRACE_S;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  o->jobs = n > 0 ? (size_t)n : 1;

  const char *v = getenv("HELION_AUTOTUNE_PRECOMPILE_JOBS");
  if (v && v[0]) {
    char *end = NULL;
    errno = 0;
    long long j = strtoll(v, &end, 10);
    if (errno || *end || j < 1 || j > 4096)
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_PRECOMPILE_JOBS='%s': expected "
                            "a whole number of compile processes in [1, "
                            "4096]",
                            v);
    o->jobs = (size_t)j;
  }
  double t;
  bool ok;
  if ((v = helion_env_number("HELION_AUTOTUNE_COMPILE_TIMEOUT", &t, &ok))) {
    if (!ok || !(t > 0) || !isfinite(t))
      return helion_err_set(err, HELION_ERR_USAGE,
                            "HELION_AUTOTUNE_COMPILE_TIMEOUT='%s': expected "
                            "positive seconds, e.g. 60",
                            v);
    o->timeout_s = t;
  }
  return HELION_OK;
}

const char *helion_compile_status_name(helion_compile_status s) {
  switch (s) {
  case HELION_COMPILE_OK:
    return "ok";
  case HELION_COMPILE_FAILED:
    return "failed";
  case HELION_COMPILE_CRASHED:
    return "crashed";
  case HELION_COMPILE_TIMEOUT:
    return "timeout";
  }
  return "unknown";
}

void helion_compile_result_cleanup(helion_compile_result_t *r) {
  if (!r)
    return;
  helion_nvrtc_result_cleanup(&r->out);
  memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ helpers -- */

static void job_free(job *j) {
  if (!j)
    return;
  free(j->source);
  free(j->name);
  free(j->arch);
  free(j->options);
  free(j->entry);
  free(j);
}

static bool write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += w;
    n -= (size_t)w;
  }
  return true;
}

static bool write_blob(int fd, const void *data, uint64_t n) {
  return write_all(fd, &n, sizeof(n)) && (n == 0 || write_all(fd, data, n));
}

/* A string of the job file: its length, UINT64_MAX for NULL, then it. */
static bool write_str(int fd, const char *s) {
  uint64_t n = s ? strlen(s) : UINT64_MAX;
  return write_all(fd, &n, sizeof(n)) && (!s || write_all(fd, s, n));
}

/* Empties the file behind fd and leaves its offset at 0 (parent and child
 * share the offset: each rewinds before it writes). */
static bool rewind_fd(int fd) {
  return ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0;
}

/* The whole file behind fd (at most RESULT_MAX bytes), malloc'd; NULL if
 * empty, too big or unreadable. */
static uint8_t *read_file_fd(int fd, size_t *out_len) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
      (uint64_t)st.st_size > RESULT_MAX)
    return NULL;
  size_t size = (size_t)st.st_size, len = 0;
  uint8_t *buf = malloc(size);
  if (!buf)
    return NULL;
  while (len < size) {
    ssize_t got = pread(fd, buf + len, size - len, (off_t)len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    len += (size_t)got;
  }
  if (len < size) {
    free(buf);
    return NULL;
  }
  *out_len = len;
  return buf;
}

/* Reads `n` bytes at *pos of the buffer. */
static bool take_bytes(const uint8_t *buf, size_t len, size_t *pos, void *out,
                       size_t n) {
  if (len - *pos < n)
    return false;
  memcpy(out, buf + *pos, n);
  *pos += n;
  return true;
}

/* A length-prefixed blob as a malloc'd, NUL-terminated copy; with
 * `nullable`, the length UINT64_MAX is NULL. */
static bool take_blob(const uint8_t *buf, size_t len, size_t *pos, char **out,
                      size_t *out_n, bool nullable) {
  uint64_t n;
  if (!take_bytes(buf, len, pos, &n, sizeof(n)))
    return false;
  if (nullable && n == UINT64_MAX) {
    *out = NULL;
    *out_n = 0;
    return true;
  }
  if (n > len - *pos)
    return false;
  char *s = malloc((size_t)n + 1);
  if (!s)
    return false;
  memcpy(s, buf + *pos, (size_t)n);
  s[n] = '\0';
  *pos += (size_t)n;
  *out = s;
  *out_n = (size_t)n;
  return true;
}

/* The niceness of compile processes (0..19). */
#define COMPILE_NICE 10

/* In the child: compiles the job in the file behind fd and writes its
 * result over it. False if the file failed (the parent then sees no
 * answer). */
static bool serve_one(int fd) {
  size_t len = 0, pos = 0, n;
  uint8_t *buf = read_file_fd(fd, &len);
  char *str[5] = {NULL, NULL, NULL, NULL, NULL};
  bool ok = buf != NULL;
  for (size_t k = 0; ok && k < 5; k++)
    ok = take_blob(buf, len, &pos, &str[k], &n, true);
  free(buf);
  if (!ok)
    goto out;
  const char *hook = getenv("HELION_COMPILE_POOL_TEST_CRASH");
  if (hook && hook[0] && str[3] && strstr(str[3], hook))
    raise(SIGSEGV);

  double t0 = helion_now();
  helion_nvrtc_input_t in = {str[0], str[1], str[2], str[3], str[4]};
  helion_nvrtc_result_t r;
  helion_nvrtc_result_init(&r);
  helion_err_t err;
  err.msg[0] = '\0';
  helion_status rc = helion_nvrtc_compile(&in, &r, &err);
  double wall = helion_now() - t0;

  uint32_t head[2] = {RESULT_MAGIC, rc == HELION_OK ? 0u : 1u};
  uint8_t known = r.usage.known ? 1 : 0;
  int32_t regs = r.usage.registers;
  int64_t nums[4] = {r.usage.smem_bytes, r.usage.stack_bytes,
                     r.usage.spill_stores, r.usage.spill_loads};
  const char *log = r.log ? r.log : "";
  const char *msg = rc == HELION_OK ? "" : err.msg;
  ok = rewind_fd(fd) && write_all(fd, head, sizeof(head)) &&
       write_all(fd, &r.seconds, sizeof(r.seconds)) &&
       write_all(fd, &wall, sizeof(wall)) &&
       write_all(fd, &known, sizeof(known)) &&
       write_all(fd, &regs, sizeof(regs)) &&
       write_all(fd, nums, sizeof(nums)) &&
       write_blob(fd, r.cubin, rc == HELION_OK ? r.cubin_size : 0) &&
       write_blob(fd, r.ptx, rc == HELION_OK ? r.ptx_size : 0) &&
       write_blob(fd, log, strlen(log)) && write_blob(fd, msg, strlen(msg));
  helion_nvrtc_result_cleanup(&r);
out:
  for (size_t k = 0; k < 5; k++)
    free(str[k]);
  return ok;
}

/* The compile process (helion_proc_start runs it in its own process group,
 * with the default action for fatal signals, so a crash in NVRTC kills this
 * process and nothing else): one compile per byte on ctl, a byte back when
 * its result is written, until the parent closes its end. Returns the exit
 * status. */
static int server_main(void *arg) {
  const server *sv = arg;
  /* Below the tuner and the benchmark worker: with every core compiling,
   * a worker descheduled between its launches would leave the GPU idle
   * (and the search waiting). Failure only costs that, so it is ignored. */
  (void)setpriority(PRIO_PROCESS, 0, COMPILE_NICE);
  for (;;) {
    char c;
    ssize_t got = read(sv->child_ctl, &c, 1);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return 0; /* the parent closed its end */
    if (!serve_one(fileno(sv->xfer)))
      return 3;
    if (!write_all(sv->child_ctl, "d", 1))
      return 0;
  }
}

/* Parses the result file into r. False if it is missing or torn. */
static bool read_result(server *sv, helion_compile_result_t *r) {
  size_t len = 0;
  uint8_t *buf = read_file_fd(fileno(sv->xfer), &len);
  if (!buf)
    return false;
  bool ok = false;
  size_t pos = 0;
  uint32_t head[2];
  double nvrtc_s, wall;
  uint8_t known;
  int32_t regs;
  int64_t nums[4];
  char *cubin = NULL, *ptx = NULL, *log = NULL, *msg = NULL;
  size_t ncubin = 0, nptx = 0, nlog = 0, nmsg = 0;
  if (!take_bytes(buf, len, &pos, head, sizeof(head)) ||
      head[0] != RESULT_MAGIC ||
      !take_bytes(buf, len, &pos, &nvrtc_s, sizeof(nvrtc_s)) ||
      !take_bytes(buf, len, &pos, &wall, sizeof(wall)) ||
      !take_bytes(buf, len, &pos, &known, sizeof(known)) ||
      !take_bytes(buf, len, &pos, &regs, sizeof(regs)) ||
      !take_bytes(buf, len, &pos, nums, sizeof(nums)) ||
      !take_blob(buf, len, &pos, &cubin, &ncubin, false) ||
      !take_blob(buf, len, &pos, &ptx, &nptx, false) ||
      !take_blob(buf, len, &pos, &log, &nlog, false) ||
      !take_blob(buf, len, &pos, &msg, &nmsg, false))
    goto out;

  r->status = head[1] == 0 ? HELION_COMPILE_OK : HELION_COMPILE_FAILED;
  r->seconds = wall;
  r->out.seconds = nvrtc_s;
  r->out.usage.known = known != 0;
  r->out.usage.registers = regs;
  r->out.usage.smem_bytes = nums[0];
  r->out.usage.stack_bytes = nums[1];
  r->out.usage.spill_stores = nums[2];
  r->out.usage.spill_loads = nums[3];
  r->out.log = log;
  log = NULL;
  if (r->status == HELION_COMPILE_OK) {
    r->out.cubin = (uint8_t *)cubin;
    r->out.cubin_size = ncubin;
    r->out.ptx = ptx;
    r->out.ptx_size = nptx;
    cubin = ptx = NULL;
  }
  snprintf(r->msg, sizeof(r->msg), "%s", msg);
  ok = true;
out:
  free(cubin);
  free(ptx);
  free(log);
  free(msg);
  free(buf);
  return ok;
}

static void push_done(helion_compile_pool_t *p, done_node *d) {
  d->next = NULL;
  if (p->done_tail)
    p->done_tail->next = d;
  else
    p->done_head = d;
  p->done_tail = d;
  p->ndone++;
}

static void record_ok_time(helion_compile_pool_t *p, double s) {
  if (p->nok == p->ok_cap) {
    size_t cap = p->ok_cap ? p->ok_cap * 2 : 64;
    double *t = realloc(p->ok_times, cap * sizeof(*t));
    if (!t)
      return; /* only the adaptive timeout loses a sample */
    p->ok_times = t;
    p->ok_cap = cap;
  }
  p->ok_times[p->nok++] = s;
}

/* Ends compile process `sv` (SIGKILL to its group, reaped). Its file stays
 * for the next process. */
static void server_stop(server *sv) {
  if (sv->ctl >= 0)
    close(sv->ctl);
  sv->ctl = -1;
  (void)helion_proc_kill_reap(&sv->proc, NULL);
  sv->served = 0;
}

static void server_free(server *sv) {
  server_stop(sv);
  if (sv->xfer)
    fclose(sv->xfer);
  sv->xfer = NULL;
}

/* Starts compile process `sv` (its files first, once). */
static helion_status server_start(server *sv, helion_err_t *err) {
  if (!sv->xfer) {
    if (!(sv->xfer = tmpfile()))
      return helion_err_set(err, HELION_ERR_SUBPROCESS,
                            "compile pool: tmpfile: %s", strerror(errno));
    /* Not to leak into the benchmark worker's exec. */
    fcntl(fileno(sv->xfer), F_SETFD, FD_CLOEXEC);
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return helion_err_set(err, HELION_ERR_SUBPROCESS,
                          "compile pool: socketpair: %s", strerror(errno));
  sv->child_ctl = pair[1];
  int keep[2] = {pair[1], fileno(sv->xfer)};
  helion_proc_opts_t o = {.fn = server_main,
                          .arg = sv,
                          .keep_fds = keep,
                          .nkeep_fds = 2,
                          .close_other_fds = true,
                          .stdout_to_stderr = true,
                          .ignore_sigint = true};
  helion_status rc = helion_proc_start(&o, &sv->proc, err);
  close(pair[1]);
  sv->child_ctl = -1;
  if (rc) {
    close(pair[0]);
    helion_err_prefix(err, "compile pool: ");
    return rc;
  }
  sv->ctl = pair[0];
  sv->served = 0;
  return HELION_OK;
}

/* Writes job j into the file of `sv` and wakes it. False if the process is
 * gone. */
static bool server_send(server *sv, const job *j) {
  int fd = fileno(sv->xfer);
  return rewind_fd(fd) && write_str(fd, j->source) && write_str(fd, j->name) &&
         write_str(fd, j->arch) && write_str(fd, j->options) &&
         write_str(fd, j->entry) && send(sv->ctl, "j", 1, MSG_NOSIGNAL) == 1;
}

/* The job of slot i answered (`answered`) or its process is gone: turn
 * what it left into a result. */
static helion_status finish_job(helion_compile_pool_t *p, size_t i,
                                bool answered, helion_err_t *err) {
  job *j = p->running[i];
  server *sv = &p->servers[i];
  done_node *d = calloc(1, sizeof(*d));
  if (!d)
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory collecting a compile result");
  helion_compile_result_t *r = &d->r;
  r->tag = j->tag;
  double wall = helion_now() - j->started;

  if (j->timed_out) {
    /* Even if it answered just after SIGTERM: the deadline decided. */
    server_stop(sv);
    r->status = HELION_COMPILE_TIMEOUT;
    r->seconds = wall;
    r->sigkill = j->sigkill;
    snprintf(r->msg, sizeof(r->msg), "Timeout after %.1fs compiling%s", wall,
             j->sigkill ? " (SIGKILL required)" : "");
  } else if (answered && read_result(sv, r)) {
    if (++sv->served >= p->server_max_jobs)
      server_stop(sv);
  } else {
    helion_nvrtc_result_cleanup(&r->out);
    r->status = HELION_COMPILE_CRASHED;
    r->seconds = wall;
    if (answered) {
      snprintf(r->msg, sizeof(r->msg),
               "compile process answered without a readable result");
    } else {
      /* It closed its end: it exited or died; reap it. */
      helion_proc_exit_t how;
      helion_err_t werr = {""};
      bool reaped = false;
      char say[96];
      if (helion_proc_wait(&sv->proc, -1, &reaped, &how, &werr) || !reaped)
        snprintf(r->msg, sizeof(r->msg), "compile process lost: %.200s",
                 werr.msg);
      else if (how.signaled)
        snprintf(r->msg, sizeof(r->msg), "compile process %s",
                 helion_proc_exit_str(&how, say, sizeof(say)));
      else
        snprintf(r->msg, sizeof(r->msg),
                 "compile process exited with status %d without a result",
                 how.status);
    }
    server_stop(sv); /* never trusted again; what is left is reaped */
  }
  if (r->status == HELION_COMPILE_OK)
    record_ok_time(p, r->seconds);

  p->running[i] = NULL;
  p->nrunning--;
  job_free(j);
  push_done(p, d);
  return HELION_OK;
}

/* Hands job j to the compile process of slot i, started (again) if need
 * be: one that died while idle is replaced once. */
static helion_status start_job(helion_compile_pool_t *p, size_t i, job *j,
                               helion_err_t *err) {
  server *sv = &p->servers[i];
  for (int attempt = 0;; attempt++) {
    helion_status rc;
    if (sv->ctl < 0 && (rc = server_start(sv, err)))
      return rc;
    if (server_send(sv, j))
      break;
    int e = errno;
    server_stop(sv);
    if (attempt > 0)
      return helion_err_set(err, HELION_ERR_SUBPROCESS,
                            "compile pool: a new compile process took no "
                            "job: %s",
                            strerror(e));
  }
  j->started = helion_now();
  j->deadline = j->started + p->timeout_s;
  p->running[i] = j;
  p->nrunning++;
  return HELION_OK;
}

/* Starts queued jobs while slots are free. */
static helion_status start_queued(helion_compile_pool_t *p, helion_err_t *err) {
  for (size_t i = 0; i < p->jobs && p->queue_head; i++) {
    if (p->running[i])
      continue;
    job *j = p->queue_head;
    p->queue_head = j->next;
    if (!p->queue_head)
      p->queue_tail = NULL;
    p->nqueued--;
    j->next = NULL;
    helion_status rc = start_job(p, i, j, err);
    if (rc) {
      job_free(j);
      return rc;
    }
  }
  return HELION_OK;
}

/* Sends SIGTERM to compile processes past their job's deadline and SIGKILL
 * to those that outlived the grace. Returns the next moment something is
 * due (+inf if nothing). */
static double enforce_deadlines(helion_compile_pool_t *p, double now) {
  double next = INFINITY;
  for (size_t i = 0; i < p->jobs; i++) {
    job *j = p->running[i];
    if (!j)
      continue;
    const helion_proc_t *proc = &p->servers[i].proc;
    struct pollfd answered = {p->servers[i].ctl, POLLIN, 0};
    if (!j->timed_out && now >= j->deadline && poll(&answered, 1, 0) == 0) {
      /* (An answer already waiting is read as one: the caller was late to
       * wait, the compile was not.) */
      HELION_LOG(HELION_LOG_DEBUG,
                 "compile of tag %llu past its %.1fs deadline: SIGTERM",
                 (unsigned long long)j->tag, p->timeout_s);
      helion_proc_kill(proc, SIGTERM);
      j->timed_out = true;
      j->term_at = now;
    }
    if (j->timed_out && !j->sigkill && now >= j->term_at + p->grace_s) {
      helion_proc_kill(proc, SIGKILL);
      j->sigkill = true;
    }
    double due = !j->timed_out ? j->deadline
                 : !j->sigkill ? j->term_at + p->grace_s
                               : INFINITY;
    if (due < next)
      next = due;
  }
  return next;
}

/* ---------------------------------------------------------------- API -- */

helion_status helion_compile_pool_create(const helion_compile_pool_opts_t *o,
                                         helion_compile_pool_t **out,
                                         helion_err_t *err) {
  helion_compile_pool_t *p = calloc(1, sizeof(*p));
  if (!p)
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory creating the compile pool");
  p->jobs = o && o->jobs ? o->jobs : 1;
  if (!o || !o->jobs) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    p->jobs = n > 0 ? (size_t)n : 1;
  }
  p->timeout_s = o && o->timeout_s > 0 ? o->timeout_s : DEFAULT_TIMEOUT_S;
  p->initial_timeout_s = p->timeout_s;
  p->grace_s = o && o->grace_s > 0 ? o->grace_s : DEFAULT_GRACE_S;
  const char *hook = getenv("HELION_COMPILE_POOL_TEST_MAX_JOBS");
  p->server_max_jobs =
      hook && atoi(hook) > 0 ? (size_t)atoi(hook) : SERVER_MAX_JOBS;
  p->running = calloc(p->jobs, sizeof(*p->running));
  p->servers = calloc(p->jobs, sizeof(*p->servers));
  if (!p->running || !p->servers) {
    free(p->running);
    free(p->servers);
    free(p);
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory creating the compile pool");
  }
  for (size_t i = 0; i < p->jobs; i++) {
    helion_proc_init(&p->servers[i].proc);
    p->servers[i].ctl = p->servers[i].child_ctl = -1;
  }
  *out = p;
  return HELION_OK;
}

void helion_compile_pool_destroy(helion_compile_pool_t *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->jobs; i++) {
    job_free(p->running[i]);
    server_free(&p->servers[i]); /* kills the group, reaps the process */
  }
  while (p->queue_head) {
    job *j = p->queue_head;
    p->queue_head = j->next;
    job_free(j);
  }
  while (p->done_head) {
    done_node *d = p->done_head;
    p->done_head = d->next;
    helion_compile_result_cleanup(&d->r);
    free(d);
  }
  free(p->running);
  free(p->servers);
  free(p->ok_times);
  free(p);
}

helion_status helion_compile_pool_submit(helion_compile_pool_t *p,
                                         const helion_nvrtc_input_t *in,
                                         uint64_t tag, helion_err_t *err) {
  job *j = calloc(1, sizeof(*j));
  if (!j)
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory queueing a compile");
  j->tag = tag;
  j->source = helion_strdup(in->source);
  j->name = helion_strdup(in->name);
  j->arch = helion_strdup(in->arch);
  j->options = helion_strdup(in->options);
  j->entry = helion_strdup(in->entry);
  if ((in->source && !j->source) || (in->name && !j->name) ||
      (in->arch && !j->arch) || (in->options && !j->options) ||
      (in->entry && !j->entry)) {
    job_free(j);
    return helion_err_set(err, HELION_ERR_NOMEM,
                          "out of memory queueing a compile");
  }
  if (p->queue_tail)
    p->queue_tail->next = j;
  else
    p->queue_head = j;
  p->queue_tail = j;
  p->nqueued++;
  return start_queued(p, err);
}

helion_status helion_compile_pool_wait(helion_compile_pool_t *p,
                                       double timeout_s, const int *extra_fds,
                                       size_t nextra, bool *out_extra_ready,
                                       helion_err_t *err) {
  helion_status rc = HELION_OK;
  double start = helion_now();
  double until = timeout_s < 0 ? INFINITY : start + timeout_s;
  bool extra_ready = false;
  size_t nvalid = 0;
  for (size_t k = 0; k < nextra; k++)
    nvalid += extra_fds[k] >= 0;
  struct pollfd *pfds = calloc(p->jobs + nextra + 1, sizeof(*pfds));
  size_t *slot = calloc(p->jobs + 1, sizeof(*slot));
  if (!pfds || !slot) {
    rc = helion_err_set(err, HELION_ERR_NOMEM,
                        "out of memory waiting for compiles");
    goto out;
  }
  for (;;) {
    rc = start_queued(p, err);
    if (rc)
      goto out;
    double now = helion_now();
    double due = enforce_deadlines(p, now);
    if (p->ndone > 0 || extra_ready)
      break;
    if (p->nrunning == 0 && nvalid == 0)
      break; /* nothing can ever wake us */
    if (now >= until)
      break;

    size_t n = 0;
    for (size_t i = 0; i < p->jobs; i++) {
      if (!p->running[i])
        continue;
      pfds[n].fd = p->servers[i].ctl;
      pfds[n].events = POLLIN;
      pfds[n].revents = 0;
      slot[n++] = i;
    }
    size_t extra_at = n;
    for (size_t k = 0; k < nextra; k++) {
      if (extra_fds[k] < 0)
        continue;
      pfds[n].fd = extra_fds[k];
      pfds[n].events = POLLIN;
      pfds[n].revents = 0;
      n++;
    }
    double wake = due < until ? due : until;
    int ms = -1;
    if (isfinite(wake)) {
      double left = wake - now;
      ms = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
    }
    int got = poll(pfds, (nfds_t)n, ms);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      rc = helion_err_set(err, HELION_ERR_SUBPROCESS, "compile pool: poll: %s",
                          strerror(errno));
      goto out;
    }
    for (size_t k = 0; k < extra_at; k++) {
      if (!pfds[k].revents)
        continue;
      /* One byte: the job's result is written; end-of-file (or a reset):
       * the process is gone. */
      char c;
      ssize_t r = read(pfds[k].fd, &c, 1);
      if (r < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      rc = finish_job(p, slot[k], r == 1, err);
      if (rc)
        goto out;
    }
    for (size_t k = extra_at; k < n; k++)
      if (pfds[k].revents)
        extra_ready = true;
  }
out:
  free(pfds);
  free(slot);
  if (rc == HELION_OK && out_extra_ready)
    *out_extra_ready = extra_ready;
  return rc;
}

bool helion_compile_pool_take(helion_compile_pool_t *p,
                              helion_compile_result_t *out) {
  done_node *d = p->done_head;
  if (!d)
    return false;
  p->done_head = d->next;
  if (!p->done_head)
    p->done_tail = NULL;
  p->ndone--;
  *out = d->r;
  free(d);
  return true;
}

size_t helion_compile_pool_cancel_queued(helion_compile_pool_t *p) {
  size_t n = 0;
  while (p->queue_head) {
    job *j = p->queue_head;
    p->queue_head = j->next;
    job_free(j);
    n++;
  }
  p->queue_tail = NULL;
  p->nqueued = 0;
  return n;
}

size_t helion_compile_pool_outstanding(const helion_compile_pool_t *p) {
  return p->nqueued + p->nrunning;
}

size_t helion_compile_pool_ready(const helion_compile_pool_t *p) {
  return p->ndone;
}

size_t helion_compile_pool_jobs(const helion_compile_pool_t *p) {
  return p->jobs;
}

double helion_compile_pool_timeout(const helion_compile_pool_t *p) {
  return p->timeout_s;
}

double helion_compile_pool_initial_timeout(const helion_compile_pool_t *p) {
  return p->initial_timeout_s;
}

void helion_compile_pool_set_timeout(helion_compile_pool_t *p,
                                     double timeout_s) {
  if (timeout_s > 0)
    p->timeout_s = timeout_s;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double helion_compile_adaptive_timeout(const double *times, size_t n,
                                       double lower, double quantile,
                                       double initial, double *out_q) {
  size_t m = 0;
  double *t = malloc((n ? n : 1) * sizeof(*t));
  if (!t)
    return initial;
  for (size_t i = 0; i < n; i++)
    if (times[i] > 0)
      t[m++] = times[i];
  if (m == 0) {
    free(t);
    return initial;
  }
  qsort(t, m, sizeof(*t), cmp_double);
  size_t k = (size_t)floor((double)m * quantile);
  if (k > m - 1)
    k = m - 1;
  double q = t[k];
  free(t);
  if (out_q)
    *out_q = q;
  double v = q > lower ? q : lower;
  if (v > initial)
    v = initial;
  return floor(v);
}

bool helion_compile_pool_adapt_timeout(helion_compile_pool_t *p) {
  if (p->nok == 0)
    return false;
  double q = 0;
  double t = helion_compile_adaptive_timeout(
      p->ok_times, p->nok, HELION_COMPILE_ADAPTIVE_LOWER_S,
      HELION_COMPILE_ADAPTIVE_QUANTILE, p->initial_timeout_s, &q);
  if (!(t > 0))
    return false; /* an initial timeout under 1 s floors to 0: keep it */
  p->timeout_s = t;
  HELION_LOG(HELION_LOG_INFO,
             "Adaptive compile timeout: %.0fs (%.0f%% percentile=%.1fs, "
             "bounds=[%.1fs, %gs])",
             t, HELION_COMPILE_ADAPTIVE_QUANTILE * 100.0, q,
             HELION_COMPILE_ADAPTIVE_LOWER_S, p->initial_timeout_s);
  return true;
}
