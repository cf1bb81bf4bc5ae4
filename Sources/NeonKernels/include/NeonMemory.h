// Page-table population ahead of a large first write (the kept beta-pass scores, docs/running.md).
#ifndef NEON_MEMORY_H
#define NEON_MEMORY_H

// Maps every page of [p, p + bytes) writable in one system call (madvise MADV_POPULATE_WRITE,
// Linux 5.14+) instead of one page fault per 4 KiB on first touch; the contents are not
// changed. A no-op where the kernel does not offer it: the pages then fault in as usual.
void neon_prefault_write(void *p, long bytes);

#endif
