import Foundation
import Storage

/// Everything rank 0 checks before any output is written: the job, the model, the input's shape
/// and type, the output target and, when resuming, the partial output.
struct JobSetup {
    var job: JobSpec
    let model: NeonModel
    let input: InputDataset
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
        guard model.features == input.features else {
            throw StorageError("\(job.modelFile): dataset '\(stored.featureDataset)' has \(model.features) features but dataset '\(job.inputDataset)' of \(job.inputFile) has \(input.features)")
        }
        if job.method == "nca", case .kernelKMeans = model {
            throw JobError(message: "\(job.jobPath): explain.method \"nca\" applies to k-means models only (the model is kernel_kmeans)")
        }
        let bytesPerRow = input.features * input.element.byteCount
        guard job.blockRows * bytesPerRow <= Int(Int32.max) else {
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
            try RelevanceOutput.checkSpace(job.outputFile, bytes: RelevanceOutput.expectedBytes(
                rows: setup.rows, features: input.features, element: input.element, blocks: setup.blockCount))
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
            ("explain.target", "assigned"),
            ("execution.block_rows", "\(job.blockRows)"),
        ]
        if case .kernelKMeans = model { key.append(("explain.kernel_rule", job.kernelRule)) }
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
