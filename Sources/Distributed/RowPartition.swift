/// Splits the rows of a block over ranks in whole tiles, so that a row's tile (its position
/// relative to the block start) never depends on the number of ranks: every tile is computed by
/// the same BLAS calls on the same rows whatever P is, and results are identical for any P.
public struct RowPartition: Equatable, Sendable {
    /// Row range of each rank, relative to the block start; contiguous, in rank order.
    public let ranges: [Range<Int>]

    /// `rows` rows split into tiles of `tile` rows (the last one may be short); tiles are dealt
    /// out as evenly as possible over `parts` ranks, the first ranks taking one more when the
    /// tiles do not divide evenly. Ranks may receive no rows.
    public init(rows: Int, parts: Int, tile: Int) {
        precondition(rows >= 0 && parts >= 1 && tile >= 1)
        let tiles = (rows + tile - 1) / tile
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(parts)
        var start = 0
        for p in 0..<parts {
            let t = tiles / parts + (p < tiles % parts ? 1 : 0)
            let end = min(rows, start + t * tile)
            ranges.append(start..<end)
            start = end
        }
        self.ranges = ranges
    }

    public func counts(scaledBy bytesPerRow: Int) -> [Int] { ranges.map { $0.count * bytesPerRow } }
    public func offsets(scaledBy bytesPerRow: Int) -> [Int] { ranges.map { $0.lowerBound * bytesPerRow } }
}
