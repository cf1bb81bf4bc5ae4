import Foundation
import NeonSettings

/// Settings of a softmax head fit (`fit.algorithm: "softmax"`). The defaults suit standardised
/// features (mean 0, standard deviation 1 per feature).
public struct SoftmaxHeadFitSettings: Sendable {
    public var clusters: Int
    public var loss: SoftmaxLoss
    /// Epochs; each is one full-batch step.
    public var iterations: Int
    /// Adam's step size (before the schedule).
    public var learningRate: Double
    public var schedule: LearningRateSchedule
    /// gamma: the weight of the fairness term (MI: H(sbar); collision CE: KL(u || ybar); IIC: the
    /// marginals' lambda). 1 gives the mutual information itself.
    public var fairness: Double
    public var seed: UInt64
    /// Fits from different random initialisations (seeds derived from `seed`); the lowest final
    /// objective wins (as k-means' n_init). Discriminative losses have poor local minima (a dead
    /// cluster while another covers two blobs; a cut along an elongated cluster) that a few
    /// restarts avoid: with the norm regulariser the global minimum is the max-margin clustering.
    /// On standardised blobs (d 64, K 10, N 1000) 4 restarts recovered 7 of 9 data sets for the
    /// three losses (ARI 1; the others 0.87-0.90), 8 restarts all of them.
    public var restarts: Int
    /// Initial W_ki ~ N(0, (initScale)^2 / d), so the initial logits have standard deviation about
    /// initScale on standardised rows; b = 0.
    public var initScale: Double
    /// IIC without paired views: relative scale s of the Gaussian perturbation (IICPerturbedView).
    public var perturbation: Double
    /// lambda of the norm regulariser (lambda / 2) |W|^2 added to every loss (the lecture's
    /// "regularized decisiveness" gamma |w|^2, whose lambda -> 0 limit is the max-margin clustering;
    /// b is not penalised).
    public var weightDecay: Double
    /// Collision cross-entropy: at most this many EM steps of the pseudo-labels per epoch; they
    /// stop earlier once no mean label moves by more than `pseudoLabelTolerance`. Solving the
    /// y-step nearly to convergence is what keeps clusters alive (a few steps let one die).
    public var pseudoLabelSteps: Int
    public var pseudoLabelTolerance: Double

    public init(clusters: Int, loss: SoftmaxLoss = .mutualInformation, iterations: Int = 200, learningRate: Double = 0.05,
                schedule: LearningRateSchedule = .cosine, fairness: Double = 1, seed: UInt64 = 0, restarts: Int = 4, initScale: Double = 0.3,
                perturbation: Double = 0.25, weightDecay: Double = 0, pseudoLabelSteps: Int = 50,
                pseudoLabelTolerance: Double = 1e-6) {
        self.clusters = clusters
        self.loss = loss
        self.iterations = iterations
        self.learningRate = learningRate
        self.schedule = schedule
        self.fairness = fairness
        self.seed = seed
        self.restarts = restarts
        self.initScale = initScale
        self.perturbation = perturbation
        self.weightDecay = weightDecay
        self.pseudoLabelSteps = pseudoLabelSteps
        self.pseudoLabelTolerance = pseudoLabelTolerance
    }
}

/// What a softmax head fit reports after each evaluation (rank 0 prints it).
public struct SoftmaxFitProgress: Sendable {
    /// Restart (0-based).
    public let restart: Int
    /// Steps taken so far (0: the initial head).
    public let iteration: Int
    /// The loss's own objective (minimised; see SoftmaxLoss) at the current head.
    public let objective: Double
    /// Rows per cluster, argmax of the logits, over all ranks.
    public let clusterSizes: [Int]
    /// Seconds since the previous report.
    public let seconds: Double
}

public struct SoftmaxHeadFitResult: Sendable {
    /// In the fit space (the rows as the fit saw them).
    public let model: SoftmaxHead
    /// The objective after 0, 1, ..., iterations steps (iterations + 1 values).
    public let objectives: [Double]
    /// The final head's cluster sizes.
    public let clusterSizes: [Int]
    public let iterations: Int
    /// The winning restart (0-based).
    public let restart: Int
}

