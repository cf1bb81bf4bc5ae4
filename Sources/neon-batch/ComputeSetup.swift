import Distributed
import Foundation
import NeonCore
import Storage

/// What every command that computes does first, in this order: check the BLAS kernel against the
/// CPU (and run again with a corrected kernel, before MPI_Init), one BLAS thread per rank thread
/// (Dispatch spreads the tiles), then MPI (yielding while it waits).
enum ComputeSetup {
    /// The kernel check's note (nil: the kernel fits the CPU).
    nonisolated(unsafe) private(set) static var blasNote: String?

    /// Returns the world communicator; rank 0 prints the kernel check's note on stderr (a
    /// correction only unless quiet, a warning always).
    static func start(quiet: Bool) -> Communicator {
        blasNote = BLASKernelCheck.correctBeforeFirstUse()
        BLASThreads.useOneThread()
        IdlePolicy.yieldWhenIdle()      // collectives overlap the computation (BlockStream)
        let comm = Communicator.world
        HDF5Library.silenceErrorStack()
        if comm.isRoot, let note = blasNote, !quiet || note.hasPrefix("warning:") {
            FileHandle.standardError.write(Data("neon-batch: \(note.hasPrefix("warning:") ? "" : "note: ")\(note)\n".utf8))
        }
        return comm
    }

    /// The summary line: "OpenBLAS 0.3.21 ... Cooperlake MAX_THREADS=64" (+ ", corrected from X").
    static var blasSummary: String {
        BLASIdentity.linked.summary + (blasNote.map { $0.hasPrefix("warning:") ? " (slow kernel: see the warning)" : " (kernel corrected)" } ?? "")
    }

    /// Provenance of every output: the BLAS, its kernel and the CPU.
    static var provenance: [(String, AttributeValue)] {
        [("blas", .string(BLASIdentity.linked.config)), ("blas_kernel", .string(BLASIdentity.linked.kernel)),
         ("cpu", .string(CPUFeatures.current?.model ?? "unknown"))]
    }
}
