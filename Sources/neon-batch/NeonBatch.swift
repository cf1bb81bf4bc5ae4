import ArgumentParser
import Foundation
import NeonPipeline
import Storage

/// neon-batch: NEON explanations (Kauffmann et al., "From clustering to cluster explanations via
/// neural networks") of cluster assignments for whole datasets, under mpirun or srun.
@main
struct NeonBatch: ParsableCommand {
    static let version = NeonBatchVersion.current

    static let configuration = CommandConfiguration(
        commandName: "neon-batch",
        abstract: "Explain cluster assignments at scale with NEON (neuralization-propagation).",
        discussion: """
            Run a job:      mpirun -n P neon-batch JOB.json  (or: neon-batch run JOB.json)
            Check a job:    neon-batch validate JOB.json
            Score methods:  mpirun -n P neon-batch evaluate JOB.json  (docs/evaluation.md)
            Demo data:      neon-batch demo DIR
            Look at output: neon-batch inspect OUT.h5;  neon-batch render OUT.h5 --out DIR
            Job arrays:     neon-batch run JOB.json --part I/N, for I = 0..N-1;
                            then neon-batch join JOB.json --parts N
            Fit a model:    mpirun -n P neon-batch fit FIT.json
            Choose K:       neon-batch elbow FIT.json --clusters 2-12

            Exit codes: 0 success; 1 bad job, model, input or output, or an I/O error (one line \
            on stderr naming the file, dataset or key); 64 bad command line (EX_USAGE); 75 stopped \
            by SIGTERM or SIGINT: the output is incomplete and resumable (output.resume / --resume). \
            The job file format and the output layout are described in docs/.
            """,
        version: version,
        subcommands: [Run.self, Validate.self, Evaluate.self, Join.self, Demo.self, Inspect.self, Render.self, Fit.self, Elbow.self],
        defaultSubcommand: Run.self
    )
}

extension NeonBatch {
    /// A mistyped command (`neon-batch inpsect out.h5`) would otherwise be taken for the job file
    /// of the default command `run`; it is refused with a suggestion before the arguments are parsed.
    static func main() {
        if let first = CommandLine.arguments.dropFirst().first, let message = unknownCommand(first) {
            fail(message, code: ExitStatus.usage, onFirstRankOnly: true)
        }
        main(nil)
    }

    /// The message for a first argument that is neither a command, an option, nor a job file
    /// (an existing file, or a name ending in .json); nil if it is one of those.
    static func unknownCommand(_ word: String) -> String? {
        let commands = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !word.hasPrefix("-"), !commands.contains(word), !word.lowercased().hasSuffix(".json"),
              !FileManager.default.fileExists(atPath: word) else { return nil }
        let hint = Suggestion.closest(to: word, among: commands).map { "did you mean '\($0)'?" }
            ?? "the commands are \(commands.dropLast().joined(separator: ", ")) (or give a job file: neon-batch JOB.json)"
        return "unknown command '\(word)'; \(hint)"
    }
}
