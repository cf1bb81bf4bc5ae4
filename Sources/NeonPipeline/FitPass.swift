import Distributed
import Foundation
import NeonCore
import Storage

extension FitRunner {
    /// Loads the shard, moves it to the fit space (centred by the global mean; scaled to unit
    /// variance with fit.standardize, Appendix H), fits and writes the model (or the elbow report).
    func fit<T: FitScalar>(_ s: Shared, as: T.Type) throws {
        let spec = s.spec
        let loadStart = Date()
        let shard = try loadShard(s, from: s.input, as: T.self)
        let collectives = MPIFitCollectives(comm)
        let moments = shard.moments(collectives)
        let standardization = spec.standardize ? Standardization(mean: moments.mean, variance: moments.variance) : nil
        let scale = standardization?.std ?? [Double](repeating: 1, count: s.features)
        shard.transform(origin: moments.mean, scale: scale)
        // Per-feature variance in the fit space: the tolerance's scale and the noise's.
        let variance = zip(moments.variance, scale).map { $0 / ($1 * $1) }
        let meanVariance = variance.reduce(0, +) / Double(s.features)
        note(String(format: "fit: %d x %d %@ rows loaded on %d rank%@ in %.2f s (%.1f MB per rank)", s.rows, s.features,
                    s.element.rawValue, comm.size, comm.size == 1 ? "" : "s", Date().timeIntervalSince(loadStart),
                    Double(shard.rows * s.features * MemoryLayout<T>.stride) / 1e6))
        /// Fit-space coordinates back to the model's: + mean, unless the model carries the standardisation.
        func toModel(_ v: [Double]) -> [Double] {
            standardization != nil ? v : v.enumerated().map { $1 + moments.mean[$0 % s.features] }
        }
        let transform = standardization.map { ModelFile.Transform(mean: $0.mean, std: $0.std) }

        if let (ks, prefix) = elbow {
            try elbowRun(s, shard: shard, collectives: collectives, meanVariance: meanVariance, clusters: ks, prefix: prefix)
            return
        }
        let timing = IterationClock()
        var attributes: [(String, AttributeValue)] = []
        var err: String?
        switch spec.algorithm {
        case .kmeans:
            let fitter = KMeansFitter(shard: shard, collectives: collectives, settings: kmeansSettings(spec, clusters: spec.clusters),
                                      meanVariance: meanVariance)
            let r = fitter.fit { p in self.report(p, spec.restarts, "inertia", "shift", seconds: timing.tick(p)) }
            say(String(format: "neon-batch: k-means K = %d: inertia %.9g after %d iterations (restart %d of %d, %@), %.4f s per Lloyd iteration",
                       spec.clusters, r.inertia, r.iterations, r.restart + 1, spec.restarts,
                       r.converged ? "converged" : "max_iter reached", timing.secondsPerIteration))
            attributes = [("inertia", .double(r.inertia)), ("iterations", .int(r.iterations)),
                          ("converged", .int(r.converged ? 1 : 0))]
            if comm.isRoot {
                do {
                    try ModelFile.writeKMeans(path: spec.outputFile, clusters: spec.clusters, features: s.features,
                                              centroids: toModel(r.centroids), transform: transform,
                                              attributes: attributes + provenance(s, timing))
                } catch { err = message(error) }
            }
        case .softmax:
            let r = try softmaxFit(s, shard: shard, collectives: collectives, origin: moments.mean, scale: scale, timing: timing)
            attributes = r.attributes
            if comm.isRoot {
                // Fit space a = (x - mean) / scale; without standardisation the model sees x - mean: b - W mean.
                let m = r.model
                let bias = standardization != nil ? m.bias : (0..<m.clusters).map { k in
                    m.bias[k] - (0..<s.features).reduce(0) { $0 + m.weight[k * s.features + $1] * moments.mean[$1] }
                }
                do {
                    try ModelFile.writeSoftmaxHead(path: spec.outputFile, clusters: m.clusters, features: s.features,
                                                   weight: m.weight, bias: bias, transform: transform,
                                                   attributes: attributes + provenance(s, timing))
                } catch { err = message(error) }
            }
        case .kernelKMeans:
            let (initial, sampleRows, sampleClusters) = try kernelStart(s, shard: shard, collectives: collectives,
                                                                        meanVariance: meanVariance)
            let settings = KernelKMeansFitSettings(clusters: spec.clusters, perCluster: spec.supportVectors,
                                                   restarts: spec.restarts, iterations: spec.maxIterations,
                                                   seed: spec.seed, noise: spec.noise)
            let fitter = KernelKMeansFitter(shard: shard, collectives: collectives, settings: settings,
                                            rmsStd: meanVariance.squareRoot())
            timing.begin()
            let r = initial.withUnsafeBufferPointer { a in
                fitter.fit(initial: a.baseAddress!, sampleRows: sampleRows, sampleClusters: sampleClusters) { p in
                    self.report(p, spec.restarts, "objective (Eq. 36)", "relative change", seconds: timing.tick(p))
                }
            }
            say(String(format: "neon-batch: kernel k-means K = %d, M = %d: objective (Eq. 36) %.9g, gamma %.6g (restart %d of %d), %.4f s per EM iteration",
                       spec.clusters, r.supportCluster.count, r.objective, r.gamma, r.restart + 1, spec.restarts,
                       timing.secondsPerIteration))
            attributes = [("objective", .double(r.objective)), ("iterations", .int(spec.maxIterations)),
                          ("support_vectors_per_cluster", .int(spec.supportVectors))]
            if comm.isRoot {
                do {
                    try ModelFile.writeKernelKMeans(path: spec.outputFile, features: s.features,
                                                    supportVectors: toModel(r.supportVectors),
                                                    supportCluster: r.supportCluster, gamma: r.gamma, transform: transform,
                                                    attributes: attributes + provenance(s, timing))
                } catch { err = message(error) }
            }
        }
        try check(err)
        say(String(format: "neon-batch: wrote %@ (%@, K = %d, d = %d%@) in %.1f s", spec.outputFile, spec.algorithm.rawValue,
                   spec.clusters, s.features, spec.standardize ? ", standardised" : "", Date().timeIntervalSince(started)))
        say("neon-batch: blas: \(ComputeSetup.blasSummary)")
    }

