import Distributed
import NeonCore
import Storage

/// The input as a stream of row blocks: rank 0 reads each block (checking it for NaN/Inf) and
/// scatters it over the ranks in whole tiles (`RowPartition`); every rank then works on its
/// shard. Memory per rank is bounded by the block size, not by the number of rows.
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

    /// This rank's buffers for one block's rows.
    struct Shard {
        let x: UnsafeMutablePointer<T>
        let relevance: UnsafeMutablePointer<T>
        let assignment: UnsafeMutablePointer<Int64>
        let logit: UnsafeMutablePointer<Double>
    }

    let comm: Communicator
    let input: InputDataset?
    let rows: Int, features: Int, blockRows: Int, tileRows: Int
    let shard: Shard
    private let blockBuffer: UnsafeMutablePointer<T>?      // rank 0: one block of input
    private let logitBuffer: UnsafeMutablePointer<Double>?  // rank 0: one block of gathered logits

    init(communicator: Communicator, input: InputDataset?, rows: Int, features: Int, blockRows: Int, tileRows: Int) {
        comm = communicator
        self.input = input
        self.rows = rows
        self.features = features
        self.blockRows = min(blockRows, rows)
        self.tileRows = tileRows
        let cap = max(1, RowPartition(rows: self.blockRows, parts: comm.size, tile: tileRows).ranges.map(\.count).max()!)
        shard = Shard(x: .allocate(capacity: cap * features), relevance: .allocate(capacity: cap * features),
                      assignment: .allocate(capacity: cap), logit: .allocate(capacity: cap))
        blockBuffer = comm.isRoot ? .allocate(capacity: self.blockRows * features) : nil
        logitBuffer = comm.isRoot ? .allocate(capacity: self.blockRows) : nil
    }

    func deallocate() {
        shard.x.deallocate()
        shard.relevance.deallocate()
        shard.assignment.deallocate()
        shard.logit.deallocate()
        blockBuffer?.deallocate()
        logitBuffer?.deallocate()
    }

    /// Runs `body` for every block, in order, with this rank's rows in `shard.x`.
    /// `check` is the collective error check (see JobRunner.check).
    func forEach(check: (String?) throws -> Void, _ body: (Block) throws -> Void) throws {
        let bytesPerRow = features * MemoryLayout<T>.stride
        var start = 0, index = 0
        while start < rows {
            let n = min(blockRows, rows - start)
            let part = RowPartition(rows: n, parts: comm.size, tile: tileRows)
            var err: String?
            if let input = input, let buf = blockBuffer {
                do {
                    try input.read(rows: start, count: n, into: buf)
                    if let bad = T.firstNonFinite(buf, count: n * features) {
                        err = input.nonFiniteMessage(row: start + bad / features)
                    }
                } catch let e as StorageError { err = e.message }
            }
            try check(err)
            let mine = part.ranges[comm.rank]
            comm.scatterv(send: blockBuffer.map { UnsafeRawPointer($0) }, counts: part.counts(scaledBy: bytesPerRow),
                          displacements: part.offsets(scaledBy: bytesPerRow), receive: shard.x,
                          receiveCount: mine.count * bytesPerRow)
            try body(Block(index: index, start: start, count: n, myStart: start + mine.lowerBound,
                           myCount: mine.count, partition: part))
            start += n
            index += 1
        }
    }

    /// Gathers every rank's `shard.logit` of a block to rank 0, which gets them in row order.
    func gatherLogits(_ block: Block, _ sink: (UnsafePointer<Double>) -> Void) {
        let w = MemoryLayout<Double>.stride
        comm.gatherv(send: shard.logit, sendCount: block.myCount * w, receive: logitBuffer,
                     counts: block.partition.counts(scaledBy: w), displacements: block.partition.offsets(scaledBy: w))
        if let buf = logitBuffer { sink(buf) }
    }
}
