#include "NeonFit.h"

#if defined(__x86_64__) && defined(__clang__)
#define NEON_FIT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEON_FIT_CLONES
#endif

#define DEFINE_LLOYD(T, SFX)                                                                      \
NEON_FIT_CLONES                                                                                   \
void neon_lloyd_accumulate_##SFX(const T *x, long rows, long d, const int64_t *assign,            \
                                 const double *centroids, double *sums, double *counts,           \
                                 double *dist2, const int64_t *old, double *acc) {                \
    for (long n = 0; n < rows; n++) {                                                             \
        const long c = (long)assign[n];                                                           \
        const T *row = x + n * d;                                                                 \
        const double *mu = centroids + c * d;                                                     \
        double *s = sums + c * d;                                                                 \
        double e = 0;                                                                             \
        _Pragma("clang loop vectorize(enable)")                                                   \
        for (long i = 0; i < d; i++) {                                                            \
            const double v = (double)row[i];                                                      \
            s[i] += v;                                                                            \
            const double t = v - mu[i];                                                           \
            e += t * t;                                                                           \
        }                                                                                         \
        dist2[n] = e;                                                                             \
        counts[c] += 1;                                                                           \
        acc[0] += e;                                                                              \
        if (old && old[n] != assign[n]) acc[1] += 1;                                              \
    }                                                                                             \
}

DEFINE_LLOYD(float, f32)
DEFINE_LLOYD(double, f64)
