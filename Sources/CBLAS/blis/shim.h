// BLIS (Debian's libblis-serial-dev, or a site's build), through its CBLAS compatibility layer.
// BLIS's own headers define _POSIX_C_SOURCE, which makes the C library's structs differ from those of
// Swift's Glibc module (a module error), so the few functions used are declared here as BLIS 0.9
// defines them: LP64 BLAS integers (f77_int = int32_t), dim_t = int64_t, arch_t an enum.
#ifndef NEON_CBLAS_SHIM_H
#define NEON_CBLAS_SHIM_H
#include <stdint.h>
#include <stdio.h>

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };
void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int32_t m,
                 int32_t n, int32_t k, float alpha, const float *a, int32_t lda, const float *b, int32_t ldb,
                 float beta, float *c, int32_t ldc);
void cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int32_t m,
                 int32_t n, int32_t k, double alpha, const double *a, int32_t lda, const double *b, int32_t ldb,
                 double beta, double *c, int32_t ldc);
void bli_thread_set_num_threads(int64_t n);
char *bli_info_get_version_str(void);
int bli_arch_query_id(void);
char *bli_arch_string(int id);

#include "../neon_gemm.h"
static inline void neon_blas_set_threads(int n) { bli_thread_set_num_threads(n); }
static inline const char *neon_blas_library(void) { return "BLIS"; }
/// The sub-configuration chosen at run time ("zen3", "skx", "haswell", "generic", ...).
static inline const char *neon_blas_kernel(void) { return bli_arch_string(bli_arch_query_id()); }
static inline const char *neon_blas_config(void) {
    static char text[96];
    snprintf(text, sizeof text, "BLIS %s (sub-configuration %s)", bli_info_get_version_str(), neon_blas_kernel());
    return text;
}
#endif
