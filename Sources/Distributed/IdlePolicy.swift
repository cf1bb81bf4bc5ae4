import Foundation

/// How a rank waits in MPI. Call before MPI is initialised (`Communicator.world`).
public enum IdlePolicy {
    /// Open MPI: a rank waiting for others in a collective calls sched_yield between polls
    /// (mpi_yield_when_idle) instead of spinning, so that the compute threads it overlaps keep the
    /// core. Unless the user set it (OMPI_MCA_mpi_yield_when_idle=0 restores spinning). It matters for
    /// the blocking collectives inside HDF5; Communicator's own collectives wait sleeping. Other MPI
    /// libraries ignore the variable.
    public static func yieldWhenIdle() {
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
    }
}
