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

/// What all ranks decided at a step: go on, stop cleanly (some rank was asked to stop, e.g. by
/// SIGTERM), or fail (some rank saw an error).
public enum Decision: Equatable, Sendable {
    case proceed
    case stop
    case failed(RankError)
}

extension Communicator {
    /// Like `agree(_:)`, but also agrees on stopping: an error on any rank wins over a stop
    /// request, a stop request on any rank stops every rank. One allreduce when nothing happened.
    public func decide(error local: String?, stop: Bool) -> Decision {
        let code = allreduceMin(local != nil ? rank : (stop ? size : size + 1))
        if code == size + 1 { return .proceed }
        if code == size { return .stop }
        let message = broadcast(rank == code ? (local ?? "") : "", root: code)
        return .failed(RankError(rank: code, message: message))
    }
}