    func kmeansSettings(_ spec: FitSpec, clusters: Int) -> KMeansFitSettings {
        let kernel = spec.algorithm == .kernelKMeans
        return KMeansFitSettings(clusters: clusters, restarts: kernel ? 3 : spec.restarts,
                                 maxIterations: kernel ? 300 : spec.maxIterations, tolerance: spec.tolerance,
                                 seed: spec.seed, initSample: spec.initSample,
                                 algorithm: spec.kmeansMethod == .lloyd ? .lloyd : .hamerly)
    }

    /// Kernel k-means' starting point: every row's initial cluster (k-means, or the given
    /// labels) and a uniform sample of rows with their clusters on rank 0.
    func kernelStart<T: FitScalar>(_ s: Shared, shard: FitShard<T>, collectives: MPIFitCollectives,
                                    meanVariance: Double) throws -> ([Int64], [Double], [Int]) {
        let spec = s.spec
        let settings = kmeansSettings(spec, clusters: spec.clusters)
        let indices = RandomSample.indices(total: s.rows, count: min(settings.initSample, s.rows), seed: spec.seed)
        var initial: [Int64]
        switch spec.kernelInit {
        case .kmeans:
            let km = KMeansFitter(shard: shard, collectives: collectives, settings: settings, meanVariance: meanVariance)
            let r = km.fit { p in self.report(p, settings.restarts, "k-means init: inertia", "shift") }
            note(String(format: "fit: k-means initialisation: inertia %.9g after %d iterations", r.inertia, r.iterations))
            initial = Array(UnsafeBufferPointer(start: km.assignment, count: shard.rows))
        case .labels:
            initial = scatterLabels(s.labels, part: RowPartition(rows: s.rows, parts: comm.size, tile: FitShard<T>.tileRows))
        }
        let mine = indices.filter { $0 >= shard.firstRow && $0 < shard.firstRow + shard.rows }
        let clusters = collectives.gatherToRoot(mine.map { Double(initial[$0 - shard.firstRow]) }).map { Int($0) }
        return (initial, shard.gatherRows(indices, collectives), clusters)
    }

