import ArgumentParser
import Distributed
import Foundation
import NeonCore
import NeonPipeline
import Storage

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score explanation methods with Algorithm 1 (pixel-flipping AUC, KDE imputation).",
        discussion: """
            For every sample, each method's relevance orders the features; they are added from most \
            to least relevant, the missing ones drawn from the KDE conditional (Appendix G), and the \
            area under the assignment curve is the AUC (x 100 / d). Settings: the job's evaluate \
            section (docs/evaluation.md). Run under mpirun for several ranks: the results are the \
            same for any number of ranks. The output is written block by block (evaluate.block_samples); \
            SIGTERM/SIGINT stop after the block in flight with exit 75, and --resume continues.
            """)

    @Argument(help: "The job file (JSON).")
    var job: String

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    var quiet = false

    @Flag(help: "Continue a partial evaluation output from its unfinished blocks (same as output.resume: true).")
    var resume = false

    func run() throws {
        signal(SIGXFSZ, SIG_IGN)        // a file-size limit fails the write (reported), as in `run`
        let comm = ComputeSetup.start(quiet: quiet)
        StopSignal.install()
        let status = EvaluationRunner(communicator: comm, jobPath: job, quiet: quiet, resume: resume).run()
        Communicator.finalize()
        if status != 0 { throw ExitCode(status) }
    }
}
