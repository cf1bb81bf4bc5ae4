// The per-row loops of a Lloyd iteration (model fitting), over one tile of rows.
//
// The fit's decision for a row is a = argmin_k D(x, m_k), lowest index on ties, where
// D = neon_fit_dist2 (|x - m|^2 in float64, one compiled body for every caller, so a row's
// distance has the same bits in every pass). The GEMM scores s_k = 2 x.m_k - |m_k|^2 (in the
// input precision T) only decide rows whose top two scores are further apart than twice their
// error bound E; closer rows are decided by D over the candidates. The decision therefore does
// not depend on how rows are grouped into GEMM calls, and distance bounds (Hamerly) can skip rows
// without changing it.
#ifndef NEON_FIT_H
#define NEON_FIT_H
#include <stdint.h>

// |x - m|^2 in float64 (x: d values of T, m: d doubles).
double neon_fit_dist2_f32(const float *x, const double *m, long d);
double neon_fit_dist2_f64(const double *x, const double *m, long d);

// out[n] = |x_n|^2 in float64.
void neon_fit_norms_f32(const float *x, long rows, long d, double *out);
void neon_fit_norms_f64(const double *x, long rows, long d, double *out);

// After neon_top2_scores on Z (rows x K: s_k, -inf at the GEMM's choice c[j]; best[j] = s_c,
// second[j] = max_{k != c} s_k) for the rows X (row j, stride d, is row index[j] of the tile;
// index NULL: row j). Every |s_k - s*_k| <= E = eta (|x| + mmax)^2 (s*: exact arithmetic with
// the float64 centroids; eta covers the GEMM's and the float64 distances' rounding).
// For each row r: assign[r] = a (above), dist2[r] = D(x, m_a) (kept when keep_dist2 and a equals
// assign[r] on entry), and, if lower is not NULL, lower[r] <= min_{k != a} |x - m_k| (exact
// arithmetic). Returns the number of rows decided by float64 distances (near ties).
long neon_fit_resolve_f32(const float *Z, long rows, long K, const float *X, long d, const int64_t *index,
                          const double *centroids, const double *xnorm2, double eta, double mmax,
                          const int64_t *c, const double *best, const double *second,
                          int64_t *assign, double *dist2, double *lower, int keep_dist2);
long neon_fit_resolve_f64(const double *Z, long rows, long K, const double *X, long d, const int64_t *index,
                          const double *centroids, const double *xnorm2, double eta, double mmax,
                          const int64_t *c, const double *best, const double *second,
                          int64_t *assign, double *dist2, double *lower, int keep_dist2);

// Hamerly's test for each row n with a = assign[n], after the centroids moved:
// dist2[n] = D(x_n, m_a) (the exact upper bound, recomputed), l = lower[n] - drop[a] (rounded down,
// at least 0; drop[a] >= max_{k != a} of the centroid moves), L = max(l, 2 half_gap[a] - u) with
// u >= |x_n - m_a|. The row keeps a for certain when L^2 (1 - rho) > dist2[n] (lower[n] = l).
// Otherwise, if drop_rest is not NULL (drop_rest[a] >= the moves of the centroids other than a
// that are not "movers"), a row with r = lower[n] - drop_rest[a] and r^2 (1 - rho) > dist2[n]
// can only change to a mover: its index goes to near (lower[n] = r, a bound over the non-movers
// only, until neon_hamerly_movers); every other row goes to fail. Returns the number in fail.
long neon_hamerly_test_f32(const float *x, long rows, long d, const double *centroids, const int64_t *assign,
                           const double *drop, const double *drop_rest, const double *half_gap, double rho,
                           double *lower, double *dist2, int64_t *fail, int64_t *near, long *near_count);
long neon_hamerly_test_f64(const double *x, long rows, long d, const double *centroids, const int64_t *assign,
                           const double *drop, const double *drop_rest, const double *half_gap, double rho,
                           double *lower, double *dist2, int64_t *fail, int64_t *near, long *near_count);

// The near rows against the J movers: Z (rows x J) = 2 x.m~_j for the rows index[j] of the tile,
// sq[i] = |m~_i|^2 and mover[i] the cluster of column i. lower[r] becomes min(lower[r], a lower
// bound on the distance to every mover other than a, from the scores less 2E as in
// neon_fit_resolve); the row keeps a when lower^2 (1 - rho) > dist2[r], else r is appended to
// fail after its first nf entries. Returns the new count of fail.
long neon_hamerly_movers_f32(const float *Z, long rows, long J, const float *sq, const int64_t *mover,
                             const int64_t *index, const int64_t *assign, const double *xnorm2, double eta,
                             double mmax, double rho, double *lower, const double *dist2, int64_t *fail, long nf);
long neon_hamerly_movers_f64(const double *Z, long rows, long J, const double *sq, const int64_t *mover,
                             const int64_t *index, const int64_t *assign, const double *xnorm2, double eta,
                             double mmax, double rho, double *lower, const double *dist2, int64_t *fail, long nf);

// For every row n with c = assign[n]: sums[c, :] += x[n, :] (double), counts[c] += 1,
// acc[0] += dist2[n] (the inertia), acc[1] += 1 if old != NULL and old[n] != c. Meanwhile the
// first ahead_rows rows at `ahead` (the next tile) are prefetched towards L2.
void neon_fit_accumulate_f32(const float *x, long rows, long d, const int64_t *assign, const double *dist2,
                             double *sums, double *counts, const int64_t *old, double *acc,
                             const float *ahead, long ahead_rows);
void neon_fit_accumulate_f64(const double *x, long rows, long d, const int64_t *assign, const double *dist2,
                             double *sums, double *counts, const int64_t *old, double *acc,
                             const double *ahead, long ahead_rows);
#endif
