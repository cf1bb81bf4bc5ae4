import Distributed
import Foundation
import NeonCore
import Storage

/// Conservation (sum_i R_i = f_c, paper Sec. II-B) over the rows a rank explained.
struct ConservationStats {
    var maxAbsError = 0.0
    var logitSum = 0.0
    var positive = 0
    var count = 0

    /// Adds a block's rows; returns their max |sum_i R_i - f_c|.
    @discardableResult
    mutating func add<T: NeonScalar>(relevance: UnsafePointer<T>, logit: UnsafePointer<Double>, rows: Int,
                                     features: Int) -> Double {
        var sums = [Double](repeating: 0, count: rows)
        T.rowSums(relevance, rows: rows, features: features, into: &sums)
        var blockMax = 0.0
        for r in 0..<rows {
            blockMax = max(blockMax, abs(sums[r] - logit[r]))
            logitSum += logit[r]
            if logit[r] > 0 { positive += 1 }
        }
        count += rows
        maxAbsError = max(maxAbsError, blockMax)
        return blockMax
    }

    func reduced(_ comm: Communicator) -> ConservationStats {
        var out = ConservationStats()
        out.maxAbsError = comm.allreduceMax(maxAbsError)
        out.logitSum = comm.allreduceSum(logitSum)
        out.positive = Int(comm.allreduceSum(Double(positive)))
        out.count = Int(comm.allreduceSum(Double(count)))
        return out
    }
}

/// The few lines rank 0 prints after a run.
struct RunSummary {
    let job: JobSpec
    let model: NeonModel
    let rows: Int, features: Int, ranks: Int
    let beta: Double
    let betaMode: String
    let elapsed: Double
    let stats: ConservationStats
    let peakResidentBytes: Int
    let phases: String
    /// Each phase on the rank where it took longest (printed with more than one rank).
    var slowestPhases: String = ""
    /// explain.pruning: PruningSummary.line.
    var pruning: String? = nil

    func print() {
        let meanF = stats.logitSum / Double(max(stats.count, 1))
        let lines = [
            String(format: "neon-batch: explained %d samples x %d features (%@) on %d rank%@ in %.2f s (%.0f samples/s)",
                   rows, features, model.summary, ranks, ranks == 1 ? "" : "s", elapsed, Double(rows) / max(elapsed, 1e-9)),
            "  output:       \(job.outputFile) (status complete)",
            betaMode == "unused" ? "  beta:         unused (explain.method \(job.method.rawValue))" : String(format: "  beta:         %.6g (%@)", beta, betaMode == "auto" ? "auto: 1 / mean f_c, Eq. 3" : "fixed"),
            String(format: "  logits:       mean f_c %.6g; %d of %d samples strictly inside their cluster (f_c > 0)",
                   meanF, stats.positive, stats.count),
            job.method != .neon
                ? "  conservation: does not apply (explain.method \(job.method.rawValue) is a baseline, not NEON: its scores need not add up to f_c)"
                : String(format: "  conservation: max |sum_i R_i - f_c| = %.3g (%.2g of the mean f_c)",
                         stats.maxAbsError, stats.maxAbsError / max(abs(meanF), 1e-300)),
            String(format: "  memory:       peak resident %.0f MB per rank (largest rank)", Double(peakResidentBytes) / 1e6),
            "  time:         \(phases) (rank 0)",
        ] + (ranks > 1 ? ["  slowest rank: \(slowestPhases) (each phase's largest over the ranks)"] : []) + [
            "  blas:         \(ComputeSetup.blasSummary)",
            "  threads:      \(ComputeSetup.threadsSummary) (rank 0)",
        ] + (pruning.map { [$0] } ?? [])
        Swift.print(lines.joined(separator: "\n"))
    }
}
