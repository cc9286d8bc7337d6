// tiny.cu: a kernel for the `space` CLI test; BLOCK and HL_NUM_WARPS tunable.
extern "C" __global__ void tiny(float *y, int n) {
  int i = blockIdx.x * BLOCK + threadIdx.x;
  if (i < n)
    y[i] = 1.0f;
}
