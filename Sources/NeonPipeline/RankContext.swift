import Distributed
import Foundation
import Storage

/// What the ranks of one command share: the communicator, rank 0's lines (stdout, or stderr with
/// the `neon-batch:` prefix), and the collective decisions that end every rank together. Every
/// step where a rank can fail ends in `check` (or `decide`, which also agrees on a clean stop):
/// the lowest failing rank prints its one-line message, once, and every rank throws.
package final class RankContext: @unchecked Sendable {
    package let comm: Communicator
    /// Print nothing on success (no progress, no summary).
    package let quiet: Bool
    /// Also the lines that only explain how the run goes (--verbose).
    package let verbose: Bool
    /// A line rewritten in place on a terminal (fit's iterations) is open.
    private var liveLine = false

    package init(_ comm: Communicator, quiet: Bool, verbose: Bool = false) {
        self.comm = comm
        self.quiet = quiet
        self.verbose = verbose
    }

    package var isRoot: Bool { comm.isRoot }
    /// Rank 0 prints what a user sees (progress, summaries) unless quiet.
    package var speaks: Bool { comm.isRoot && !quiet }

    /// Rank 0: a line on stdout.
    package func say(_ line: String) {
        guard speaks else { return }
        endLiveLine()
        print(line)
    }

    /// Rank 0: "neon-batch: line" on stderr.
    package func note(_ line: String) {
        guard speaks else { return }
        endLiveLine()
        FileHandle.standardError.write(Data("neon-batch: \(line)\n".utf8))
    }

    /// Rank 0: "neon-batch: line" rewritten in place on stderr (a terminal only).
    package func live(_ line: String) {
        guard speaks else { return }
        FileHandle.standardError.write(Data("\rneon-batch: \(line)\u{1B}[K".utf8))
        liveLine = true
    }

    /// Ends the line rewritten in place, if any, before other output.
    private func endLiveLine() {
        if liveLine { FileHandle.standardError.write(Data("\n".utf8)) }
        liveLine = false
    }

    /// Collective: throws `RankFailed` on every rank if any rank saw an error.
    package func check(_ local: String?) throws {
        if let e = comm.agree(local) { throw failed(e) }
    }

    /// Collective, also agreeing on a clean stop (SIGTERM/SIGINT on any rank): true to stop.
    package func decide(_ local: String?) throws -> Bool {
        switch comm.decide(error: local, stop: StopSignal.requested != nil) {
        case .proceed: return false
        case .stop: return true
        case .failed(let e): throw failed(e)
        }
    }

    private func failed(_ e: RankError) -> RankFailed {
        if e.rank == comm.rank { FileHandle.standardError.write(Data("neon-batch: error: \(e.message)\n".utf8)) }
        return RankFailed()
    }

    /// Collective: `body` on rank 0 only (nil elsewhere); its error ends every rank.
    package func onRoot<T>(_ body: () throws -> T) throws -> T? {
        var value: T?, err: String?
        if comm.isRoot {
            do { value = try body() } catch { err = oneLineMessage(error) }
        }
        try check(err)
        return value
    }

    /// Collective: `body` on every rank; any rank's error ends every rank.
    package func everyRank<T>(_ body: () throws -> T) throws -> T {
        var value: T?, err: String?
        do { value = try body() } catch { err = oneLineMessage(error) }
        try check(err)
        return value!
    }

    /// Rank 0's value on every rank (others pass nil), as JSON: doubles round-trip exactly
    /// (shortest representation), NaN and infinities included.
    package func broadcast<T: Codable>(_ value: T?) -> T {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let bytes = comm.broadcast(comm.isRoot ? (try! encoder.encode(value!)).map { $0 } : [UInt8]())
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try! decoder.decode(T.self, from: Data(bytes))
    }

    /// Collective: rank 0 prints `line(signal)` naming the signal any rank received (rank 0
    /// itself may not have received it yet when the ranks agreed to stop).
    package func reportStop(_ line: (String) -> String) {
        let received = comm.allreduceMax(Int(StopSignal.requested ?? 0))
        let sig = received > 0 ? StopSignal.name(Int32(received)) : "a signal"
        if comm.isRoot { FileHandle.standardError.write(Data("neon-batch: \(line(sig))\n".utf8)) }
    }
}

/// A job ended because some rank saw an error (already printed by that rank).
package struct RankFailed: Error {}

/// The one-line message of an error from the job parser or Storage.
func oneLineMessage(_ error: Error) -> String {
    switch error {
    case let e as StorageError: return e.message
    case let e as JobError: return e.message
    default: return "\(error)"
    }
}

/// A command's work on every rank (JobRunner, EvaluationRunner, FitRunner): the rank context's
/// lines and collective checks under short names.
protocol RankRunner {
    var ranks: RankContext { get }
}

extension RankRunner {
    var comm: Communicator { ranks.comm }
    var quiet: Bool { ranks.quiet }
    var verbose: Bool { ranks.verbose }
    func say(_ line: String) { ranks.say(line) }
    func note(_ line: String) { ranks.note(line) }
    func check(_ local: String?) throws { try ranks.check(local) }
    func decide(_ local: String?) throws -> Bool { try ranks.decide(local) }
    func message(_ error: Error) -> String { oneLineMessage(error) }
}
