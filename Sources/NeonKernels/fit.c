#include "NeonFit.h"
#include <math.h>

#if defined(__x86_64__) && defined(__clang__)
#define NEON_FIT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEON_FIT_CLONES
#endif

#define DEFINE_FIT(T, SFX)                                                                         \
/* noinline: one body, so a row's distance has the same bits in the test, resolve and reseed. */ \
NEON_FIT_CLONES __attribute__((noinline))                                                          \
double neon_fit_dist2_##SFX(const T *x, const double *m, long d) {                                 \
    double e = 0;                                                                                  \
    /* 4 interleaved vector sums: the loop is bound by the addition's latency otherwise */         \
    _Pragma("clang loop vectorize(enable) interleave_count(4)")                                    \
    for (long i = 0; i < d; i++) {                                                                 \
        const double t = (double)x[i] - m[i];                                                      \
        e += t * t;                                                                                \
    }                                                                                              \
    return e;                                                                                      \
}                                                                                                  \
                                                                                                   \
NEON_FIT_CLONES                                                                                    \
void neon_fit_norms_##SFX(const T *x, long rows, long d, double *out) {                           \
    for (long n = 0; n < rows; n++) {                                                              \
        const T *row = x + n * d;                                                                  \
        double e = 0;                                                                              \
        _Pragma("clang loop vectorize(enable)")                                                    \
        for (long i = 0; i < d; i++) {                                                             \
            const double v = (double)row[i];                                                       \
            e += v * v;                                                                            \
        }                                                                                          \
        out[n] = e;                                                                                \
    }                                                                                              \
}                                                                                                  \
                                                                                                   \
long neon_fit_resolve_##SFX(const T *Z, long rows, long K, const T *X, long d, const int64_t *index, \
                            const double *centroids, const double *xnorm2, double eta, double mmax,  \
                            const int64_t *c, const double *best, const double *second,             \
                            int64_t *assign, double *dist2, double *lower, int keep_dist2) {        \
    long resolved = 0;                                                                             \
    for (long j = 0; j < rows; j++) {                                                              \
        const long r = index ? (long)index[j] : j;                                                 \
        const T *x = X + j * d;                                                                    \
        const double span = sqrt(xnorm2[r]) + mmax;                                                \
        const double E = eta * span * span;                                                        \
        long a = (long)c[j];                                                                       \
        double s2 = second[j];   /* max_{k != a} s_k */                                            \
        double da = -1;          /* D(x, m_a) once computed */                                     \
        if (!(best[j] - second[j] > 2 * E)) {                                                      \
            /* Near tie: D over the GEMM's choice and every k with s_k >= best - 2E (the exact */  \
            /* minimiser is among them; everything else is further by more than D's rounding). */  \
            resolved++;                                                                            \
            const T *z = Z + j * K;                                                                \
            const double floor = best[j] - 2 * E;                                                  \
            da = neon_fit_dist2_##SFX(x, centroids + a * d, d);                                    \
            for (long k = 0; k < K; k++) {                                                         \
                if (k == c[j] || !((double)z[k] >= floor)) continue;                               \
                const double dk = neon_fit_dist2_##SFX(x, centroids + k * d, d);                   \
                if (dk < da || (dk == da && k < a)) { a = k; da = dk; }                            \
            }                                                                                      \
            if (a != c[j]) s2 = best[j];                                                           \
        }                                                                                          \
        if (!(keep_dist2 && assign[r] == a))                                                       \
            dist2[r] = da >= 0 ? da : neon_fit_dist2_##SFX(x, centroids + a * d, d);               \
        assign[r] = a;                                                                             \
        if (lower) {                                                                               \
            /* min_{k != a} |x - m_k|^2 = |x|^2 - max_{k != a} s*_k >= |x|^2 - s2 - E, less E */   \
            /* again for the rounding of |x|^2; rounded down. */                                   \
            const double l2 = xnorm2[r] - s2 - 2 * E;                                              \
            lower[r] = l2 > 0 ? sqrt(l2) * (1 - 0x1p-50) : 0;                                      \
        }                                                                                          \
    }                                                                                              \
    return resolved;                                                                               \
}                                                                                                  \
                                                                                                   \
