import Foundation
import NeonCore
import Storage

/// Everything rank 0 checks before any output is written: the job, the model, the input's shape
/// and type, the output target and, when resuming, the partial output.
package struct JobSetup {
    var job: JobSpec
    let model: NeonModel
    let input: InputDataset
    /// The model's standardisation (Appendix H), applied to every row before the model sees it.
    var standardization: Standardization? = nil
    /// The partial output to continue (resume), if there is one.
    var partial: PartialOutput?
    /// The input rows this run explains: input.rows, narrowed by --part, or all.
    var range: Range<Int>
    var rows: Int { range.count }
    var features: Int { input.features }
    var element: ElementType { input.element }

    package static func load(jobPath: String, resume: Bool = false, part: Part? = nil) throws -> JobSetup {
        var job = try JobSpec.load(path: jobPath)
        if resume { job.resume = true }
        let model = try ModelKinds.load(path: job.modelFile)
        let input = try InputDataset(path: job.inputFile, dataset: job.inputDataset)
        try model.base.check(input: input, job: job)
        try checkExplainSettings(job: job, model: model)
        if job.method == .pdacs, let why = model.pdacsProblem(sampleShape: input.sampleShape) {
            throw JobError(message: "\(job.jobPath): explain.method \(why)")
        }
        if job.method != .neon, job.target.hasAxis {
            throw JobError(message: "\(job.jobPath): explain.method \"\(job.method.rawValue)\" explains the assigned cluster only; set explain.target to \"assigned\"")
        }
        if job.method == .nca, !model.capabilities.contains(.nearestCentroid) {
            throw JobError(message: "\(job.jobPath): explain.method \"nca\" applies to k-means models only (the model is \(model.kind))")
        }
        let bytesPerRow = input.features * input.element.byteCount
        guard min(job.blockRows, input.rows) * bytesPerRow <= Int(Int32.max) else {
            throw JobError(message: "\(job.jobPath): execution.block_rows \(job.blockRows) x \(input.features) features exceeds 2 GiB per block; use at most \(Int(Int32.max) / bytesPerRow)")
        }
        var range = 0..<input.rows
        if let r = job.rows {
            guard r.upperBound <= input.rows else {
                throw JobError(message: "\(job.jobPath): input.rows [\(r.lowerBound), \(r.upperBound)] ends beyond the \(input.rows) rows of dataset '\(job.inputDataset)' in \(job.inputFile)")
            }
            range = r
        }
        if let part = part {
            let blocks = (range.count + job.blockRows - 1) / job.blockRows
            guard part.count <= blocks, let r = part.range(of: range, blockRows: job.blockRows) else {
                throw JobError(message: "\(job.jobPath): --part \(part.index)/\(part.count): rows \(range.lowerBound)..<\(range.upperBound) are \(blocks) block\(blocks == 1 ? "" : "s") of execution.block_rows \(job.blockRows) rows; use at most \(blocks) part\(blocks == 1 ? "" : "s"), or execution.block_rows \(max(1, range.count / part.count)) or less for \(part.count) parts")
            }
            range = r
            job.outputFile = part.fileName(for: job.outputFile)
        }
        try RelevanceOutput.checkTarget(job.outputFile, overwrite: job.overwrite, resume: job.resume,
                                        inputPath: job.inputFile, modelPath: job.modelFile)
        var setup = JobSetup(job: job, model: model, input: input, partial: nil, range: range)
        if !(job.resume && FileManager.default.fileExists(atPath: job.outputFile)) {
            let bytes = setup.layout.expectedBytes(rows: setup.rows, element: input.element, blocks: setup.blockCount)
            guard bytes <= job.maxOutputBytes else {
                throw JobError(message: "\(job.jobPath): the output would take \(bytes) bytes (\(setup.rows) samples x \(setup.layout.relevancePerRow) relevance values), more than output.max_bytes = \(job.maxOutputBytes); raise output.max_bytes to allow it")
            }
            try RelevanceOutput.checkSpace(job.outputFile, bytes: bytes)
        }
        setup.standardization = try modelStandardization(job: job, input: input)
        if job.resume && FileManager.default.fileExists(atPath: job.outputFile) {
            let partial = try PartialOutput.read(path: job.outputFile)
            if partial.status != "complete", let why = partial.mismatch(with: setup.resumeKey, path: job.outputFile) {
                throw StorageError(why)
            }
            if partial.status != "complete" && partial.blockDone.count != setup.blockCount {
                throw StorageError("\(job.outputFile): cannot resume: the partial output has \(partial.blockDone.count) blocks, the job \(setup.blockCount)")
            }
            setup.partial = partial
        }
        return setup
    }

    var blockCount: Int { (rows + min(job.blockRows, rows) - 1) / min(job.blockRows, rows) }

    /// What a resumed run must share with the run that started the output: everything the
    /// numbers and the block layout depend on (not the file names, which may move).
    var resumeKey: [(String, String)] {
        var key = [
            ("input.dataset", job.inputDataset),
            ("input shape", model.base.inputKey(input)),
            ("input.rows", "[\(range.lowerBound), \(range.upperBound)]"),
            ("model", model.fingerprint),
            ("explain.beta", betaKey),
            ("explain.target", job.target.text),
            ("execution.block_rows", "\(job.blockRows)"),
        ]
        key += JobSetup.modelKey(model, job: job, standardization: standardization)
        if job.method != .neon { key += baselineResumeKey }
        return key
    }

    /// The resume-key entries of how the model is explained: the kernel rule, a head's mode and
    /// LRP rules, the model's standardisation.
    static func modelKey(_ model: NeonModel, job: JobSpec, standardization: Standardization?) -> [(String, String)] {
        var key = model.base.explainKey(job: job)
        if let eps = job.pruningTolerance { key.append(("explain.pruning", "tolerance \(eps)")) }
        if let st = standardization {
            var fp = Fingerprint()
            fp.add(st.mean)
            fp.add(st.std)
            key.append(("model standardization", "fnv1a64 \(fp.hex)"))
        }
        return key
    }

    private var betaKey: String {
        switch job.beta {
        case .auto: return "auto"
        case .fixed(let b): return "\(b)"
        }
    }

    var betaDescription: String {
        switch job.beta {
        case .auto: return "auto (1 / mean f_c over the dataset, Eq. 3)"
        case .fixed(let b): return "\(b)"
        }
    }
}

