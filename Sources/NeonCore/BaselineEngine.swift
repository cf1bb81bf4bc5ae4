import Dispatch

/// Any explanation method of Sec. VII behind the pipeline's `ExplainerEngine` interface, sample by
/// sample in float64 (the baselines are not GEMM-shaped): every method writes relevance through
/// the same output as NEON. Random methods draw from the sample's stream keyed by its global row.
public final class BaselineEngine<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 256 }

    public let method: ExplanationMethod
    public let model: ClusterDecision
    public let settings: ExplainerSettings
    public let seed: UInt64

    public init(method: ExplanationMethod, model: ClusterDecision, settings: ExplainerSettings, seed: UInt64) {
        self.method = method
        self.model = model
        self.settings = settings
        self.seed = seed
    }

    public var features: Int { model.features }
    public var clusters: Int { model.clusters }
    public var logitFlopsPerSample: Double { 2 * Double(features) * Double(clusters) }
    public var explainFlopsPerSample: Double { 2 * Double(features) * Double(clusters) * Double(features) }

    private func row(_ x: UnsafePointer<T>, _ r: Int) -> [Double] {
        (0..<features).map { Double(x[r * features + $0]) }
    }

    public func logits(_ x: UnsafePointer<T>, rows: Int,
                       assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        nonisolated(unsafe) let (a, f) = (assignment, logit)
        ComputeThreads.forEach(rows) { r in
            let z = self.row(x, r)
            let c = self.model.assign(z)
            a[r] = Int64(c)
            f[r] = self.model.logit(z, cluster: c)
        }
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        explain(x, rows: rows, beta: beta, relevance: relevance, assignment: assignment, logit: logit, firstRow: 0)
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>, firstRow: Int) {
        nonisolated(unsafe) let (rel, a, f) = (relevance, assignment, logit)
        var s = settings
        s.beta = beta
        let settings = s
        ComputeThreads.forEach(rows) { r in
            let z = self.row(x, r)
            let c = self.model.assign(z)
            var rng = EvaluationPlan.explainerStream(seed: self.seed, sample: firstRow + r, repeat: 0, method: self.method)
            let R = Explainer.relevance(self.method, x: z, cluster: c, model: self.model, settings: settings, rng: &rng)
            for i in 0..<self.features { rel[r * self.features + i] = T(R[i]) }
            a[r] = Int64(c)
            f[r] = self.model.logit(z, cluster: c)
        }
    }
}
