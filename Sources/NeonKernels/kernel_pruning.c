#include "NeonKernelPruning.h"
#include "NeonRules.h"
#include <math.h>
#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
// x86-64-v3 = AVX2 with FMA ("avx2" alone leaves the products and sums unfused), v4 = AVX-512.
#define KKP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "avx", "default")))
#else
#define KKP_CLONES
#endif

// Per-row loops of the pruned kernel k-means path (see NeonKernelPruning.h). Every row is
// computed alone.


static void sqnorm_f32(const float *x, long n, long d, double *out) {
    for (long r = 0; r < n; r++) {
        double s = 0;
        for (long f = 0; f < d; f++) s += (double)x[r * d + f] * (double)x[r * d + f];
        out[r] = s;
    }
}
void neon_kkp_sqnorm_f32(const float *x, long n, long d, double *out) { sqnorm_f32(x, n, d, out); }

void neon_kkp_sqnorm_f64(const double *x, long n, long d, double *out) {
    for (long r = 0; r < n; r++) {
        double s = 0;
        for (long f = 0; f < d; f++) s += x[r * d + f] * x[r * d + f];
        out[r] = s;
    }
}

KKP_CLONES
void neon_kkp_centre_distances_f32(const float *C, long n, long K, const double *sqx, const double *centreSq,
                                   double *cd2) {
    for (long r = 0; r < n; r++)
        for (long k = 0; k < K; k++) {
            double v = sqx[r] + centreSq[k] - 2.0 * (double)C[r * K + k];
            cd2[r * K + k] = v > 0 ? v : 0;
        }
}

KKP_CLONES
void neon_kkp_centre_distances_f64(const double *C, long n, long K, const double *sqx, const double *centreSq,
                                   double *cd2) {
    for (long r = 0; r < n; r++)
        for (long k = 0; k < K; k++) {
            double v = sqx[r] + centreSq[k] - 2.0 * C[r * K + k];
            cd2[r * K + k] = v > 0 ? v : 0;
        }
}

/* U: the second smallest upper bound cd2 + s_k of D_k (Jensen: LME <= the mean of d_j) */
static double second_upper(const neon_kkp_model *m, const double *c) {
    double u1 = INFINITY, u2 = INFINITY;
    for (long k = 0; k < m->K; k++) {
        double v = c[k] + m->meanSq[k];
        if (v < u1) { u2 = u1; u1 = v; } else if (v < u2) { u2 = v; }
    }
    return u2;
}

/* lo_k <= thr  <=>  sqrt(cd2 - s) - r_k <= sqrt(thr)  <=>  cd2 - s <= (sqrt(thr) + r_k)^2 */
static inline int selected(const neon_kkp_model *m, double cd2, double s, double root, long k) {
    double lim = root + m->radius[k];
    return cd2 - s <= lim * lim;
}

long neon_kkp_count(const neon_kkp_model *m, const double *cd2, const double *sqx, long n, double margin,
                    double *root, long *rowStart) {
    const long K = m->K;
    long q = 0, sv = 0;
    rowStart[0] = 0;
    for (long r = 0; r < n; r++) {
        const double *c = cd2 + r * K;
        const double s = m->slack * (sqx[r] + m->maxSq);
        root[r] = sqrt(second_upper(m, c) + s + margin);
        for (long k = 0; k < K; k++)
            if (selected(m, c[k], s, root[r], k)) {
                q++;
                sv += m->start[k + 1] - m->start[k];
            }
        rowStart[r + 1] = q;
    }
    return sv;
}

void neon_kkp_fill(const neon_kkp_model *m, const double *cd2, const double *sqx, long n, const double *root,
                   int32_t *pairCluster, long *pairOffset) {
    const long K = m->K;
    long q = 0, offset = 0;
    for (long r = 0; r < n; r++) {
        const double *c = cd2 + r * K;
        const double s = m->slack * (sqx[r] + m->maxSq);
        for (long k = 0; k < K; k++)
            if (selected(m, c[k], s, root[r], k)) {
                pairCluster[q] = (int32_t)k;
                pairOffset[q] = offset;
                offset += m->start[k + 1] - m->start[k];
                q++;
            }
    }
    pairOffset[q] = offset;
}

