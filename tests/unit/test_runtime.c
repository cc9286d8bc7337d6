/*
 * test_runtime.c: the runtime's launch path (helion_enter, helion_launch,
 * helion_current_device) and miss reporting (helion_miss), against the fake
 * driver tests/fakes/fake_libcuda_rt.c ($HELION_FAKE_LIBCUDA).
 *
 * The driver table and the miss variables are read once per process, so
 * this program sets them before any test runs, and `test_runtime no-driver`
 * (its own ctest entry, its own process) checks the missing driver.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helion/runtime.h"

/* The fake's record of a launch (fake_libcuda_rt.c). */
typedef struct fake_launch {
  const void *image;
  char entry[64];
  int ctx;
  unsigned grid[3], block[3], smem;
  void *stream;
  void **params;
} fake_launch_t;

static struct {
  void (*set_current)(int ctx);
  void (*recreate)(int ctx);
  long (*loads)(void);
  long (*launches)(void);
  void (*last_launch)(fake_launch_t *out);
  void (*thread_last_launch)(fake_launch_t *out);
  void (*fail_next_load)(int result);
} fake;

static char tmp_dir[256], record_path[300], stderr_path[300];

/* ------------------------------------------------------------ the kernels */

static const unsigned char sm90[] = "cubin sm_90";
static const unsigned char sm90a[] = "cubin sm_90a";
static const unsigned char ptx90[] = "ptx compute_90";

static const helion_image_t images_both[] = {{90, 0, 0, sm90, sizeof(sm90)},
                                             {90, 1, 0, ptx90, sizeof(ptx90)}};
static const helion_image_t images_cubin[] = {{90, 0, 0, sm90, sizeof(sm90)}};
static const helion_image_t images_arch[] = {{90, 0, 0, sm90, sizeof(sm90)},
                                             {90, 0, 1, sm90a, sizeof(sm90a)}};
static const helion_config_desc_t configs[] = {
    {"{\"BLOCK\":128}", images_both, 2},
    {"{\"BLOCK\":256}", images_cubin, 1},
    {"{\"BLOCK\":512}", images_arch, 2},
};
static const char *const keys[] = {"M", "N"};
static const helion_device_group_t groups[] = {
    {"Fake H100 \"SXM\" \\ test", 9, 0}};
static const int64_t entry_shape[] = {4096, 1024};
static const helion_entry_desc_t entries[] = {{0, 0, entry_shape}};

/* A kernel as a generated header would describe it. */
static helion_kernel_desc_t kernel(const char *name, const char *entry) {
  helion_kernel_desc_t k = {name, entry, "softmax.json", keys, 2,       configs,
                            3,    0,     groups,         1,    entries, 1,
                            NULL, NULL};
  return k;
}

static void set_current(int ctx) {
  fake.set_current(ctx);
}

static const uint32_t grid[3] = {4, 2, 1}, block[3] = {128, 1, 1};

/* enter + launch of `config` with the standard geometry. */
static helion_status enter_launch(const helion_kernel_desc_t *k,
                                  helion_kernel_state_t *st, int config,
                                  uint32_t smem) {
  helion_call_t call;
  helion_status rc = helion_enter(k, st, &call);
  if (rc)
    return rc;
  static int x;
  void *args[] = {&x};
  return helion_launch(k, &call, config, grid, block, smem, NULL, args);
}

/* ----------------------------------------------------------------- launch */

