#include "NeonKernelKMeans.h"
#include "NeonRules.h"
#include <math.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__clang__)
#define KKM_CLONES __attribute__((target_clones("avx512f", "avx2", "avx", "default")))
#else
#define KKM_CLONES
#endif

// Element-wise kernels of the kernel k-means fast path (see NeonKernelKMeans.h). Every row is
// computed alone, so a row's results never depend on the other rows of its tile.

// ---- float32: explicit 8-lane vectors (one AVX register; two SSE ones), so that clusters of a
// few dozen support vectors run in full vectors; the tail of a cluster goes through a padded
// vector (-inf pads: exp gives 0, the max ignores them).

// (Vectors are passed by pointer: by value they would change the ABI between the clones.)
static inline __attribute__((always_inline)) void kkm_load(neon_v8f *v, const float *p, long n, float pad) {
    if (n == 8) {
        __builtin_memcpy(v, p, sizeof *v);
    } else {
        *v = (neon_v8f)pad;
        for (long i = 0; i < n; i++) (*v)[i] = p[i];
    }
}

static inline __attribute__((always_inline)) void kkm_store(float *p, const neon_v8f *v, long n) {
    if (n == 8) {
        __builtin_memcpy(p, v, sizeof *v);
    } else {
        for (long i = 0; i < n; i++) p[i] = (*v)[i];
    }
}

static inline __attribute__((always_inline)) double kkm_sum(const neon_v8f *v) {
    double s = 0;
    for (int i = 0; i < 8; i++) s += (double)(*v)[i];
    return s;
}

// One cluster of one row (see neon_kkm_pool_f32 in the header).
static inline __attribute__((always_inline)) void pool_cluster_f32(float *z, long n, const float *gsq,
                                                                   double logSize, double *L, double *S,
                                                                   double *EZ) {
    /* z_j = 2 gamma x.u_j - gamma |u_j|^2 and its max over the cluster */
    neon_v8f vm = (neon_v8f)(-INFINITY);
    for (long j = 0; j < n; j += 8) {
        long w = n - j < 8 ? n - j : 8;
        neon_v8f a, b;
        kkm_load(&a, z + j, w, -INFINITY);
        kkm_load(&b, gsq + j, w, 0);
        neon_v8f v = a - b;                                        /* pads: -inf */
        kkm_store(z + j, &v, w);
        vm = __builtin_elementwise_max(vm, v);
    }
    float m = __builtin_reduce_max(vm);
    /* exp(z_j - m) <= 1 (one term is exp(0) = 1, so the sum never underflows) */
    neon_v8f vs = 0, vt = 0;
    for (long j = 0; j < n; j += 8) {
        long w = n - j < 8 ? n - j : 8;
        neon_v8f y, e;
        kkm_load(&y, z + j, w, -INFINITY);
        y -= m;
        neon_exp_nonpos_v8f(&e, &y);
        kkm_store(z + j, &e, w);
        vs += e;
        if (EZ) vt += (neon_v8f)((neon_v8i)(e * y) & (e != 0));   /* 0, not 0 * -inf, where e = 0 */
    }
    double s = kkm_sum(&vs);
    if (EZ) *EZ = (double)m + kkm_sum(&vt) / s;
    *S = s;
    *L = (double)m + log(s) - logSize;
}

KKM_CLONES
static void pool_row_f32(float *z, long K, const long *start, const float *gsq, const double *logSize,
                         double *L, double *S, double *EZ) {
    for (long k = 0; k < K; k++) {
        long j0 = start[k];
        pool_cluster_f32(z + j0, start[k + 1] - j0, gsq + j0, logSize[k], L + k, S + k, EZ ? EZ + k : 0);
    }
}

void neon_kkm_pool_f32(float *Z, long rows, long M, long K, const long *start, const float *gsq,
                       const double *logSize, double *L, double *S, double *EZ) {
    for (long r = 0; r < rows; r++)
        pool_row_f32(Z + r * M, K, start, gsq, logSize, L + r * K, S + r * K, EZ ? EZ + r * K : 0);
}

KKM_CLONES
static void scale_row_f32(float *z, long K, const long *start, const double *G) {
    for (long k = 0; k < K; k++) {
        float g = (float)G[k];
        long j = start[k], end = start[k + 1];
        for (; j + 8 <= end; j += 8) {
            neon_v8f v;
            __builtin_memcpy(&v, z + j, sizeof v);
            v *= g;
            __builtin_memcpy(z + j, &v, sizeof v);
        }
        for (; j < end; j++) z[j] *= g;
    }
}

