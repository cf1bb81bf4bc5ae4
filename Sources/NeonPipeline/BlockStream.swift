import Dispatch
import Foundation
import Distributed
import NeonCore
import Storage

/// The input as a pipeline of row blocks. Rank 0 reads each block (checking it for NaN/Inf) and
/// scatters it over the ranks in whole tiles (`RowPartition`), or, with parallel reads
/// (execution.read), every rank reads its own tiles; every rank computes its shard on
/// worker threads while its main thread (the only one making MPI and HDF5 calls) finishes the
/// previous block (gathers, its rows' writes, progress record) and reads, checks and scatters the
/// next one: on any number of ranks, block b - 1's output and block b + 1's input overlap block
/// b's computation. While it waits for other ranks in a collective, the main thread gives its
/// core to the compute threads (Communicator's sleeping waits; mpi_yield_when_idle, set by
/// ComputeSetup, for the collectives inside HDF5; docs/scaling.md, "What keeps the main thread
/// from holding the others up").
/// Memory per rank is two shards (and on rank 0, with root reads, one block): bounded by the block
/// size, not N.
final class BlockStream<T: NeonScalar> {
    struct Block {
        let index: Int
        /// First global row and row count of the block.
        let start: Int
        let count: Int
        /// This rank's rows of the block (global first row, count; count may be 0).
        let myStart: Int
        let myCount: Int
        let partition: RowPartition
    }

    /// One buffer set for this rank's rows of a block.
    struct Shard: @unchecked Sendable {
        let x: UnsafeMutablePointer<T>
        let relevance: UnsafeMutablePointer<T>
        let assignment: UnsafeMutablePointer<Int64>
        let logit: UnsafeMutablePointer<Double>
        /// Tensor inputs: relevance summed over positions (rows x targets x channels).
        let channels: UnsafeMutablePointer<T>

        init(capacity: Int, features: Int, layout: OutputLayout) {
            x = .allocate(capacity: capacity * features)
            relevance = .allocate(capacity: capacity * layout.relevancePerRow)
            assignment = .allocate(capacity: capacity)
            logit = .allocate(capacity: capacity * (layout.targets ?? 1))
            channels = .allocate(capacity: max(1, capacity * layout.channelsPerRow))
        }

        func deallocate() {
            channels.deallocate()
            x.deallocate()
            relevance.deallocate()
            assignment.deallocate()
            logit.deallocate()
        }
    }

    let comm: Communicator
    let input: InputDataset?
    /// execution.read "parallel": the input opened by every rank through MPI-IO; each rank reads
    /// its own rows of each block (collectively) and checks and standardises them; no scatter.
    let parallelInput: InputDataset?
    /// The input row of the stream's row 0 (a row range, input.rows); blocks count from there.
    let first: Int
    let rows: Int, features: Int, blockRows: Int, tileRows: Int
    let timer: PhaseTimer
    /// The reading rank standardises the rows it reads (models fitted with fit.standardize).
    var standardization: Standardization?
    private let shards: [Shard]
    /// Rows a shard holds (this rank's largest share of a block).
    let shardCapacity: Int
    private let blockBuffer: UnsafeMutablePointer<T>?      // rank 0: one block of input
    private let logitBuffer: UnsafeMutablePointer<Double>?  // rank 0: one block of gathered logits

    init(communicator: Communicator, input: InputDataset?, parallelInput: InputDataset? = nil, first: Int = 0, rows: Int,
         features: Int, blockRows: Int, tileRows: Int, timer: PhaseTimer, layout: OutputLayout? = nil) {
        let layout = layout ?? OutputLayout(sampleShape: [features], targets: nil)
        comm = communicator
        self.parallelInput = parallelInput
        self.input = parallelInput == nil ? input : nil
        self.first = first
        self.rows = rows
        self.features = features
        self.blockRows = min(blockRows, rows)
        self.tileRows = tileRows
        self.timer = timer
        let cap = max(1, RowPartition(rows: self.blockRows, parts: comm.size, tile: tileRows).ranges.map(\.count).max()!)
        shardCapacity = cap
        shards = [Shard(capacity: cap, features: features, layout: layout), Shard(capacity: cap, features: features, layout: layout)]
        blockBuffer = comm.isRoot && parallelInput == nil ? .allocate(capacity: self.blockRows * features) : nil
        logitBuffer = comm.isRoot ? .allocate(capacity: self.blockRows) : nil
    }

    func deallocate() {
        shards.forEach { $0.deallocate() }
        blockBuffer?.deallocate()
        logitBuffer?.deallocate()
    }

    var blockCount: Int { (rows + blockRows - 1) / blockRows }

    func block(_ index: Int) -> Block {
        let start = index * blockRows
        let n = min(blockRows, rows - start)
        let part = RowPartition(rows: n, parts: comm.size, tile: tileRows)
        let mine = part.ranges[comm.rank]
        return Block(index: index, start: start, count: n, myStart: start + mine.lowerBound, myCount: mine.count,
                     partition: part)
    }

