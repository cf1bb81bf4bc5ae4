import Dispatch
import Foundation
import NeonKernels

/// The threads a rank computes with (docs/scaling.md, "Threads per rank"): the CPUs it may run on
/// (its affinity mask: mpirun and srun set it) and no more than its share of the node's CPUs among
/// the ranks on that node. Open MPI binds each of 1-2 ranks to a core and more ranks to a whole
/// socket, and libdispatch's `concurrentPerform` spreads over every online CPU whatever the mask:
/// 32 ranks on a 32-core node ran 32 compute threads each. Which thread runs an index never
/// changes a result: every caller's work items are independent and combined in index order.
public enum ComputeThreads {
    /// CPUs in this process's affinity mask (the online CPUs if it cannot be read), at least 1.
    public static let affinity: Int = {
        let n = Int(neon_affinity_cpu_count())
        return max(1, n > 0 ? n : online)
    }()

    /// The node's online CPUs.
    public static let online: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// Ranks on this node (`configure`).
    nonisolated(unsafe) public private(set) static var ranksOnNode = 1

    /// Threads per rank: min(affinity, online CPUs / ranks on this node), at least 1.
    public static var count: Int { max(1, min(affinity, online / ranksOnNode)) }

    /// Called once at start (ComputeSetup), before any computation: the ranks sharing this node.
    public static func configure(ranksOnThisNode n: Int) { ranksOnNode = max(1, n) }

    /// Runs body(i) once for every i in 0..<n, on up to `count` threads (the caller's among them),
    /// the indices taken in ascending order as threads become free.
    public static func forEach(_ n: Int, _ body: (Int) -> Void) {
        guard n > 0 else { return }
        let width = min(n, count)
        if width == 1 {
            for i in 0..<n { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let next = NextIndex(n)
            DispatchQueue.concurrentPerform(iterations: width) { _ in
                while let i = next.take() { body(i) }
            }
        }
    }

    /// The next index to run, below a limit (lock-protected).
    private final class NextIndex: @unchecked Sendable {
        private var value = 0
        private let limit: Int
        private let lock = NSLock()
        init(_ limit: Int) { self.limit = limit }
        func take() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}
