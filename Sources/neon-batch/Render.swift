import ArgumentParser
import Foundation
import Rendering
import Storage

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw an output's explanations: SVG bar charts or PNG heatmaps, and an index.html.",
        discussion: """
            Tabular relevance (N x d): an SVG bar chart of the --top features of largest |R_i| per \
            chosen sample, and of largest |mean relevance| per cluster. Spatial relevance \
            (N x C x H x W, or N x T x C x H x W with one map per target cluster): a PNG per sample \
            with the channel-summed relevance per position, one tile per target (the paper's \
            Fig. 7), in a diverging colour map centred at 0 (blue < 0 < red), and a PNG of each \
            cluster's mean map; --overlay DATASET puts the input image (N x C x H x W or N x H x W \
            in the input file) first and under the maps. DIR/index.html shows the figures with the \
            summary of `neon-batch inspect`. Reads the output only; one process, no mpirun.
            """)

    enum Charts: String, ExpressibleByArgument, CaseIterable { case auto, bars, heatmaps }

    @Argument(help: "The output file (HDF5) of a job.")
    var output: String

    @Option(help: "Samples to draw: indices and ranges, e.g. 0,5,10-12 (default: the first sample of each cluster, at most 12).")
    var samples: String?

    @Option(help: "Folder for the figures and index.html (created if missing).")
    var out: String

    @Option(help: "auto (bars for N x d, heatmaps for spatial relevance), bars or heatmaps.")
    var charts: Charts = .auto

    @Option(help: "Features per bar chart.")
    var top = 10

    @Option(help: "Image dataset in the input file to show under the heatmaps.")
    var overlay: String?

    @Option(help: "Input file (feature names, --overlay), if not the one the output records.")
    var input: String?

    @Option(help: "Pixels per relevance position in heatmaps (default: tiles of at least 128 pixels).")
    var scale: Int?

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be >= 1") }
        if let s = scale, !(1...64).contains(s) { throw ValidationError("--scale must be in 1...64") }
        if let s = samples { _ = try SampleList.parse(s) }
    }

    func run() throws {
        HDF5Library.silenceErrorStack()
        do {
            try RenderJob(options: self).run()
        } catch let e as StorageError {
            fail(e.message)
        } catch let e as RenderError {
            fail(e.message)
        }
    }
}

/// `--samples`: comma-separated indices and inclusive ranges a-b.
enum SampleList {
    static func parse(_ text: String) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil && $0! >= 0 }),
                  bounds.count == 1 || bounds[0]! <= bounds[1]! else {
                throw ValidationError("--samples: '\(part)' is not an index or a range a-b (e.g. 0,5,10-12)")
            }
            guard bounds.last!! - bounds[0]! < 10_000 - out.count else {
                throw ValidationError("--samples: more than 10000 samples")
            }
            out += Array(bounds[0]!...bounds.last!!)
        }
        var seen = Set<Int>()
        return out.filter { seen.insert($0).inserted }
    }
}
