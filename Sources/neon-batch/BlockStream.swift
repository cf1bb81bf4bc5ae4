import Dispatch
import Distributed
import NeonCore
import Storage

/// The input as a pipeline of row blocks. Rank 0 reads each block (checking it for NaN/Inf) and
/// scatters it over the ranks in whole tiles (`RowPartition`); every rank computes its shard on
/// worker threads while its main thread (the only one making MPI and HDF5 calls) reads ahead.
/// With one rank the main thread also writes the previous block while the next is computed.
/// With several ranks the collective steps (checks, scatter, gathers, collective writes) run
/// between computations instead: MPI busy-polls while it waits for other ranks, and would take
/// the core from the compute threads.
/// Memory per rank is two shards (and on rank 0 one block): bounded by the block size, not N.
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
    /// The input row of the stream's row 0 (a row range, input.rows); blocks count from there.
    let first: Int
    let rows: Int, features: Int, blockRows: Int, tileRows: Int
    let timer: PhaseTimer
    /// Rank 0 standardises each block it reads (models fitted with fit.standardize).
    var standardization: Standardization?
    private let shards: [Shard]
    /// Rows a shard holds (this rank's largest share of a block).
    let shardCapacity: Int
    private let blockBuffer: UnsafeMutablePointer<T>?      // rank 0: one block of input
    private let logitBuffer: UnsafeMutablePointer<Double>?  // rank 0: one block of gathered logits

    init(communicator: Communicator, input: InputDataset?, first: Int = 0, rows: Int, features: Int, blockRows: Int,
         tileRows: Int, timer: PhaseTimer, layout: OutputLayout? = nil) {
        let layout = layout ?? OutputLayout(sampleShape: [features], targets: nil)
        comm = communicator
        self.input = input
        self.first = first
        self.rows = rows
        self.features = features
        self.blockRows = min(blockRows, rows)
        self.tileRows = tileRows
        self.timer = timer
        let cap = max(1, RowPartition(rows: self.blockRows, parts: comm.size, tile: tileRows).ranges.map(\.count).max()!)
        shardCapacity = cap
        shards = [Shard(capacity: cap, features: features, layout: layout), Shard(capacity: cap, features: features, layout: layout)]
        blockBuffer = comm.isRoot ? .allocate(capacity: self.blockRows * features) : nil
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

    /// Rank 0 reads a block into its block buffer and checks it; returns the error, if any.
    private func read(_ b: Block) -> String? {
        guard let input = input, let buf = blockBuffer else { return nil }
        do {
            try timer.measure("read") { try input.read(rows: first + b.start, count: b.count, into: buf) }
            if let bad = T.firstNonFinite(buf, count: b.count * features) {
                return input.nonFiniteMessage(row: first + b.start + bad / features)
            }
            standardization?.apply(buf, rows: b.count)
        } catch let e as StorageError { return e.message } catch { return "\(error)" }
        return nil
    }

    /// Every rank receives its rows of the block in rank 0's buffer into `shard.x` (collective).
    private func scatter(_ b: Block, into shard: Shard) {
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
        let overlapCollectives = comm.size == 1
        if try decide(read(block(first))) { return .stopped }
        scatter(block(first), into: shards[0])
        let done = DispatchSemaphore(value: 0)
        var running = false
        defer { if running { done.wait() } }       // never leave a worker writing into freed buffers
        func waitForCompute() {
            timer.measure("wait") { done.wait() }
            running = false
        }
        for (j, index) in order.enumerated() {
            let b = block(index), shard = shards[j % 2]
            let next = j + 1 < order.count ? block(order[j + 1]) : nil
            running = true
            let work = ComputeWork(compute)
            DispatchQueue.global().async {
                work.run(b, shard)
                done.signal()
            }
            if overlapCollectives && j > 0 { try finish(block(order[j - 1]), shards[(j - 1) % 2]) }
            let readError = next.flatMap { read($0) }           // overlaps the computation
            if overlapCollectives {
                if let next = next {
                    if try decide(readError) {
                        waitForCompute()
                        try finish(b, shard)
                        return .stopped
                    }
                    scatter(next, into: shards[(j + 1) % 2])
                }
                waitForCompute()
            } else {
                waitForCompute()
                try finish(b, shard)
                if let next = next {
                    if try decide(readError) { return .stopped }
                    scatter(next, into: shards[(j + 1) % 2])
                }
            }
        }
        if overlapCollectives { try finish(block(order[order.count - 1]), shards[(order.count - 1) % 2]) }
        return .completed
    }

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
