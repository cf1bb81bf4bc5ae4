// The shared rules (NeonRules.h) over arrays: the vectorised exps as callable functions.
#include "NeonRules.h"

#if defined(__x86_64__) && defined(__clang__)
#define RULES_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RULES_CLONES
#endif

RULES_CLONES
void neon_exp_nonpos_f32_array(const float *y, long n, float *out) {
    for (long i = 0; i < n; i += 8) {
        long w = n - i < 8 ? n - i : 8;
        neon_v8f v = (neon_v8f)0.0f, e;
        for (long j = 0; j < w; j++) v[j] = y[i + j];
        neon_exp_nonpos_v8f(&e, &v);
        for (long j = 0; j < w; j++) out[i + j] = e[j];
    }
}

RULES_CLONES
void neon_exp_nonpos_f64_array(const double *y, long n, double *out) {
    for (long i = 0; i < n; i++) out[i] = neon_exp_nonpos_f64(y[i]);
}