static void test_runtime_launch_geometry(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("geometry", "geometry_kernel");
  set_current(0);
  helion_call_t call;
  assert_int_equal(helion_enter(&k, &st, &call), HELION_OK);
  assert_string_equal(call.device->name, "Fake H100 \"SXM\" \\ test");
  assert_int_equal(call.device->cc_major, 9);
  assert_int_equal(call.device->cc_minor, 0);
  assert_int_equal(call.device->num_sms, 132);
  assert_int_equal(call.device->smem_per_block, 232448);
  assert_int_equal(call.device->regs_per_sm, 65536);
  int a = 1;
  float b = 2;
  void *args[] = {&a, &b};
  const uint32_t g[3] = {7, 5, 3}, bl[3] = {64, 2, 1};
  assert_int_equal(
      helion_launch(&k, &call, 0, g, bl, 4096, (void *)0x1234, args),
      HELION_OK);
  fake_launch_t l;
  fake.last_launch(&l);
  assert_ptr_equal(l.image, sm90);
  assert_string_equal(l.entry, "geometry_kernel");
  assert_int_equal(l.ctx, 0);
  assert_int_equal(l.grid[0], 7);
  assert_int_equal(l.grid[1], 5);
  assert_int_equal(l.grid[2], 3);
  assert_int_equal(l.block[0], 64);
  assert_int_equal(l.block[1], 2);
  assert_int_equal(l.block[2], 1);
  assert_int_equal(l.smem, 4096);
  assert_ptr_equal(l.stream, (void *)0x1234);
  assert_ptr_equal(l.params, args);
}

static void test_runtime_loads_once_per_context(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("once", "once_kernel");
  long loads = fake.loads();
  set_current(0);
  for (int i = 0; i < 10; i++)
    assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  assert_int_equal(fake.loads() - loads, 1);
  assert_int_equal(enter_launch(&k, &st, 1, 0), HELION_OK); /* a config */
  assert_int_equal(fake.loads() - loads, 2);
  set_current(1); /* another context of the same device */
  for (int i = 0; i < 10; i++)
    assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  assert_int_equal(fake.loads() - loads, 3);
  set_current(0);
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  assert_int_equal(fake.loads() - loads, 3);
}

/* A destroyed context's address reused by a new context is a new context:
 * its module is loaded again (the fake refuses the old one's function). */
static void test_runtime_context_reused_address(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("reused", "reused_kernel");
  set_current(1);
  long loads = fake.loads();
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  fake.recreate(1);
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  assert_int_equal(fake.loads() - loads, 2);
}

static void test_runtime_image_choice(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("images", "images_kernel");
  fake_launch_t l;
  set_current(0); /* cc 9.0: the cubin; the arch-specific one where there */
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  fake.last_launch(&l);
  assert_ptr_equal(l.image, sm90);
  assert_int_equal(enter_launch(&k, &st, 2, 0), HELION_OK);
  fake.last_launch(&l);
  assert_ptr_equal(l.image, sm90a);
  set_current(2); /* cc 10.0: the PTX; no image without PTX */
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  fake.last_launch(&l);
  assert_ptr_equal(l.image, ptx90);
  assert_int_equal(enter_launch(&k, &st, 2, 0), HELION_ERR_UNSUPPORTED);
  assert_string_equal(helion_last_error(),
                      "images: config 2 has no image for cc 10.0 (it has "
                      "sm_90, sm_90a); regenerate with --arch 100");
  set_current(3); /* cc 8.0: nothing runs */
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_ERR_UNSUPPORTED);
  assert_string_equal(helion_last_error(),
                      "images: config 0 has no image for cc 8.0 (it has "
                      "sm_90, PTX compute_90); regenerate with --arch 80");
}

static void test_runtime_no_current_context(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("nocontext", "nocontext_kernel");
  set_current(-1);
  helion_call_t call;
  assert_int_equal(helion_enter(&k, &st, &call), HELION_ERR_CUDA);
  assert_string_equal(helion_last_error(),
                      "nocontext: no CUDA context is current on this thread; "
                      "call cudaSetDevice() (Runtime API) or "
                      "cuCtxSetCurrent() (Driver API) first");
  const helion_device_t *dev = NULL;
  assert_int_equal(helion_current_device(&dev), HELION_ERR_CUDA);
  set_current(2);
  assert_int_equal(helion_current_device(&dev), HELION_OK);
  assert_string_equal(dev->name, "Fake B200");
}

