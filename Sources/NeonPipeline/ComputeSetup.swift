import Distributed
import Foundation
import NeonCore
import Storage

/// What every command that computes does first, in this order: check the BLAS kernel against the
/// CPU (and run again with a corrected kernel, before MPI_Init), one BLAS thread per rank thread
/// (Dispatch spreads the tiles), then MPI (yielding while it waits).
package enum ComputeSetup {
    /// What the kernel check did (docs/installing.md).
    nonisolated(unsafe) private(set) static var kernelCheck = BLASKernelCheck.Decision.keep

    /// Returns the world communicator. A correction that failed is a warning on stderr (rank 0);
    /// everything else the check did is said in the summary's `blas:` line.
    package static func start(quiet: Bool) -> Communicator {
        kernelCheck = BLASKernelCheck.correctBeforeFirstUse()
        BLASThreads.useOneThread()
        IdlePolicy.yieldWhenIdle()      // collectives overlap the computation (BlockStream)
        let comm = Communicator.world
        HDF5Library.silenceErrorStack()
        if comm.isRoot, case .warn(let warning) = kernelCheck {
            FileHandle.standardError.write(Data("neon-batch: warning: \(warning)\n".utf8))
        }
        return comm
    }

    /// What the check did, in a few words, or nil.
    static var note: String? {
        switch kernelCheck {
        case .keep, .reexec: return nil
        case .corrected(let s), .kept(let s): return s
        case .warn(let s): return "warning: " + s
        }
    }

    /// The summary line: "OpenBLAS 0.3.21 ... Cooperlake MAX_THREADS=64" (+ "; " what the check did).
    static var blasSummary: String { BLASIdentity.linked.summary + (note.map { "; " + $0 } ?? "") }

    /// Provenance of every output: the BLAS, its kernel, the CPU and what the kernel check did.
    static var provenance: [(String, AttributeValue)] {
        [("blas", .string(BLASIdentity.linked.config)), ("blas_kernel", .string(BLASIdentity.linked.kernel)),
         ("cpu", .string(CPUFeatures.current?.model ?? "unknown"))] + (note.map { [("blas_note", .string($0))] } ?? [])
    }
}