extension JobSetup {
    /// The per-row shapes of the output (relevance like one sample, per target).
    var layout: OutputLayout {
        OutputLayout(sampleShape: input.sampleShape, targets: job.target.hasAxis ? targets.count : nil)
    }

    var targets: [Int?] { JobSetup.resolve(job.target, clusters: model.clusters) }

    static func resolve(_ t: JobSpec.Target, clusters K: Int) -> [Int?] {
        switch t {
        case .assigned: return [nil]
        case .all: return (0..<K).map { $0 }
        case .clusters(let c): return c.map { $0 }
        }
    }

    static func modeText(_ m: JobSpec.Mode) -> String {
        switch m {
        case .relative: return "relative"
        case .absolute(let t): return "absolute (theta = \(t))"
        }
    }

    /// The model's standardisation, checked against the input (for deep models it applies to the
    /// input rows x, before Psi), or nil.
    static func modelStandardization(job: JobSpec, input: InputDataset) throws -> Standardization? {
        guard let t = try ModelFile.loadTransform(path: job.modelFile) else { return nil }
        if let why = Standardization.problem(mean: t.mean, std: t.std, features: input.features) {
            throw StorageError("\(job.modelFile): \(why)")
        }
        return Standardization(mean: t.mean, std: t.std)
    }

    /// Mode and targets against the model.
    static func checkExplainSettings(job: JobSpec, model: NeonModel) throws {
        if case .absolute = job.mode, !model.capabilities.contains(.absoluteMode) {
            throw JobError(message: "\(job.jobPath): explain.mode \"absolute\" needs a softmax model (soft_kmeans, deep_soft or softmax_head); \(job.modelFile) is \(model.kind)")
        }
        if job.pruningTolerance != nil {
            guard model.capabilities.contains(.pruning) else {
                throw JobError(message: "\(job.jobPath): explain.pruning applies to kernel_kmeans models; \(job.modelFile) is \(model.kind)")
            }
            guard !job.target.hasAxis else {
                throw JobError(message: "\(job.jobPath): explain.pruning explains the assigned cluster only; set explain.target to \"assigned\"")
            }
            guard job.method == .neon else {
                throw JobError(message: "\(job.jobPath): explain.pruning applies to explain.method \"neon\" (the method is \"\(job.method.rawValue)\")")
            }
        }
        if case .clusters(let list) = job.target, let bad = list.first(where: { $0 >= model.clusters }) {
            throw JobError(message: "\(job.jobPath): explain.target cluster \(bad) is out of range (the model has \(model.clusters) clusters, 0..\(model.clusters - 1))")
        }
    }
}

extension JobSetup {
    /// What `neon-batch validate` prints for a valid job.
    package var validationReport: String {
        // The dataset's own shape: (N, d), or (N, C, H, W) as the input has it.
        let shape = ([rows] + input.sampleShape).map(String.init).joined(separator: " x ")
            + (input.sampleShape.count == 3 ? " (N, C, H, W)" : "")
        return """
            \(job.jobPath): valid
              input:  \(job.inputFile) dataset '\(job.inputDataset)': \(shape) \(element.rawValue)
              model:  \(job.modelFile): \(model.summary)
              output: \(job.outputFile)\(job.overwrite ? " (overwrite)" : "")
              beta:   \(betaDescription)
            """
    }
}
