import Foundation
import Storage

/// Everything rank 0 checks before any output exists: the job, the model, the input's shape
/// and type, and the output target.
struct JobSetup {
    let job: JobSpec
    let model: ModelFile.KMeans
    let input: InputDataset
    var rows: Int { input.rows }
    var features: Int { input.features }
    var element: ElementType { input.element }

    static func load(jobPath: String) throws -> JobSetup {
        let job = try JobSpec.load(path: jobPath)
        let model = try ModelFile.loadKMeans(path: job.modelFile)
        let input = try InputDataset(path: job.inputFile, dataset: job.inputDataset)
        guard model.features == input.features else {
            throw StorageError("\(job.modelFile): dataset 'centroids' has \(model.features) features but dataset '\(job.inputDataset)' of \(job.inputFile) has \(input.features)")
        }
        let bytesPerRow = input.features * input.element.byteCount
        guard job.blockRows * bytesPerRow <= Int(Int32.max) else {
            throw JobError(message: "\(job.jobPath): execution.block_rows \(job.blockRows) x \(input.features) features exceeds 2 GiB per block; use at most \(Int(Int32.max) / bytesPerRow)")
        }
        try RelevanceOutput.checkTarget(job.outputFile, overwrite: job.overwrite,
                                        inputPath: job.inputFile, modelPath: job.modelFile)
        return JobSetup(job: job, model: model, input: input)
    }

    var betaDescription: String {
        switch job.beta {
        case .auto: return "auto (1 / mean f_c over the dataset, Eq. 3)"
        case .fixed(let b): return "\(b)"
        }
    }
}
