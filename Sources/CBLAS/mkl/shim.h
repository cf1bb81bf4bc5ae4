// Intel oneMKL (the mkl-devel wheel that scripts/setup.sh --blas mkl installs, or a site's module),
// sequential layer: the tiles are spread over cores by Dispatch.
#ifndef NEON_CBLAS_SHIM_H
#define NEON_CBLAS_SHIM_H
#include <mkl.h>
#include <stdio.h>

#include "../neon_gemm.h"
static inline void neon_blas_set_threads(int n) { mkl_set_num_threads(n); }
static inline const char *neon_blas_library(void) { return "MKL"; }
/// The code branch MKL dispatches to on this CPU (conditional numerical reproducibility's "auto").
static inline const char *neon_blas_kernel(void) {
    switch (mkl_cbwr_get_auto_branch()) {
    case MKL_CBWR_AVX10: return "AVX10";
    case MKL_CBWR_AVX512_E1: return "AVX512_E1";
    case MKL_CBWR_AVX512: return "AVX512";
    case MKL_CBWR_AVX2: return "AVX2";
    case MKL_CBWR_SSE4_2: return "SSE4_2";
    case MKL_CBWR_SSE2: return "SSE2";
    case MKL_CBWR_COMPATIBLE: return "COMPATIBLE";
    default: return "not reported";
    }
}
static inline const char *neon_blas_config(void) {
    static char text[256];
    char version[198];
    mkl_get_version_string(version, sizeof version);
    snprintf(text, sizeof text, "%s, branch %s", version, neon_blas_kernel());
    return text;
}
#endif
