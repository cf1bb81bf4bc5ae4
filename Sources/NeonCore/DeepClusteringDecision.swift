/// Deep clustering (Sec. IV; soft k-means of Appendix E-A when there is no Psi) as a
/// `ClusterDecision`: a = Psi(x), the head's logits z_k (ClusterHead), h_k = z_c - z_k + b0 and
///   f_c = min_{k != c} h_k (relative, Lemma 3 / Prop. 6)  or  LME^-1_{k != c} h_k (absolute, Prop. 7).
/// Gradient: grad_a h_k = w_k = s (mu_c - mu_k) (ClusterHead; an affine head's bias b_c - b_k only
/// moves h_k, it enters through z), so grad_a f_c = w_k* at the
/// minimising competitor k* (relative; lowest index on ties, as for k-means) or sum_k p_k w_k
/// with p_k the soft-min weights of the smooth LME^-1 (absolute); grad_x f_c by backpropagation
/// through Psi (PsiNetwork+Gradient.swift). NEON is the `run` pipeline's own engine on one row in
/// float64 (DeepEngine: the head's midpoint rule, then LRP through Psi; HeadEngine without Psi).
///
/// Missing features (Algorithm 1, PDA) follow the input's shape: a (C, H, W) tensor holds
/// activations of a network, so a missing channel is set to zero (Sec. VII-A) and the units are the
/// C channels (`featureGroups`, as the paper's "256 feature maps ... explanations in R^256"); a
/// vector holds tabular data, imputed by KDE conditional sampling (Appendix G) feature by
/// feature, as for k-means.
public struct DeepClusteringDecision: ClusterDecision, Sendable {
    public let head: ClusterHead
    /// nil: the head sees x itself (soft k-means).
    public let psi: PsiNetwork<Double>?
    public let input: TensorShape
    public let missingFeatures: MissingFeatures
    public let featureGroups: FeatureGroups
    /// NEON of target c for one row (the pipeline engine with targets [c]).
    private let neonOf: [@Sendable (UnsafePointer<Double>, Double, UnsafeMutablePointer<Double>) -> Void]
    /// Assignment and f_c of the assigned cluster for many rows, by the pipeline engine (beta "auto").
    private let pipelineLogits: @Sendable (UnsafePointer<Double>, Int, UnsafeMutablePointer<Int64>, UnsafeMutablePointer<Double>) -> Void

    /// `input`: the sample shape when there is no Psi (default: a vector of the head's features).
    public init(head: ClusterHead, psi: PsiNetwork<Double>?, input: TensorShape? = nil) {
        let shape = psi?.shapes[0] ?? input ?? .vector(head.features)
        precondition(psi.map { $0.outputCount == head.features } ?? (shape.count == head.features))
        self.head = head
        self.psi = psi
        self.input = shape
        switch shape {
        case let .image(c, h, w): (missingFeatures, featureGroups) = (.zero, FeatureGroups(count: c, size: h * w))
        case let .vector(d): (missingFeatures, featureGroups) = (.kdeConditional, .values(d))
        }
        let d = shape.count
        if let psi = psi {
            let engines = (0..<head.clusters).map { DeepEngine<Double>(psi: psi, head: head, targets: [$0]) }
            neonOf = engines.map { e in { x, beta, r in Self.explainOne(e, x, beta, r) } }
            let all = DeepEngine<Double>(psi: psi, head: head)
            pipelineLogits = { x, n, a, f in all.logits(x, rows: n, assignment: a, logit: f) }
        } else {
            let engines = (0..<head.clusters).map { HeadEngine<Double>(head: head, targets: [$0]) }
            neonOf = engines.map { e in { x, beta, r in Self.explainOne(e, x, beta, r) } }
            let all = HeadEngine<Double>(head: head)
            pipelineLogits = { x, n, a, f in all.logits(x, rows: n, assignment: a, logit: f) }
        }
        precondition(d == features)
    }