long neon_hamerly_test_##SFX(const T *x, long rows, long d, const double *centroids,              \
                             const int64_t *assign, const double *drop, const double *drop_rest,  \
                             const double *half_gap, double rho, double *lower, double *dist2,    \
                             int64_t *fail, int64_t *near, long *near_count) {                    \
    long nf = 0, nn = 0;                                                                           \
    for (long n = 0; n < rows; n++) {                                                              \
        const long a = (long)assign[n];                                                            \
        const double e = neon_fit_dist2_##SFX(x + n * d, centroids + a * d, d);                    \
        dist2[n] = e;                                                                              \
        const double old = lower[n];                                                               \
        /* (l - drop) rounded down: fl(y) (1 - 2^-52) rounds to at most y */                       \
        double l = (old - drop[a]) * (1 - 0x1p-52);                                                \
        l = l > 0 ? l : 0;                                                                         \
        lower[n] = l;                                                                              \
        const double u = sqrt(e * (1 + rho)) * (1 + 0x1p-50);                                      \
        const double g = (2 * half_gap[a] - u) * (1 - 0x1p-50);                                    \
        const double L = l > g ? l : g;                                                            \
        if (L > 0 && L * L * (1 - rho) > e) continue;                                              \
        if (drop_rest) {                                                                           \
            /* the centroids that did not move fast: a bound that dropped less */                  \
            double r = (old - drop_rest[a]) * (1 - 0x1p-52);                                       \
            if (r > 0 && r * r * (1 - rho) > e) {                                                  \
                lower[n] = r;                                                                      \
                near[nn++] = n;                                                                    \
                continue;                                                                          \
            }                                                                                      \
        }                                                                                          \
        fail[nf++] = n;                                                                            \
    }                                                                                              \
    *near_count = nn;                                                                              \
    return nf;                                                                                     \
}                                                                                                  \
                                                                                                   \
long neon_hamerly_movers_##SFX(const T *Z, long rows, long J, const T *sq, const int64_t *mover,  \
                               const int64_t *index, const int64_t *assign, const double *xnorm2, \
                               double eta, double mmax, double rho, double *lower,                \
                               const double *dist2, int64_t *fail, long nf) {                     \
    for (long j = 0; j < rows; j++) {                                                              \
        const long r = (long)index[j];                                                             \
        const long a = (long)assign[r];                                                            \
        const T *z = Z + j * J;                                                                    \
        double smax = -INFINITY;                                                                   \
        for (long i = 0; i < J; i++) {                                                             \
            const double s = (double)(z[i] - sq[i]);                                               \
            if (mover[i] != a && s > smax) smax = s;                                               \
        }                                                                                          \
        const double span = sqrt(xnorm2[r]) + mmax;                                                \
        const double l2 = xnorm2[r] - smax - 2 * eta * span * span;                                \
        const double lm = l2 > 0 ? sqrt(l2) * (1 - 0x1p-50) : 0;                                   \
        const double l = lm < lower[r] ? lm : lower[r];                                            \
        lower[r] = l;                                                                              \
        if (!(l > 0 && l * l * (1 - rho) > dist2[r])) fail[nf++] = r;                              \
    }                                                                                              \
    return nf;                                                                                     \
}                                                                                                  \
                                                                                                   \
NEON_FIT_CLONES                                                                                    \
void neon_fit_accumulate_##SFX(const T *x, long rows, long d, const int64_t *assign,              \
                               const double *dist2, double *sums, double *counts,                 \
                               const int64_t *old, double *acc, const T *ahead, long ahead_rows) { \
    for (long n = 0; n < rows; n++) {                                                              \
        const long c = (long)assign[n];                                                            \
        const T *row = x + n * d;                                                                  \
        /* the next tile's row n towards L2 while this loop computes: its GEMM (or bound test) */  \
        /* then reads it from cache instead of waiting on memory */                                \
        if (n < ahead_rows)                                                                        \
            for (long i = 0; i < d * (long)sizeof(T); i += 64)                                     \
                __builtin_prefetch((const char *)(ahead + n * d) + i, 0, 2);                       \
        double *s = sums + c * d;                                                                  \
        _Pragma("clang loop vectorize(enable)")                                                    \
        for (long i = 0; i < d; i++) s[i] += (double)row[i];                                       \
        counts[c] += 1;                                                                            \
        acc[0] += dist2[n];                                                                        \
        if (old && old[n] != c) acc[1] += 1;                                                       \
    }                                                                                              \
}

DEFINE_FIT(float, f32)
DEFINE_FIT(double, f64)
