import Distributed
import Foundation
import NeonCore
import Storage

/// One fit job (or elbow run) on all ranks: set-up and checks on rank 0, the input read once and
/// scattered into per-rank shards, the fit (collectives through `MPIFitCollectives`), the model
/// written by rank 0. Every step where a rank can fail ends in a collective check, so one rank's
/// error ends every rank promptly with the one line printed once.
package final class FitRunner {
    let comm: Communicator
    let jobPath: String
    let quiet: Bool
    /// Every iteration's line (--verbose); otherwise a live line on a terminal, a line every 5 s in a log.
    let verbose: Bool
    /// Elbow mode: the values of K and the output prefix (nil: next to output.file).
    package var elbow: ([Int], String?)?
    let started = Date()

    package init(communicator: Communicator, jobPath: String, quiet: Bool, verbose: Bool = false) {
        comm = communicator
        self.jobPath = jobPath
        self.quiet = quiet
        self.verbose = verbose
    }

    private var lastIterationNote = Date.distantPast
    private var lastPhase = ""
    private var liveLine = false


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

    /// Collective: throws on every rank if any rank saw an error (printed once, by that rank).
    func check(_ local: String?) throws { try agreeOnError(local, comm) }

    func message(_ error: Error) -> String { oneLineMessage(error) }

    /// Rank 0 prints a line on stdout (unless quiet).
    func say(_ line: String) {
        guard comm.isRoot && !quiet else { return }
        endLiveLine()
        print(line)
    }

    /// Rank 0 prints a progress line on stderr (unless quiet).
    func note(_ line: String) {
        guard comm.isRoot && !quiet else { return }
        endLiveLine()
        FileHandle.standardError.write(Data("neon-batch: \(line)\n".utf8))
    }

    /// An iteration's line: every one with --verbose; otherwise one line updated in place on a
    /// terminal (5 times a second at most), or in a log the first of each `phase` (a fit, the
    /// k-means start of kernel k-means, one K of elbow) and then one every 5 s.
    func iterationNote(_ line: String, phase: String) {
        guard comm.isRoot && !quiet else { return }
        if verbose { return note(line) }
        let now = Date(), live = isatty(2) != 0
        guard phase != lastPhase || now.timeIntervalSince(lastIterationNote) >= (live ? 0.2 : 5) else { return }
        lastIterationNote = now
        lastPhase = phase
        if live {
            FileHandle.standardError.write(Data("\rneon-batch: \(line)\u{1B}[K".utf8))
            liveLine = true
        } else {
            note(line)
        }
    }

    /// Ends the line updated in place, if any, before other output.
    private func endLiveLine() {
        if liveLine { FileHandle.standardError.write(Data("\n".utf8)) }
        liveLine = false
    }

    struct Shared {
        let spec: FitSpec
        let rows: Int
        let features: Int
        let element: ElementType
        let input: InputDataset?      // rank 0 only
        let labels: [Int64]?          // rank 0 only, kernel k-means with fit.init labels
    }

    private func setUp() throws -> Shared {
        var spec: FitSpec?
        var input: InputDataset?
        var labels: [Int64]?
        var err: String?
        if comm.isRoot {
            do {
                let s = try FitSpec.load(path: jobPath)
                spec = s
                let x = try InputDataset(path: s.inputFile, dataset: s.inputDataset)
                input = x
                try checkAgainstInput(s, x)
                if case .labels(let file, let dataset) = s.kernelInit {
                    labels = try ModelFile.loadLabels(path: file, dataset: dataset)
                    try checkLabels(labels!, s, x, file: file, dataset: dataset)
                }
            } catch { err = message(error) }
        }
        try check(err)
        let text = comm.broadcast(spec?.jobText ?? "")
        let path = comm.broadcast(spec?.jobPath ?? "")
        if !comm.isRoot {
            do { spec = try FitSpec.parse(text: text, jobPath: path) } catch { err = message(error) }
        }
        try check(err)
        let dims = comm.broadcast(input.map { [$0.rows, $0.features, $0.element == .float32 ? 4 : 8] } ?? [])
        return Shared(spec: spec!, rows: dims[0], features: dims[1], element: dims[2] == 4 ? .float32 : .float64,
                      input: input, labels: labels)
    }

    private func checkAgainstInput(_ s: FitSpec, _ x: InputDataset) throws {
        let ks = elbow?.0 ?? [s.clusters]
        if let k = ks.max(), k > x.rows {
            throw JobError(message: "\(s.jobPath): fit.clusters \(k) exceeds the \(x.rows) rows of dataset '\(s.inputDataset)' of \(s.inputFile)")
        }
        if s.algorithm == .kernelKMeans && elbow != nil {
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
