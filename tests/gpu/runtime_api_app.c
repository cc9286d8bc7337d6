/*
 * runtime_api_app.c: a CUDA Runtime API program calls a generated launcher
 * (tests/gpu/test_generated.sh builds it against vector_add_tuned.h). The
 * runtime must find the context cudaSetDevice() made current and launch on
 * the program's cudaStream_t. Exit 0 when the output is right, 1 otherwise,
 * 77 without a device.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

#define HELION_IMPLEMENTATION
#include "vector_add_tuned.h"

#define CHECK(call)                                                            \
  do {                                                                         \
    cudaError_t e_ = (call);                                                   \
    if (e_ != cudaSuccess) {                                                   \
      fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(e_));             \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  const int n = 1000003;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1)
    return 77;
  CHECK(cudaSetDevice(0));
  float *h = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
  if (!h || !out)
    return 1;
  for (int i = 0; i < n; i++)
    h[i] = (float)(i % 1000) * 0.5f;
  float *a, *b, *c;
  cudaStream_t s;
  CHECK(cudaMalloc((void **)&a, sizeof(float) * n));
  CHECK(cudaMalloc((void **)&b, sizeof(float) * n));
  CHECK(cudaMalloc((void **)&c, sizeof(float) * n));
  CHECK(cudaMemcpy(a, h, sizeof(float) * n, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(b, h, sizeof(float) * n, cudaMemcpyHostToDevice));
  CHECK(cudaMemset(c, 0xFF, sizeof(float) * n)); /* poison */
  CHECK(cudaStreamCreate(&s));
  helion_status rc = helion_vector_add(s, a, b, c, n);
  if (rc) {
    fprintf(stderr, "helion_vector_add: %s\n", helion_last_error());
    return 1;
  }
  CHECK(cudaStreamSynchronize(s));
  CHECK(cudaMemcpy(out, c, sizeof(float) * n, cudaMemcpyDeviceToHost));
  for (int i = 0; i < n; i++)
    if (out[i] != h[i] + h[i]) {
      fprintf(stderr, "wrong output at %d: %g, want %g\n", i, out[i], h[i] + h[i]);
      return 1;
    }
  printf("CUDA Runtime API program: helion_vector_add on a cudaStream_t: ok\n");
  return 0;
}
