import ArgumentParser
import Foundation
import NeonPipeline
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
            print(setup.validationReport)
        } catch let e as StorageError {
            fail(e.message)
        } catch let e as JobError {
            fail(e.message)
        }
    }
}
