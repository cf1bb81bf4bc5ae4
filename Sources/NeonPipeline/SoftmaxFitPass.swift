import Distributed
import Foundation
import NeonCore
import Storage

extension FitRunner {
    /// fit.algorithm "softmax": a softmax head sigma(W a + b) on the rows in the fit space,
    /// trained by fit.loss (SoftmaxHeadFit: partial sums reduced exactly, rank 0's parameters
    /// broadcast after every step, so the model is the same for any number of ranks). IIC's
    /// second views: input.pairs, moved to the fit space like the rows, or a seeded perturbation.
    func softmaxFit<T: FitScalar>(_ s: Shared, shard: FitShard<T>, collectives: MPIFitCollectives, origin: [Double],
                                  scale: [Double], timing: IterationClock)
        throws -> (model: SoftmaxHead, attributes: [(String, AttributeValue)]) {
        let spec = s.spec, options = spec.softmax!
        var settings = SoftmaxHeadFitSettings(clusters: spec.clusters, loss: options.loss, iterations: spec.maxIterations,
                                              seed: spec.seed, restarts: spec.restarts)
        if let lr = options.learningRate { settings.learningRate = lr }
        if let schedule = options.schedule { settings.schedule = schedule }
        if let fairness = options.fairness { settings.fairness = fairness }
        if let perturbation = options.perturbation { settings.perturbation = perturbation }
        if let decay = options.weightDecay { settings.weightDecay = decay }
        var pairs: FitShard<T>?
        if options.pairsDataset != nil {
            let p = try loadShard(s, from: s.pairs, as: T.self)
            p.transform(origin: origin, scale: scale)
            pairs = p
        }
        timing.begin()
        let r = SoftmaxHeadFit<T>.run(shard: shard, pairs: pairs, settings: settings, collectives: collectives) { p in
            let smallest = p.clusterSizes.min() ?? 0, largest = p.clusterSizes.max() ?? 0
            self.iterationNote(String(format: "fit: restart %d/%d iteration %d/%d: %@ objective %.9g, cluster sizes %d..%d, %.3f s",
                                      p.restart + 1, settings.restarts, p.iteration, settings.iterations, options.loss.rawValue,
                                      p.objective, smallest, largest, p.seconds), phase: "softmax")
            if p.iteration > 0 { timing.tick(restart: p.restart) }
        }
        let sizes = r.clusterSizes
        let objective = r.objectives.last ?? Double.nan
        say(String(format: "neon-batch: softmax head K = %d (%@): objective %.9g after %d iterations (restart %d of %d), cluster sizes %d..%d%@, %.4f s per iteration",
                   spec.clusters, options.loss.rawValue, objective, r.iterations, r.restart + 1, settings.restarts,
                   sizes.min() ?? 0, sizes.max() ?? 0, sizes.contains(0) ? " (some clusters are empty)" : "",
                   timing.secondsPerIteration))
        var attributes: [(String, AttributeValue)] = [
            ("loss", .string(options.loss.rawValue)), ("objective", .double(objective)),
            ("iterations", .int(r.iterations)), ("learning_rate", .double(settings.learningRate)),
            ("schedule", .string(settings.schedule.rawValue)), ("fairness", .double(settings.fairness)),
            ("weight_decay", .double(settings.weightDecay)), ("n_init", .int(settings.restarts)),
            ("cluster_sizes", .string(sizes.map(String.init).joined(separator: ","))),
        ]
        if options.loss == .iic {
            attributes += options.pairsDataset.map { [("pairs_dataset", .string($0))] }
                ?? [("perturbation", .double(settings.perturbation))]
        }
        return (r.model, attributes)
    }
}
