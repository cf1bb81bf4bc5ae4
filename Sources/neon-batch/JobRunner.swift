import Distributed
import Foundation
import NeonCore
import Storage

/// One job on all ranks: set-up on rank 0, the beta pass if beta is "auto", the explain pass
/// writing the output collectively. Every step where a rank can fail ends in
/// `Communicator.agree`, so an error on one rank ends every rank promptly; the rank that saw
/// the error prints it, once.
final class JobRunner {
    let comm: Communicator
    let jobPath: String
    let quiet: Bool
    let progress: Progress
    let started = Date()
    let timer = PhaseTimer()

    init(communicator: Communicator, jobPath: String, quiet: Bool) {
        comm = communicator
        self.jobPath = jobPath
        self.quiet = quiet
        progress = Progress(enabled: !quiet && communicator.isRoot)
    }

    struct Failed: Error {}

    /// Returns the process exit status (the same on every rank).
    func run() -> Int32 {
        do {
            let shared = try timer.measure("setup") { try setUp() }
            switch shared.element {
            case .float32: try execute(Float.self, shared)
            case .float64: try execute(Double.self, shared)
            case .int64: break
            }
            return 0
        } catch {
            return ExitStatus.badInput
        }
    }

    /// Collective check: throws on every rank if any rank saw an error (printed by that rank).
    func check(_ local: String?) throws {
        if let e = comm.agree(local) {
            if e.rank == comm.rank { FileHandle.standardError.write(Data("neon-batch: error: \(e.message)\n".utf8)) }
            throw Failed()
        }
    }

    func message(_ error: Error) -> String {
        switch error {
        case let e as StorageError: return e.message
        case let e as JobError: return e.message
        default: return "\(error)"
        }
    }

    /// What every rank knows after set-up.
    struct Shared {
        let job: JobSpec
        let model: KMeansModel
        let rows: Int
        let features: Int
        let element: ElementType
        let input: InputDataset?        // rank 0 only
    }

    private func setUp() throws -> Shared {
        var setup: JobSetup?
        var err: String?
        if comm.isRoot {
            do { setup = try JobSetup.load(jobPath: jobPath) } catch { err = message(error) }
        }
        try check(err)
        // Every rank parses the same job text (paths already resolved by rank 0's job path).
        let text = comm.broadcast(setup?.job.jobText ?? "")
        let path = comm.broadcast(setup?.job.jobPath ?? "")
        var job = setup?.job
        if !comm.isRoot {
            do { job = try JobSpec.parse(text: text, jobPath: path) } catch { err = message(error) }
        }
        try check(err)
        let dims = comm.broadcast(setup.map { [$0.model.clusters, $0.model.features, $0.rows, $0.features,
                                              $0.element == .float32 ? 4 : 8] } ?? [])
        let centroids = comm.broadcast(setup?.model.centroids ?? [])
        return Shared(job: job!,
                      model: KMeansModel(clusters: dims[0], features: dims[1], centroids: centroids),
                      rows: dims[2], features: dims[3], element: dims[4] == 4 ? .float32 : .float64,
                      input: setup?.input)
    }

