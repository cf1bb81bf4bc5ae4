#define _GNU_SOURCE
#include "NeonMemory.h"
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

void neon_prefault_write(void *p, long bytes) {
    static long page = 0;
    if (bytes <= 0) return;
    if (page == 0) page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    // The whole pages around the range: they belong to the same mapping, and populating a page
    // another thread is writing is harmless (no byte is written).
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)p + (uintptr_t)bytes + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
    (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
}
