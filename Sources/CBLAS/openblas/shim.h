// OpenBLAS (Debian's libopenblas-dev or a site's module), through its CBLAS interface.
#ifndef NEON_CBLAS_SHIM_H
#define NEON_CBLAS_SHIM_H
#include <cblas.h>

#include "../neon_gemm.h"
static inline void neon_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline const char *neon_blas_library(void) { return "OpenBLAS"; }
/// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64"
static inline const char *neon_blas_config(void) { return openblas_get_config(); }
/// The kernel set chosen at load time (OPENBLAS_CORETYPE or the library's CPU detection).
static inline const char *neon_blas_kernel(void) { return openblas_get_corename(); }
#endif
