// The O(rows x d) loop of a Lloyd iteration (model fitting), over one chunk of rows.
#ifndef NEON_FIT_H
#define NEON_FIT_H
#include <stdint.h>

// For every row n with c = assign[n]: sums[c, :] += x[n, :] (double), counts[c] += 1,
// dist2[n] = |x[n] - centroids[c]|^2 (double, exact for the assigned centroid), and
// acc[0] += dist2[n] (the inertia), acc[1] += 1 if old != NULL and old[n] != c.
void neon_lloyd_accumulate_f32(const float *x, long rows, long d, const int64_t *assign, const double *centroids,
                               double *sums, double *counts, double *dist2, const int64_t *old, double *acc);
void neon_lloyd_accumulate_f64(const double *x, long rows, long d, const int64_t *assign, const double *centroids,
                               double *sums, double *counts, double *dist2, const int64_t *old, double *acc);
#endif
