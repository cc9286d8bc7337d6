// gpu_reference.cu: the ceilings the tuned samples are judged against, measured
// on the same GPU in the same run: device-to-device copy bandwidth
// (cudaMemcpyAsync, bytes read + written per second) and cuBLAS fp16 GEMM
// (fp32 accumulation) time for row-major C = A @ B (B is K x N, the matmul
// sample) and C = A @ B^T (B is N x K, the matmul_wgmma sample).
//
// Built by tests/bench/gpu_tune.sh with nvcc; prints one JSON object.
// usage: gpu_reference COPY_MIB M N K
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK_CUDA(x)                                                          \
  do {                                                                         \
    cudaError_t e_ = (x);                                                      \
    if (e_ != cudaSuccess) {                                                   \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x,               \
              cudaGetErrorString(e_));                                         \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)
#define CHECK_CUBLAS(x)                                                        \
  do {                                                                         \
    cublasStatus_t s_ = (x);                                                   \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                         \
      fprintf(stderr, "%s:%d: %s: cuBLAS status %d\n", __FILE__, __LINE__, #x, \
              (int)s_);                                                        \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static double median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

__global__ void fill(__half *p, size_t n, unsigned seed) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < n) {
    unsigned h = (unsigned)i * 2654435761u ^ seed;
    p[i] = __float2half(((h >> 8) & 0xffff) / 65536.0f - 0.5f);
  }
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: gpu_reference COPY_MIB M N K\n");
    return 2;
  }
  size_t copy_bytes = (size_t)atol(argv[1]) << 20;
  int M = atoi(argv[2]), N = atoi(argv[3]), K = atoi(argv[4]);
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));

  // Copy bandwidth: 20 timed copies after 3 warm-ups; median.
  void *src, *dst;
  CHECK_CUDA(cudaMalloc(&src, copy_bytes));
  CHECK_CUDA(cudaMalloc(&dst, copy_bytes));
  CHECK_CUDA(cudaMemset(src, 1, copy_bytes));
  std::vector<float> t;
  for (int i = 0; i < 23; i++) {
    CHECK_CUDA(cudaEventRecord(a));
    CHECK_CUDA(cudaMemcpyAsync(dst, src, copy_bytes, cudaMemcpyDeviceToDevice));
    CHECK_CUDA(cudaEventRecord(b));
    CHECK_CUDA(cudaEventSynchronize(b));
    float ms;
    CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
    if (i >= 3)
      t.push_back(ms);
  }
  double copy_ms = median(t);
  double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e-3) / 1e9;
  CHECK_CUDA(cudaFree(src));
  CHECK_CUDA(cudaFree(dst));

  // cuBLAS GEMM, row-major C = A @ B computed as column-major C^T = B^T A^T.
  __half *A, *B, *C;
  CHECK_CUDA(cudaMalloc(&A, sizeof(__half) * M * K));
  CHECK_CUDA(cudaMalloc(&B, sizeof(__half) * K * N));
  CHECK_CUDA(cudaMalloc(&C, sizeof(__half) * M * N));
  fill<<<(M * (size_t)K + 255) / 256, 256>>>(A, (size_t)M * K, 1);
  fill<<<(K * (size_t)N + 255) / 256, 256>>>(B, (size_t)K * N, 2);
  CHECK_CUDA(cudaGetLastError());
  cublasHandle_t h;
  CHECK_CUBLAS(cublasCreate(&h));
  float alpha = 1.0f, beta = 0.0f;
  // Median of 20 timed GEMMs after 5 warm-ups. transb: CUBLAS_OP_N is
  // row-major C = A @ B (B [K, N]) computed as column-major C^T = B^T A^T;
  // CUBLAS_OP_T is C = A @ B^T (B [N, K], the matmul_wgmma sample's layout).
  auto time_gemm = [&](cublasOperation_t op) {
    std::vector<float> v;
    for (int i = 0; i < 25; i++) {
      CHECK_CUDA(cudaEventRecord(a));
      CHECK_CUBLAS(cublasGemmEx(h, op, CUBLAS_OP_N, N, M, K, &alpha, B,
                                CUDA_R_16F, op == CUBLAS_OP_N ? N : K, A,
                                CUDA_R_16F, K, &beta, C, CUDA_R_16F, N,
                                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      CHECK_CUDA(cudaEventRecord(b));
      CHECK_CUDA(cudaEventSynchronize(b));
      float ms;
      CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
      if (i >= 5)
        v.push_back(ms);
    }
    return median(v);
  };
  double gemm_ms = time_gemm(CUBLAS_OP_N);
  double tflops = 2.0 * M * N * K / (gemm_ms * 1e-3) / 1e12;
  double gemm_nt_ms = time_gemm(CUBLAS_OP_T);
  double tflops_nt = 2.0 * M * N * K / (gemm_nt_ms * 1e-3) / 1e12;
  printf("{\"copy_bytes\": %zu, \"copy_ms\": %.6f, \"copy_gbs\": %.1f, "
         "\"gemm_shape\": [%d, %d, %d], \"cublas_ms\": %.6f, "
         "\"cublas_tflops\": %.1f, \"cublas_nt_ms\": %.6f, "
         "\"cublas_nt_tflops\": %.1f}\n",
         copy_bytes, copy_ms, copy_gbs, M, N, K, gemm_ms, tflops, gemm_nt_ms,
         tflops_nt);
  cublasDestroy(h);
  return 0;
}
