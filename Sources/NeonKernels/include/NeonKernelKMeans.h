// Element-wise kernels of the kernel k-means fast path (paper Sec. III, Eqs. 6-10, Prop. 5,
// footnote 1), over one tile of rows. The GEMMs are done by BLAS in Swift; these loops do the
// O(rows x M) and O(rows x K) work. Support vectors are sorted by cluster: cluster k owns the
// columns [start[k], start[k+1]) of a row (start has K + 1 entries, start[K] = M).
#ifndef NEON_KERNEL_KMEANS_H
#define NEON_KERNEL_KMEANS_H
#include <stdint.h>

// Soft min-pooling per (row, cluster) (Eq. 7), exact for any distance (no underflow: every
// cluster is shifted by its own max). On entry Z[n, j] = 2 gamma x.u_j, gsq[j] = gamma |u_j|^2,
// logSize[k] = log |C_k|. With z_j = Z[n, j] - gsq[j] = gamma (|x|^2 - d_j), d_j = |x - u_j|^2,
// and m_k = max_{j in C_k} z_j, on exit
//   Z[n, j]  = exp(z_j - m_k)             (in (0, 1]: the unnormalised softmin weight, footnote 1)
//   S[n, k]  = sum_{j in C_k} Z[n, j]     (>= 1)
//   L[n, k]  = m_k + log S[n, k] - log |C_k| = gamma (|x|^2 - LME^-gamma_{j in C_k} d_j)
//   EZ[n, k] = sum_{j in C_k} Z[n, j] z_j / S[n, k] = gamma (|x|^2 - E_b[d_j])   (if EZ != NULL)
// L, S and EZ are rows x K, in double; the row constant gamma |x|^2 cancels in every use.
void neon_kkm_pool_f32(float *Z, long rows, long M, long K, const long *start, const float *gsq,
                       const double *logSize, double *L, double *S, double *EZ);
void neon_kkm_pool_f64(double *Z, long rows, long M, long K, const long *start, const double *gsq,
                       const double *logSize, double *L, double *S, double *EZ);

// The decision (Eq. 6) from L: assign[n] = c = argmax_k L[n, k] (the smallest soft-min distance,
// lowest index on ties), logit[n] = f_c = (L_c - max_{k != c} L_k) / gamma = min_{k != c} h_k.
void neon_kkm_top2(const double *L, long rows, long K, double gamma, int64_t *assign, double *logit);

// neon_kkm_top2, then min-take-most (Eq. 2) with stiffness beta and the factors that Eq. 10 and
// the midpoint rule (Eq. 4) leave per competitor: A_k = R_k / den_k for k != c, with
//   den_k = h_k = (L_c - L_k) / gamma                     (EZ == NULL: the paper's rule)
//   den_k = E_p[h_ijk] = (EZ_c - EZ_k) / gamma           (EZ != NULL: the conservative rule),
// A'_c = -sum_{k != c} A_k. On exit G[n, k] = A'_k / S[n, k]. A row with f_c <= 0 gets G = 0,
// and den_k = 0 gives A_k = 0: the limit, never NaN.
void neon_kkm_mtm(const double *L, const double *S, const double *EZ, long rows, long K, double gamma,
                  double beta, int64_t *assign, double *logit, double *G);

// Z[n, j] *= G[n, k(j)] in place: W_j = P_j A'_k(j), the weight of support vector j in GEMM 2
// (P_j = a_j on the own cluster, b_j^k on competitor k: the factored footnote-1 weights).
void neon_kkm_weights_f32(float *Z, long rows, long M, long K, const long *start, const double *G);
void neon_kkm_weights_f64(double *Z, long rows, long M, long K, const long *start, const double *G);
#endif