    /// Reads a block and checks it; returns the error, if any. Root reads: rank 0 reads the whole
    /// block into its block buffer (the others do nothing). Parallel reads: every rank reads its
    /// own rows into `shard.x` (collective); the lowest rank with a bad row names the block's
    /// first bad row, as rank 0 does (ranks hold consecutive rows in rank order).
    private func read(_ b: Block, into shard: Shard) -> String? {
        let source: InputDataset, buf: UnsafeMutablePointer<T>, start: Int, count: Int
        if let p = parallelInput {
            (source, buf, start, count) = (p, shard.x, b.myStart, b.myCount)
        } else {
            guard let input = input, let block = blockBuffer else { return nil }
            (source, buf, start, count) = (input, block, b.start, b.count)
        }
        do {
            try timer.measure("read") { try source.read(rows: first + start, count: count, into: buf) }
            if let bad = T.firstNonFinite(buf, count: count * features) {
                return source.nonFiniteMessage(row: first + start + bad / features)
            }
            standardization?.apply(buf, rows: count)
        } catch let e as StorageError { return e.message } catch { return "\(error)" }
        return nil
    }

    /// Every rank receives its rows of the block in rank 0's buffer into `shard.x` (collective;
    /// nothing to do with parallel reads).
    private func scatter(_ b: Block, into shard: Shard) {
        guard parallelInput == nil else { return }
        let bytesPerRow = features * MemoryLayout<T>.stride
        timer.measure("scatter") {
            comm.scatterv(send: blockBuffer.map { UnsafeRawPointer($0) }, counts: b.partition.counts(scaledBy: bytesPerRow),
                          displacements: b.partition.offsets(scaledBy: bytesPerRow), receive: shard.x,
                          receiveCount: b.myCount * bytesPerRow)
        }
    }

    enum Outcome { case completed, stopped }

    /// Runs the blocks `order` (indices, ascending) through `compute` (on worker threads: no MPI
    /// or HDF5 calls there) and then `finish` (on this thread, in order; collective calls go
    /// here). `decide` is the collective step before each scatter: it throws on every rank if any
    /// rank saw an error and returns true if the job is to stop (the block in flight is finished
    /// first, so every finished block is complete).
    func pipeline(_ order: [Int], decide: (String?) throws -> Bool, compute: @escaping @Sendable (Block, Shard) -> Void,
                  finish: (Block, Shard) throws -> Void) throws -> Outcome {
        guard let first = order.first else { return .completed }
        if try decide(read(block(first), into: shards[0])) { return .stopped }
        scatter(block(first), into: shards[0])
        let done = DispatchSemaphore(value: 0)
        var running = false
        defer { if running { done.wait() } }       // never leave a worker writing into freed buffers
        let clock = ComputeClock()
        func waitForCompute() {
            timer.measure("wait") { done.wait() }
            timer.add("compute", clock.seconds)
            running = false
        }
        let serial = Self.serialCollectives
        for (j, index) in order.enumerated() {
            let b = block(index), shard = shards[j % 2]
            let next = j + 1 < order.count ? block(order[j + 1]) : nil
            running = true
            let started = DispatchTime.now().uptimeNanoseconds
            let work = ComputeWork(compute)
            DispatchQueue.global().async {
                work.run(b, shard)
                clock.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                done.signal()
            }
            if serial { waitForCompute() }
            // While block j computes: finish block j - 1 (its shard is the one block j + 1 reads
            // into, so it goes first), read, check and scatter block j + 1.
            if j > 0 { try finish(block(order[j - 1]), shards[(j - 1) % 2]) }
            if let next = next {
                let readError = read(next, into: shards[(j + 1) % 2])
                if try decide(readError) {
                    if running { waitForCompute() }
                    try finish(b, shard)
                    return .stopped
                }
                scatter(next, into: shards[(j + 1) % 2])
            }
            if running { waitForCompute() }
            timer.add("block", Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        try finish(block(order[order.count - 1]), shards[(order.count - 1) % 2])
        return .completed
    }

    /// A block's computation time, set by the worker before it signals (read after the wait).
    final class ComputeClock: @unchecked Sendable { var seconds = 0.0 }

    /// NEON_SERIAL_IO=1: each block's computation runs alone, the I/O and collectives between
    /// computations (for measuring what overlap saves: bench-scaling.sh, docs/scaling.md).
    static var serialCollectives: Bool { ProcessInfo.processInfo.environment["NEON_SERIAL_IO"] == "1" }

    /// One block's computation on a worker thread. It lets go of `compute` (and so of what that
    /// captures: this stream, its HDF5 input) before the worker signals: a dispatch block still
    /// holding it could otherwise drop the last reference on the worker after the job ended and
    /// close HDF5 objects there after MPI_Finalize (seen under MPICH on a stop: HDF5 initialised
    /// itself again, MPI_Comm_set_attr on a finalized MPI, and the rank aborted with exit 5).
    private final class ComputeWork: @unchecked Sendable {
        private var body: (@Sendable (Block, Shard) -> Void)?
        init(_ body: @escaping @Sendable (Block, Shard) -> Void) { self.body = body }
        func run(_ block: Block, _ shard: Shard) {
            body?(block, shard)
            body = nil
        }
    }

    /// Gathers every rank's `shard.logit` of a block to rank 0, which gets them in row order.
    func gatherLogits(_ block: Block, from shard: Shard, _ sink: (UnsafePointer<Double>) -> Void) {
        let w = MemoryLayout<Double>.stride
        comm.gatherv(send: shard.logit, sendCount: block.myCount * w, receive: logitBuffer,
                     counts: block.partition.counts(scaledBy: w), displacements: block.partition.offsets(scaledBy: w))
        if let buf = logitBuffer { sink(buf) }
    }
}
