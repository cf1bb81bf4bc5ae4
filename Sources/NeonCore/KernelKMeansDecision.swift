import Foundation
import NeonSettings

/// Kernel k-means as a `ClusterDecision`: f_c = min_{k != c} h_k with h_k = D_k - D_c and
/// D_k = LME^-gamma_{j in C_k} |x - u_j|^2 (Eq. 7, Appendix D). The soft min-pooling is smooth:
/// grad D_k = 2 (x - ubar_k), ubar_k = sum_{C_k} b_j u_j with b the soft-min weights (footnote 1),
/// so grad h_k = 2 (ubar_c - ubar_k), taken at the minimising competitor k.
public struct KernelKMeansDecision: ClusterDecision, @unchecked Sendable {
    public let model: KernelKMeansModel
    public let rule: KernelRule
    private let engine: KernelKMeansFastPath<Double>

    public init(model: KernelKMeansModel, rule: KernelRule = .paper) {
        self.model = model
        self.rule = rule
        engine = KernelKMeansFastPath<Double>(model: model, rule: rule)
    }

    public var features: Int { model.features }
    public var clusters: Int { model.clusters }
    public var missingFeatures: MissingFeatures { .kdeConditional }

    public func assign(_ x: [Double]) -> Int { model.assign(x) }

    private func competitor(_ D: [Double], cluster c: Int) -> Int {
        var best = -1
        for k in 0..<model.clusters where k != c && (best < 0 || D[k] < D[best]) { best = k }
        return best
    }

    public func logit(_ x: [Double], cluster c: Int) -> Double {
        let D = model.softMinDistances(x)
        return D[competitor(D, cluster: c)] - D[c]
    }

    /// ubar_k: the soft-min weighted mean of cluster k's support vectors at x.
    public func softCentroid(_ x: [Double], cluster k: Int, distances d: [Double]) -> [Double] {
        let members = model.members[k]
        let b = LogMeanExp.weights(members.map { d[$0] }, g: -model.gamma)
        var u = [Double](repeating: 0, count: model.features)
        for (w, j) in zip(b, members) {
            for f in 0..<model.features { u[f] += w * model.supportVectors[j * model.features + f] }
        }
        return u
    }

    public func logitGradient(_ x: [Double], cluster c: Int) -> [Double] {
        let d = model.squaredDistances(x)
        let D = model.members.map { LogMeanExp.value($0.map { d[$0] }, g: -model.gamma) }
        let k = competitor(D, cluster: c)
        return zip(softCentroid(x, cluster: c, distances: d), softCentroid(x, cluster: k, distances: d)).map { 2 * ($0 - $1) }
    }

    /// NEON of the assigned cluster (the fast path on this one row: its result depends on the row only).
    public func neon(_ x: [Double], cluster c: Int, beta: Double) -> [Double] {
        precondition(c == model.assign(x), "kernel k-means NEON explains the assigned cluster")
        var r = [Double](repeating: 0, count: model.features)
        var a: Int64 = 0, f = 0.0
        engine.explain(x, rows: 1, beta: beta, relevance: &r, assignment: &a, logit: &f)
        return r
    }

    public func nearestCentroidAnalysis(_ x: [Double], cluster c: Int) -> [Double]? { nil }
}
