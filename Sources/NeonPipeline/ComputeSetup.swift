import Distributed
import Foundation
import NeonCore
import Storage

/// What every command that computes does first, in this order: check the BLAS kernel against the
/// CPU (and run again with a corrected kernel, before MPI_Init), one BLAS thread per rank thread
/// (the rank's compute threads spread the tiles: ComputeThreads, its share of the node's CPUs),
/// then MPI (yielding while it waits).
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
        ComputeThreads.configure(ranksOnThisNode: comm.ranksOnThisNode())
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

    /// "1 per rank: 1 CPU in its affinity mask, 2 CPUs / 2 ranks on this node" (ComputeThreads).
    static var threadsSummary: String {
        let (a, o, r) = (ComputeThreads.affinity, ComputeThreads.online, ComputeThreads.ranksOnNode)
        return "\(ComputeThreads.count) per rank: \(a) CPU\(a == 1 ? "" : "s") in its affinity mask, \(o) CPU\(o == 1 ? "" : "s") / \(r) rank\(r == 1 ? "" : "s") on this node"
    }

    /// The summary line: "OpenBLAS 0.3.21 ... Cooperlake MAX_THREADS=64" (+ "; " what the check did).
    static var blasSummary: String { BLASIdentity.linked.summary + (note.map { "; " + $0 } ?? "") }

    /// Provenance of every output: the BLAS, its kernel, the CPU and what the kernel check did.
    static var provenance: [(String, AttributeValue)] {
        [("blas", .string(BLASIdentity.linked.config)), ("blas_kernel", .string(BLASIdentity.linked.kernel)),
         ("cpu", .string(CPUFeatures.current?.model ?? "unknown"))] + (note.map { [("blas_note", .string($0))] } ?? [])
    }
}
