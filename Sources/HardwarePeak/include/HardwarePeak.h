// The CPU's own limits, for benchmarks: single-precision FMA throughput and the clock, measured
// by short loops (not read from a table), so that a figure can be put against the hardware and not
// only against a BLAS that may run the wrong kernel.
#ifndef NEON_HARDWARE_PEAK_H
#define NEON_HARDWARE_PEAK_H
#include <stdint.h>

/// The widest FMA this CPU runs: 512 (AVX-512F), 256 (AVX2 + FMA) or 0 (neither).
int neon_peak_vector_bits(void);
/// Runs `iterations` rounds of 12 independent single-precision FMA chains at `bits` (512 or 256)
/// and returns the FLOPs done (2 per lane and FMA).
double neon_peak_fma_loop(int bits, int64_t iterations);
/// Runs `iterations` rounds of 8 dependent integer additions (one cycle each on every x86-64 core
/// of the last decade) and returns the cycles that took: elapsed time / that = the clock.
double neon_peak_add_chain(int64_t iterations);
#endif
