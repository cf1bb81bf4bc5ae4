import Dispatch

/// Kernel k-means with explicit targets (explain.target "all" or a list): the explicit Prop. 5
/// network (`KernelReferenceExplainer`) per sample and target, in float64. O(|C_c| M d) per
/// sample and target: slower than the fast path, which explains the assigned cluster only.
public final class KernelTargetsEngine<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 64 }
    public let model: KernelKMeansModel
    public let rule: KernelRule
    public let targets: [Int?]

    public init(model: KernelKMeansModel, rule: KernelRule, targets: [Int?]) {
        self.model = model
        self.rule = rule
        self.targets = targets
    }

    public var features: Int { model.features }
    public var clusters: Int { model.clusters }
    public var targetCount: Int { targets.count }
    public var logitFlopsPerSample: Double { 3 * Double(model.count * model.features) }
    public var explainFlopsPerSample: Double { Double(targets.count) * 6 * Double(model.count * model.features) }

    private func row(_ x: UnsafePointer<T>, _ r: Int) -> [Double] { (0..<features).map { Double(x[r * features + $0]) } }

    public func logits(_ x: UnsafePointer<T>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                       logit: UnsafeMutablePointer<Double>) {
        nonisolated(unsafe) let (a, l) = (assignment, logit)
        ComputeThreads.forEach(rows) { r in
            let xi = self.row(x, r)
            let d = self.model.softMinDistances(xi)
            let c = self.model.assign(xi)
            a[r] = Int64(c)
            l[r] = d.indices.filter { $0 != c }.map { d[$0] - d[c] }.min()!
        }
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        let t = targets.count, d = features
        nonisolated(unsafe) let (rel, a, l) = (relevance, assignment, logit)
        ComputeThreads.forEach(rows) { r in
            let xi = self.row(x, r)
            a[r] = Int64(self.model.assign(xi))
            for (j, target) in self.targets.enumerated() {
                let e = KernelReferenceExplainer.explain(xi, model: self.model, beta: beta, rule: self.rule, cluster: target)
                l[r * t + j] = e.logit
                for i in 0..<d { rel[(r * t + j) * d + i] = T(e.relevance[i]) }
            }
        }
    }
}
