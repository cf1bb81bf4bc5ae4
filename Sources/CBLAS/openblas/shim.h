// OpenBLAS (Debian's libopenblas-dev or a site's module), through its CBLAS interface.
#ifndef NEON_CBLAS_SHIM_H
#define NEON_CBLAS_SHIM_H
#include <cblas.h>

static inline void neon_sgemm(int transB, int m, int n, int k, float alpha, const float *a, int lda,
                              const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
}
static inline void neon_dgemm(int transB, int m, int n, int k, double alpha, const double *a, int lda,
                              const double *b, int ldb, double beta, double *c, int ldc) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
}
static inline void neon_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline const char *neon_blas_library(void) { return "OpenBLAS"; }
/// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64"
static inline const char *neon_blas_config(void) { return openblas_get_config(); }
/// The kernel set chosen at load time (OPENBLAS_CORETYPE or the library's CPU detection).
static inline const char *neon_blas_kernel(void) { return openblas_get_corename(); }
#endif
