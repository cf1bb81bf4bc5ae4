// Row-major GEMM in the CBLAS calling convention, the same for every BLAS shim (included by
// <name>/shim.h after that library's CBLAS declarations): C = alpha A B(^T) + beta C.
#ifndef NEON_CBLAS_GEMM_H
#define NEON_CBLAS_GEMM_H
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
#endif