/// Unsupervised training of a softmax clustering head sigma(W a + b) on a rank's rows (issue 21;
/// SoftmaxLoss for the objectives). Full-batch Adam: every epoch evaluates the loss's global
/// quantities (one reduction: sbar and mean entropy for MI, the joint P for IIC, the pseudo-labels'
/// mean for the collision CE, then its EM steps), then the gradient (one reduction), then one
/// step. All sums are formed per tile of 256 rows in float64 and reduced exactly
/// (ExactTileSums), and rank 0's parameters are broadcast after each step, so every rank holds
/// the same parameters after every step and the model is bit-identical for any number of ranks.
/// Initialisation: W ~ N(0, initScale^2 / d) from SplitMix64(mixSeed(seed, restart, ...)) on rank 0,
/// b = 0, broadcast; with restarts, the lowest final objective wins (lowest restart on ties).
public enum SoftmaxHeadFit<T: NeonScalar> {
    /// shard: this rank's rows, starting at a multiple of FitShard.tileRows (RowPartition; the
    /// tiles, hence the bits, are then the same for any number of ranks); pairs: IIC's second view (same layout) or nil (then the
    /// perturbation of IICPerturbedView; ignored by the other losses).
    public static func run(shard: FitShard<T>, pairs: FitShard<T>? = nil, settings: SoftmaxHeadFitSettings,
                           collectives comm: FitCollectives,
                           progress: (SoftmaxFitProgress) -> Void = { _ in }) -> SoftmaxHeadFitResult {
        let K = settings.clusters, d = shard.features, N = shard.totalRows
        precondition(K >= 2 && N >= 1 && (N + FitShard<T>.tileRows - 1) / FitShard<T>.tileRows <= ExactTileSums.maxTerms)
        let objectiveOf = SoftmaxHeadObjective(shard: shard, pairs: pairs, settings: settings, collectives: comm)

        var best: SoftmaxHeadFitResult?
        for r in 0..<max(1, settings.restarts) {
            objectiveOf.resetPseudoLabels()
            let result = train(objectiveOf, K: K, d: d, settings: settings, restart: r, comm: comm, progress: progress)
            if best == nil || result.objectives.last! < best!.objectives.last! || best!.objectives.last!.isNaN {
                best = result
            }
        }
        return best!
    }

    /// One restart: initialisation (rank 0, broadcast), then `iterations` Adam steps.
    static func train(_ objectiveOf: SoftmaxHeadObjective<T>, K: Int, d: Int, settings: SoftmaxHeadFitSettings, restart: Int,
                      comm: FitCollectives, progress: (SoftmaxFitProgress) -> Void) -> SoftmaxHeadFitResult {
        var theta = [Double](repeating: 0, count: K * d + K)
        if comm.isRoot {
            var rng = SplitMix64(seed: mixSeed(settings.seed, restart, 0x50F7_4EAD))
            let s = settings.initScale / Double(d).squareRoot()
            for i in 0..<(K * d) { theta[i] = s * rng.normal() }
        }
        comm.broadcastFromRoot(&theta)

        var adam = AdamOptimizer(count: theta.count)
        var objectives: [Double] = []
        var sizes: [Int] = []
        var clock = Date()
        let T = max(0, settings.iterations)
        for t in 0...T {
            let (objective, gradient, counts) = objectiveOf.evaluate(theta, labelSteps: settings.pseudoLabelSteps)
            objectives.append(objective)
            sizes = counts
            let now = Date()
            progress(SoftmaxFitProgress(restart: restart, iteration: t, objective: objective, clusterSizes: counts,
                                        seconds: now.timeIntervalSince(clock)))
            clock = now
            if t == T { break }
            adam.step(&theta, gradient: gradient, rate: settings.schedule.rate(settings.learningRate, step: t + 1, of: T))
            comm.broadcastFromRoot(&theta)
        }
        let model = SoftmaxHead(clusters: K, features: d, weight: Array(theta[0..<(K * d)]), bias: Array(theta[(K * d)...]))
        return SoftmaxHeadFitResult(model: model, objectives: objectives, clusterSizes: sizes, iterations: T, restart: restart)
    }
}
