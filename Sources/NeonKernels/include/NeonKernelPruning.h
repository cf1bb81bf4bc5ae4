// Pruning of the pooling paths of the kernel k-means network (paper Sec. III, Prop. 5, Eqs. 2,
// 7, 10, footnote 1): the per-row loops of KernelKMeansPrunedPath (NeonCore). The bound they
// evaluate is derived in NeonCore/KernelPruningBound.swift and docs/kernel-pruning.md.
//
// Every quantity is in the fast path's frame (x and the support vectors shifted by the mean
// support vector; distances do not change). Per tile of n rows:
//   cd2[r, k]  = |x_r - mu_k|^2 (rows x K, float64), mu_k = the mean of cluster k's support vectors
//   pairs      = the (row, cluster) pairs evaluated, row-major, clusters increasing within a row:
//                pairCluster[q], rows r own q in rowStart[r]..<rowStart[r + 1]
// and every row alone decides its pairs: a row's results never depend on the other rows.
#ifndef NEON_KERNEL_PRUNING_H
#define NEON_KERNEL_PRUNING_H
#include <stdint.h>

/// What the bounds need of the model (arrays of K, in the shifted frame).
typedef struct {
    long K;
    /// Support vectors sorted by cluster: cluster k owns start[k]..<start[k + 1] (K + 1 entries).
    const long *start;
    /// |mu_k|^2, r_k = max_{j in C_k} |u_j - mu_k|, s_k = mean_{j in C_k} |u_j - mu_k|^2.
    const double *centreSq;
    const double *radius;
    const double *meanSq;
    double gamma;
    /// Float rounding allowance: every compared distance is widened by slack (|x|^2 + maxSq),
    /// maxSq = max_j |u_j|^2 (a few d units of roundoff of the precision).
    double slack;
    double maxSq;
} neon_kkp_model;

void neon_kkp_sqnorm_f32(const float *x, long n, long d, double *out);
void neon_kkp_sqnorm_f64(const double *x, long n, long d, double *out);

/// cd2[r, k] = max(0, |x_r|^2 + |mu_k|^2 - 2 C[r, k]) with C = X mu^T (rows x K).
void neon_kkp_centre_distances_f32(const float *C, long n, long K, const double *sqx, const double *centreSq,
                                   double *cd2);
void neon_kkp_centre_distances_f64(const double *C, long n, long K, const double *sqx, const double *centreSq,
                                   double *cd2);

/// The clusters each row evaluates: every k with lo_k <= U + margin, where lo_k =
/// (max(0, |x - mu_k| - r_k))^2 <= every d_j of C_k, and U = the second smallest of
/// cd2 + s_k >= D_k (Jensen), so U >= D_(2), the second smallest D. margin = 0 keeps every
/// cluster that can be c or the nearest competitor; margin = log(1/eps) / beta also every
/// competitor whose min-take-most factor exp(-beta (h_k - f_c)) can reach eps.
/// First pass: per row the limit root[r] = sqrt(U + margin + slack) (k is selected iff
/// cd2 - slack <= (root + r_k)^2), rowStart (n + 1: the pairs' prefix sums); returns the number
/// of support vectors of all pairs.
long neon_kkp_count(const neon_kkp_model *m, const double *cd2, const double *sqx, long n, double margin,
                    double *root, long *rowStart);
/// Second pass: pairCluster (rowStart[n] entries) and pairOffset (rowStart[n] + 1: the pairs'
/// support-vector offsets, the last one the total).
void neon_kkp_fill(const neon_kkp_model *m, const double *cd2, const double *sqx, long n, const double *root,
                   int32_t *pairCluster, long *pairOffset);

/// Stable counting sort of the pairs with keep[q] != 0 (all if keep is NULL) by cluster:
/// order[clusterStart[k]..<clusterStart[k + 1]] are cluster k's pairs (rows increasing), and
/// orderRow the rows of order. clusterStart has K + 1 entries.
void neon_kkp_by_cluster(const int32_t *pairCluster, const long *rowStart, long n, long K, const uint8_t *keep,
                         long *clusterStart, int32_t *order, int32_t *orderRow);

/// Forward GEMM of one cluster over its rows, without packing or gathering:
/// Z[i, j] = alpha x[rows[i], :] . U[j, :] (i < count, j < p; U rows ldu apart, d columns).
/// Every entry is computed by the same operations whatever the other rows.
void neon_kkp_dots_f32(const float *x, long d, const int32_t *rows, long count, const float *U, long ldu, long p,
                       float alpha, float *Z);
void neon_kkp_dots_f64(const double *x, long d, const int32_t *rows, long count, const double *U, long ldu, long p,
                       double alpha, double *Z);

/// After the pooling of one cluster's pairs (neon_kkm_pool on count x p): L, S, EZ of pair
/// order[i] <- Lg[i], Sg[i], EZg[i] (EZ may be NULL), and when arena != NULL its p weights
/// Z[i, :] are kept at arena + pairOffset[order[i]].
void neon_kkp_store_f32(const float *Z, long count, long p, const int32_t *order, const double *Lg,
                        const double *Sg, const double *EZg, double *L, double *S, double *EZ,
                        const long *pairOffset, float *arena);
void neon_kkp_store_f64(const double *Z, long count, long p, const int32_t *order, const double *Lg,
                        const double *Sg, const double *EZg, double *L, double *S, double *EZ,
                        const long *pairOffset, double *arena);

/// Assignment and logit from the evaluated pairs (as neon_kkm_top2: c = argmax L, lowest index
/// on ties; f_c = (L_c - max_{k != c} L_k) / gamma).
void neon_kkp_top2(const int32_t *pairCluster, const long *rowStart, const double *L, long n, double gamma,
                   int64_t *assign, double *logit);

/// Min-take-most (Eq. 2) over the evaluated competitors, renormalised over those kept for the
/// relevance pass (e_k >= eps sum_F e, and always the nearest competitor), Eq. 10 (conservative
/// = 0) or its conservative variant, and the certified bound on |R_pruned - R_unpruned|_1 / f_c
/// (KernelPruningBound.swift). On exit per pair q: G[q] = A'_k / S_k (the factor of its weights in
/// the relevance GEMM), keep[q] = 1 if the pair enters the relevance pass; per row: bound[r]
/// (0 if f_c <= 0, infinity if no bound holds), keptSV[r] = support vectors in the relevance pass.
/// scratch: K doubles.
void neon_kkp_mtm(const neon_kkp_model *m, long n, const int32_t *pairCluster, const long *rowStart,
                  const double *L, const double *S, const double *EZ, const double *cd2, const double *sqx,
                  double beta, double eps, int conservative, int64_t *assign, double *logit, double *G,
                  uint8_t *keep, double *bound, long *keptSV, double *scratch);

/// Relevance GEMM of one cluster over its kept rows, accumulated into the rows of Q (w columns):
/// Q[rows[i], :] += sum_j W_ij T[j, :] (j in order), W_ij = arena[pairOffset[order[i]] + j] G[order[i]]
/// (T rows ldt apart). W: scratch of 4 p values. Every row is computed by the same operations
/// whatever the other rows.
void neon_kkp_accumulate_f32(const float *arena, const long *pairOffset, const double *G, const int32_t *order,
                             const int32_t *rows, long count, long p, const float *T, long ldt, long w, float *Q,
                             float *W);
void neon_kkp_accumulate_f64(const double *arena, const long *pairOffset, const double *G, const int32_t *order,
                             const int32_t *rows, long count, long p, const double *T, long ldt, long w, double *Q,
                             double *W);
#endif
