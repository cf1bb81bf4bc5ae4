import ArgumentParser
import Foundation

/// neon-batch: NEON explanations (Kauffmann et al., "From clustering to cluster explanations via
/// neural networks") of cluster assignments for whole datasets, under mpirun or srun.
@main
struct NeonBatch: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "neon-batch",
        abstract: "Explain cluster assignments at scale with NEON (neuralization-propagation).",
        discussion: """
            Run a job:       mpirun -n P neon-batch JOB.json   (same as: neon-batch run JOB.json)
            Check a job:     neon-batch validate JOB.json
            Score methods:   mpirun -n P neon-batch evaluate JOB.json   (Algorithm 1, docs/evaluation.md)
            Demo data:       neon-batch demo DIR
            Look at output:  neon-batch inspect OUT.h5;  neon-batch render OUT.h5 --out DIR
            Job arrays:      neon-batch run JOB.json --part I/N, then neon-batch join JOB.json --parts N
            Fit a model:     mpirun -n P neon-batch fit FIT.json   (elbow: neon-batch elbow FIT.json --clusters 2-12)

            Exit codes: 0 success; 1 bad job, model, input or output, or an I/O error (one line
            on stderr naming the file, dataset or key); 64 bad command line (EX_USAGE); 75 stopped by SIGTERM
            or SIGINT: the output is incomplete and resumable (output.resume / --resume).
            The job file format and the output layout are described in docs/.
            """,
        version: version,
        subcommands: [Run.self, Validate.self, Evaluate.self, Join.self, Demo.self, Inspect.self, Render.self, Fit.self, Elbow.self],
        defaultSubcommand: Run.self
    )
}

/// Prints the one-line error message and leaves with `code`.
func fail(_ message: String, code: Int32 = ExitStatus.badInput) -> Never {
    FileHandle.standardError.write(Data("neon-batch: error: \(message)\n".utf8))
    exit(code)
}

enum ExitStatus {
    static let badInput: Int32 = 1
    /// EX_TEMPFAIL: stopped by a signal; run again with --resume.
    static let interrupted: Int32 = 75
}
