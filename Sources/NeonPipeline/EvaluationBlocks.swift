import Dispatch
import Distributed
import Foundation
import NeonCore
import Storage

/// Algorithm 1 over one block of samples, on all ranks: rank 0 scatters the block's samples in
/// contiguous ranges, every rank evaluates its share on all cores, and rank 0 gathers the AUCs
/// and clusters in sample order; the curve counts (integers) are summed exactly.
final class EvaluationBlocks {
    let comm: Communicator
    let plan: EvaluationPlan
    /// Values per sample, and Algorithm 1's units per sample (features, or channels).
    let d: Int, units: Int
    /// Rank 0: every sample (S x d, row-major); other ranks: empty.
    let samples: [Double]
    let sampleIndex: [Int]
    let blockSize: Int
    let timer: PhaseTimer

    init(comm: Communicator, plan: EvaluationPlan, features: Int, units: Int, samples: [Double], sampleIndex: [Int],
         blockSize: Int, timer: PhaseTimer) {
        self.comm = comm
        self.plan = plan
        d = features
        self.units = units
        self.samples = samples
        self.sampleIndex = sampleIndex
        self.blockSize = blockSize
        self.timer = timer
    }

    /// The sample positions of block b.
    func range(_ b: Int) -> Range<Int> { (b * blockSize)..<min((b + 1) * blockSize, sampleIndex.count) }

    /// One block's results: complete on rank 0 (auc and cluster empty elsewhere).
    struct BlockResult {
        let count: Int
        /// auc[(n * M + m) * R + r]
        let auc: [Double]
        let cluster: [Int64]
        /// counts[m * units + t], summed over the block's samples and repeats.
        let counts: [Double]
    }

    /// Collective: Algorithm 1 for every sample of block b.
    func evaluate(block b: Int) -> BlockResult {
        let block = range(b)
        let M = plan.methods.count, R = plan.repeats
        let part = RowPartition(rows: block.count, parts: comm.size, tile: 1)
        let mine = part.ranges[comm.rank]
        var local = [Double](repeating: 0, count: mine.count * d)
        let w = MemoryLayout<Double>.stride * d
        timer.measure("scatter") {
            samples.withUnsafeBytes { src in
                local.withUnsafeMutableBytes { dst in
                    comm.scatterv(send: comm.isRoot ? src.baseAddress! + block.lowerBound * w : nil,
                                  counts: part.counts(scaledBy: w), displacements: part.offsets(scaledBy: w),
                                  receive: dst.baseAddress, receiveCount: mine.count * w)
                }
            }
        }
        final class Shared: @unchecked Sendable {
            var auc: [Double], cluster: [Double], counts: [Double]
            init(_ n: Int, _ m: Int, _ r: Int, _ d: Int) {
                auc = .init(repeating: 0, count: n * m * r)
                cluster = .init(repeating: 0, count: n)
                counts = .init(repeating: 0, count: m * d)
            }
        }
        let out = Shared(mine.count, M, R, units)
        let lock = NSLock()
        let (plan, d, u, x) = (plan, d, units, local)
        let first = block.lowerBound + mine.lowerBound, index = sampleIndex
        timer.measure("evaluate") {
            ComputeThreads.forEach(mine.count) { n in
                let r = plan.evaluate(Array(x[(n * d)..<((n + 1) * d)]), sample: index[first + n])
                lock.lock()
                for m in 0..<M {
                    for k in 0..<R { out.auc[(n * M + m) * R + k] = r.auc[m][k] }
                    for t in 0..<u { out.counts[m * u + t] += Double(r.curveCounts[m][t]) }
                }
                out.cluster[n] = Double(r.cluster)
                lock.unlock()
            }
        }
        let auc = gather(out.auc, part: part, width: M * R)
        let cluster = gather(out.cluster, part: part, width: 1).map { Int64($0) }
        let counts = comm.allreduceSum(out.counts)        // integer counts: exact in any order
        return BlockResult(count: block.count, auc: auc, cluster: cluster, counts: counts)
    }

    /// Gathers each rank's `width` values per sample to rank 0, in sample order (others get []).
    private func gather(_ values: [Double], part: RowPartition, width: Int) -> [Double] {
        let b = MemoryLayout<Double>.stride * width
        var out = [Double](repeating: 0, count: comm.isRoot ? part.ranges.last!.upperBound * width : 0)
        values.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                comm.gatherv(send: src.baseAddress, sendCount: values.count * MemoryLayout<Double>.stride,
                             receive: comm.isRoot ? dst.baseAddress : nil, counts: part.counts(scaledBy: b),
                             displacements: part.offsets(scaledBy: b))
            }
        }
        return out
    }

    /// Rank 0: the results of every block so far, this run's and those of the partial output
    /// being resumed.
    struct Results {
        let shape: EvaluationOutputFile.Shape
        var auc: [Double]
        var cluster: [Int64]
        /// blockCounts[(b * M + m) * d + t]
        var blockCounts: [Double]

        init(shape: EvaluationOutputFile.Shape, isRoot: Bool) {
            self.shape = shape
            let n = isRoot ? 1 : 0
            auc = .init(repeating: 0, count: n * shape.samples * shape.methods * shape.repeats)
            cluster = .init(repeating: 0, count: n * shape.samples)
            blockCounts = .init(repeating: 0, count: n * shape.blocks * shape.methods * shape.features)
        }

        /// Takes the done blocks' values from a partial output.
        mutating func restore(_ p: PartialEvaluation, path: String) throws {
            guard p.blockDone.count == shape.blocks, p.auc.count == auc.count, p.assignment.count == cluster.count,
                  p.blockCounts.count == blockCounts.count else {
                throw StorageError("\(path): cannot resume: the partial output's datasets do not have the job's shape (\(shape.samples) samples in \(shape.blocks) blocks)")
            }
            (auc, cluster, blockCounts) = (p.auc, p.assignment, p.blockCounts)
        }

        mutating func store(_ r: BlockResult, block b: Int, range: Range<Int>) {
            let w = shape.methods * shape.repeats, md = shape.methods * shape.features
            auc.replaceSubrange((range.lowerBound * w)..<(range.upperBound * w), with: r.auc)
            cluster.replaceSubrange(range, with: r.cluster)
            blockCounts.replaceSubrange((b * md)..<((b + 1) * md), with: r.counts)
        }

        /// The mean insertion curve (M x d): all blocks' counts over samples x repeats.
        func curve() -> [Double] {
            let md = shape.methods * shape.features
            var sum = [Double](repeating: 0, count: md)
            for b in 0..<shape.blocks { for k in 0..<md { sum[k] += blockCounts[b * md + k] } }
            return sum.map { $0 / Double(shape.samples * shape.repeats) }
        }
    }
}
