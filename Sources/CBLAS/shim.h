// OpenBLAS through its CBLAS interface (plus openblas_set_num_threads).
#ifndef NEON_CBLAS_SHIM_H
#define NEON_CBLAS_SHIM_H
#include <cblas.h>
#endif
