import Dispatch
import Distributed
import Foundation
import NeonCore
import Storage

/// `neon-batch evaluate` on all ranks (Sec. VII-A, Algorithm 1): rank 0 checks the job and reads
/// the input; the KDE reference set is broadcast and the samples are scattered over the ranks;
/// sigma (Eq. 42) and beta (Eq. 3) are computed collectively; each rank runs Algorithm 1 on its
/// samples; rank 0 gathers the AUCs in sample order and writes the output and the reports.
/// Every random number comes from a per-sample stream (seed, global sample index), and every
/// reduction is either exact or summed in a fixed order, so the results do not depend on the
/// number of ranks.
final class EvaluationRunner {
    let comm: Communicator
    let jobPath: String
    let quiet: Bool
    let started = Date()
    let timer = PhaseTimer()

    init(communicator: Communicator, jobPath: String, quiet: Bool) {
        comm = communicator
        self.jobPath = jobPath
        self.quiet = quiet
    }


    func run() -> Int32 {
        do {
            try execute()
            return 0
        } catch {
            return ExitStatus.badInput
        }
    }

    /// Collective: throws on every rank if any rank saw an error (printed once, by that rank).
    func check(_ local: String?) throws { try agreeOnError(local, comm) }

    func message(_ error: Error) -> String { oneLineMessage(error) }

    func say(_ line: String) {
        if comm.isRoot && !quiet { FileHandle.standardError.write(Data("neon-batch: \(line)\n".utf8)) }
    }

