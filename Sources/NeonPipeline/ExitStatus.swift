import Foundation

/// The version every output records (software_version) and `--version` prints.
package enum NeonBatchVersion {
    package static let current = "0.1.0"
}

/// Prints the one-line error message and leaves with `code`.
/// `onFirstRankOnly`: before MPI is initialised, every rank of an mpirun/srun launch would print
/// it; only the first one (by the launcher's rank variable) does.
package func fail(_ message: String, code: Int32 = ExitStatus.badInput, onFirstRankOnly: Bool = false) -> Never {
    let env = ProcessInfo.processInfo.environment
    let rank = env["OMPI_COMM_WORLD_RANK"] ?? env["PMIX_RANK"] ?? env["PMI_RANK"] ?? env["SLURM_PROCID"] ?? "0"
    if !onFirstRankOnly || rank == "0" {
        FileHandle.standardError.write(Data("neon-batch: error: \(message)\n".utf8))
    }
    exit(code)
}

package enum ExitStatus {
    package static let badInput: Int32 = 1
    /// EX_USAGE: bad command line.
    package static let usage: Int32 = 64
    /// EX_TEMPFAIL: stopped by a signal; run again with --resume.
    package static let interrupted: Int32 = 75
}