/* Above 48 KiB, a launch needs the opt-in attribute the load sets. */
static void test_runtime_large_shared_memory(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("smem", "smem_kernel");
  set_current(0);
  assert_int_equal(enter_launch(&k, &st, 0, 200 * 1024), HELION_OK);
  assert_int_equal(enter_launch(&k, &st, 0, 240 * 1024), HELION_ERR_CUDA);
  assert_string_equal(helion_last_error(),
                      "smem: cuLaunchKernel failed for config 0 (grid 4x2x1, "
                      "block 128x1x1, 245760 bytes of dynamic shared memory): "
                      "CUDA_ERROR_INVALID_VALUE: fake driver error");
}

/* A failed load is not remembered: the next call loads again. */
static void test_runtime_failed_load_retried(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("retry", "retry_kernel");
  set_current(0);
  long loads = fake.loads();
  fake.fail_next_load(209); /* CUDA_ERROR_NO_BINARY_FOR_GPU */
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_ERR_CUDA);
  assert_string_equal(helion_last_error(),
                      "retry: cuModuleLoadData (config 0, sm_90 cubin) "
                      "failed: CUDA_ERROR_NO_BINARY_FOR_GPU: fake driver "
                      "error");
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_OK);
  assert_int_equal(fake.loads() - loads, 1);
}

static void test_runtime_bad_entry_and_config(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("entry", "missing_entry");
  set_current(0);
  assert_int_equal(enter_launch(&k, &st, 0, 0), HELION_ERR_CUDA);
  assert_non_null(strstr(helion_last_error(),
                         "entry: cuModuleGetFunction(\"missing_entry\") "
                         "(config 0, sm_90 cubin) failed: "));
  assert_int_equal(enter_launch(&k, &st, 3, 0), HELION_ERR_INVALID);
  assert_string_equal(helion_last_error(),
                      "entry: config 3 does not exist (the kernel has 3)");
  assert_int_equal(helion_launch(&k, NULL, 0, grid, block, 0, NULL, NULL),
                   HELION_ERR_USAGE);
}

static helion_kernel_state_t threads_state = {0};

static void *thread_main(void *arg) {
  const helion_kernel_desc_t *k = arg;
  set_current(0);
  long bad = 0;
  for (int i = 0; i < 1000; i++) {
    int v = i;
    void *args[] = {&v};
    helion_call_t call;
    fake_launch_t l;
    if (helion_enter(k, &threads_state, &call) ||
        helion_launch(k, &call, 1, grid, block, 0, NULL, args)) {
      bad++;
      continue;
    }
    fake.thread_last_launch(&l);
    bad += l.image != sm90 || l.params != args || l.ctx != 0 ||
           strcmp(l.entry, "threads_kernel") != 0;
  }
  return (void *)bad;
}

/* Concurrent first calls load once and every launch gets that function. */
static void test_runtime_threads(void **state) {
  (void)state;
  helion_kernel_desc_t k = kernel("threads", "threads_kernel");
  long loads = fake.loads(), launches = fake.launches();
  pthread_t t[8];
  for (int i = 0; i < 8; i++)
    assert_int_equal(pthread_create(&t[i], NULL, thread_main, &k), 0);
  for (int i = 0; i < 8; i++) {
    void *bad = NULL;
    assert_int_equal(pthread_join(t[i], &bad), 0);
    assert_int_equal((long)bad, 0);
  }
  assert_int_equal(fake.loads() - loads, 1);
  assert_int_equal(fake.launches() - launches, 8000);
}

/* ------------------------------------------------------------------ misses */

static int saved_stderr = -1;

static void stderr_capture(void) {
  fflush(stderr);
  saved_stderr = dup(2);
  int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  dup2(fd, 2);
  close(fd);
}

