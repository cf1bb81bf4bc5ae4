import Foundation
import NeonCore

/// P ranks in one process, one thread each, for testing distributed fits: `run` splits rows over
/// the ranks in whole tiles (as RowPartition does for the pipeline) and gives each rank a
/// FitCollectives whose `sum` adds the ranks' values in rank order on every rank (as
/// MPIFitCollectives' ordered sum: gathered, added in rank order, broadcast), `broadcastFromRoot`
/// copies rank 0's values and `gatherToRoot` concatenates in rank order on rank 0.
final class SimulatedRanks: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    private var slots: [[Double]]

    init(size: Int) {
        self.size = size
        slots = [[Double]](repeating: [], count: size)
    }

    /// Blocks until every rank has arrived.
    private func barrier() {
        condition.lock()
        let g = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == g { condition.wait() }
        }
        condition.unlock()
    }

    /// Every rank posts its values; combine reads all of them (rank order) on each rank.
    fileprivate func exchange<R>(_ rank: Int, _ values: [Double], _ combine: ([[Double]]) -> R) -> R {
        condition.lock(); slots[rank] = values; condition.unlock()
        barrier()
        condition.lock(); let all = slots; condition.unlock()
        let r = combine(all)
        barrier()
        return r
    }

    final class Rank: FitCollectives {
        let world: SimulatedRanks
        let rank: Int
        var size: Int { world.size }
        init(_ world: SimulatedRanks, _ rank: Int) { self.world = world; self.rank = rank }

        func sum(_ values: inout [Double]) {
            values = world.exchange(rank, values) { all in
                (0..<all[0].count).map { i in
                    var s = 0.0
                    for r in 0..<all.count { s += all[r][i] }
                    return s
                }
            }
        }
        func broadcastFromRoot(_ values: inout [Double]) { values = world.exchange(rank, values) { $0[0] } }
        func gatherToRoot(_ local: [Double]) -> [Double] {
            let r = rank
            return world.exchange(rank, local) { all in r == 0 ? all.flatMap { $0 } : [] }
        }
    }

    /// Row ranges of P ranks over N rows, in whole tiles (the first ranks take one more tile).
    static func partition(rows: Int, parts: Int, tile: Int) -> [Range<Int>] {
        let tiles = (rows + tile - 1) / tile
        var out: [Range<Int>] = [], start = 0
        for p in 0..<parts {
            let end = min(rows, start + (tiles / parts + (p < tiles % parts ? 1 : 0)) * tile)
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// Runs body on P threads (one per rank), each with its shard of x (row-major, d columns) and
    /// of `pairs` when given; returns the ranks' results in rank order.
    static func run<T: NeonScalar, R>(ranks P: Int, x: [Double], pairs: [Double]? = nil, features d: Int, as: T.Type,
                                      _ body: @escaping (FitShard<T>, FitShard<T>?, FitCollectives) -> R) -> [R] {
        let N = x.count / d
        let world = SimulatedRanks(size: P)
        let ranges = partition(rows: N, parts: P, tile: FitShard<T>.tileRows)
        func shard(_ v: [Double], _ r: Range<Int>) -> FitShard<T> {
            let s = FitShard<T>(rows: r.count, features: d, firstRow: r.lowerBound, totalRows: N)
            for i in 0..<(r.count * d) { s.x[i] = T(v[r.lowerBound * d + i]) }
            return s
        }
        nonisolated(unsafe) var results = [R?](repeating: nil, count: P)
        let lock = NSLock()
        let done = DispatchGroup()
        for p in 0..<P {
            let s = shard(x, ranges[p]), q = pairs.map { shard($0, ranges[p]) }
            done.enter()
            let thread = Thread {
                let r = body(s, q, Rank(world, p))
                lock.lock(); results[p] = r; lock.unlock()
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.map { $0! }
    }
}
