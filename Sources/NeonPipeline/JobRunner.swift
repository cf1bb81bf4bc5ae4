import Distributed
import Foundation
import NeonCore
import Storage

/// One job on all ranks: set-up on rank 0, the beta pass if beta is "auto", the explain pass
/// writing the output collectively (or continuing a partial output). Every step where a rank can
/// fail or be asked to stop ends in a collective decision, so that an error on one rank ends every
/// rank promptly (the rank that saw it prints it, once) and a signal stops every rank cleanly.
package final class JobRunner {
    let comm: Communicator
    let jobPath: String
    let quiet: Bool
    /// Also the lines that only explain how the run goes (--verbose).
    let verbose: Bool
    let resume: Bool
    let part: Part?
    let progress: Progress
    let started = Date()
    let timer = PhaseTimer()

    package init(communicator: Communicator, jobPath: String, quiet: Bool, verbose: Bool = false, resume: Bool, part: Part? = nil) {
        comm = communicator
        self.jobPath = jobPath
        self.quiet = quiet
        self.verbose = verbose
        self.resume = resume
        self.part = part
        progress = Progress(enabled: !quiet && communicator.isRoot)
    }

    struct Failed: Error {}
    struct Stopped: Error {}

    /// Returns the process exit status (the same on every rank).
    package func run() -> Int32 {
        do {
            let shared = try timer.measure("setup") { try setUp() }
            if shared.alreadyComplete {
                say("neon-batch: \(shared.job.outputFile) is already complete; nothing to do")
                return 0
            }
            let rule = KernelRule(rawValue: shared.job.kernelRule) ?? .paper
            if let method = ExplanationMethod(rawValue: shared.job.method), method != .neon {
                try executeBaseline(method, shared)
                return 0
            }
            let targets = JobSetup.resolve(shared.job.target, clusters: shared.model.clusters)
            let f32 = shared.element == .float32
            switch shared.model {
            case .head(let m):
                let head = NeonModel.clusterHead(m, mode: shared.job.mode)
                if m.psi.isEmpty {
                    try f32 ? execute(timer.measure("model") { HeadEngine<Float>(head: head, targets: targets) }, shared)
                            : execute(timer.measure("model") { HeadEngine<Double>(head: head, targets: targets) }, shared)
                } else {
                    let layers = NeonModel.psiLayers(m.psi), rules = NeonModel.lrpRules(shared.job.lrp)
                    let shape = shared.inputShape
                    if f32 {
                        try execute(timer.measure("model") {
                            DeepEngine<Float>(psi: try! PsiNetwork<Float>(layers: layers, input: shape, rules: rules), head: head, targets: targets)
                        }, shared)
                    } else {
                        try execute(timer.measure("model") {
                            DeepEngine<Double>(psi: try! PsiNetwork<Double>(layers: layers, input: shape, rules: rules), head: head, targets: targets)
                        }, shared)
                    }
                }
                return 0
            case .kmeans(let m) where shared.job.target.hasAxis:
                let head = ClusterHead(clusters: m.clusters, features: m.features, centroids: m.centroids, logits: .distance(stiffness: 1))
                try f32 ? execute(timer.measure("model") { HeadEngine<Float>(head: head, targets: targets) }, shared)
                        : execute(timer.measure("model") { HeadEngine<Double>(head: head, targets: targets) }, shared)
                return 0
            case .kernelKMeans(let m) where shared.job.target.hasAxis:
                try f32 ? execute(timer.measure("model") { KernelTargetsEngine<Float>(model: m, rule: rule, targets: targets) }, shared)
                        : execute(timer.measure("model") { KernelTargetsEngine<Double>(model: m, rule: rule, targets: targets) }, shared)
                return 0
            default: break
            }
            switch (shared.model, shared.element) {
            case (.head, _): break
            case (.kmeans(let m), .float32): try execute(timer.measure("model") { KMeansFastPath<Float>(model: m) }, shared)
            case (.kmeans(let m), _): try execute(timer.measure("model") { KMeansFastPath<Double>(model: m) }, shared)
            case (.kernelKMeans(let m), .float32):
                if let eps = shared.job.pruningTolerance {
                    try execute(timer.measure("model") { KernelKMeansPrunedPath<Float>(model: m, rule: rule, tolerance: eps) }, shared)
                } else {
                    try execute(timer.measure("model") { KernelKMeansFastPath<Float>(model: m, rule: rule) }, shared)
                }
            case (.kernelKMeans(let m), _):
                if let eps = shared.job.pruningTolerance {
                    try execute(timer.measure("model") { KernelKMeansPrunedPath<Double>(model: m, rule: rule, tolerance: eps) }, shared)
                } else {
                    try execute(timer.measure("model") { KernelKMeansFastPath<Double>(model: m, rule: rule) }, shared)
                }
            }
            return 0
        } catch is Stopped {
            return ExitStatus.interrupted
        } catch {
            return ExitStatus.badInput
        }
    }

    /// Rank 0 prints a line on stdout (unless quiet).
    func say(_ line: String) {
        if comm.isRoot && !quiet { print(line) }
    }

    /// Collective check: throws on every rank if any rank saw an error (printed by that rank).
    func check(_ local: String?) throws {
        if case .failed(let e) = comm.decide(error: local, stop: false) { throw report(e) }
    }

    /// Collective check that also agrees on stopping: true if the job is to stop cleanly.
    func decide(_ local: String?) throws -> Bool {
        switch comm.decide(error: local, stop: StopSignal.requested != nil) {
        case .proceed: return false
        case .stop: return true
        case .failed(let e): throw report(e)
        }
    }

    private func report(_ e: RankError) -> Failed {
        if e.rank == comm.rank { FileHandle.standardError.write(Data("neon-batch: error: \(e.message)\n".utf8)) }
        return Failed()
    }

    func message(_ error: Error) -> String { oneLineMessage(error) }

    /// What every rank knows after set-up.
    struct Shared {
        let job: JobSpec
        let model: NeonModel
        /// The rows explained: `rows` input rows from `rowStart` (input.rows, --part), of `inputRows`.
        let rows: Int
        let rowStart: Int
        let inputRows: Int
        let features: Int
        let element: ElementType
        /// One sample's shape ([d] or [C, H, W]) and the output's per-row shapes.
        let sampleShape: [Int]
        let layout: OutputLayout
        let input: InputDataset?        // rank 0 only
        /// Every rank (the rank that reads a block transforms it); also in the resume key.
        let standardization: Standardization?
        let resumeKey: [(String, String)]
        /// Resuming: the blocks already done and the beta the output was started with.
        let resuming: Bool
        let blockDone: [Bool]
        let blockConservation: [Double]
        let storedBeta: Double?
        let alreadyComplete: Bool
    }

    private func setUp() throws -> Shared {
        var setup: JobSetup?
        var err: String?
        if comm.isRoot {
            do { setup = try JobSetup.load(jobPath: jobPath, resume: resume, part: part) } catch { err = message(error) }
        }
        try check(err)
        // Every rank parses the same job text (paths already resolved by rank 0's job path).
        let text = comm.broadcast(setup?.job.jobText ?? "")
        let path = comm.broadcast(setup?.job.jobPath ?? "")
        let outputFile = comm.broadcast(setup?.job.outputFile ?? "")     // a --part names its own file
        var job = setup?.job
        if !comm.isRoot {
            do {
                var parsed = try JobSpec.parse(text: text, jobPath: path)
                parsed.resume = parsed.resume || resume
                parsed.outputFile = outputFile
                job = parsed
            } catch { err = message(error) }
        }
        try check(err)
        let dims = comm.broadcast(setup.map {
            [$0.rows, $0.features, $0.element == .float32 ? 4 : 8, $0.range.lowerBound, $0.input.rows]
        } ?? [])
        let sampleShape = comm.broadcast((setup?.input.sampleShape ?? []).map { Int64($0) }).map { Int($0) }
        let model = NeonModel.broadcast(setup?.model, comm)
        let partial = setup?.partial
        let state = comm.broadcast([partial == nil ? 0 : (partial!.status == "complete" ? 2 : 1)])[0]
        let done = comm.broadcast((partial?.blockDone ?? []).map { $0 ? UInt8(1) : 0 })
        let conservation = comm.broadcast(partial?.blockConservation ?? [])
        let beta = comm.broadcast([partial?.beta ?? .nan])[0]
        let standardization = broadcast(setup?.standardization)
        // The resume key goes into the output's attributes, which every rank writes alike.
        let flatKey = comm.broadcast((setup?.resumeKey ?? []).map { "\($0.0)\u{1}\($0.1)" }.joined(separator: "\u{2}"))
        let key = flatKey.split(separator: "\u{2}").map { item -> (String, String) in
            let parts = item.split(separator: "\u{1}", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        if state == 0 {
            // Rank 0 checked its own limits and the device; the others check their own limit.
            let br = min(job!.blockRows, dims[0])
            let layout = OutputLayout(sampleShape: sampleShape, targets: job!.target.hasAxis
                ? JobSetup.resolve(job!.target, clusters: model.clusters).count : nil)
            let bytes = layout.expectedBytes(rows: dims[0], element: dims[2] == 4 ? .float32 : .float64,
                                             blocks: (dims[0] + br - 1) / br)
            do { try RelevanceOutput.checkFileSizeLimit(job!.outputFile, bytes: bytes) } catch { err = message(error) }
            try check(err)
        }
        return Shared(job: job!,
                      model: model, rows: dims[0], rowStart: dims[3], inputRows: dims[4], features: dims[1], element: dims[2] == 4 ? .float32 : .float64,
                      sampleShape: sampleShape,
                      layout: OutputLayout(sampleShape: sampleShape, targets: job!.target.hasAxis
                          ? JobSetup.resolve(job!.target, clusters: model.clusters).count : nil),
                      input: setup?.input, standardization: standardization, resumeKey: key,
                      resuming: state == 1, blockDone: done.map { $0 == 1 }, blockConservation: conservation,
                      storedBeta: beta.isNaN ? nil : beta, alreadyComplete: state == 2)
    }

    func execute<E: ExplainerEngine>(_ engine: E, _ s: Shared) throws {
        let tile = E.tileRows
        let parallelInput = try openParallelInput(s)
        let blocks = BlockStream<E.Scalar>(communicator: comm, input: s.input, parallelInput: parallelInput,
                                           first: s.rowStart, rows: s.rows,
                                           features: s.features, blockRows: s.job.blockRows, tileRows: tile, timer: timer,
                                           layout: s.layout)
        defer { blocks.deallocate() }
        blocks.standardization = s.standardization
        let tilesPerBlock = (min(s.job.blockRows, s.rows) + tile - 1) / tile
        if comm.isRoot && !quiet && tilesPerBlock < comm.size && s.rows > s.job.blockRows {
            FileHandle.standardError.write(Data("neon-batch: warning: execution.block_rows = \(s.job.blockRows) gives \(tilesPerBlock) tiles of \(tile) rows per block for \(comm.size) ranks; some ranks stay idle (use block_rows >= \(comm.size * tile))\n".utf8))
        }
        let cache = scoreCache(s, engine: engine, blocks: blocks)
        let (beta, betaMode) = try stiffness(s, engine: engine, blocks: blocks, cache: cache, parallelInput: parallelInput)
        try explainPass(s, engine: engine, blocks: blocks, beta: beta, betaMode: betaMode, cache: cache)
    }

    /// The beta pass's scores kept for the explain pass (execution.cache_mb), when there is a
    /// beta pass over exactly the rows explained and the engine can keep them; else nil.
    private func scoreCache<E: ExplainerEngine>(_ s: Shared, engine: E, blocks: BlockStream<E.Scalar>) -> ScoreCache<E.Scalar>? {
        guard s.job.method == "neon", case .auto = s.job.beta, !(s.resuming && s.storedBeta != nil),
              s.rows == s.inputRows, engine.scoresPerRow > 0, s.job.cacheMegabytes > 0 else { return nil }
        let cache = ScoreCache<E.Scalar>(blocks: (0..<blocks.blockCount).map { (index: $0, rows: blocks.block($0).myCount) },
                                         width: engine.scoresPerRow, budgetBytes: s.job.cacheMegabytes << 20)
        let kept = comm.allreduceSum(Double(cache.rows)), mb = comm.allreduceMax(Double(cache.bytes)) / Double(1 << 20)
        // Said when it matters (not all rows fit: a larger cache_mb would save work) or with --verbose.
        if comm.isRoot && !quiet && (verbose || Int(kept) < s.rows) {
            FileHandle.standardError.write(Data(String(format: "neon-batch: keeping the beta pass's scores of %.0f of %d rows for the explain pass (%.0f MiB per rank at most, execution.cache_mb %d)\n",
                                                       kept, s.rows, mb, s.job.cacheMegabytes).utf8))
        }
        return cache.rows > 0 ? cache : nil
    }

    /// beta: fixed, stored in the partial output being resumed, or "auto" (Eq. 3): 1 / mean f_c
    /// over the whole dataset, from a first pass computing only the logits. The logits are
    /// gathered to rank 0 and summed in row order: the same beta for any number of ranks.
    /// With a row range (input.rows, --part) the mean is still over the whole input dataset, so
    /// that the parts of an export share the beta of a single run.
    /// `cache`: where to keep the scores of the blocks it holds (the blocks are the explain pass's).
    private func stiffness<E: ExplainerEngine>(_ s: Shared, engine: E, blocks explainBlocks: BlockStream<E.Scalar>,
                                               cache: ScoreCache<E.Scalar>?, parallelInput: InputDataset?) throws -> (Double, String) {
        if s.job.method != "neon" { return (0, "unused") }     // beta is NEON's (Eq. 2)
        if case .fixed(let b) = s.job.beta { return (b, "fixed") }
        if s.resuming, let b = s.storedBeta { return (b, "auto") }
        let whole = s.rows == s.inputRows
        let blocks = whole ? explainBlocks
            : BlockStream<E.Scalar>(communicator: comm, input: s.input, parallelInput: parallelInput, first: 0, rows: s.inputRows,
                                    features: s.features, blockRows: s.job.blockRows, tileRows: E.tileRows, timer: timer)
        blocks.standardization = s.standardization
        defer { if !whole { blocks.deallocate() } }
        progress.begin("beta pass", total: s.inputRows)
        var sum = 0.0
        let outcome = try blocks.pipeline(Array(0..<blocks.blockCount), decide: decide, compute: { block, shard in
            if let kept = cache?.scores(forBlock: block.index) {
                engine.logits(shard.x, rows: block.myCount, assignment: shard.assignment, logit: shard.logit, keepingScores: kept)
            } else {
                engine.logits(shard.x, rows: block.myCount, assignment: shard.assignment, logit: shard.logit)
            }
        }, finish: { block, shard in
            timer.measure("gather") {
                blocks.gatherLogits(block, from: shard) { for i in 0..<block.count { sum += $0[i] } }
            }
            progress.advance(block.count)
        })
        if outcome == .stopped {
            reportStop("during the beta pass; no output was written yet, run the job again")
            throw Stopped()
        }
        var err: String?
        var beta = 0.0
        if comm.isRoot {
            if let b = MinTakesMost.heuristicStiffness(logitSum: sum, count: s.inputRows) {
                beta = b
            } else {
                err = "\(s.job.inputFile): dataset '\(s.job.inputDataset)': the mean logit is \(sum / Double(s.inputRows)), not positive; beta \"auto\" (1 / mean f_c) is undefined, set explain.beta to a number"
            }
        }
        try check(err)
        return (comm.broadcast(beta), "auto")
    }

    /// Collective: rank 0 names the signal that any rank received (rank 0 itself may not have
    /// received it yet when the ranks agreed to stop).
    func reportStop(_ detail: String) {
        let received = comm.allreduceMax(Int(StopSignal.requested ?? 0))
        let sig = received > 0 ? StopSignal.name(Int32(received)) : "a signal"
        if comm.isRoot {
            FileHandle.standardError.write(Data("neon-batch: stopped by \(sig) \(detail) (exit \(ExitStatus.interrupted))\n".utf8))
        }
    }

    func rules(_ s: Shared) -> String {
        if s.job.method != "neon" { return baselineRules(s) }
        switch s.model {
        case .kmeans: return "min-take-most (Eq. 2), midpoint (Eq. 4)"
        case .kernelKMeans:
            return "min-take-most (Eq. 2), soft pooling (footnote 1), reassignment Eq. 10 (\(s.job.kernelRule)), midpoint (Eq. 4)"
        case .head(let m):
            var head: String
            switch s.job.mode {
            case .relative: head = "relative (Prop. 6 / Lemma 3): min-take-most (Eq. 2)"
            case .absolute(let t): head = "absolute (Prop. 7 / Lemma 4, theta = \(t)): LME^-1 pooling, soft-min redistribution with beta, reassignment R_k <- R_k h_k / f_c"
            }
            head += m.kind == "deep_soft" ? ", bias-free midpoint rule (root 0)" : ", midpoint rule (Eq. 4)"
            return m.psi.isEmpty ? head : head + "; psi: " + NeonModel.lrpRules(s.job.lrp).summary
        }
    }

    func provenance(_ s: Shared, beta: Double, betaMode: String) -> [(String, AttributeValue)] {
        baselineProvenance(s) + [
            ("beta", .double(beta)),
            ("beta_mode", .string(betaMode)),
            ("target", .string(s.job.target.text)),
            ("rules", .string(rules(s))),
        ] + headAttributes(s) + [
            ("model_kind", .string(s.model.kind)),
            ("clusters", .int(s.model.clusters)),
            ("model_file", .string(s.job.modelFile)),
            ("input_file", .string(s.job.inputFile)),
            ("input_dataset", .string(s.job.inputDataset)),
            ("rows", .int(s.rows)),
            ("row_start", .int(s.rowStart)),
            ("row_end", .int(s.rowStart + s.rows)),
            ("input_rows", .int(s.inputRows)),
            ("features", .int(s.features)),
            ("ranks", .int(comm.size)),
            ("block_rows", .int(s.job.blockRows)),
            ("job", .string(s.job.jobText)),
            ("job_file", .string(s.job.jobPath)),
            ("software", .string("neon-batch")),
            ("software_version", .string(NeonBatchVersion.current)),
            ("hdf5_version", .string(HDF5Library.version)),
            ("created", .string(ISO8601DateFormatter().string(from: started))),
        ] + ComputeSetup.provenance + (s.resumeKey.contains { $0.0 == "model standardization" } ? [("standardized", .int(1))] : [])
    }
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

extension JobRunner {
    /// Attributes only soft/deep models and target lists have (nothing for the older kinds, so
    /// their outputs stay as they were).
    func headAttributes(_ s: Shared) -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)] = []
        if s.job.compression > 0 { out.append(("compression", .int(s.job.compression))) }
        if let eps = s.job.pruningTolerance { out.append(("pruning_tolerance", .double(eps))) }
        if s.job.target.hasAxis {
            let t = JobSetup.resolve(s.job.target, clusters: s.model.clusters).map { String($0!) }.joined(separator: ",")
            out.append(("targets", .string(t)))
        }
        guard case .head(let m) = s.model else { return out }
        switch s.job.mode {
        case .relative: out.append(("mode", .string("relative")))
        case .absolute(let theta):
            out.append(("mode", .string("absolute")))
            out.append(("theta", .double(theta)))
        }
        if let tau = m.stiffness { out.append(("stiffness", .double(tau))) }
        if !m.psi.isEmpty {
            let r = NeonModel.lrpRules(s.job.lrp)
            out += [("lrp_conv2d", .string(s.job.lrp.conv2d)), ("lrp_linear", .string(s.job.lrp.linear)),
                    ("lrp_gamma", .double(r.convGamma)), ("lrp_epsilon", .double(r.epsilon)),
                    ("psi_layers", .string(m.psi.map(\.type).joined(separator: ",")))]
        }
        return out
    }
}

extension JobRunner.Shared {
    var inputShape: TensorShape {
        sampleShape.count == 3 ? .image(channels: sampleShape[0], height: sampleShape[1], width: sampleShape[2])
                               : .vector(sampleShape[0])
    }
}
