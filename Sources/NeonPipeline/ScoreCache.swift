import Foundation
import NeonCore

/// The beta pass's scores kept for the explain pass (ExplainerEngine.scoresPerRow: for k-means
/// GEMM 1 of Eq. 1, 2dK of the 8dK FLOPs per sample with beta "auto"), within execution.cache_mb
/// per rank: this rank's rows of whole blocks, from the first block on, as long as they fit. The
/// blocks that do not fit are explained from scratch; the results are the same bits either way.
final class ScoreCache<T>: @unchecked Sendable {
    private let offsets: [Int: Int]         // block index -> first row in `storage`
    private let width: Int
    private let storage: UnsafeMutablePointer<T>?
    /// Rows kept (this rank) and bytes used.
    let rows: Int
    var bytes: Int { rows * width * MemoryLayout<T>.stride }

    /// `blocks`: (index, this rank's rows) in pass order.
    init(blocks: [(index: Int, rows: Int)], width: Int, budgetBytes: Int) {
        self.width = width
        var offsets: [Int: Int] = [:], used = 0
        let capacity = width > 0 ? budgetBytes / (width * MemoryLayout<T>.stride) : 0
        for b in blocks {
            guard used + b.rows <= capacity else { break }
            offsets[b.index] = used
            used += b.rows
        }
        self.offsets = offsets
        rows = used
        storage = used > 0 ? .allocate(capacity: used * width) : nil
    }

    deinit { storage?.deallocate() }

    /// Where block `index`'s scores live, or nil if the block is not kept.
    func scores(forBlock index: Int) -> UnsafeMutablePointer<T>? {
        guard let s = storage, let o = offsets[index] else { return nil }
        return s + o * width
    }
}
