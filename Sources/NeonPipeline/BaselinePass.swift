import Distributed
import Foundation
import NeonCore
import Storage

/// explain.method other than "neon": the same pipeline and output with a baseline explainer
/// (Sec. VII) computed sample by sample; pdacs first builds the KDE of Appendix G (reference
/// rows broadcast from rank 0, sigma from Eq. 42 or evaluate.sigma).
extension JobRunner {
    func executeBaseline(_ method: ExplanationMethod, _ s: Shared) throws {
        let decision = s.model.decision(job: s.job, sampleShape: s.sampleShape)
        var settings = ExplainerSettings(beta: 0, steps: s.job.steps, samples: s.job.samples)
        if method == .pdacs { settings.density = try timer.measure("kde") { try referenceDensity(s) } }
        switch s.element {
        case .float32: try execute(BaselineEngine<Float>(method: method, model: decision, settings: settings, seed: s.job.seed), s)
        default: try execute(BaselineEngine<Double>(method: method, model: decision, settings: settings, seed: s.job.seed), s)
        }
    }

    /// The KDE reference set (evaluate.reference_rows rows of the whole input drawn with
    /// evaluate.seed, or all rows, whatever input.rows or --part select),
    /// read by rank 0 one block at a time and broadcast, and its bandwidth.
    func referenceDensity(_ s: Shared) throws -> KernelDensity {
        let index = EvaluationRunner.sampleRows(count: s.inputRows, wanted: s.job.evaluate.referenceRows, seed: s.job.evaluate.seed,
                                                purpose: "reference")
        var reference: [Double] = []
        var err: String?
        if let input = s.input {
            do { reference = try input.readRows(index, blockRows: s.job.blockRows) } catch { err = message(error) }
        }
        try check(err)
        reference = comm.broadcast(reference)
        if let sigma = s.job.evaluate.sigma {
            return KernelDensity(reference: reference, rows: index.count, features: s.features, sigma: sigma)
        }
        let fp = BandwidthFixedPoint(reference: reference, rows: index.count, features: s.features)
        let r = fp.solve(blocks: (0..<fp.blockCount).filter { $0 % comm.size == comm.rank }, tolerance: 1e-6,
                         maxIterations: 300) { self.comm.allreduceSum($0) }
        err = EvaluationRunner.bandwidthProblem(r, input: s.job.inputFile, dataset: s.job.inputDataset)
        try check(comm.isRoot ? err : nil)
        return KernelDensity(reference: reference, rows: index.count, features: s.features, sigma: r.sigma)
    }

    func baselineRules(_ s: Shared) -> String {
        switch s.job.method {
        case .random: return "random: R_i ~ U(0, 1) from the sample's stream (explain.seed, row)"
        case .x2: return "x2: R_i = x_i^2"
        case .sensitivity: return "sensitivity: R_i = (d f_c / d x_i)^2, analytic gradient"
        case .ig: return "integrated gradients of f_c from 0, \(s.job.steps) steps"
        case .pda0: return "prediction difference, x_i set to 0"
        case .pdacs: return "prediction difference, x_i imputed by KDE conditional sampling (Appendix G), \(s.job.samples) samples"
        case .nca: return "nearest centroid analysis: (x_i - mu_ki)^2 - (x_i - mu_ci)^2"
        default: return s.job.method.rawValue
        }
    }

    /// Provenance of a baseline run (nothing for NEON: its outputs stay as they were).
    func baselineProvenance(_ s: Shared) -> [(String, AttributeValue)] {
        s.job.method == .neon ? [] : [("method", .string(s.job.method.rawValue))]
    }
}

extension JobSetup {
    /// What a baseline run's numbers depend on besides the NEON key.
    var baselineResumeKey: [(String, String)] {
        var key = [("explain.method", job.method.rawValue)]
        switch job.method {
        case .ig: key.append(("explain.steps", "\(job.steps)"))
        case .random: key.append(("explain.seed", "\(job.seed)"))
        case .pdacs:
            key += [("explain.samples", "\(job.samples)"), ("explain.seed", "\(job.seed)"),
                    ("evaluate.reference_rows", job.evaluate.referenceRows.map { "\($0)" } ?? "all"),
                    ("evaluate.seed", "\(job.evaluate.seed)"),
                    ("evaluate.sigma", job.evaluate.sigma.map { "\($0)" } ?? "loo")]
        default: break
        }
        return key
    }
}

extension InputDataset {
    /// The rows `index` (increasing), float64, read one block at a time and checked for NaN/Inf.
    func readRows(_ index: [Int], blockRows: Int) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(index.count * features)
        let step = max(1, min(blockRows, rows))
        var k = 0
        var start = 0
        while start < rows && k < index.count {
            let n = min(step, rows - start)
            if index[k] < start + n {
                var buf = [Double](repeating: 0, count: n * features)
                if element == .float32 {
                    var f = [Float](repeating: 0, count: n * features)
                    try f.withUnsafeMutableBytes { try read(rows: start, count: n, into: $0.baseAddress!) }
                    buf = f.map(Double.init)
                } else {
                    try buf.withUnsafeMutableBytes { try read(rows: start, count: n, into: $0.baseAddress!) }
                }
                while k < index.count && index[k] < start + n {
                    let row = buf[((index[k] - start) * features)..<((index[k] - start + 1) * features)]
                    if row.contains(where: { !$0.isFinite }) { throw StorageError(nonFiniteMessage(row: index[k])) }
                    out += row
                    k += 1
                }
            }
            start += n
        }
        return out
    }
}
