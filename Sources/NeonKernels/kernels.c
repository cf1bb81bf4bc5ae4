#include "NeonKernels.h"
#include "NeonRules.h"
#include <math.h>

#if defined(__x86_64__) && defined(__clang__)
#define NEON_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEON_CLONES
#endif

#define DEFINE_KERNELS(T, SFX, VT)                                                      \
NEON_CLONES                                                                                    \
static void top2_row_##SFX(T *z, long K, const T *sq, int64_t *assign, double *logit,         \
                           T *zc_out, T *zm2_out) {                                           \
    /* pass 1: s_k = z_k - |m_k|^2 and its max, in vectors of VW lanes */                      \
    enum { VW = sizeof(VT) / sizeof(T) };                                                      \
    VT vbest = (VT)(-INFINITY);                                                                \
    long k = 0;                                                                                \
    for (; k + VW <= K; k += VW) {                                                             \
        VT a, b;                                                                               \
        __builtin_memcpy(&a, z + k, sizeof a);                                                 \
        __builtin_memcpy(&b, sq + k, sizeof b);                                                \
        a -= b;                                                                                \
        __builtin_memcpy(z + k, &a, sizeof a);                                                 \
        vbest = __builtin_elementwise_max(vbest, a);                                           \
    }                                                                                          \
    T best = __builtin_reduce_max(vbest);                                                      \
    for (; k < K; k++) {                                                                       \
        T s = z[k] - sq[k];                                                                    \
        z[k] = s;                                                                              \
        best = s > best ? s : best;                                                            \
    }                                                                                          \
    /* the first index holding the max: the k-means decision with ties to the lowest index */ \
    long c = 0;                                                                                \
    for (k = 0; k + VW <= K; k += VW) {                                                        \
        VT a;                                                                                  \
        __builtin_memcpy(&a, z + k, sizeof a);                                                 \
        if (__builtin_reduce_max(a) == best) break;                                            \
    }                                                                                          \
    for (c = k; c < K - 1 && !(z[c] == best); c++) {}                                          \
    z[c] = -INFINITY;                                                                          \
    /* pass 2: the max over k != c */                                                          \
    VT vsec = (VT)(-INFINITY);                                                                 \
    for (k = 0; k + VW <= K; k += VW) {                                                        \
        VT a;                                                                                  \
        __builtin_memcpy(&a, z + k, sizeof a);                                                 \
        vsec = __builtin_elementwise_max(vsec, a);                                             \
    }                                                                                          \
    T second = __builtin_reduce_max(vsec);                                                     \
    for (; k < K; k++) second = z[k] > second ? z[k] : second;                                 \
    *assign = c;                                                                               \
    *logit = (double)best - (double)second;                                                    \
    *zc_out = best;                                                                            \
    *zm2_out = second;                                                                         \
}                                                                                              \
                                                                                               \
void neon_top2_##SFX(T *Z, long rows, long K, const T *sq, int64_t *assign, double *logit) {  \
    for (long n = 0; n < rows; n++) {                                                          \
        T zc, zm2;                                                                             \
        top2_row_##SFX(Z + n * K, K, sq, assign + n, logit + n, &zc, &zm2);                    \
    }                                                                                          \
}                                                                                              \
                                                                                               \
void neon_top2_scores_##SFX(T *Z, long rows, long K, const T *sq, int64_t *assign, double *best, \
                            double *second) {                                                  \
    for (long n = 0; n < rows; n++) {                                                          \
        T zc, zm2;                                                                             \
        double logit;                                                                          \
        top2_row_##SFX(Z + n * K, K, sq, assign + n, &logit, &zc, &zm2);                       \
        best[n] = (double)zc;                                                                  \
        second[n] = (double)zm2;                                                               \
    }                                                                                          \
}                                                                                              \
                                                                                               \
NEON_CLONES                                                                                    \
static void mtm_row_##SFX(T *z, long K, T beta, T zc, T zm2, long c) {                         \
    _Pragma("clang fp reassociate(on)")                                                        \
    T f = zc - zm2;                                                                            \
    if (!(f > 0)) {                                                                            \
        for (long k = 0; k < K; k++) z[k] = 0;                                                 \
        return;                                                                                \
    }                                                                                          \
    /* Eq. 2 (NeonRules.h): e_k = exp(-beta (h_k - f_c)) = exp(beta (s_k - s_m2)) <= 1 */    \
    T S = 0;                                                                                   \
    for (long k = 0; k < K; k++) {                                                             \
        T e = neon_mtm_weight_##SFX(beta, z[k] - zm2);                                         \
        S += e;                                                                                \
        z[k] = e / (zc - z[k]); /* h_k = s_c - s_k > 0; own cluster: 0 / inf = 0 */            \
    }                                                                                          \
    T g = f / S; /* R_k = e_k / S * f_c, A_k = R_k / h_k */                                    \
    T A = 0;                                                                                   \
    for (long k = 0; k < K; k++) {                                                             \
        T a = z[k] * g;                                                                        \
        z[k] = a;                                                                              \
        A += a;                                                                                \
    }                                                                                          \
    z[c] = -A;                                                                                 \
}                                                                                              \
                                                                                               \
void neon_mtm_##SFX(T *Z, long rows, long K, const T *sq, double beta, int64_t *assign,       \
                    double *logit) {                                                           \
    for (long n = 0; n < rows; n++) {                                                          \
        T zc, zm2;                                                                             \
        top2_row_##SFX(Z + n * K, K, sq, assign + n, logit + n, &zc, &zm2);                    \
        mtm_row_##SFX(Z + n * K, K, (T)beta, zc, zm2, (long)assign[n]);                        \
    }                                                                                          \
}                                                                                              \
                                                                                               \
NEON_CLONES                                                                                    \
void neon_midpoint_finish_##SFX(T *R, const T *X, const T *Q, long rows, long d) {            \
    for (long n = 0; n < rows; n++) {                                                          \
        const T *q = Q + n * 2 * d, *x = X + n * d;                                            \
        T *r = R + n * d;                                                                      \
        for (long i = 0; i < d; i++) r[i] = neon_midpoint_term_##SFX(q[d + i], x[i], q[i]);    \
    }                                                                                          \
}                                                                                              \
                                                                                               \
NEON_CLONES                                                                                    \
void neon_shift_rows_##SFX(T *dst, const T *src, const T *origin, long rows, long d) {        \
    for (long n = 0; n < rows; n++)                                                            \
        for (long i = 0; i < d; i++) dst[n * d + i] = src[n * d + i] - origin[i];              \
}                                                                                              \
                                                                                               \
NEON_CLONES                                                                                    \
void neon_row_sums_##SFX(const T *a, long rows, long d, double *out) {                         \
    for (long n = 0; n < rows; n++) {                                                          \
        _Pragma("clang fp reassociate(on)")                                                    \
        double s = 0;                                                                          \
        for (long i = 0; i < d; i++) s += (double)a[n * d + i];                                \
        out[n] = s;                                                                            \
    }                                                                                          \
}                                                                                              \
                                                                                               \
long neon_first_nonfinite_##SFX(const T *a, long n) {                                          \
    for (long i = 0; i < n; i++)                                                               \
        if (!isfinite(a[i])) return i;                                                         \
    return -1;                                                                                 \
}

typedef float neon_vf32 __attribute__((ext_vector_type(16)));
typedef double neon_vf64 __attribute__((ext_vector_type(8)));

DEFINE_KERNELS(float, f32, neon_vf32)
DEFINE_KERNELS(double, f64, neon_vf64)
