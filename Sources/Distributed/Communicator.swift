import CMPI
import Foundation

/// A typed handle on MPI_COMM_WORLD: rank, size and the few collectives neon-batch needs.
/// Every collective must be called by all ranks in the same order. Broadcasts, scatters, gathers
/// and the order-free reductions (min, max) wait sleeping (neon_mpi_wait_sleeping in CMPI's
/// shim): the calling thread gives its core to the compute threads while other ranks catch up.
/// Sums of doubles stay blocking MPI_Allreduce (its order is the one the results were checked with).
public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The raw MPI communicator, for libraries that take one (parallel HDF5's MPI-IO driver): an
    /// OpaquePointer with Open MPI, an Int32 with MPICH; pass it on, never inspect it.
    public let handle: MPI_Comm

    private static let lock = NSLock()
    nonisolated(unsafe) private static var worldInstance: Communicator?

    /// MPI_COMM_WORLD, initialising MPI on first use (once per process; MPI cannot be
    /// re-initialised after MPI_Finalize). Run outside mpirun, this is a singleton world of size 1.
    public static var world: Communicator {
        lock.lock()
        defer { lock.unlock() }
        if let w = worldInstance { return w }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, neon_mpi_thread_funneled(), &provided)
        }
        // MPI_Comm is a pointer in Open MPI (imported as an implicitly unwrapped OpaquePointer) and
        // an Int32 in MPICH: the annotation makes the same line compile against both.
        let comm: MPI_Comm = neon_mpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        let w = Communicator(rank: Int(r), size: Int(s), handle: comm)
        worldInstance = w
        return w
    }

    /// MPI_COMM_SELF: this process alone (rank 0 of 1), e.g. for a file one rank writes through
    /// the MPI-IO driver. Call after `world` (MPI must be initialised).
    public static var selfOnly: Communicator { Communicator(rank: 0, size: 1, handle: neon_mpi_comm_self()) }

    private init(rank: Int, size: Int, handle: MPI_Comm) {
        self.rank = rank
        self.size = size
        self.handle = handle
    }

    public var isRoot: Bool { rank == 0 }

    /// How many ranks of this communicator run on this rank's node (share its memory: MPI_Comm_split_type
    /// MPI_COMM_TYPE_SHARED). Collective: every rank calls it.
    public func ranksOnThisNode() -> Int { Int(neon_mpi_ranks_on_node(handle)) }

    /// MPI_Finalize (once, at the end of the process).
    public static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    public func barrier() { MPI_Barrier(handle) }

    /// Ends every rank of the job at once with `code` (for failures the other ranks cannot
    /// learn of through a collective, e.g. one rank stuck or dying in a library call).
    public func abort(code: Int32) -> Never {
        MPI_Abort(handle, code)
        exit(code)
    }

    // MARK: broadcast

    /// Broadcasts `count` bytes at `buffer` from `root`.
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes count: Int, root: Int = 0) {
        var offset = 0
        while offset < count {                       // MPI counts are Int32
            let n = min(count - offset, Int(Int32.max))
            neon_mpi_bcast_sleeping(buffer + offset, Int32(n), Int32(root), handle)
            offset += n
        }
    }

    /// Broadcasts a plain value (a trivially copyable struct or number) from `root`.
    public func broadcast<T: BitwiseCopyable>(_ value: T, root: Int = 0) -> T {
        var v = value
        withUnsafeMutableBytes(of: &v) { broadcast($0.baseAddress!, bytes: $0.count, root: root) }
        return v
    }

    /// Broadcasts an array from `root`; other ranks' argument is ignored.
    public func broadcast<T: BitwiseCopyable>(_ array: [T], root: Int = 0) -> [T] {
        let count = broadcast(array.count, root: root)
        var out = rank == root ? array : [T](unsafeUninitializedCapacity: count) { _, n in n = count }
        out.withUnsafeMutableBytes { buf in
            if let base = buf.baseAddress, buf.count > 0 { broadcast(base, bytes: buf.count, root: root) }
        }
        return out
    }

    public func broadcast(_ string: String, root: Int = 0) -> String {
        let bytes = broadcast(Array(string.utf8), root: root)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: scatter / gather of byte ranges

    /// MPI_Scatterv in bytes: rank r receives `counts[r]` bytes taken at `displacements[r]` of
    /// root's `send`. `counts` and `displacements` matter on root only; `receive` must hold
    /// `counts[rank]` bytes. Each count must fit in Int32.
    public func scatterv(send: UnsafeRawPointer?, counts: [Int], displacements: [Int],
                         receive: UnsafeMutableRawPointer?, receiveCount: Int, root: Int = 0) {
        precondition(counts.count == size && displacements.count == size)
        let c = counts.map { Int32(clamping: $0) }
        let d = displacements.map { Int32(clamping: $0) }
        // A zero-byte receive still needs a valid address for some MPI builds.
        var dummy: UInt8 = 0
        withUnsafeMutablePointer(to: &dummy) { dp in
            let recv = receive ?? UnsafeMutableRawPointer(dp)
            _ = neon_mpi_scatterv_sleeping(send, c, d, recv, Int32(receiveCount), Int32(root), handle)
        }
    }

    /// MPI_Gatherv in bytes, the inverse of `scatterv`.
    public func gatherv(send: UnsafeRawPointer?, sendCount: Int, receive: UnsafeMutableRawPointer?,
                        counts: [Int], displacements: [Int], root: Int = 0) {
        precondition(counts.count == size && displacements.count == size)
        let c = counts.map { Int32(clamping: $0) }
        let d = displacements.map { Int32(clamping: $0) }
        var dummy: UInt8 = 0
        withUnsafeMutablePointer(to: &dummy) { dp in
            let snd = send ?? UnsafeRawPointer(dp)
            _ = neon_mpi_gatherv_sleeping(snd, Int32(sendCount), receive, c, d, Int32(root), handle)
        }
    }

    // MARK: reductions

    public func allreduceSum(_ value: Double) -> Double {
        var v = value
        MPI_Allreduce(neon_mpi_in_place(), &v, 1, neon_mpi_double(), neon_mpi_op_sum(), handle)
        return v
    }

    public func allreduceMax(_ value: Double) -> Double {
        var v = value
        neon_mpi_allreduce_sleeping(&v, 1, neon_mpi_double(), neon_mpi_op_max(), handle)
        return v
    }

    /// Element-wise sum over ranks (every rank passes an array of the same length).
    public func allreduceSum(_ values: [Double]) -> [Double] {
        var v = values
        v.withUnsafeMutableBufferPointer { b in
            if let base = b.baseAddress, b.count > 0 {
                MPI_Allreduce(neon_mpi_in_place(), base, Int32(b.count), neon_mpi_double(), neon_mpi_op_sum(), handle)
            }
        }
        return v
    }

    public func allreduceMin(_ value: Int) -> Int {
        var v = Int64(value)
        neon_mpi_allreduce_sleeping(&v, 1, neon_mpi_int64(), neon_mpi_op_min(), handle)
        return Int(v)
    }

    public func allreduceMax(_ value: Int) -> Int {
        var v = Int64(value)
        neon_mpi_allreduce_sleeping(&v, 1, neon_mpi_int64(), neon_mpi_op_max(), handle)
        return Int(v)
    }
}