/* What went to stderr since stderr_capture; static buffer. */
static const char *stderr_release(void) {
  static char buf[1 << 16];
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  FILE *f = fopen(stderr_path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* The record file's lines of `kernel`, each checked to be a whole JSON
 * object with the documented keys; returns a cJSON array the caller frees. */
static cJSON *record_lines(const char *kernel_name) {
  cJSON *out = cJSON_CreateArray();
  FILE *f = fopen(record_path, "r");
  if (!f)
    return out;
  char line[4096];
  while (fgets(line, sizeof(line), f)) {
    size_t len = strlen(line);
    assert_true(len > 0 && line[len - 1] == '\n');
    cJSON *j = cJSON_Parse(line);
    assert_non_null(j);
    cJSON *kn = cJSON_GetObjectItemCaseSensitive(j, "kernel");
    assert_true(cJSON_IsString(kn));
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "cc")));
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "device")));
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "pick")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "shape")));
    if (strcmp(kn->valuestring, kernel_name) == 0)
      cJSON_AddItemToArray(out, j);
    else
      cJSON_Delete(j);
  }
  fclose(f);
  return out;
}

static const helion_choice_t nearest = {
    0, HELION_PICK_NEAREST, HELION_RUNG_DEVICE, 0, 0, 2.5, 0};

static void miss(const helion_kernel_desc_t *k, helion_kernel_state_t *st,
                 int ctx, int64_t m, int64_t n) {
  set_current(ctx);
  helion_call_t call;
  assert_int_equal(helion_enter(k, st, &call), HELION_OK);
  const int64_t key[2] = {m, n};
  helion_miss(k, st, &call, key, &nearest);
}

/* HELION_LOG_MISSES: one line per kernel, with the command that tunes it. */
static void test_runtime_miss_log_once(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0}, st2 = {0};
  helion_kernel_desc_t k = kernel("softmax", "softmax_kernel");
  helion_kernel_desc_t k2 = kernel("other", "other_kernel");
  stderr_capture();
  miss(&k, &st, 0, 5, 7);
  miss(&k, &st, 0, 6, 7);
  miss(&k2, &st2, 0, 5, 7);
  miss(&k, &st, 2, 5, 7);
  const char *err = stderr_release();
  assert_int_equal(count_lines(err), 2);
  char want[1024];
  snprintf(want, sizeof(want),
           "helion: softmax: shape M=5,N=7 on Fake H100 \"SXM\" \\ test "
           "(9.0) has no tuned entry (nearest tuned shape M=4096,N=1024 "
           "used); tune it: helion-tune tune softmax.json --shape M=5,N=7, "
           "or tune every recorded miss: helion-tune tune softmax.json "
           "--shapes-from %s\n",
           record_path);
  assert_memory_equal(err, want, strlen(want));
  assert_non_null(strstr(err, "helion: other: shape M=5,N=7"));
}

/* A shape the distilled tree served was not tuned: still a miss, logged
 * and recorded as "tree", the text naming the tree's config. */
static void test_runtime_miss_tree(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("treed", "treed_kernel");
  const helion_choice_t tree = {
      1, HELION_PICK_TREE, HELION_RUNG_DEVICE, 0, -1, 0.0, 0};
  const int64_t key[2] = {5, 7};
  helion_call_t call;
  set_current(0);
  assert_int_equal(helion_enter(&k, &st, &call), HELION_OK);
  stderr_capture();
  helion_miss(&k, &st, &call, key, &tree);
  const char *err = stderr_release();
  assert_non_null(strstr(err, "helion: treed: shape M=5,N=7 on Fake H100 "
                              "\"SXM\" \\ test (9.0) has no tuned entry "
                              "(the distilled decision tree's config 1 "
                              "used); tune it: "));
  cJSON *lines = record_lines("treed");
  assert_int_equal(cJSON_GetArraySize(lines), 1);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetArrayItem(lines, 0), "pick")
                          ->valuestring,
                      "tree");
  cJSON_Delete(lines);
}

