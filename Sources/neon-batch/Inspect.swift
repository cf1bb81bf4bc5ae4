import ArgumentParser
import Foundation
import NeonPipeline
import Storage

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise an output file: status, shapes, run, clusters, conservation, top features.",
        discussion: """
            Reads the output (never writes it), in one process (no mpirun needed): status and \
            progress, dataset shapes and axis names, model kind, beta and rules, ranks and time \
            taken, per-cluster counts and mean logits, conservation (max and mean \
            |sum_i R_i - f_c|) where the rule conserves, and per cluster the features of largest \
            mean relevance over its members, named from the input's feature_names when it has them.
            """)

    @Argument(help: "The output file (HDF5) of a job.")
    var output: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Features listed per cluster.")
    var top = 5

    @Option(help: "Input file for feature names, if not the one the output records.")
    var input: String?

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be >= 0") }
    }

    func run() throws {
        HDF5Library.silenceErrorStack()
        do {
            let report = try InspectReport.read(path: output, input: input, top: top)
            print(json ? try report.json() : report.text)
        } catch let e as StorageError {
            fail(e.message)
        }
    }
}
