import Dispatch
import Foundation

/// One rank's rows of the data set, held in memory for fitting: rows [firstRow, firstRow + rows)
/// of totalRows, row-major, `features` columns, in the input's precision (N d 4 / P bytes per rank
/// for float32 input). Shards start at multiples of `tileRows` (`RowPartition`), so each tile of
/// 256 rows is computed by the same BLAS calls whatever the number of ranks.
///
/// Before fitting, the rows are moved to the fit space: x' = (x - mean) / scale, with the global
/// mean (translation invariance keeps the float32 GEMMs accurate) and scale = the standard
/// deviation per feature when standardizing (Appendix H), 1 otherwise.
public final class FitShard<T: NeonScalar>: @unchecked Sendable {
    public static var tileRows: Int { 256 }
    /// Per-rank accumulators: the rank's tiles are cut into contiguous chunks (up to 16, fewer
    /// when the accumulators would exceed 256 MB), each summed in row order into its own float64
    /// buffer, the chunks then summed in order. The partial sums depend only on the rows of the
    /// shard and the accumulator width, never on the threads; many chunks keep both cores busy
    /// when one of them is also used by another process.
    public static func chunkCount(width: Int) -> Int { max(1, min(16, (256 << 20) / max(1, 8 * width))) }

    public let x: UnsafeMutablePointer<T>
    public let rows: Int
    public let features: Int
    public let firstRow: Int
    public let totalRows: Int

    public init(rows: Int, features: Int, firstRow: Int, totalRows: Int) {
        self.rows = rows
        self.features = features
        self.firstRow = firstRow
        self.totalRows = totalRows
        x = .allocate(capacity: max(1, rows * features))
    }

    deinit { x.deallocate() }

    /// Row ranges of the chunks for accumulators of `width` values (whole tiles; some may be empty).
    public func chunks(width: Int) -> [Range<Int>] {
        let tiles = (rows + Self.tileRows - 1) / Self.tileRows
        let c = Self.chunkCount(width: width)
        var out: [Range<Int>] = []
        var t0 = 0
        for i in 0..<c {
            let t1 = t0 + tiles / c + (i < tiles % c ? 1 : 0)
            out.append(min(rows, t0 * Self.tileRows)..<min(rows, t1 * Self.tileRows))
            t0 = t1
        }
        return out
    }

    /// Runs body(chunk index, rows) for every chunk, on worker threads, and returns the results in chunk order.
    public func perChunk<R>(width: Int = 1, _ body: (Int, Range<Int>) -> R) -> [R] {
        let ranges = chunks(width: width)
        return withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            nonisolated(unsafe) var results = [R?](repeating: nil, count: ranges.count)
            let lock = NSLock()
            ComputeThreads.forEach(ranges.count) { i in
                let r = body(i, ranges[i])
                lock.lock()
                results[i] = r
                lock.unlock()
            }
            return results.map { $0! }
        }
    }

    /// Sums `width` float64 values per chunk (body adds into its zeroed buffer), in chunk order.
    public func sumChunks(width: Int, _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let parts = perChunk(width: width) { _, range -> [Double] in
            var acc = [Double](repeating: 0, count: width)
            acc.withUnsafeMutableBufferPointer { body(range, $0.baseAddress!) }
            return acc
        }
        var total = [Double](repeating: 0, count: width)
        for p in parts { for i in 0..<width { total[i] += p[i] } }
        return total
    }

    /// Global per-feature mean and (population) variance, in two passes (float64).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func moments(_ comm: FitCollectives) -> (mean: [Double], variance: [Double]) {
        let d = features
        var sum = sumChunks(width: d) { range, acc in
            for n in range { let row = x + n * d; for i in 0..<d { acc[i] += Double(row[i]) } }
        }
        comm.sum(&sum)
        let mean = sum.map { $0 / Double(totalRows) }
        var sq = mean.withUnsafeBufferPointer { m in
            sumChunks(width: d) { range, acc in
                for n in range {
                    let row = x + n * d
                    for i in 0..<d { let v = Double(row[i]) - m[i]; acc[i] += v * v }
                }
            }
        }
        comm.sum(&sq)
        return (mean, sq.map { $0 / Double(totalRows) })
    }

    /// x <- (x - origin) / scale, row by row (in float64, rounded to T).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func transform(origin: [Double], scale: [Double]) {
        let d = features
        let inv = scale.map { 1 / $0 }
        _ = perChunk { _, range in
            origin.withUnsafeBufferPointer { o in
                inv.withUnsafeBufferPointer { s in
                    for n in range {
                        let row = x + n * d
                        for i in 0..<d { row[i] = T((Double(row[i]) - o[i]) * s[i]) }
                    }
                }
            }
        }
    }

    /// The rows with global indices `indices` (sorted) gathered to rank 0 in that order (float64,
    /// row-major); [] on other ranks. The same rows for any number of ranks.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func gatherRows(_ indices: [Int], _ comm: FitCollectives) -> [Double] {
        var local: [Double] = []
        let range = firstRow..<(firstRow + rows)
        for g in indices where range.contains(g) {
            let row = x + (g - firstRow) * features
            for i in 0..<features { local.append(Double(row[i])) }
        }
        return comm.gatherToRoot(local)
    }

    /// The row with global index `g` on every rank (its owner contributes it to a sum of zeros).
    public func broadcastRows(_ indices: [Int], _ comm: FitCollectives) -> [Double] {
        var out = [Double](repeating: 0, count: indices.count * features)
        for (j, g) in indices.enumerated() where g >= firstRow && g < firstRow + rows {
            let row = x + (g - firstRow) * features
            for i in 0..<features { out[j * features + i] = Double(row[i]) }
        }
        comm.sum(&out)
        return out
    }
}

/// A uniform random subset of row indices, from the seed only (Floyd's algorithm), sorted.
public enum RandomSample {
    public static func indices(total: Int, count: Int, seed: UInt64) -> [Int] {
        if count >= total { return Array(0..<total) }
        var rng = SplitMix64(seed: seed ^ 0x5A4D_504C_4553_0001)
        var chosen = Set<Int>(minimumCapacity: count)
        for j in (total - count)..<total {
            let t = Int.random(in: 0...j, using: &rng)
            chosen.insert(chosen.contains(t) ? j : t)
        }
        return chosen.sorted()
    }
}

/// Derived seeds for independent streams (restart r, iteration t, ...) from one user seed.
public func mixSeed(_ seed: UInt64, _ a: Int, _ b: Int = 0) -> UInt64 {
    var g = SplitMix64(seed: seed &+ UInt64(truncatingIfNeeded: a) &* 0x9E37_79B9_7F4A_7C15
                       &+ UInt64(truncatingIfNeeded: b) &* 0xC2B2_AE3D_27D4_EB4F)
    return g.next()
}
