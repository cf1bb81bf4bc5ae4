import Distributed
import NeonCore
import Storage

/// explain.pruning figures of a run, summed over the ranks: the fraction of (sample, support
/// vector) pooling paths evaluated in each pass and the largest certified bound on the relevance
/// error relative to |f_c| (KernelPruningBound).
struct PruningSummary {
    let tolerance: Double
    let explain: KernelPruningStatistics
    /// The beta pass (beta "auto"), if this run computed it (rows 0 otherwise).
    let logits: KernelPruningStatistics

    /// Collective: every rank's engine figures, reduced.
    init(_ engine: PruningReporting, _ comm: Communicator) {
        tolerance = engine.tolerance
        explain = Self.reduce(engine.statistics(logits: false), comm)
        logits = Self.reduce(engine.statistics(logits: true), comm)
    }

    private static func reduce(_ s: KernelPruningStatistics, _ comm: Communicator) -> KernelPruningStatistics {
        let sums = comm.allreduceSum([s.rows, s.paths, s.forwardPaths, s.relevancePaths, s.denseRows].map(Double.init))
        var out = KernelPruningStatistics()
        (out.rows, out.paths, out.forwardPaths, out.relevancePaths, out.denseRows) =
            (Int(sums[0]), Int(sums[1]), Int(sums[2]), Int(sums[3]), Int(sums[4]))
        out.maxBound = comm.allreduceMax(s.maxBound)
        return out
    }

    /// Root attributes of the output (written when it is complete).
    var attributes: [(String, AttributeValue)] {
        var a: [(String, AttributeValue)] = [
            ("pruning_kept_fraction", .double(explain.forwardFraction)),
            ("pruning_kept_fraction_relevance", .double(explain.relevanceFraction)),
            ("pruning_error_bound", .double(explain.maxBound)),
            ("pruning_dense_rows", .int(explain.denseRows)),
        ]
        if logits.rows > 0 { a.append(("pruning_kept_fraction_beta_pass", .double(logits.forwardFraction))) }
        return a
    }

    /// The summary line.
    var line: String {
        let beta = logits.rows > 0 ? String(format: ", beta pass %.2f%%", 100 * logits.forwardFraction) : ""
        return String(format: "  pruning:      tolerance %g: %.2f%% of the (sample, support vector) paths evaluated (relevance %.2f%%%@); certified max |R - R_unpruned|_1 / |f_c| %.2g",
                      tolerance, 100 * explain.forwardFraction, 100 * explain.relevanceFraction, beta, explain.maxBound)
    }
}
