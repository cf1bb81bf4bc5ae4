import Foundation
import Storage

/// What `neon-batch inspect` says about an output file, computed by one process that only reads
/// it: the run's attributes, shapes, per-cluster counts and mean logits, conservation
/// (sum_i R_i = f_c, Sec. II-B) where the rule conserves, and the features of largest mean
/// relevance over each cluster's members. An incomplete output is summarised over the blocks
/// its progress record marks done.
package struct InspectReport: Encodable {
    struct Dataset: Encodable {
        let name: String
        let shape: [Int]
        let type: String
        let dimensions: [String]?
    }
    struct Feature: Encodable {
        let index: Int
        let name: String
        let meanRelevance: Double
    }
    struct Cluster: Encodable {
        let cluster: Int
        let count: Int
        let meanLogit: Double?
        let topFeatures: [Feature]?
    }
    struct Conservation: Encodable {
        /// Whether the rule conserves (k-means; kernel k-means with kernel_rule "conservative").
        let applies: Bool
        let reason: String
        let maxAbsError: Double?
        let meanAbsError: Double?
        /// max |sum_i R_i - f_c| over the mean f_c.
        let maxRelativeToMeanLogit: Double?
        /// The run's own record (attribute conservation_max_abs_error), for comparison.
        let recordedMaxAbsError: Double?
    }
    /// explain.pruning (kernel k-means): the run's record.
    struct Pruning: Encodable {
        let tolerance: Double
        let keptFraction: Double?
        let keptFractionRelevance: Double?
        let keptFractionBetaPass: Double?
        /// Certified max over samples of |R - R_unpruned|_1 / |f_c|.
        let errorBound: Double?
    }

    let file: String
    let status: String
    let blocks: Int?
    let blocksDone: Int?
    let rowsSummarised: Int
    let datasets: [Dataset]
    let modelKind: String?
    let modelFile: String?
    let clusterCount: Int?
    let inputFile: String?
    let inputDataset: String?
    let beta: Double?
    let betaMode: String?
    let rules: String?
    let kernelRule: String?
    var pruning: Pruning? = nil
    let ranks: Int?
    let elapsedSeconds: Double?
    let created: String?
    let meanLogit: Double?
    let positiveLogits: Int
    let conservation: Conservation
    let featureNames: String
    let clusters: [Cluster]
    /// Sum of relevance rows per cluster (cluster -> flattened row), for render; not in JSON.
    var relevanceSums: [Int: [Double]] = [:]

    enum CodingKeys: String, CodingKey {
        case file, status, blocks, blocksDone, rowsSummarised, datasets, modelKind, modelFile, clusterCount,
             inputFile, inputDataset, beta, betaMode, rules, kernelRule, pruning, ranks, elapsedSeconds, created,
             meanLogit, positiveLogits, conservation, featureNames, clusters
    }

    /// Reads `path` (never writes). `input` overrides the input file the output records (for
    /// feature names); `top` features are listed per cluster.
    package static func read(path: String, input: String? = nil, top: Int) throws -> InspectReport {
        if let kind = JobSpec.kind(ofJobFile: path) {
            throw StorageError("\(path): \(kind.name) (JSON), not an output: run it with `neon-batch \(kind.command) \(path)`; inspect and render take the output file it writes")
        }
        let f = try StoredFile(path: path)
        if f.exists(EvaluationOutput.aucDataset), (try? f.stringAttribute("status")) != nil, !f.exists(RelevanceOutput.relevanceDataset) {
            let summary = (path.hasSuffix(".h5") ? String(path.dropLast(3)) : path) + ".summary.md"
            throw StorageError("\(path): an evaluation output (of `neon-batch evaluate`), not an explanation output: its summary is \(summary); inspect and render take a job's output.file")
        }
        if (try? f.stringAttribute("status")) == nil, let kind = try? f.stringAttribute("kind") {
            throw StorageError("\(path): a model file (kind '\(kind)'), not an output: a job names it as model.file; inspect and render take a job's output.file")
        }
        guard let status = try? f.stringAttribute("status") else {
            throw StorageError("\(path): no 'status' attribute; not a neon-batch output")
        }
        let rel = RelevanceOutput.relevanceDataset
        guard let shape = f.shape(rel), shape.count >= 2 else {
            throw StorageError("\(path): no dataset '\(rel)' of rank 2 or more; not a neon-batch output")
        }
        let n = shape[0], width = shape.dropFirst().reduce(1, *)
        // With explain.target "all" or a list, logit is (N, T): one f_c per target (attribute `targets`).
        let targetList = ((try? f.stringAttribute("targets")) ?? nil)?.split(separator: ",").compactMap { Int($0) }
        let logitWidth = targetList.map { $0.count } ?? 1
        for name in [RelevanceOutput.assignmentDataset, RelevanceOutput.logitDataset] {
            let expected = name == RelevanceOutput.logitDataset && targetList != nil ? [n, logitWidth] : [n]
            guard f.shape(name) == expected else {
                throw StorageError("\(path): dataset '\(name)' is missing or not of shape (\(expected.map(String.init).joined(separator: ", "))); not a neon-batch output")
            }
        }
        let datasets = [rel, RelevanceOutput.assignmentDataset, RelevanceOutput.logitDataset].map {
            Dataset(name: $0, shape: f.shape($0) ?? [], type: f.typeName($0) ?? "?", dimensions: f.dimensionLabels($0))
        }

        // Rows to summarise: all of a complete file, the done blocks of an incomplete one.
        let blockRows = f.numberAttribute("block_rows").map { Int($0) } ?? n
        var ranges: [Range<Int>] = []
        if status == "complete" {
            ranges = [0..<n]
        } else if let done = try? f.int64s(RelevanceOutput.blockDoneDataset), blockRows > 0 {
            ranges = done.indices.filter { done[$0] == 1 }.map { ($0 * blockRows)..<min(($0 + 1) * blockRows, n) }
        }

        let modelKind = (try? f.stringAttribute("model_kind")) ?? nil
        let kernelRule = (try? f.stringAttribute("resume_key:explain.kernel_rule")).flatMap { $0 }
        var conserves = modelKind.flatMap(ModelKinds.type(named:))?.conservation { key in
            (try? f.stringAttribute("resume_key:\(key)")).flatMap { $0 }
        } ?? (false, "unknown model kind; conservation not checked")
        if let method = (try? f.stringAttribute("resume_key:explain.method")).flatMap({ $0 }), method != "neon" {
            conserves = (false, "explain.method \(method): a baseline, not NEON; conservation not checked")
        }
        // A target axis (N, T, ...): conservation is per target; the logit summarised is the assigned
        // cluster's (0 for a row whose assigned cluster is not among the targets).
        let spatialTargets = shape.count == 5 || targetList != nil

        var counts: [Int: Int] = [:], logitSums: [Int: Double] = [:], sums: [Int: [Double]] = [:]
        var maxErr = 0.0, sumErr = 0.0, logitTotal = 0.0, positive = 0, rowsSeen = 0
        let step = max(1, (1 << 18) / max(width, 1))
        for range in ranges {
            var start = range.lowerBound
            while start < range.upperBound {
                let count = min(step, range.upperBound - start)
                let r = try f.rows(rel, start: start, count: count)
                let a = try f.rows(RelevanceOutput.assignmentDataset, start: start, count: count)
                let l = try f.rows(RelevanceOutput.logitDataset, start: start, count: count)
                for i in 0..<count {
                    let c = Int(a[i])
                    counts[c, default: 0] += 1
                    let fc = targetList.map { t in t.firstIndex(of: c).map { l[i * logitWidth + $0] } ?? 0 } ?? l[i]
                    logitSums[c, default: 0] += fc
                    logitTotal += fc
                    if fc > 0 { positive += 1 }
                    let row = r[(i * width)..<((i + 1) * width)]
                    sums[c, default: [Double](repeating: 0, count: width)].withUnsafeMutableBufferPointer { s in
                        for (j, v) in row.enumerated() { s[j] += v }
                    }
                    if conserves.0 && !spatialTargets {
                        let e = abs(row.reduce(0, +) - l[i])     // |sum_i R_i - f_c|
                        maxErr = max(maxErr, e)
                        sumErr += e
                    }
                }
                rowsSeen += count
                start += count
            }
        }
        let meanLogit = rowsSeen > 0 ? logitTotal / Double(rowsSeen) : nil
        let checked = conserves.0 && !spatialTargets && rowsSeen > 0
        let conservation = Conservation(
            applies: conserves.0 && !spatialTargets,
            reason: spatialTargets ? "relevance has a target axis; conservation is per target" : conserves.1,
            maxAbsError: checked ? maxErr : nil,
            meanAbsError: checked ? sumErr / Double(rowsSeen) : nil,
            maxRelativeToMeanLogit: checked ? maxErr / max(abs(meanLogit ?? 1), 1e-300) : nil,
            recordedMaxAbsError: f.numberAttribute("conservation_max_abs_error"))

        let inputFile = (try? f.stringAttribute("input_file")).flatMap { $0 }
        let inputDataset = (try? f.stringAttribute("input_dataset")).flatMap { $0 }
        var names: [String]?
        var namesNote = "no input recorded; features are numbered"
        if shape.count == 2, let inFile = input ?? inputFile {
            let found = FeatureNames.read(inputPath: inFile, dataset: inputDataset ?? "", count: width)
            names = found.names
            namesNote = found.note
        } else if shape.count > 2 {
            namesNote = "spatial relevance; positions are named (channel, y, x)"
        }
        let clusters = counts.keys.sorted().map { c -> Cluster in
            let k = counts[c]!
            var topFeatures: [Feature]?
            if !spatialTargets, let s = sums[c] {
                let means = s.map { $0 / Double(k) }
                topFeatures = means.indices.sorted { means[$0] != means[$1] ? means[$0] > means[$1] : $0 < $1 }
                    .prefix(top).map { Feature(index: $0, name: featureName($0, names: names, shape: shape), meanRelevance: means[$0]) }
            }
            return Cluster(cluster: c, count: k, meanLogit: logitSums[c]! / Double(k), topFeatures: topFeatures)
        }
        var report = InspectReport(
            file: path, status: status,
            blocks: f.numberAttribute("blocks").map { Int($0) }, blocksDone: f.numberAttribute("blocks_done").map { Int($0) },
            rowsSummarised: rowsSeen, datasets: datasets,
            modelKind: modelKind, modelFile: (try? f.stringAttribute("model_file")) ?? nil,
            clusterCount: f.numberAttribute("clusters").map { Int($0) },
            inputFile: inputFile, inputDataset: inputDataset,
            beta: f.numberAttribute("beta"), betaMode: (try? f.stringAttribute("beta_mode")) ?? nil,
            rules: (try? f.stringAttribute("rules")) ?? nil, kernelRule: kernelRule,
            ranks: f.numberAttribute("ranks").map { Int($0) }, elapsedSeconds: f.numberAttribute("elapsed_seconds"),
            created: (try? f.stringAttribute("created")) ?? nil,
            meanLogit: meanLogit, positiveLogits: positive, conservation: conservation,
            featureNames: namesNote, clusters: clusters)
        report.relevanceSums = sums
        report.featureNameList = names
        if let eps = f.numberAttribute("pruning_tolerance") {
            report.pruning = Pruning(tolerance: eps, keptFraction: f.numberAttribute("pruning_kept_fraction"),
                                     keptFractionRelevance: f.numberAttribute("pruning_kept_fraction_relevance"),
                                     keptFractionBetaPass: f.numberAttribute("pruning_kept_fraction_beta_pass"),
                                     errorBound: f.numberAttribute("pruning_error_bound"))
        }
        return report
    }

    /// The input's feature names, if it has them (tabular relevance).
    var featureNameList: [String]?

    /// A feature's name: from the input, or its position in the relevance row.
    static func featureName(_ j: Int, names: [String]?, shape: [Int]) -> String {
        if let n = names { return n[j] }
        switch shape.count {
        case 2: return "feature \(j)"
        case 4:
            let (h, w) = (shape[2], shape[3])
            return "c\(j / (h * w)) y\(j / w % h) x\(j % w)"
        default: return "position \(j)"
        }
    }

    package func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    package var text: String {
        func g(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "-" }
        var lines = ["\(file)"]
        let progress = blocks.map { " (\(blocksDone ?? 0) of \($0) blocks done)" } ?? ""
        lines.append("  status:        \(status)\(progress)")
        for d in datasets {
            let dims = d.dimensions.map { " (" + $0.joined(separator: " x ") + ")" } ?? ""
            lines.append("  \(d.name + ":")\(String(repeating: " ", count: max(1, 14 - d.name.count)))\(d.shape.map(String.init).joined(separator: " x ")) \(d.type)\(dims)")
        }
        lines.append("  model:         \(modelKind ?? "-"), K = \(clusterCount.map(String.init) ?? "-")\(modelFile.map { " (\($0))" } ?? "")")
        lines.append("  input:         \(inputFile ?? "-")\(inputDataset.map { " dataset '\($0)'" } ?? "")")
        if betaMode == "unused" {       // (stored as 0 by a baseline explainer)
            lines.append("  beta:          none (this explanation does not use min-take-most's stiffness)")
        } else {
            lines.append("  beta:          \(g(beta))\(betaMode.map { " (\($0))" } ?? "")")
        }
        lines.append("  rules:         \(rules ?? "-")")
        if let p = pruning {
            func pc(_ v: Double?) -> String { v.map { String(format: "%.2f%%", 100 * $0) } ?? "-" }
            lines.append("  pruning:       tolerance \(g(p.tolerance)): \(pc(p.keptFraction)) of the (sample, support vector) paths evaluated (relevance \(pc(p.keptFractionRelevance)), beta pass \(pc(p.keptFractionBetaPass))); certified max |R - R_unpruned|_1 / |f_c| \(p.errorBound.map { String(format: "%.2g", $0) } ?? "-")")
        }
        lines.append("  ranks:         \(ranks.map(String.init) ?? "-")")
        lines.append("  time taken:    \(elapsedSeconds.map { String(format: "%.2f s", $0) } ?? (status == "complete" ? "- (not recorded)" : "- (not finished)"))\(created.map { ", started \($0)" } ?? "")")
        lines.append("  logits:        mean f_c \(g(meanLogit)); \(positiveLogits) of \(rowsSummarised) samples strictly inside their cluster (f_c > 0)")
        if conservation.applies, let m = conservation.maxAbsError {
            lines.append("  conservation:  max |sum_i R_i - f_c| = \(String(format: "%.3g", m)), mean \(String(format: "%.3g", conservation.meanAbsError ?? 0)), max / mean f_c = \(String(format: "%.3g", conservation.maxRelativeToMeanLogit ?? 0)) (\(conservation.reason))")
        } else {
            lines.append("  conservation:  not checked: \(conservation.reason)")
        }
        lines.append("  features:      \(featureNames)")
        lines.append("  clusters:      \(clusters.count) with members (\(rowsSummarised) samples)")
        for c in clusters {
            var line = String(format: "    cluster %3d: %8d samples, mean f_c %.4g", c.cluster, c.count, c.meanLogit ?? .nan)
            if let top = c.topFeatures, !top.isEmpty {
                line += "; top: " + top.map { "\($0.name) (\(String(format: "%.3g", $0.meanRelevance)))" }.joined(separator: ", ")
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