    private func execute() throws {
        // 1. Rank 0: the job, model, input and targets; the whole input as float64.
        var setup: EvaluationSetup?
        var data: [Double] = []
        var err: String?
        if comm.isRoot {
            do {
                let s = try EvaluationSetup.load(jobPath: jobPath)
                setup = s
                data = try timer.measure("read") { try s.readSamples() }
            } catch { err = message(error) }
        }
        try check(err)
        let text = comm.broadcast(setup?.job.jobText ?? ""), path = comm.broadcast(setup?.job.jobPath ?? "")
        var job = setup?.job
        if !comm.isRoot {
            do { job = try JobSpec.parse(text: text, jobPath: path) } catch { err = message(error) }
        }
        try check(err)
        let spec = job!
        let model = NeonModel.broadcast(setup?.model, comm)
        let dims = comm.broadcast(setup.map { [$0.input.rows, $0.input.features] } ?? [])
        let (N, d) = (dims[0], dims[1])
        let methods = comm.broadcast((setup?.methods ?? []).map { Int64(ExplanationMethod.allCases.firstIndex(of: $0)!) })
            .map { ExplanationMethod.allCases[Int($0)] }
        let sampleShape = comm.broadcast((setup?.input.sampleShape ?? []).map { Int64($0) }).map { Int($0) }
        let decision = model.decision(job: spec, sampleShape: sampleShape)
        // Algorithm 1's units (features, or channels of activations) and whether it imputes by KDE.
        let units = decision.featureGroups.count, imputesByKDE = decision.missingFeatures == .kdeConditional

        // 2. The KDE reference set (all rows, or a seeded sample of reference_rows), broadcast.
        let refIndex = imputesByKDE
            ? Self.sampleRows(count: N, wanted: spec.evaluate.referenceRows, seed: spec.evaluate.seed, purpose: "reference") : []
        var reference: [Double] = []
        if comm.isRoot {
            reference.reserveCapacity(refIndex.count * d)
            for n in refIndex { reference += data[(n * d)..<((n + 1) * d)] }
        }
        reference = timer.measure("broadcast") { comm.broadcast(reference) }

        // 3. The samples (all rows, or a seeded sample of evaluate.samples rows), scattered in
        // contiguous ranges (one row per "tile": any split works, every sample's results depend
        // on the sample and its global row index alone).
        let pool = spec.rows ?? 0..<N                     // input.rows: the candidates
        let sampleIndex = Self.sampleRows(count: pool.count, wanted: spec.evaluate.samples, seed: spec.evaluate.seed,
                                          purpose: "samples").map { pool.lowerBound + $0 }
        var allRows = data                                  // rank 0: for beta "auto"
        if comm.isRoot && sampleIndex.count < N {
            var picked: [Double] = []
            picked.reserveCapacity(sampleIndex.count * d)
            for n in sampleIndex { picked += data[(n * d)..<((n + 1) * d)] }
            data = picked
        }
        let S = sampleIndex.count
        let part = RowPartition(rows: S, parts: comm.size, tile: 1)
        let mine = part.ranges[comm.rank]
        var local = [Double](repeating: 0, count: mine.count * d)
        let w = MemoryLayout<Double>.stride * d
        timer.measure("scatter") {
            data.withUnsafeBytes { src in
                local.withUnsafeMutableBytes { dst in
                    comm.scatterv(send: comm.isRoot ? src.baseAddress : nil, counts: part.counts(scaledBy: w),
                                  displacements: part.offsets(scaledBy: w), receive: dst.baseAddress, receiveCount: mine.count * w)
                }
            }
        }
        data = []

        // 4. sigma: evaluate.sigma, or the leave-one-out fixed point (Eq. 42) over blocks dealt
        // round-robin to the ranks; each block's partial sum has one contributor, so the
        // element-wise allreduce is exact and the sum is taken in block order on every rank.
        let sigma: Double, sigmaMode: String, iterations: Int
        if !imputesByKDE {
            (sigma, sigmaMode, iterations) = (.nan, "unused", 0)
        } else if let s = spec.evaluate.sigma {
            (sigma, sigmaMode, iterations) = (s, "fixed", 0)
        } else {
            let fp = BandwidthFixedPoint(reference: reference, rows: refIndex.count, features: d)
            let blocks = (0..<fp.blockCount).filter { $0 % comm.size == comm.rank }
            let r = timer.measure("sigma") { fp.solve(blocks: blocks, tolerance: 1e-6, maxIterations: 300) { self.comm.allreduceSum($0) } }
            err = EvaluationRunner.bandwidthProblem(r, input: spec.inputFile, dataset: spec.inputDataset)
            try check(comm.isRoot ? err : nil)
            (sigma, sigmaMode, iterations) = (r.sigma, "loo", r.iterations)
        }
        if imputesByKDE { say("KDE reference rows \(refIndex.count), sigma \(sigma) (\(sigmaMode)\(iterations > 0 ? ", \(iterations) iterations" : ""))") }

        // 5. beta for NEON: fixed, or 1 / mean f_c over the whole input (Eq. 3, as `run`
        // computes it), by rank 0's fast path and summed in row order: the same for any P.
        var beta = 1.0, betaMode = "unused"
        if methods.contains(.neon) {
            switch spec.beta {
            case .fixed(let b): (beta, betaMode) = (b, "fixed")
            case .auto:
                var e: String?
                if comm.isRoot {
                    let sum = timer.measure("beta") { Self.logitSum(allRows, rows: N, model: model, rule: spec.kernelRule, decision: decision) }
                    if let b = MinTakesMost.heuristicStiffness(logitSum: sum, count: N) { beta = b } else {
                        e = "\(spec.inputFile): dataset '\(spec.inputDataset)': the mean logit is \(sum / Double(N)), not positive; beta \"auto\" (1 / mean f_c) is undefined, set explain.beta to a number"
                    }
                }
                try check(e)
                (beta, betaMode) = (comm.broadcast(beta), "auto")
            }
        }
        allRows = []

        // 6. Algorithm 1 on this rank's samples, spread over cores.
        let kde = imputesByKDE ? KernelDensity(reference: reference, rows: refIndex.count, features: d, sigma: sigma) : nil
        let plan = EvaluationPlan(model: decision, methods: methods, repeats: spec.evaluate.repeats, seed: spec.evaluate.seed,
                                  settings: ExplainerSettings(beta: beta, steps: spec.steps, samples: spec.samples, density: kde))
        let M = methods.count, R = spec.evaluate.repeats
        final class Results: @unchecked Sendable {
            var auc: [Double], cluster: [Double], counts: [Double], done = 0
            init(_ n: Int, _ m: Int, _ r: Int, _ d: Int) {
                auc = .init(repeating: 0, count: n * m * r)
                cluster = .init(repeating: 0, count: n)
                counts = .init(repeating: 0, count: m * d)
            }
        }
        let results = Results(mine.count, M, R, units)
        let lock = NSLock()
        say("evaluating \(S) samples x \(M) methods x \(R) repeats on \(comm.size) rank(s)")
        let evalStart = Date(), cpuStart = processCPUSeconds()
        let samples = local
        // Workers run the samples; this thread reports rank 0's progress (stderr, unless --quiet).
        let progress = Progress(enabled: !quiet && comm.isRoot)
        progress.begin("evaluate (rank 0's samples)", total: mine.count)
        timer.measure("evaluate") {
            let finished = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                DispatchQueue.concurrentPerform(iterations: mine.count) { n in
                    let r = plan.evaluate(Array(samples[(n * d)..<((n + 1) * d)]), sample: sampleIndex[mine.lowerBound + n])
                    lock.lock()
                    for m in 0..<M {
                        for k in 0..<R { results.auc[(n * M + m) * R + k] = r.auc[m][k] }
                        for t in 0..<units { results.counts[m * units + t] += Double(r.curveCounts[m][t]) }
                    }
                    results.cluster[n] = Double(r.cluster)
                    results.done += 1
                    lock.unlock()
                }
                finished.signal()
            }
            var reported = 0
            while finished.wait(timeout: .now() + 0.5) == .timedOut {
                lock.lock()
                let done = results.done
                lock.unlock()
                progress.advance(done - reported)
                reported = done
            }
            progress.advance(mine.count - reported)
        }
        let evalSeconds = comm.allreduceMax(Date().timeIntervalSince(evalStart))
        let evalCPU = comm.allreduceSum(processCPUSeconds() - cpuStart)     // all ranks' CPU time

