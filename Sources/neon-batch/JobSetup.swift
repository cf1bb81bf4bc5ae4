import Foundation
import NeonCore
import Storage

/// Everything rank 0 checks before any output is written: the job, the model, the input's shape
/// and type, the output target and, when resuming, the partial output.
struct JobSetup {
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

    static func load(jobPath: String, resume: Bool = false, part: Part? = nil) throws -> JobSetup {
        var job = try JobSpec.load(path: jobPath)
        if resume { job.resume = true }
        let stored = try ModelFile.load(path: job.modelFile)
        let model = try NeonModel(stored, path: job.modelFile)
        let input = try InputDataset(path: job.inputFile, dataset: job.inputDataset)
        if case .head(let m) = model, !m.psi.isEmpty {
            try checkPsi(m, job: job, input: input)
        } else {
            guard model.features == input.features else {
                throw StorageError("\(job.modelFile): dataset '\(stored.featureDataset)' has \(model.features) features but dataset '\(job.inputDataset)' of \(job.inputFile) has \(input.features)")
            }
        }
        try checkExplainSettings(job: job, model: model)
        if job.method != "neon", case .head = model {
            throw JobError(message: "\(job.jobPath): explain.method \"\(job.method)\" applies to kmeans and kernel_kmeans models (the model is \(model.kind))")
        }
        if job.method != "neon", job.target.hasAxis {
            throw JobError(message: "\(job.jobPath): explain.method \"\(job.method)\" explains the assigned cluster only; set explain.target to \"assigned\"")
        }
        if job.method == "nca", case .kernelKMeans = model {
            throw JobError(message: "\(job.jobPath): explain.method \"nca\" applies to k-means models only (the model is kernel_kmeans)")
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
                throw JobError(message: "\(job.jobPath): --part \(part.index)/\(part.count): rows \(range.lowerBound)..<\(range.upperBound) are \(blocks) block\(blocks == 1 ? "" : "s") of execution.block_rows \(job.blockRows) rows; use at most \(blocks) parts")
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
        if let t = try ModelFile.loadTransform(path: job.modelFile) {
            // The standardisation applies to the input rows x (for deep models: before Psi).
            if let why = Standardization.problem(mean: t.mean, std: t.std, features: input.features) {
                throw StorageError("\(job.modelFile): \(why)")
            }
            setup.standardization = Standardization(mean: t.mean, std: t.std)
        }
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
            ("input shape", "\(input.rows) x \(features) \(element.rawValue)"),
            ("input.rows", "[\(range.lowerBound), \(range.upperBound)]"),
            ("model", model.fingerprint),
            ("explain.beta", betaKey),
            ("explain.target", job.target.text),
            ("execution.block_rows", "\(job.blockRows)"),
        ]
        if case .kernelKMeans = model { key.append(("explain.kernel_rule", job.kernelRule)) }
        if let eps = job.pruningTolerance { key.append(("explain.pruning", "tolerance \(eps)")) }
        if case .head(let m) = model {
            key[1] = ("input shape", "\(input.rows) x \(input.sampleShape.map(String.init).joined(separator: " x ")) \(element.rawValue)")
            key.append(("explain.mode", JobSetup.modeText(job.mode)))
            if !m.psi.isEmpty { key.append(("explain.lrp", NeonModel.lrpRules(job.lrp).summary)) }
        }
        if let st = standardization {
            var fp = Fingerprint()
            fp.add(st.mean)
            fp.add(st.std)
            key.append(("model standardization", "fnv1a64 \(fp.hex)"))
        }
        if job.method != "neon" { key += baselineResumeKey }
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

    /// Psi must chain from the input samples to the head's dimension.
    static func checkPsi(_ m: ModelFile.HeadModel, job: JobSpec, input: InputDataset) throws {
        let s = input.sampleShape
        let shape: TensorShape = s.count == 3 ? .image(channels: s[0], height: s[1], width: s[2]) : .vector(s[0])
        let shapes: [TensorShape]
        do {
            shapes = try PsiNetwork<Double>.shapes(layers: NeonModel.psiLayers(m.psi), input: shape)
        } catch let e as PsiShapeError {
            let whose = e.layer == 0 ? " (dataset '\(job.inputDataset)' of \(job.inputFile))" : ""
            throw StorageError("\(job.modelFile): \(e.reason)\(whose)")
        }
        guard shapes.last!.count == m.features else {
            throw StorageError("\(job.modelFile): dataset 'centroids' has \(m.features) features but psi gives \(shapes.last!) on samples \(shape)")
        }
    }

    /// Mode and targets against the model.
    static func checkExplainSettings(job: JobSpec, model: NeonModel) throws {
        if case .absolute = job.mode, !["soft_kmeans", "deep_soft"].contains(model.kind) {
            throw JobError(message: "\(job.jobPath): explain.mode \"absolute\" needs a softmax model (soft_kmeans or deep_soft); \(job.modelFile) is \(model.kind)")
        }
        if job.pruningTolerance != nil {
            guard case .kernelKMeans = model else {
                throw JobError(message: "\(job.jobPath): explain.pruning applies to kernel_kmeans models; \(job.modelFile) is \(model.kind)")
            }
            guard !job.target.hasAxis else {
                throw JobError(message: "\(job.jobPath): explain.pruning explains the assigned cluster only; set explain.target to \"assigned\"")
            }
            guard job.method == "neon" else {
                throw JobError(message: "\(job.jobPath): explain.pruning applies to explain.method \"neon\" (the method is \"\(job.method)\")")
            }
        }
        if case .clusters(let list) = job.target, let bad = list.first(where: { $0 >= model.clusters }) {
            throw JobError(message: "\(job.jobPath): explain.target cluster \(bad) is out of range (the model has \(model.clusters) clusters, 0..\(model.clusters - 1))")
        }
    }
}