    /// A progress line per iteration (rank 0, stderr, silenced by --quiet; all of them with
    /// --verbose), with the seconds since the previous iteration's line when known.
    func report(_ p: FitProgress, _ restarts: Int, _ objective: String, _ change: String, seconds: Double? = nil) {
        var work = p.recomputedFraction.map { String(format: ", recomputed %.1f %% of rows", 100 * $0) } ?? ""
        if let f = p.moverCheckedFraction, let j = p.movers, f > 0 {
            work += String(format: " (+ %.1f %% against the %d centroids that moved most)", 100 * f, j)
        }
        if let t = seconds { work += String(format: ", %.3f s", t) }
        iterationNote(String(format: "fit: restart %d/%d iteration %d: %@ %.9g, %@ %.3g, %d rows reassigned%@", p.restart + 1, restarts,
                             p.iteration, objective, p.objective, change, p.change, p.reassigned, work), phase: objective)
    }

    func provenance(_ s: Shared, _ timing: IterationClock) -> [(String, AttributeValue)] {
        [("fit_algorithm", .string(s.spec.algorithm.rawValue))]
            + (s.spec.algorithm == .softmax ? [] : [("kmeans_algorithm", .string(s.spec.kmeansMethod.rawValue))]) + [
            ("seed", .int(Int(s.spec.seed))),
        ] + (s.spec.algorithm == .softmax ? [] : [("n_init", .int(s.spec.restarts))]) + [
            ("standardized", .int(s.spec.standardize ? 1 : 0)),
            ("input_file", .string(s.spec.inputFile)),
            ("input_dataset", .string(s.spec.inputDataset)),
            ("rows", .int(s.rows)),
            ("features", .int(s.features)),
            ("ranks", .int(comm.size)),
            ("seconds_per_iteration", .double(timing.secondsPerIteration)),
            ("job", .string(s.spec.jobText)),
            ("job_file", .string(s.spec.jobPath)),
            ("software", .string("neon-batch")),
            ("software_version", .string(NeonBatchVersion.current)),
            ("created", .string(ISO8601DateFormatter().string(from: started))),
        ] + ComputeSetup.provenance
    }
}

/// Seconds per iteration: the time between consecutive iterations of a restart (the
/// initialisation before a restart's first iteration is not counted). When no restart has a
/// second iteration (fit.max_iter 1, or immediate convergence), the time of the first iterations
/// is used, measured from `begin()` or the previous restart's last iteration (so it includes
/// the restart's initialisation).
final class IterationClock {
    private var last: (restart: Int, at: Date)?
    private var total = 0.0
    private var count = 0
    private var start = Date()
    private var firstTotal = 0.0
    private var firstCount = 0

    /// The fit starts now (not when the clock was made).
    func begin() { start = Date() }

    /// Records an iteration; returns the seconds since the previous one of the same restart.
    @discardableResult
    func tick(_ p: FitProgress) -> Double? { tick(restart: p.restart) }

    @discardableResult
    func tick(restart: Int) -> Double? {
        let now = Date()
        var interval: Double?
        if let l = last, l.restart == restart {
            interval = now.timeIntervalSince(l.at)
            total += interval!
            count += 1
        } else {
            firstTotal += now.timeIntervalSince(last?.at ?? start)
            firstCount += 1
        }
        last = (restart, now)
        return interval
    }

    var secondsPerIteration: Double {
        count > 0 ? total / Double(count) : firstCount > 0 ? firstTotal / Double(firstCount) : 0
    }
}
