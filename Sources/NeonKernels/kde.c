// Weights of the KDE conditional (supplement Appendix G, Eq. 44), vectorised.
#include "NeonKernels.h"
#include "NeonRules.h"
#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__clang__)
#define KDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KDE_CLONES
#endif

KDE_CLONES
static void kde_exp(const double *dist, long count, double m, double s, double *out) {
    for (long k = 0; k < count; k++) out[k] = neon_exp_nonpos_f64((dist[k] - m) * s);
}

void neon_kde_cumulative_weights(const double *dist, long count, double m, double s, double *cum) {
    kde_exp(dist, count, m, s, cum);
    double acc = 0.0;
    for (long k = 0; k < count; k++) { acc += cum[k]; cum[k] = acc; }
}