/* HELION_RECORD_MISSES: each distinct (device, shape) once, as JSON. */
static void test_runtime_miss_record_distinct(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("recorded", "recorded_kernel");
  stderr_capture();
  miss(&k, &st, 0, 5, 7);
  miss(&k, &st, 0, 5, 7);
  miss(&k, &st, 1, 5, 7); /* another context, the same device */
  miss(&k, &st, 0, 6, 7);
  miss(&k, &st, 2, 5, 7); /* another device */
  stderr_release();
  cJSON *lines = record_lines("recorded");
  assert_int_equal(cJSON_GetArraySize(lines), 3);
  char *first = cJSON_PrintUnformatted(cJSON_GetArrayItem(lines, 0));
  assert_string_equal(first,
                      "{\"cc\":\"9.0\",\"device\":\"Fake H100 \\\"SXM\\\" "
                      "\\\\ test\",\"kernel\":\"recorded\",\"pick\":"
                      "\"nearest\",\"shape\":{\"M\":5,\"N\":7}}");
  free(first);
  cJSON *third = cJSON_GetArrayItem(lines, 2);
  assert_string_equal(
      cJSON_GetObjectItemCaseSensitive(third, "device")->valuestring,
      "Fake B200");
  assert_string_equal(
      cJSON_GetObjectItemCaseSensitive(third, "cc")->valuestring, "10.0");
  cJSON_Delete(lines);
}

/* Past 4096 distinct shapes a kernel records no more, and says so once. */
static void test_runtime_miss_record_bounded(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("bounded", "bounded_kernel");
  stderr_capture();
  for (int i = 0; i < 4100; i++)
    miss(&k, &st, 0, i, 1);
  const char *err = stderr_release();
  assert_non_null(strstr(err, "helion: bounded: more than 4096 distinct "
                              "missed shapes in this process; recording no "
                              "more of them to "));
  assert_int_equal(count_lines(err), 2); /* the log line and the warning */
  cJSON *lines = record_lines("bounded");
  assert_int_equal(cJSON_GetArraySize(lines), 4096);
  cJSON_Delete(lines);
}

/* Two processes appending to one file never tear a line. */
static void test_runtime_miss_record_processes(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("forked", "forked_kernel");
  pid_t pid[2];
  for (int p = 0; p < 2; p++) {
    pid[p] = fork();
    assert_true(pid[p] >= 0);
    if (pid[p] == 0) {
      int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 2); /* the children's log lines */
      for (int i = 0; i < 100; i++)
        miss(&k, &st, 0, 1000 * (p + 1) + i, 3);
      _exit(0);
    }
  }
  for (int p = 0; p < 2; p++) {
    int status = 0;
    assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  cJSON *lines = record_lines("forked");
  assert_int_equal(cJSON_GetArraySize(lines), 200);
  char seen[2][100] = {{0}};
  cJSON *line;
  cJSON_ArrayForEach(line, lines) {
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(line, "shape");
    int m = cJSON_GetObjectItemCaseSensitive(shape, "M")->valueint;
    int p = m / 1000 - 1, i = m % 1000;
    assert_true(p >= 0 && p < 2 && i < 100 && !seen[p][i]);
    seen[p][i] = 1;
  }
  cJSON_Delete(lines);
}

/* A file that cannot be written: one line on stderr, the call goes on.
 * Runs as `test_runtime unwritable` (the variable is read once per process). */
static void test_runtime_miss_unwritable(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("unwritable", "unwritable_kernel");
  stderr_capture();
  for (int i = 0; i < 3; i++)
    miss(&k, &st, 0, i, 1);
  const char *err = stderr_release();
  assert_string_equal(err, "helion: HELION_RECORD_MISSES=/nonexistent/dir/"
                           "misses.jsonl: cannot open it (No such file or "
                           "directory); missed shapes are not recorded\n");
}

/* --------------------------------------------------------------- no driver */

