// nodefault.cu: a vector copy whose default block size (256) does not
// compile, on purpose: the shape cannot be tuned (tests/cli/test_setup.sh).
#if BLOCK == 256
#error "BLOCK 256 is broken on purpose"
#endif

extern "C" __global__ void nodefault(const float *in, float *out, int n) {
  int i = blockIdx.x * BLOCK + threadIdx.x;
  if (i < n)
    out[i] = in[i];
}
