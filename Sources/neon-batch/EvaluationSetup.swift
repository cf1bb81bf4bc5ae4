import Foundation
import NeonCore
import Storage

/// What rank 0 checks before `neon-batch evaluate` computes anything: the job, the model, the
/// input, the methods for this model and the output targets (the HDF5 file and the reports).
struct EvaluationSetup {
    let job: JobSpec
    let model: NeonModel
    let input: InputDataset
    let methods: [ExplanationMethod]
    let paths: EvaluationPaths

    static func load(jobPath: String) throws -> EvaluationSetup {
        let job = try JobSpec.load(path: jobPath)
        let stored = try ModelFile.load(path: job.modelFile)
        let model = try NeonModel(stored, path: job.modelFile)
        let input = try InputDataset(path: job.inputFile, dataset: job.inputDataset)
        guard model.features == input.features else {
            throw StorageError("\(job.modelFile): dataset '\(stored.featureDataset)' has \(model.features) features but dataset '\(job.inputDataset)' of \(job.inputFile) has \(input.features)")
        }
        if let r = job.rows, r.upperBound > input.rows {
            throw JobError(message: "\(job.jobPath): input.rows [\(r.lowerBound), \(r.upperBound)] ends beyond the \(input.rows) rows of dataset '\(job.inputDataset)' in \(job.inputFile)")
        }
        if case .head = model {
            throw JobError(message: "\(job.jobPath): neon-batch evaluate handles kmeans and kernel_kmeans models (the model is \(model.kind))")
        }
        if job.pruningTolerance != nil {
            throw JobError(message: "\(job.jobPath): neon-batch evaluate explains without pruning; remove explain.pruning")
        }
        let methods = try resolveMethods(job, model: model)
        let paths = EvaluationPaths(job)
        for path in paths.all {
            try RelevanceOutput.checkTarget(path, overwrite: job.overwrite, inputPath: job.inputFile, modelPath: job.modelFile)
        }
        return EvaluationSetup(job: job, model: model, input: input, methods: methods, paths: paths)
    }

    /// evaluate.methods, or every method that applies to the model (NCA: k-means only).
    static func resolveMethods(_ job: JobSpec, model: NeonModel) throws -> [ExplanationMethod] {
        let names = job.evaluate.methods ?? ExplanationMethod.allCases.map(\.rawValue)
        var methods = names.compactMap(ExplanationMethod.init(rawValue:))
        if case .kmeans = model { return methods }
        if job.evaluate.methods?.contains("nca") == true {
            throw JobError(message: "\(job.jobPath): evaluate.methods: \"nca\" applies to k-means models only (the model is \(model.kind))")
        }
        methods.removeAll { $0 == .nca }
        return methods
    }
}

/// The evaluation output and its reports: evaluate.file (default: output.file with ".h5"
/// replaced by ".evaluation.h5"), and next to it STEM.summary.md, STEM.summary.csv, STEM.curves.svg.
struct EvaluationPaths {
    let output: String
    let markdown: String
    let csv: String
    let svg: String

    init(_ job: JobSpec) {
        func stem(_ p: String) -> String { p.hasSuffix(".h5") ? String(p.dropLast(3)) : p }
        output = job.evaluate.file ?? stem(job.outputFile) + ".evaluation.h5"
        let s = stem(output)
        markdown = s + ".summary.md"
        csv = s + ".summary.csv"
        svg = s + ".curves.svg"
    }

    var all: [String] { [output, markdown, csv, svg] }
}

extension NeonModel {
    /// The model as the explainers and Algorithm 1 see it.
    func decision(rule: KernelRule) -> ClusterDecision {
        switch self {
        case .kmeans(let m): return KMeansDecision(model: m)
        case .kernelKMeans(let m): return KernelKMeansDecision(model: m, rule: rule)
        case .head: preconditionFailure("soft/deep models have no ClusterDecision yet (refused by the job set-up)")
        }
    }
}

extension InputDataset {
    /// Every row as float64, row-major, checked for NaN/Inf (rank 0; evaluation holds its input).
    func readAllRows(blockRows: Int) throws -> [Double] {
        var out = [Double](repeating: 0, count: rows * features)
        let step = max(1, min(blockRows, rows))
        var start = 0
        while start < rows {
            let n = min(step, rows - start)
            if element == .float32 {
                var buf = [Float](repeating: 0, count: n * features)
                try buf.withUnsafeMutableBytes { try read(rows: start, count: n, into: $0.baseAddress!) }
                for k in 0..<(n * features) { out[start * features + k] = Double(buf[k]) }
            } else {
                try out.withUnsafeMutableBufferPointer { try read(rows: start, count: n, into: $0.baseAddress! + start * features) }
            }
            if let bad = out[(start * features)..<((start + n) * features)].firstIndex(where: { !$0.isFinite }) {
                throw StorageError(nonFiniteMessage(row: bad / features))
            }
            start += n
        }
        return out
    }
}
