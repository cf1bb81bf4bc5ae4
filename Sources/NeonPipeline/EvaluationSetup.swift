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
    /// The partial (or complete) evaluation output being resumed.
    var partial: PartialEvaluation?
    /// The model's standardisation (Appendix H), applied to every row as `run` does.
    let standardization: Standardization?

    static func load(jobPath: String, resume: Bool = false) throws -> EvaluationSetup {
        var job = try JobSpec.load(path: jobPath)
        if resume { job.resume = true }
        let model = try ModelKinds.load(path: job.modelFile)
        let input = try InputDataset(path: job.inputFile, dataset: job.inputDataset)
        try model.base.check(input: input, job: job)
        try JobSetup.checkExplainSettings(job: job, model: model)
        if let r = job.rows, r.upperBound > input.rows {
            throw JobError(message: "\(job.jobPath): input.rows [\(r.lowerBound), \(r.upperBound)] ends beyond the \(input.rows) rows of dataset '\(job.inputDataset)' in \(job.inputFile)")
        }
        if job.pruningTolerance != nil {
            throw JobError(message: "\(job.jobPath): neon-batch evaluate explains without pruning; remove explain.pruning")
        }
        let methods = try resolveMethods(job, model: model, sampleShape: input.sampleShape)
        let standardization = try JobSetup.modelStandardization(job: job, input: input)
        let paths = EvaluationPaths(job)
        for path in paths.all {
            try RelevanceOutput.checkTarget(path, overwrite: job.overwrite, resume: job.resume,
                                            inputPath: job.inputFile, modelPath: job.modelFile)
        }
        var setup = EvaluationSetup(job: job, model: model, input: input, methods: methods, paths: paths,
                                    standardization: standardization)
        if !(job.resume && FileManager.default.fileExists(atPath: paths.output)) {
            // Refused up front when it cannot fit (a device that fills up later is reported too).
            try RelevanceOutput.checkSpace(paths.output, bytes: setup.outputShape.expectedBytes)
        }
        if job.resume && FileManager.default.fileExists(atPath: paths.output) {
            let partial = try PartialEvaluation.read(path: paths.output)
            if partial.status != "complete", let why = partial.mismatch(with: setup.resumeKey(methods: methods), path: paths.output) {
                throw StorageError(why)
            }
            setup.partial = partial
        }
        return setup
    }

    /// The evaluation output's dimensions: samples (evaluate.samples of input.rows), methods,
    /// repeats, features and blocks of evaluate.block_samples.
    var outputShape: EvaluationOutputFile.Shape {
        let pool = job.rows?.count ?? input.rows
        // Algorithm 1's units: the channels of (C, H, W) samples, else the features.
        let units = input.sampleShape.count == 3 ? input.sampleShape[0] : input.features
        let S = min(job.evaluate.samples ?? pool, pool), size = max(1, min(job.evaluate.blockSamples, S))
        return EvaluationOutputFile.Shape(samples: S, methods: methods.count, repeats: job.evaluate.repeats,
                                          features: units, blocks: (S + size - 1) / size)
    }

    /// What a resumed evaluation must share with the run that started the output: everything
    /// its numbers and its block layout depend on (not the file names, which may move).
    func resumeKey(methods: [ExplanationMethod]) -> [(String, String)] {
        let e = job.evaluate
        let rows = job.rows.map { "[\($0.lowerBound), \($0.upperBound)]" } ?? "all"
        let beta: String
        if case .fixed(let b) = job.beta { beta = "\(b)" } else { beta = "auto" }
        let key: [(String, String)] = [
            ("input.dataset", job.inputDataset),
            ("input shape", model.base.inputKey(input)),
            ("input.rows", rows),
            ("model", model.fingerprint),
            ("evaluate.methods", methods.map(\.rawValue).joined(separator: ",")),
            ("evaluate.repeats", "\(e.repeats)"),
            ("evaluate.seed", "\(e.seed)"),
            ("evaluate.samples", e.samples.map { "\($0)" } ?? "all"),
            ("evaluate.reference_rows", e.referenceRows.map { "\($0)" } ?? "all"),
            ("evaluate.sigma", e.sigma.map { "\($0)" } ?? "loo"),
            ("evaluate.block_samples", "\(e.blockSamples)"),
            ("explain.beta", beta),
            ("explain.steps", "\(job.steps)"),
            ("explain.samples", "\(job.samples)"),
        ]
        return key + JobSetup.modelKey(model, job: job, standardization: standardization)
    }

    /// evaluate.methods, or every method that applies to the model (NCA: k-means only; PDAcs:
    /// not for the channels of a deep model's (C, H, W) input, where a missing channel is zero).
    static func resolveMethods(_ job: JobSpec, model: NeonModel, sampleShape: [Int]) throws -> [ExplanationMethod] {
        var methods = job.evaluate.methods ?? ExplanationMethod.allCases
        if job.evaluate.methods?.contains(.pdacs) == true, let why = model.pdacsProblem(sampleShape: sampleShape) {
            throw JobError(message: "\(job.jobPath): evaluate.methods: \(why)")
        }
        if model.pdacsProblem(sampleShape: sampleShape) != nil { methods.removeAll { $0 == .pdacs } }
        if model.capabilities.contains(.nearestCentroid) { return methods }
        if job.evaluate.methods?.contains(.nca) == true {
            throw JobError(message: "\(job.jobPath): evaluate.methods: \"nca\" applies to k-means models only (the model is \(model.kind))")
        }
        methods.removeAll { $0 == .nca }
        return methods
    }

    /// Every input row as float64 in the model's space (standardised if the model says so).
    func readSamples() throws -> [Double] {
        var x = try input.readAllRows(blockRows: job.blockRows)
        if let st = standardization { x.withUnsafeMutableBufferPointer { st.apply($0.baseAddress!, rows: input.rows) } }
        return x
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

extension TensorShape {
    /// [d] or [C, H, W].
    init(sampleShape s: [Int]) {
        self = s.count == 3 ? .image(channels: s[0], height: s[1], width: s[2]) : .vector(s.reduce(1, *))
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
