import Dispatch
import Distributed

/// Wall time spent per phase on this rank (read, scatter, compute, write, ...), for the summary.
final class PhaseTimer {
    private(set) var seconds: [(String, Double)] = []

    func measure<R>(_ phase: String, _ body: () throws -> R) rethrows -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(phase, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        return try body()
    }

    func add(_ phase: String, _ s: Double) {
        if let i = seconds.firstIndex(where: { $0.0 == phase }) { seconds[i].1 += s } else { seconds.append((phase, s)) }
    }

    var description: String { Self.describe(seconds) }

    static func describe(_ phases: [(String, Double)]) -> String {
        phases.map { "\($0.0) \(String(format: "%.2f", $0.1)) s" }.joined(separator: ", ")
    }

    /// Collective: each of rank 0's phases (a superset of the others') at its largest over the
    /// ranks, described like `description` (phases may peak on different ranks).
    func slowest(_ comm: Communicator) -> String {
        let names = comm.broadcast(seconds.map(\.0).joined(separator: "\u{1}")).split(separator: "\u{1}").map(String.init)
        return Self.describe(names.map { name in
            (name, comm.allreduceMax(seconds.first { $0.0 == name }?.1 ?? 0))
        })
    }
}
