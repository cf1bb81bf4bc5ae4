import ArgumentParser
import Distributed
import Foundation
import NeonCore
import NeonPipeline
import Storage

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain every sample of a job's input (the default command).",
        discussion: """
            Run under mpirun or srun for several ranks: rank 0 reads the input in blocks of \
            execution.block_rows rows and scatters them (or every rank reads its own rows: \
            execution.read "parallel"); every rank explains its rows and writes \
            them into the one output file with collective parallel HDF5. beta "auto" (Eq. 3) takes \
            a first pass over the input that computes only the logits.
            """)

    @Argument(help: "The job file (JSON).")
    var job: String

    @Flag(name: .shortAndLong, help: "Print nothing on success (no progress, no summary).")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Also print how the run goes (e.g. the beta pass's scores kept for the explain pass, execution.cache_mb).")
    var verbose = false

    @Flag(help: "Continue a partial output from its first unfinished block (same as output.resume: true).")
    var resume = false

    @Option(help: ArgumentHelp("Explain only part I (from 0) of N: whole blocks of the job's rows, into output.file with .part-I-of-N before its extension (for job arrays; join the parts with neon-batch join).",
                                valueName: "I/N"))
    var part: Part?

    func validate() throws {
        if let problem = part?.problem { throw ValidationError(problem) }
    }

    func run() throws {
        // A file-size limit (ulimit -f) makes writes fail with EFBIG (reported) instead of killing
        // the rank; set before MPI_Init, whose shared-memory segments count against the limit too.
        signal(SIGXFSZ, SIG_IGN)
        let comm = ComputeSetup.start(quiet: quiet)
        StopSignal.install()
        let status = JobRunner(communicator: comm, jobPath: job, quiet: quiet, verbose: verbose, resume: resume, part: part).run()
        Communicator.finalize()
        if status != 0 { throw ExitCode(status) }
    }
}