    private static func explainOne<E: ExplainerEngine>(_ e: E, _ x: UnsafePointer<Double>, _ beta: Double,
                                                     _ r: UnsafeMutablePointer<Double>) where E.Scalar == Double {
        var a: Int64 = 0, f = 0.0
        e.explain(x, rows: 1, beta: beta, relevance: r, assignment: &a, logit: &f)
    }

    public var features: Int { psi?.inputCount ?? head.features }
    public var clusters: Int { head.clusters }

    /// a = Psi(x) (x itself without Psi), with the workspace holding every layer's output.
    private func activations(_ x: [Double]) -> (a: [Double], ws: PsiNetwork<Double>.Workspace?) {
        guard let psi = psi else { return (x, nil) }
        let ws = psi.makeWorkspace()
        let p = x.withUnsafeBufferPointer { psi.forward($0.baseAddress!, ws) }
        return (Array(UnsafeBufferPointer(start: p, count: psi.outputCount)), ws)
    }

    /// f_c from the logits z, and the weight of each competitor's h_k in grad f_c (0 at c).
    private func pooled(_ z: [Double], cluster c: Int) -> (f: Double, weights: [Double]) {
        let competitors = (0..<head.clusters).filter { $0 != c }
        let h = competitors.map { z[c] - z[$0] + head.offset }
        var weights = [Double](repeating: 0, count: head.clusters)
        switch head.mode {
        case .relative:
            var best = 0
            for j in 1..<h.count where h[j] < h[best] { best = j }
            weights[competitors[best]] = 1
            return (h[best], weights)
        case .absolute:
            for (j, p) in LogMeanExp.weights(h, g: -1).enumerated() { weights[competitors[j]] = p }
            return (LogMeanExp.value(h, g: -1), weights)
        }
    }

    /// argmax_k z_k of a = Psi(x), the lowest index on ties (the head's own assignment).
    public func assign(_ x: [Double]) -> Int { head.assign(activations(x).a) }

    public func logit(_ x: [Double], cluster c: Int) -> Double {
        pooled(head.logitValues(activations(x).a), cluster: c).f
    }

    public func logitGradient(_ x: [Double], cluster c: Int) -> [Double] {
        let (a, ws) = activations(x)
        let p = pooled(head.logitValues(a), cluster: c).weights
        let D = head.features, s = head.scale
        var g = [Double](repeating: 0, count: D)
        for k in 0..<head.clusters where p[k] != 0 {
            for i in 0..<D { g[i] += p[k] * s * (head.centroids[c * D + i] - head.centroids[k * D + i]) }
        }
        guard let psi = psi, let ws = ws else { return g }
        var out = [Double](repeating: 0, count: psi.inputCount)
        g.withUnsafeBufferPointer { gp in out.withUnsafeMutableBufferPointer { psi.gradient(gp.baseAddress!, ws, into: $0.baseAddress!) } }
        return out
    }

    /// NEON of f_c (Props. 6-7), exactly as `run` computes it for this row in float64.
    public func neon(_ x: [Double], cluster c: Int, beta: Double) -> [Double] {
        var r = [Double](repeating: 0, count: features)
        x.withUnsafeBufferPointer { xp in r.withUnsafeMutableBufferPointer { neonOf[c](xp.baseAddress!, beta, $0.baseAddress!) } }
        return r
    }

    public func nearestCentroidAnalysis(_ x: [Double], cluster c: Int) -> [Double]? { nil }

    /// sum of f_c (assigned c) over `rows` rows by the pipeline engine, in row order: what the
    /// beta "auto" pass of `run` (Eq. 3) sums.
    public func logitSum(_ x: [Double], rows: Int) -> Double {
        precondition(x.count == rows * features)
        var a = [Int64](repeating: 0, count: rows), f = [Double](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { xp in
            a.withUnsafeMutableBufferPointer { ap in
                f.withUnsafeMutableBufferPointer { pipelineLogits(xp.baseAddress!, rows, ap.baseAddress!, $0.baseAddress!) }
            }
        }
        return f.reduce(0, +)
    }
}
