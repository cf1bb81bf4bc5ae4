// Thin shim over MPI (Open MPI or MPICH): the predefined handles are macros (over addresses of
// global objects in Open MPI, integer constants cast to int typedefs in MPICH), which Swift cannot
// import; expose them as functions. Their types differ between the two (MPI_Comm, MPI_Datatype,
// MPI_Op are pointers in Open MPI, ints in MPICH): Swift code stores them typed MPI_Comm etc. and
// passes them on, so it compiles against either.
#ifndef NEON_CMPI_SHIM_H
#define NEON_CMPI_SHIM_H
#include <mpi.h>

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
#endif