    private func execute<T: NeonScalar>(_: T.Type, _ s: Shared) throws {
        let engine = timer.measure("model") { KMeansFastPath<T>(model: s.model) }
        let blocks = BlockStream<T>(communicator: comm, input: s.input, rows: s.rows, features: s.features,
                                    blockRows: s.job.blockRows, tileRows: KMeansFastPath<T>.tileRows, timer: timer)
        defer { blocks.deallocate() }

        // Pass 1 (beta "auto" only): beta = 1 / mean f_c over the whole dataset (Eq. 3). The
        // logits are gathered to rank 0 and summed in row order: the same beta for any P.
        var beta = 0.0
        var betaMode = "fixed"
        switch s.job.beta {
        case .fixed(let b): beta = b
        case .auto:
            betaMode = "auto"
            progress.begin("beta pass", total: s.rows)
            var sum = 0.0
            try blocks.pipeline(check: check, compute: { block, shard in
                engine.logits(shard.x, rows: block.myCount, assignment: shard.assignment, logit: shard.logit)
            }, finish: { block, shard in
                timer.measure("gather") {
                    blocks.gatherLogits(block, from: shard) { for i in 0..<block.count { sum += $0[i] } }
                }
                progress.advance(block.count)
            })
            var err: String?
            if comm.isRoot {
                if let b = MinTakesMost.heuristicStiffness(logitSum: sum, count: s.rows) {
                    beta = b
                } else {
                    err = "\(s.job.inputFile): dataset '\(s.job.inputDataset)': the mean logit is \(sum / Double(s.rows)), not positive; beta \"auto\" (1 / mean f_c) is undefined, set explain.beta to a number"
                }
            }
            try check(err)
            beta = comm.broadcast(beta)
        }

        // Pass 2: explain and write.
        var out: RelevanceOutput?
        var err: String?
        do {
            out = try timer.measure("create") { try RelevanceOutput(creating: s.job.outputFile, communicator: comm, rows: s.rows,
                                      features: s.features, element: T.self == Float.self ? .float32 : .float64,
                                      attributes: provenance(s, beta: beta, betaMode: betaMode)) }
        } catch { err = message(error) }
        try check(err)
        guard let output = out else { throw Failed() }
        progress.begin("explain", total: s.rows)
        var stats = ConservationStats()
        do {
            let betaUsed = beta
            try blocks.pipeline(check: check, compute: { block, shard in
                engine.explain(shard.x, rows: block.myCount, beta: betaUsed, relevance: shard.relevance,
                               assignment: shard.assignment, logit: shard.logit)
            }, finish: { block, shard in
                timer.measure("stats") {
                    stats.add(relevance: shard.relevance, logit: shard.logit, rows: block.myCount, features: s.features)
                }
                var werr: String?
                do {
                    try timer.measure("write") {
                        try output.write(rows: block.myStart, count: block.myCount, relevance: shard.relevance,
                                         assignment: shard.assignment, logit: shard.logit)
                    }
                } catch { werr = message(error) }
                try check(werr)
                progress.advance(block.count)
            })
            stats = stats.reduced(comm)
            let elapsed = Date().timeIntervalSince(started)
            var ferr: String?
            do {
                try timer.measure("finish") { try output.finish(attributes: [
                    ("elapsed_seconds", .double(elapsed)),
                    ("conservation_max_abs_error", .double(stats.maxAbsError)),
                ]) }
            } catch { ferr = message(error) }
            try check(ferr)
            let peak = comm.allreduceMax(peakResidentBytes())
            if comm.isRoot && !quiet {
                RunSummary(job: s.job, model: s.model, rows: s.rows, features: s.features, ranks: comm.size,
                           beta: beta, betaMode: betaMode, elapsed: elapsed, stats: stats,
                           peakResidentBytes: peak, phases: timer.description).print()
            }
        } catch {
            output.abandon()
            throw error
        }
    }

    private func provenance(_ s: Shared, beta: Double, betaMode: String) -> [(String, AttributeValue)] {
        [
            ("beta", .double(beta)),
            ("beta_mode", .string(betaMode)),
            ("target", .string("assigned")),
            ("rules", .string("min-take-most (Eq. 2), midpoint (Eq. 4)")),
            ("model_kind", .string("kmeans")),
            ("clusters", .int(s.model.clusters)),
            ("model_file", .string(s.job.modelFile)),
            ("input_file", .string(s.job.inputFile)),
            ("input_dataset", .string(s.job.inputDataset)),
            ("rows", .int(s.rows)),
            ("features", .int(s.features)),
            ("ranks", .int(comm.size)),
            ("block_rows", .int(s.job.blockRows)),
            ("job", .string(s.job.jobText)),
            ("job_file", .string(s.job.jobPath)),
            ("software", .string("neon-batch")),
            ("software_version", .string(NeonBatch.version)),
            ("hdf5_version", .string(HDF5Library.version)),
            ("created", .string(ISO8601DateFormatter().string(from: started))),
        ]
    }
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
