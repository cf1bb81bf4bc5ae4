// Element-wise kernels of the k-means fast path (paper Sec. II, Eqs. 2-4), over one tile of rows.
// The GEMMs are done by BLAS in Swift; these loops do the O(rows x K) and O(rows x d) work,
// vectorised (clang target_clones picks AVX-512 / AVX2 / SSE2 at load time).
#ifndef NEON_KERNELS_H
#define NEON_KERNELS_H
#include <stdint.h>

// On entry Z (rows x K, row stride K) holds 2 x.m_k; sq[k] = |m_k|^2 (x, m shifted alike).
// Each row becomes s_k = 2 x.m_k - |m_k|^2 = |x|^2 - |x - m_k|^2, and
//   assign[n] = c = argmax_k s_k (lowest index on ties, i.e. the k-means decision, Eq. 1),
//   logit[n]  = f_c = s_c - max_{k != c} s_k = min_{k != c} h_k (Prop. 1), in double.
// Z is only read.
void neon_top2_f32(const float *Z, long rows, long K, const float *sq, int64_t *assign, double *logit);
void neon_top2_f64(const double *Z, long rows, long K, const double *sq, int64_t *assign, double *logit);
// neon_top2 that returns the two scores instead of their difference: best[n] = s_c and
// second[n] = max_{k != c} s_k (model fitting needs them to bound distances); row n of Z becomes
// s_k, with Z[n, c] = -inf.
void neon_top2_scores_f32(float *Z, long rows, long K, const float *sq, int64_t *assign, double *best, double *second);
void neon_top2_scores_f64(double *Z, long rows, long K, const double *sq, int64_t *assign, double *best, double *second);

// neon_top2 (Z becoming s_k, Z[n, c] = -inf) followed by min-take-most (Eq. 2) with stiffness
// beta and the midpoint rule's per-competitor factors (Eq. 4): on exit row n of Z holds A'_k = R_k / h_k for k != c and
// A'_c = -sum_{k != c} A'_k, so that R_i = (A' M^2)_i - 2 x_i (A' M)_i. A row with f_c = 0
// (a point on a decision boundary) gets A' = 0: R_k / h_k -> 0 in the limit, never NaN.
void neon_mtm_f32(float *Z, long rows, long K, const float *sq, double beta, int64_t *assign, double *logit);
void neon_mtm_f64(double *Z, long rows, long K, const double *sq, double beta, int64_t *assign, double *logit);

// R[n, i] = Q[n, d + i] - 2 X[n, i] Q[n, i]  (Q = A' [M | M^2], rows x 2d).
void neon_midpoint_finish_f32(float *R, const float *X, const float *Q, long rows, long d);
void neon_midpoint_finish_f64(double *R, const double *X, const double *Q, long rows, long d);

// dst[n, i] = src[n, i] - origin[i] (the translation-invariant shift of the fast path).
void neon_shift_rows_f32(float *dst, const float *src, const float *origin, long rows, long d);
void neon_shift_rows_f64(double *dst, const double *src, const double *origin, long rows, long d);

// out[n] = sum_i a[n, i] in double (conservation checks).
void neon_row_sums_f32(const float *a, long rows, long d, double *out);
void neon_row_sums_f64(const double *a, long rows, long d, double *out);

// Index of the first non-finite value in a[0..<n], or -1.
long neon_first_nonfinite_f32(const float *a, long n);
long neon_first_nonfinite_f64(const double *a, long n);
// KDE conditional weights (Appendix G, Eq. 44): cum[k] = sum_{j <= k} exp((dist[j] - m) s) for
// s <= 0 and dist[j] >= m, with the vectorised exp of NeonRules.h (relative error ~1e-15; 0 below exp(-708)).
void neon_kde_cumulative_weights(const double *dist, long count, double m, double s, double *cum);

#endif