void neon_kkp_by_cluster(const int32_t *pairCluster, const long *rowStart, long n, long K, const uint8_t *keep,
                         long *clusterStart, int32_t *order, int32_t *orderRow) {
    for (long k = 0; k <= K; k++) clusterStart[k] = 0;
    for (long q = 0; q < rowStart[n]; q++)
        if (!keep || keep[q]) clusterStart[pairCluster[q] + 1]++;
    for (long k = 0; k < K; k++) clusterStart[k + 1] += clusterStart[k];
    /* fill in row order: stable (rows increasing within a cluster) */
    for (long r = 0; r < n; r++)
        for (long q = rowStart[r]; q < rowStart[r + 1]; q++) {
            if (keep && !keep[q]) continue;
            long at = clusterStart[pairCluster[q]]++;
            order[at] = (int32_t)q;
            orderRow[at] = (int32_t)r;
        }
    for (long k = K; k > 0; k--) clusterStart[k] = clusterStart[k - 1];
    clusterStart[0] = 0;
}

/* ---- The per-cluster products, with explicit vectors (VL lanes): 4 rows x 2 support vectors of
   dot products in the forward pass, 4 rows x 2 vectors of columns in the relevance pass. Each
   output entry always goes through the same operations (lane sums in a fixed order, a scalar
   tail), so it does not depend on how the rows are blocked. */
typedef float kkp_v8f __attribute__((ext_vector_type(8)));

#define KKP_LOAD(V, p) ({ V v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define KKP_STOREV(p, v) do { __typeof__(v) v_ = (v); __builtin_memcpy((p), &v_, sizeof v_); } while (0)

/* lane sums in a fixed order (macros: vectors passed by value would change the ABI between the clones) */
#define kkp_hsum8(v) ((((v)[0] + (v)[4]) + ((v)[2] + (v)[6])) + (((v)[1] + (v)[5]) + ((v)[3] + (v)[7])))
#define kkp_hsum4(v) ((((v)[0] + (v)[2]) + ((v)[1] + (v)[3])))

#define KKP_DOTS(T, V, VL, HSUM)                                                                       \
    const long dv = d / VL * VL;                                                                       \
    for (long i0 = 0; i0 < count; i0 += 4) {                                                           \
        const long ni = count - i0 < 4 ? count - i0 : 4;                                              \
        const T *xr[4];                                                                                \
        for (long t = 0; t < 4; t++) xr[t] = x + (long)rows[i0 + (t < ni ? t : ni - 1)] * d;           \
        for (long j0 = 0; j0 < p; j0 += 2) {                                                           \
            const long nj = p - j0 < 2 ? p - j0 : 2;                                                   \
            const T *u0 = U + j0 * ldu, *u1 = U + (j0 + nj - 1) * ldu;                                 \
            V a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;                  \
            for (long f = 0; f < dv; f += VL) {                                                        \
                V b0 = KKP_LOAD(V, u0 + f), b1 = KKP_LOAD(V, u1 + f);                                  \
                V x0 = KKP_LOAD(V, xr[0] + f), x1 = KKP_LOAD(V, xr[1] + f);                            \
                a00 += x0 * b0; a01 += x0 * b1; a10 += x1 * b0; a11 += x1 * b1;                        \
                V x2 = KKP_LOAD(V, xr[2] + f), x3 = KKP_LOAD(V, xr[3] + f);                            \
                a20 += x2 * b0; a21 += x2 * b1; a30 += x3 * b0; a31 += x3 * b1;                        \
            }                                                                                          \
            T s[4][2] = {{HSUM(a00), HSUM(a01)}, {HSUM(a10), HSUM(a11)},                               \
                         {HSUM(a20), HSUM(a21)}, {HSUM(a30), HSUM(a31)}};                              \
            for (long t = 0; t < ni; t++)                                                              \
                for (long c = 0; c < nj; c++) {                                                        \
                    const T *u = c ? u1 : u0;                                                          \
                    T tail = 0;                                                                        \
                    for (long f = dv; f < d; f++) tail += xr[t][f] * u[f];                             \
                    Z[(i0 + t) * p + j0 + c] = alpha * (s[t][c] + tail);                               \
                }                                                                                      \
        }                                                                                              \
    }

