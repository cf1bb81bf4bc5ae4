/// Algorithm 1 for one sample and several explanation methods, `repeats` times. Random numbers
/// come from the sample's own streams (SampleStream): the imputation stream depends on (seed,
/// sample, repeat) only, so every method sees the same draws for the same known set (common
/// random numbers), and a random method's relevance on (seed, sample, repeat, method).
/// Deterministic methods are explained once per sample.
public struct EvaluationPlan: Sendable {
    public let model: ClusterDecision
    public let methods: [ExplanationMethod]
    public let repeats: Int
    public let seed: UInt64
    public let settings: ExplainerSettings

    public init(model: ClusterDecision, methods: [ExplanationMethod], repeats: Int, seed: UInt64,
                settings: ExplainerSettings) {
        precondition(repeats >= 1 && !methods.isEmpty)
        self.model = model
        self.methods = methods
        self.repeats = repeats
        self.seed = seed
        self.settings = settings
    }

    public struct SampleResult: Sendable {
        public let cluster: Int
        /// auc[m][r]: method m, repeat r.
        public let auc: [[Double]]
        /// curveCounts[m][t]: over the repeats, how many times g_c was 1 after t + 1 features
        /// (feature groups: channels of activations).
        public let curveCounts: [[Int]]
    }

    public static let imputationPurpose: UInt64 = 0

    /// The stream a method's relevance draws from (random, pdacs) for a sample and repeat.
    public static func explainerStream(seed: UInt64, sample: Int, repeat r: Int, method: ExplanationMethod) -> SplitMix64 {
        SampleStream.make(seed: seed, sample: sample, repeat: r, purpose: SampleStream.tag(method.rawValue))
    }

    public func evaluate(_ z: [Double], sample: Int) -> SampleResult {
        let c = model.assign(z)
        let d = model.featureGroups.count
        var auc = [[Double]](repeating: [], count: methods.count)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: d), count: methods.count)
        for (m, method) in methods.enumerated() {
            var fixed: [Double]?
            for r in 0..<repeats {
                let relevance: [Double]
                if method.isRandom || fixed == nil {
                    var rng = Self.explainerStream(seed: seed, sample: sample, repeat: r, method: method)
                    relevance = Explainer.groupRelevance(method, x: z, cluster: c, model: model, settings: settings, rng: &rng)
                    if !method.isRandom { fixed = relevance }
                } else {
                    relevance = fixed!
                }
                var rng = SampleStream.make(seed: seed, sample: sample, repeat: r, purpose: Self.imputationPurpose)
                let curve = InsertionCurve.curve(sample: z, relevance: relevance, cluster: c, model: model,
                                                 density: settings.density, rng: &rng)
                auc[m].append(InsertionCurve.auc(curve))
                for t in 0..<d { counts[m][t] += Int(curve[t]) }
            }
        }
        return SampleResult(cluster: c, auc: auc, curveCounts: counts)
    }
}
