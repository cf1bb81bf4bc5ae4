// The rules of NEON that every C fast path shares (paper Sec. II-III), written once:
//   the vectorised exp of non-positive arguments,
//   the min-take-most weights (Eq. 2),
//   the midpoint rule's per-feature term (Eq. 4).
// Header-only (static inline) so that the loops that call them still vectorise. The Swift
// reference paths hold the same rules in NeonCore's MinTakesMost.swift and MidpointRule.swift.
#ifndef NEON_RULES_H
#define NEON_RULES_H
#include <math.h>
#include <stdint.h>

// Always inlined, even without optimisation, so that every caller's target clone compiles the same
// operations as its own loop (fused multiply-adds included).
#define NEON_RULE static inline __attribute__((always_inline))

typedef float neon_v8f __attribute__((ext_vector_type(8)));
typedef int32_t neon_v8i __attribute__((ext_vector_type(8)));
typedef double neon_v4d __attribute__((ext_vector_type(4)));
typedef int64_t neon_v4l __attribute__((ext_vector_type(4)));

// ---- exp(y) for y <= 0

// float: n = round(y / ln 2), Cody-Waite reduction by ln 2 (hi/lo split) and the degree-6
// Taylor polynomial p = exp(r), |r| <= ln2/2 (relative error ~2e-7). One body for a scalar and
// for the lanes of a vector (clang vector arithmetic is lane-wise); the rounding of n differs:
// the scalar form (k-means, Eq. 2) rounds the product half away from zero (roundf), the vector
// form (kernel k-means pooling) adds and subtracts 1.5 * 2^23 (ties to even, possibly fused).
// Both are what those paths computed before this header, so their outputs keep every bit.
#define NEON_EXP_F32_POLY(y, n, p)                                                               \
    do {                                                                                         \
        __typeof__(y) r_ = y - n * 0.693145751953125f;                                           \
        r_ = r_ - n * 1.42860682030941723212e-6f;                                                \
        p = 1.0f / 720.0f;                                                                       \
        p = p * r_ + 1.0f / 120.0f;                                                              \
        p = p * r_ + 1.0f / 24.0f;                                                               \
        p = p * r_ + 1.0f / 6.0f;                                                                \
        p = p * r_ + 0.5f;                                                                       \
        p = p * r_ + 1.0f;                                                                       \
        p = p * r_ + 1.0f;                                                                       \
    } while (0)

// exp(y) in float, y <= 0; 0 at and below -87 (the float range), for -inf and NaN. Branch-free.
NEON_RULE float neon_exp_nonpos_f32(float y) {
    float yc = y > -87.0f ? y : -87.0f, p;
    float n = __builtin_roundf(yc * 1.44269504088896341f);
    NEON_EXP_F32_POLY(yc, n, p);
    union { float f; int32_t i; } s;
    s.i = ((int32_t)n + 127) << 23;                                        /* 2^n */
    return y > -87.0f ? p * s.f : 0.0f;
}

// The same on 8 lanes (passed by pointer: by value vectors would change the ABI between clones).
NEON_RULE void neon_exp_nonpos_v8f(neon_v8f *out, const neon_v8f *in) {
    neon_v8f y = *in, n, p;
    neon_v8i live = y > -87.0f;
    y = __builtin_elementwise_max(y, (neon_v8f)(-87.0f));
    n = (y * 1.44269504088896341f + 12582912.0f) - 12582912.0f;           /* round to nearest */
    NEON_EXP_F32_POLY(y, n, p);
    neon_v8i e = (__builtin_convertvector(n, neon_v8i) + 127) << 23;      /* 2^n */
    *out = (neon_v8f)((neon_v8i)(p * (neon_v8f)e) & live);
}

// double: t = y / ln 2 + 1.5 * 2^52 holds n = round(y / ln 2) in its low mantissa bits (so 2^n is built
// with 64-bit integer adds and shifts), r = y - n ln 2 (Cody-Waite, hi/lo split), |r| <= ln2/2.
#define NEON_EXP_F64_REDUCE(y, t, n, r)                                                          \
    do {                                                                                         \
        t = y * 1.4426950408889634 + 6755399441055744.0;                                         \
        n = t - 6755399441055744.0;                                                              \
        r = y - n * 6.93147180369123816490e-01;                                                  \
        r = r - n * 1.90821492927058770002e-10;                                                  \
    } while (0)

