// One core's fused multiply-add peak in native code, at the vector widths x86 has: 128-bit (SSE/AVX
// xmm), 256-bit (AVX2 ymm) and 512-bit (AVX-512 zmm). bench/machine.ts compiles and runs it beside its
// WebAssembly loop, so the benchmark can say how much of a gap to an AVX-512 BLAS is the width of the
// lanes (a ratio of peaks) and how much is our kernels.
//
// Usage: fma_peak 128 256 512 (the widths to run; run only those the CPU's flags list). Prints JSON,
// GFLOP/s per second of this process's CPU time, best of 5 rounds.
//
// Each width runs 12 independent chains x = x * m + c, enough to cover a 4-cycle FMA latency on two
// pipes; the empty asm statement keeps the compiler from merging or dropping the chains.
#include <immintrin.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define PEAK(NAME, TARGET, T, SET, FMA, ADD, LANES)                                              \
  __attribute__((target(TARGET))) static double NAME(long iters, float *sink) {                   \
    T a0 = SET(1.0f), a1 = SET(1.1f), a2 = SET(1.2f), a3 = SET(1.3f), a4 = SET(1.4f);             \
    T a5 = SET(1.5f), a6 = SET(1.6f), a7 = SET(1.7f), a8 = SET(1.8f), a9 = SET(1.9f);             \
    T a10 = SET(2.0f), a11 = SET(2.1f), m = SET(0.999999f), c = SET(1e-7f);                       \
    double t0 = cpu_seconds();                                                                    \
    for (long i = 0; i < iters; i++) {                                                            \
      a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);             \
      a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);             \
      a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);         \
      __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));          \
      __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));        \
    }                                                                                             \
    double t = cpu_seconds() - t0;                                                                \
    T s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                      \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                                  \
    float lanes[LANES];                                                                           \
    memcpy(lanes, &s, sizeof lanes);                                                              \
    *sink += lanes[0];                                                                            \
    return 12.0 * iters * LANES * 2 / t / 1e9;                                                    \
  }

PEAK(peak128, "fma", __m128, _mm_set1_ps, _mm_fmadd_ps, _mm_add_ps, 4)
PEAK(peak256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
PEAK(peak512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)

int main(int argc, char **argv) {
  const long iters = 20000000;
  float sink = 0;
  printf("{");
  for (int a = 1; a < argc; a++) {
    double best = 0;
    for (int r = 0; r < 5; r++) {
      double g = strcmp(argv[a], "512") == 0   ? peak512(iters, &sink)
                 : strcmp(argv[a], "256") == 0 ? peak256(iters, &sink)
                                               : peak128(iters, &sink);
      if (g > best) best = g;
    }
    printf("%s\"fma%s\": %.2f", a > 1 ? ", " : "", argv[a], best);
  }
  printf("}\n");
  return sink == 12345.0f;  // never true; keeps the sums live
}
