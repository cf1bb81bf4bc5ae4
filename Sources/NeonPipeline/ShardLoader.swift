import Distributed
import Foundation
import NeonCore
import Storage

extension FitRunner {
    /// This rank's rows of the input (whole 256-row tiles, `RowPartition` over all N rows): rank
    /// 0 reads blocks of execution.block_rows rows, checks them for NaN/Inf and scatters each
    /// block's rows to their owners. Memory: the shard (N d / P elements) and on rank 0 one block.
    func loadShard<T: NeonScalar>(_ s: Shared, from input: InputDataset?, as: T.Type) throws -> FitShard<T> {
        let part = RowPartition(rows: s.rows, parts: comm.size, tile: FitShard<T>.tileRows)
        let mine = part.ranges[comm.rank]
        let shard = FitShard<T>(rows: mine.count, features: s.features, firstRow: mine.lowerBound, totalRows: s.rows)
        let d = s.features
        let blockRows = min(s.spec.blockRows, s.rows)
        let buffer: UnsafeMutablePointer<T>? = comm.isRoot ? .allocate(capacity: blockRows * d) : nil
        defer { buffer?.deallocate() }
        let bytesPerRow = d * MemoryLayout<T>.stride
        var start = 0
        while start < s.rows {
            let n = min(blockRows, s.rows - start)
            var err: String?
            if let input = input, let buf = buffer {
                do {
                    try input.read(rows: start, count: n, into: buf)
                    if let bad = T.firstNonFinite(buf, count: n * d) { err = input.nonFiniteMessage(row: start + bad / d) }
                } catch { err = message(error) }
            }
            try check(err)
            let block = start..<(start + n)
            let pieces = part.ranges.map { r in max(r.lowerBound, block.lowerBound)..<max(min(r.upperBound, block.upperBound), max(r.lowerBound, block.lowerBound)) }
            let piece = pieces[comm.rank]
            comm.scatterv(send: buffer.map { UnsafeRawPointer($0) }, counts: pieces.map { $0.count * bytesPerRow },
                          displacements: pieces.map { ($0.lowerBound - start) * bytesPerRow },
                          receive: piece.isEmpty ? nil : UnsafeMutableRawPointer(shard.x + (piece.lowerBound - mine.lowerBound) * d),
                          receiveCount: piece.count * bytesPerRow)
            start += n
        }
        return shard
    }

    /// Rank 0's labels scattered to the rows of each rank's shard.
    func scatterLabels(_ labels: [Int64]?, part: RowPartition) -> [Int64] {
        let mine = part.ranges[comm.rank]
        var out = [Int64](repeating: 0, count: mine.count)
        let w = MemoryLayout<Int64>.stride
        out.withUnsafeMutableBytes { o in
            (labels ?? []).withUnsafeBytes { l in
                comm.scatterv(send: l.baseAddress, counts: part.counts(scaledBy: w), displacements: part.offsets(scaledBy: w),
                              receive: o.baseAddress, receiveCount: o.count)
            }
        }
        return out
    }
}
