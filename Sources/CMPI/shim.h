// Thin shim over MPI (Open MPI or MPICH): the predefined handles are macros (over addresses of
// global objects in Open MPI, integer constants cast to int typedefs in MPICH), which Swift cannot
// import; expose them as functions. Their types differ between the two (MPI_Comm, MPI_Datatype,
// MPI_Op are pointers in Open MPI, ints in MPICH): Swift code stores them typed MPI_Comm etc. and
// passes them on, so it compiles against either.
#ifndef NEON_CMPI_SHIM_H
#define NEON_CMPI_SHIM_H
#include <mpi.h>
#include <sched.h>
#include <time.h>
#ifndef NEON_MPI_POLL_US
#define NEON_MPI_POLL_US 2000
#endif

static inline MPI_Comm neon_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm neon_mpi_comm_self(void) { return MPI_COMM_SELF; }
static inline MPI_Datatype neon_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype neon_mpi_char(void) { return MPI_CHAR; }
static inline MPI_Datatype neon_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype neon_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype neon_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype neon_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op neon_mpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op neon_mpi_op_min(void) { return MPI_MIN; }
static inline MPI_Op neon_mpi_op_max(void) { return MPI_MAX; }
static inline void *neon_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *neon_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int neon_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int neon_mpi_success(void) { return MPI_SUCCESS; }
static inline MPI_Errhandler neon_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
// Ranks of `comm` on the caller's node (MPI_Comm_split_type MPI_COMM_TYPE_SHARED), 1 on failure;
// collective. In C because the new communicator's out-parameter differs between the MPIs.
static inline int neon_mpi_ranks_on_node(MPI_Comm comm) {
    MPI_Comm node;
    int rank = 0, n = 1;
    MPI_Comm_rank(comm, &rank);
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) != MPI_SUCCESS) return 1;
    MPI_Comm_size(node, &n);
    MPI_Comm_free(&node);
    return n > 0 ? n : 1;
}

// Waiting that gives the core away (docs/scaling.md, "Waiting"): the nonblocking form of a
// collective, then MPI_Test in a loop, polling for the first 200 tests (a few microseconds: short
// waits stay fast) and then sleeping 20 us, after 2000 tests 100 us, between tests. A rank's main
// thread shares its core with the compute threads; blocking collectives wait by polling (Open
// MPI's mpi_yield_when_idle only adds sched_yield, which under Linux's CFS hands the core back to
// the poller almost at once: ~1.8 s of a core per rank in a 6 s job). In C because the request's
// type (a pointer in Open MPI, an int in MPICH) differs between the MPIs.
static inline int neon_mpi_wait_sleeping(MPI_Request *req) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || done) return rc;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long us = (t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000;
        if (us < NEON_MPI_POLL_US) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}

static inline int neon_mpi_scatterv_sleeping(const void *send, const int *counts, const int *displs, void *recv,
                                             int recvCount, int root, MPI_Comm comm) {
    MPI_Request r;
    int rc = MPI_Iscatterv(send, counts, displs, MPI_BYTE, recv, recvCount, MPI_BYTE, root, comm, &r);
    return rc == MPI_SUCCESS ? neon_mpi_wait_sleeping(&r) : rc;
}

static inline int neon_mpi_gatherv_sleeping(const void *send, int sendCount, void *recv, const int *counts,
                                            const int *displs, int root, MPI_Comm comm) {
    MPI_Request r;
    int rc = MPI_Igatherv(send, sendCount, MPI_BYTE, recv, counts, displs, MPI_BYTE, root, comm, &r);
    return rc == MPI_SUCCESS ? neon_mpi_wait_sleeping(&r) : rc;
}

// In place; only for operations whose result does not depend on the order (min, max, integer sums).
static inline int neon_mpi_allreduce_sleeping(void *buf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
    MPI_Request r;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, count, type, op, comm, &r);
    return rc == MPI_SUCCESS ? neon_mpi_wait_sleeping(&r) : rc;
}

static inline int neon_mpi_bcast_sleeping(void *buf, int count, int root, MPI_Comm comm) {
    MPI_Request r;
    int rc = MPI_Ibcast(buf, count, MPI_BYTE, root, comm, &r);
    return rc == MPI_SUCCESS ? neon_mpi_wait_sleeping(&r) : rc;
}
#endif