        // 7. Gather to rank 0 (sample order) and write.
        let auc = gather(results.auc, part: part, width: M * R)
        let clusters = gather(results.cluster, part: part, width: 1)
        let counts = comm.allreduceSum(results.counts)        // integer counts: exact in any order
        var werr: String?
        if comm.isRoot, let s = setup {
            let curve = counts.map { $0 / Double(S * R) }
            let contents = EvaluationOutput.Contents(
                methods: methods.map(\.rawValue), repeats: R, samples: S, features: units, auc: auc,
                assignment: clusters.map { Int64($0) }, sampleIndex: sampleIndex.map { Int64($0) }, curve: curve,
                attributes: [
                    ("sigma", .double(sigma)), ("sigma_mode", .string(sigmaMode)), ("sigma_iterations", .int(iterations)),
                    ("beta", .double(beta)), ("beta_mode", .string(betaMode)),
                    ("repeats", .int(R)), ("seed", .int(Int(spec.evaluate.seed))),
                    ("reference_rows", .int(refIndex.count)), ("ig_steps", .int(spec.steps)), ("pdacs_samples", .int(spec.samples)),
                    ("imputation", .string(imputesByKDE ? "KDE conditional sampling (Appendix G, Eqs. 39-44)" : "zero (missing channels of activations, Sec. VII-A)")),
                    ("model_kind", .string(model.kind)), ("clusters", .int(model.clusters)),
                    ("model_file", .string(spec.modelFile)), ("input_file", .string(spec.inputFile)),
                    ("input_dataset", .string(spec.inputDataset)), ("rows", .int(N)), ("samples", .int(S)), ("features", .int(units)),
                    ("ranks", .int(comm.size)), ("evaluate_seconds", .double(evalSeconds)),
                    ("evaluate_cpu_seconds", .double(evalCPU)),
                    ("elapsed_seconds", .double(Date().timeIntervalSince(started))),
                    ("job", .string(spec.jobText)), ("job_file", .string(spec.jobPath)),
                    ("software", .string("neon-batch")), ("software_version", .string(NeonBatch.version)),
                    ("created", .string(ISO8601DateFormatter().string(from: started))),
                ] + Self.modelAttributes(spec, model: model, decision: decision, standardized: s.standardization != nil))
            do {
                try timer.measure("write") {
                    try EvaluationOutput.write(path: s.paths.output, contents)
                    let report = EvaluationReport(job: spec, model: model, methods: methods, contents: contents,
                                                  sigma: sigma, beta: beta, betaMode: betaMode)
                    try report.write(s.paths)
                    if !quiet {
                        print(report.markdown, terminator: "")
                        print("neon-batch: wrote \(s.paths.output), \(s.paths.markdown), \(s.paths.csv), \(s.paths.svg)")
                        print(String(format: "neon-batch: Algorithm 1 took %.2f s (%.4f s per sample and method, %d rank(s)); phases: %@",
                                     evalSeconds, evalSeconds * Double(comm.size) / Double(S * M), comm.size, timer.description))
                    }
                }
            } catch { werr = message(error) }
        }
        try check(werr)
    }

    /// sum of f_c over all rows (row-major float64), by the model's fast path, in row order.
    static func logitSum(_ x: [Double], rows: Int, model: NeonModel, rule: String, decision: ClusterDecision) -> Double {
        var assignment = [Int64](repeating: 0, count: rows), logit = [Double](repeating: 0, count: rows)
        switch model {
        case .kmeans(let m): KMeansFastPath<Double>(model: m).logits(x, rows: rows, assignment: &assignment, logit: &logit)
        case .kernelKMeans(let m):
            KernelKMeansFastPath<Double>(model: m, rule: KernelRule(rawValue: rule) ?? .paper)
                .logits(x, rows: rows, assignment: &assignment, logit: &logit)
        case .head: return (decision as! DeepClusteringDecision).logitSum(x, rows: rows)
        }
        return logit.reduce(0, +)
    }

    /// Gathers each rank's `width` values per sample to rank 0, in sample order (others get []).
    func gather(_ values: [Double], part: RowPartition, width: Int) -> [Double] {
        let b = MemoryLayout<Double>.stride * width
        var out = [Double](repeating: 0, count: comm.isRoot ? part.ranges.last!.upperBound * width : 0)
        values.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                comm.gatherv(send: src.baseAddress, sendCount: values.count * MemoryLayout<Double>.stride,
                             receive: comm.isRoot ? dst.baseAddress : nil, counts: part.counts(scaledBy: b),
                             displacements: part.offsets(scaledBy: b))
            }
        }
        return out
    }

    /// Why the leave-one-out bandwidth cannot be used, or nil.
    static func bandwidthProblem(_ r: BandwidthFixedPoint.Result, input: String, dataset: String) -> String? {
        let what = "\(input): dataset '\(dataset)': the leave-one-out KDE bandwidth (Eq. 42)"
        if !(r.sigma > 0) { return "\(what) collapses to 0 (the reference set repeats rows); set evaluate.sigma to a number" }
        if !r.converged || !r.sigma.isFinite {
            return "\(what) did not converge in \(r.iterations) iterations (sigma \(r.sigma)); set evaluate.sigma to a number"
        }
        return nil
    }

    /// All rows, or `wanted` distinct rows drawn with the seed (sorted): the KDE reference set
    /// (purpose "reference") or the evaluated samples ("samples").
    static func sampleRows(count: Int, wanted: Int?, seed: UInt64, purpose: String) -> [Int] {
        guard let k = wanted, k < count else { return Array(0..<count) }
        var rng = SampleStream.make(seed: seed, sample: -1, purpose: SampleStream.tag(purpose))
        var idx = Array(0..<count)
        for i in 0..<k { idx.swapAt(i, Int.random(in: i..<count, using: &rng)) }
        return idx[0..<k].sorted()
    }
}

/// User + system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
