#include "HardwarePeak.h"
#include <immintrin.h>

int neon_peak_vector_bits(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
    return 0;
}

// 12 accumulators: enough to cover the FMA latency (4 cycles) times 2 FMA ports, with room.
#define FMA_LOOP(NAME, TARGET, VT, LANES, SET1, FMADD, ADD, STORE)                                    \
    __attribute__((target(TARGET))) static double NAME(int64_t n) {                                  \
        VT a0 = SET1(0.f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,    \
           a9 = a0, a10 = a0, a11 = a0;                                                               \
        const VT m = SET1(0.999999f), c = SET1(1e-7f);                                                \
        for (int64_t i = 0; i < n; i++) {                                                             \
            a0 = FMADD(a0, m, c); a1 = FMADD(a1, m, c); a2 = FMADD(a2, m, c); a3 = FMADD(a3, m, c);   \
            a4 = FMADD(a4, m, c); a5 = FMADD(a5, m, c); a6 = FMADD(a6, m, c); a7 = FMADD(a7, m, c);   \
            a8 = FMADD(a8, m, c); a9 = FMADD(a9, m, c); a10 = FMADD(a10, m, c); a11 = FMADD(a11, m, c); \
        }                                                                                             \
        VT s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                    \
        s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                                  \
        float lanes[LANES];                                                                           \
        STORE(lanes, s);                                                                              \
        volatile float sink = lanes[0] + lanes[LANES - 1];                                            \
        (void)sink;                                                                                   \
        return (double)n * 12 * LANES * 2;                                                            \
    }

FMA_LOOP(fma512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps)
FMA_LOOP(fma256, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps)

double neon_peak_fma_loop(int bits, int64_t iterations) {
    if (bits == 512) return fma512(iterations);
    if (bits == 256) return fma256(iterations);
    return 0;
}

double neon_peak_add_chain(int64_t iterations) {
    uint64_t x = 0;
    for (int64_t i = 0; i < iterations; i++) {
        __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
    }
    return (double)iterations * 8;
}
