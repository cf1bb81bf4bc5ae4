/// An error one rank saw, known to every rank after `Communicator.agree(_:)`.
public struct RankError: Error, Equatable, Sendable {
    /// The lowest rank that reported an error.
    public let rank: Int
    public let message: String
}

extension Communicator {
    /// Collective error check: every rank passes the error it saw (or nil). Returns nil on every
    /// rank if none failed, otherwise the error of the lowest failing rank, on every rank. This is
    /// how one rank's failure ends the whole job promptly instead of leaving the others waiting
    /// in the next collective: call it at every point where a rank may fail.
    public func agree(_ local: String?) -> RankError? {
        let failing = allreduceMin(local == nil ? size : rank)
        if failing == size { return nil }
        let message = broadcast(rank == failing ? (local ?? "") : "", root: failing)
        return RankError(rank: failing, message: message)
    }
}