// The Taylor polynomial of exp(r) by Horner's rule from its degree-6 term down.
#define NEON_EXP_TAYLOR_TAIL(p, r)                                                               \
    do {                                                                                         \
        p = p * r + 1.0 / 5040.0;                                                                \
        p = p * r + 1.0 / 720.0;                                                                 \
        p = p * r + 1.0 / 120.0;                                                                 \
        p = p * r + 1.0 / 24.0;                                                                  \
        p = p * r + 1.0 / 6.0;                                                                   \
        p = p * r + 0.5;                                                                         \
        p = p * r + 1.0;                                                                         \
        p = p * r + 1.0;                                                                         \
    } while (0)

// exp(y) in double, y <= 0: the degree-12 Taylor polynomial (truncation < 2e-16 relative); 0 below
// -708 (< 1e-307 of the largest weight, 1). Branch-free, and no double -> int64 conversion (AVX2 lacks it).
NEON_RULE double neon_exp_nonpos_f64(double y) {
    double yc = y > -708.0 ? y : -708.0, n, r;
    union { double d; int64_t i; } t;
    NEON_EXP_F64_REDUCE(yc, t.d, n, r);
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    NEON_EXP_TAYLOR_TAIL(p, r);
    union { double d; int64_t i; } s;
    s.i = (t.i - 0x4338000000000000LL + 1023) << 52;                       /* 2^n */
    return y > -708.0 ? p * s.d : 0.0;
}

// exp(y) in double with libm's full accuracy, y <= 0; 0 at and below -745 (below the subnormals).
NEON_RULE double neon_exp_nonpos_libm(double y) { return y > -745.0 ? exp(y) : 0.0; }

// An upper bound of exp(y) on 4 lanes, |y| <= 700 (y is clamped; exp(-700) ~ 1e-304 bounds every
// smaller value): the reduction above and a degree-9 polynomial (relative error < 1e-11), raised
// by 1e-9 so that it is never below the true value (the pruning bound's e_k^ub).
NEON_RULE void neon_exp_upper_v4d(neon_v4d *out, const neon_v4d *in) {
    neon_v4d y = __builtin_elementwise_min(__builtin_elementwise_max(*in, (neon_v4d)(-700.0)), (neon_v4d)700.0);
    neon_v4d t, n, r;
    NEON_EXP_F64_REDUCE(y, t, n, r);
    neon_v4d p = 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    NEON_EXP_TAYLOR_TAIL(p, r);
    neon_v4l bits;
    __builtin_memcpy(&bits, &t, sizeof bits);
    bits = (bits - (neon_v4l)0x4338000000000000LL + 1023) << 52;            /* 2^n */
    neon_v4d scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    *out = p * scale * (1 + 1e-9);
}

// ---- Min-take-most (Eq. 2)

// R_k = e_k / sum_k' e_k' * f_c with the unnormalised weight, computed stably (f_c = min_k h_k):
//   e_k = exp(-beta h_k) / exp(-beta f_c) = exp(beta d_k),  d_k = f_c - h_k <= 0.
// Callers pass d_k as (score_k - score of the runner-up), so the runner-up has e = 1 and the sum
// never underflows; beta = 0 is the uniform redistribution (Prop. 2), beta -> inf min-take-all.
NEON_RULE float neon_mtm_weight_f32(float beta, float d) { return neon_exp_nonpos_f32(beta * d); }
NEON_RULE double neon_mtm_weight_f64(double beta, double d) { return neon_exp_nonpos_libm(beta * d); }

// ---- The midpoint rule (Eq. 4)

// R_i = sum_{k != c} (x_i - m_ik) w_ik R_k / h_k with m_k = (mu_c + mu_k) / 2, w_k = 2 (mu_c - mu_k),
// factored over the GEMM Q = A' [M | M^2] (A'_k = R_k / h_k, A'_c = -sum_{k != c} A'_k):
//   R_i = Q_{d+i} - 2 x_i Q_i  (q2 = Q_{d+i}, q1 = Q_i).
NEON_RULE float neon_midpoint_term_f32(float q2, float x, float q1) { return q2 - 2 * x * q1; }
NEON_RULE double neon_midpoint_term_f64(double q2, double x, double q1) { return q2 - 2 * x * q1; }

// ---- The same over arrays (tests and callers outside the fast paths)

// out[i] = exp(y[i]) for y[i] <= 0, with the 8-lane float exp (a padded vector for the tail).
void neon_exp_nonpos_f32_array(const float *y, long n, float *out);
// out[i] = exp(y[i]) for y[i] <= 0, with the degree-12 double exp.
void neon_exp_nonpos_f64_array(const double *y, long n, double *out);
#endif
