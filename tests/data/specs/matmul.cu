// matmul.cu: a tiny fixture kernel for the spec tests (never compiled there;
// helion_spec_load only checks that the source exists).
#include <cuda_fp16.h>

extern "C" __global__ void matmul(const __half *A, const __half *B, __half *C,
                                  int M, int N, int K) {
  int row = blockIdx.y * BLOCK_M + threadIdx.y;
  int col = blockIdx.x * BLOCK_N + threadIdx.x;
  if (row < M && col < N) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++)
      acc += __half2float(A[row * K + k]) * __half2float(B[k * N + col]);
    C[row * N + col] = __float2half(acc);
  }
}

extern "C" __global__ void matmul_ref(const __half *A, const __half *B,
                                      __half *C, int M, int N, int K) {
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (row < M && col < N) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++)
      acc += __half2float(A[row * K + k]) * __half2float(B[k * N + col]);
    C[row * N + col] = __float2half(acc);
  }
}
