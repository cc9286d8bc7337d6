/* syntax_error.cu: a kernel with a syntax error on line 7 (a fixture). */
#include <helion/device.cuh>
#ifndef BLOCK
#define BLOCK 128
#endif
extern "C" __global__ void scale(const float *x, float *y, int n) {
  int i = blockIdx.x * BLOCK + threadIdx.x +;
  if (i < n)
    y[i] = 2.0f * x[i];
}
