import Distributed
import Foundation
import NeonCore
import Storage

/// One job on all ranks: set-up on rank 0, the beta pass if beta is "auto", the explain pass
/// writing the output collectively (or continuing a partial output). Every step where a rank can
/// fail or be asked to stop ends in a collective decision, so that an error on one rank ends every
/// rank promptly (the rank that saw it prints it, once) and a signal stops every rank cleanly.
package final class JobRunner: RankRunner {
    let ranks: RankContext
    let jobPath: String
    let resume: Bool
    let part: Part?
    let progress: Progress
    let started = Date()
    let timer = PhaseTimer()

    package init(communicator: Communicator, jobPath: String, quiet: Bool, verbose: Bool = false, resume: Bool, part: Part? = nil) {
        ranks = RankContext(communicator, quiet: quiet, verbose: verbose)
        self.jobPath = jobPath
        self.resume = resume
        self.part = part
        progress = Progress(enabled: ranks.speaks)
    }

    struct Stopped: Error {}

    /// Returns the process exit status (the same on every rank).
    package func run() -> Int32 {
        do {
            let shared = try timer.measure("setup") { try setUp() }
            if shared.alreadyComplete {
                say("neon-batch: \(shared.job.outputFile) is already complete; nothing to do")
                return 0
            }
            if shared.job.method != .neon {
                try executeBaseline(shared.job.method, shared)
                return 0
            }
            // NEON: the model kind's engine in the input's precision.
            let targets = JobSetup.resolve(shared.job.target, clusters: shared.model.clusters)
            let model = shared.model.base, shape = shared.inputShape
            if shared.element == .float32 {
                try execute(timer.measure("model") { model.engine(Float.self, job: shared.job, targets: targets, input: shape) }, shared)
            } else {
                try execute(timer.measure("model") { model.engine(Double.self, job: shared.job, targets: targets, input: shape) }, shared)
            }
            return 0
        } catch is Stopped {
            return ExitStatus.interrupted
        } catch {
            return ExitStatus.badInput
        }
    }

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

    /// What rank 0's set-up found that every rank needs, sent in one broadcast.
    struct SetUpFacts: Codable {
        enum OutputState: Int, Codable { case new, partial, complete }
        var jobText: String, jobPath: String
        /// A --part names its own file.
        var outputFile: String
        var rows: Int, rowStart: Int, inputRows: Int, features: Int
        var element: String
        var sampleShape: [Int]
        var output: OutputState
        var blockDone: [Bool]
        var blockConservation: [Double]
        var storedBeta: Double?
        var standardization: [[Double]]?
        /// The resume key goes into the output's attributes, which every rank writes alike.
        var resumeKey: [[String]]

        init(_ setup: JobSetup) {
            let partial = setup.partial
            jobText = setup.job.jobText
            jobPath = setup.job.jobPath
            outputFile = setup.job.outputFile
            rows = setup.rows
            rowStart = setup.range.lowerBound
            inputRows = setup.input.rows
            features = setup.features
            element = setup.element.rawValue
            sampleShape = setup.input.sampleShape
            output = partial == nil ? .new : (partial!.status == "complete" ? .complete : .partial)
            blockDone = partial?.blockDone ?? []
            blockConservation = partial?.blockConservation ?? []
            storedBeta = partial?.beta.flatMap { $0.isNaN ? nil : $0 }
            standardization = setup.standardization.map { [$0.mean, $0.std] }
            resumeKey = setup.resumeKey.map { [$0.0, $0.1] }
        }
    }

    private func setUp() throws -> Shared {
        let setup = try ranks.onRoot { try JobSetup.load(jobPath: jobPath, resume: resume, part: part) }
        let facts = ranks.broadcast(setup.map(SetUpFacts.init))
        // Every rank parses the same job text (paths already resolved by rank 0's job path).
        let job = try ranks.everyRank { () throws -> JobSpec in
            if let job = setup?.job { return job }
            var parsed = try JobSpec.parse(text: facts.jobText, jobPath: facts.jobPath)
            parsed.resume = parsed.resume || resume
            parsed.outputFile = facts.outputFile
            return parsed
        }
        let model = NeonModel.broadcast(setup?.model, comm)
        let element: ElementType = facts.element == "float32" ? .float32 : .float64
        let layout = OutputLayout(sampleShape: facts.sampleShape, targets: job.target.hasAxis
            ? JobSetup.resolve(job.target, clusters: model.clusters).count : nil)
        if facts.output == .new {
            // Rank 0 checked its own limits and the device; the others check their own limit.
            let br = min(job.blockRows, facts.rows)
            let bytes = layout.expectedBytes(rows: facts.rows, element: element, blocks: (facts.rows + br - 1) / br)
            try ranks.everyRank { try RelevanceOutput.checkFileSizeLimit(job.outputFile, bytes: bytes) }
        }
        return Shared(job: job, model: model, rows: facts.rows, rowStart: facts.rowStart, inputRows: facts.inputRows,
                      features: facts.features, element: element, sampleShape: facts.sampleShape, layout: layout,
                      input: setup?.input, standardization: facts.standardization.map { Standardization(mean: $0[0], std: $0[1]) },
                      resumeKey: facts.resumeKey.map { ($0[0], $0[1]) },
                      resuming: facts.output == .partial, blockDone: facts.blockDone, blockConservation: facts.blockConservation,
                      storedBeta: facts.storedBeta, alreadyComplete: facts.output == .complete)
    }

    /// Runs the passes with `engine` (generic over the precision only: the block stream and the
    /// passes are specialised for Float and Double; the engine's calls are per tile).
    func execute<S: NeonScalar>(_ engine: any ExplainerEngine<S>, _ s: Shared) throws {
        let tile = type(of: engine).tileRows
        let parallelInput = try openParallelInput(s)
        let blocks = BlockStream<S>(communicator: comm, input: s.input, parallelInput: parallelInput,
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
    private func scoreCache<S: NeonScalar>(_ s: Shared, engine: any ExplainerEngine<S>, blocks: BlockStream<S>) -> ScoreCache<S>? {
        guard s.job.method == .neon, case .auto = s.job.beta, !(s.resuming && s.storedBeta != nil),
              s.rows == s.inputRows, engine.scoresPerRow > 0, s.job.cacheMegabytes > 0 else { return nil }
        let cache = ScoreCache<S>(blocks: (0..<blocks.blockCount).map { (index: $0, rows: blocks.block($0).myCount) },
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
    private func stiffness<S: NeonScalar>(_ s: Shared, engine: any ExplainerEngine<S>, blocks explainBlocks: BlockStream<S>,
                                          cache: ScoreCache<S>?, parallelInput: InputDataset?) throws -> (Double, String) {
        if s.job.method != .neon { return (0, "unused") }     // beta is NEON's (Eq. 2)
        if case .fixed(let b) = s.job.beta { return (b, "fixed") }
        if s.resuming, let b = s.storedBeta { return (b, "auto") }
        let whole = s.rows == s.inputRows
        let blocks = whole ? explainBlocks
            : BlockStream<S>(communicator: comm, input: s.input, parallelInput: parallelInput, first: 0, rows: s.inputRows,
                             features: s.features, blockRows: s.job.blockRows, tileRows: type(of: engine).tileRows, timer: timer)
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

    /// Collective: rank 0 says which signal stopped the job and what is left.
    func reportStop(_ detail: String) {
        ranks.reportStop { "stopped by \($0) \(detail) (exit \(ExitStatus.interrupted))" }
    }

    func rules(_ s: Shared) -> String {
        s.job.method == .neon ? s.model.base.rules(job: s.job) : baselineRules(s)
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
    /// Attributes only some kinds (soft/deep models) and target lists have (nothing for the older kinds, so
    /// their outputs stay as they were).
    func headAttributes(_ s: Shared) -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)] = []
        if s.job.compression > 0 { out.append(("compression", .int(s.job.compression))) }
        if let eps = s.job.pruningTolerance { out.append(("pruning_tolerance", .double(eps))) }
        if s.job.target.hasAxis {
            let t = JobSetup.resolve(s.job.target, clusters: s.model.clusters).map { String($0!) }.joined(separator: ",")
            out.append(("targets", .string(t)))
        }
        return out + s.model.base.attributes(job: s.job, evaluation: false)
    }
}

extension JobRunner.Shared {
    var inputShape: TensorShape {
        sampleShape.count == 3 ? .image(channels: sampleShape[0], height: sampleShape[1], width: sampleShape[2])
                               : .vector(sampleShape[0])
    }
}
