import NeonSettings

/// The explanation methods compared in Sec. VII (Table I): NEON and the baselines (the names job
/// files use, NeonSettings' ExplanationMethodName).
public typealias ExplanationMethod = ExplanationMethodName

extension ExplanationMethod {
    /// Whether relevance depends on random numbers (a per-sample stream).
    public var isRandom: Bool { self == .random || self == .pdacs }

    /// The column heading used in tables (Table I style).
    public var heading: String {
        switch self {
        case .neon: return "NEON"
        case .random: return "random"
        case .x2: return "x2"
        case .sensitivity: return "(grad f_c)^2"
        case .ig: return "IG"
        case .pda0: return "PDA0"
        case .pdacs: return "PDAcs"
        case .nca: return "NCA"
        }
    }
}

/// The settings an explanation method may need.
public struct ExplainerSettings: Sendable {
    /// NEON's min-take-most stiffness (Eq. 2).
    public var beta: Double
    /// Integrated gradients: Riemann steps.
    public var steps: Int
    /// PDAcs: imputed samples averaged per feature.
    public var samples: Int
    /// PDAcs: the KDE used for imputation.
    public var density: KernelDensity?

    public static let defaultSteps = 10
    public static let defaultSamples = 10

    public init(beta: Double, steps: Int = defaultSteps, samples: Int = defaultSamples, density: KernelDensity? = nil) {
        self.beta = beta
        self.steps = steps
        self.samples = samples
        self.density = density
    }
}

public enum Explainer {
    /// Relevance R (one score per feature) of x's assignment to cluster c by `method`.
    /// `rng` is the sample's own stream (used by random and pdacs only).
    public static func relevance(_ method: ExplanationMethod, x: [Double], cluster c: Int, model: ClusterDecision,
                                 settings: ExplainerSettings, rng: inout SplitMix64) -> [Double] {
        let d = x.count
        switch method {
        case .neon:
            return model.neon(x, cluster: c, beta: settings.beta)
        case .random:
            return (0..<d).map { _ in Double.random(in: 0..<1, using: &rng) }
        case .x2:
            return x.map { $0 * $0 }
        case .sensitivity:
            return model.logitGradient(x, cluster: c).map { $0 * $0 }
        case .ig:
            // R_i = x_i * 1/m sum_{s=1..m} d f_c / d x_i (s/m x)   (right Riemann sum, baseline 0)
            let m = settings.steps
            var sum = [Double](repeating: 0, count: d)
            for s in 1...m {
                let t = Double(s) / Double(m)
                let g = model.logitGradient(x.map { $0 * t }, cluster: c)
                for i in 0..<d { sum[i] += g[i] }
            }
            return (0..<d).map { x[$0] * sum[$0] / Double(m) }
        case .pda0:
            let f = model.logit(x, cluster: c)
            return (0..<d).map { i in
                var y = x
                y[i] = 0
                return f - model.logit(y, cluster: c)
            }
        case .pdacs:
            guard let kde = settings.density else { preconditionFailure("pdacs needs a KDE") }
            return predictionDifference(x, cluster: c, model: model, density: kde, samples: settings.samples, rng: &rng)
        case .nca:
            guard let r = model.nearestCentroidAnalysis(x, cluster: c) else { preconditionFailure("nca: k-means only") }
            return r
        }
    }

    /// Relevance of each feature group (`model.featureGroups`), the units Algorithm 1 adds. Groups
    /// of one value: exactly `relevance`. Channels: the sum over the channel's values for neon,
    /// x2, sensitivity and ig (the channel's share of an additive explanation); one U(0, 1) draw
    /// per channel for random; for pda0 f_c(x) - f_c(x with the whole channel set to zero), the
    /// prediction difference of removing the unit (a missing channel is zero, Sec. VII-A). pdacs
    /// (KDE imputation) and nca (k-means) do not apply to channels.
    public static func groupRelevance(_ method: ExplanationMethod, x: [Double], cluster c: Int, model: ClusterDecision,
                                      settings: ExplainerSettings, rng: inout SplitMix64) -> [Double] {
        let groups = model.featureGroups
        if groups.isPerValue {
            return relevance(method, x: x, cluster: c, model: model, settings: settings, rng: &rng)
        }
        switch method {
        case .random:
            return (0..<groups.count).map { _ in Double.random(in: 0..<1, using: &rng) }
        case .pda0:
            let f = model.logit(x, cluster: c)
            return (0..<groups.count).map { g in
                var y = x
                for i in groups.range(g) { y[i] = 0 }
                return f - model.logit(y, cluster: c)
            }
        case .pdacs, .nca:
            preconditionFailure("\(method.rawValue) scores single features, not channels (refused by the job set-up)")
        case .neon, .x2, .sensitivity, .ig:
            return groups.pool(relevance(method, x: x, cluster: c, model: model, settings: settings, rng: &rng))
        }
    }

    /// PDAcs: R_i = f_c(x) - mean_s f_c(x with x_i <- x~_s), x~ ~ p_KDE(x_i | x_{-i}) (Eqs. 43-44
    /// with P = all features but i: alpha_n from |x - x_n|^2 - (x_i - x_ni)^2).
    static func predictionDifference(_ x: [Double], cluster c: Int, model: ClusterDecision, density kde: KernelDensity,
                                     samples: Int, rng: inout SplitMix64) -> [Double] {
        let f = model.logit(x, cluster: c)
        let full = kde.squaredDistances(x)
        var partial = full, cum = full
        return (0..<x.count).map { i in
            for n in 0..<kde.rows {
                let t = x[i] - kde.value(row: n, feature: i)
                partial[n] = full[n] - t * t
            }
            kde.cumulativeWeights(partial, into: &cum)
            var mean = 0.0
            var y = x
            for _ in 0..<samples {
                let n = kde.drawRow(cum, rng: &rng)
                y[i] = kde.value(row: n, feature: i) + kde.sigma * rng.normal()
                mean += model.logit(y, cluster: c)
            }
            return f - mean / Double(samples)
        }
    }
}