KKP_CLONES
void neon_kkp_dots_f32(const float *x, long d, const int32_t *rows, long count, const float *U, long ldu, long p,
                       float alpha, float *Z) {
    KKP_DOTS(float, kkp_v8f, 8, kkp_hsum8)
}

KKP_CLONES
void neon_kkp_dots_f64(const double *x, long d, const int32_t *rows, long count, const double *U, long ldu, long p,
                       double alpha, double *Z) {
    KKP_DOTS(double, neon_v4d, 4, kkp_hsum4)
}

/* One block of up to 4 rows (nr): q_t[c] += sum_j W[t p + j] T[j, c], 2 vectors of columns at a
   time, then single vectors, then scalars; the per-entry operations are the same for any nr. */
#define KKP_ACC_BLOCK(T, V, VL)                                                                        \
    {                                                                                                  \
        long c = 0;                                                                                    \
        for (; c + 2 * VL <= w; c += 2 * VL) {                                                         \
            V q0[4], q1[4];                                                                            \
            for (long t = 0; t < nr; t++) { q0[t] = KKP_LOAD(V, q[t] + c); q1[t] = KKP_LOAD(V, q[t] + c + VL); } \
            for (long j = 0; j < p; j++) {                                                             \
                const T *tj = Tm + j * ldt + c;                                                        \
                V t0 = KKP_LOAD(V, tj), t1 = KKP_LOAD(V, tj + VL);                                     \
                for (long t = 0; t < nr; t++) {                                                        \
                    V wv = W[t * p + j];                                                               \
                    q0[t] += wv * t0;                                                                  \
                    q1[t] += wv * t1;                                                                  \
                }                                                                                      \
            }                                                                                          \
            for (long t = 0; t < nr; t++) { KKP_STOREV(q[t] + c, q0[t]); KKP_STOREV(q[t] + c + VL, q1[t]); } \
        }                                                                                              \
        for (; c + VL <= w; c += VL) {                                                                 \
            V q0[4];                                                                                   \
            for (long t = 0; t < nr; t++) q0[t] = KKP_LOAD(V, q[t] + c);                               \
            for (long j = 0; j < p; j++) {                                                             \
                V t0 = KKP_LOAD(V, Tm + j * ldt + c);                                                  \
                for (long t = 0; t < nr; t++) { V wv = W[t * p + j]; q0[t] += wv * t0; }               \
            }                                                                                          \
            for (long t = 0; t < nr; t++) KKP_STOREV(q[t] + c, q0[t]);                                 \
        }                                                                                              \
        for (; c < w; c++)                                                                             \
            for (long t = 0; t < nr; t++) {                                                            \
                T acc = q[t][c];                                                                       \
                for (long j = 0; j < p; j++) acc += W[t * p + j] * Tm[j * ldt + c];                    \
                q[t][c] = acc;                                                                         \
            }                                                                                          \
    }

#define KKP_ACCUMULATE(T, V, VL)                                                                       \
    for (long i0 = 0; i0 < count; i0 += 4) {                                                           \
        const long left = count - i0;                                                                  \
        T *q[4];                                                                                       \
        for (long t = 0; t < 4 && t < left; t++) {                                                     \
            long pq = order[i0 + t];                                                                   \
            const T *a = arena + pairOffset[pq];                                                       \
            T g = (T)G[pq];                                                                            \
            for (long j = 0; j < p; j++) W[t * p + j] = a[j] * g;                                      \
            q[t] = Q + (long)rows[i0 + t] * w;                                                         \
        }                                                                                              \
        if (left >= 4) {                                                                               \
            const long nr = 4;                                                                         \
            KKP_ACC_BLOCK(T, V, VL)                                                                    \
        } else {                                                                                       \
            for (long r = 0; r < left; r++) {                                                          \
                const long nr = 1;                                                                     \
                T *q0save = q[0];                                                                      \
                q[0] = q[r];                                                                           \
                if (r) for (long j = 0; j < p; j++) W[j] = W[r * p + j];                               \
                KKP_ACC_BLOCK(T, V, VL)                                                                \
                q[0] = q0save;                                                                         \
            }                                                                                          \
        }                                                                                              \
    }

KKP_CLONES
void neon_kkp_accumulate_f32(const float *arena, const long *pairOffset, const double *G, const int32_t *order,
                             const int32_t *rows, long count, long p, const float *Tm, long ldt, long w, float *Q,
                             float *W) {
    KKP_ACCUMULATE(float, kkp_v8f, 8)
}

