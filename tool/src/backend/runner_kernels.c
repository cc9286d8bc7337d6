/*
 * runner_kernels.c: the CUDA source of the runner's own kernels, compiled
 * with NVRTC once per runner (need_compare in runner.c): the output
 * compare.
 */
#include "backend/runner.h"

/* The rule of helion_runner_compare on the GPU, for every dtype, compiled
 * with --fmad=false so `atol + rtol * |e|` rounds as it does on the host.
 * out[0] counts failing elements, out[1] takes the smallest failing index
 * (start it at ~0). NaN and infinity are tested on the bits, so no math
 * header is needed. */
const char helion__runner_kernels_src[] =
    "__device__ double hl_ld(int t, const void *p, unsigned long long i) {\n"
    "  switch (t) {\n"
    "  case 0: return ((const float *)p)[i];\n"
    "  case 1: return ((const double *)p)[i];\n"
    "  case 2: { float f; unsigned short h = ((const unsigned short *)p)[i];\n"
    "    asm(\"cvt.f32.f16 %0, %1;\" : \"=f\"(f) : \"h\"(h)); return f; }\n"
    "  case 3: return __int_as_float(\n"
    "      (int)((unsigned)((const unsigned short *)p)[i] << 16));\n"
    "  case 4: return ((const signed char *)p)[i];\n"
    "  case 5: return ((const short *)p)[i];\n"
    "  case 6: return ((const int *)p)[i];\n"
    "  case 7: return (double)((const long long *)p)[i];\n"
    "  case 8: return ((const unsigned char *)p)[i];\n"
    "  case 9: return ((const unsigned short *)p)[i];\n"
    "  case 10: return ((const unsigned *)p)[i];\n"
    "  default: return (double)((const unsigned long long *)p)[i];\n"
    "  }\n"
    "}\n"
    "__device__ bool hl_nan(double v) {\n"
    "  return (__double_as_longlong(v) & 0x7fffffffffffffffLL) >\n"
    "         0x7ff0000000000000LL;\n"
    "}\n"
    "__device__ bool hl_inf(double v) {\n"
    "  return (__double_as_longlong(v) & 0x7fffffffffffffffLL) ==\n"
    "         0x7ff0000000000000LL;\n"
    "}\n"
    "extern \"C\" __global__ void helion_compare(const void *actual,\n"
    "    const void *expected, unsigned long long n, int t, double atol,\n"
    "    double rtol, unsigned long long *out) {\n"
    "  unsigned long long stride = (unsigned long long)gridDim.x * "
    "blockDim.x;\n"
    "  for (unsigned long long i = (unsigned long long)blockIdx.x * "
    "blockDim.x\n"
    "       + threadIdx.x; i < n; i += stride) {\n"
    "    double a = hl_ld(t, actual, i), e = hl_ld(t, expected, i);\n"
    "    bool ok;\n"
    "    if (hl_nan(a) || hl_nan(e)) ok = false;\n"
    "    else if (hl_inf(a) || hl_inf(e)) ok = a == e;\n"
    "    else ok = fabs(a - e) <= atol + rtol * fabs(e);\n"
    "    /* One atomic pair per warp: its lanes hold consecutive i, so the\n"
    "     * lowest failing lane has the warp's first failing index. */\n"
    "    unsigned bad = __ballot_sync(__activemask(), !ok);\n"
    "    if (bad && (threadIdx.x % 32) == (unsigned)(__ffs(bad) - 1)) {\n"
    "      atomicAdd(&out[0], (unsigned long long)__popc(bad));\n"
    "      atomicMin(&out[1], i);\n"
    "    }\n"
    "  }\n"
    "}\n";
