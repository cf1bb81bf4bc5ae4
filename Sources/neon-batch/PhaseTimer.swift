import Dispatch

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

    var description: String {
        seconds.map { "\($0.0) \(String(format: "%.2f", $0.1)) s" }.joined(separator: ", ")
    }
}
