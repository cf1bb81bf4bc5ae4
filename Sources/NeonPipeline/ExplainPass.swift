import Distributed
import Foundation
import NeonCore
import Storage

extension JobRunner {
    /// Blocks between durable checkpoints (H5Fflush = MPI_File_sync): a node crash loses at most
    /// this many blocks; a killed process loses nothing that was written (the OS has it).
    static let checkpointEvery = 8

    /// Explains every block not done yet and writes it collectively; records each finished block
    /// in the output's progress record, so that an interrupted run can be resumed.
    /// `cache`: the beta pass's scores of some blocks (explained from them, the same bits).
    func explainPass<S: NeonScalar>(_ s: Shared, engine: any ExplainerEngine<S>, blocks: BlockStream<S>,
                                    beta: Double, betaMode: String, cache: ScoreCache<S>? = nil) throws {
        let element: ElementType = S.self == Float.self ? .float32 : .float64
        var out: RelevanceOutput?
        var err: String?
        do {
            out = try timer.measure("create") {
                s.resuming
                    ? try RelevanceOutput(resuming: s.job.outputFile, communicator: comm, element: element,
                                          channels: s.layout.channelShape != nil,
                                          reserving: s.layout.expectedBytes(rows: s.rows, element: element, blocks: blocks.blockCount))
                    : try RelevanceOutput(creating: s.job.outputFile, communicator: comm, rows: s.rows,
                                          features: s.features, element: element, blocks: blocks.blockCount,
                                          key: s.resumeKey, attributes: provenance(s, beta: beta, betaMode: betaMode),
                                          layout: s.layout, compression: s.job.compression)
            }
        } catch { err = message(error) }
        try check(err)
        guard let output = out else { throw RankFailed() }

        var doneFlags = s.resuming ? s.blockDone : [Bool](repeating: false, count: blocks.blockCount)
        var conservation = s.resuming ? s.blockConservation : [Double](repeating: .nan, count: blocks.blockCount)
        let order = (0..<blocks.blockCount).filter { !doneFlags[$0] }
        if s.resuming {
            say("neon-batch: resuming \(s.job.outputFile): \(blocks.blockCount - order.count) of \(blocks.blockCount) blocks already done")
        }
        progress.begin("explain", total: order.reduce(0) { $0 + blocks.block($1).count })
        var stats = ConservationStats()
        let targets = engine.targetCount
        let channels = s.layout.channelShape.map { _ in
            ChannelSums(maps: targets * s.sampleShape[0], positions: s.sampleShape[1] * s.sampleShape[2],
                        rows: blocks.shardCapacity)
        }
        defer { channels?.scratch.deallocate() }
        var sinceCheckpoint = 0
        do {
            let outcome = try blocks.pipeline(order, decide: decide, compute: { block, shard in
                if let kept = cache?.scores(forBlock: block.index) {
                    engine.explain(shard.x, rows: block.myCount, beta: beta, relevance: shard.relevance,
                                   assignment: shard.assignment, logit: shard.logit, cachedScores: kept)
                } else {
                    engine.explain(shard.x, rows: block.myCount, beta: beta, relevance: shard.relevance,
                                   assignment: shard.assignment, logit: shard.logit, firstRow: blocks.first + block.myStart)
                }
                if let c = channels {
                    // relevance_channels: sum over the H x W positions of every (row, target, channel)
                    S.rowSums(shard.relevance, rows: block.myCount * c.maps, features: c.positions, into: c.scratch)
                    for i in 0..<(block.myCount * c.maps) { shard.channels[i] = S(c.scratch[i]) }
                }
            }, finish: { block, shard in
                let blockError = timer.measure("stats") {
                    stats.add(relevance: shard.relevance, logit: shard.logit, rows: block.myCount * targets, features: s.features)
                }
                var werr: String?
                do {
                    try timer.measure("write") {
                        try output.write(rows: block.myStart, count: block.myCount, relevance: shard.relevance,
                                         assignment: shard.assignment, logit: shard.logit, channels: shard.channels)
                    }
                } catch { werr = message(error) }
                try check(werr)
                let blockMax = comm.allreduceMax(blockError)
                do {
                    try timer.measure("progress") { try output.markDone(block: block.index, conservation: blockMax) }
                    doneFlags[block.index] = true
                    conservation[block.index] = blockMax
                    sinceCheckpoint += 1
                    if sinceCheckpoint == Self.checkpointEvery {
                        sinceCheckpoint = 0
                        try timer.measure("checkpoint") { try output.checkpoint(blocksDone: doneFlags.filter { $0 }.count) }
                    }
                } catch { werr = message(error) }
                try check(werr)
                progress.advance(block.count)
            })
            let blocksDone = doneFlags.filter { $0 }.count
            if outcome == .stopped {
                output.abandon(blocksDone: blocksDone)
                reportStop("after \(blocksDone) of \(blocks.blockCount) blocks; \(s.job.outputFile) is incomplete: continue it with output.resume true (or run --resume)")
                throw Stopped()
            }
            stats = stats.reduced(comm)
            let pruning = (engine as? PruningReporting).map { PruningSummary($0, comm) }
            let elapsed = Date().timeIntervalSince(started)
            var ferr: String?
            do {
                try timer.measure("finish") { try output.finish(attributes: [
                    ("blocks_done", .int(blocksDone)),
                    ("elapsed_seconds", .double(elapsed)),
                    ("conservation_max_abs_error", .double(conservation.max() ?? 0)),
                ] + (pruning?.attributes ?? [])) }
            } catch { ferr = message(error) }
            try check(ferr)
            let peak = comm.allreduceMax(peakResidentBytes())
            let slowest = timer.slowest(comm)
            if comm.isRoot && !quiet {
                RunSummary(job: s.job, model: s.model, rows: stats.count / targets, features: s.features, ranks: comm.size,
                           beta: beta, betaMode: betaMode, elapsed: elapsed, stats: stats,
                           peakResidentBytes: peak, phases: timer.description, slowestPhases: slowest,
                           pruning: pruning?.line).print()
            }
        } catch let e as Stopped {
            throw e
        } catch {
            output.abandon()
            throw error
        }
    }
}

/// Scratch for relevance_channels: (rows x targets x channels) sums over H x W positions.
struct ChannelSums: @unchecked Sendable {
    let maps: Int, positions: Int
    let scratch: UnsafeMutablePointer<Double>

    init(maps: Int, positions: Int, rows: Int) {
        self.maps = maps
        self.positions = positions
        scratch = .allocate(capacity: max(1, rows * maps))
    }
}
