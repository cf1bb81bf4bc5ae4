// Weights of the KDE conditional (supplement Appendix G, Eq. 44), vectorised.
#include "NeonKernels.h"
#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__clang__)
#define KDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KDE_CLONES
#endif

// exp(y) for y <= 0 in double: Cody-Waite reduction by ln 2 (hi/lo split) and the degree-12
// Taylor polynomial on |r| <= ln2/2 (truncation < 2e-16 relative); 0 below -708 (such a weight
// is < 1e-307 of the largest, which is 1). Inline and branch-free so the loop vectorises.
static inline double exp_nonpos(double y) {
    double yc = y > -708.0 ? y : -708.0;
    // n = round(y / ln 2) with the 1.5 * 2^52 trick: the integer sits in the low mantissa bits,
    // so 2^n is built with 64-bit integer adds and shifts only (no double -> int64 conversion,
    // which AVX2 lacks).
    union { double d; int64_t i; } t;
    t.d = yc * 1.4426950408889634 + 6755399441055744.0;
    double n = t.d - 6755399441055744.0;
    double r = yc - n * 6.93147180369123816490e-01;
    r = r - n * 1.90821492927058770002e-10;
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    union { double d; int64_t i; } s;
    s.i = (t.i - 0x4338000000000000LL + 1023) << 52;
    return y > -708.0 ? p * s.d : 0.0;
}

KDE_CLONES
static void kde_exp(const double *dist, long count, double m, double s, double *out) {
    for (long k = 0; k < count; k++) out[k] = exp_nonpos((dist[k] - m) * s);
}

void neon_kde_cumulative_weights(const double *dist, long count, double m, double s, double *cum) {
    kde_exp(dist, count, m, s, cum);
    double acc = 0.0;
    for (long k = 0; k < count; k++) { acc += cum[k]; cum[k] = acc; }
}
