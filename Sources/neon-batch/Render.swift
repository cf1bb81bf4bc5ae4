import ArgumentParser
import Foundation
import Rendering
import NeonPipeline
import Storage

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw an output's explanations: SVG bar charts or PNG heatmaps, and an index.html.",
        discussion: """
            Tabular relevance (N x d): an SVG bar chart of the --top features of largest |R_i| per \
            chosen sample, and of largest |mean relevance| per cluster. Spatial relevance \
            (N x C x H x W, or N x T x C x H x W with one map per target cluster; or N x d drawn as \
            C x H x W images with --shape or the input's image_shape attribute): a PNG per sample \
            with a title, the channel-summed relevance per position, one tile per target (the \
            paper's Fig. 7) labelled with its cluster, each in a diverging colour map centred at 0 \
            (blue < 0 < red) with its own scale and colour bar, and a PNG of each cluster's mean \
            map; --overlay DATASET puts the input image first and draws the maps over it (opacity \
            = |R| / scale), --centroids draws cluster maps over the k-means centroid. DIR/index.html \
            shows the summary and clusters as tables (with f_c histograms) and one gallery per \
            cluster. Reads the output only; one process, no mpirun.
            """)

    @Argument(help: "The output file (HDF5) of a job.")
    var output: String

    @Option(help: "Samples to draw: indices and ranges, e.g. 0,5,10-12 (default: the first 3 samples of each of at most 12 clusters).")
    var samples: String?

    @Option(help: "Folder for the figures and index.html (created if missing).")
    var out: String

    @Option(help: "auto (bars for N x d, heatmaps for spatial relevance), bars or heatmaps.")
    var charts: RenderOptions.Charts = .auto

    @Option(help: "Features per bar chart.")
    var top = 10

    @Option(help: "Image dataset in the input file to show under the heatmaps.")
    var overlay: String?

    @Option(help: "Input file (feature names, --overlay), if not the one the output records.")
    var input: String?

    @Option(help: "Pixels per relevance position in heatmaps (default: tiles of at least 128 pixels; a figure may be at most 16384 pixels a side and 2^25 in all).")
    var scale: Int?

    @Option(help: "Draw flat relevance (N x d) as images of C x H x W (or H x W) positions, e.g. 1x8x8; C * H * W must be d (default: the input dataset's attribute image_shape, if any).")
    var shape: String?

    @Option(help: "Dataset in the input file with one label per input row (integers or strings), shown in captions and titles.")
    var labels: String?

    @Flag(help: "Draw each cluster's mean map over its centroid as an image (k-means models whose d is C * H * W).")
    var centroids = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be >= 1") }
        if let s = scale, s < 1 { throw ValidationError("--scale must be >= 1") }
        do {
            if let s = samples { _ = try SampleList.parse(s) }
            if let s = shape { _ = try ImageShape.parse(s) }
        } catch let e as OptionError {
            throw ValidationError(e.message)
        }
    }

    var options: RenderOptions {
        RenderOptions(output: output, samples: samples, out: out, charts: charts, top: top, overlay: overlay,
                      input: input, scale: scale, shape: shape, labels: labels, centroids: centroids)
    }

    func run() throws {
        HDF5Library.silenceErrorStack()
        do {
            try RenderJob(options: options).run()
        } catch let e as OptionError {
            throw ValidationError(e.message)
        } catch let e as StorageError {
            fail(e.message)
        } catch let e as RenderError {
            fail(e.message)
        }
    }
}

extension RenderOptions.Charts: ExpressibleByArgument {}
