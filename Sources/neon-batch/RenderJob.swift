import Foundation
import Rendering
import Storage

/// The figures of `neon-batch render`, written into the --out folder with their index.html.
struct RenderJob {
    let options: Render
    var path: String { options.output }

    func run() throws {
        let report = try InspectReport.read(path: path, input: options.input, top: options.top)
        guard report.status == "complete" else {
            throw StorageError("\(path): status is \(report.status); render needs a complete output (finish the job, e.g. with --resume)")
        }
        let file = try StoredFile(path: path)
        let shape = report.datasets[0].shape
        let spatial = shape.count == 4 || shape.count == 5
        let heatmaps: Bool
        switch options.charts {
        case .auto: heatmaps = spatial
        case .bars: heatmaps = false
        case .heatmaps: heatmaps = true
        }
        if (heatmaps || options.overlay != nil) && !spatial {
            let dims = report.datasets[0].dimensions ?? (shape.count == 2 ? ["sample", "feature"] : [])
            let named = dims.isEmpty ? "" : " (\(dims.joined(separator: " x ")))"
            throw RenderError("\(path): relevance has shape \(shape.map(String.init).joined(separator: " x "))\(named), not spatial; heatmaps need relevance of shape N x C x H x W or N x T x C x H x W (draw bar charts with --charts bars)")
        }
        let samples = try chosenSamples(file, report: report, rows: shape[0])
        let dir = try outputFolder()

        var page = HTMLPage(title: "neon-batch: \((path as NSString).lastPathComponent)", summary: report.text)
        if heatmaps {
            let maps = try HeatmapFigures(file: file, report: report, shape: shape, options: options)
            page.sections.append(("Samples", maps.sampleNote, try samples.map { try maps.sample($0, dir: dir) }))
            page.sections.append(("Clusters: mean relevance over members", maps.clusterNote,
                                  try report.clusters.map { try maps.cluster($0, dir: dir) }))
        } else {
            let names = (0..<shape.dropFirst().reduce(1, *)).map {
                InspectReport.featureName($0, names: report.featureNameList, shape: shape)
            }
            let note = "The \(options.top) features of largest |relevance|; red: for the cluster (R_i > 0), blue: against it. Feature names: \(report.featureNames)."
            var figures: [HTMLPage.Figure] = []
            for i in samples {
                let row = try file.rows(RelevanceOutput.relevanceDataset, start: i, count: 1)
                let c = Int(try file.rows(RelevanceOutput.assignmentDataset, start: i, count: 1)[0])
                let f = try file.rows(RelevanceOutput.logitDataset, start: i, count: 1)[0]
                let title = "sample \(i): cluster \(c), f_c = \(shortNumber(f)), sum R_i = \(shortNumber(row.reduce(0, +)))"
                figures.append(try write(BarChart(title: title, bars: BarChart.strongest(row, names: names, count: options.top)),
                                         "sample-\(i).svg", dir: dir, caption: title))
            }
            page.sections.append(("Samples", note, figures))
            figures = []
            for c in report.clusters {
                let means = (report.relevanceSums[c.cluster] ?? []).map { $0 / Double(c.count) }
                let title = "cluster \(c.cluster): mean over \(c.count) members, mean f_c = \(shortNumber(c.meanLogit ?? .nan))"
                figures.append(try write(BarChart(title: title, bars: BarChart.strongest(means, names: names, count: options.top)),
                                         "cluster-\(c.cluster).svg", dir: dir, caption: title))
            }
            page.sections.append(("Clusters: mean relevance over members", note, figures))
        }
        let index = (dir as NSString).appendingPathComponent("index.html")
        try writeText(page.html, to: index)
        let count = page.sections.reduce(0) { $0 + $1.figures.count }
        print("neon-batch: wrote \(count) figure\(count == 1 ? "" : "s") and \(index)")
    }

    /// --samples, checked against N; by default the first member of each cluster (at most 12).
    private func chosenSamples(_ file: StoredFile, report: InspectReport, rows: Int) throws -> [Int] {
        if let text = options.samples {
            let list = try SampleList.parse(text)
            if let bad = list.first(where: { $0 >= rows }) {
                throw RenderError("\(path): --samples \(bad) is outside the \(rows) samples (0..<\(rows))")
            }
            return list
        }
        var firsts: [Int: Int] = [:]
        let wanted = min(report.clusters.count, 12)
        var start = 0
        while start < rows && firsts.count < wanted {
            let count = min(1 << 16, rows - start)
            let a = try file.rows(RelevanceOutput.assignmentDataset, start: start, count: count)
            for (i, c) in a.enumerated() where firsts[Int(c)] == nil && firsts.count < wanted { firsts[Int(c)] = start + i }
            start += count
        }
        return firsts.values.sorted()
    }

