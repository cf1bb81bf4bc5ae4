import Distributed
import Foundation
import Storage

/// A job ended because some rank saw an error (already printed by that rank).
struct RankFailed: Error {}

/// The one-line message of an error from the job parser or Storage.
func oneLineMessage(_ error: Error) -> String {
    switch error {
    case let e as StorageError: return e.message
    case let e as JobError: return e.message
    default: return "\(error)"
    }
}

/// Collective error check of the fit and evaluate runners: throws on every rank if any rank saw
/// an error; the lowest failing rank prints it, once.
func agreeOnError(_ local: String?, _ comm: Communicator) throws {
    if let e = comm.agree(local) {
        if e.rank == comm.rank { FileHandle.standardError.write(Data("neon-batch: error: \(e.message)\n".utf8)) }
        throw RankFailed()
    }
}
