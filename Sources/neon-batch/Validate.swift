import ArgumentParser
import Foundation
import Storage

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a job file, its model and its input without running it.",
        discussion: """
            Checks the job keys, that the model and the input dataset open and fit together, and \
            that the output may be written. Values are scanned for NaN/Inf when the job runs.
            """)

    @Argument(help: "The job file (JSON).")
    var job: String

    func run() throws {
        HDF5Library.silenceErrorStack()
        do {
            let setup = try JobSetup.load(jobPath: job)
            // The dataset's own shape: (N, d), or (N, C, H, W) as the input has it.
            let shape = ([setup.rows] + setup.input.sampleShape).map(String.init).joined(separator: " x ")
                + (setup.input.sampleShape.count == 3 ? " (N, C, H, W)" : "")
            print("""
                \(setup.job.jobPath): valid
                  input:  \(setup.job.inputFile) dataset '\(setup.job.inputDataset)': \(shape) \(setup.element.rawValue)
                  model:  \(setup.job.modelFile): \(setup.model.summary)
                  output: \(setup.job.outputFile)\(setup.job.overwrite ? " (overwrite)" : "")
                  beta:   \(setup.betaDescription)
                """)
        } catch let e as StorageError {
            fail(e.message)
        } catch let e as JobError {
            fail(e.message)
        }
    }
}
