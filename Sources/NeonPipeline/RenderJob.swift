import Foundation
import Rendering
import Storage

/// The figures of `neon-batch render`, written into the --out folder with their index.html.
package struct RenderJob {
    let options: RenderOptions

    package init(options: RenderOptions) { self.options = options }
    var path: String { options.output }

    package func run() throws {
        let report = try InspectReport.read(path: path, input: options.input, top: options.top)
        guard report.status == "complete" else {
            throw StorageError("\(path): status is \(report.status); render needs a complete output (finish the job, e.g. with --resume)")
        }
        let file = try StoredFile(path: path)
        let shape = report.datasets[0].shape
        let image = try imageShape(report: report, shape: shape)
        let heatmaps: Bool
        switch options.charts {
        case .auto: heatmaps = image != nil
        case .bars: heatmaps = false
        case .heatmaps: heatmaps = true
        }
        if (heatmaps || options.overlay != nil || options.centroids) && image == nil {
            let dims = report.datasets[0].dimensions ?? (shape.count == 2 ? ["sample", "feature"] : [])
            let named = dims.isEmpty ? "" : " (\(dims.joined(separator: " x ")))"
            throw RenderError("\(path): relevance has shape \(shape.map(String.init).joined(separator: " x "))\(named), not spatial; heatmaps need relevance of shape N x C x H x W or N x T x C x H x W, or N x d with --shape C x H x W (or the input dataset's attribute image_shape) (draw bar charts with --charts bars)")
        }
        let samples = try chosenSamples(file, report: report, rows: shape[0])
        let labels = try options.labels.map { try RowLabels(name: $0, report: report, options: options, rows: shape[0], file: file) }
        let maps = try heatmaps ? HeatmapFigures(file: file, report: report, shape: shape, image: image!, options: options) : nil
        let dir = try outputFolder()

        var page = HTMLPage(title: "neon-batch: \((path as NSString).lastPathComponent)", summary: report.text)
        page.tables.append(("Summary", "", HTMLPage.Table(headers: ["", ""], rows: summaryRows(report))))
        page.tables.append(("Clusters", clusterTableNote, try clusterTable(report, file: file, dir: dir)))

        let names = (0..<shape.dropFirst().reduce(1, *)).map {
            InspectReport.featureName($0, names: report.featureNameList, shape: shape)
        }
        var sampleFigures: [Int: [HTMLPage.Figure]] = [:]
        for i in samples {
            let c = Int(try file.rows(RelevanceOutput.assignmentDataset, start: i, count: 1)[0])
            let f = assignedLogit(try file.rows(RelevanceOutput.logitDataset, start: i, count: 1), cluster: c, file: file)
            let title = "sample \(i)\(try labels.map { " (label \(try $0.label(i)))" } ?? ""): cluster \(c), f_c = \(shortNumber(f))"
            if let maps {
                sampleFigures[c, default: []].append(try maps.sample(i, cluster: c, title: title, dir: dir))
            } else {
                let row = try file.rows(RelevanceOutput.relevanceDataset, start: i, count: 1)
                let full = title + ", sum R_i = \(shortNumber(row.reduce(0, +)))"
                sampleFigures[c, default: []].append(try write(BarChart(title: full, bars: BarChart.strongest(row, names: names, count: options.top)),
                                                               "sample-\(i).svg", dir: dir, caption: full))
            }
        }
        for c in report.clusters {
            let title = "cluster \(c.cluster): mean over \(c.count) members, mean f_c = \(shortNumber(c.meanLogit ?? .nan))"
            let mean: HTMLPage.Figure
            if let maps {
                mean = try maps.cluster(c, title: title, dir: dir)
            } else {
                let means = (report.relevanceSums[c.cluster] ?? []).map { $0 / Double(c.count) }
                mean = try write(BarChart(title: title, bars: BarChart.strongest(means, names: names, count: options.top)),
                                 "cluster-\(c.cluster).svg", dir: dir, caption: title)
            }
            let note = c.cluster == report.clusters.first?.cluster ? (maps?.note ?? barNote(report)) : ""
            page.sections.append(("Cluster \(c.cluster)", note, [mean] + (sampleFigures[c.cluster] ?? [])))
        }
        let index = (dir as NSString).appendingPathComponent("index.html")
        try writeText(page.html, to: index)
        let count = page.sections.reduce(0) { $0 + $1.figures.count }
        print("neon-batch: wrote \(count) figure\(count == 1 ? "" : "s") and \(index)")
    }

    private func barNote(_ report: InspectReport) -> String {
        "Each cluster's mean relevance over its members, then its drawn samples: the \(options.top) features of largest |relevance|; red: for the cluster (R_i > 0), blue: against it. Feature names: \(report.featureNames)."
    }

    /// The maps' (C, H, W): from a spatial relevance shape, else from --shape or the input
    /// dataset's attribute image_shape for N x d (or N x T x d); nil if there is none.
    private func imageShape(report: InspectReport, shape: [Int]) throws -> [Int]? {
        if shape.count >= 4 { return Array(shape.suffix(3)) }
        let d = shape.last!
        let what = "relevance has \(d) per sample\(shape.count == 3 ? " and target" : "") (shape \(shape.map(String.init).joined(separator: " x ")))"
        func x(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
        if let text = options.shape {
            let s = try ImageShape.parse(text)
            guard s.reduce(1, *) == d else {
                throw RenderError("\(path): --shape \(text) gives \(s.reduce(1, *)) values per map; \(what)")
            }
            return s
        }
        guard let inPath = options.input ?? report.inputFile, let dataset = report.inputDataset,
              FileManager.default.fileExists(atPath: inPath),
              let values = try StoredFile(path: inPath).numbers(attribute: RowLabels.imageShapeAttribute, of: dataset) else { return nil }
        let s = values.map { Int($0) }
        guard (2...3).contains(s.count), s.allSatisfy({ $0 >= 1 }), values.allSatisfy({ $0 == $0.rounded() }) else {
            throw RenderError("\(inPath): attribute '\(RowLabels.imageShapeAttribute)' of '\(dataset)' must be 2 or 3 positive integers (H, W or C, H, W)")
        }
        let chw = s.count == 2 ? [1] + s : s
        guard chw.reduce(1, *) == d else {
            throw RenderError("\(inPath): attribute '\(RowLabels.imageShapeAttribute)' of '\(dataset)' is \(x(chw)) = \(chw.reduce(1, *)) values; \(what)")
        }
        return chw
    }

    private func summaryRows(_ r: InspectReport) -> [[HTMLPage.Cell]] {
        func g(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "-" }
        var rows: [(String, String)] = [("file", r.file), ("status", r.status)]
        for d in r.datasets {
            rows.append((d.name, "\(d.shape.map(String.init).joined(separator: " x ")) \(d.type)\(d.dimensions.map { " (" + $0.joined(separator: " x ") + ")" } ?? "")"))
        }
        rows += [("model", "\(r.modelKind ?? "-"), K = \(r.clusterCount.map(String.init) ?? "-")"),
                 ("input", "\(r.inputFile ?? "-")\(r.inputDataset.map { " dataset '\($0)'" } ?? "")"),
                 ("beta", "\(g(r.beta))\(r.betaMode.map { " (\($0))" } ?? "")"),
                 ("rules", r.rules ?? "-"),
                 ("ranks", r.ranks.map(String.init) ?? "-"),
                 ("time taken", r.elapsedSeconds.map { String(format: "%.2f s", $0) } ?? "-"),
                 ("samples", "\(r.rowsSummarised); mean f_c \(g(r.meanLogit)); \(r.positiveLogits) strictly inside their cluster (f_c > 0)")]
        if r.conservation.applies, let m = r.conservation.maxAbsError {
            rows.append(("conservation", String(format: "max |sum_i R_i - f_c| = %.3g (max / mean f_c = %.3g): a sample's scores add up to f_c", m, r.conservation.maxRelativeToMeanLogit ?? 0)))
        } else {
            rows.append(("conservation", "not checked: \(r.conservation.reason)"))
        }
        rows.append(("features", r.featureNames))
        return rows.map { [.text($0.0), .text($0.1)] }
    }

    private var clusterTableNote: String {
        "f_c: the cluster's logit for each member (how far inside its cluster a sample is); histograms share one range. Top features: largest mean relevance over the members."
    }

    /// One row per cluster: members, mean f_c, a histogram of f_c (fc-cluster-K.svg, over the
    /// range of all samples' f_c), top features. Reads assignment and logit in blocks, twice.
    private func clusterTable(_ report: InspectReport, file: StoredFile, dir: String) throws -> HTMLPage.Table {
        let n = report.datasets[1].shape[0], bins = 24
        func each(_ body: (Int, Double) -> Void) throws {
            var start = 0
            while start < n {
                let count = min(1 << 16, n - start)
                let a = try file.rows(RelevanceOutput.assignmentDataset, start: start, count: count)
                let l = try file.rows(RelevanceOutput.logitDataset, start: start, count: count)
                let width = l.count / max(count, 1)
                for i in 0..<count {
                    let c = Int(a[i])
                    body(c, width == 1 ? l[i] : assignedLogit(Array(l[(i * width)..<((i + 1) * width)]), cluster: c, file: file))
                }
                start += count
            }
        }
        var lo = Double.infinity, hi = -Double.infinity
        try each { _, f in if f.isFinite { lo = min(lo, f); hi = max(hi, f) } }
        var counts: [Int: [Int]] = [:]
        try each { c, f in if f.isFinite { counts[c, default: [Int](repeating: 0, count: bins)][Histogram.bin(f, bins: bins, lower: lo, upper: hi)] += 1 } }
        var table = HTMLPage.Table(headers: ["cluster", "members", "mean f_c", "f_c distribution", "top features"])
        for c in report.clusters {
            let name = "fc-cluster-\(c.cluster).svg"
            let histogram = Histogram(counts: counts[c.cluster] ?? [Int](repeating: 0, count: bins), lower: lo.isFinite ? lo : 0, upper: hi.isFinite ? hi : 0)
            try writeText(histogram.svg(), to: (dir as NSString).appendingPathComponent(name))
            let top = (c.topFeatures ?? []).map { "\($0.name) (\(shortNumber($0.meanRelevance)))" }.joined(separator: ", ")
            table.rows.append([.text(String(c.cluster)), .text(String(c.count)), .text(shortNumber(c.meanLogit ?? .nan)),
                               .image(file: name, alt: "f_c of cluster \(c.cluster)'s members"), .text(top.isEmpty ? "-" : top)])
        }
        return table
    }

    /// --samples, checked against N; by default the first 3 members of each cluster (at most 12 clusters).
    private func chosenSamples(_ file: StoredFile, report: InspectReport, rows: Int) throws -> [Int] {
        if let text = options.samples {
            let list = try SampleList.parse(text)
            if let bad = list.first(where: { $0 >= rows }) {
                throw RenderError("\(path): --samples \(bad) is outside the \(rows) samples (0..<\(rows))")
            }
            return list
        }
        let clusters = Set(report.clusters.prefix(12).map(\.cluster)), perCluster = 3
        var firsts: [Int: [Int]] = [:]
        var start = 0, found = 0
        let wanted = report.clusters.prefix(12).reduce(0) { $0 + min($1.count, perCluster) }
        while start < rows && found < wanted {
            let count = min(1 << 16, rows - start)
            let a = try file.rows(RelevanceOutput.assignmentDataset, start: start, count: count)
            for (i, c) in a.enumerated() where clusters.contains(Int(c)) && firsts[Int(c), default: []].count < perCluster {
                firsts[Int(c), default: []].append(start + i)
                found += 1
            }
            start += count
        }
        return firsts.values.flatMap { $0 }.sorted()
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

/// `--labels DATASET`: one label per input row (integers or strings) from the input file; the
/// output's rows are input rows row_start... (a part or input.rows).
struct RowLabels {
    /// The input dataset's attribute that gives the image shape of flat rows (C, H, W or H, W).
    static let imageShapeAttribute = "image_shape"
    let file: StoredFile
    let name: String
    let offset: Int
    let strings: [String]?

    init(name: String, report: InspectReport, options: RenderOptions, rows: Int, file output: StoredFile) throws {
        file = try inputFile(report: report, options: options, purpose: "--labels \(name)")
        self.name = name
        offset = Int(output.numberAttribute("row_start") ?? 0)
        guard let s = file.shape(name) else { throw StorageError("\(file.path): no dataset '\(name)' (--labels)") }
        guard s.count == 1 || (s.count == 2 && s[1] == 1), s[0] >= offset + rows else {
            throw RenderError("\(file.path): dataset '\(name)' has shape \(s.map(String.init).joined(separator: " x ")); --labels needs one value per input row (at least \(offset + rows))")
        }
        let type = file.typeName(name) ?? ""
        strings = type.contains("string") ? try file.strings(dataset: name) : nil
    }

    func label(_ i: Int) throws -> String {
        if let strings { return strings[offset + i] }
        return shortNumber(try file.rows(name, start: offset + i, count: 1)[0])
    }
}

/// The input file (the one the output records, or --input), for --overlay and --labels.
func inputFile(report: InspectReport, options: RenderOptions, purpose: String) throws -> StoredFile {
    guard let inPath = options.input ?? report.inputFile else {
        throw RenderError("\(options.output): \(purpose): the output records no input file; give it with --input")
    }
    return try StoredFile(path: inPath)
}

/// PNG heatmaps of spatial relevance: per sample (one tile per target, each with its own scale)
/// and per cluster (mean), each with a title and colour bars.
struct HeatmapFigures {
    let file: StoredFile
    let report: InspectReport
    let path: String
    let targets: Int, channels: Int, height: Int, width: Int
    /// The target clusters of the tiles (attribute `targets`), if the output records them.
    let targetClusters: [Int]?
    let row: HeatmapRow
    let overlay: (file: StoredFile, dataset: String, channels: Int, offset: Int)?
    /// The k-means centroids as grey images (--centroids), by cluster.
    let centroidImages: [[Double]]?

    init(file: StoredFile, report: InspectReport, shape: [Int], image: [Int], options: RenderOptions) throws {
        self.file = file
        self.report = report
        path = options.output
        (channels, height, width) = (image[0], image[1], image[2])
        targets = shape.count == 5 || shape.count == 3 ? shape[1] : 1
        let list = ((try? file.stringAttribute("targets")) ?? nil)?.split(separator: ",").compactMap { Int($0) }
        targetClusters = list?.count == targets ? list : nil
        let tiles = targets + (options.overlay == nil && !options.centroids ? 0 : 1)
        let (h, w) = (image[1], image[2])
        var scale = options.scale ?? HeatmapRow.scale(height: h, width: w)
        if !HeatmapRow(height: h, width: w, scale: scale).fits(tiles: tiles) {
            let largest = (1..<scale).last { HeatmapRow(height: h, width: w, scale: $0).fits(tiles: tiles) }
            let size = HeatmapRow(height: h, width: w, scale: scale).size(tiles: tiles)
            guard options.scale == nil, let largest else {
                let advice = largest.map { "use --scale \($0) or less" } ?? "too large even at --scale 1"
                throw RenderError("\(path): --scale \(scale) makes figures of \(size.width) x \(size.height) pixels (\(tiles) tile\(tiles == 1 ? "" : "s") of \(height) x \(width) positions); at most \(HeatmapRow.maxSide) pixels a side and \(HeatmapRow.maxPixels) in all: \(advice)")
            }
            scale = largest
        }
        row = HeatmapRow(height: height, width: width, scale: scale)
        let offset = Int(file.numberAttribute("row_start") ?? 0)
        if let name = options.overlay {
            let input = try inputFile(report: report, options: options, purpose: "--overlay \(name)")
            guard let s = input.shape(name) else { throw StorageError("\(input.path): no dataset '\(name)' (--overlay)") }
            let rows = offset + shape[0], plane = height * width
            var c: Int? = nil
            if s.count == 3 && s[1] == height && s[2] == width { c = 1 }
            if s.count == 4 && s[2] == height && s[3] == width { c = s[1] }
            if s.count == 2 && s[1] % plane == 0 && s[1] > 0 { c = s[1] / plane }
            guard let c, s[0] >= rows else {
                throw RenderError("\(input.path): dataset '\(name)' has shape \(s.map(String.init).joined(separator: " x ")); --overlay needs \(rows) x \(height) x \(width), \(rows) x C x \(height) x \(width) or \(rows) x (C * \(plane))")
            }
            overlay = (input, name, c, offset)
        } else {
            overlay = nil
        }
        centroidImages = options.centroids ? try Self.centroids(report: report, image: image, options: options) : nil
    }

    /// The k-means centroids (de-standardised if the model standardises) as grey images.
    static func centroids(report: InspectReport, image: [Int], options: RenderOptions) throws -> [[Double]] {
        guard report.modelKind == "kmeans", let modelPath = report.modelFile else {
            throw RenderError("\(options.output): --centroids needs a k-means model; the output's model_kind is \(report.modelKind ?? "not recorded")")
        }
        let model = try StoredFile(path: modelPath)
        let d = image.reduce(1, *)
        guard let s = model.shape("centroids"), s.count == 2, s[1] == d else {
            throw RenderError("\(modelPath): centroids have shape \(model.shape("centroids")?.map(String.init).joined(separator: " x ") ?? "none"); --centroids needs K x \(d) (C x H x W = \(image.map(String.init).joined(separator: " x ")))")
        }
        var values = try model.doubles("centroids")
        if model.exists("standardize_mean"), model.exists("standardize_std") {
            let mean = try model.doubles("standardize_mean"), std = try model.doubles("standardize_std")
            for i in values.indices { values[i] = values[i] * std[i % d] + mean[i % d] }
        }
        return (0..<s[0]).map { HeatmapRow.greyLevels(values[($0 * d)..<(($0 + 1) * d)], channels: image[0], height: image[1], width: image[2]) }
    }

    /// The label of tile t for a sample or cluster assigned to `cluster`.
    func tileLabel(_ t: Int, cluster: Int, mean: Bool) -> String {
        let prefix = mean ? "mean, " : ""
        guard let list = targetClusters else {
            if targets == 1 { return mean ? "mean relevance" : "cluster \(cluster) (assigned)" }
            return "\(prefix)target \(t)"
        }
        return "\(prefix)cluster \(list[t])\(list[t] == cluster ? " (assigned)" : "")"
    }

    var note: String {
        var s = "Channel-summed relevance per position: red = evidence for the cluster, blue = against; each tile has its own scale (its colour bar, -max |R| to +max |R|), so a weak map is not blank next to a strong one."
        if overlay != nil { s += " Sample maps are drawn over the input image (shown first) with opacity |R| / max |R|." }
        if centroidImages != nil { s += " Cluster maps are drawn over the cluster's centroid (shown first)." }
        return s
    }

    private var mapSize: Int { channels * height * width }

    private func maps(_ values: [Double]) -> [[Double]] {
        (0..<targets).map {
            HeatmapRow.channelSum(values[($0 * mapSize)..<(($0 + 1) * mapSize)], channels: channels, height: height, width: width)
        }
    }

    private func scales(_ maps: [[Double]], cluster: Int, mean: Bool) -> String {
        maps.indices.map { "\(tileLabel($0, cluster: cluster, mean: mean)): max |R| \(shortNumber(HeatmapRow.peak(maps[$0])))" }.joined(separator: "; ")
    }

    func sample(_ i: Int, cluster c: Int, title: String, dir: String) throws -> HTMLPage.Figure {
        let m = maps(try file.rows(RelevanceOutput.relevanceDataset, start: i, count: 1))
        var grey: [Double]?
        if let o = overlay {
            let image = try o.file.rows(o.dataset, start: o.offset + i, count: 1)
            grey = HeatmapRow.greyLevels(image[...], channels: o.channels, height: height, width: width)
        }
        let name = "sample-\(i).png"
        let tiles = m.indices.map { (label: tileLabel($0, cluster: c, mean: false), values: m[$0]) }
        try row.render(title: title, maps: tiles, image: grey).writePNG(to: (dir as NSString).appendingPathComponent(name))
        return HTMLPage.Figure(file: name, caption: "\(title); \(scales(m, cluster: c, mean: false))")
    }

    func cluster(_ c: InspectReport.Cluster, title: String, dir: String) throws -> HTMLPage.Figure {
        let means = (report.relevanceSums[c.cluster] ?? [Double](repeating: 0, count: targets * mapSize)).map { $0 / Double(c.count) }
        let m = maps(means)
        let name = "cluster-\(c.cluster).png"
        let tiles = m.indices.map { (label: tileLabel($0, cluster: c.cluster, mean: true), values: m[$0]) }
        let centroid = centroidImages.flatMap { c.cluster < $0.count ? $0[c.cluster] : nil }
        try row.render(title: title, maps: tiles, image: centroid, imageLabel: "centroid \(c.cluster)")
            .writePNG(to: (dir as NSString).appendingPathComponent(name))
        return HTMLPage.Figure(file: name, caption: "\(title); \(scales(m, cluster: c.cluster, mean: true))")
    }
}

/// f_c of the assigned cluster from one row of `logit`: (N), or (N, T) with the root attribute
/// `targets` (explain.target "all" or a list); NaN when the assigned cluster is not a target.
func assignedLogit(_ row: [Double], cluster c: Int, file: StoredFile) -> Double {
    guard row.count > 1, let text = (try? file.stringAttribute("targets")) ?? nil else { return row[0] }
    return text.split(separator: ",").compactMap { Int($0) }.firstIndex(of: c).map { row[$0] } ?? .nan
}
