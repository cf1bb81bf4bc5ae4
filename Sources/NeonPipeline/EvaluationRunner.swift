import Dispatch
import Distributed
import Foundation
import NeonCore
import Storage

/// `neon-batch evaluate` on all ranks (Sec. VII-A, Algorithm 1): rank 0 checks the job and reads
/// the input; the KDE reference set is broadcast; sigma (Eq. 42) and beta (Eq. 3) are computed
/// collectively (or taken from the partial output being resumed); then, block by block of
/// `evaluate.block_samples` samples, the samples are scattered over the ranks, each rank runs
/// Algorithm 1 on its share, and rank 0 gathers the AUCs in sample order and writes the block
/// into the output with its progress record. Before each block the ranks agree to go on, to stop
/// (SIGTERM/SIGINT: exit 75, resumable) or to fail. Every random number comes from a per-sample
/// stream (seed, global sample index), and every reduction is either exact or summed in a fixed
/// order, so the results depend neither on the number of ranks nor on interruptions.
package final class EvaluationRunner {
    let comm: Communicator
    let jobPath: String
    let quiet: Bool
    let resume: Bool
    let started = Date()
    let timer = PhaseTimer()

    package init(communicator: Communicator, jobPath: String, quiet: Bool, resume: Bool = false) {
        comm = communicator
        self.jobPath = jobPath
        self.quiet = quiet
        self.resume = resume
    }

    /// Thrown on every rank after a clean stop (SIGTERM/SIGINT) was reported.
    struct Interrupted: Error {}

    package func run() -> Int32 {
        do {
            try execute()
            return 0
        } catch is Interrupted {
            return ExitStatus.interrupted
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
                let s = try EvaluationSetup.load(jobPath: jobPath, resume: resume)
                setup = s
                if s.partial?.status != "complete" {
                    data = try timer.measure("read") { try s.readSamples() }
                }
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
        // An output that is already complete: nothing to do (resume only).
        if comm.broadcast([setup?.partial?.status == "complete" ? 1 : 0])[0] == 1 {
            say("\(setup?.paths.output ?? "the evaluation output") is already complete; nothing to do")
            return
        }
        let stored = setup?.partial          // rank 0: the partial output being resumed
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

        // 3. The samples (all rows, or a seeded sample of evaluate.samples rows), kept by rank 0
        // and scattered block by block (any split works: every sample's results depend on the
        // sample and its global row index alone).
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

        // 4. sigma: evaluate.sigma, or the leave-one-out fixed point (Eq. 42) over blocks dealt
        // round-robin to the ranks; each block's partial sum has one contributor, so the
        // element-wise allreduce is exact and the sum is taken in block order on every rank.
        // A resumed run takes sigma from the partial output.
        let sigma: Double, sigmaMode: String, iterations: Int
        let storedSigma = comm.broadcast([stored?.sigma ?? .nan, Double(stored?.sigmaIterations ?? 0)])
        if !imputesByKDE {
            (sigma, sigmaMode, iterations) = (.nan, "unused", 0)
        } else if let s = spec.evaluate.sigma {
            (sigma, sigmaMode, iterations) = (s, "fixed", 0)
        } else if !storedSigma[0].isNaN {
            (sigma, sigmaMode, iterations) = (storedSigma[0], "loo", Int(storedSigma[1]))
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
                if let b = stored?.beta, comm.isRoot {
                    beta = b                        // resumed: the beta the output was started with
                } else if comm.isRoot {
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

        // 6. The output: created now (sigma and beta stored: a resumed run reuses them), or the
        // partial output reopened; then Algorithm 1 block by block (EvaluationBlocks).
        let kde = imputesByKDE ? KernelDensity(reference: reference, rows: refIndex.count, features: d, sigma: sigma) : nil
        let plan = EvaluationPlan(model: decision, methods: methods, repeats: spec.evaluate.repeats, seed: spec.evaluate.seed,
                                  settings: ExplainerSettings(beta: beta, steps: spec.steps, samples: spec.samples, density: kde))
        let M = methods.count, R = spec.evaluate.repeats
        let blockSize = min(spec.evaluate.blockSamples, max(S, 1))
        let blockCount = (S + blockSize - 1) / blockSize
        let shape = EvaluationOutputFile.Shape(samples: S, methods: M, repeats: R, features: units, blocks: blockCount)
        assert(setup.map { $0.outputShape == shape } ?? true)
        var results = EvaluationBlocks.Results(shape: shape, isRoot: comm.isRoot)
        var output: EvaluationOutputFile?
        var doneBlocks = [Bool](repeating: false, count: blockCount)
        if comm.isRoot, let s = setup {
            do {
                if let p = s.partial {
                    try results.restore(p, path: s.paths.output)
                    doneBlocks = p.blockDone
                    output = try EvaluationOutputFile(resuming: s.paths.output, shape: shape)
                } else {
                    output = try EvaluationOutputFile(
                        creating: s.paths.output, shape: shape, methods: methods.map(\.rawValue),
                        sampleIndex: sampleIndex.map { Int64($0) }, key: s.resumeKey(methods: methods),
                        attributes: [("sigma", .double(sigma)), ("sigma_mode", .string(sigmaMode)), ("sigma_iterations", .int(iterations)),
                                     ("beta", .double(beta)), ("beta_mode", .string(betaMode)), ("block_samples", .int(blockSize))])
                }
            } catch { err = message(error) }
        }
        try check(err)
        doneBlocks = comm.broadcast(doneBlocks.map { Int64($0 ? 1 : 0) }).map { $0 == 1 }
        let skipped = doneBlocks.filter { $0 }.count
        if skipped > 0 { say("resuming: \(skipped) of \(blockCount) blocks already done") }
        say("evaluating \(S) samples x \(M) methods x \(R) repeats on \(comm.size) rank(s), blocks of \(blockSize) samples")
        let evalStart = Date(), cpuStart = processCPUSeconds()
        let blocks = EvaluationBlocks(comm: comm, plan: plan, features: d, units: units, samples: data,
                                      sampleIndex: sampleIndex, blockSize: blockSize, timer: timer)
        data = []
        let progress = Progress(enabled: !quiet && comm.isRoot)
        progress.begin("evaluate", total: S - doneBlocks.indices.filter { doneBlocks[$0] }.map { blocks.range($0).count }.reduce(0, +))
        var finished = skipped
        for b in 0..<blockCount where !doneBlocks[b] {
            // Every rank agrees before each block: go on, stop (SIGTERM/SIGINT), or fail.
            switch comm.decide(error: nil, stop: StopSignal.requested != nil) {
            case .proceed: break
            case .stop:
                output?.abandon()
                reportStop(blocksDone: finished, of: blockCount, path: setup?.paths.output ?? "")
                throw Interrupted()
            case .failed: throw RankFailed()
            }
            let r = blocks.evaluate(block: b)
            var werr: String?
            if comm.isRoot, let out = output {
                results.store(r, block: b, range: blocks.range(b))
                finished += 1
                do {
                    try timer.measure("write") {
                        try out.write(block: b, start: blocks.range(b).lowerBound, count: r.count, auc: r.auc,
                                      assignment: r.cluster, curveCounts: r.counts, blocksDone: finished)
                    }
                } catch { werr = message(error) }
            }
            do { try check(werr) } catch { output?.abandon(); throw error }
            progress.advance(blocks.range(b).count)
        }
        let evalSeconds = comm.allreduceMax(Date().timeIntervalSince(evalStart))
        let evalCPU = comm.allreduceSum(processCPUSeconds() - cpuStart)     // all ranks' CPU time

        // 7. Rank 0: the summaries of all blocks (this run's and a resumed run's) and the reports.
        var werr: String?
        if comm.isRoot, let s = setup, let out = output {
            let contents = EvaluationOutput.Contents(
                methods: methods.map(\.rawValue), repeats: R, samples: S, features: units, auc: results.auc,
                assignment: results.cluster, sampleIndex: sampleIndex.map { Int64($0) }, curve: results.curve(),
                attributes: [
                    ("sigma", .double(sigma)), ("sigma_mode", .string(sigmaMode)), ("sigma_iterations", .int(iterations)),
                    ("beta", .double(beta)), ("beta_mode", .string(betaMode)),
                    ("repeats", .int(R)), ("seed", .int(Int(spec.evaluate.seed))),
                    ("reference_rows", .int(refIndex.count)), ("ig_steps", .int(spec.steps)), ("pdacs_samples", .int(spec.samples)),
                    ("imputation", .string(imputesByKDE ? "KDE conditional sampling (Appendix G, Eqs. 39-44)" : "zero (missing channels of activations, Sec. VII-A)")),
                    ("model_kind", .string(model.kind)), ("clusters", .int(model.clusters)),
                    ("model_file", .string(spec.modelFile)), ("input_file", .string(spec.inputFile)),
                    ("input_dataset", .string(spec.inputDataset)), ("rows", .int(N)), ("samples", .int(S)), ("features", .int(units)),
                    ("block_samples", .int(blockSize)), ("blocks", .int(blockCount)), ("blocks_done", .int(blockCount)),
                    ("resumed_blocks", .int(skipped)),
                    ("ranks", .int(comm.size)), ("evaluate_seconds", .double(evalSeconds)),
                    ("evaluate_cpu_seconds", .double(evalCPU)),
                    ("elapsed_seconds", .double(Date().timeIntervalSince(started))),
                    ("job", .string(spec.jobText)), ("job_file", .string(spec.jobPath)),
                    ("software", .string("neon-batch")), ("software_version", .string(NeonBatchVersion.current)),
                    ("created", .string(ISO8601DateFormatter().string(from: started))),
                ] + ComputeSetup.provenance + Self.modelAttributes(spec, model: model, decision: decision, standardized: s.standardization != nil))
            do {
                try timer.measure("write") {
                    try out.finish(contents)
                    let report = EvaluationReport(job: spec, model: model, methods: methods, contents: contents,
                                                  sigma: sigma, beta: beta, betaMode: betaMode)
                    try report.write(s.paths)
                    if !quiet {
                        print(report.markdown, terminator: "")
                        print("neon-batch: wrote \(s.paths.output), \(s.paths.markdown), \(s.paths.csv), \(s.paths.svg)")
                        let fresh = S - (S * skipped) / max(blockCount, 1)
                        print(String(format: "neon-batch: Algorithm 1 took %.2f s (%.4f s per sample and method, %d rank(s)); phases: %@",
                                     evalSeconds, evalSeconds * Double(comm.size) / Double(max(fresh, 1) * M), comm.size, timer.description))
                        print("neon-batch: blas: \(ComputeSetup.blasSummary)")
                    }
                }
            } catch { werr = message(error) }
        }
        try check(werr)
    }

    /// Collective: rank 0 names the signal any rank received and how to continue.
    func reportStop(blocksDone: Int, of blocks: Int, path: String) {
        let received = comm.allreduceMax(Int(StopSignal.requested ?? 0))
        let sig = received > 0 ? StopSignal.name(Int32(received)) : "a signal"
        if comm.isRoot {
            FileHandle.standardError.write(Data("neon-batch: stopped by \(sig) after \(blocksDone) of \(blocks) blocks; \(path) is incomplete: continue it with output.resume true (or evaluate --resume) (exit \(ExitStatus.interrupted))\n".utf8))
        }
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
