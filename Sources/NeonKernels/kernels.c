#include "NeonKernels.h"
#include "NeonRules.h"
#include <math.h>

#if defined(__x86_64__) && defined(__clang__)
#define NEON_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEON_CLONES
#endif

// (m ? a : b) lane by lane, m from a vector comparison (all bits set or none).
#define NEON_BLEND(VT, VI, m, a, b) ((VT)(((VI)(a) & (m)) | ((VI)(b) & ~(m))))

// The largest lane of a vector of 16 floats or 8 doubles, by halves (the reduction builtin
// goes lane by lane).
#define NEON_HMAX_f32(v) ({ __typeof__((v).lo) h1_ = __builtin_elementwise_max((v).lo, (v).hi);       \
                            __typeof__(h1_.lo) h2_ = __builtin_elementwise_max(h1_.lo, h1_.hi);      \
                            __typeof__(h2_.lo) h3_ = __builtin_elementwise_max(h2_.lo, h2_.hi);      \
                            __builtin_elementwise_max(h3_.lo, h3_.hi); })
#define NEON_HMAX_f64(v) ({ __typeof__((v).lo) h1_ = __builtin_elementwise_max((v).lo, (v).hi);       \
                            __typeof__(h1_.lo) h2_ = __builtin_elementwise_max(h1_.lo, h1_.hi);      \
                            __builtin_elementwise_max(h2_.lo, h2_.hi); })

#define DEFINE_KERNELS(T, SFX, VT, VI)                                                  \
/* c = the first index of max_k s_k, s_k = z_k - |m_k|^2, and the max over k != c, in one     \
   sweep: each lane keeps its largest s (b1, first index on ties) and the largest of the rest  \
   (b2). With `store`, s replaces z and z[c] becomes -inf (what the min-take-most rule and the  \
   fit's resolve expect); without, z is only read. The same bits as two sweeps: max is exact. */\
NEON_CLONES                                                                                    \
static void top2_row_##SFX(T *z, int store, long K, const T *sq, int64_t *assign, double *logit, \
                           T *zc_out, T *zm2_out) {                                           \
    enum { VW = sizeof(VT) / sizeof(T) };                                                      \
    VT b1 = (VT)(-INFINITY), b2 = (VT)(-INFINITY);                                             \
    VI idx = (VI)(0), lane;                                                                    \
    for (int i = 0; i < VW; i++) lane[i] = i;                                                  \
    long k = 0;                                                                                \
    for (; k + VW <= K; k += VW) {                                                             \
        VT a, q;                                                                               \
        __builtin_memcpy(&a, z + k, sizeof a);                                                 \
        __builtin_memcpy(&q, sq + k, sizeof q);                                                \
        a -= q;                                                                                \
        if (store) __builtin_memcpy(z + k, &a, sizeof a);                                      \
        VI m = a > b1;                                            /* strictly: first index */ \
        VT t = NEON_BLEND(VT, VI, m, b1, a);                      /* min(a, b1) */            \
        VI m2 = t > b2;                                                                        \
        b2 = NEON_BLEND(VT, VI, m2, t, b2);                                                    \
        b1 = NEON_BLEND(VT, VI, m, a, b1);                                                     \
        idx = NEON_BLEND(VI, VI, m, lane + (VI)(k), idx);                                      \
    }                                                                                          \
    /* across lanes: c = the lowest index holding the max, then the max of the others */       \
    T best = NEON_HMAX_##SFX(b1);                                                              \
    VI top = b1 == (VT)(best);                                                                 \
    long c = (long)__builtin_reduce_min(NEON_BLEND(VI, VI, top, idx, (VI)(INT32_MAX)));        \
    VI own = top & (idx == (VI)(c));                                                           \
    T second = NEON_HMAX_##SFX(NEON_BLEND(VT, VI, own, b2, b1));                               \
    if (k == 0) c = 0;                                                 /* K < VW: tail only */ \
    for (; k < K; k++) {                                                                       \
        T s = z[k] - sq[k];                                                                    \
        if (store) z[k] = s;                                                                   \
        if (s > best) { second = best; best = s; c = k; }                                      \
        else if (s > second) second = s;                                                       \
    }                                                                                          \
    if (store) z[c] = -INFINITY;                                                               \
    *assign = c;                                                                               \
    *logit = (double)best - (double)second;                                                    \
    *zc_out = best;                                                                            \
    *zm2_out = second;                                                                         \
}                                                                                              \
                                                                                               \
void neon_top2_##SFX(const T *Z, long rows, long K, const T *sq, int64_t *assign, double *logit) { \
    for (long n = 0; n < rows; n++) {                                                          \
        T zc, zm2;                                                                             \
        top2_row_##SFX((T *)(Z + n * K), 0, K, sq, assign + n, logit + n, &zc, &zm2);             \
    }                                                                                          \
}                                                                                              \
                                                                                               \
void neon_top2_scores_##SFX(T *Z, long rows, long K, const T *sq, int64_t *assign, double *best, \
                            double *second) {                                                  \
    for (long n = 0; n < rows; n++) {                                                          \
        T zc, zm2;                                                                             \
        double logit;                                                                          \
        top2_row_##SFX(Z + n * K, 1, K, sq, assign + n, &logit, &zc, &zm2);                       \
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
        top2_row_##SFX(Z + n * K, 1, K, sq, assign + n, logit + n, &zc, &zm2);                 \
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
NEON_CLONES                                                                                    \
long neon_first_nonfinite_##SFX(const T *a, long n) {                                          \
    long i = 0;                                                                                \
    for (; i + 256 <= n; i += 256) {  /* x - x is 0 for a finite x, NaN otherwise: vectorised */ \
        _Pragma("clang fp reassociate(on)")                                                    \
        T acc = 0;                                                                             \
        for (long j = 0; j < 256; j++) acc += a[i + j] - a[i + j];                             \
        if (acc != 0) break;                                                                   \
    }                                                                                          \
    for (; i < n; i++)                                                                         \
        if (!isfinite(a[i])) return i;                                                         \
    return -1;                                                                                 \
}

typedef float neon_vf32 __attribute__((ext_vector_type(16)));
typedef double neon_vf64 __attribute__((ext_vector_type(8)));
typedef int32_t neon_vi32 __attribute__((ext_vector_type(16)));
typedef int64_t neon_vi64 __attribute__((ext_vector_type(8)));

DEFINE_KERNELS(float, f32, neon_vf32, neon_vi32)
DEFINE_KERNELS(double, f64, neon_vf64, neon_vi64)