void neon_kkm_weights_f32(float *Z, long rows, long M, long K, const long *start, const double *G) {
    for (long r = 0; r < rows; r++) scale_row_f32(Z + r * M, K, start, G + r * K);
}

// ---- float64: scalar loops with libm's exp (full double accuracy).
static void pool_cluster_f64(double *z, long n, const double *gsq, double logSize, double *L, double *S,
                             double *EZ) {
    double m = -INFINITY;
    for (long j = 0; j < n; j++) {
        double v = z[j] - gsq[j];
        z[j] = v;
        m = v > m ? v : m;
    }
    double s = 0, t = 0;
    for (long j = 0; j < n; j++) {
        double y = z[j] - m;
        double e = neon_exp_nonpos_libm(y);
        z[j] = e;
        s += e;
        t += e * y;
    }
    if (EZ) *EZ = m + t / s;
    *S = s;
    *L = m + log(s) - logSize;
}

void neon_kkm_pool_f64(double *Z, long rows, long M, long K, const long *start, const double *gsq,
                       const double *logSize, double *L, double *S, double *EZ) {
    for (long r = 0; r < rows; r++)
        for (long k = 0; k < K; k++) {
            long j0 = start[k], n = start[k + 1] - j0;
            pool_cluster_f64(Z + r * M + j0, n, gsq + j0, logSize[k], L + r * K + k, S + r * K + k,
                             EZ ? EZ + r * K + k : 0);
        }
}

void neon_kkm_weights_f64(double *Z, long rows, long M, long K, const long *start, const double *G) {
    for (long r = 0; r < rows; r++)
        for (long k = 0; k < K; k++) {
            double g = G[r * K + k], *z = Z + r * M;
            for (long j = start[k]; j < start[k + 1]; j++) z[j] *= g;
        }
}

// c = argmax_k l[k] (the first on ties) and the max over k != c.
static long top2_row(const double *l, long K, double *lc, double *lm2) {
    long c = 0;
    for (long k = 1; k < K; k++)
        if (l[k] > l[c]) c = k;
    double second = -INFINITY;
    for (long k = 0; k < K; k++)
        if (k != c && l[k] > second) second = l[k];
    *lc = l[c];
    *lm2 = second;
    return c;
}

void neon_kkm_top2(const double *L, long rows, long K, double gamma, int64_t *assign, double *logit) {
    for (long r = 0; r < rows; r++) {
        double lc, lm2;
        assign[r] = top2_row(L + r * K, K, &lc, &lm2);
        logit[r] = (lc - lm2) / gamma;
    }
}

void neon_kkm_mtm(const double *L, const double *S, const double *EZ, long rows, long K, double gamma,
                  double beta, int64_t *assign, double *logit, double *G) {
    for (long r = 0; r < rows; r++) {
        const double *l = L + r * K, *s = S + r * K, *ez = EZ ? EZ + r * K : 0;
        double *g = G + r * K;
        double lc, lm2;
        long c = top2_row(l, K, &lc, &lm2);
        double f = (lc - lm2) / gamma;
        assign[r] = c;
        logit[r] = f;
        if (!(f > 0)) {                       /* a tie: R_k = 0 for every k */
            for (long k = 0; k < K; k++) g[k] = 0;
            continue;
        }
        /* Eq. 2 (NeonRules.h): e_k = exp(-beta (h_k - f_c)) = exp(beta (L_k - L_m2) / gamma) <= 1 */
        double total = 0;
        for (long k = 0; k < K; k++) {
            double e = k == c ? 0 : neon_mtm_weight_f64(beta, (l[k] - lm2) / gamma);
            g[k] = e;
            total += e;
        }
        double A = 0, scale = f / total;      /* R_k = e_k / total * f_c */
        for (long k = 0; k < K; k++) {
            if (k == c) continue;
            double den = ez ? (ez[c] - ez[k]) / gamma : (lc - l[k]) / gamma;
            double a = den != 0 ? g[k] * scale / den : 0;
            A += a;
            g[k] = a / s[k];
        }
        g[c] = -A / s[c];
    }
}