KKP_CLONES
void neon_kkp_accumulate_f64(const double *arena, const long *pairOffset, const double *G, const int32_t *order,
                             const int32_t *rows, long count, long p, const double *Tm, long ldt, long w, double *Q,
                             double *W) {
    KKP_ACCUMULATE(double, neon_v4d, 4)
}

#define KKP_STORE(T)                                                                                   \
    for (long i = 0; i < count; i++) {                                                                 \
        long q = order[i];                                                                             \
        L[q] = Lg[i];                                                                                  \
        S[q] = Sg[i];                                                                                  \
        if (EZ) EZ[q] = EZg[i];                                                                        \
        if (arena) memcpy(arena + pairOffset[q], Z + i * p, (size_t)p * sizeof(T));                    \
    }

void neon_kkp_store_f32(const float *Z, long count, long p, const int32_t *order, const double *Lg,
                        const double *Sg, const double *EZg, double *L, double *S, double *EZ,
                        const long *pairOffset, float *arena) {
    KKP_STORE(float)
}

void neon_kkp_store_f64(const double *Z, long count, long p, const int32_t *order, const double *Lg,
                        const double *Sg, const double *EZg, double *L, double *S, double *EZ,
                        const long *pairOffset, double *arena) {
    KKP_STORE(double)
}

/* c = the pair with the largest L (the first, i.e. the lowest cluster, on ties), the largest L
   of the others and its pair (the first on ties). */
static long top2_pairs(const double *L, long q0, long q1, double *lc, double *lm2, long *q2) {
    long c = q0;
    for (long q = q0 + 1; q < q1; q++)
        if (L[q] > L[c]) c = q;
    double second = -INFINITY;
    long s = -1;
    for (long q = q0; q < q1; q++)
        if (q != c && (s < 0 || L[q] > second)) { second = L[q]; s = q; }
    *lc = L[c];
    *lm2 = second;
    *q2 = s;
    return c;
}

void neon_kkp_top2(const int32_t *pairCluster, const long *rowStart, const double *L, long n, double gamma,
                   int64_t *assign, double *logit) {
    for (long r = 0; r < n; r++) {
        double lc, lm2;
        long q2;
        long c = top2_pairs(L, rowStart[r], rowStart[r + 1], &lc, &lm2, &q2);
        assign[r] = pairCluster[c];
        logit[r] = (lc - lm2) / gamma;
    }
}

/* Sum over the clusters with skip[k] = 1 (not evaluated) of the bound's terms:
   *t1 = sum e_ub (up_k + deltaC) / (lo_k - base),  *S = sum e_ub, with
   lo_k = max(0, sqrt(cd2 - s) - r_k)^2 <= every d_j of C_k, up_k = (sqrt(cd2 + s) + r_k)^2 >= every
   d_j, e_ub = exp(-beta (lo_k - D2)) >= exp(-beta (h_k - f_c)). Returns 0 if some lo_k <= base
   (no bound). */
KKP_CLONES
static int skipped_terms(const double *cd2, const double *skip, const double *radius, long K, double s,
                         double beta, double D2, double deltaC, double base, double *t1, double *S) {
    neon_v4d vt = 0, vs = 0;
    neon_v4l bad = 0;
    for (long k = 0; k < K; k += 4) {
        neon_v4d c, w, rad;
        if (k + 4 <= K) {
            __builtin_memcpy(&c, cd2 + k, sizeof c);
            __builtin_memcpy(&w, skip + k, sizeof w);
            __builtin_memcpy(&rad, radius + k, sizeof rad);
        } else {
            c = 0; w = 0; rad = 0;
            for (long i = 0; k + i < K; i++) { c[i] = cd2[k + i]; w[i] = skip[k + i]; rad[i] = radius[k + i]; }
        }
        neon_v4d lo = __builtin_elementwise_max(__builtin_elementwise_sqrt(__builtin_elementwise_max(c - s, (neon_v4d)0)) - rad,
                                               (neon_v4d)0);
        lo = lo * lo;
        neon_v4d up = __builtin_elementwise_sqrt(c + s) + rad;
        up = up * up;
        neon_v4d y = -beta * (lo - D2), e;
        neon_exp_upper_v4d(&e, &y);
        neon_v4d den = (lo - base) * w + (1 - w);           /* 1 where not skipped */
        bad |= (neon_v4l)(den <= 0);
        vt += w * e * (up + deltaC) / den;
        vs += w * e;
    }
    *t1 = vt[0] + vt[1] + vt[2] + vt[3];
    *S = vs[0] + vs[1] + vs[2] + vs[3];
    return (bad[0] | bad[1] | bad[2] | bad[3]) == 0;
}

