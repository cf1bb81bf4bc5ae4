import Distributed
import Foundation
import NeonCore
import Storage

/// One fit job (or elbow run) on all ranks: set-up and checks on rank 0, the input read once and
/// scattered into per-rank shards, the fit (collectives through `MPIFitCollectives`), the model
/// written by rank 0. Every step where a rank can fail ends in a collective check, so one rank's
/// error ends every rank promptly with the one line printed once.
package final class FitRunner: RankRunner {
    let ranks: RankContext
    let jobPath: String
    /// Elbow mode: the values of K and the output prefix (nil: next to output.file).
    package var elbow: ([Int], String?)?
    let started = Date()

    package init(communicator: Communicator, jobPath: String, quiet: Bool, verbose: Bool = false) {
        ranks = RankContext(communicator, quiet: quiet, verbose: verbose)
        self.jobPath = jobPath
    }

    private var lastIterationNote = Date.distantPast
    private var lastPhase = ""

    package func run() -> Int32 {
        do {
            let s = try setUp()
            switch s.element {
            case .float32: try fit(s, as: Float.self)
            default: try fit(s, as: Double.self)
            }
            return 0
        } catch {
            return ExitStatus.badInput
        }
    }

    /// An iteration's line: every one with --verbose; otherwise one line updated in place on a
    /// terminal (5 times a second at most), or in a log the first of each `phase` (a fit, the
    /// k-means start of kernel k-means, one K of elbow) and then one every 5 s.
    func iterationNote(_ line: String, phase: String) {
        guard ranks.speaks else { return }
        if verbose { return note(line) }
        let now = Date(), live = isatty(2) != 0
        guard phase != lastPhase || now.timeIntervalSince(lastIterationNote) >= (live ? 0.2 : 5) else { return }
        lastIterationNote = now
        lastPhase = phase
        if live { ranks.live(line) } else { note(line) }
    }

    struct Shared {
        let spec: FitSpec
        let rows: Int
        let features: Int
        let element: ElementType
        let input: InputDataset?      // rank 0 only
        let labels: [Int64]?          // rank 0 only, kernel k-means with fit.init labels
        /// IIC's second views (input.pairs), rank 0 only.
        var pairs: InputDataset? = nil
    }

    /// What rank 0's set-up found that every rank needs, sent in one broadcast.
    struct SetUpFacts: Codable {
        var jobText: String, jobPath: String
        var rows: Int, features: Int, element: String
    }

    private func setUp() throws -> Shared {
        var labels: [Int64]?
        var pairs: InputDataset?
        let loaded = try ranks.onRoot { () throws -> (FitSpec, InputDataset) in
            let s = try FitSpec.load(path: jobPath)
            let x = try InputDataset(path: s.inputFile, dataset: s.inputDataset)
            try checkAgainstInput(s, x)
            if let name = s.softmax?.pairsDataset {
                let p = try InputDataset(path: s.inputFile, dataset: name)
                guard p.rows == x.rows, p.sampleShape == x.sampleShape, p.element == x.element else {
                    throw StorageError("\(s.inputFile): dataset '\(name)' (input.pairs) has \(p.rows) x \(p.sampleShape.map(String.init).joined(separator: " x ")) \(p.element.rawValue) values; the second views must have the shape and type of dataset '\(s.inputDataset)', \(x.rows) x \(x.sampleShape.map(String.init).joined(separator: " x ")) \(x.element.rawValue)")
                }
                pairs = p
            }
            if case .labels(let file, let dataset) = s.kernelInit {
                labels = try ModelFile.loadLabels(path: file, dataset: dataset)
                try checkLabels(labels!, s, x, file: file, dataset: dataset)
            }
            return (s, x)
        }
        let facts = ranks.broadcast(loaded.map { s, x in
            SetUpFacts(jobText: s.jobText, jobPath: s.jobPath, rows: x.rows, features: x.features, element: x.element.rawValue)
        })
        let spec = try ranks.everyRank { try loaded?.0 ?? FitSpec.parse(text: facts.jobText, jobPath: facts.jobPath) }
        return Shared(spec: spec, rows: facts.rows, features: facts.features, element: facts.element == "float32" ? .float32 : .float64,
                      input: loaded?.1, labels: labels, pairs: pairs)
    }

    private func checkAgainstInput(_ s: FitSpec, _ x: InputDataset) throws {
        let ks = elbow?.0 ?? [s.clusters]
        if let k = ks.max(), k > x.rows {
            throw JobError(message: "\(s.jobPath): fit.clusters \(k) exceeds the \(x.rows) rows of dataset '\(s.inputDataset)' of \(s.inputFile)")
        }
        if s.algorithm != .kmeans && elbow != nil {
            throw JobError(message: "\(s.jobPath): the elbow helper needs fit.algorithm \"kmeans\"")
        }
        let bytesPerRow = x.features * x.element.byteCount
        guard s.blockRows * bytesPerRow <= Int(Int32.max) else {
            throw JobError(message: "\(s.jobPath): execution.block_rows \(s.blockRows) x \(x.features) features exceeds 2 GiB per block; use at most \(Int(Int32.max) / bytesPerRow)")
        }
        if elbow == nil {
            try RelevanceOutput.checkTarget(s.outputFile, overwrite: s.overwrite, inputPath: s.inputFile, modelPath: "/")
        }
    }

    private func checkLabels(_ labels: [Int64], _ s: FitSpec, _ x: InputDataset, file: String, dataset: String) throws {
        guard labels.count == x.rows else {
            throw StorageError("\(file): dataset '\(dataset)' has \(labels.count) labels but dataset '\(s.inputDataset)' of \(s.inputFile) has \(x.rows) rows")
        }
        if let i = labels.firstIndex(where: { $0 < 0 || $0 >= s.clusters }) {
            throw StorageError("\(file): dataset '\(dataset)' row \(i) holds label \(labels[i]), not in 0..\(s.clusters - 1) (fit.clusters = \(s.clusters))")
        }
    }
}
