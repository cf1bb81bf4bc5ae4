// The CPUs this process may run on (docs/scaling.md, "Threads per rank").
#ifndef NEON_THREADS_H
#define NEON_THREADS_H

// CPUs in the calling thread's affinity mask (sched_getaffinity): 1 for a rank that mpirun or srun
// bound to one core; 0 if it cannot be read.
int neon_affinity_cpu_count(void);

#endif