static void test_runtime_no_driver(void **state) {
  (void)state;
  static helion_kernel_state_t st = {0};
  helion_kernel_desc_t k = kernel("nodriver", "nodriver_kernel");
  helion_call_t call;
  assert_int_equal(helion_enter(&k, &st, &call), HELION_ERR_NO_DRIVER);
  const char *want = "nodriver: no CUDA driver found: cannot load "
                     "/nonexistent/libcuda.so.1 (";
  assert_memory_equal(helion_last_error(), want, strlen(want));
  const helion_device_t *dev = NULL;
  assert_int_equal(helion_current_device(&dev), HELION_ERR_NO_DRIVER);
  assert_non_null(strstr(helion_last_error(), "no CUDA driver found"));
}

/* -------------------------------------------------------------------- main */

static int fake_open(void) {
  const char *path = getenv("HELION_FAKE_LIBCUDA");
  if (!path) {
    fprintf(stderr, "HELION_FAKE_LIBCUDA is not set (ctest sets it)\n");
    return 1;
  }
  /* The same path as HELION_LIBCUDA_PATH: dlopen hands the runtime and the
   * test one instance of the fake. */
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "cannot load the fake driver: %s\n", dlerror());
    return 1;
  }
#define FAKE_SYM(field, name)                                                  \
  if (!(*(void **)&fake.field = dlsym(lib, name)))                             \
    return fprintf(stderr, "the fake driver lacks %s\n", name), 1;
  FAKE_SYM(set_current, "fake_set_current")
  FAKE_SYM(recreate, "fake_recreate")
  FAKE_SYM(loads, "fake_loads")
  FAKE_SYM(launches, "fake_launches")
  FAKE_SYM(last_launch, "fake_last_launch")
  FAKE_SYM(thread_last_launch, "fake_thread_last_launch")
  FAKE_SYM(fail_next_load, "fake_fail_next_load")
#undef FAKE_SYM
  setenv("HELION_LIBCUDA_PATH", path, 1);
  return 0;
}

static int run(const char *mode) {
  if (strcmp(mode, "no-driver") == 0) {
    setenv("HELION_LIBCUDA_PATH", "/nonexistent/libcuda.so.1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_no_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
  }
  if (fake_open())
    return 1;
  if (strcmp(mode, "unwritable") == 0) {
    setenv("HELION_RECORD_MISSES", "/nonexistent/dir/misses.jsonl", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_miss_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
  }
  setenv("HELION_LOG_MISSES", "1", 1);
  setenv("HELION_RECORD_MISSES", record_path, 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runtime_launch_geometry),
      cmocka_unit_test(test_runtime_loads_once_per_context),
      cmocka_unit_test(test_runtime_context_reused_address),
      cmocka_unit_test(test_runtime_image_choice),
      cmocka_unit_test(test_runtime_no_current_context),
      cmocka_unit_test(test_runtime_large_shared_memory),
      cmocka_unit_test(test_runtime_failed_load_retried),
      cmocka_unit_test(test_runtime_bad_entry_and_config),
      cmocka_unit_test(test_runtime_threads),
      cmocka_unit_test(test_runtime_miss_log_once),
      cmocka_unit_test(test_runtime_miss_tree),
      cmocka_unit_test(test_runtime_miss_record_distinct),
      cmocka_unit_test(test_runtime_miss_record_bounded),
      cmocka_unit_test(test_runtime_miss_record_processes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* `test_runtime [no-driver | unwritable]`: each a process of its own. */
int main(int argc, char **argv) {
  const char *tmp = getenv("TMPDIR");
  snprintf(tmp_dir, sizeof(tmp_dir), "%s/helion_test_runtime_XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(tmp_dir))
    return perror("mkdtemp"), 1;
  snprintf(record_path, sizeof(record_path), "%s/misses.jsonl", tmp_dir);
  snprintf(stderr_path, sizeof(stderr_path), "%s/stderr.txt", tmp_dir);
  int failed = run(argc > 1 ? argv[1] : "all");
  unlink(record_path);
  unlink(stderr_path);
  rmdir(tmp_dir);
  return failed;
}