    private func outputFolder() throws -> String {
        let dir = options.out
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw RenderError("\(dir): --out is a file, not a folder") }
        } else {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw RenderError("\(dir): cannot create the --out folder")
            }
        }
        guard FileManager.default.isWritableFile(atPath: dir) else { throw RenderError("\(dir): --out folder is not writable") }
        return dir
    }

    private func write(_ chart: BarChart, _ name: String, dir: String, caption: String) throws -> HTMLPage.Figure {
        try writeText(chart.svg(), to: (dir as NSString).appendingPathComponent(name))
        return HTMLPage.Figure(file: name, caption: caption)
    }
}

func writeText(_ text: String, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
        throw RenderError("\(path): cannot write file")
    }
}

/// PNG heatmaps of spatial relevance: per sample (one tile per target) and per cluster (mean).
struct HeatmapFigures {
    let file: StoredFile
    let report: InspectReport
    let targets: Int, channels: Int, height: Int, width: Int
    let row: HeatmapRow
    let overlay: (file: StoredFile, dataset: String, channels: Int)?

    init(file: StoredFile, report: InspectReport, shape: [Int], options: Render) throws {
        self.file = file
        self.report = report
        (targets, channels, height, width) = shape.count == 5 ? (shape[1], shape[2], shape[3], shape[4])
                                                              : (1, shape[1], shape[2], shape[3])
        row = HeatmapRow(height: height, width: width,
                         scale: options.scale ?? HeatmapRow.scale(height: height, width: width))
        if let name = options.overlay {
            guard let inPath = options.input ?? report.inputFile else {
                throw RenderError("\(options.output): --overlay \(name): the output records no input file; give it with --input")
            }
            let input = try StoredFile(path: inPath)
            guard let s = input.shape(name) else { throw StorageError("\(inPath): no dataset '\(name)' (--overlay)") }
            let ok = s.count == 3 ? s[1] == height && s[2] == width : s.count == 4 && s[2] == height && s[3] == width
            guard ok, s[0] == shape[0] else {
                throw RenderError("\(inPath): dataset '\(name)' has shape \(s.map(String.init).joined(separator: " x ")); --overlay needs \(shape[0]) x \(height) x \(width) or \(shape[0]) x C x \(height) x \(width)")
            }
            overlay = (input, name, s.count == 4 ? s[1] : 1)
        } else {
            overlay = nil
        }
    }

    var tileNames: String {
        let maps = targets == 1 ? ["relevance for the assigned cluster"] : (0..<targets).map { "target \($0)" }
        return ((overlay == nil ? [] : ["input image"]) + maps).joined(separator: " | ")
    }

    var sampleNote: String {
        "Channel-summed relevance per position; blue < 0 < red, each sample scaled by its largest |relevance|. Tiles: \(tileNames)."
    }

    var clusterNote: String {
        "Mean over the cluster's members of the channel-summed relevance. Tiles: \(targets == 1 ? "mean relevance" : (0..<targets).map { "target \($0)" }.joined(separator: " | "))."
    }

    private var mapSize: Int { channels * height * width }

    private func maps(_ values: [Double]) -> [[Double]] {
        (0..<targets).map {
            HeatmapRow.channelSum(values[($0 * mapSize)..<(($0 + 1) * mapSize)], channels: channels, height: height, width: width)
        }
    }

    func sample(_ i: Int, dir: String) throws -> HTMLPage.Figure {
        let values = try file.rows(RelevanceOutput.relevanceDataset, start: i, count: 1)
        let c = Int(try file.rows(RelevanceOutput.assignmentDataset, start: i, count: 1)[0])
        let f = try file.rows(RelevanceOutput.logitDataset, start: i, count: 1)[0]
        var grey: [Double]?
        if let o = overlay {
            let image = try o.file.rows(o.dataset, start: i, count: 1)
            grey = HeatmapRow.greyLevels(image[...], channels: o.channels, height: height, width: width)
        }
        let name = "sample-\(i).png"
        try row.render(maps: maps(values), image: grey).writePNG(to: (dir as NSString).appendingPathComponent(name))
        let peak = values.reduce(0) { max($0, abs($1)) }
        return HTMLPage.Figure(file: name, caption: "sample \(i): cluster \(c), f_c = \(shortNumber(f)), max |R| = \(shortNumber(peak))")
    }

    func cluster(_ c: InspectReport.Cluster, dir: String) throws -> HTMLPage.Figure {
        let means = (report.relevanceSums[c.cluster] ?? [Double](repeating: 0, count: targets * mapSize)).map { $0 / Double(c.count) }
        let name = "cluster-\(c.cluster).png"
        try row.render(maps: maps(means)).writePNG(to: (dir as NSString).appendingPathComponent(name))
        return HTMLPage.Figure(file: name, caption: "cluster \(c.cluster): \(c.count) members, mean f_c = \(shortNumber(c.meanLogit ?? .nan))")
    }
}
