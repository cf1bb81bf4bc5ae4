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
package final class EvaluationRunner: RankRunner {
    let ranks: RankContext
    let jobPath: String
    let resume: Bool
    let started = Date()
    let timer = PhaseTimer()

    package init(communicator: Communicator, jobPath: String, quiet: Bool, resume: Bool = false) {
        ranks = RankContext(communicator, quiet: quiet)
        self.jobPath = jobPath
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

    /// What rank 0's set-up found that every rank needs, sent in one broadcast.
    struct SetUpFacts: Codable {
        var jobText: String, jobPath: String
        /// The evaluation output is complete already (resume): nothing to do.
        var complete: Bool
        var rows: Int, features: Int
        var methods: [String]
        var sampleShape: [Int]
        /// From the partial output being resumed.
        var storedSigma: Double?, storedSigmaIterations: Int

        init(_ s: EvaluationSetup) {
            jobText = s.job.jobText
            jobPath = s.job.jobPath
            complete = s.partial?.status == "complete"
            rows = s.input.rows
            features = s.input.features
            methods = s.methods.map(\.rawValue)
            sampleShape = s.input.sampleShape
            storedSigma = s.partial?.sigma.flatMap { $0.isNaN ? nil : $0 }
            storedSigmaIterations = s.partial?.sigmaIterations ?? 0
        }
    }

    /// Everything every rank knows after set-up.
    struct Shared {
        let setup: EvaluationSetup?                 // rank 0 only
        let spec: JobSpec
        let facts: SetUpFacts
        let model: NeonModel
        let methods: [ExplanationMethod]
        let decision: ClusterDecision
        var N: Int { facts.rows }
        var d: Int { facts.features }
        /// Algorithm 1's units (features, or channels of activations) and whether it imputes by KDE.
        var units: Int { decision.featureGroups.count }
        var imputesByKDE: Bool { decision.missingFeatures == .kdeConditional }
    }

    private func execute() throws {
        // 1. Rank 0: the job, model, input and targets; the whole input as float64.
        var data: [Double] = []
        let setup = try ranks.onRoot { () throws -> EvaluationSetup in
            let s = try EvaluationSetup.load(jobPath: jobPath, resume: resume)
            if s.partial?.status != "complete" { data = try timer.measure("read") { try s.readSamples() } }
            return s
        }
        let facts = ranks.broadcast(setup.map(SetUpFacts.init))
        let spec = try ranks.everyRank { try setup?.job ?? JobSpec.parse(text: facts.jobText, jobPath: facts.jobPath) }
        if facts.complete {
            note("\(setup?.paths.output ?? "the evaluation output") is already complete; nothing to do")
            return
        }
        let model = NeonModel.broadcast(setup?.model, comm)
        let s = Shared(setup: setup, spec: spec, facts: facts, model: model,
                       methods: facts.methods.map { ExplanationMethod(rawValue: $0)! },
                       decision: model.decision(job: spec, sampleShape: facts.sampleShape))

        // 2. The KDE reference set (all rows, or a seeded sample of reference_rows), broadcast.
        let refIndex = s.imputesByKDE
            ? Self.sampleRows(count: s.N, wanted: spec.evaluate.referenceRows, seed: spec.evaluate.seed, purpose: "reference") : []
        var reference: [Double] = []
        if comm.isRoot {
            reference.reserveCapacity(refIndex.count * s.d)
            for n in refIndex { reference += data[(n * s.d)..<((n + 1) * s.d)] }
        }
        reference = timer.measure("broadcast") { comm.broadcast(reference) }

        // 3. The samples (all rows, or a seeded sample of evaluate.samples rows), kept by rank 0
        // and scattered block by block (any split works: every sample's results depend on the
        // sample and its global row index alone).
        let pool = spec.rows ?? 0..<s.N                     // input.rows: the candidates
        let sampleIndex = Self.sampleRows(count: pool.count, wanted: spec.evaluate.samples, seed: spec.evaluate.seed,
                                          purpose: "samples").map { pool.lowerBound + $0 }
        var allRows = data                                  // rank 0: for beta "auto"
        if comm.isRoot && sampleIndex.count < s.N {
            var picked: [Double] = []
            picked.reserveCapacity(sampleIndex.count * s.d)
            for n in sampleIndex { picked += data[(n * s.d)..<((n + 1) * s.d)] }
            data = picked
        }

        let kde = try bandwidth(s, reference: reference, referenceRows: refIndex.count)
        let (beta, betaMode) = try stiffness(s, allRows: allRows)
        allRows = []
        let plan = EvaluationPlan(model: s.decision, methods: s.methods, repeats: spec.evaluate.repeats, seed: spec.evaluate.seed,
                                  settings: ExplainerSettings(beta: beta, steps: spec.steps, samples: spec.samples,
                                                              density: kde.map { KernelDensity(reference: reference, rows: refIndex.count, features: s.d, sigma: $0.sigma) }))
        let sigma = kde ?? (.nan, "unused", 0)
        let settings: [(String, AttributeValue)] = [
            ("sigma", .double(sigma.sigma)), ("sigma_mode", .string(sigma.mode)), ("sigma_iterations", .int(sigma.iterations)),
            ("beta", .double(beta)), ("beta_mode", .string(betaMode)),
        ]
        try evaluateBlocks(s, plan: plan, samples: &data, sampleIndex: sampleIndex, referenceRows: refIndex.count,
                           settings: settings, report: (sigma.sigma, beta, betaMode))
    }

    /// 4. sigma: evaluate.sigma, or the leave-one-out fixed point (Eq. 42) over blocks dealt
    /// round-robin to the ranks; each block's partial sum has one contributor, so the
    /// element-wise allreduce is exact and the sum is taken in block order on every rank.
    /// A resumed run takes sigma from the partial output. nil: no KDE (nothing imputes by it).
    private func bandwidth(_ s: Shared, reference: [Double], referenceRows: Int) throws -> (sigma: Double, mode: String, iterations: Int)? {
        guard s.imputesByKDE else { return nil }
        let result: (sigma: Double, mode: String, iterations: Int)
        if let sigma = s.spec.evaluate.sigma {
            result = (sigma, "fixed", 0)
        } else if let sigma = s.facts.storedSigma {
            result = (sigma, "loo", s.facts.storedSigmaIterations)
        } else {
            let fp = BandwidthFixedPoint(reference: reference, rows: referenceRows, features: s.d)
            let blocks = (0..<fp.blockCount).filter { $0 % comm.size == comm.rank }
            let r = timer.measure("sigma") { fp.solve(blocks: blocks, tolerance: 1e-6, maxIterations: 300) { self.comm.allreduceSum($0) } }
            let err = EvaluationRunner.bandwidthProblem(r, input: s.spec.inputFile, dataset: s.spec.inputDataset)
            try check(comm.isRoot ? err : nil)
            result = (r.sigma, "loo", r.iterations)
        }
        note("KDE reference rows \(referenceRows), sigma \(result.sigma) (\(result.mode)\(result.iterations > 0 ? ", \(result.iterations) iterations" : ""))")
        return result
    }

    /// 5. beta for NEON: fixed, or 1 / mean f_c over the whole input (Eq. 3, as `run` computes
    /// it), by rank 0's fast path and summed in row order: the same for any P.
    private func stiffness(_ s: Shared, allRows: [Double]) throws -> (Double, String) {
        guard s.methods.contains(.neon) else { return (1, "unused") }
        if case .fixed(let b) = s.spec.beta { return (b, "fixed") }
        var beta = 1.0
        var e: String?
        if let b = s.setup?.partial?.beta {
            beta = b                        // resumed: the beta the output was started with
        } else if comm.isRoot {
            let sum = timer.measure("beta") { s.model.base.logitSum(allRows, rows: s.N, job: s.spec, decision: s.decision) }
            if let b = MinTakesMost.heuristicStiffness(logitSum: sum, count: s.N) { beta = b } else {
                e = "\(s.spec.inputFile): dataset '\(s.spec.inputDataset)': the mean logit is \(sum / Double(s.N)), not positive; beta \"auto\" (1 / mean f_c) is undefined, set explain.beta to a number"
            }
        }
        try check(e)
        return (comm.broadcast(beta), "auto")
    }

    /// 6. The output: created now (sigma and beta stored: a resumed run reuses them), or the
    /// partial output reopened; then Algorithm 1 block by block (EvaluationBlocks); 7. the
    /// summaries and reports.
    private func evaluateBlocks(_ s: Shared, plan: EvaluationPlan, samples data: inout [Double], sampleIndex: [Int],
                                referenceRows: Int, settings: [(String, AttributeValue)],
                                report: (sigma: Double, beta: Double, betaMode: String)) throws {
        let spec = s.spec, setup = s.setup, methods = s.methods
        let S = sampleIndex.count, M = methods.count, R = spec.evaluate.repeats
        let blockSize = min(spec.evaluate.blockSamples, max(S, 1))
        let blockCount = (S + blockSize - 1) / blockSize
        let shape = EvaluationOutputFile.Shape(samples: S, methods: M, repeats: R, features: s.units, blocks: blockCount)
        assert(setup.map { $0.outputShape == shape } ?? true)
        var results = EvaluationBlocks.Results(shape: shape, isRoot: comm.isRoot)
        var doneBlocks = [Bool](repeating: false, count: blockCount)
        let output = try ranks.onRoot { () throws -> EvaluationOutputFile in
            let s = setup!
            if let p = s.partial {
                try results.restore(p, path: s.paths.output)
                doneBlocks = p.blockDone
                return try EvaluationOutputFile(resuming: s.paths.output, shape: shape)
            }
            return try EvaluationOutputFile(
                creating: s.paths.output, shape: shape, methods: methods.map(\.rawValue),
                sampleIndex: sampleIndex.map { Int64($0) }, key: s.resumeKey(methods: methods),
                attributes: settings + [("block_samples", .int(blockSize))])
        }
        doneBlocks = ranks.broadcast(comm.isRoot ? doneBlocks : nil)
        let skipped = doneBlocks.filter { $0 }.count
        if skipped > 0 { note("resuming: \(skipped) of \(blockCount) blocks already done") }
        note("evaluating \(S) samples x \(M) methods x \(R) repeats on \(comm.size) rank(s), blocks of \(blockSize) samples")
        let evalStart = Date(), cpuStart = processCPUSeconds()
        let blocks = EvaluationBlocks(comm: comm, plan: plan, features: s.d, units: s.units, samples: data,
                                      sampleIndex: sampleIndex, blockSize: blockSize, timer: timer)
        data = []
        let progress = Progress(enabled: ranks.speaks)
        progress.begin("evaluate", total: S - doneBlocks.indices.filter { doneBlocks[$0] }.map { blocks.range($0).count }.reduce(0, +))
        var finished = skipped
        for b in 0..<blockCount where !doneBlocks[b] {
            // Every rank agrees before each block: go on, stop (SIGTERM/SIGINT), or fail.
            if try decide(nil) {
                output?.abandon()
                reportStop(blocksDone: finished, of: blockCount, path: setup?.paths.output ?? "")
                throw Interrupted()
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
        _ = try ranks.onRoot {
            let s0 = setup!, out = output!
            let contents = EvaluationOutput.Contents(
                methods: methods.map(\.rawValue), repeats: R, samples: S, features: s.units, auc: results.auc,
                assignment: results.cluster, sampleIndex: sampleIndex.map { Int64($0) }, curve: results.curve(),
                attributes: settings + [
                    ("repeats", .int(R)), ("seed", .int(Int(spec.evaluate.seed))),
                    ("reference_rows", .int(referenceRows)), ("ig_steps", .int(spec.steps)), ("pdacs_samples", .int(spec.samples)),
                    ("imputation", .string(s.imputesByKDE ? "KDE conditional sampling (Appendix G, Eqs. 39-44)" : "zero (missing channels of activations, Sec. VII-A)")),
                    ("model_kind", .string(s.model.kind)), ("clusters", .int(s.model.clusters)),
                    ("model_file", .string(spec.modelFile)), ("input_file", .string(spec.inputFile)),
                    ("input_dataset", .string(spec.inputDataset)), ("rows", .int(s.N)), ("samples", .int(S)), ("features", .int(s.units)),
                    ("block_samples", .int(blockSize)), ("blocks", .int(blockCount)), ("blocks_done", .int(blockCount)),
                    ("resumed_blocks", .int(skipped)),
                    ("ranks", .int(comm.size)), ("evaluate_seconds", .double(evalSeconds)),
                    ("evaluate_cpu_seconds", .double(evalCPU)),
                    ("elapsed_seconds", .double(Date().timeIntervalSince(started))),
                    ("job", .string(spec.jobText)), ("job_file", .string(spec.jobPath)),
                    ("software", .string("neon-batch")), ("software_version", .string(NeonBatchVersion.current)),
                    ("created", .string(ISO8601DateFormatter().string(from: started))),
                ] + ComputeSetup.provenance + Self.modelAttributes(spec, model: s.model, decision: s.decision, standardized: s0.standardization != nil))
            try timer.measure("write") {
                try out.finish(contents)
                let summary = EvaluationReport(job: spec, model: s.model, methods: methods, contents: contents,
                                               sigma: report.sigma, beta: report.beta, betaMode: report.betaMode)
                try summary.write(s0.paths)
                if !quiet {
                    print(summary.markdown, terminator: "")
                    print("neon-batch: wrote \(s0.paths.output), \(s0.paths.markdown), \(s0.paths.csv), \(s0.paths.svg)")
                    let fresh = S - (S * skipped) / max(blockCount, 1)
                    print(String(format: "neon-batch: Algorithm 1 took %.2f s (%.4f s per sample and method, %d rank(s)); phases: %@",
                                 evalSeconds, evalSeconds * Double(comm.size) / Double(max(fresh, 1) * M), comm.size, timer.description))
                    print("neon-batch: blas: \(ComputeSetup.blasSummary)")
                }
            }
        }
    }

    /// Collective: rank 0 names the signal any rank received and how to continue.
    func reportStop(blocksDone: Int, of blocks: Int, path: String) {
        ranks.reportStop {
            "stopped by \($0) after \(blocksDone) of \(blocks) blocks; \(path) is incomplete: continue it with output.resume true (or evaluate --resume) (exit \(ExitStatus.interrupted))"
        }
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