void neon_kkp_mtm(const neon_kkp_model *m, long n, const int32_t *pairCluster, const long *rowStart,
                  const double *L, const double *S, const double *EZ, const double *cd2, const double *sqx,
                  double beta, double eps, int conservative, int64_t *assign, double *logit, double *G,
                  uint8_t *keep, double *bound, long *keptSV, double *scratch) {
    const long K = m->K;
    const double g = m->gamma;
    for (long k = 0; k < K; k++) scratch[k] = 1;
    for (long r = 0; r < n; r++) {
        const long q0 = rowStart[r], q1 = rowStart[r + 1];
        double lc, lm2;
        long q2;
        long c = top2_pairs(L, q0, q1, &lc, &lm2, &q2);
        double f = (lc - lm2) / g;
        assign[r] = pairCluster[c];
        logit[r] = f;
        if (!(f > 0)) {                          /* a tie: R_k = 0 for every k */
            for (long q = q0; q < q1; q++) { G[q] = 0; keep[q] = 0; }
            bound[r] = 0;
            keptSV[r] = 0;
            continue;
        }
        const double Dc = sqx[r] - lc / g, D2 = sqx[r] - lm2 / g;
        double deltaC = sqx[r] - EZ[c] / g;       /* E_a[d_i] <= D_c */
        if (deltaC < 0) deltaC = 0;
        /* Eq. 2 (NeonRules.h): e_k = exp(-beta (h_k - f_c)) <= 1 over the evaluated competitors */
        double sumF = 0;
        for (long q = q0; q < q1; q++) {
            G[q] = q == c ? 0 : neon_mtm_weight_f64(beta, (L[q] - lm2) / g);
            sumF += G[q];
        }
        double sumB = 0;
        for (long q = q0; q < q1; q++) {
            keep[q] = q == c || q == q2 || G[q] >= eps * sumF;
            if (q != c && keep[q]) sumB += G[q];
        }
        /* A_k = R_k / den_k with R_k renormalised over the kept competitors; the skipped ones */
        double A = 0, keptMass = 0, t1 = 0, Sskip = 0;
        long sv = 0;
        for (long q = q0; q < q1; q++) {
            long k = pairCluster[q];
            if (keep[q]) sv += m->start[k + 1] - m->start[k];
            if (q == c) continue;
            double e = G[q];
            double den = conservative ? (EZ[c] - EZ[q]) / g : (lc - L[q]) / g;
            double deltaK = sqx[r] - EZ[q] / g;
            if (deltaK < 0) deltaK = 0;
            if (keep[q]) {
                double a = den != 0 ? e / sumB * f / den : 0;
                A += a;
                keptMass += fabs(a) * (deltaK + deltaC);
                G[q] = a / S[q];
            } else {
                if (den != 0) t1 += e * (deltaK + deltaC) / fabs(den);
                Sskip += e;
                G[q] = 0;
            }
        }
        G[c] = -A / S[c];
        keptSV[r] = sv;
        /* the clusters not evaluated (bounded from the centre distances) */
        for (long q = q0; q < q1; q++) scratch[pairCluster[q]] = 0;
        const double s = m->slack * (sqx[r] + m->maxSq);
        double t1s, Ss;
        int ok = skipped_terms(cd2 + r * K, scratch, m->radius, K, s, beta, D2, deltaC,
                               conservative ? deltaC : Dc, &t1s, &Ss);
        for (long q = q0; q < q1; q++) scratch[pairCluster[q]] = 1;
        t1 += t1s;
        Sskip += Ss;
        double b = (t1 * f / sumB + Sskip / (sumB + Sskip) * keptMass) / f;
        bound[r] = ok ? b : INFINITY;
    }
}
