import ArgumentParser
import Distributed
import Foundation
import NeonCore
import NeonPipeline
import Storage

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a k-means, kernel k-means or softmax-head model to a dataset and write the model file.",
        discussion: """
            Run under mpirun or srun for several ranks: rank 0 reads the input once in blocks of \
            execution.block_rows rows and scatters it; every rank holds its share of the rows in \
            memory (N x d x 4 / P bytes for float32 input) for all iterations. The model file \
            written is the one explain jobs read (model.file). fit.algorithm "softmax" trains a \
            softmax clustering head by fit.loss mutual_information, collision_cross_entropy or iic \
            (the same model bit for bit on any number of ranks). The fit job format is described \
            in docs/fitting.md.
            """)

    @Argument(help: "The fit job file (JSON).")
    var job: String

    @Flag(name: .shortAndLong, help: "Print nothing on success (no progress, no summary).")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print a line per iteration (objective, change, rows reassigned, work done).")
    var verbose = false

    func run() throws {
        let comm = ComputeSetup.start(quiet: quiet)
        let status = FitRunner(communicator: comm, jobPath: job, quiet: quiet, verbose: verbose).run()
        Communicator.finalize()
        if status != 0 { throw ExitCode(status) }
    }
}

struct Elbow: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit k-means for several K and write the inertia per K (CSV, markdown table, SVG plot).",
        discussion: """
            Uses a fit job (fit.algorithm "kmeans"; fit.clusters is replaced by each K of \
            --clusters). The paper picks K by the elbow of this curve. Nothing is written to the \
            job's output.file; the table and plot go next to it unless --prefix is given: \
            PREFIX.csv, PREFIX.md, PREFIX.svg (default PREFIX: output.file without its extension, \
            plus "-elbow").
            """)

    @Argument(help: "The fit job file (JSON).")
    var job: String

    @Option(help: "The values of K: a comma-separated list and/or ranges, e.g. 2,3,4 or 2-12 or 2-20:2.")
    var clusters: String

    @Option(help: "Path prefix of the table and plot files.")
    var prefix: String?

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print a line per iteration of every fit.")
    var verbose = false

    func validate() throws {
        guard let list = Self.parseClusters(clusters), !list.isEmpty else {
            throw ValidationError("--clusters must list integers >= 2, e.g. 2,3,4 or 2-12 or 2-20:2")
        }
        _ = list
    }

    /// "2,3,5-8,10-20:5" -> [2, 3, 5, 6, 7, 8, 10, 15, 20] (sorted, unique), nil if malformed.
    static func parseClusters(_ text: String) -> [Int]? {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let p = part.trimmingCharacters(in: .whitespaces)
            let stepSplit = p.split(separator: ":", omittingEmptySubsequences: false)
            guard stepSplit.count <= 2 else { return nil }
            let step = stepSplit.count == 2 ? Int(stepSplit[1]) : 1
            let ends = stepSplit[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard let s = step, s >= 1, ends.count <= 2, let a = ends.first ?? nil, let b = ends.last ?? nil,
                  a >= 2, b >= a, b <= 1 << 20 else { return nil }
            for k in stride(from: a, through: b, by: s) { out.insert(k) }
        }
        return out.sorted()
    }

    func run() throws {
        let comm = ComputeSetup.start(quiet: quiet)
        let runner = FitRunner(communicator: comm, jobPath: job, quiet: quiet, verbose: verbose)
        runner.elbow = (Self.parseClusters(clusters)!, prefix)
        let status = runner.run()
        Communicator.finalize()
        if status != 0 { throw ExitCode(status) }
    }
}
